package io.jembed.core.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

import io.jembed.core.kernels.Kernels.Activation;

/**
 * The register-tiled matmul under {@link VectorKernels#linear} and {@link VectorKernels#attention}:
 * one panel of 2L output columns (L lanes per vector) for a run of rows,
 * {@code y[t][c] = act(bias[c] + Σ_k x[t][k] w[k][c])}.
 *
 * <p>A tile of up to 6 rows keeps 6 x 2 accumulators in registers; each step over k loads the
 * panel's two weight vectors once and broadcasts one x value per row into two FMAs, so 12 FMAs
 * cost 2 vector loads and 6 scalar broadcasts. With 15 vector registers live the tile fits
 * AVX2's 16 as well as AVX-512's 32.
 *
 * <p>Weights are always read at the constant stride PANEL: C2 removes array bounds checks from
 * a loop only for indices of the form {@code constant * k + invariant}, and a variable stride
 * measured 13% slower.
 *
 * <p>The tiles are written out per row count rather than looped over rows, because C2 keeps
 * only straight-line locals in registers; the six variants are identical but for that count.
 * They call no helper with vector arguments: one C2 does not inline would box every vector.
 * A panel cut short by {@code out} (never at the model's shapes) goes through a scratch panel.
 */
final class VectorGemm {

    static final VectorSpecies<Float> S = VectorWidth.SPECIES;
    static final int L = S.length();
    /** Output columns per panel, the width of {@link PackedLinear}'s layout for these kernels. */
    static final int PANEL = 2 * L;
    /** Rows of the main register tile. */
    static final int TILE_ROWS = 6;
    /** A panel's worth of zero bias. */
    static final float[] NO_BIAS = new float[PANEL];

    private VectorGemm() {
    }

    /**
     * One panel for {@code rows} rows:
     * x row t at {@code x[xOff + t * xStride + k]}, k in [0, K);
     * weight (k, c) at {@code w[wOff + k * PANEL + c]}, c in [0, PANEL) (a packed panel);
     * bias c at {@code bias[biasOff + c]} ({@link #NO_BIAS} for none);
     * output at {@code y[yOff + t * yStride + c]}, only for c in [0, cols), cols in [1, PANEL].
     */
    static void panel(float[] x, int xOff, int xStride, int K, float[] w, int wOff,
                      float[] bias, int biasOff, float[] y, int yOff, int yStride, int rows, int cols,
                      Activation act) {
        if (cols < PANEL) {
            // A panel cut short by out (never at the model's shapes): computed whole into a scratch
            // panel, then its valid columns copied. The tiles thus store only whole vectors; masked
            // stores in them pushed tile6 past C1's register limit, and a method C1 compiles at
            // tier 2 but cannot at tier 3 may never reach C2, running ~50x slower for good.
            float[] whole = new float[rows * PANEL];
            panel(x, xOff, xStride, K, w, wOff, bias, biasOff, whole, 0, PANEL, rows, PANEL, act);
            for (int r = 0; r < rows; r++) {
                System.arraycopy(whole, r * PANEL, y, yOff + r * yStride, cols);
            }
            return;
        }
        // Spread the rows evenly over ceil(rows / 6) tiles, so a remainder never leaves a thin
        // tile: 8 rows run as 4 + 4, 13 as 5 + 4 + 4 (a 1- or 2-row tile is latency-bound).
        int tiles = (rows + TILE_ROWS - 1) / TILE_ROWS;
        int t = 0;
        for (int i = 0; i < tiles; i++) {
            int n = (rows - t) / (tiles - i);
            int x0 = xOff + t * xStride;
            int y0 = yOff + t * yStride;
            switch (n) {
                case 6 -> tile6(x, x0, xStride, K, w, wOff, bias, biasOff, y, y0, yStride);
                case 5 -> tile5(x, x0, xStride, K, w, wOff, bias, biasOff, y, y0, yStride);
                case 4 -> tile4(x, x0, xStride, K, w, wOff, bias, biasOff, y, y0, yStride);
                case 3 -> tile3(x, x0, xStride, K, w, wOff, bias, biasOff, y, y0, yStride);
                case 2 -> tile2(x, x0, xStride, K, w, wOff, bias, biasOff, y, y0, yStride);
                default -> tile1(x, x0, xStride, K, w, wOff, bias, biasOff, y, y0, yStride);
            }
            t += n;
        }
        if (act != Activation.NONE) {
            // Applied per panel while its outputs are still in L1.
            for (int r = 0; r < rows; r++) {
                VectorMath.activate(act, y, yOff + r * yStride, cols);
            }
        }
    }

    /** 6 rows of the panel: 6 x 2 accumulators. */
    private static void tile6(float[] x, int x0, int xStride, int K, float[] w, int wOff,
                              float[] bias, int biasOff, float[] y, int y0, int yStride) {
        FloatVector b0 = FloatVector.fromArray(S, bias, biasOff);
        FloatVector b1 = FloatVector.fromArray(S, bias, biasOff + L);
        FloatVector a00 = b0, a01 = b1;
        FloatVector a10 = b0, a11 = b1;
        FloatVector a20 = b0, a21 = b1;
        FloatVector a30 = b0, a31 = b1;
        FloatVector a40 = b0, a41 = b1;
        FloatVector a50 = b0, a51 = b1;
        int x1 = x0 + xStride, x2 = x1 + xStride, x3 = x2 + xStride, x4 = x3 + xStride, x5 = x4 + xStride;
        for (int k = 0; k < K; k++) {
            int wk = wOff + k * PANEL;
            FloatVector w0 = FloatVector.fromArray(S, w, wk);
            FloatVector w1 = FloatVector.fromArray(S, w, wk + L);
            FloatVector xb;
            xb = FloatVector.broadcast(S, x[x0 + k]);
            a00 = w0.fma(xb, a00);
            a01 = w1.fma(xb, a01);
            xb = FloatVector.broadcast(S, x[x1 + k]);
            a10 = w0.fma(xb, a10);
            a11 = w1.fma(xb, a11);
            xb = FloatVector.broadcast(S, x[x2 + k]);
            a20 = w0.fma(xb, a20);
            a21 = w1.fma(xb, a21);
            xb = FloatVector.broadcast(S, x[x3 + k]);
            a30 = w0.fma(xb, a30);
            a31 = w1.fma(xb, a31);
            xb = FloatVector.broadcast(S, x[x4 + k]);
            a40 = w0.fma(xb, a40);
            a41 = w1.fma(xb, a41);
            xb = FloatVector.broadcast(S, x[x5 + k]);
            a50 = w0.fma(xb, a50);
            a51 = w1.fma(xb, a51);
        }
        a00.intoArray(y, y0);
        a01.intoArray(y, y0 + L);
        a10.intoArray(y, y0 + yStride);
        a11.intoArray(y, y0 + yStride + L);
        a20.intoArray(y, y0 + 2 * yStride);
        a21.intoArray(y, y0 + 2 * yStride + L);
        a30.intoArray(y, y0 + 3 * yStride);
        a31.intoArray(y, y0 + 3 * yStride + L);
        a40.intoArray(y, y0 + 4 * yStride);
        a41.intoArray(y, y0 + 4 * yStride + L);
        a50.intoArray(y, y0 + 5 * yStride);
        a51.intoArray(y, y0 + 5 * yStride + L);
    }

    /** 5 rows of the panel: 5 x 2 accumulators. */
    private static void tile5(float[] x, int x0, int xStride, int K, float[] w, int wOff,
                              float[] bias, int biasOff, float[] y, int y0, int yStride) {
        FloatVector b0 = FloatVector.fromArray(S, bias, biasOff);
        FloatVector b1 = FloatVector.fromArray(S, bias, biasOff + L);
        FloatVector a00 = b0, a01 = b1;
        FloatVector a10 = b0, a11 = b1;
        FloatVector a20 = b0, a21 = b1;
        FloatVector a30 = b0, a31 = b1;
        FloatVector a40 = b0, a41 = b1;
        int x1 = x0 + xStride, x2 = x1 + xStride, x3 = x2 + xStride, x4 = x3 + xStride;
        for (int k = 0; k < K; k++) {
            int wk = wOff + k * PANEL;
            FloatVector w0 = FloatVector.fromArray(S, w, wk);
            FloatVector w1 = FloatVector.fromArray(S, w, wk + L);
            FloatVector xb;
            xb = FloatVector.broadcast(S, x[x0 + k]);
            a00 = w0.fma(xb, a00);
            a01 = w1.fma(xb, a01);
            xb = FloatVector.broadcast(S, x[x1 + k]);
            a10 = w0.fma(xb, a10);
            a11 = w1.fma(xb, a11);
            xb = FloatVector.broadcast(S, x[x2 + k]);
            a20 = w0.fma(xb, a20);
            a21 = w1.fma(xb, a21);
            xb = FloatVector.broadcast(S, x[x3 + k]);
            a30 = w0.fma(xb, a30);
            a31 = w1.fma(xb, a31);
            xb = FloatVector.broadcast(S, x[x4 + k]);
            a40 = w0.fma(xb, a40);
            a41 = w1.fma(xb, a41);
        }
        a00.intoArray(y, y0);
        a01.intoArray(y, y0 + L);
        a10.intoArray(y, y0 + yStride);
        a11.intoArray(y, y0 + yStride + L);
        a20.intoArray(y, y0 + 2 * yStride);
        a21.intoArray(y, y0 + 2 * yStride + L);
        a30.intoArray(y, y0 + 3 * yStride);
        a31.intoArray(y, y0 + 3 * yStride + L);
        a40.intoArray(y, y0 + 4 * yStride);
        a41.intoArray(y, y0 + 4 * yStride + L);
    }

    /** 4 rows of the panel: 4 x 2 accumulators. */
    private static void tile4(float[] x, int x0, int xStride, int K, float[] w, int wOff,
                              float[] bias, int biasOff, float[] y, int y0, int yStride) {
        FloatVector b0 = FloatVector.fromArray(S, bias, biasOff);
        FloatVector b1 = FloatVector.fromArray(S, bias, biasOff + L);
        FloatVector a00 = b0, a01 = b1;
        FloatVector a10 = b0, a11 = b1;
        FloatVector a20 = b0, a21 = b1;
        FloatVector a30 = b0, a31 = b1;
        int x1 = x0 + xStride, x2 = x1 + xStride, x3 = x2 + xStride;
        for (int k = 0; k < K; k++) {
            int wk = wOff + k * PANEL;
            FloatVector w0 = FloatVector.fromArray(S, w, wk);
            FloatVector w1 = FloatVector.fromArray(S, w, wk + L);
            FloatVector xb;
            xb = FloatVector.broadcast(S, x[x0 + k]);
            a00 = w0.fma(xb, a00);
            a01 = w1.fma(xb, a01);
            xb = FloatVector.broadcast(S, x[x1 + k]);
            a10 = w0.fma(xb, a10);
            a11 = w1.fma(xb, a11);
            xb = FloatVector.broadcast(S, x[x2 + k]);
            a20 = w0.fma(xb, a20);
            a21 = w1.fma(xb, a21);
            xb = FloatVector.broadcast(S, x[x3 + k]);
            a30 = w0.fma(xb, a30);
            a31 = w1.fma(xb, a31);
        }
        a00.intoArray(y, y0);
        a01.intoArray(y, y0 + L);
        a10.intoArray(y, y0 + yStride);
        a11.intoArray(y, y0 + yStride + L);
        a20.intoArray(y, y0 + 2 * yStride);
        a21.intoArray(y, y0 + 2 * yStride + L);
        a30.intoArray(y, y0 + 3 * yStride);
        a31.intoArray(y, y0 + 3 * yStride + L);
    }

    /** 3 rows of the panel: 3 x 2 accumulators. */
    private static void tile3(float[] x, int x0, int xStride, int K, float[] w, int wOff,
                              float[] bias, int biasOff, float[] y, int y0, int yStride) {
        FloatVector b0 = FloatVector.fromArray(S, bias, biasOff);
        FloatVector b1 = FloatVector.fromArray(S, bias, biasOff + L);
        FloatVector a00 = b0, a01 = b1;
        FloatVector a10 = b0, a11 = b1;
        FloatVector a20 = b0, a21 = b1;
        int x1 = x0 + xStride, x2 = x1 + xStride;
        for (int k = 0; k < K; k++) {
            int wk = wOff + k * PANEL;
            FloatVector w0 = FloatVector.fromArray(S, w, wk);
            FloatVector w1 = FloatVector.fromArray(S, w, wk + L);
            FloatVector xb;
            xb = FloatVector.broadcast(S, x[x0 + k]);
            a00 = w0.fma(xb, a00);
            a01 = w1.fma(xb, a01);
            xb = FloatVector.broadcast(S, x[x1 + k]);
            a10 = w0.fma(xb, a10);
            a11 = w1.fma(xb, a11);
            xb = FloatVector.broadcast(S, x[x2 + k]);
            a20 = w0.fma(xb, a20);
            a21 = w1.fma(xb, a21);
        }
        a00.intoArray(y, y0);
        a01.intoArray(y, y0 + L);
        a10.intoArray(y, y0 + yStride);
        a11.intoArray(y, y0 + yStride + L);
        a20.intoArray(y, y0 + 2 * yStride);
        a21.intoArray(y, y0 + 2 * yStride + L);
    }

    /** 2 rows of the panel: 2 x 2 accumulators. */
    private static void tile2(float[] x, int x0, int xStride, int K, float[] w, int wOff,
                              float[] bias, int biasOff, float[] y, int y0, int yStride) {
        FloatVector b0 = FloatVector.fromArray(S, bias, biasOff);
        FloatVector b1 = FloatVector.fromArray(S, bias, biasOff + L);
        FloatVector a00 = b0, a01 = b1;
        FloatVector a10 = b0, a11 = b1;
        int x1 = x0 + xStride;
        for (int k = 0; k < K; k++) {
            int wk = wOff + k * PANEL;
            FloatVector w0 = FloatVector.fromArray(S, w, wk);
            FloatVector w1 = FloatVector.fromArray(S, w, wk + L);
            FloatVector xb;
            xb = FloatVector.broadcast(S, x[x0 + k]);
            a00 = w0.fma(xb, a00);
            a01 = w1.fma(xb, a01);
            xb = FloatVector.broadcast(S, x[x1 + k]);
            a10 = w0.fma(xb, a10);
            a11 = w1.fma(xb, a11);
        }
        a00.intoArray(y, y0);
        a01.intoArray(y, y0 + L);
        a10.intoArray(y, y0 + yStride);
        a11.intoArray(y, y0 + yStride + L);
    }

    /** 1 rows of the panel: 1 x 2 accumulators. */
    private static void tile1(float[] x, int x0, int xStride, int K, float[] w, int wOff,
                              float[] bias, int biasOff, float[] y, int y0, int yStride) {
        FloatVector b0 = FloatVector.fromArray(S, bias, biasOff);
        FloatVector b1 = FloatVector.fromArray(S, bias, biasOff + L);
        FloatVector a00 = b0, a01 = b1;
        for (int k = 0; k < K; k++) {
            int wk = wOff + k * PANEL;
            FloatVector w0 = FloatVector.fromArray(S, w, wk);
            FloatVector w1 = FloatVector.fromArray(S, w, wk + L);
            FloatVector xb;
            xb = FloatVector.broadcast(S, x[x0 + k]);
            a00 = w0.fma(xb, a00);
            a01 = w1.fma(xb, a01);
        }
        a00.intoArray(y, y0);
        a01.intoArray(y, y0 + L);
    }
}
