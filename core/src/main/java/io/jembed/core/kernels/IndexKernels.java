package io.jembed.core.kernels;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Locale;
import java.util.Objects;
import java.util.logging.Logger;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * The scans of a flat vector index: dot products of one or several queries with the rows of a
 * row-major block in a {@link MemorySegment} (off-heap memory, or a mapped safetensors file).
 *
 * <p>Shape symbols: {@code dim} values per row; a block holds {@code rowCount} rows, row r starting
 * {@code r * dim * 4} bytes (fp32) or {@code r * dim} bytes (int8) after the block's offset. Floats
 * in segments are little-endian, as safetensors stores them.
 *
 * <p>Two implementations: {@link Scalar}, the textbook loops that serve as the test oracle, and
 * {@link Vector} on {@code jdk.incubator.vector}. {@link #get()} picks one once per JVM: vector if
 * the module is present and its preferred float width is at least 128 bits, else scalar. The same
 * system properties as the encoder's kernels force the choice: {@value #KERNELS_PROPERTY}
 * ({@code scalar} or {@code vector}) and {@value #BITS_PROPERTY} (128, 256 or 512, the width).
 *
 * <p><b>Determinism.</b> Within one implementation every score is computed the same way: one
 * accumulator per (query, row) pair over the full-width chunks, its lanes summed in a fixed tree,
 * then the scalar tail added term by term. A row's score therefore does not depend on which kernel,
 * thread, tile or JIT tier computed it, and equal rows tie exactly (the index breaks ties by
 * position). {@code reduceLanes(ADD)} is avoided because its order may differ between the
 * interpreter and C2.
 */
public abstract sealed class IndexKernels permits IndexKernels.Scalar, IndexKernels.Vector {

    /** System property forcing {@code scalar} or {@code vector} (shared with {@link KernelsProvider}). */
    public static final String KERNELS_PROPERTY = KernelsProvider.PROPERTY;
    /** System property forcing the vector width in bits, 128, 256 or 512 (shared with the encoder's kernels). */
    public static final String BITS_PROPERTY = VectorWidth.PROPERTY;

    static final ValueLayout.OfFloat FLOAT_LE = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    IndexKernels() {
    }

    /** The implementation chosen once for this JVM (see the class comment). */
    public static IndexKernels get() {
        return Chosen.INSTANCE;
    }

    /** The scalar oracle. */
    public static IndexKernels scalar() {
        return Scalar.INSTANCE;
    }

    /** Whether the Vector API module is present and its preferred float width is at least 128 bits. */
    public static boolean vectorAvailable() {
        return ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent()
                && FloatVector.SPECIES_PREFERRED.vectorBitSize() >= 128;
    }

    /**
     * The Vector API implementation at this JVM's width ({@value #BITS_PROPERTY}, else the
     * preferred one).
     *
     * @throws IllegalStateException if the module is missing or narrower than 128 bits
     */
    public static IndexKernels vector() {
        if (!vectorAvailable()) {
            throw new IllegalStateException("index kernels: the Vector API is unavailable (expected module "
                    + "jdk.incubator.vector with a preferred width of at least 128 bits); run with "
                    + "--add-modules=jdk.incubator.vector or use IndexKernels.scalar()");
        }
        return Vector.INSTANCE;
    }

    /** Short name for logs and benchmark labels, e.g. "scalar" or "vector(512-bit)". */
    public abstract String name();

    /** {@code sum(a[aOff + i] * b[bOff + i])} for i in [0, n). */
    public abstract float dot(float[] a, int aOff, float[] b, int bOff, int n);

    /** {@code sum(q[qOff + i] * row[i])} for i in [0, dim), the row's floats starting at byte rowOffset. */
    public abstract float dot(float[] q, int qOff, MemorySegment rows, long rowOffset, int dim);

    /**
     * {@code scores[scoresOff + r] = dot(q, row r)} for r in [0, rowCount): one query against a
     * block of fp32 rows starting at byte {@code rowsOffset}. Scores equal {@link #dot(float[], int,
     * MemorySegment, long, int)} bit for bit.
     */
    public abstract void dotRows(float[] q, int qOff, MemorySegment rows, long rowsOffset, int rowCount, int dim,
                                 float[] scores, int scoresOff);

    /**
     * {@code scores[j * rowCount + r] = dot(query j, row r)} for j in [0, queryCount) and r in
     * [0, rowCount): several queries (query j at {@code queries[qOff + j * dim]}) against one block
     * of fp32 rows, each row chunk loaded once per group of queries. Scores equal {@link #dotRows}
     * bit for bit.
     */
    public abstract void dotRowsMulti(float[] queries, int qOff, int queryCount, MemorySegment rows, long rowsOffset,
                                      int rowCount, int dim, float[] scores);

    /**
     * {@code scores[scoresOff + r] = sum(q[qOff + i] * codes[r * dim + i])} for r in [0, rowCount):
     * one fp32 query against a block of int8 rows starting at byte {@code codesOffset}, before the
     * rows' scales are applied.
     */
    public abstract void dotRowsInt8(float[] q, int qOff, MemorySegment codes, long codesOffset, int rowCount, int dim,
                                     float[] scores, int scoresOff);

    /**
     * Sum of {@code count} little-endian floats from byte {@code offset}: a streaming read that
     * measures the memory bandwidth a scan of the same bytes could reach.
     */
    public abstract double sum(MemorySegment data, long offset, long count);

    static void checkBlock(MemorySegment block, long offset, long rowCount, long rowBytes) {
        Objects.requireNonNull(block, "block");
        if (rowCount < 0 || offset < 0 || offset + rowCount * rowBytes > block.byteSize()) {
            throw new IndexOutOfBoundsException("row block: expected " + rowCount + " rows of " + rowBytes
                    + " bytes from byte " + offset + ", found a segment of " + block.byteSize() + " bytes");
        }
    }

    /** The textbook loops: the oracle the vector implementation is tested against. */
    public static final class Scalar extends IndexKernels {

        static final Scalar INSTANCE = new Scalar();

        private Scalar() {
        }

        @Override
        public String name() {
            return "scalar";
        }

        @Override
        public float dot(float[] a, int aOff, float[] b, int bOff, int n) {
            Objects.checkFromIndexSize(aOff, n, a.length);
            Objects.checkFromIndexSize(bOff, n, b.length);
            float sum = 0f;
            for (int i = 0; i < n; i++) {
                sum += a[aOff + i] * b[bOff + i];
            }
            return sum;
        }

        @Override
        public float dot(float[] q, int qOff, MemorySegment rows, long rowOffset, int dim) {
            Objects.checkFromIndexSize(qOff, dim, q.length);
            checkBlock(rows, rowOffset, 1, 4L * dim);
            float sum = 0f;
            for (int i = 0; i < dim; i++) {
                sum += q[qOff + i] * rows.get(FLOAT_LE, rowOffset + 4L * i);
            }
            return sum;
        }

        @Override
        public void dotRows(float[] q, int qOff, MemorySegment rows, long rowsOffset, int rowCount, int dim,
                            float[] scores, int scoresOff) {
            Objects.checkFromIndexSize(scoresOff, rowCount, scores.length);
            for (int r = 0; r < rowCount; r++) {
                scores[scoresOff + r] = dot(q, qOff, rows, rowsOffset + 4L * dim * r, dim);
            }
        }

        @Override
        public void dotRowsMulti(float[] queries, int qOff, int queryCount, MemorySegment rows, long rowsOffset,
                                 int rowCount, int dim, float[] scores) {
            Objects.checkFromIndexSize(0, (long) queryCount * rowCount, scores.length);
            for (int j = 0; j < queryCount; j++) {
                dotRows(queries, qOff + j * dim, rows, rowsOffset, rowCount, dim, scores, j * rowCount);
            }
        }

        @Override
        public void dotRowsInt8(float[] q, int qOff, MemorySegment codes, long codesOffset, int rowCount, int dim,
                                float[] scores, int scoresOff) {
            Objects.checkFromIndexSize(qOff, dim, q.length);
            Objects.checkFromIndexSize(scoresOff, rowCount, scores.length);
            checkBlock(codes, codesOffset, rowCount, dim);
            for (int r = 0; r < rowCount; r++) {
                long row = codesOffset + (long) dim * r;
                float sum = 0f;
                for (int i = 0; i < dim; i++) {
                    sum += q[qOff + i] * codes.get(ValueLayout.JAVA_BYTE, row + i);
                }
                scores[scoresOff + r] = sum;
            }
        }

        @Override
        public double sum(MemorySegment data, long offset, long count) {
            checkBlock(data, offset, count, 4);
            double sum = 0;
            for (long i = 0; i < count; i++) {
                sum += data.get(FLOAT_LE, offset + 4 * i);
            }
            return sum;
        }
    }

    /**
     * Vector API implementation. The species is a static final because C2 compiles Vector API
     * calls to SIMD instructions only when the species is a constant; so the width is fixed per JVM.
     */
    public static final class Vector extends IndexKernels {

        static final Vector INSTANCE = new Vector();

        private static final VectorSpecies<Float> F = VectorWidth.SPECIES;
        private static final int LANES = F.length();
        // int8 rows are loaded LANES bytes at a time, but never fewer than 8 (the narrowest byte
        // species is 64 bits): with 4 float lanes one byte load converts in two parts.
        private static final VectorSpecies<Byte> B = VectorSpecies.of(byte.class,
                VectorShape.forBitSize(Math.max(64, LANES * 8)));
        private static final int BYTE_PARTS = B.length() / LANES;
        private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;

        private Vector() {
        }

        /** Sum of the lanes in a fixed tree: the same result in the interpreter and in C2. */
        private static float sumLanes(FloatVector v) {
            return VectorWidth.sumLanes(v);
        }

        /** Adds the scalar tail terms of an fp32 row one by one onto the lane sum. */
        private static float finish(float sum, float[] q, int qOff, MemorySegment rows, long row, int bound, int dim) {
            for (int i = bound; i < dim; i++) {
                sum += q[qOff + i] * rows.get(FLOAT_LE, row + 4L * i);
            }
            return sum;
        }

        /** Adds the scalar tail terms of an int8 row one by one onto the lane sum. */
        private static float finishInt8(float sum, float[] q, int qOff, MemorySegment codes, long row, int bound,
                                        int dim) {
            for (int i = bound; i < dim; i++) {
                sum += q[qOff + i] * codes.get(ValueLayout.JAVA_BYTE, row + i);
            }
            return sum;
        }

        @Override
        public String name() {
            return "vector(" + F.vectorBitSize() + "-bit)";
        }

        @Override
        public float dot(float[] a, int aOff, float[] b, int bOff, int n) {
            Objects.checkFromIndexSize(aOff, n, a.length);
            Objects.checkFromIndexSize(bOff, n, b.length);
            int bound = F.loopBound(n);
            FloatVector acc = FloatVector.zero(F);
            for (int i = 0; i < bound; i += LANES) {
                acc = FloatVector.fromArray(F, a, aOff + i).fma(FloatVector.fromArray(F, b, bOff + i), acc);
            }
            float sum = sumLanes(acc);
            for (int i = bound; i < n; i++) {
                sum += a[aOff + i] * b[bOff + i];
            }
            return sum;
        }

        @Override
        public float dot(float[] q, int qOff, MemorySegment rows, long rowOffset, int dim) {
            Objects.checkFromIndexSize(qOff, dim, q.length);
            checkBlock(rows, rowOffset, 1, 4L * dim);
            return dotRow(q, qOff, rows, rowOffset, dim);
        }

        private static float dotRow(float[] q, int qOff, MemorySegment rows, long row, int dim) {
            int bound = F.loopBound(dim);
            FloatVector acc = FloatVector.zero(F);
            for (int i = 0; i < bound; i += LANES) {
                FloatVector x = FloatVector.fromMemorySegment(F, rows, row + 4L * i, LE);
                acc = FloatVector.fromArray(F, q, qOff + i).fma(x, acc);
            }
            return finish(sumLanes(acc), q, qOff, rows, row, bound, dim);
        }

        @Override
        public void dotRows(float[] q, int qOff, MemorySegment rows, long rowsOffset, int rowCount, int dim,
                            float[] scores, int scoresOff) {
            Objects.checkFromIndexSize(qOff, dim, q.length);
            Objects.checkFromIndexSize(scoresOff, rowCount, scores.length);
            checkBlock(rows, rowsOffset, rowCount, 4L * dim);
            long rowBytes = 4L * dim;
            int bound = F.loopBound(dim);
            int r = 0;
            // Four rows at a time: four independent FMA chains hide the FMA latency while each
            // score keeps its single accumulator (see the class comment on determinism).
            for (; r + 4 <= rowCount; r += 4) {
                long row0 = rowsOffset + rowBytes * r;
                long row1 = row0 + rowBytes;
                long row2 = row1 + rowBytes;
                long row3 = row2 + rowBytes;
                FloatVector acc0 = FloatVector.zero(F);
                FloatVector acc1 = FloatVector.zero(F);
                FloatVector acc2 = FloatVector.zero(F);
                FloatVector acc3 = FloatVector.zero(F);
                for (int i = 0; i < bound; i += LANES) {
                    FloatVector qv = FloatVector.fromArray(F, q, qOff + i);
                    long at = 4L * i;
                    acc0 = qv.fma(FloatVector.fromMemorySegment(F, rows, row0 + at, LE), acc0);
                    acc1 = qv.fma(FloatVector.fromMemorySegment(F, rows, row1 + at, LE), acc1);
                    acc2 = qv.fma(FloatVector.fromMemorySegment(F, rows, row2 + at, LE), acc2);
                    acc3 = qv.fma(FloatVector.fromMemorySegment(F, rows, row3 + at, LE), acc3);
                }
                scores[scoresOff + r] = finish(sumLanes(acc0), q, qOff, rows, row0, bound, dim);
                scores[scoresOff + r + 1] = finish(sumLanes(acc1), q, qOff, rows, row1, bound, dim);
                scores[scoresOff + r + 2] = finish(sumLanes(acc2), q, qOff, rows, row2, bound, dim);
                scores[scoresOff + r + 3] = finish(sumLanes(acc3), q, qOff, rows, row3, bound, dim);
            }
            for (; r < rowCount; r++) {
                scores[scoresOff + r] = dotRow(q, qOff, rows, rowsOffset + rowBytes * r, dim);
            }
        }

        @Override
        public void dotRowsMulti(float[] queries, int qOff, int queryCount, MemorySegment rows, long rowsOffset,
                                 int rowCount, int dim, float[] scores) {
            Objects.checkFromIndexSize(qOff, (long) queryCount * dim, queries.length);
            Objects.checkFromIndexSize(0, (long) queryCount * rowCount, scores.length);
            checkBlock(rows, rowsOffset, rowCount, 4L * dim);
            long rowBytes = 4L * dim;
            int bound = F.loopBound(dim);
            int j = 0;
            // Four queries against one row: each row chunk is loaded once for four FMA chains.
            for (; j + 4 <= queryCount; j += 4) {
                int q0 = qOff + j * dim;
                int q1 = q0 + dim;
                int q2 = q1 + dim;
                int q3 = q2 + dim;
                for (int r = 0; r < rowCount; r++) {
                    long row = rowsOffset + rowBytes * r;
                    FloatVector acc0 = FloatVector.zero(F);
                    FloatVector acc1 = FloatVector.zero(F);
                    FloatVector acc2 = FloatVector.zero(F);
                    FloatVector acc3 = FloatVector.zero(F);
                    for (int i = 0; i < bound; i += LANES) {
                        FloatVector x = FloatVector.fromMemorySegment(F, rows, row + 4L * i, LE);
                        acc0 = FloatVector.fromArray(F, queries, q0 + i).fma(x, acc0);
                        acc1 = FloatVector.fromArray(F, queries, q1 + i).fma(x, acc1);
                        acc2 = FloatVector.fromArray(F, queries, q2 + i).fma(x, acc2);
                        acc3 = FloatVector.fromArray(F, queries, q3 + i).fma(x, acc3);
                    }
                    scores[j * rowCount + r] = finish(sumLanes(acc0), queries, q0, rows, row, bound, dim);
                    scores[(j + 1) * rowCount + r] = finish(sumLanes(acc1), queries, q1, rows, row, bound, dim);
                    scores[(j + 2) * rowCount + r] = finish(sumLanes(acc2), queries, q2, rows, row, bound, dim);
                    scores[(j + 3) * rowCount + r] = finish(sumLanes(acc3), queries, q3, rows, row, bound, dim);
                }
            }
            for (; j < queryCount; j++) {
                int qj = qOff + j * dim;
                for (int r = 0; r < rowCount; r++) {
                    scores[j * rowCount + r] = dotRow(queries, qj, rows, rowsOffset + rowBytes * r, dim);
                }
            }
        }

        @Override
        public void dotRowsInt8(float[] q, int qOff, MemorySegment codes, long codesOffset, int rowCount, int dim,
                                float[] scores, int scoresOff) {
            Objects.checkFromIndexSize(qOff, dim, q.length);
            Objects.checkFromIndexSize(scoresOff, rowCount, scores.length);
            checkBlock(codes, codesOffset, rowCount, dim);
            int step = B.length();
            int bound = B.loopBound(dim);
            int r = 0;
            // Two rows at a time: two FMA chains, and each query chunk is loaded once for both.
            for (; r + 2 <= rowCount; r += 2) {
                long row0 = codesOffset + (long) dim * r;
                long row1 = row0 + dim;
                FloatVector acc0 = FloatVector.zero(F);
                FloatVector acc1 = FloatVector.zero(F);
                for (int i = 0; i < bound; i += step) {
                    ByteVector c0 = ByteVector.fromMemorySegment(B, codes, row0 + i, LE);
                    ByteVector c1 = ByteVector.fromMemorySegment(B, codes, row1 + i, LE);
                    for (int part = 0; part < BYTE_PARTS; part++) {
                        FloatVector qv = FloatVector.fromArray(F, q, qOff + i + part * LANES);
                        acc0 = qv.fma((FloatVector) c0.convertShape(VectorOperators.B2F, F, part), acc0);
                        acc1 = qv.fma((FloatVector) c1.convertShape(VectorOperators.B2F, F, part), acc1);
                    }
                }
                scores[scoresOff + r] = finishInt8(sumLanes(acc0), q, qOff, codes, row0, bound, dim);
                scores[scoresOff + r + 1] = finishInt8(sumLanes(acc1), q, qOff, codes, row1, bound, dim);
            }
            for (; r < rowCount; r++) {
                long row = codesOffset + (long) dim * r;
                FloatVector acc = FloatVector.zero(F);
                for (int i = 0; i < bound; i += step) {
                    ByteVector c = ByteVector.fromMemorySegment(B, codes, row + i, LE);
                    for (int part = 0; part < BYTE_PARTS; part++) {
                        FloatVector qv = FloatVector.fromArray(F, q, qOff + i + part * LANES);
                        acc = qv.fma((FloatVector) c.convertShape(VectorOperators.B2F, F, part), acc);
                    }
                }
                scores[scoresOff + r] = finishInt8(sumLanes(acc), q, qOff, codes, row, bound, dim);
            }
        }

        @Override
        public double sum(MemorySegment data, long offset, long count) {
            checkBlock(data, offset, count, 4);
            long chunk = 4L * LANES;
            long bound = count - count % chunk;
            long laneBytes = 4L * LANES;
            FloatVector acc0 = FloatVector.zero(F);
            FloatVector acc1 = FloatVector.zero(F);
            FloatVector acc2 = FloatVector.zero(F);
            FloatVector acc3 = FloatVector.zero(F);
            for (long i = 0; i < bound; i += chunk) {
                long at = offset + 4 * i;
                acc0 = acc0.add(FloatVector.fromMemorySegment(F, data, at, LE));
                acc1 = acc1.add(FloatVector.fromMemorySegment(F, data, at + laneBytes, LE));
                acc2 = acc2.add(FloatVector.fromMemorySegment(F, data, at + 2 * laneBytes, LE));
                acc3 = acc3.add(FloatVector.fromMemorySegment(F, data, at + 3 * laneBytes, LE));
            }
            double sum = sumLanes(acc0.add(acc1).add(acc2.add(acc3)));
            for (long i = bound; i < count; i++) {
                sum += data.get(FLOAT_LE, offset + 4 * i);
            }
            return sum;
        }
    }

    /** Holder so the choice (and its log line) happens once, on first use. */
    private static final class Chosen {
        static final IndexKernels INSTANCE = choose();

        private static IndexKernels choose() {
            String forced = System.getProperty(KERNELS_PROPERTY, "").trim().toLowerCase(Locale.ROOT);
            IndexKernels chosen = switch (forced) {
                case "scalar" -> scalar();
                case "vector" -> vector();
                case "" -> vectorAvailable() ? Vector.INSTANCE : scalar();
                default -> throw new IllegalArgumentException("system property " + KERNELS_PROPERTY
                        + ": expected scalar or vector, found '" + forced + "'");
            };
            Logger.getLogger(IndexKernels.class.getName()).config("index kernels: " + chosen.name());
            return chosen;
        }
    }
}
