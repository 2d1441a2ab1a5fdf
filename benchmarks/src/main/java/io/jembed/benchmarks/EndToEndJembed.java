package io.jembed.benchmarks;

import io.jembed.core.Embedder;
import io.jembed.core.model.Prompt;
import io.jembed.core.pooling.PoolingConfig;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * The jembed side of the end-to-end race, kept to this one class so that a change in the
 * {@link Embedder} API touches nothing else in the harness.
 *
 * <p>One Embedder serves every batch size: it is built with the largest, and smaller batches are cut
 * here, which is exactly what {@link Embedder#embed(List)} does with its own batch size. A second
 * Embedder per batch size would load the weights twice and inflate the peak RSS being reported.
 *
 * <p>Texts go in with no prompt, whatever the model's prompts, because ONNX Runtime is fed the raw
 * texts too; a prompt would only make both sides longer by the same tokens.
 */
final class EndToEndJembed implements AutoCloseable {

    private final Embedder embedder;
    private final int maxBatchSize;

    EndToEndJembed(Path modelDirectory, int threads, int maxBatchSize, int maxLength) throws IOException {
        this.embedder = Embedder.builder(modelDirectory).threads(threads).batchSize(maxBatchSize).maxLength(maxLength)
            .build();
        this.maxBatchSize = maxBatchSize;
    }

    float[] embed(String text) {
        return embedder.embed(text, Prompt.NONE);
    }

    /** Texts in input order, {@code batchSize} per forward pass. */
    float[][] embed(List<String> texts, int batchSize) {
        if (batchSize < 1 || batchSize > maxBatchSize) {
            throw new IllegalArgumentException("batch size: expected 1.." + maxBatchSize + ", found " + batchSize);
        }
        float[][] vectors = new float[texts.size()][];
        for (int from = 0; from < texts.size(); from += batchSize) {
            int to = Math.min(texts.size(), from + batchSize);
            float[][] batch = embedder.embed(texts.subList(from, to), Prompt.NONE);
            System.arraycopy(batch, 0, vectors, from, batch.length);
        }
        return vectors;
    }

    /** Real tokens of one text as jembed feeds it (lowercased if the model says), [CLS] and [SEP] included. */
    int tokenCount(String text) {
        return embedder.tokenize(List.of(text), Prompt.NONE).getFirst().length();
    }

    /** Length of the vectors {@link #embed} returns. */
    int dimension() {
        return embedder.dimension();
    }

    /** Pooling and normalisation as the model directory says. */
    PoolingConfig pooling() {
        return embedder.pooling();
    }

    /** A line for the report: which kernels and how many worker threads jembed runs on. */
    String describe() {
        return "jembed kernels " + embedder.kernels().getClass().getSimpleName() + ", " + embedder.threads()
            + " worker threads, max length " + embedder.maxLength();
    }

    @Override
    public void close() {
        embedder.close();
    }
}
