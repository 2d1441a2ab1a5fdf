package io.jembed.core.index;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.locks.ReadWriteLock;
import java.util.concurrent.locks.ReentrantReadWriteLock;

import io.jembed.core.kernels.IndexKernels;
import io.jembed.core.kernels.WorkerPool;

/**
 * Exact nearest-neighbour search by cosine similarity over vectors stored contiguously off-heap.
 *
 * <p>Vectors are L2-normalised when added, so a score is the dot product of the normalised query
 * with a stored vector: cosine similarity in [-1, 1]. Shape symbols: n vectors of {@code dim}
 * floats; position p (0-based, in insertion order) is row p.
 *
 * <p>Storage is two row blocks: a read-only base (a mapped index file, see {@link IndexStore}) for
 * rows {@code [0, baseCount)}, and a growable off-heap tail for rows added since. No per-vector
 * objects exist, so a million 384-d vectors cost 1.5 GB of native memory and no heap.
 *
 * <p>Search scans every vector with {@link IndexKernels}. One query's scan is split into contiguous
 * row ranges over the threads of a {@link WorkerPool} (one query alone would leave the other cores
 * idle), the embedder's own pool when the index belongs to a {@code SemanticSearch}, so encoding and
 * scanning never compete for cores; a
 * batch of queries is scanned in blocks of {@value #QUERY_BLOCK} queries against tiles of
 * {@value #TILE_ROWS} rows, so each tile is read from memory once per query block and then from
 * cache. Each range keeps a bounded heap per query; the heaps are merged. Ties are broken by
 * position (lower first) and every score is computed the same way wherever it is computed, so
 * results do not depend on the thread count.
 *
 * <p>{@code k <= 0} is a caller mistake; {@code k} larger than the index is clamped to its size,
 * so asking for the top 10 of 3 vectors returns 3 hits.
 *
 * <p>Thread safety: searches may run concurrently with each other; {@link #add} waits for running
 * searches and blocks new ones while it writes.
 */
public final class FlatIndex implements AutoCloseable {

    /**
     * One search result.
     *
     * @param position the vector's position (insertion order, from 0)
     * @param score    cosine similarity of the query and the vector
     */
    public record Hit(int position, float score) {
    }

    /** Rows per kernel call: 256 rows of 384 floats are 384 KiB, which stays in a 1-2 MiB L2. */
    static final int TILE_ROWS = 256;
    /** Queries scanned together against one tile; 64 queries of 384 floats are 96 KiB. */
    static final int QUERY_BLOCK = 64;
    /** Below this many multiply-adds per search, handing work to other threads costs more than it saves. */
    static final long PARALLEL_MIN_WORK = 1L << 21;
    /** int8 search re-scores max(k x this, k + {@link #RESCORE_EXTRA}) candidates exactly. */
    static final int RESCORE_FACTOR = 4;
    static final int RESCORE_EXTRA = 32;
    private static final int MIN_TAIL_CAPACITY = 1024;
    /** Stored floats are little-endian, as in the safetensors file the base block is mapped from. */
    static final ValueLayout.OfFloat FLOAT_LE =
            ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final int dim;
    private final Quantization quantization;
    private final IndexKernels kernels = IndexKernels.get();
    private final ReadWriteLock lock = new ReentrantReadWriteLock();
    private final WorkerPool pool;
    /** Whether {@link #close()} closes the pool: only one this index made itself. */
    private final boolean ownsPool;

    private final MemorySegment baseVectors;
    private final MemorySegment baseCodes;
    private final int baseCount;

    private Arena tailArena;
    private MemorySegment tailVectors = MemorySegment.NULL;
    private MemorySegment tailCodes = MemorySegment.NULL;
    private int tailCapacity;
    private float[] scales = new float[0];
    private int size;
    private boolean closed;

    /** An empty fp32 index using up to {@link #defaultThreads()} threads per search. */
    public FlatIndex(int dimension) {
        this(dimension, Quantization.NONE, defaultThreads());
    }

    /**
     * An empty index scanning on a pool of its own.
     *
     * @param dimension    floats per vector
     * @param quantization storage for the scan
     * @param threads      threads one search may use (1 scans on the caller's thread only)
     */
    public FlatIndex(int dimension, Quantization quantization, int threads) {
        this(dimension, quantization, ownPool(threads), true, MemorySegment.NULL, MemorySegment.NULL, new float[0], 0);
    }

    /** An empty index scanning on a pool the caller owns and closes (after this index). */
    public FlatIndex(int dimension, Quantization quantization, WorkerPool pool) {
        this(dimension, quantization, Objects.requireNonNull(pool, "pool"), false,
                MemorySegment.NULL, MemorySegment.NULL, new float[0], 0);
    }

    /**
     * An index whose first {@code baseCount} rows are read-only blocks owned by the caller (mapped
     * from an index file); the caller keeps them alive until {@link #close()}.
     *
     * @param baseVectors [baseCount, dim] little-endian F32, already normalised
     * @param baseCodes   [baseCount, dim] int8 codes (INT8 only, else ignored)
     * @param baseScales  [baseCount] scales of the codes (INT8 only, else ignored)
     */
    FlatIndex(int dimension, Quantization quantization, int threads, MemorySegment baseVectors,
              MemorySegment baseCodes, float[] baseScales, int baseCount) {
        this(dimension, quantization, ownPool(threads), true, baseVectors, baseCodes, baseScales, baseCount);
    }

    FlatIndex(int dimension, Quantization quantization, WorkerPool pool, boolean ownsPool, MemorySegment baseVectors,
              MemorySegment baseCodes, float[] baseScales, int baseCount) {
        if (dimension < 1) {
            if (ownsPool) {
                pool.close();
            }
            throw new IllegalArgumentException("index dimension: expected >= 1, found " + dimension);
        }
        this.dim = dimension;
        this.quantization = Objects.requireNonNull(quantization, "quantization");
        this.pool = pool;
        this.ownsPool = ownsPool;
        this.baseVectors = baseVectors;
        this.baseCodes = baseCodes;
        this.baseCount = baseCount;
        this.size = baseCount;
        if (quantization == Quantization.INT8) {
            this.scales = baseScales.clone();
        }
    }

    private static WorkerPool ownPool(int threads) {
        if (threads < 1) {
            throw new IllegalArgumentException("index threads: expected >= 1, found " + threads);
        }
        return WorkerPool.create(threads);
    }

    /** Threads per search when none is given: the available processors, at most 8. */
    public static int defaultThreads() {
        return Math.max(1, Math.min(8, Runtime.getRuntime().availableProcessors()));
    }

    public int dimension() {
        return dim;
    }

    public Quantization quantization() {
        return quantization;
    }

    public int threads() {
        return pool.threads();
    }

    /** Number of vectors. */
    public int size() {
        lock.readLock().lock();
        try {
            return size;
        } finally {
            lock.readLock().unlock();
        }
    }

    /**
     * Adds one vector (copied and normalised); returns its position.
     *
     * @throws IllegalArgumentException if its length is not the index dimension or a value is not finite
     */
    public int add(float[] vector) {
        return add(new float[][] {vector});
    }

    /**
     * Adds vectors in order (copied and normalised); returns the position of the first. All are
     * checked before any is added.
     *
     * @throws IllegalArgumentException if a length is not the index dimension or a value is not finite
     */
    public int add(float[][] vectors) {
        for (int i = 0; i < vectors.length; i++) {
            checkVector("vector " + i, vectors[i]);
        }
        lock.writeLock().lock();
        try {
            checkOpen();
            if ((long) size + vectors.length > Integer.MAX_VALUE - 8) {
                throw new IllegalArgumentException("index size: expected at most " + (Integer.MAX_VALUE - 8)
                        + " vectors, found " + size + " + " + vectors.length);
            }
            ensureTailCapacity(size - baseCount + vectors.length);
            int first = size;
            float[] row = new float[dim];
            byte[] codes = quantization == Quantization.INT8 ? new byte[dim] : null;
            for (float[] vector : vectors) {
                System.arraycopy(vector, 0, row, 0, dim);
                normalize(row);
                int local = size - baseCount;
                MemorySegment.copy(row, 0, tailVectors, FLOAT_LE, 4L * dim * local, dim);
                if (codes != null) {
                    scales[size] = quantize(row, codes);
                    MemorySegment.copy(codes, 0, tailCodes, ValueLayout.JAVA_BYTE, (long) dim * local, dim);
                }
                size++;
            }
            return first;
        } finally {
            lock.writeLock().unlock();
        }
    }

    /** The stored (normalised) vector at a position, copied. */
    public float[] vector(int position) {
        lock.readLock().lock();
        try {
            Objects.checkIndex(position, size);
            float[] out = new float[dim];
            MemorySegment.copy(vectorBlock(position), FLOAT_LE, rowOffset(position), out, 0, dim);
            return out;
        } finally {
            lock.readLock().unlock();
        }
    }

    /**
     * The k vectors most similar to {@code query}, best first (exact scores; with INT8 storage the
     * candidates come from the int8 scan).
     *
     * @throws IllegalArgumentException if k &lt;= 0, or the query's length is not the index dimension
     *                                  or it holds a non-finite value
     */
    public List<Hit> search(float[] query, int k) {
        return search(new float[][] {query}, k).get(0);
    }

    /** {@link #search(float[], int)} for each query, scanned together. */
    public List<List<Hit>> search(float[][] queries, int k) {
        return search(queries, k, quantization == Quantization.INT8);
    }

    /** Like {@link #search(float[], int)} but always scanning fp32: the truth int8 search is measured against. */
    public List<Hit> searchExact(float[] query, int k) {
        return searchExact(new float[][] {query}, k).get(0);
    }

    /** {@link #searchExact(float[], int)} for each query. */
    public List<List<Hit>> searchExact(float[][] queries, int k) {
        return search(queries, k, false);
    }

    private List<List<Hit>> search(float[][] queries, int k, boolean int8) {
        if (k <= 0) {
            throw new IllegalArgumentException("k: expected >= 1, found " + k);
        }
        int queryCount = queries.length;
        float[] packed = new float[queryCount * dim];
        for (int j = 0; j < queryCount; j++) {
            checkVector(queryCount == 1 ? "query" : "query " + j, queries[j]);
            System.arraycopy(queries[j], 0, packed, j * dim, dim);
            normalize(packed, j * dim, dim);
        }
        lock.readLock().lock();
        try {
            checkOpen();
            List<List<Hit>> results = new ArrayList<>(queryCount);
            int n = size;
            if (n == 0 || queryCount == 0) {
                for (int j = 0; j < queryCount; j++) {
                    results.add(List.of());
                }
                return results;
            }
            int kept = Math.min(k, n);
            if (!int8) {
                for (TopK top : scan(packed, queryCount, kept, n, false)) {
                    results.add(top.sorted());
                }
                return results;
            }
            int candidates = Math.min(n, Math.max(kept * RESCORE_FACTOR, kept + RESCORE_EXTRA));
            TopK[] approximate = scan(packed, queryCount, candidates, n, true);
            for (int j = 0; j < queryCount; j++) {
                TopK exact = new TopK(kept);
                TopK found = approximate[j];
                for (int i = 0; i < found.size(); i++) {
                    int position = found.position(i);
                    exact.offer(position, kernels.dot(packed, j * dim, vectorBlock(position), rowOffset(position), dim));
                }
                results.add(exact.sorted());
            }
            return results;
        } finally {
            lock.readLock().unlock();
        }
    }

    /** Top {@code kept} of rows [0, n) for each query, the rows split over threads when worth it. */
    private TopK[] scan(float[] packed, int queryCount, int kept, int n, boolean int8) {
        int tiles = (n + TILE_ROWS - 1) / TILE_ROWS;
        long work = (long) n * dim * queryCount;
        int parts = work < PARALLEL_MIN_WORK ? 1 : Math.min(pool.threads(), tiles);
        if (parts == 1) {
            return scanRange(packed, queryCount, kept, 0, n, int8);
        }
        TopK[][] partial = new TopK[parts][];
        pool.parallelFor(parts, p -> partial[p] = scanRange(packed, queryCount, kept,
                rangeStart(p, parts, tiles, n), rangeStart(p + 1, parts, tiles, n), int8));
        // Merged in range order, so the result is the same whichever thread ran which range.
        TopK[] merged = partial[0];
        for (int p = 1; p < parts; p++) {
            for (int j = 0; j < queryCount; j++) {
                merged[j].addAll(partial[p][j]);
            }
        }
        return merged;
    }

    /** First row of part p when [0, n) is cut into parts of whole tiles. */
    private static int rangeStart(int p, int parts, int tiles, int n) {
        return (int) Math.min(n, (long) tiles * p / parts * TILE_ROWS);
    }

    private TopK[] scanRange(float[] packed, int queryCount, int kept, int from, int to, boolean int8) {
        TopK[] heaps = new TopK[queryCount];
        for (int j = 0; j < queryCount; j++) {
            heaps[j] = new TopK(kept);
        }
        float[] scores = new float[TILE_ROWS * Math.min(queryCount, QUERY_BLOCK)];
        for (int block = 0; block < queryCount; block += QUERY_BLOCK) {
            int blockCount = Math.min(QUERY_BLOCK, queryCount - block);
            int rows;
            for (int start = from; start < to; start += rows) {
                // A tile never straddles the base and the tail: they are separate segments.
                boolean inBase = start < baseCount;
                rows = Math.min(TILE_ROWS, (inBase ? Math.min(to, baseCount) : to) - start);
                int local = inBase ? start : start - baseCount;
                if (int8) {
                    MemorySegment codes = inBase ? baseCodes : tailCodes;
                    for (int j = 0; j < blockCount; j++) {
                        kernels.dotRowsInt8(packed, (block + j) * dim, codes, (long) dim * local, rows, dim, scores, 0);
                        TopK heap = heaps[block + j];
                        for (int r = 0; r < rows; r++) {
                            heap.offer(start + r, scores[r] * scales[start + r]);
                        }
                    }
                } else {
                    MemorySegment vectors = inBase ? baseVectors : tailVectors;
                    long offset = 4L * dim * local;
                    if (blockCount == 1) {
                        kernels.dotRows(packed, block * dim, vectors, offset, rows, dim, scores, 0);
                    } else {
                        kernels.dotRowsMulti(packed, block * dim, blockCount, vectors, offset, rows, dim, scores);
                    }
                    for (int j = 0; j < blockCount; j++) {
                        TopK heap = heaps[block + j];
                        for (int r = 0; r < rows; r++) {
                            heap.offer(start + r, scores[j * rows + r]);
                        }
                    }
                }
            }
        }
        return heaps;
    }

    // ---------------------------------------------------------------- storage

    private MemorySegment vectorBlock(int position) {
        return position < baseCount ? baseVectors : tailVectors;
    }

    private long rowOffset(int position) {
        return 4L * dim * (position < baseCount ? position : position - baseCount);
    }

    /** The fp32 rows, base then tail, for writing an index file. Call only while no add can run. */
    List<MemorySegment> vectorBlocks() {
        return List.of(baseVectors.asSlice(0, 4L * dim * baseCount),
                tailVectors.asSlice(0, 4L * dim * (size - baseCount)));
    }

    /** The int8 rows, base then tail (INT8 only). Call only while no add can run. */
    List<MemorySegment> codeBlocks() {
        return List.of(baseCodes.asSlice(0, (long) dim * baseCount), tailCodes.asSlice(0, (long) dim * (size - baseCount)));
    }

    /** The int8 scales of every row (INT8 only), copied. */
    float[] scales() {
        return Arrays.copyOf(scales, size);
    }

    private void ensureTailCapacity(int rows) {
        if (rows <= tailCapacity) {
            return;
        }
        int capacity = (int) Math.min(Integer.MAX_VALUE - 8,
                Math.max(rows, Math.max(MIN_TAIL_CAPACITY, tailCapacity + (long) tailCapacity / 2)));
        int used = size - baseCount;
        // One arena per allocation so the old block is freed as soon as it is copied.
        Arena arena = Arena.ofShared();
        try {
            MemorySegment vectors = arena.allocate(4L * dim * capacity, 64);
            MemorySegment.copy(tailVectors, 0, vectors, 0, 4L * dim * used);
            MemorySegment codes = MemorySegment.NULL;
            if (quantization == Quantization.INT8) {
                codes = arena.allocate((long) dim * capacity, 64);
                MemorySegment.copy(tailCodes, 0, codes, 0, (long) dim * used);
                scales = Arrays.copyOf(scales, baseCount + capacity);
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

    private static void normalize(float[] x) {
        normalize(x, 0, x.length);
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

    private void checkVector(String what, float[] vector) {
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

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("index: used after close()");
        }
    }

    /** Stops the scan threads (of a pool of its own) and frees the tail's memory; base blocks stay with their owner. Idempotent. */
    @Override
    public void close() {
        lock.writeLock().lock();
        try {
            if (closed) {
                return;
            }
            closed = true;
            if (ownsPool) {
                pool.close();
            }
            if (tailArena != null) {
                tailArena.close();
                tailArena = null;
            }
            tailVectors = MemorySegment.NULL;
            tailCodes = MemorySegment.NULL;
        } finally {
            lock.writeLock().unlock();
        }
    }
}
