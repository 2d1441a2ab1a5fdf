package io.jembed.core.cli;

import java.io.IOException;
import java.util.Set;

import io.jembed.core.Embedder;

/**
 * The options every model-running command shares: {@code --model}, {@code --threads},
 * {@code --batch-size}, {@code --max-batch-tokens} and {@code --max-length}.
 */
final class ModelOptions {

    /** Texts a command reads per call to the embedder when --batch-size does not say. */
    static final int READ_BATCH = 512;

    static final String USAGE = """
              --model NAME|DIR   a catalogue model (jembed model list) or a model directory
                                 (default: $JEMBED_MODEL, else all-MiniLM-L6-v2)
              --threads N        worker threads (default: available processors)
              --batch-size N     most texts per forward pass (default: as many as the token budget holds)
              --max-batch-tokens N  most tokens per forward pass (default 16384, as TEI); bounds memory
              --max-length N     tokens per text incl. [CLS]/[SEP] (default: the model's max_seq_length)""";

    /** The options {@link #load} and {@link Cli#modelDir(Args)} read, as {@link #USAGE} lists them. */
    static final Set<String> NAMES = Set.of("model", "threads", "batch-size", "max-batch-tokens", "max-length");

    private ModelOptions() {
    }

    /** Reads the options from args and loads the model. */
    static Embedder load(Args args, Cli cli) throws IOException {
        return load(args, cli, io.jembed.core.model.ModelCatalog.DEFAULT_NAME);
    }

    /**
     * As {@link #load(Args, Cli)}; an index's commands pass the model its manifest names, so an index
     * built with a catalogue model is searched with that model without --model.
     */
    static Embedder load(Args args, Cli cli, String fallbackModel) throws IOException {
        int threads = args.intValue("threads", 0, 1, 1024);
        int batchSize = args.intValue("batch-size", 0, 1, 100_000);
        int maxBatchTokens = args.intValue("max-batch-tokens", Embedder.DEFAULT_MAX_BATCH_TOKENS, 2, Integer.MAX_VALUE);
        int maxLength = args.intValue("max-length", 0, 2, 1 << 20);
        var modelDir = cli.modelDir(args, fallbackModel);
        Embedder.Builder builder = Embedder.builder(modelDir).maxBatchTokens(maxBatchTokens);
        if (batchSize > 0) {
            builder.batchSize(batchSize);
        }
        if (threads > 0) {
            builder.threads(threads);
        }
        if (maxLength > 0) {
            builder.maxLength(maxLength);
        }
        try {
            return builder.build();
        } catch (IllegalArgumentException e) {
            // The option values' bounds against the model's own (max length, array capacity).
            throw new CliException(e.getMessage(), CliException.USAGE);
        }
    }

    /** Texts per call to the embedder: --batch-size when given, else {@link #READ_BATCH}. */
    static int readBatch(Embedder embedder) {
        return embedder.batchSize() < Integer.MAX_VALUE ? embedder.batchSize() : READ_BATCH;
    }
}
