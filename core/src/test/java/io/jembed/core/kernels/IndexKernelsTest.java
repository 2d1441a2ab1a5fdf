package io.jembed.core.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class IndexKernelsTest {

    /** Awkward lengths around every vector width, plus the model's 384 and a wide 1536. */
    static final int[] SIZES = {1, 2, 3, 7, 15, 16, 17, 31, 33, 127, 383, 384, 1536, 1537};
    /** Row counts around the 4-row and 2-row unrolling. */
    static final int[] ROW_COUNTS = {0, 1, 2, 3, 4, 5, 7, 9};
    static final float SENTINEL = -12345.5f;
    /** Bytes before each block, odd so that every load is unaligned. */
    static final long BLOCK_OFFSET = 3;

    /**
     * Two summation orders of n products differ by at most 2·n·u·sum|a_i·b_i| (the forward error
     * bound of recursive summation, u = 2^-24), so that is the tolerance, scaled by sum|a_i·b_i|.
     */
    static float tolerance(int n, double sumOfAbsProducts) {
        return (float) (2.0 * n * Math.scalb(1.0, -24) * sumOfAbsProducts) + Float.MIN_NORMAL;
    }

    static final IndexKernels SCALAR = IndexKernels.scalar();

    @Test
    void chosenImplementationIsVectorWhenModulePresent() {
        assertTrue(IndexKernels.vectorAvailable(), "tests run with --add-modules=jdk.incubator.vector");
        assertEquals(IndexKernels.vector().name(), IndexKernels.get().name());
    }

    @Test
    void vectorMatchesScalarAtThisWidth() {
        compareAll(IndexKernels.vector());
    }

    @Test
    void scalarDotRowsAreTheTextbookSum() {
        float[] q = {1, 2, 3};
        MemorySegment rows = floats(new float[] {1, 1, 1, 0.5f, -1, 2});
        float[] scores = new float[2];
        SCALAR.dotRows(q, 0, rows, 0, 2, 3, scores, 0);
        assertEquals(6f, scores[0]);
        assertEquals(0.5f - 2f + 6f, scores[1]);
    }

    @Test
    void rowBlockPastTheSegmentIsRejected() {
        MemorySegment rows = floats(new float[8]);
        float[] scores = new float[3];
        IndexOutOfBoundsException e = assertThrows(IndexOutOfBoundsException.class,
                () -> IndexKernels.vector().dotRows(new float[4], 0, rows, 0, 3, 4, scores, 0));
        assertEquals("row block: expected 3 rows of 16 bytes from byte 0, found a segment of 32 bytes", e.getMessage());
    }

    /** The vector code at each width, in a JVM of its own: the species is fixed per JVM. */
    @ParameterizedTest
    @ValueSource(ints = {128, 256, 512})
    void vectorMatchesScalarAtForcedWidth(int bits) throws IOException, InterruptedException {
        String java = ProcessHandle.current().info().command().orElseThrow();
        List<String> command = new ArrayList<>(List.of(java, "--add-modules=jdk.incubator.vector",
                "-D" + IndexKernels.BITS_PROPERTY + "=" + bits,
                "-cp", System.getProperty("java.class.path"), ForcedWidth.class.getName()));
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(process.waitFor(120, TimeUnit.SECONDS), "forced-width JVM did not finish");
        assertEquals(0, process.exitValue(), "forced width " + bits + " failed:\n" + output);
        assertTrue(output.contains("vector(" + bits + "-bit) ok"), output);
    }

    /** Entry point of the forced-width JVM. */
    public static final class ForcedWidth {
        public static void main(String[] args) {
            IndexKernels vector = IndexKernels.vector();
            compareAll(vector);
            System.out.println(vector.name() + " ok");
        }
    }

    static void compareAll(IndexKernels vector) {
        Random random = new Random(42);
        for (int n : SIZES) {
            compareDot(vector, random, n);
            for (int rowCount : ROW_COUNTS) {
                compareDotRows(vector, random, n, rowCount);
                compareInt8(vector, random, n, rowCount);
            }
            for (int queryCount = 1; queryCount <= 9; queryCount++) {
                compareDotRowsMulti(vector, random, n, queryCount, 5);
            }
            compareSum(vector, random, n);
        }
    }

    static void compareDot(IndexKernels vector, Random random, int n) {
        float[] a = randomFloats(random, n + 2);
        float[] b = randomFloats(random, n + 5);
        float expected = SCALAR.dot(a, 2, b, 5, n);
        float found = vector.dot(a, 2, b, 5, n);
        check(Math.abs(found - expected) <= tolerance(n, absDot(a, 2, b, 5, n)),
                "dot n=" + n + ": expected " + expected + ", found " + found);
    }

    static void compareDotRows(IndexKernels vector, Random random, int dim, int rowCount) {
        float[] q = randomFloats(random, dim + 1);
        float[] data = randomFloats(random, dim * rowCount);
        MemorySegment rows = block(data);
        float[] expected = new float[rowCount];
        SCALAR.dotRows(q, 1, rows, BLOCK_OFFSET, rowCount, dim, expected, 0);
        float[] found = sentinels(rowCount + 2);
        vector.dotRows(q, 1, rows, BLOCK_OFFSET, rowCount, dim, found, 1);
        checkSentinels(found, 1, rowCount, "dotRows dim=" + dim + " rows=" + rowCount);
        for (int r = 0; r < rowCount; r++) {
            float one = vector.dot(q, 1, rows, BLOCK_OFFSET + 4L * dim * r, dim);
            check(Float.floatToIntBits(one) == Float.floatToIntBits(found[1 + r]),
                    "dotRows dim=" + dim + " row " + r + " of " + rowCount + ": single-row dot " + one
                            + " differs from block dot " + found[1 + r]);
            double abs = absDot(q, 1, data, r * dim, dim);
            check(Math.abs(found[1 + r] - expected[r]) <= tolerance(dim, abs), "dotRows dim=" + dim + " row " + r
                    + " of " + rowCount + ": expected " + expected[r] + ", found " + found[1 + r]);
        }
    }

    static void compareDotRowsMulti(IndexKernels vector, Random random, int dim, int queryCount, int rowCount) {
        float[] queries = randomFloats(random, 3 + queryCount * dim);
        MemorySegment rows = block(randomFloats(random, dim * rowCount));
        float[] found = sentinels(queryCount * rowCount + 1);
        vector.dotRowsMulti(queries, 3, queryCount, rows, BLOCK_OFFSET, rowCount, dim, found);
        check(found[queryCount * rowCount] == SENTINEL, "dotRowsMulti dim=" + dim + " queries=" + queryCount
                + ": wrote past the last score");
        float[] single = new float[rowCount];
        for (int j = 0; j < queryCount; j++) {
            vector.dotRows(queries, 3 + j * dim, rows, BLOCK_OFFSET, rowCount, dim, single, 0);
            for (int r = 0; r < rowCount; r++) {
                check(Float.floatToIntBits(single[r]) == Float.floatToIntBits(found[j * rowCount + r]),
                        "dotRowsMulti dim=" + dim + " queries=" + queryCount + " query " + j + " row " + r
                                + ": expected dotRows' " + single[r] + ", found " + found[j * rowCount + r]);
            }
        }
    }

    static void compareInt8(IndexKernels vector, Random random, int dim, int rowCount) {
        byte[] codes = new byte[dim * rowCount];
        for (int i = 0; i < codes.length; i++) {
            codes[i] = (byte) (random.nextInt(255) - 127);
        }
        MemorySegment block = Arena.ofAuto().allocate(BLOCK_OFFSET + codes.length + 1);
        MemorySegment.copy(codes, 0, block, ValueLayout.JAVA_BYTE, BLOCK_OFFSET, codes.length);
        // Small whole-number queries make every partial sum exact, so both orders agree exactly.
        float[] wholeQuery = new float[dim];
        for (int i = 0; i < dim; i++) {
            wholeQuery[i] = random.nextInt(7) - 3;
        }
        float[] expected = new float[rowCount];
        float[] found = sentinels(rowCount + 2);
        SCALAR.dotRowsInt8(wholeQuery, 0, block, BLOCK_OFFSET, rowCount, dim, expected, 0);
        vector.dotRowsInt8(wholeQuery, 0, block, BLOCK_OFFSET, rowCount, dim, found, 1);
        checkSentinels(found, 1, rowCount, "dotRowsInt8 dim=" + dim + " rows=" + rowCount);
        for (int r = 0; r < rowCount; r++) {
            check(expected[r] == found[1 + r], "dotRowsInt8 whole query dim=" + dim + " row " + r + ": expected "
                    + expected[r] + ", found " + found[1 + r]);
        }
        float[] q = randomFloats(random, dim);
        SCALAR.dotRowsInt8(q, 0, block, BLOCK_OFFSET, rowCount, dim, expected, 0);
        vector.dotRowsInt8(q, 0, block, BLOCK_OFFSET, rowCount, dim, found, 1);
        for (int r = 0; r < rowCount; r++) {
            double abs = 0;
            for (int i = 0; i < dim; i++) {
                abs += Math.abs(q[i] * codes[r * dim + i]);
            }
            check(Math.abs(found[1 + r] - expected[r]) <= tolerance(dim, abs), "dotRowsInt8 dim=" + dim + " row "
                    + r + ": expected " + expected[r] + ", found " + found[1 + r]);
        }
    }

    static void compareSum(IndexKernels vector, Random random, int n) {
        float[] data = randomFloats(random, n * 5);
        MemorySegment segment = block(data);
        double expected = SCALAR.sum(segment, BLOCK_OFFSET, data.length);
        double found = vector.sum(segment, BLOCK_OFFSET, data.length);
        double abs = 0;
        for (float x : data) {
            abs += Math.abs(x);
        }
        check(Math.abs(found - expected) <= tolerance(data.length, abs),
                "sum n=" + data.length + ": expected " + expected + ", found " + found);
    }

    static float[] randomFloats(Random random, int n) {
        float[] values = new float[n];
        for (int i = 0; i < n; i++) {
            values[i] = (float) random.nextGaussian();
        }
        return values;
    }

    static double absDot(float[] a, int aOff, float[] b, int bOff, int n) {
        double sum = 0;
        for (int i = 0; i < n; i++) {
            sum += Math.abs((double) a[aOff + i] * b[bOff + i]);
        }
        return sum;
    }

    static MemorySegment floats(float[] values) {
        MemorySegment segment = Arena.ofAuto().allocate(4L * values.length);
        MemorySegment.copy(values, 0, segment, IndexKernels.FLOAT_LE, 0, values.length);
        return segment;
    }

    /** The values BLOCK_OFFSET bytes into a segment that ends exactly after them. */
    static MemorySegment block(float[] values) {
        MemorySegment segment = Arena.ofAuto().allocate(BLOCK_OFFSET + 4L * values.length);
        MemorySegment.copy(values, 0, segment, IndexKernels.FLOAT_LE, BLOCK_OFFSET, values.length);
        return segment;
    }

    static float[] sentinels(int n) {
        float[] values = new float[n];
        java.util.Arrays.fill(values, SENTINEL);
        return values;
    }

    static void checkSentinels(float[] scores, int offset, int count, String where) {
        check(scores[offset - 1] == SENTINEL, where + ": wrote before the first score");
        check(scores[offset + count] == SENTINEL, where + ": wrote past the last score");
    }

    /** An assertion usable from the forced-width JVM's main, where JUnit is on the class path too. */
    static void check(boolean condition, String message) {
        if (!condition) {
            throw new AssertionError(message);
        }
    }
}
