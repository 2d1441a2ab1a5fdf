package io.jembed.core.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.Arrays;
import java.util.SplittableRandom;

import io.jembed.core.kernels.Kernels.Activation;

/**
 * Vector kernels against the scalar oracle, one method per kernel, each failing with the first
 * element that diverges. {@link VectorKernelsTest} runs them at this JVM's vector width; {@link #main}
 * runs them in the child JVMs of {@link ForcedWidthTest} at other widths.
 *
 * <p>Tolerances follow the classic bound for a float sum of n terms, {@code |error| <= n u Σ|term|}
 * with unit roundoff u = 2^-24 (Higham, "Accuracy and Stability of Numerical Algorithms", 3.1):
 * a kernel may reorder and split its sums freely and still stays inside it, while an indexing
 * mistake is off by the size of a term. The scalar oracle sums in double, so its own error is
 * negligible.
 */
final class KernelComparisons {

    /** Unit roundoff of float: the relative error of one rounding. */
    static final double U = 0x1p-24;

    /** Roundings outside the main sum (bias, scaling, exp's polynomial, the final store). */
    static final int SLACK = 8;

    /**
     * Steepest slope of the activations (GELU's is 1.129 near x = 1.4): an error in a Linear
     * layer's sum reaches its output at most this much amplified.
     */
    static final double ACTIVATION_SLOPE = 1.13;

    /**
     * Activations against the oracle, relative to max(1, |x|): 8 ulp. The vector GELU rounds in
     * float through about ten steps (measured worst case 1.4e-7 max(1, |x|) against erf in high
     * precision, see {@link GeluAccuracyTest}); the oracle evaluates in double.
     */
    static final double ACTIVATION_TOLERANCE = 8 * U;

    /** A NaN payload no kernel produces: written past and between outputs, it must survive. */
    static final float SENTINEL = Float.intBitsToFloat(0x7fc0_dead);

    /** Sentinel floats after each output: more than two 512-bit vectors, and odd. */
    static final int PAD = 37;

    /** Lengths around every vector and panel boundary at 128, 256 and 512 bits. */
    static final int[] SIZES = {1, 2, 3, 7, 15, 16, 17, 31, 33, 127, 383, 384, 1536, 1537};

    static final Kernels SCALAR = ScalarKernels.INSTANCE;
    static final Kernels VECTOR = VectorKernels.INSTANCE;

    private KernelComparisons() {
    }

    static float[] random(SplittableRandom random, int n, double bound) {
        float[] values = new float[n];
        for (int i = 0; i < n; i++) {
            values[i] = (float) random.nextDouble(-bound, bound);
        }
        return values;
    }

    /** {@code n} floats of data at offset {@code off}, sentinels before and PAD after. */
    static float[] embedded(float[] data, int off) {
        float[] array = new float[off + data.length + PAD];
        Arrays.fill(array, SENTINEL);
        System.arraycopy(data, 0, array, off, data.length);
        return array;
    }

    static void assertSentinels(float[] array, int from, int to, String where) {
        for (int i = from; i < to; i++) {
            if (Float.floatToRawIntBits(array[i]) != Float.floatToRawIntBits(SENTINEL)) {
                fail(where + ": element " + i + " outside the output was overwritten with " + array[i]);
            }
        }
    }

    static void assertClose(double expected, double actual, double tolerance, String where) {
        if (!(Math.abs(expected - actual) <= tolerance)) {
            fail(where + ": expected " + expected + " (scalar), found " + actual + " (vector), difference "
                    + Math.abs(expected - actual) + " > tolerance " + tolerance);
        }
    }

    static void linear(int T, int in, int out, Activation act, WorkerPool pool, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        float[] x = random(random, T * in, 1);
        float[] weight = random(random, out * in, 1);
        float[] bias = random(random, out, 1);
        String shape = "linear T=" + T + " in=" + in + " out=" + out + " " + act + " threads=" + pool.threads();

        PackedLinear vectorPacked = VECTOR.pack(weight, bias, out, in);
        PackedLinear scalarPacked = SCALAR.pack(weight, bias, out, in);
        float[] expected = new float[T * out];
        SCALAR.linear(pool, x, T, scalarPacked, act, expected);
        // The scalar loop reads any panel width: the vector packing must hold the same numbers.
        float[] fromVectorPacking = new float[T * out];
        SCALAR.linear(pool, x, T, vectorPacked, act, fromVectorPacking);
        for (int i = 0; i < expected.length; i++) {
            assertEquals(Float.floatToRawIntBits(expected[i]), Float.floatToRawIntBits(fromVectorPacking[i]),
                    shape + ": scalar result from the vector packing differs at y[" + (i / out) + "][" + (i % out) + "]");
        }

        // Sentinels everywhere: every output must be written, and nothing past them.
        float[] actual = new float[T * out + PAD];
        Arrays.fill(actual, SENTINEL);
        VECTOR.linear(pool, x, T, vectorPacked, act, actual);
        for (int t = 0; t < T; t++) {
            for (int o = 0; o < out; o++) {
                double magnitude = Math.abs(bias[o]);
                for (int i = 0; i < in; i++) {
                    magnitude += Math.abs((double) x[t * in + i] * weight[o * in + i]);
                }
                double expectedValue = expected[t * out + o];
                double tolerance = ACTIVATION_SLOPE * (in + SLACK) * U * magnitude
                        + ACTIVATION_TOLERANCE * Math.max(1, Math.abs(expectedValue));
                assertClose(expectedValue, actual[t * out + o], tolerance, shape + " y[" + t + "][" + o + "]");
            }
        }
        assertSentinels(actual, T * out, actual.length, shape);
    }

    /**
     * One head of a fused [T, 3d]-like layout with awkward offsets and strides; out is strided
     * with sentinels between rows; scratch starts full of NaN.
     */
    static void attention(int T, int d, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        int stride = 3 * d + 5;
        int qOff = 2;
        int kOff = qOff + d;
        int vOff = kOff + d;
        float[] qkv = random(random, 2 + T * stride, 1);
        int outOff = 1;
        int outStride = d + 3;
        float scale = (float) (1 / Math.sqrt(d));
        String shape = "attention T=" + T + " d=" + d;

        float[] expected = new float[outOff + T * outStride];
        SCALAR.attention(qkv, qOff, qkv, kOff, qkv, vOff, stride, T, d, scale, expected, outOff, outStride,
                new float[SCALAR.attentionScratchSize(T, d)]);
        float[] actual = new float[outOff + T * outStride + PAD];
        Arrays.fill(actual, SENTINEL);
        float[] scratch = new float[VECTOR.attentionScratchSize(T, d)];
        Arrays.fill(scratch, Float.NaN);
        VECTOR.attention(qkv, qOff, qkv, kOff, qkv, vOff, stride, T, d, scale, actual, outOff, outStride, scratch);

        for (int t = 0; t < T; t++) {
            // Score error: a d-term sum of magnitude m; it shifts each probability by at most
            // twice itself, relatively. The softmax's own rounding (an exponent of at most 2m,
            // a T-term sum) and the T-term weighted sum of v add their n u terms.
            double m = 0;
            for (int s = 0; s < T; s++) {
                double sum = 0;
                for (int j = 0; j < d; j++) {
                    sum += Math.abs((double) qkv[qOff + t * stride + j] * qkv[kOff + s * stride + j]);
                }
                m = Math.max(m, scale * sum);
            }
            for (int j = 0; j < d; j++) {
                double maxV = 0;
                for (int s = 0; s < T; s++) {
                    maxV = Math.max(maxV, Math.abs(qkv[vOff + s * stride + j]));
                }
                double relative = (2 * (d + SLACK) * m + 4 * m + 2 * (T + SLACK)) * U;
                int at = outOff + t * outStride + j;
                assertClose(expected[at], actual[at], relative * maxV, shape + " out[" + t + "][" + j + "]");
            }
            int gapEnd = t + 1 < T ? outOff + (t + 1) * outStride : actual.length;
            assertSentinels(actual, outOff + t * outStride + d, gapEnd, shape);
        }
        assertSentinels(actual, 0, outOff, shape);
    }

    static void addLayerNorm(int rows, int n, boolean withResidual, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        float[] x = random(random, rows * n, 2);
        float[] residual = withResidual ? random(random, rows * n, 2) : null;
        float[] gamma = random(random, n, 1.5);
        float[] beta = random(random, n, 0.5);
        float eps = 1e-12f;
        String shape = "addLayerNorm rows=" + rows + " n=" + n + " residual=" + withResidual;

        float[] expected = new float[rows * n];
        SCALAR.addLayerNorm(x, residual, rows, n, gamma, beta, eps, expected);
        float[] actual = embedded(new float[rows * n], 0);
        VECTOR.addLayerNorm(x, residual, rows, n, gamma, beta, eps, actual);
        for (int r = 0; r < rows; r++) {
            double mean = 0;
            double maxAbs = 0;
            for (int i = 0; i < n; i++) {
                double value = x[r * n + i] + (residual == null ? 0 : residual[r * n + i]);
                mean += value / n;
                maxAbs = Math.max(maxAbs, Math.abs(value));
            }
            double variance = 0;
            for (int i = 0; i < n; i++) {
                double centered = x[r * n + i] + (residual == null ? 0 : residual[r * n + i]) - mean;
                variance += centered * centered / n;
            }
            double std = Math.sqrt(variance + eps);
            for (int i = 0; i < n; i++) {
                // The mean's error (an n-term sum of values up to maxAbs) shifts the normalised
                // value by up to n u maxAbs / std; the variance's relative error, at most about
                // 2 n u, scales it.
                double normalized = (x[r * n + i] + (residual == null ? 0 : residual[r * n + i]) - mean) / std;
                double tolerance = (n + SLACK) * U
                        * (Math.abs(gamma[i]) * (2 * Math.abs(normalized) + 2 * maxAbs / std) + Math.abs(beta[i]));
                assertClose(expected[r * n + i], actual[r * n + i], tolerance, shape + " out[" + r + "][" + i + "]");
            }
        }
        assertSentinels(actual, rows * n, actual.length, shape);

        // In place, as the encoder calls it: out aliases x.
        float[] inPlace = Arrays.copyOf(x, x.length);
        VECTOR.addLayerNorm(inPlace, residual, rows, n, gamma, beta, eps, inPlace);
        for (int i = 0; i < inPlace.length; i++) {
            assertEquals(actual[i], inPlace[i], shape + ": in place differs at " + i);
        }

        // One row range at a time, as the encoder splits a batch over threads: the same numbers
        // for those rows, and the rows outside the range untouched.
        for (Kernels kernels : new Kernels[] {SCALAR, VECTOR}) {
            float[] whole = kernels == SCALAR ? expected : actual;
            for (int first = 0; first < rows; first++) {
                float[] part = new float[rows * n];
                Arrays.fill(part, Float.NaN);
                kernels.addLayerNorm(x, residual, first, 1, n, gamma, beta, eps, part);
                for (int i = 0; i < rows * n; i++) {
                    boolean inRange = i / n == first;
                    if (inRange) {
                        assertEquals(whole[i], part[i], shape + " " + kernels.name() + " row " + first + ": differs at " + i);
                    } else {
                        assertTrue(Float.isNaN(part[i]), shape + " " + kernels.name() + " row " + first
                                + ": wrote outside its range at " + i);
                    }
                }
            }
        }
    }

    static void softmax(int n, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        float[] data = random(random, n, 10);
        String shape = "softmax n=" + n;
        int off = 3;
        float[] expected = Arrays.copyOf(data, n);
        SCALAR.softmax(expected, 0, n);
        float[] actual = embedded(data, off);
        VECTOR.softmax(actual, off, n);
        double min = Double.POSITIVE_INFINITY;
        double max = Double.NEGATIVE_INFINITY;
        for (float value : data) {
            min = Math.min(min, value);
            max = Math.max(max, value);
        }
        for (int i = 0; i < n; i++) {
            // Relative error: the exponent's rounding (up to its size, max - min), exp's own few
            // ulp, and the n-term sum of the normaliser.
            double tolerance = (2 * (max - min) + n + SLACK) * U * expected[i];
            assertClose(expected[i], actual[off + i], tolerance, shape + " p[" + i + "]");
        }
        assertSentinels(actual, 0, off, shape);
        assertSentinels(actual, off + n, actual.length, shape);
    }

    static void dot(int n, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        float[] a = random(random, n + 5, 1);
        float[] b = random(random, n + 2, 1);
        double magnitude = 0;
        for (int i = 0; i < n; i++) {
            magnitude += Math.abs((double) a[5 + i] * b[2 + i]);
        }
        assertClose(SCALAR.dot(a, 5, b, 2, n), VECTOR.dot(a, 5, b, 2, n), (n + SLACK) * U * magnitude, "dot n=" + n);
    }

    static void axpy(int n, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        float[] x = random(random, n, 1);
        float[] y = random(random, n, 1);
        float alpha = 0.37f;
        String shape = "axpy n=" + n;
        float[] expected = Arrays.copyOf(y, n);
        SCALAR.axpy(alpha, x, 0, expected, 0, n);
        float[] actual = embedded(y, 4);
        VECTOR.axpy(alpha, embedded(x, 1), 1, actual, 4, n);
        for (int i = 0; i < n; i++) {
            // One or two roundings of y + alpha x on each side.
            double tolerance = 2 * U * (Math.abs(y[i]) + Math.abs(alpha * x[i]));
            assertClose(expected[i], actual[4 + i], tolerance, shape + " y[" + i + "]");
        }
        assertSentinels(actual, 0, 4, shape);
        assertSentinels(actual, 4 + n, actual.length, shape);
    }

    static void activate(Activation act, int n, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        // [-12, 12] reaches both branches of the erf approximation and its clamp.
        float[] data = random(random, n, 12);
        String shape = "activate " + act + " n=" + n;
        float[] expected = Arrays.copyOf(data, n);
        SCALAR.activate(act, expected, 0, n);
        float[] actual = embedded(data, 5);
        VECTOR.activate(act, actual, 5, n);
        for (int i = 0; i < n; i++) {
            double tolerance = ACTIVATION_TOLERANCE * Math.max(1, Math.abs(data[i]));
            assertClose(expected[i], actual[5 + i], tolerance, shape + " x[" + i + "]=" + data[i]);
        }
        assertSentinels(actual, 0, 5, shape);
        assertSentinels(actual, 5 + n, actual.length, shape);
    }

    static void l2Normalize(int n, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        float[] data = random(random, n, 3);
        String shape = "l2Normalize n=" + n;
        float[] expected = Arrays.copyOf(data, n);
        SCALAR.l2Normalize(expected, 0, n);
        float[] actual = embedded(data, 2);
        VECTOR.l2Normalize(actual, 2, n);
        for (int i = 0; i < n; i++) {
            // The n-term sum of squares, its square root and the scaling.
            double tolerance = (n + SLACK) * U * Math.abs(expected[i]);
            assertClose(expected[i], actual[2 + i], tolerance, shape + " x[" + i + "]");
        }
        assertSentinels(actual, 0, 2, shape);
        assertSentinels(actual, 2 + n, actual.length, shape);
    }

    /** Linear shapes: every row count of the tile decomposition, columns past a panel boundary. */
    static final int[][] LINEAR_SHAPES = {{7, 17}, {33, 31}, {64, 96}, {127, 33}, {1, 1}, {3, 65}};

    /** Every comparison once; returns how many ran. */
    static int runAll() {
        int checks = 0;
        long seed = 1;
        for (int n : SIZES) {
            dot(n, seed++);
            axpy(n, seed++);
            softmax(n, seed++);
            l2Normalize(n, seed++);
            addLayerNorm(3, n, true, seed++);
            for (Activation act : Activation.values()) {
                activate(act, n, seed++);
                checks++;
            }
            checks += 5;
        }
        try (WorkerPool one = WorkerPool.create(1); WorkerPool three = WorkerPool.create(3)) {
            for (Activation act : Activation.values()) {
                for (int T = 1; T <= 13; T++) {
                    for (int[] shape : LINEAR_SHAPES) {
                        linear(T, shape[0], shape[1], act, T % 2 == 0 ? three : one, seed++);
                        checks++;
                    }
                }
                linear(8, 384, 384, act, three, seed++);
                linear(37, 383, 1537, act, three, seed++);
                checks += 2;
            }
        }
        for (int T : new int[] {1, 2, 3, 7, 17, 64, 256}) {
            for (int d : new int[] {64, 40, 7}) {
                attention(T, d, seed++);
                checks++;
            }
        }
        return checks;
    }

    /** Entry point of the child JVMs in {@link ForcedWidthTest}; exit status 1 on the first failure. */
    public static void main(String[] args) {
        try {
            int checks = runAll();
            System.out.println("kernel comparisons at " + VECTOR.name() + ": " + checks + " passed");
        } catch (AssertionError e) {
            System.out.println("kernel comparisons at " + VECTOR.name() + " failed: " + e.getMessage());
            e.printStackTrace(System.out);
            System.exit(1);
        }
    }
}
