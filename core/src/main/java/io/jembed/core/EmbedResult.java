package io.jembed.core;

import java.util.Objects;

/**
 * What {@link Embedder#embed(EmbedRequest)} returns: per text, in request order, its vector, how
 * many tokens the encoder saw ([CLS], [SEP] and the prompt's included) and whether the text was
 * cut to fit the max length.
 */
public final class EmbedResult {

    private final float[][] vectors;
    private final int[] tokens;
    private final boolean[] truncated;

    EmbedResult(float[][] vectors, int[] tokens, boolean[] truncated) {
        this.vectors = Objects.requireNonNull(vectors);
        this.tokens = Objects.requireNonNull(tokens);
        this.truncated = Objects.requireNonNull(truncated);
    }

    /** Number of texts. */
    public int size() {
        return vectors.length;
    }

    /** The vectors, [size()][dimension]; the array is the result's own, not a copy. */
    public float[][] vectors() {
        return vectors;
    }

    public float[] vector(int i) {
        return vectors[i];
    }

    /** Tokens text i was encoded as. */
    public int tokens(int i) {
        return tokens[i];
    }

    /** Whether text i lost tokens to the max length. */
    public boolean truncated(int i) {
        return truncated[i];
    }

    /** Sum of {@link #tokens(int)}: OpenAI's and TEI's prompt_tokens. */
    public long totalTokens() {
        long sum = 0;
        for (int t : tokens) {
            sum += t;
        }
        return sum;
    }

    /** How many texts were cut. */
    public int truncatedCount() {
        int count = 0;
        for (boolean cut : truncated) {
            count += cut ? 1 : 0;
        }
        return count;
    }
}
