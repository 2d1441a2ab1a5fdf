package io.jembed.core.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.IntStream;
import java.util.stream.Stream;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

import io.jembed.core.kernels.Kernels.Activation;

/** {@link VectorKernels} against {@link ScalarKernels} at this JVM's vector width. */
class VectorKernelsTest {

    private static WorkerPool one;
    private static WorkerPool two;
    private static WorkerPool three;

    @BeforeAll
    static void startPools() {
        one = WorkerPool.create(1);
        two = WorkerPool.create(2);
        three = WorkerPool.create(3);
    }

    @AfterAll
    static void stopPools() {
        one.close();
        two.close();
        three.close();
    }

    static IntStream sizes() {
        return IntStream.of(KernelComparisons.SIZES);
    }

    @ParameterizedTest
    @MethodSource("sizes")
    void dot(int n) {
        KernelComparisons.dot(n, n);
    }

    @ParameterizedTest
    @MethodSource("sizes")
    void axpy(int n) {
        KernelComparisons.axpy(n, n);
    }

    @ParameterizedTest
    @MethodSource("sizes")
    void softmax(int n) {
        KernelComparisons.softmax(n, n);
    }

    @ParameterizedTest
    @MethodSource("sizes")
    void l2Normalize(int n) {
        KernelComparisons.l2Normalize(n, n);
    }

    @ParameterizedTest
    @MethodSource("sizes")
    void addLayerNorm(int n) {
        KernelComparisons.addLayerNorm(3, n, true, n);
        KernelComparisons.addLayerNorm(2, n, false, n + 1000);
    }

    static Stream<Arguments> activationsAndSizes() {
        List<Arguments> cases = new ArrayList<>();
        for (Activation act : Activation.values()) {
            for (int n : KernelComparisons.SIZES) {
                cases.add(Arguments.of(act, n));
            }
        }
        return cases.stream();
    }

    @ParameterizedTest
    @MethodSource("activationsAndSizes")
    void activate(Activation act, int n) {
        KernelComparisons.activate(act, n, n);
    }

    /** T = 1..13 reaches every register tile from 1 to 6 rows and their mixes; outs cut panels short. */
    @ParameterizedTest
    @EnumSource(Activation.class)
    void linearSmallShapes(Activation act) {
        long seed = act.ordinal() * 1000L;
        for (int T = 1; T <= 13; T++) {
            for (int[] shape : KernelComparisons.LINEAR_SHAPES) {
                KernelComparisons.linear(T, shape[0], shape[1], act, one, seed++);
                KernelComparisons.linear(T, shape[0], shape[1], act, three, seed++);
            }
        }
    }

    static Stream<Arguments> modelShapes() {
        List<Arguments> cases = new ArrayList<>();
        int[][] shapes = {{384, 384}, {384, 1536}, {1536, 384}, {383, 1537}};
        for (int T : new int[] {1, 8, 13, 100}) {
            for (int[] shape : shapes) {
                cases.add(Arguments.of(T, shape[0], shape[1]));
            }
        }
        return cases.stream();
    }

    /** The model's shapes (and one a column past them), split over 1, 2 and 3 threads. */
    @ParameterizedTest
    @MethodSource("modelShapes")
    void linearModelShapes(int T, int in, int out) {
        KernelComparisons.linear(T, in, out, Activation.NONE, one, T + in + out);
        KernelComparisons.linear(T, in, out, Activation.GELU, two, T + in + out + 1);
        KernelComparisons.linear(T, in, out, Activation.NONE, three, T + in + out + 2);
    }

    static Stream<Arguments> attentionShapes() {
        List<Arguments> cases = new ArrayList<>();
        for (int T : new int[] {1, 2, 3, 7, 17, 64, 256}) {
            // 64 reads v in place at every width; 40 and 7 leave a partial panel, packed.
            for (int d : new int[] {64, 40, 7}) {
                cases.add(Arguments.of(T, d));
            }
        }
        return cases.stream();
    }

    @ParameterizedTest
    @MethodSource("attentionShapes")
    void attention(int T, int d) {
        KernelComparisons.attention(T, d, 31L * T + d);
    }

    @Test
    void attentionIsBidirectional() {
        // Changing the last token's key and value must change the first token's output.
        int T = 5;
        int d = 8;
        int stride = 3 * d;
        float[] qkv = KernelComparisons.random(new java.util.SplittableRandom(7), T * stride, 1);
        float[] before = new float[T * d];
        float[] after = new float[T * d];
        float[] scratch = new float[VectorKernels.INSTANCE.attentionScratchSize(T, d)];
        VectorKernels.INSTANCE.attention(qkv, 0, qkv, d, qkv, 2 * d, stride, T, d, 0.35f, before, 0, d, scratch);
        for (int j = d; j < 3 * d; j++) {
            qkv[(T - 1) * stride + j] += 0.5f;
        }
        VectorKernels.INSTANCE.attention(qkv, 0, qkv, d, qkv, 2 * d, stride, T, d, 0.35f, after, 0, d, scratch);
        double change = 0;
        for (int j = 0; j < d; j++) {
            change += Math.abs(after[j] - before[j]);
        }
        assertTrue(change > 1e-3, "first token's output changed by only " + change);
    }

    @Test
    void softmaxOfEqualValuesIsUniform() {
        float[] x = new float[1537];
        Arrays.fill(x, 3.25f);
        VectorKernels.INSTANCE.softmax(x, 0, x.length);
        // Every exponent is exactly 0, so every e^0 is 1, the sum is exactly 1537 and each
        // probability is the float nearest 1/1537.
        for (int i = 0; i < x.length; i++) {
            assertEquals(1f / 1537, x[i], "p[" + i + "]");
        }
    }

    @Test
    void l2NormalizeLeavesZeroVectorZero() {
        float[] x = new float[33];
        VectorKernels.INSTANCE.l2Normalize(x, 0, x.length);
        for (float value : x) {
            assertEquals(0f, value);
        }
    }

    @Test
    void expMatchesMathExpWithinTwoUlp() {
        // Every 1/64 from -103 to 88.7, the range where exp is neither 0 nor infinite, then both ends.
        int n = (int) ((88.7f + 103f) * 64);
        float[] x = new float[n + 2];
        for (int i = 0; i < n; i++) {
            x[i] = -103f + i / 64f;
        }
        x[n] = -200f;
        x[n + 1] = 100f;
        float[] e = x.clone();
        float sum = VectorMath.expSum(e, 0, e.length, 1f, 0f);
        for (int i = 0; i < n; i++) {
            double expected = Math.exp(x[i]);
            // Results below 2^-126 are subnormal: their ulp is fixed at 2^-149.
            double ulp = Math.max(Math.ulp((float) expected), 0x1p-149);
            assertTrue(Math.abs(e[i] - expected) <= 2 * ulp, "exp(" + x[i] + "): expected " + expected + ", found " + e[i]);
        }
        assertEquals(0f, e[n], "exp(-200) underflows to 0");
        assertEquals(Float.POSITIVE_INFINITY, e[n + 1], "exp(100) overflows to infinity");
        assertEquals(Float.POSITIVE_INFINITY, sum);
        // The sum, over softmax's usual range, with its scale and shift: e^(0.5 y - 3), y in [-20, 20).
        float[] y = new float[2561];
        double expectedSum = 0;
        for (int i = 0; i < y.length; i++) {
            y[i] = -20f + i / 64f;
            expectedSum += Math.exp(0.5 * y[i] - 3);
        }
        float actualSum = VectorMath.expSum(y, 0, y.length, 0.5f, -3f);
        assertEquals(expectedSum, actualSum, (y.length + 8) * 0x1p-24 * expectedSum, "sum of e^(0.5 y - 3)");
    }

    @Test
    void linearRejectsLayerPackedForAnotherLayout() {
        PackedLinear scalarPacked = ScalarKernels.INSTANCE.pack(new float[6], null, 2, 3);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> VectorKernels.INSTANCE.linear(one, new float[3], 1, scalarPacked, Activation.NONE, new float[2]));
        assertTrue(e.getMessage().contains("panel width 1"), e.getMessage());
    }

    @Test
    void linearRejectsShortOutput() {
        PackedLinear packed = VectorKernels.INSTANCE.pack(new float[6], null, 2, 3);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> VectorKernels.INSTANCE.linear(one, new float[6], 2, packed, Activation.NONE, new float[3]));
        assertEquals("linear: expected y[0, 0 + 4) within its 3 floats, found it out of bounds", e.getMessage());
    }
}
