package io.jembed.core.server;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicLong;
import java.util.logging.Level;
import java.util.logging.Logger;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.Headers;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

import io.jembed.core.Embedder;
import io.jembed.core.search.SemanticSearch;

/**
 * {@code jembed serve}: TEI's and OpenAI's embedding routes, semantic search and a search page,
 * on the JDK's {@code jdk.httpserver} with a virtual thread per request.
 *
 * <p>The HTTP side lives here: routing, the API key, CORS, the payload limit, admission
 * (TEI's max_concurrent_requests: one permit per input, a 429 when none is free, never a wait)
 * and error bodies; {@link Routes} does what each route means. Every error is JSON: TEI's
 * {@code {"error", "error_type"}} on TEI's routes, OpenAI's {@code {"error": {"message", "type",
 * "code"}}} on {@code /v1/*}.
 *
 * <p>Memory is bounded whatever the load: bodies in flight at most {@link #BODY_BUDGET_FACTOR}
 * times the payload limit (more wait for none; they are answered 429), inputs admitted at most
 * max-concurrent-requests, each at most max-length tokens, and the encoder's activations by its
 * token budget. {@link #close()} stops accepting, lets requests in flight finish, then stops.
 */
public final class EmbeddingServer implements AutoCloseable {

    /** Request bodies held at once, in payload limits: 64 x 2 MB by default. */
    static final int BODY_BUDGET_FACTOR = 64;
    /** Seconds {@link #close()} waits for requests in flight. */
    static final int DRAIN_SECONDS = 30;

    private static final Logger LOG = Logger.getLogger(EmbeddingServer.class.getName());

    /** How a route's errors are written. */
    enum Family { TEI, OPENAI, PAGE }

    @FunctionalInterface
    private interface Handler {
        Routes.Response handle(HttpExchange exchange) throws IOException;
    }

    /** admits: the route embeds, so it needs admission permits (refused before its body is read when none is free). */
    private record Route(String method, Family family, boolean needsKey, boolean admits, Handler handler) {
    }

    private final Embedder embedder;
    private final ServerOptions options;
    private final HttpServer http;
    private final ExecutorService executor;
    private final BatchQueue queue;
    private final ServerMetrics metrics;
    private final ObjectMapper mapper = new ObjectMapper();
    private final Semaphore inputs;
    private final Semaphore bodyKilobytes;
    private final Map<String, Route> routes = new LinkedHashMap<>();
    private final byte[] page;
    private final AtomicLong answered = new AtomicLong();
    /** Handlers running; close() waits for none. */
    private final java.util.concurrent.atomic.AtomicInteger active = new java.util.concurrent.atomic.AtomicInteger();
    private volatile boolean closing;

    private EmbeddingServer(Embedder embedder, SemanticSearch search, ServerOptions options) throws IOException {
        this.embedder = embedder;
        this.options = options;
        this.inputs = new Semaphore(options.maxConcurrentRequests());
        long budget = Math.min(Integer.MAX_VALUE, (options.payloadLimit() * BODY_BUDGET_FACTOR + 1023) / 1024);
        this.bodyKilobytes = new Semaphore((int) budget);
        BatchQueue[] queueRef = new BatchQueue[1];
        this.metrics = new ServerMetrics(() -> queueRef[0] == null ? 0 : queueRef[0].size(),
                () -> options.maxConcurrentRequests() - inputs.availablePermits(), search == null ? 0 : search.size(),
                embedder.maxLength());
        this.queue = new BatchQueue(embedder, metrics);
        queueRef[0] = queue;
        Routes api = new Routes(embedder, search, queue, metrics, options, mapper, new Routes.Admission() {
            @Override
            public void acquire(int n) {
                if (!inputs.tryAcquire(n)) {
                    overloaded();
                }
            }

            @Override
            public void release(int n) {
                inputs.release(n);
            }
        });
        try (InputStream in = EmbeddingServer.class.getResourceAsStream("search.html")) {
            if (in == null) {
                throw new IOException("search.html is missing from the jar (io/jembed/core/server/search.html)");
            }
            this.page = in.readAllBytes();
        }
        post("/embed", Family.TEI, true, x -> api.embed(body(x)));
        post("/similarity", Family.TEI, true, x -> api.similarity(body(x)));
        post("/tokenize", Family.TEI, false, x -> api.tokenize(body(x)));
        post("/decode", Family.TEI, false, x -> api.decode(body(x)));
        post("/v1/embeddings", Family.OPENAI, true, x -> api.openai(body(x)));
        post("/embeddings", Family.OPENAI, true, x -> api.openai(body(x)));
        post("/search", Family.TEI, true, x -> api.search(body(x)));
        get("/info", Family.TEI, x -> api.info());
        get("/health", Family.TEI, x -> new Routes.Response(200, "text/plain", new byte[0], Map.of()));
        get("/metrics", Family.TEI, x -> new Routes.Response(200, "text/plain; version=0.0.4; charset=utf-8",
                metrics.scrape().getBytes(StandardCharsets.UTF_8), Map.of()));
        get("/", Family.PAGE, x -> new Routes.Response(200, "text/html; charset=utf-8", page, Map.of(
                "Content-Security-Policy", "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
                        + "connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
                "X-Content-Type-Options", "nosniff")));

        this.http = HttpServer.create(new InetSocketAddress(options.host(), options.port()), 1024);
        this.executor = Executors.newThreadPerTaskExecutor(Thread.ofVirtual().name("jembed-http-", 0).factory());
        http.setExecutor(executor);
        http.createContext("/", this::handle);
        http.start();
    }

    /**
     * Starts a server for an embedder and, if search is not null, its index; returns once it
     * listens. The embedder and search stay the caller's to close, after this server.
     */
    public static EmbeddingServer start(Embedder embedder, SemanticSearch search, ServerOptions options)
            throws IOException {
        if (search != null && search.embedder() != embedder) {
            throw new IllegalArgumentException("search: expected an index opened with the served embedder");
        }
        return new EmbeddingServer(embedder, search, options);
    }

    /** The address bound (the real port when the options asked for 0). */
    public InetSocketAddress address() {
        return http.getAddress();
    }

    /** http://host:port/ of the bound address. */
    public URI uri() {
        InetSocketAddress address = address();
        String host = address.getAddress().getHostAddress();
        return URI.create("http://" + (host.contains(":") ? "[" + host + "]" : host) + ":" + address.getPort() + "/");
    }

    /** Requests answered so far, errors included. */
    public long answered() {
        return answered.get();
    }

    private void post(String path, Family family, boolean admits, Handler handler) {
        routes.put(path, new Route("POST", family, true, admits, handler));
    }

    private void get(String path, Family family, Handler handler) {
        routes.put(path, new Route("GET", family, false, false, handler));
    }

    private void handle(HttpExchange exchange) {
        Route route = null;
        active.incrementAndGet(); // before reading closing, so close() either waits for us or we see it
        try {
            if (closing) {
                exchange.getResponseHeaders().set("Connection", "close");
                throw new ApiException(503, ApiException.Type.UNHEALTHY, "the server is shutting down");
            }
            String path = exchange.getRequestURI().getRawPath();
            String method = exchange.getRequestMethod();
            route = routes.get(path);
            boolean preflight = method.equals("OPTIONS");
            cors(exchange, preflight);
            if (preflight) {
                exchange.getResponseHeaders().set("Allow", route == null ? "OPTIONS" : route.method() + ", OPTIONS");
                exchange.sendResponseHeaders(204, -1);
                return;
            }
            if (route == null) {
                throw new ApiException(404, ApiException.Type.NOT_FOUND, "no route " + path + "; routes: "
                        + String.join(", ", routes.keySet()));
            }
            boolean head = method.equals("HEAD") && route.method().equals("GET");
            if (!method.equals(route.method()) && !head) {
                exchange.getResponseHeaders().set("Allow", route.method());
                throw new ApiException(405, ApiException.Type.VALIDATION, path + ": expected method " + route.method()
                        + ", found " + method);
            }
            if (route.needsKey()) {
                checkKey(exchange);
            }
            if (route.admits() && inputs.availablePermits() == 0) {
                overloaded(); // a full server answers at once, without reading or parsing the body
            }
            send(exchange, route.handler().handle(exchange), head);
        } catch (ApiException e) {
            fail(exchange, route, e);
        } catch (IOException e) {
            // The client went away mid-request or mid-answer; nothing to tell it.
            metrics.requestFailure.increment("dropped");
        } catch (RuntimeException | OutOfMemoryError | StackOverflowError e) {
            LOG.log(Level.WARNING, "request " + exchange.getRequestURI() + " failed", e);
            fail(exchange, route, new ApiException(500, ApiException.Type.BACKEND, "Backend error: "
                    + (e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage())));
        } finally {
            exchange.close(); // after the catch clauses have written their answer
            answered.incrementAndGet();
            active.decrementAndGet();
        }
    }

    private static void overloaded() {
        throw new ApiException(429, ApiException.Type.OVERLOADED, "Model is overloaded");
    }

    /** Reads the body as JSON: Content-Type must say JSON; at most the payload limit; bodies in flight bounded. */
    private RequestBody body(HttpExchange exchange) throws IOException {
        String type = exchange.getRequestHeaders().getFirst("Content-Type");
        if (type == null || !type.toLowerCase(java.util.Locale.ROOT).startsWith("application/json")) {
            throw new ApiException(415, ApiException.Type.VALIDATION,
                    "Expected request with `Content-Type: application/json`, found " + (type == null ? "none" : "`" + type + "`"));
        }
        long declared = -1;
        String length = exchange.getRequestHeaders().getFirst("Content-Length");
        if (length != null) {
            try {
                declared = Long.parseLong(length.trim());
            } catch (NumberFormatException e) {
                throw new ApiException(400, ApiException.Type.MALFORMED, "Content-Length: expected a number, found " + length);
            }
        }
        if (declared > options.payloadLimit()) {
            throw payloadTooLarge(declared);
        }
        int kilobytes = (int) ((declared >= 0 ? declared : options.payloadLimit()) + 1023) / 1024;
        if (!bodyKilobytes.tryAcquire(kilobytes)) {
            throw new ApiException(429, ApiException.Type.OVERLOADED, "Model is overloaded (request bodies in flight)");
        }
        try {
            byte[] bytes = exchange.getRequestBody().readNBytes((int) Math.min(Integer.MAX_VALUE - 8, options.payloadLimit() + 1));
            if (bytes.length > options.payloadLimit()) {
                throw payloadTooLarge(-1);
            }
            return RequestBody.parse(mapper, bytes);
        } finally {
            bodyKilobytes.release(kilobytes);
        }
    }

    private ApiException payloadTooLarge(long declared) {
        return new ApiException(413, ApiException.Type.PAYLOAD_TOO_LARGE, "Failed to buffer the request body: length limit "
                + "exceeded (expected at most " + options.payloadLimit() + " bytes, --payload-limit; found "
                + (declared >= 0 ? declared + " bytes" : "more") + ")");
    }

    /** Authorization: Bearer KEY, compared in constant time. */
    private void checkKey(HttpExchange exchange) {
        if (options.apiKey() == null) {
            return;
        }
        String header = exchange.getRequestHeaders().getFirst("Authorization");
        byte[] expected = ("Bearer " + options.apiKey()).getBytes(StandardCharsets.UTF_8);
        if (header == null || !MessageDigest.isEqual(expected, header.getBytes(StandardCharsets.UTF_8))) {
            throw new ApiException(401, ApiException.Type.UNAUTHORIZED, header == null
                    ? "missing API key: expected the header `Authorization: Bearer <key>`"
                    : "wrong API key in the Authorization header");
        }
    }

    /**
     * CORS only when --cors-allow-origin is given ("*" for any origin): without it browsers keep
     * to same-origin calls, so a web page cannot reach a server on the user's loopback.
     */
    private void cors(HttpExchange exchange, boolean preflight) {
        String allowed = options.corsAllowOrigin();
        String origin = exchange.getRequestHeaders().getFirst("Origin");
        if (allowed == null || origin == null) {
            return;
        }
        Headers headers = exchange.getResponseHeaders();
        headers.add("Vary", "Origin");
        if (!allowed.equals("*") && !allowed.equals(origin)) {
            return;
        }
        headers.set("Access-Control-Allow-Origin", allowed.equals("*") ? "*" : origin);
        if (preflight) {
            headers.set("Access-Control-Allow-Methods", "GET, POST");
            headers.set("Access-Control-Allow-Headers", "content-type, authorization");
            headers.set("Access-Control-Max-Age", "600");
        }
    }

    private void send(HttpExchange exchange, Routes.Response response, boolean head) throws IOException {
        Headers headers = exchange.getResponseHeaders();
        headers.set("Content-Type", response.contentType());
        response.headers().forEach(headers::set);
        if (head || response.body().length == 0) {
            exchange.sendResponseHeaders(response.status(), -1);
            return;
        }
        exchange.sendResponseHeaders(response.status(), response.body().length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(response.body());
        }
    }

    private void fail(HttpExchange exchange, Route route, ApiException e) {
        Family family = route == null ? Family.TEI : route.family();
        metrics.requestFailure.increment(e.metricLabel);
        byte[] body;
        if (family == Family.OPENAI) {
            var root = mapper.createObjectNode();
            var error = root.putObject("error");
            error.put("message", e.getMessage());
            error.put("type", e.type.name);
            error.put("code", e.status);
            body = root.toString().getBytes(StandardCharsets.UTF_8);
        } else {
            var root = mapper.createObjectNode();
            root.put("error", e.getMessage());
            root.put("error_type", e.type.name);
            body = root.toString().getBytes(StandardCharsets.UTF_8);
        }
        try {
            if (e.status == 429) {
                exchange.getResponseHeaders().set("Retry-After", "1");
            }
            send(exchange, new Routes.Response(e.status, "application/json", body, Map.of()), false);
        } catch (IOException | IllegalStateException ignored) {
            // Headers already sent, or the client is gone.
        }
    }

    /** The version in the jar's manifest. */
    static String version() {
        String version = EmbeddingServer.class.getPackage().getImplementationVersion();
        return version == null ? "0.1.0-SNAPSHOT" : version;
    }

    /**
     * Lets the requests in flight finish (up to {@value #DRAIN_SECONDS} s; requests arriving
     * meanwhile are answered 503), then closes every connection, finishes the batches queued and
     * releases the threads. Idempotent.
     *
     * <p>The drain is counted here rather than left to {@code HttpServer.stop(delay)}, which also
     * waits for connections still sending their headers and so would sit out the whole delay
     * whenever a client dawdles.
     */
    @Override
    public synchronized void close() {
        if (closing) {
            return;
        }
        closing = true;
        long deadline = System.nanoTime() + DRAIN_SECONDS * 1_000_000_000L;
        while (active.get() > 0 && System.nanoTime() < deadline) {
            try {
                Thread.sleep(10);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        http.stop(0);
        queue.close();
        executor.shutdownNow();
    }
}
