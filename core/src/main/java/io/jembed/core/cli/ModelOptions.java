package io.jembed.core.cli;

import java.io.IOException;

import io.jembed.core.Embedder;

/**
 * The options every model-running command shares: {@code --model}, {@code --threads},
 * {@code --batch-size} and {@code --max-length}.
 */
final class ModelOptions {

    static final String USAGE = """
              --model NAME|DIR   a catalogue model (jembed model list) or a model directory
                                 (default: $JEMBED_MODEL, else all-MiniLM-L6-v2)
              --threads N        worker threads (default: available processors)
              --batch-size N     texts per forward pass (default 32)
              --max-length N     tokens per text incl. [CLS]/[SEP] (default: the model's max_seq_length)""";

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
        int batchSize = args.intValue("batch-size", 32, 1, 100_000);
        int maxLength = args.intValue("max-length", 0, 2, 1 << 20);
        var modelDir = cli.modelDir(args, fallbackModel);
        Embedder.Builder builder = Embedder.builder(modelDir).batchSize(batchSize);
        if (threads > 0) {
            builder.threads(threads);
        }
        if (maxLength > 0) {
            builder.maxLength(maxLength);
        }
        return builder.build();
    }
}
