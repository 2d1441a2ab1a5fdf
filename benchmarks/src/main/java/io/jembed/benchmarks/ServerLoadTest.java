package io.jembed.benchmarks;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A load generator for {@code jembed serve}: N simulated users, each on its own virtual thread with its own
 * {@link HttpClient} (HTTP/1.1, one keep-alive connection), loop {@code POST /embed {"inputs": s}} with one
 * sentence per request, one request at a time, until the time or the request bound, then stop by themselves.
 * Loopback only: a --url whose host is not 127.0.0.1, localhost or ::1 is refused.
 *
 * <p>Every answer is classified: 200 whose body is exactly one JSON array holding one array of
 * {@code dimension} finite numbers (anything else is a bad body), 429 (the server's admission refusal),
 * another status, or no answer (connection refused or reset, timeout). Errors are the bad bodies, the other
 * statuses and the failed connections; 429s are counted apart. Latency is client-side, from sending to the
 * whole body received. Throughput is 200s per second over the measured window: from the end of the warm-up
 * (or the start) to the last answer. With --pid the server's resident set (VmRSS of /proc/PID/status) is
 * sampled every 250 ms, and its CPU time (utime + stime of /proc/PID/stat) read at the window's two ends.
 *
 * <pre>
 * java -cp benchmarks/target/benchmarks.jar io.jembed.benchmarks.ServerLoadTest --url http://127.0.0.1:PORT
 *     [--clients 16] [--seconds 30] [--warmup-seconds 0] [--max-requests 1000000]
 *     [--sentences FILE.jsonl | --texts 1000 --seed 42] [--dimension D (else GET /info)] [--pid PID]
 *     [--json] [--expect-no-errors] [--expect-no-429]
 * </pre>
 *
 * Exits 0 (whatever the server answered), 2 on bad arguments, 1 when --expect-no-errors or --expect-no-429
 * is given and an error or a 429 occurred.
 */
public final class ServerLoadTest {

    static final String TOOL = "ServerLoadTest";
    static final List<String> FLAGS = List.of("--url", "--clients", "--seconds", "--warmup-seconds", "--max-requests",
        "--sentences", "--texts", "--seed", "--dimension", "--pid");
    static final List<String> SWITCHES = List.of("--json", "--expect-no-errors", "--expect-no-429");
    static final String USAGE = """
        usage: ServerLoadTest --url http://127.0.0.1:PORT [--clients N=16] [--seconds S=30]
               [--warmup-seconds W=0 (requests started in it are not counted)] [--max-requests M=1000000]
               [--sentences FILE (JSONL with "text") | --texts N=%d --seed S=%d (generated)]
               [--dimension D (else GET /info's "dimension")] [--pid PID (the server's: RSS and CPU)]
               [--json (one line of results on stdout)] [--expect-no-errors] [--expect-no-429]
        Loopback only (127.0.0.1, localhost, ::1). Exit 0; 2 on bad arguments; 1 when an --expect-* fails."""
        .formatted(SentenceGenerator.DEFAULT_COUNT, SentenceGenerator.DEFAULT_SEED);

    static final Set<String> LOOPBACK = Set.of("127.0.0.1", "localhost", "[::1]", "::1");
    /** How long one request may take before it counts as a failed connection. */
    static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(60);
    static final long RSS_PERIOD_MILLIS = 250;
    /** A client whose connection failed waits this long before the next try, so a dead server is not spun on. */
    static final long PAUSE_AFTER_FAILURE_MILLIS = 10;
    /** Distinct error descriptions kept for the report. */
    static final int ERROR_SAMPLES = 5;
    /** Linux's USER_HZ: the unit of utime and stime in /proc/PID/stat on every mainstream architecture. */
    static final double CLOCK_TICKS_PER_SECOND = 100;

    private static final JsonFactory JSON_FACTORY = JsonLines.JSON.getFactory();

    private ServerLoadTest() {}

    public static void main(String[] args) throws Exception {
        ToolArgs.run(TOOL, USAGE, FLAGS, SWITCHES, args, ServerLoadTest::run);
    }

    /** What the arguments ask for, validated. */
    record Plan(URI base, int clients, double seconds, double warmupSeconds, long maxRequests, List<String> sentences,
                String sentencesSource, int dimension, String dimensionSource, long pid) {}

    static int run(ToolArgs args) throws Exception {
        URI base = loopbackBase(args.required("--url"));
        int clients = args.integer("--clients", 16, 1);
        double seconds = positive(args, "--seconds", 30, false);
        double warmup = positive(args, "--warmup-seconds", 0, true);
        long maxRequests = args.longInteger("--max-requests", 1_000_000);
        if (maxRequests < 1) {
            throw new IllegalArgumentException("argument --max-requests: expected >= 1, found " + maxRequests);
        }
        long pid = args.longInteger("--pid", -1);
        if (args.string("--pid", null) != null && (pid < 1 || readRssKilobytes(pid) < 0)) {
            throw new IllegalArgumentException("argument --pid: expected a running process whose /proc/" + pid
                + "/status has VmRSS, found none");
        }
        List<String> sentences;
        String source;
        if (args.string("--sentences", null) != null) {
            if (args.string("--texts", null) != null || args.string("--seed", null) != null) {
                throw new IllegalArgumentException("arguments --texts and --seed: expected only without --sentences");
            }
            Path file = args.requiredPath("--sentences");
            sentences = readSentences(file);
            source = sentences.size() + " sentences from " + file;
        } else {
            int texts = args.integer("--texts", SentenceGenerator.DEFAULT_COUNT, 1);
            long seed = args.longInteger("--seed", SentenceGenerator.DEFAULT_SEED);
            sentences = SentenceGenerator.generate(texts, seed);
            source = texts + " generated sentences (seed " + seed + ")";
        }
        int dimension;
        String dimensionSource;
        if (args.string("--dimension", null) != null) {
            dimension = args.integer("--dimension", 0, 1);
            dimensionSource = "--dimension";
        } else {
            dimension = infoDimension(base);
            dimensionSource = dimension > 0 ? "GET /info" : "none";
            if (dimension <= 0) {
                dimension = 384;
                args.note("GET " + base + "/info gave no dimension; expecting 384 floats (the default model's);"
                    + " pass --dimension D for another model");
            }
        }
        var plan = new Plan(base, clients, seconds, warmup, maxRequests, sentences, source, dimension, dimensionSource, pid);
        args.note("POST " + base + "/embed: " + clients + " clients, " + fmt(seconds) + " s"
            + (warmup > 0 ? " after " + fmt(warmup) + " s of warm-up" : "") + ", at most " + maxRequests
            + " requests; " + source + "; expecting " + dimension + " floats per vector");
        Result result = new LoadRun(plan).call();
        boolean json = args.present("--json");
        if (json) {
            System.out.println(result.json(plan));
        } else {
            System.out.print(result.text(plan));
        }
        System.out.flush();
        for (String sample : result.errorSamples) {
            args.note("error: " + sample);
        }
        int exit = 0;
        if (args.present("--expect-no-errors") && result.errors() > 0) {
            args.note("expected no errors, found " + result.errors());
            exit = 1;
        }
        if (args.present("--expect-no-429") && result.status429 > 0) {
            args.note("expected no 429, found " + result.status429);
            exit = 1;
        }
        return exit;
    }

    /** http://host:port of a loopback --url (any path or trailing slash dropped). */
    static URI loopbackBase(String url) {
        URI uri;
        try {
            uri = new URI(url);
        } catch (URISyntaxException e) {
            throw new IllegalArgumentException("argument --url: expected http://127.0.0.1:PORT, found '" + url + "'");
        }
        if (!"http".equalsIgnoreCase(uri.getScheme()) || uri.getHost() == null) {
            throw new IllegalArgumentException("argument --url: expected http://127.0.0.1:PORT, found '" + url + "'");
        }
        String host = uri.getHost().toLowerCase(Locale.ROOT);
        if (!LOOPBACK.contains(host)) {
            throw new IllegalArgumentException("argument --url: expected a loopback host (127.0.0.1, localhost, ::1), found '"
                + uri.getHost() + "'; this tool loads only servers on this machine");
        }
        if (uri.getRawUserInfo() != null || uri.getRawQuery() != null || uri.getRawFragment() != null) {
            throw new IllegalArgumentException("argument --url: expected http://HOST:PORT with no user, query or fragment, found '"
                + url + "'");
        }
        String path = uri.getRawPath() == null ? "" : uri.getRawPath().replaceAll("/+$", "");
        return URI.create("http://" + host + (uri.getPort() >= 0 ? ":" + uri.getPort() : "") + path);
    }

    private static double positive(ToolArgs args, String flag, double fallback, boolean zeroAllowed) {
        double value = args.decimal(flag, fallback);
        if (!(zeroAllowed ? value >= 0 : value > 0) || !Double.isFinite(value)) {
            throw new IllegalArgumentException("argument " + flag + ": expected a number " + (zeroAllowed ? ">= 0" : "> 0")
                + ", found " + value);
        }
        return value;
    }

    /** The "text" of every line, in order; a missing or bad file is a bad argument. */
    static List<String> readSentences(Path file) {
        var texts = new ArrayList<String>();
        try (var lines = JsonLines.open(file)) {
            for (JsonLines.Line line; (line = lines.next()) != null; ) {
                JsonNode text = line.object().get("text");
                if (text == null || !text.isTextual()) {
                    throw new IOException(lines.where() + ": expected a \"text\" string, found "
                        + (text == null ? "none" : text.getNodeType()));
                }
                texts.add(text.textValue());
            }
        } catch (IOException e) {
            throw new IllegalArgumentException("argument --sentences: " + e.getMessage());
        }
        if (texts.isEmpty()) {
            throw new IllegalArgumentException("argument --sentences: expected at least one line, found none in " + file);
        }
        return texts;
    }

    /** GET /info's "dimension", or -1 when the server does not answer it. */
    static int infoDimension(URI base) {
        try (HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(5)).build()) {
            HttpResponse<byte[]> response = client.send(HttpRequest.newBuilder(URI.create(base + "/info"))
                .timeout(Duration.ofSeconds(10)).GET().build(), HttpResponse.BodyHandlers.ofByteArray());
            if (response.statusCode() != 200) {
                return -1;
            }
            JsonNode dimension = JsonLines.JSON.readTree(response.body()).get("dimension");
            return dimension != null && dimension.canConvertToInt() ? dimension.intValue() : -1;
        } catch (IOException e) {
            return -1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return -1;
        }
    }

    /** VmRSS of /proc/PID/status in kB, or -1 once the process is gone. */
    static long readRssKilobytes(long pid) {
        return statusField(pid, "VmRSS:");
    }

    private static long statusField(long pid, String field) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"), StandardCharsets.UTF_8)) {
                if (line.startsWith(field)) {
                    String[] parts = line.substring(field.length()).trim().split("\\s+");
                    return Long.parseLong(parts[0]);
                }
            }
        } catch (IOException | RuntimeException e) {
            // gone, or not Linux
        }
        return -1;
    }

    /** utime + stime of /proc/PID/stat in seconds, or -1. The command name (field 2) may hold spaces. */
    static double cpuSeconds(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc/" + pid + "/stat"), StandardCharsets.UTF_8);
            String[] fields = stat.substring(stat.lastIndexOf(')') + 2).trim().split("\\s+");
            // fields[0] is field 3 (state): utime is field 14, stime field 15.
            return (Long.parseLong(fields[11]) + Long.parseLong(fields[12])) / CLOCK_TICKS_PER_SECOND;
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }

    /**
     * Why a 200's body is not exactly one JSON array holding one array of {@code dimension} finite numbers,
     * or null when it is.
     */
    static String checkBody(byte[] body, int dimension) {
        try (JsonParser parser = JSON_FACTORY.createParser(body)) {
            if (parser.nextToken() != JsonToken.START_ARRAY) {
                return "expected [[floats]], found no outer array";
            }
            JsonToken token = parser.nextToken();
            if (token != JsonToken.START_ARRAY) {
                return token == JsonToken.END_ARRAY ? "expected one vector, found none" : "expected a vector, found " + token;
            }
            int count = 0;
            while ((token = parser.nextToken()) == JsonToken.VALUE_NUMBER_FLOAT || token == JsonToken.VALUE_NUMBER_INT) {
                if (!Float.isFinite(parser.getFloatValue())) {
                    return "expected finite floats, found " + parser.getText() + " at index " + count;
                }
                count++;
            }
            if (token != JsonToken.END_ARRAY) {
                return "expected floats in the vector, found " + token + " at index " + count;
            }
            if (count != dimension) {
                return "expected a vector of " + dimension + " floats, found " + count;
            }
            token = parser.nextToken();
            if (token != JsonToken.END_ARRAY) {
                return token == JsonToken.START_ARRAY ? "expected one vector, found more" : "expected ], found " + token;
            }
            if (parser.nextToken() != null) {
                return "expected the end of the body after [[...]], found more";
            }
            return null;
        } catch (JsonProcessingException e) {
            return "expected JSON, found invalid JSON (" + e.getOriginalMessage() + ")";
        } catch (IOException e) {
            return "unreadable body (" + e.getMessage() + ")";
        }
    }

    /** A growable array of nanosecond latencies. */
    static final class Latencies {
        long[] values = new long[1024];
        int size;

        void add(long nanos) {
            if (size == values.length) {
                values = Arrays.copyOf(values, size * 2);
            }
            values[size++] = nanos;
        }

        void addAll(Latencies other) {
            for (int i = 0; i < other.size; i++) {
                add(other.values[i]);
            }
        }

        long[] sorted() {
            long[] copy = Arrays.copyOf(values, size);
            Arrays.sort(copy);
            return copy;
        }
    }

    /** One client's tallies; written by its own thread only, read after it finished. */
    static final class Tally {
        long requests;
        long status200;
        long status429;
        long otherStatus;
        long failedConnections;
        long badBodies;
        final Latencies ok = new Latencies();
        final Latencies refused = new Latencies();
        long lastAnswerNanos;
        final Map<String, Long> errors = new LinkedHashMap<>();

        void error(String description) {
            if (errors.size() < ERROR_SAMPLES || errors.containsKey(description)) {
                errors.merge(description, 1L, Long::sum);
            }
        }
    }

    /** The merged tallies and the window they cover. */
    static final class Result {
        long requests;
        long status200;
        long status429;
        long otherStatus;
        long failedConnections;
        long badBodies;
        long[] ok;
        long[] refused;
        double windowSeconds;
        double maxRssMib = -1;
        double peakRssMib = -1;
        double serverCpuSeconds = -1;
        double clientCpuSeconds = -1;
        boolean serverExited;
        final List<String> errorSamples = new ArrayList<>();

        long errors() {
            return otherStatus + failedConnections + badBodies;
        }

        double throughput() {
            return windowSeconds > 0 ? status200 / windowSeconds : 0;
        }

        static double millis(long[] sorted, double quantile) {
            if (sorted.length == 0) {
                return Double.NaN;
            }
            // nearest rank
            int rank = (int) Math.ceil(quantile * sorted.length);
            return sorted[Math.max(0, Math.min(sorted.length - 1, rank - 1))] / 1e6;
        }

        static double maxMillis(long[] sorted) {
            return sorted.length == 0 ? Double.NaN : sorted[sorted.length - 1] / 1e6;
        }

        String json(Plan plan) {
            var out = new LinkedHashMap<String, Object>();
            out.put("url", plan.base().toString());
            out.put("clients", plan.clients());
            out.put("seconds", plan.seconds());
            out.put("warmup_seconds", plan.warmupSeconds());
            out.put("window_seconds", round(windowSeconds, 3));
            out.put("requests", requests);
            out.put("status_200", status200);
            out.put("status_429", status429);
            out.put("status_other", otherStatus);
            out.put("errors", errors());
            out.put("errors_connection", failedConnections);
            out.put("errors_status", otherStatus);
            out.put("errors_body", badBodies);
            out.put("throughput_200_per_s", round(throughput(), 2));
            out.put("latency_p50_ms", number(millis(ok, 0.50)));
            out.put("latency_p90_ms", number(millis(ok, 0.90)));
            out.put("latency_p99_ms", number(millis(ok, 0.99)));
            out.put("latency_max_ms", number(maxMillis(ok)));
            out.put("latency_429_p50_ms", number(millis(refused, 0.50)));
            out.put("latency_429_max_ms", number(maxMillis(refused)));
            out.put("max_rss_mib", maxRssMib < 0 ? null : round(maxRssMib, 1));
            out.put("peak_rss_mib", peakRssMib < 0 ? null : round(peakRssMib, 1));
            out.put("server_cpu_cores", serverCpuSeconds < 0 || windowSeconds <= 0 ? null
                : round(serverCpuSeconds / windowSeconds, 2));
            out.put("client_cpu_cores", clientCpuSeconds < 0 || windowSeconds <= 0 ? null
                : round(clientCpuSeconds / windowSeconds, 2));
            out.put("server_exited", serverExited);
            out.put("dimension", plan.dimension());
            out.put("sentences", plan.sentences().size());
            try {
                return JsonLines.JSON.writeValueAsString(out);
            } catch (JsonProcessingException e) {
                throw new IllegalStateException(e);
            }
        }

        String text(Plan plan) {
            var out = new StringBuilder();
            out.append(String.format(Locale.ROOT, "requests      %d in %.2f s (%d clients)%n", requests, windowSeconds,
                plan.clients()));
            out.append(String.format(Locale.ROOT, "status        200: %d, 429: %d, other: %d%n", status200, status429,
                otherStatus));
            out.append(String.format(Locale.ROOT, "errors        %d (connection %d, status %d, body %d)%n", errors(),
                failedConnections, otherStatus, badBodies));
            out.append(String.format(Locale.ROOT, "throughput    %.1f 200s/s%n", throughput()));
            if (ok.length > 0) {
                out.append(String.format(Locale.ROOT, "latency 200   p50 %.1f ms, p90 %.1f ms, p99 %.1f ms, max %.1f ms%n",
                    millis(ok, 0.5), millis(ok, 0.9), millis(ok, 0.99), maxMillis(ok)));
            } else {
                out.append("latency 200   n/a (no 200s)\n");
            }
            if (refused.length > 0) {
                out.append(String.format(Locale.ROOT, "latency 429   p50 %.2f ms, max %.1f ms%n", millis(refused, 0.5),
                    maxMillis(refused)));
            }
            if (maxRssMib >= 0) {
                out.append(String.format(Locale.ROOT, "server RSS    max %.1f MiB sampled every %d ms (VmHWM %.1f MiB)%n",
                    maxRssMib, RSS_PERIOD_MILLIS, peakRssMib));
            }
            if (serverCpuSeconds >= 0 && windowSeconds > 0) {
                out.append(String.format(Locale.ROOT, "cpu           server %.2f cores, this client %.2f cores%n",
                    serverCpuSeconds / windowSeconds, clientCpuSeconds / windowSeconds));
            }
            if (serverExited) {
                out.append("server        exited during the run\n");
            }
            return out.toString();
        }

        private static Object number(double value) {
            return Double.isFinite(value) ? round(value, 3) : null;
        }

        private static double round(double value, int digits) {
            double scale = Math.pow(10, digits);
            return Math.round(value * scale) / scale;
        }
    }

    /** One run: the clients, the sampler, and the merge. */
    static final class LoadRun {
        private final Plan plan;
        private final byte[][] bodies;
        private final URI embed;
        private final AtomicLong nextSentence = new AtomicLong();
        private final AtomicLong tickets = new AtomicLong();
        private long measureStart;
        private long deadline;
        private volatile boolean sampling = true;
        private volatile long maxRssKb = -1;
        private volatile boolean serverExited;

        LoadRun(Plan plan) throws JsonProcessingException {
            this.plan = plan;
            this.embed = URI.create(plan.base() + "/embed");
            this.bodies = new byte[plan.sentences().size()][];
            for (int i = 0; i < bodies.length; i++) {
                bodies[i] = JsonLines.JSON.writeValueAsBytes(Map.of("inputs", plan.sentences().get(i)));
            }
        }

        Result call() throws Exception {
            Thread sampler = null;
            if (plan.pid() > 0) {
                sampler = Thread.ofPlatform().daemon().name("rss-sampler").start(this::sample);
            }
            long start = System.nanoTime();
            measureStart = start + (long) (plan.warmupSeconds() * 1e9);
            deadline = measureStart + (long) (plan.seconds() * 1e9);
            var tallies = new ArrayList<Tally>();
            double serverCpuAtStart = -1;
            double clientCpuAtStart = -1;
            try (ExecutorService users = Executors.newVirtualThreadPerTaskExecutor();
                 ExecutorService io = Executors.newVirtualThreadPerTaskExecutor()) {
                var futures = new ArrayList<java.util.concurrent.Future<Tally>>();
                for (int c = 0; c < plan.clients(); c++) {
                    futures.add(users.submit(() -> user(io)));
                }
                if (plan.warmupSeconds() > 0) {
                    sleepUntil(measureStart);
                }
                serverCpuAtStart = plan.pid() > 0 ? cpuSeconds(plan.pid()) : -1;
                clientCpuAtStart = cpuSeconds(ProcessHandle.current().pid());
                for (var future : futures) {
                    tallies.add(future.get());
                }
            }
            double serverCpuAtEnd = plan.pid() > 0 ? cpuSeconds(plan.pid()) : -1;
            double clientCpuAtEnd = cpuSeconds(ProcessHandle.current().pid());
            sampling = false;
            if (sampler != null) {
                sampler.join(2 * RSS_PERIOD_MILLIS);
            }
            var result = new Result();
            var ok = new Latencies();
            var refused = new Latencies();
            long lastAnswer = measureStart;
            var errors = new LinkedHashMap<String, Long>();
            for (Tally t : tallies) {
                result.requests += t.requests;
                result.status200 += t.status200;
                result.status429 += t.status429;
                result.otherStatus += t.otherStatus;
                result.failedConnections += t.failedConnections;
                result.badBodies += t.badBodies;
                ok.addAll(t.ok);
                refused.addAll(t.refused);
                lastAnswer = Math.max(lastAnswer, t.lastAnswerNanos);
                t.errors.forEach((k, v) -> errors.merge(k, v, Long::sum));
            }
            errors.entrySet().stream().limit(ERROR_SAMPLES)
                .forEach(e -> result.errorSamples.add(e.getKey() + " (x" + e.getValue() + ")"));
            result.ok = ok.sorted();
            result.refused = refused.sorted();
            result.windowSeconds = (lastAnswer - measureStart) / 1e9;
            if (plan.pid() > 0) {
                long kb = maxRssKb;
                result.maxRssMib = kb < 0 ? -1 : kb / 1024.0;
                long hwm = statusField(plan.pid(), "VmHWM:");
                result.peakRssMib = hwm < 0 ? -1 : hwm / 1024.0;
                result.serverExited = serverExited || readRssKilobytes(plan.pid()) < 0;
                if (serverCpuAtStart >= 0 && serverCpuAtEnd >= 0) {
                    result.serverCpuSeconds = serverCpuAtEnd - serverCpuAtStart;
                }
            }
            if (clientCpuAtStart >= 0 && clientCpuAtEnd >= 0) {
                result.clientCpuSeconds = clientCpuAtEnd - clientCpuAtStart;
            }
            return result;
        }

        /** One simulated user: its own client and connection, one request at a time until the deadline or the bound. */
        private Tally user(ExecutorService io) {
            var tally = new Tally();
            try (HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                    .connectTimeout(Duration.ofSeconds(10)).executor(io).build()) {
                while (true) {
                    long sent = System.nanoTime();
                    if (sent >= deadline) {
                        break;
                    }
                    boolean measured = sent >= measureStart;
                    if (measured && tickets.incrementAndGet() > plan.maxRequests()) {
                        break;
                    }
                    byte[] body = bodies[(int) Math.floorMod(nextSentence.getAndIncrement(), (long) bodies.length)];
                    HttpRequest request = HttpRequest.newBuilder(embed).timeout(REQUEST_TIMEOUT)
                        .header("Content-Type", "application/json")
                        .POST(HttpRequest.BodyPublishers.ofByteArray(body)).build();
                    HttpResponse<byte[]> response;
                    String failure = null;
                    try {
                        response = client.send(request, HttpResponse.BodyHandlers.ofByteArray());
                    } catch (IOException e) {
                        response = null;
                        failure = e.getClass().getSimpleName() + (e.getMessage() == null ? "" : ": " + e.getMessage());
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        break;
                    }
                    long answered = System.nanoTime();
                    if (!measured) {
                        if (failure != null) {
                            pause();
                        }
                        continue;
                    }
                    tally.requests++;
                    tally.lastAnswerNanos = answered;
                    if (failure != null) {
                        tally.failedConnections++;
                        tally.error("no answer: " + failure);
                        pause();
                        continue;
                    }
                    int status = response.statusCode();
                    if (status == 200) {
                        tally.status200++;
                        tally.ok.add(answered - sent);
                        String bad = checkBody(response.body(), plan.dimension());
                        if (bad != null) {
                            tally.badBodies++;
                            tally.error("200 with a bad body: " + bad);
                        }
                    } else if (status == 429) {
                        tally.status429++;
                        tally.refused.add(answered - sent);
                    } else {
                        tally.otherStatus++;
                        String text = new String(response.body(), StandardCharsets.UTF_8);
                        tally.error("status " + status + ": " + (text.length() > 200 ? text.substring(0, 200) + "..." : text));
                    }
                }
            }
            return tally;
        }

        private static void pause() {
            try {
                Thread.sleep(PAUSE_AFTER_FAILURE_MILLIS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }

        private static void sleepUntil(long nanoTime) throws InterruptedException {
            long left;
            while ((left = nanoTime - System.nanoTime()) > 0) {
                Thread.sleep(Duration.ofNanos(left));
            }
        }

        /** Samples VmRSS every RSS_PERIOD_MILLIS until the run ends or the process is gone. */
        private void sample() {
            while (sampling) {
                long kb = readRssKilobytes(plan.pid());
                if (kb < 0) {
                    serverExited = true;
                    return;
                }
                if (kb > maxRssKb) {
                    maxRssKb = kb;
                }
                try {
                    Thread.sleep(RSS_PERIOD_MILLIS);
                } catch (InterruptedException e) {
                    return;
                }
            }
        }
    }

    private static String fmt(double seconds) {
        return seconds == Math.rint(seconds) ? String.valueOf((long) seconds) : String.valueOf(seconds);
    }
}
