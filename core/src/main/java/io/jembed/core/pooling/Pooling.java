package io.jembed.core.pooling;

import java.util.Objects;

/**
 * Sentence vectors from the encoder's token vectors, as sentence-transformers' Pooling and
 * Normalize modules compute them.
 *
 * <p>Shape symbols: T tokens, H hidden size, B sequences. The encoder runs each sequence without
 * padding, so its hidden states are the T rows {@code [rowOffset, rowOffset + T)} of a row-major
 * {@code [*, H]} block ({@link #pool(PoolingConfig, float[], int, int, int, float[], int)}); a padded
 * batch {@code [B, T, H]} with an attention mask {@code [B, T]} goes through
 * {@link #poolMasked}. Both give the same vector for a sequence whose mask is all ones.
 *
 * <p>With several modes the outputs are concatenated in {@link PoolingMode} order, H values each,
 * and normalisation (if on) applies to the concatenation. Sums accumulate in float, in token order,
 * as PyTorch does in float32.
 */
public final class Pooling {

    /** sentence-transformers clamps the token count (mean's denominator) to at least this. */
    public static final float MIN_TOKEN_COUNT = 1e-9f;
    /** torch.nn.functional.normalize divides by max(norm, this), so a zero vector stays zero. */
    public static final double NORMALIZE_EPS = 1e-12;
    /** The value sentence-transformers writes over padded positions before taking the max. */
    public static final float MAX_PADDING_VALUE = -1e9f;

    private Pooling() {
    }

    /**
     * Pools one unpadded sequence with one mode: rows {@code [rowOffset, rowOffset + T)} of
     * {@code hidden [*, H]} -> {@code out[outOff, outOff + H)}. No normalisation.
     *
     * @throws IllegalArgumentException if T &lt; 1 or H &lt; 1, or an index range falls outside its array
     */
    public static void pool(PoolingMode mode, float[] hidden, int rowOffset, int T, int H, float[] out, int outOff) {
        checkShape(hidden, rowOffset, T, H, out, outOff, H);
        int base = rowOffset * H;
        switch (mode) {
            case CLS -> System.arraycopy(hidden, base, out, outOff, H);
            case LAST_TOKEN -> System.arraycopy(hidden, base + (T - 1) * H, out, outOff, H);
            case MAX -> {
                System.arraycopy(hidden, base, out, outOff, H);
                for (int t = 1; t < T; t++) {
                    int row = base + t * H;
                    for (int j = 0; j < H; j++) {
                        out[outOff + j] = Math.max(out[outOff + j], hidden[row + j]);
                    }
                }
            }
            case MEAN, MEAN_SQRT_LEN, WEIGHTED_MEAN -> {
                float weightSum = 0f;
                java.util.Arrays.fill(out, outOff, outOff + H, 0f);
                for (int t = 0; t < T; t++) {
                    float weight = mode == PoolingMode.WEIGHTED_MEAN ? t + 1 : 1f;
                    accumulate(hidden, base + t * H, weight, out, outOff, H);
                    weightSum += weight;
                }
                divide(out, outOff, H, denominator(mode, weightSum));
            }
        }
    }

    /**
     * Pools one unpadded sequence with every mode of {@code config}, concatenated, then normalises
     * if the config says so: {@code out[outOff, outOff + config.outputDimension(H))}.
     */
    public static void pool(PoolingConfig config, float[] hidden, int rowOffset, int T, int H, float[] out,
                            int outOff) {
        int dim = config.outputDimension(H);
        checkShape(hidden, rowOffset, T, H, out, outOff, dim);
        for (int m = 0; m < config.modes().size(); m++) {
            pool(config.modes().get(m), hidden, rowOffset, T, H, out, outOff + m * H);
        }
        if (config.normalize()) {
            normalize(out, outOff, dim);
        }
    }

    /** {@link #pool(PoolingConfig, float[], int, int, int, float[], int)} into a new array. */
    public static float[] pool(PoolingConfig config, float[] hidden, int rowOffset, int T, int H) {
        float[] out = new float[config.outputDimension(H)];
        pool(config, hidden, rowOffset, T, H, out, 0);
        return out;
    }

    /**
     * Pools a padded batch exactly as sentence-transformers does: {@code hidden [B, T, H]} with
     * {@code attentionMask [B, T]} (1 = token, 0 = padding) -> {@code out [B, outputDimension(H)]}.
     *
     * <p>Padded rows are skipped by the means (a row with no token pools to zeros, thanks to the
     * clamped count); max takes them as {@value #MAX_PADDING_VALUE}; CLS takes position 0 whatever
     * the mask; last-token takes the last position whose mask is 1 (position 0 if there is none).
     *
     * @throws IllegalArgumentException if an array is shorter than its shape or a mask value is
     *                                  neither 0 nor 1
     */
    public static void poolMasked(PoolingConfig config, float[] hidden, int[] attentionMask, int B, int T, int H,
                                  float[] out) {
        Objects.requireNonNull(config, "config");
        if (B < 0 || T < 1 || H < 1) {
            throw new IllegalArgumentException("pooling: expected B >= 0, T >= 1, H >= 1, found B=" + B + ", T=" + T
                    + ", H=" + H);
        }
        int dim = config.outputDimension(H);
        checkLength("hidden [B, T, H]", hidden, (long) B * T * H);
        checkLength("attention mask [B, T]", attentionMask.length, (long) B * T);
        checkLength("out [B, " + dim + "]", out, (long) B * dim);
        for (int b = 0; b < B; b++) {
            int base = b * T * H;
            int maskBase = b * T;
            int outOff = b * dim;
            for (int t = 0; t < T; t++) {
                int value = attentionMask[maskBase + t];
                if (value != 0 && value != 1) {
                    throw new IllegalArgumentException("attention mask [" + b + ", " + t + "]: expected 0 or 1, found "
                            + value);
                }
            }
            for (int m = 0; m < config.modes().size(); m++) {
                poolMasked(config.modes().get(m), hidden, base, attentionMask, maskBase, T, H, out, outOff + m * H);
            }
            if (config.normalize()) {
                normalize(out, outOff, dim);
            }
        }
    }

    private static void poolMasked(PoolingMode mode, float[] hidden, int base, int[] mask, int maskBase, int T, int H,
                                   float[] out, int outOff) {
        switch (mode) {
            case CLS -> System.arraycopy(hidden, base, out, outOff, H);
            case LAST_TOKEN -> {
                int last = 0;
                for (int t = T - 1; t >= 0; t--) {
                    if (mask[maskBase + t] == 1) {
                        last = t;
                        break;
                    }
                }
                System.arraycopy(hidden, base + last * H, out, outOff, H);
            }
            case MAX -> {
                java.util.Arrays.fill(out, outOff, outOff + H, Float.NEGATIVE_INFINITY);
                boolean paddingSeen = false;
                for (int t = 0; t < T; t++) {
                    if (mask[maskBase + t] == 1) {
                        int row = base + t * H;
                        for (int j = 0; j < H; j++) {
                            out[outOff + j] = Math.max(out[outOff + j], hidden[row + j]);
                        }
                    } else if (!paddingSeen) {
                        paddingSeen = true;
                        for (int j = 0; j < H; j++) {
                            out[outOff + j] = Math.max(out[outOff + j], MAX_PADDING_VALUE);
                        }
                    }
                }
            }
            case MEAN, MEAN_SQRT_LEN, WEIGHTED_MEAN -> {
                float weightSum = 0f;
                java.util.Arrays.fill(out, outOff, outOff + H, 0f);
                for (int t = 0; t < T; t++) {
                    if (mask[maskBase + t] == 1) {
                        // Weighted mean weighs by padded position (t + 1), as sentence-transformers.
                        float weight = mode == PoolingMode.WEIGHTED_MEAN ? t + 1 : 1f;
                        accumulate(hidden, base + t * H, weight, out, outOff, H);
                        weightSum += weight;
                    }
                }
                divide(out, outOff, H, denominator(mode, weightSum));
            }
        }
    }

    /**
     * Scales {@code x[off, off + n)} to unit L2 norm: {@code x / max(||x||, 1e-12)}, as
     * torch.nn.functional.normalize; a zero vector stays zero. The norm is summed in double.
     */
    public static void normalize(float[] x, int off, int n) {
        Objects.checkFromIndexSize(off, n, x.length);
        double sumOfSquares = 0;
        for (int i = 0; i < n; i++) {
            sumOfSquares += (double) x[off + i] * x[off + i];
        }
        double norm = Math.max(Math.sqrt(sumOfSquares), NORMALIZE_EPS);
        for (int i = 0; i < n; i++) {
            x[off + i] = (float) (x[off + i] / norm);
        }
    }

    private static void accumulate(float[] hidden, int row, float weight, float[] out, int outOff, int H) {
        for (int j = 0; j < H; j++) {
            out[outOff + j] += hidden[row + j] * weight;
        }
    }

    private static float denominator(PoolingMode mode, float weightSum) {
        float clamped = Math.max(weightSum, MIN_TOKEN_COUNT);
        return mode == PoolingMode.MEAN_SQRT_LEN ? (float) Math.sqrt(clamped) : clamped;
    }

    private static void divide(float[] out, int outOff, int H, float denominator) {
        for (int j = 0; j < H; j++) {
            out[outOff + j] /= denominator;
        }
    }

    private static void checkShape(float[] hidden, int rowOffset, int T, int H, float[] out, int outOff, int outLength) {
        if (T < 1 || H < 1 || rowOffset < 0) {
            throw new IllegalArgumentException("pooling: expected T >= 1, H >= 1, rowOffset >= 0, found T=" + T
                    + ", H=" + H + ", rowOffset=" + rowOffset);
        }
        checkLength("hidden rows [" + rowOffset + ", " + (rowOffset + T) + ") of width " + H, hidden,
                (long) (rowOffset + T) * H);
        if (outOff < 0 || (long) outOff + outLength > out.length) {
            throw new IllegalArgumentException("pooling output: expected " + outLength + " floats from index " + outOff
                    + ", found an array of " + out.length);
        }
    }

    private static void checkLength(String what, float[] array, long needed) {
        checkLength(what, array.length, needed);
    }

    private static void checkLength(String what, int length, long needed) {
        if (length < needed) {
            throw new IllegalArgumentException(what + ": expected at least " + needed + " values, found " + length);
        }
    }
}
