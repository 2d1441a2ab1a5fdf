package io.jembed.core.kernels;

import java.util.Arrays;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The kernels on {@code jdk.incubator.vector} at one species per JVM ({@link VectorWidth}),
 * checked against {@link ScalarKernels} on awkward sizes.
 *
 * <p>Reductions keep several accumulators (an FMA's latency is 4 cycles, its throughput 1 or 2
 * per cycle), then finish with a vector tail and a scalar tail. Element-wise tails either run
 * one masked vector (the activations, exp) or scalar code with the same roundings (a multiply,
 * {@link Math#fma}), so every element goes through the same arithmetic.
 */
public final class VectorKernels implements Kernels {

    static final VectorKernels INSTANCE = new VectorKernels();

    private static final VectorSpecies<Float> S = VectorWidth.SPECIES;
    private static final int L = S.length();
    private static final int PANEL = VectorGemm.PANEL;

    /** Most rows of x (and y) one linear task covers: a block of x that stays in L2 across panels. */
    private static final int ROW_BLOCK = 96;

    /** Aim for this many linear tasks per thread, so a thread slowed by a neighbour is absorbed. */
    private static final int TASKS_PER_THREAD = 8;

    /** Below this many multiply-adds (about a microsecond of work) a linear runs on the caller alone. */
    private static final long PARALLEL_MIN_MACS = 1 << 16;

    /** Most query rows attention scores at once: 4 register tiles, 24 KB of scores at T = 256. */
    private static final int QUERY_BLOCK = 4 * VectorGemm.TILE_ROWS;

    private VectorKernels() {
    }

    /** Bits of the vector species these kernels use. */
    static int vectorBits() {
        return S.vectorBitSize();
    }

    @Override
    public String name() {
        return "vector(" + S.vectorBitSize() + "-bit)";
    }

    @Override
    public PackedLinear pack(float[] weight, float[] bias, int out, int in) {
        return PackedLinear.pack(weight, bias, out, in, PANEL);
    }

    @Override
    public void linear(WorkerPool pool, float[] x, int rows, PackedLinear w, Activation act, float[] y) {
        int in = w.in();
        int out = w.out();
        if (w.panelWidth() != PANEL) {
            throw new IllegalArgumentException("linear: expected a layer packed by " + name() + " (panel width "
                    + PANEL + "), found panel width " + w.panelWidth());
        }
        Checks.range("linear", "x", x, 0, rows * in);
        Checks.range("linear", "y", y, 0, rows * out);
        if (rows == 0) {
            return;
        }
        int panels = w.panels();
        int rowBlocks = (rows + ROW_BLOCK - 1) / ROW_BLOCK;
        int blockRows = (rows + rowBlocks - 1) / rowBlocks; // even blocks: 100 rows as 50 + 50
        if (pool.threads() == 1 || (long) rows * in * out < PARALLEL_MIN_MACS) {
            for (int b = 0; b < rowBlocks; b++) {
                linearBlock(x, w, act, y, b * blockRows, Math.min(rows, (b + 1) * blockRows), 0, panels);
            }
            return;
        }
        // [rows, in]·[in, out]: tasks are (row block, run of panels), enough of them that every
        // thread gets work even for a few rows, where panels are the only dimension to split.
        int target = TASKS_PER_THREAD * pool.threads();
        int panelRuns = Math.min(panels, Math.max(1, (target + rowBlocks - 1) / rowBlocks));
        int panelsPerRun = (panels + panelRuns - 1) / panelRuns;
        int runs = (panels + panelsPerRun - 1) / panelsPerRun;
        pool.parallelFor(rowBlocks * runs, task -> {
            int r0 = (task / runs) * blockRows;
            int p0 = (task % runs) * panelsPerRun;
            linearBlock(x, w, act, y, r0, Math.min(rows, r0 + blockRows), p0, Math.min(panels, p0 + panelsPerRun));
        });
    }

    /** Rows [r0, r1) of y for panels [p0, p1). */
    private static void linearBlock(float[] x, PackedLinear w, Activation act, float[] y,
                                    int r0, int r1, int p0, int p1) {
        int in = w.in();
        int out = w.out();
        for (int p = p0; p < p1; p++) {
            int c0 = p * PANEL;
            VectorGemm.panel(x, r0 * in, in, in, w.weights, p * in * PANEL, w.bias, c0,
                    y, r0 * out + c0, out, r1 - r0, Math.min(PANEL, out - c0), act);
        }
    }

    @Override
    public void attention(float[] q, int qOff, float[] k, int kOff, float[] v, int vOff, int stride,
                          int T, int d, float scale, float[] out, int outOff, int outStride, float[] scratch) {
        Checks.positive("attention", "T", T);
        Checks.positive("attention", "d", d);
        Checks.strided("attention", "q", q, qOff, stride, T, d);
        Checks.strided("attention", "k", k, kOff, stride, T, d);
        Checks.strided("attention", "v", v, vOff, stride, T, d);
        Checks.strided("attention", "out", out, outOff, outStride, T, d);
        Checks.range("attention", "scratch", scratch, 0, attentionScratchSize(T, d));
        if (!(scale > 0)) {
            throw new IllegalArgumentException("attention: expected scale > 0, found " + scale);
        }
        int paddedT = roundUp(T, PANEL);
        int keyPanels = paddedT / PANEL;
        // scratch: keysT [keyPanels, d, PANEL] | scores [QUERY_BLOCK, paddedT] | values [valuePanels, T, PANEL]
        int scores = keyPanels * d * PANEL;
        int values = scores + QUERY_BLOCK * paddedT;

        // kᵀ packed as a Linear layer's panels, keys as output columns; padding keys are 0.
        for (int s = 0; s < paddedT; s++) {
            int dst = (s / PANEL) * d * PANEL + s % PANEL;
            if (s < T) {
                int src = kOff + s * stride;
                for (int j = 0; j < d; j++) {
                    scratch[dst + j * PANEL] = k[src + j];
                }
            } else {
                for (int j = 0; j < d; j++) {
                    scratch[dst + j * PANEL] = 0f;
                }
            }
        }
        // v packed into zero-padded panels of PANEL features, keys as rows.
        int valuePanels = (d + PANEL - 1) / PANEL;
        for (int p = 0; p < valuePanels; p++) {
            int cols = Math.min(PANEL, d - p * PANEL);
            for (int s = 0; s < T; s++) {
                int dst = values + (p * T + s) * PANEL;
                System.arraycopy(v, vOff + s * stride + p * PANEL, scratch, dst, cols);
                if (cols < PANEL) {
                    Arrays.fill(scratch, dst + cols, dst + PANEL, 0f);
                }
            }
        }
        // Query blocks of equal size, so that the register tiles inside them are as full as can be.
        int blocks = (T + QUERY_BLOCK - 1) / QUERY_BLOCK;
        int blockRows = (T + blocks - 1) / blocks;
        for (int t = 0; t < T; t += blockRows) {
            int rows = Math.min(blockRows, T - t);
            // [rows, d]·[d, paddedT] -> scores [rows, paddedT]
            for (int p = 0; p < keyPanels; p++) {
                VectorGemm.panel(q, qOff + t * stride, stride, d, scratch, p * d * PANEL, VectorGemm.NO_BIAS, 0,
                        scratch, scores + p * PANEL, paddedT, rows, PANEL, Activation.NONE);
            }
            for (int r = 0; r < rows; r++) {
                softmax(scratch, scores + r * paddedT, T, scale);
            }
            // [rows, T]·[T, d] -> out [rows, d]
            for (int p = 0; p < valuePanels; p++) {
                VectorGemm.panel(scratch, scores, paddedT, T, scratch, values + p * T * PANEL, VectorGemm.NO_BIAS, 0,
                        out, outOff + t * outStride + p * PANEL, outStride, rows, Math.min(PANEL, d - p * PANEL),
                        Activation.NONE);
            }
        }
    }

    @Override
    public int attentionScratchSize(int T, int d) {
        int paddedT = roundUp(T, PANEL);
        return paddedT * d + QUERY_BLOCK * paddedT + roundUp(d, PANEL) * T;
    }

    private static int roundUp(int n, int multiple) {
        return (n + multiple - 1) / multiple * multiple;
    }

    @Override
    public void addLayerNorm(float[] x, float[] residual, int firstRow, int rows, int n, float[] gamma, float[] beta,
                             float eps, float[] out) {
        Checks.positive("addLayerNorm", "n", n);
        Checks.range("addLayerNorm", "x", x, firstRow * n, rows * n);
        if (residual != null) {
            Checks.range("addLayerNorm", "residual", residual, firstRow * n, rows * n);
        }
        Checks.range("addLayerNorm", "gamma", gamma, 0, n);
        Checks.range("addLayerNorm", "beta", beta, 0, n);
        Checks.range("addLayerNorm", "out", out, firstRow * n, rows * n);
        int vectorEnd = n - n % L;
        for (int r = firstRow; r < firstRow + rows; r++) {
            int base = r * n;
            // Pass 1: out = x + residual, and its sum.
            FloatVector sum0 = FloatVector.zero(S);
            FloatVector sum1 = FloatVector.zero(S);
            int i = 0;
            for (; i + 2 * L <= n; i += 2 * L) {
                FloatVector v0 = FloatVector.fromArray(S, x, base + i);
                FloatVector v1 = FloatVector.fromArray(S, x, base + i + L);
                if (residual != null) {
                    v0 = v0.add(FloatVector.fromArray(S, residual, base + i));
                    v1 = v1.add(FloatVector.fromArray(S, residual, base + i + L));
                }
                v0.intoArray(out, base + i);
                v1.intoArray(out, base + i + L);
                sum0 = sum0.add(v0);
                sum1 = sum1.add(v1);
            }
            for (; i < vectorEnd; i += L) {
                FloatVector v0 = FloatVector.fromArray(S, x, base + i);
                if (residual != null) {
                    v0 = v0.add(FloatVector.fromArray(S, residual, base + i));
                }
                v0.intoArray(out, base + i);
                sum0 = sum0.add(v0);
            }
            float sum = VectorWidth.sumLanes(sum0.add(sum1));
            for (; i < n; i++) {
                float value = residual == null ? x[base + i] : x[base + i] + residual[base + i];
                out[base + i] = value;
                sum += value;
            }
            float mean = sum / n;
            // Pass 2: variance about the mean.
            FloatVector squares0 = FloatVector.zero(S);
            FloatVector squares1 = FloatVector.zero(S);
            i = 0;
            for (; i + 2 * L <= n; i += 2 * L) {
                FloatVector c0 = FloatVector.fromArray(S, out, base + i).sub(mean);
                FloatVector c1 = FloatVector.fromArray(S, out, base + i + L).sub(mean);
                squares0 = c0.fma(c0, squares0);
                squares1 = c1.fma(c1, squares1);
            }
            for (; i < vectorEnd; i += L) {
                FloatVector c0 = FloatVector.fromArray(S, out, base + i).sub(mean);
                squares0 = c0.fma(c0, squares0);
            }
            float squares = VectorWidth.sumLanes(squares0.add(squares1));
            for (; i < n; i++) {
                float centered = out[base + i] - mean;
                squares = Math.fma(centered, centered, squares);
            }
            float rstd = (float) (1 / Math.sqrt(squares / n + eps));
            // Pass 3: out = (out - mean) * rstd * gamma + beta.
            i = 0;
            for (; i < vectorEnd; i += L) {
                FloatVector normalized = FloatVector.fromArray(S, out, base + i).sub(mean).mul(rstd);
                normalized.fma(FloatVector.fromArray(S, gamma, i), FloatVector.fromArray(S, beta, i))
                        .intoArray(out, base + i);
            }
            for (; i < n; i++) {
                out[base + i] = Math.fma((out[base + i] - mean) * rstd, gamma[i], beta[i]);
            }
        }
    }

    @Override
    public void softmax(float[] x, int off, int n) {
        Checks.range("softmax", "x", x, off, n);
        if (n > 0) {
            softmax(x, off, n, 1f);
        }
    }

    /** In-place {@code softmax(scale * x)} over x[off, off + n), n >= 1, scale > 0. */
    private static void softmax(float[] x, int off, int n, float scale) {
        int vectorEnd = n - n % L;
        FloatVector maxima = FloatVector.broadcast(S, Float.NEGATIVE_INFINITY);
        int i = 0;
        for (; i < vectorEnd; i += L) {
            maxima = maxima.max(FloatVector.fromArray(S, x, off + i));
        }
        float max = maxima.reduceLanes(VectorOperators.MAX);
        for (; i < n; i++) {
            max = Math.max(max, x[off + i]);
        }
        // scale > 0, so the max of scale * x is scale * max.
        float inverse = 1f / VectorMath.expSum(x, off, n, scale, -max * scale);
        for (i = 0; i < vectorEnd; i += L) {
            FloatVector.fromArray(S, x, off + i).mul(inverse).intoArray(x, off + i);
        }
        for (; i < n; i++) {
            x[off + i] *= inverse;
        }
    }

    @Override
    public float dot(float[] a, int aOff, float[] b, int bOff, int n) {
        Checks.range("dot", "a", a, aOff, n);
        Checks.range("dot", "b", b, bOff, n);
        FloatVector sum0 = FloatVector.zero(S);
        FloatVector sum1 = FloatVector.zero(S);
        FloatVector sum2 = FloatVector.zero(S);
        FloatVector sum3 = FloatVector.zero(S);
        int i = 0;
        for (; i + 4 * L <= n; i += 4 * L) {
            sum0 = FloatVector.fromArray(S, a, aOff + i).fma(FloatVector.fromArray(S, b, bOff + i), sum0);
            sum1 = FloatVector.fromArray(S, a, aOff + i + L).fma(FloatVector.fromArray(S, b, bOff + i + L), sum1);
            sum2 = FloatVector.fromArray(S, a, aOff + i + 2 * L).fma(FloatVector.fromArray(S, b, bOff + i + 2 * L), sum2);
            sum3 = FloatVector.fromArray(S, a, aOff + i + 3 * L).fma(FloatVector.fromArray(S, b, bOff + i + 3 * L), sum3);
        }
        for (; i + L <= n; i += L) {
            sum0 = FloatVector.fromArray(S, a, aOff + i).fma(FloatVector.fromArray(S, b, bOff + i), sum0);
        }
        float sum = VectorWidth.sumLanes(sum0.add(sum1).add(sum2.add(sum3)));
        for (; i < n; i++) {
            sum = Math.fma(a[aOff + i], b[bOff + i], sum);
        }
        return sum;
    }

    @Override
    public void axpy(float alpha, float[] x, int xOff, float[] y, int yOff, int n) {
        Checks.range("axpy", "x", x, xOff, n);
        Checks.range("axpy", "y", y, yOff, n);
        FloatVector alphas = FloatVector.broadcast(S, alpha);
        int i = 0;
        for (; i + L <= n; i += L) {
            FloatVector.fromArray(S, x, xOff + i).fma(alphas, FloatVector.fromArray(S, y, yOff + i))
                    .intoArray(y, yOff + i);
        }
        for (; i < n; i++) {
            y[yOff + i] = Math.fma(alpha, x[xOff + i], y[yOff + i]);
        }
    }

    @Override
    public void activate(Activation act, float[] x, int off, int n) {
        Checks.range("activate", "x", x, off, n);
        VectorMath.activate(act, x, off, n);
    }

    @Override
    public void l2Normalize(float[] x, int off, int n) {
        Checks.range("l2Normalize", "x", x, off, n);
        float squares = dot(x, off, x, off, n);
        if (squares == 0) {
            return;
        }
        float inverse = (float) (1 / Math.sqrt(squares));
        int i = 0;
        for (; i + L <= n; i += L) {
            FloatVector.fromArray(S, x, off + i).mul(inverse).intoArray(x, off + i);
        }
        for (; i < n; i++) {
            x[off + i] *= inverse;
        }
    }
}
