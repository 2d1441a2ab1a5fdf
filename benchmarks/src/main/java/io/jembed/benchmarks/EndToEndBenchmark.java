package io.jembed.benchmarks;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.ToIntFunction;

/**
 * End-to-end throughput: text in, normalised sentence embedding out, jembed against ONNX Runtime on the
 * same generated sentences in the same JVM. A plain harness rather than JMH because each measurement is a
 * whole pass over the corpus (seconds, not nanoseconds) and the interesting output is a side-by-side
 * table, not a per-method score.
 *
 * <p>Every round runs every mode once, one after another, so load from other processes on a shared
 * machine hits all modes alike; the report gives the median round and the spread (min .. max).
 *
 * <pre>
 * java --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED \
 *     -cp benchmarks/target/benchmarks.jar io.jembed.benchmarks.EndToEndBenchmark \
 *     [--sentences 1000] [--seed 42] [--threads 2] [--rounds 5] [--warmup 1] [--batch-sizes 32,128]
 *     [--ort-batch 32] [--query-repeats 50] [--model DIR] [--onnx-jar JAR] [--only jembed|ort] [--json FILE]
 * </pre>
 */
public final class EndToEndBenchmark {

    /** Ten words, the length of a typical search query. */
    static final String QUERY = "how do I keep my sourdough starter alive through winter";
    private static final int QUERY_WARMUP = 5;

    /** Parsed command line; see the class comment for the flags and defaults. */
    record Options(int sentences, long seed, int threads, int rounds, int warmup, List<Integer> jembedBatchSizes,
                   int ortBatchSize, int queryRepeats, Path modelDirectory, Path onnxJar, String only, Path json) {

        Options {
            requireAtLeast("--sentences", sentences, 1);
            requireAtLeast("--threads", threads, 1);
            requireAtLeast("--rounds", rounds, 1);
            requireAtLeast("--warmup", warmup, 0);
            requireAtLeast("--ort-batch", ortBatchSize, 1);
            requireAtLeast("--query-repeats", queryRepeats, 1);
            for (int batchSize : jembedBatchSizes) {
                requireAtLeast("--batch-sizes", batchSize, 1);
            }
            if (only != null && !only.equals("jembed") && !only.equals("ort")) {
                throw new IllegalArgumentException("argument --only: expected jembed or ort, found '" + only + "'");
            }
        }

        boolean runs(String engine) {
            return only == null || only.equals(engine);
        }

        static Options parse(String[] args) {
            int sentences = SentenceGenerator.DEFAULT_COUNT;
            long seed = SentenceGenerator.DEFAULT_SEED;
            int threads = 2;
            int rounds = 5;
            int warmup = 1;
            List<Integer> batchSizes = List.of(32, 128);
            int ortBatch = 32;
            int queryRepeats = 50;
            Path model = Path.of(System.getProperty("user.home"), ".cache/jembed/models/all-MiniLM-L6-v2");
            Path jar = OrtPeer.DEFAULT_JAR;
            String only = null;
            Path json = null;
            for (int i = 0; i < args.length; i++) {
                String flag = args[i];
                if (flag.equals("--help") || flag.equals("-h")) {
                    throw new IllegalArgumentException(usage());
                }
                if (i + 1 >= args.length) {
                    throw new IllegalArgumentException("argument " + flag + ": expected a value, found the end of"
                        + " the arguments\n" + usage());
                }
                String value = args[++i];
                switch (flag) {
                    case "--sentences" -> sentences = parseInt(flag, value);
                    case "--seed" -> seed = parseLong(flag, value);
                    case "--threads" -> threads = parseInt(flag, value);
                    case "--rounds" -> rounds = parseInt(flag, value);
                    case "--warmup" -> warmup = parseInt(flag, value);
                    case "--batch-sizes" -> {
                        var sizes = new ArrayList<Integer>();
                        for (String size : value.split(",")) {
                            sizes.add(parseInt(flag, size.strip()));
                        }
                        batchSizes = List.copyOf(sizes);
                    }
                    case "--ort-batch" -> ortBatch = parseInt(flag, value);
                    case "--query-repeats" -> queryRepeats = parseInt(flag, value);
                    case "--model" -> model = Path.of(value);
                    case "--onnx-jar" -> jar = Path.of(value);
                    case "--only" -> only = value;
                    case "--json" -> json = Path.of(value);
                    default -> throw new IllegalArgumentException("argument '" + flag + "': expected one of the"
                        + " flags below\n" + usage());
                }
            }
            return new Options(sentences, seed, threads, rounds, warmup, batchSizes, ortBatch, queryRepeats, model,
                jar, only, json);
        }

        static String usage() {
            return """
                usage: EndToEndBenchmark [--sentences N=1000] [--seed S=42] [--threads T=2] [--rounds R=5]
                       [--warmup W=1] [--batch-sizes 32,128] [--ort-batch 32] [--query-repeats 50]
                       [--model DIR=~/.cache/jembed/models/all-MiniLM-L6-v2] [--onnx-jar JAR=langchain4j jar in ~/.m2]
                       [--only jembed|ort] [--json FILE]""";
        }

        private static void requireAtLeast(String flag, long value, long minimum) {
            if (value < minimum) {
                throw new IllegalArgumentException("argument " + flag + ": expected >= " + minimum + ", found " + value);
            }
        }

        private static int parseInt(String flag, String value) {
            try {
                return Integer.parseInt(value);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("argument " + flag + ": expected an integer, found '" + value + "'", e);
            }
        }

        private static long parseLong(String flag, String value) {
            try {
                return Long.parseLong(value);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("argument " + flag + ": expected an integer, found '" + value + "'", e);
            }
        }
    }

    /** Embeds a whole list of texts in one mode's way. */
    @FunctionalInterface
    interface Workload {
        float[][] embed(List<String> texts) throws Exception;
    }

    /** Embeds one text; used for the single-query latency. */
    @FunctionalInterface
    interface SingleText {
        float[] embed(String text) throws Exception;
    }

    /** One row of the table: a way of embedding the corpus, and what its timed rounds measured. */
    static final class Mode {
        final String name;
        final String engine;
        final Workload workload;
        final List<Double> seconds = new ArrayList<>();
        float[][] lastEmbeddings;

        Mode(String name, String engine, Workload workload) {
            this.name = name;
            this.engine = engine;
            this.workload = workload;
        }
    }

    /** Median and 90th percentile of one engine's single-query latency, in milliseconds. */
    record Latency(String engine, double medianMillis, double p90Millis) {}

    /** How far a mode's embeddings are from the reference mode's. */
    record Agreement(String reference, double maxAbsDiff, double minCosine) {}

    private EndToEndBenchmark() {}

    public static void main(String[] args) throws Exception {
        Options options;
        try {
            options = Options.parse(args);
        } catch (IllegalArgumentException e) {
            System.err.println(e.getMessage());
            System.exit(2);
            return;
        }
        run(options);
    }

    static void run(Options options) throws Exception {
        List<String> texts = SentenceGenerator.generate(options.sentences(), options.seed());
        var modes = new ArrayList<Mode>();
        var singles = new LinkedHashMap<String, SingleText>();
        var closeables = new ArrayList<AutoCloseable>();
        var notes = new ArrayList<String>();
        try {
            int[] ortTokens = null;
            int[] jembedTokens = null;
            if (options.runs("ort")) {
                OrtPeer ort = OrtPeer.open(options.onnxJar(), options.threads());
                closeables.add(ort);
                modes.add(new Mode("ort single", "ort", all -> embedEach(all, ort::embed)));
                modes.add(new Mode("ort batch " + options.ortBatchSize() + " sorted", "ort",
                    all -> ort.embedSorted(all, options.ortBatchSize())));
                singles.put("ort", ort::embed);
                ortTokens = countTokens(texts, ort::tokenCount);
                notes.add("ONNX Runtime " + options.threads() + " intra-op threads, graph optimisation ALL,"
                    + " DJL Hugging Face tokenizer");
            }
            if (options.runs("jembed")) {
                int maxBatch = options.jembedBatchSizes().stream().mapToInt(Integer::intValue).max().orElse(1);
                var jembed = new EndToEndJembed(options.modelDirectory(), options.threads(), maxBatch);
                closeables.add(jembed);
                modes.add(new Mode("jembed single", "jembed", all -> embedEach(all, jembed::embed)));
                for (int batchSize : options.jembedBatchSizes()) {
                    modes.add(new Mode("jembed batch " + batchSize, "jembed", all -> jembed.embed(all, batchSize)));
                }
                singles.put("jembed", jembed::embed);
                jembedTokens = countTokens(texts, jembed::tokenCount);
                notes.add(jembed.describe());
            }
            if (ortTokens != null && jembedTokens != null) {
                int mismatches = 0;
                for (int i = 0; i < texts.size(); i++) {
                    mismatches += ortTokens[i] == jembedTokens[i] ? 0 : 1;
                }
                notes.add("token counts jembed vs DJL: " + mismatches + " of " + texts.size() + " texts differ");
            }
            int[] tokenCounts = ortTokens != null ? ortTokens : jembedTokens;

            for (int round = 0; round < options.warmup(); round++) {
                for (Mode mode : modes) {
                    mode.workload.embed(texts);
                }
            }
            for (int round = 0; round < options.rounds(); round++) {
                for (Mode mode : modes) {
                    long start = System.nanoTime();
                    float[][] embeddings = mode.workload.embed(texts);
                    mode.seconds.add((System.nanoTime() - start) / 1e9);
                    mode.lastEmbeddings = embeddings;
                }
            }
            var latencies = new ArrayList<Latency>();
            for (var single : singles.entrySet()) {
                latencies.add(queryLatency(single.getKey(), single.getValue(), options.queryRepeats()));
            }
            var agreements = new LinkedHashMap<Mode, Agreement>();
            Mode reference = modes.getFirst();
            for (Mode mode : modes) {
                agreements.put(mode, agreement(reference, mode));
            }
            long totalTokens = Arrays.stream(tokenCounts).asLongStream().sum();
            Map<String, Long> memory = memoryKiB();
            printTable(options, texts.size(), totalTokens, notes, modes, agreements, latencies, memory);
            if (options.json() != null) {
                writeJson(options, texts.size(), totalTokens, notes, modes, agreements, latencies, memory);
            }
        } finally {
            for (AutoCloseable closeable : closeables.reversed()) {
                closeable.close();
            }
        }
    }

    private static float[][] embedEach(List<String> texts, SingleText single) throws Exception {
        float[][] embeddings = new float[texts.size()][];
        for (int i = 0; i < embeddings.length; i++) {
            embeddings[i] = single.embed(texts.get(i));
        }
        return embeddings;
    }

    private static int[] countTokens(List<String> texts, ToIntFunction<String> tokenCount) {
        int[] counts = new int[texts.size()];
        for (int i = 0; i < counts.length; i++) {
            counts[i] = tokenCount.applyAsInt(texts.get(i));
        }
        return counts;
    }

    private static Latency queryLatency(String engine, SingleText single, int repeats) throws Exception {
        for (int i = 0; i < QUERY_WARMUP; i++) {
            single.embed(QUERY);
        }
        double[] millis = new double[repeats];
        for (int i = 0; i < repeats; i++) {
            long start = System.nanoTime();
            single.embed(QUERY);
            millis[i] = (System.nanoTime() - start) / 1e6;
        }
        Arrays.sort(millis);
        return new Latency(engine, percentile(millis, 0.5), percentile(millis, 0.9));
    }

    /** Max |a - b| over all elements, and the smallest per-text cosine, against the reference mode. */
    private static Agreement agreement(Mode reference, Mode mode) {
        double maxAbsDiff = 0;
        double minCosine = 1;
        for (int i = 0; i < reference.lastEmbeddings.length; i++) {
            float[] a = reference.lastEmbeddings[i];
            float[] b = mode.lastEmbeddings[i];
            double dot = 0;
            double normA = 0;
            double normB = 0;
            for (int k = 0; k < a.length; k++) {
                maxAbsDiff = Math.max(maxAbsDiff, Math.abs(a[k] - b[k]));
                dot += (double) a[k] * b[k];
                normA += (double) a[k] * a[k];
                normB += (double) b[k] * b[k];
            }
            minCosine = Math.min(minCosine, dot / Math.sqrt(normA * normB));
        }
        return new Agreement(reference.name, maxAbsDiff, minCosine);
    }

    private static double median(List<Double> values) {
        double[] sorted = values.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        return percentile(sorted, 0.5);
    }

    /** Linear interpolation between closest ranks of an ascending array. */
    private static double percentile(double[] sorted, double q) {
        double position = q * (sorted.length - 1);
        int lower = (int) Math.floor(position);
        int upper = (int) Math.ceil(position);
        return sorted[lower] + (sorted[upper] - sorted[lower]) * (position - lower);
    }

    /** VmHWM (peak resident set) and VmRSS from /proc/self/status, in KiB; empty where /proc is absent. */
    private static Map<String, Long> memoryKiB() throws IOException {
        var memory = new LinkedHashMap<String, Long>();
        Path status = Path.of("/proc/self/status");
        if (!Files.isReadable(status)) {
            return memory;
        }
        for (String line : Files.readAllLines(status)) {
            if (line.startsWith("VmHWM:") || line.startsWith("VmRSS:")) {
                String[] parts = line.split("\\s+");
                memory.put(parts[0].substring(0, parts[0].length() - 1), Long.parseLong(parts[1]));
            }
        }
        return memory;
    }

    private static void printTable(Options options, int sentences, long totalTokens, List<String> notes, List<Mode> modes,
            Map<Mode, Agreement> agreements, List<Latency> latencies, Map<String, Long> memory) {
        var out = System.out;
        out.printf(Locale.ROOT, "End-to-end embedding, all-MiniLM-L6-v2: %d sentences (seed %d), %d real tokens"
                + " (%.1f per sentence, [CLS]/[SEP] included, padding excluded)%n",
            sentences, options.seed(), totalTokens, (double) totalTokens / sentences);
        out.printf(Locale.ROOT, "threads %d, %d warm-up + %d timed rounds per mode, modes interleaved;"
                + " Java %s, %d CPUs%n",
            options.threads(), options.warmup(), options.rounds(), Runtime.version(),
            Runtime.getRuntime().availableProcessors());
        for (String note : notes) {
            out.println(note);
        }
        out.println();
        out.printf(Locale.ROOT, "%-22s %12s %23s %12s %12s %11s%n",
            "mode", "sentences/s", "[min .. max]", "tokens/s", "max |diff|", "min cos");
        for (Mode mode : modes) {
            double medianSeconds = median(mode.seconds);
            double fastest = mode.seconds.stream().mapToDouble(Double::doubleValue).min().orElseThrow();
            double slowest = mode.seconds.stream().mapToDouble(Double::doubleValue).max().orElseThrow();
            Agreement agreement = agreements.get(mode);
            out.printf(Locale.ROOT, "%-22s %12.1f %23s %12.0f %12.2e %11.7f%n",
                mode.name, sentences / medianSeconds,
                String.format(Locale.ROOT, "[%.1f .. %.1f]", sentences / slowest, sentences / fastest),
                totalTokens / medianSeconds, agreement.maxAbsDiff(), agreement.minCosine());
        }
        out.printf(Locale.ROOT, "(max |diff| and min cos: each mode's embeddings against '%s')%n%n",
            modes.getFirst().name);
        for (Latency latency : latencies) {
            out.printf(Locale.ROOT, "10-word query latency, %-6s: median %.2f ms, p90 %.2f ms (%d calls)%n",
                latency.engine(), latency.medianMillis(), latency.p90Millis(), options.queryRepeats());
        }
        if (!memory.isEmpty()) {
            out.printf(Locale.ROOT, "%npeak RSS (VmHWM) %.0f MiB, RSS at end %.0f MiB — %s%n",
                memory.get("VmHWM") / 1024.0, memory.get("VmRSS") / 1024.0,
                options.only() == null ? "both engines share this process; use --only jembed|ort to measure one"
                    : "only " + options.only() + " loaded");
        }
    }

    private static void writeJson(Options options, int sentences, long totalTokens, List<String> notes, List<Mode> modes,
            Map<Mode, Agreement> agreements, List<Latency> latencies, Map<String, Long> memory) throws IOException {
        var root = new LinkedHashMap<String, Object>();
        var config = new LinkedHashMap<String, Object>();
        config.put("sentences", sentences);
        config.put("seed", options.seed());
        config.put("threads", options.threads());
        config.put("warmup_rounds", options.warmup());
        config.put("rounds", options.rounds());
        config.put("only", options.only() == null ? "both" : options.only());
        config.put("java", Runtime.version().toString());
        config.put("cpus", Runtime.getRuntime().availableProcessors());
        root.put("config", config);
        root.put("notes", notes);
        root.put("real_tokens", totalTokens);
        var rows = new ArrayList<Map<String, Object>>();
        for (Mode mode : modes) {
            double medianSeconds = median(mode.seconds);
            var row = new LinkedHashMap<String, Object>();
            row.put("mode", mode.name);
            row.put("engine", mode.engine);
            row.put("seconds_per_round", mode.seconds);
            row.put("sentences_per_second_median", sentences / medianSeconds);
            row.put("tokens_per_second_median", totalTokens / medianSeconds);
            row.put("max_abs_diff", agreements.get(mode).maxAbsDiff());
            row.put("min_cosine", agreements.get(mode).minCosine());
            row.put("compared_with", agreements.get(mode).reference());
            rows.add(row);
        }
        root.put("modes", rows);
        var latencyRows = new ArrayList<Map<String, Object>>();
        for (Latency latency : latencies) {
            var row = new LinkedHashMap<String, Object>();
            row.put("engine", latency.engine());
            row.put("query", QUERY);
            row.put("median_ms", latency.medianMillis());
            row.put("p90_ms", latency.p90Millis());
            row.put("calls", options.queryRepeats());
            latencyRows.add(row);
        }
        root.put("query_latency", latencyRows);
        root.put("memory_kib", memory);
        new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValue(options.json().toFile(), root);
    }
}
