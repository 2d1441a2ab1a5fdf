package io.jembed.core.index;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * The rows of an index, shared by every index type: unit-length float32 vectors (and, for INT8,
 * their symmetric int8 codes and one scale per row), stored as a sequence of blocks. Each
 * read-only block is a segment's tensors mapped from its safetensors file; the last, growable,
 * block (the tail) holds rows added since. A row's number is its place in the sequence (from 0),
 * so opening the same segments gives the same numbers.
 *
 * <p>Shape: block b holds rows [start(b), start(b) + rows(b)); its vectors are [rows, dim]
 * little-endian F32, its codes [rows, dim] I8. No per-row objects exist: a million 384-d rows are
 * 1.5 GB of mapped or native memory and no heap.
 *
 * <p>Not thread-safe: its owner ({@link FlatIndex}, {@link IndexStore}) serialises writes against
 * reads with its own lock.
 */
public final class VectorStore implements AutoCloseable {

    private static final io.jembed.core.kernels.IndexKernels KERNELS = io.jembed.core.kernels.IndexKernels.get();

    /** Stored floats are little-endian, as in the safetensors files blocks are mapped from. */
    static final ValueLayout.OfFloat FLOAT_LE = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final int MIN_TAIL_CAPACITY = 1024;

    /** One block of consecutive rows; codes and scales are empty unless INT8. */
    record Block(MemorySegment vectors, MemorySegment codes, float[] scales, int rows) {
    }

    private final int dim;
    private final Quantization quantization;
    private final List<Block> blocks = new ArrayList<>();
    /** starts[b] is block b's first row; starts[blocks.size()] is the tail's. */
    private int[] starts = {0};

    private Arena tailArena;
    private MemorySegment tailVectors = MemorySegment.NULL;
    private MemorySegment tailCodes = MemorySegment.NULL;
    private float[] tailScales = new float[0];
    private int tailRows;
    private int tailCapacity;

    public VectorStore(int dimension, Quantization quantization) {
        if (dimension < 1) {
            throw new IllegalArgumentException("index dimension: expected >= 1, found " + dimension);
        }
        this.dim = dimension;
        this.quantization = Objects.requireNonNull(quantization, "quantization");
    }

    public int dimension() {
        return dim;
    }

    public Quantization quantization() {
        return quantization;
    }

    /** Rows in every block and the tail. */
    public int size() {
        return starts[blocks.size()] + tailRows;
    }

    /** Rows in the tail: added since the last block. */
    int tailSize() {
        return tailRows;
    }

    /**
     * Appends a read-only block (the caller keeps its memory alive until {@link #close()}). Only
     * while the tail is empty, so row numbers never move.
     *
     * @param vectors [rows, dim] little-endian F32, already normalised
     * @param codes   [rows, dim] int8 codes (INT8 only, else ignored)
     * @param scales  [rows] scales of the codes (INT8 only, else ignored)
     */
    void addBlock(MemorySegment vectors, MemorySegment codes, float[] scales, int rows) {
        if (tailRows > 0) {
            throw new IllegalStateException("vector store: a block is added after the tail's rows");
        }
        boolean int8 = quantization == Quantization.INT8;
        blocks.add(new Block(vectors, int8 ? codes : MemorySegment.NULL, int8 ? scales : new float[0], rows));
        starts = Arrays.copyOf(starts, blocks.size() + 1);
        starts[blocks.size()] = starts[blocks.size() - 1] + rows;
    }

    /**
     * Replaces the tail with a read-only block holding the same rows (the segment they were just
     * written to), so row numbers stay and the tail's memory is freed.
     */
    void sealTail(MemorySegment vectors, MemorySegment codes, float[] scales) {
        int rows = tailRows;
        freeTail();
        addBlock(vectors, codes, scales, rows);
    }

    /**
     * Adds rows in order (copied, normalised, quantised for INT8); returns the first one's number.
     * The caller has checked them with {@link #check}.
     */
    int add(float[][] vectors) {
        if ((long) size() + vectors.length > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("index size: expected at most " + (Integer.MAX_VALUE - 8)
                    + " vectors, found " + size() + " + " + vectors.length);
        }
        ensureTailCapacity(tailRows + vectors.length);
        int first = size();
        float[] row = new float[dim];
        byte[] codes = quantization == Quantization.INT8 ? new byte[dim] : null;
        for (float[] vector : vectors) {
            System.arraycopy(vector, 0, row, 0, dim);
            normalize(row, 0, dim);
            MemorySegment.copy(row, 0, tailVectors, FLOAT_LE, 4L * dim * tailRows, dim);
            if (codes != null) {
                tailScales[tailRows] = quantize(row, codes);
                MemorySegment.copy(codes, 0, tailCodes, ValueLayout.JAVA_BYTE, (long) dim * tailRows, dim);
            }
            tailRows++;
        }
        return first;
    }

    /** Refuses a vector of another length or with a non-finite value. */
    void check(String what, float[] vector) {
        Objects.requireNonNull(vector, what);
        if (vector.length != dim) {
            throw new IllegalArgumentException(what + ": expected dimension " + dim + ", found " + vector.length);
        }
        for (int i = 0; i < dim; i++) {
            if (!Float.isFinite(vector[i])) {
                throw new IllegalArgumentException(what + ": expected finite values, found " + vector[i]
                        + " at index " + i);
            }
        }
    }

    // ---------------------------------------------------------------- row access for scans

    /** The block holding a row: blocks.size() stands for the tail. */
    int blockOf(int row) {
        int b = Arrays.binarySearch(starts, 0, blocks.size() + 1, row);
        if (b >= 0) {
            // The first block starting at row; empty blocks share a start with the next one.
            while (b < blocks.size() && blocks.get(b).rows() == 0) {
                b++;
            }
            return b;
        }
        return -b - 2;
    }

    /** One past the last row of block b. */
    int blockEnd(int b) {
        return b == blocks.size() ? size() : starts[b + 1];
    }

    int blockStart(int b) {
        return starts[b];
    }

    MemorySegment vectors(int b) {
        return b == blocks.size() ? tailVectors : blocks.get(b).vectors();
    }

    MemorySegment codes(int b) {
        return b == blocks.size() ? tailCodes : blocks.get(b).codes();
    }

    /** The int8 scale of a row (INT8 only). */
    float scale(int row) {
        int b = blockOf(row);
        return b == blocks.size() ? tailScales[row - starts[b]] : blocks.get(b).scales()[row - starts[b]];
    }

    float[] scales(int b) {
        return b == blocks.size() ? tailScales : blocks.get(b).scales();
    }

    /** The stored (normalised) vector of a row, copied. */
    public float[] vector(int row) {
        Objects.checkIndex(row, size());
        int b = blockOf(row);
        float[] out = new float[dim];
        MemorySegment.copy(vectors(b), FLOAT_LE, 4L * dim * (row - starts[b]), out, 0, dim);
        return out;
    }

    /**
     * A query as searches compare it: checked (length, finite values) and scaled to unit length, copied.
     *
     * @throws IllegalArgumentException naming {@code what} for a wrong length or a non-finite value
     */
    public float[] unitQuery(String what, float[] query) {
        check(what, query);
        float[] unit = query.clone();
        normalize(unit, 0, dim);
        return unit;
    }

    /**
     * The score of a row for a {@link #unitQuery}: the dot product as {@link FlatIndex} computes it,
     * bit for bit, so an index type that re-scores its candidates here reports flat's scores.
     */
    public float score(float[] unitQuery, int row) {
        Objects.checkIndex(row, size());
        int b = blockOf(row);
        return KERNELS.dot(unitQuery, 0, vectors(b), 4L * dim * (row - starts[b]), dim);
    }

    /** The int8 codes of a row (INT8 only), copied. */
    byte[] codes(int row, byte[] out) {
        int b = blockOf(row);
        MemorySegment.copy(codes(b), ValueLayout.JAVA_BYTE, (long) dim * (row - starts[b]), out, 0, dim);
        return out;
    }

    /** The tail's rows as a block, for writing them to a segment file. */
    Block tail() {
        return new Block(tailVectors.asSlice(0, 4L * dim * tailRows),
                quantization == Quantization.INT8 ? tailCodes.asSlice(0, (long) dim * tailRows) : MemorySegment.NULL,
                Arrays.copyOf(tailScales, tailRows), tailRows);
    }

    private void ensureTailCapacity(int rows) {
        if (rows <= tailCapacity) {
            return;
        }
        int capacity = (int) Math.min(Integer.MAX_VALUE - 8,
                Math.max(rows, Math.max(MIN_TAIL_CAPACITY, tailCapacity + (long) tailCapacity / 2)));
        // One arena per allocation so the old block is freed as soon as it is copied.
        Arena arena = Arena.ofShared();
        try {
            MemorySegment vectors = arena.allocate(4L * dim * capacity, 64);
            MemorySegment.copy(tailVectors, 0, vectors, 0, 4L * dim * tailRows);
            MemorySegment codes = MemorySegment.NULL;
            if (quantization == Quantization.INT8) {
                codes = arena.allocate((long) dim * capacity, 64);
                MemorySegment.copy(tailCodes, 0, codes, 0, (long) dim * tailRows);
                tailScales = Arrays.copyOf(tailScales, capacity);
            }
            if (tailArena != null) {
                tailArena.close();
            }
            tailArena = arena;
            tailVectors = vectors;
            tailCodes = codes;
            tailCapacity = capacity;
        } catch (RuntimeException | Error e) {
            if (tailArena != arena) {
                arena.close();
            }
            throw e;
        }
    }

    private void freeTail() {
        if (tailArena != null) {
            tailArena.close();
            tailArena = null;
        }
        tailVectors = MemorySegment.NULL;
        tailCodes = MemorySegment.NULL;
        tailScales = new float[0];
        tailRows = 0;
        tailCapacity = 0;
    }

    /** Symmetric int8 codes of a normalised row; returns the scale (0 for a zero row). */
    static float quantize(float[] row, byte[] codes) {
        float maxAbs = 0f;
        for (float x : row) {
            maxAbs = Math.max(maxAbs, Math.abs(x));
        }
        if (maxAbs == 0f) {
            Arrays.fill(codes, (byte) 0);
            return 0f;
        }
        float scale = maxAbs / 127f;
        for (int i = 0; i < row.length; i++) {
            codes[i] = (byte) Math.max(-127, Math.min(127, Math.round(row[i] / scale)));
        }
        return scale;
    }

    /** x / ||x|| with the norm summed in double; a zero vector stays zero (its scores are all 0). */
    static void normalize(float[] x, int off, int n) {
        double sumOfSquares = 0;
        for (int i = 0; i < n; i++) {
            sumOfSquares += (double) x[off + i] * x[off + i];
        }
        if (sumOfSquares == 0) {
            return;
        }
        double norm = Math.sqrt(sumOfSquares);
        for (int i = 0; i < n; i++) {
            x[off + i] = (float) (x[off + i] / norm);
        }
    }

    /** Frees the tail; read-only blocks stay with their owner. Idempotent. */
    @Override
    public void close() {
        freeTail();
        blocks.clear();
        starts = new int[] {0};
    }
}
