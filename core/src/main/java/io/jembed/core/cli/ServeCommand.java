package io.jembed.core.cli;

import java.net.BindException;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.Set;

import io.jembed.core.Embedder;
import io.jembed.core.index.IndexStore;
import io.jembed.core.model.ModelCatalog;
import io.jembed.core.search.SemanticSearch;
import io.jembed.core.server.EmbeddingServer;
import io.jembed.core.server.ServerOptions;

/**
 * {@code jembed serve}: the HTTP server (TEI and OpenAI embedding routes, search, metrics, a
 * search page) until SIGTERM or Ctrl-C, which finish the requests in flight before exiting.
 */
final class ServeCommand implements Command {

    @Override
    public String name() {
        return "serve";
    }

    @Override
    public String summary() {
        return "HTTP server: TEI and OpenAI embedding routes, search, metrics, a search page";
    }

    @Override
    public Set<String> options() {
        return Args.names(Set.of("index", "host", "port", "max-client-batch-size", "max-concurrent-requests",
                "payload-limit", "api-key", "cors-allow-origin", "auto-truncate"), ModelOptions.NAMES);
    }

    @Override
    public String usage() {
        return """
                usage: jembed serve [--model NAME|DIR] [--index DIR] [--host 127.0.0.1] [--port 8080] [options]

                Serves the model over HTTP until SIGTERM or Ctrl-C (requests in flight are finished
                first). Routes, in TEI's and OpenAI's shapes:
                  POST /embed  /similarity  /tokenize  /decode     (text-embeddings-inference)
                  POST /v1/embeddings                              (OpenAI; also /embeddings)
                  POST /search                                     (with --index)
                  GET  /info  /health  /metrics (Prometheus)  /  (search page; /?q=... runs a query)
                Concurrent requests share forward passes (dynamic batching) up to --max-batch-tokens;
                a text's vector is the same bits as `jembed embed` gives it.

                options:
                  --index DIR        an index to search (POST /search and the page); its model is the
                                     default --model
                  --host ADDR        address to bind (default 127.0.0.1, loopback only)
                  --port N           port (default 8080; 0 picks a free one)
                  --max-client-batch-size N   most inputs per request (default 32; more: 422)
                  --max-concurrent-requests N most inputs in flight (default 512; more: 429)
                  --payload-limit BYTES       largest request body (default 2000000; more: 413)
                  --api-key KEY      require `Authorization: Bearer KEY` on the POST routes
                                     (default: $JEMBED_API_KEY, else none)
                  --cors-allow-origin ORIGIN  let browsers on ORIGIN ('*' for any) call the API
                                     (default: same origin only)
                  --auto-truncate true|false  cut inputs longer than the max length when a request
                                     does not say (default true, as TEI)
                """ + ModelOptions.USAGE;
    }

    /**
     * Carrier threads for the request handlers' virtual threads, unless the JVM was told: half the
     * processors. The handlers parse, tokenize and write, light work beside the forward pass that
     * the encoder's pool runs on every core; more carriers than that only take cores from it
     * mid-pass (measured on 2 cores, 64 clients: 88-100 sentences/s with one carrier, 70-88 with two).
     */
    static void shareCoresWithTheEncoder() {
        String property = "jdk.virtualThreadScheduler.parallelism";
        if (System.getProperty(property) == null) {
            System.setProperty(property, Integer.toString(Math.max(1, Runtime.getRuntime().availableProcessors() / 2)));
        }
    }

    @Override
    public int run(Args args, Cli cli) throws Exception {
        shareCoresWithTheEncoder(); // before the first virtual thread, which fixes the scheduler
        args.noPositionals();
        Optional<Path> indexDir = args.path("index");
        String key = args.option("api-key").orElse(System.getenv("JEMBED_API_KEY"));
        ServerOptions options = ServerOptions.builder()
                .host(args.string("host", ServerOptions.DEFAULT_HOST))
                .port(args.intValue("port", ServerOptions.DEFAULT_PORT, 0, 65_535))
                .maxClientBatchSize(args.intValue("max-client-batch-size", ServerOptions.DEFAULT_MAX_CLIENT_BATCH_SIZE,
                        1, 1_000_000))
                .maxConcurrentRequests(args.intValue("max-concurrent-requests",
                        ServerOptions.DEFAULT_MAX_CONCURRENT_REQUESTS, 1, 1_000_000))
                .payloadLimit(args.intValue("payload-limit", (int) ServerOptions.DEFAULT_PAYLOAD_LIMIT, 1,
                        Integer.MAX_VALUE - 8))
                .autoTruncate(bool(args, "auto-truncate", true))
                .apiKey(key == null || key.isEmpty() ? null : key)
                .corsAllowOrigin(args.option("cors-allow-origin").orElse(null))
                .build();
        String fallbackModel = ModelCatalog.DEFAULT_NAME;
        if (indexDir.isPresent()) {
            String indexModel = IndexStore.readManifest(indexDir.get()).spec().model();
            fallbackModel = ModelCatalog.find(indexModel).map(ModelCatalog.Entry::name).orElse(ModelCatalog.DEFAULT_NAME);
        }
        try (Embedder embedder = ModelOptions.load(args, cli, fallbackModel);
             SemanticSearch search = indexDir.isPresent() ? SemanticSearch.open(embedder, indexDir.get()) : null) {
            args.finish();
            EmbeddingServer server;
            try {
                server = EmbeddingServer.start(embedder, search, options);
            } catch (BindException e) {
                throw new CliException("serve: cannot listen on " + options.host() + ":" + options.port() + " ("
                        + e.getMessage() + "); is another server there? Choose another --port", CliException.FAILED);
            }
            CountDownLatch stopped = new CountDownLatch(1);
            Thread hook = new Thread(() -> {
                cli.err().println("jembed serve: stopping; finishing requests in flight");
                cli.err().flush();
                server.close();
                // Said here: once the hook returns the JVM halts, whatever the main thread was about to print.
                cli.err().println("jembed serve: stopped after " + server.answered() + " requests");
                cli.err().flush();
                stopped.countDown();
            }, "jembed-serve-shutdown");
            Runtime.getRuntime().addShutdownHook(hook);
            cli.err().println("jembed serve: " + embedder.modelName() + " (" + embedder.dimension() + " dimensions, "
                    + embedder.threads() + " threads" + (search == null ? "" : ", index of " + search.size() + " documents")
                    + ") on " + server.uri() + (options.apiKey() == null ? "" : " (API key required)"));
            if (!server.address().getAddress().isLoopbackAddress() && options.apiKey() == null) {
                cli.err().println("jembed serve: warning: listening on " + options.host()
                        + ", reachable from other machines, without --api-key");
            }
            cli.err().println("jembed serve: search page " + server.uri() + (search == null ? " (no --index: embedding routes only)" : "")
                    + "; Ctrl-C stops");
            cli.err().flush();
            stopped.await();
        }
        return 0;
    }

    private static boolean bool(Args args, String name, boolean defaultValue) {
        Optional<String> value = args.option(name);
        if (value.isEmpty()) {
            return defaultValue;
        }
        return switch (value.get()) {
            case "true" -> true;
            case "false" -> false;
            default -> throw CliException.usage("serve: --" + name + " expects true or false, found '" + value.get() + "'");
        };
    }
}
