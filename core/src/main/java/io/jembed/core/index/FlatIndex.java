package io.jembed.core.index;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.BitSet;
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
 * <p>Storage is a {@link VectorStore}: read-only blocks mapped from an index directory's segments
 * (see {@link IndexStore}), then a growable off-heap tail for rows added since. No per-vector
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
public final class FlatIndex implements VectorIndex {

    /** The name of this index type in manifest.json. */
    public static final String TYPE = "flat";

    /** Rows per kernel call: 256 rows of 384 floats are 384 KiB, which stays in a 1-2 MiB L2. */
    static final int TILE_ROWS = 256;
    /** Queries scanned together against one tile; 64 queries of 384 floats are 96 KiB. */
    static final int QUERY_BLOCK = 64;
    /** Below this many multiply-adds per search, handing work to other threads costs more than it saves. */
    static final long PARALLEL_MIN_WORK = 1L << 21;
    /** int8 search re-scores max(k x this, k + {@link #RESCORE_EXTRA}) candidates exactly. */
    static final int RESCORE_FACTOR = 4;
    static final int RESCORE_EXTRA = 32;

    private final int dim;
    private final Quantization quantization;
    private final IndexKernels kernels = IndexKernels.get();
    private final ReadWriteLock lock = new ReentrantReadWriteLock();
    private final WorkerPool pool;
    /** Whether {@link #close()} closes the pool: only one this index made itself. */
    private final boolean ownsPool;
    private final VectorStore store;
    /** Whether this index made its store (and adds to it); else an {@link IndexStore} owns and fills it. */
    private final boolean ownsStore;
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
        this(new VectorStore(dimension, quantization), ownPool(threads), true, true);
    }

    /** An empty index scanning on a pool the caller owns and closes (after this index). */
    public FlatIndex(int dimension, Quantization quantization, WorkerPool pool) {
        this(new VectorStore(dimension, quantization), Objects.requireNonNull(pool, "pool"), false, true);
    }

    /**
     * The index of a store someone else fills and guards ({@link IndexStore}): searches read its
     * rows as they are when called, under the caller's lock.
     */
    FlatIndex(VectorStore store, WorkerPool pool, boolean ownsPool, boolean ownsStore) {
        this.store = Objects.requireNonNull(store, "store");
        this.dim = store.dimension();
        this.quantization = store.quantization();
        this.pool = pool;
        this.ownsPool = ownsPool;
        this.ownsStore = ownsStore;
    }

    /**
     * The exact index of a store someone else fills and guards, scanning on {@code pool}: what an
     * approximate index type searches the rows with that its structure does not cover yet.
     */
    public static FlatIndex over(VectorStore store, WorkerPool pool) {
        return new FlatIndex(store, Objects.requireNonNull(pool, "pool"), false, false);
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

    @Override
    public String type() {
        return TYPE;
    }

    @Override
    public int dimension() {
        return dim;
    }

    @Override
    public Quantization quantization() {
        return quantization;
    }

    public int threads() {
        return pool.threads();
    }

    /** Number of vectors. */
    @Override
    public int size() {
        lock.readLock().lock();
        try {
            return store.size();
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
        if (!ownsStore) {
            throw new IllegalStateException("index: rows are added through the IndexStore that owns them");
        }
        for (int i = 0; i < vectors.length; i++) {
            store.check("vector " + i, vectors[i]);
        }
        lock.writeLock().lock();
        try {
            checkOpen();
            return store.add(vectors);
        } finally {
            lock.writeLock().unlock();
        }
    }

    /** The stored (normalised) vector at a position, copied. */
    public float[] vector(int position) {
        lock.readLock().lock();
        try {
            return store.vector(position);
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
        return search(queries, k, null);
    }

    @Override
    public List<List<Hit>> search(float[][] queries, int k, BitSet excluded) {
        return search(queries, k, quantization == Quantization.INT8, excluded, 0);
    }

    /** {@link #search(float[][], int, BitSet)} over the rows from {@code fromRow} on only. */
    public List<List<Hit>> searchFrom(int fromRow, float[][] queries, int k, BitSet excluded) {
        if (fromRow < 0) {
            throw new IllegalArgumentException("fromRow: expected >= 0, found " + fromRow);
        }
        return search(queries, k, quantization == Quantization.INT8, excluded, fromRow);
    }

    /** Like {@link #search(float[], int)} but always scanning fp32: the truth int8 search is measured against. */
    public List<Hit> searchExact(float[] query, int k) {
        return searchExact(new float[][] {query}, k).get(0);
    }

    /** {@link #searchExact(float[], int)} for each query. */
    public List<List<Hit>> searchExact(float[][] queries, int k) {
        return search(queries, k, false, null, 0);
    }

    private List<List<Hit>> search(float[][] queries, int k, boolean int8, BitSet excluded, int from) {
        if (k <= 0) {
            throw new IllegalArgumentException("k: expected >= 1, found " + k);
        }
        int queryCount = queries.length;
        float[] packed = new float[queryCount * dim];
        for (int j = 0; j < queryCount; j++) {
            store.check(queryCount == 1 ? "query" : "query " + j, queries[j]);
            System.arraycopy(queries[j], 0, packed, j * dim, dim);
            VectorStore.normalize(packed, j * dim, dim);
        }
        lock.readLock().lock();
        try {
            checkOpen();
            List<List<Hit>> results = new ArrayList<>(queryCount);
            int n = store.size();
            if (n <= from || queryCount == 0) {
                for (int j = 0; j < queryCount; j++) {
                    results.add(List.of());
                }
                return results;
            }
            int kept = Math.min(k, n - from);
            if (!int8) {
                for (TopK top : scan(packed, queryCount, kept, from, n, false, excluded)) {
                    results.add(top.sorted());
                }
                return results;
            }
            int candidates = Math.min(n - from, Math.max(kept * RESCORE_FACTOR, kept + RESCORE_EXTRA));
            TopK[] approximate = scan(packed, queryCount, candidates, from, n, true, excluded);
            for (int j = 0; j < queryCount; j++) {
                TopK exact = new TopK(kept);
                TopK found = approximate[j];
                for (int i = 0; i < found.size(); i++) {
                    int position = found.position(i);
                    int b = store.blockOf(position);
                    exact.offer(position, kernels.dot(packed, j * dim, store.vectors(b),
                            4L * dim * (position - store.blockStart(b)), dim));
                }
                results.add(exact.sorted());
            }
            return results;
        } finally {
            lock.readLock().unlock();
        }
    }

    /** Top {@code kept} of rows [from, n) for each query, the rows split over threads when worth it. */
    private TopK[] scan(float[] packed, int queryCount, int kept, int from, int n, boolean int8, BitSet excluded) {
        int rows = n - from;
        int tiles = (rows + TILE_ROWS - 1) / TILE_ROWS;
        long work = (long) rows * dim * queryCount;
        int parts = work < PARALLEL_MIN_WORK ? 1 : Math.min(pool.threads(), tiles);
        if (parts == 1) {
            return scanRange(packed, queryCount, kept, from, n, int8, excluded);
        }
        TopK[][] partial = new TopK[parts][];
        pool.parallelFor(parts, p -> partial[p] = scanRange(packed, queryCount, kept,
                from + rangeStart(p, parts, tiles, rows), from + rangeStart(p + 1, parts, tiles, rows), int8,
                excluded));
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

    private TopK[] scanRange(float[] packed, int queryCount, int kept, int from, int to, boolean int8,
                             BitSet excluded) {
        TopK[] heaps = new TopK[queryCount];
        for (int j = 0; j < queryCount; j++) {
            heaps[j] = new TopK(kept);
        }
        float[] scores = new float[TILE_ROWS * Math.min(queryCount, QUERY_BLOCK)];
        for (int block = 0; block < queryCount; block += QUERY_BLOCK) {
            int blockCount = Math.min(QUERY_BLOCK, queryCount - block);
            int rows;
            for (int start = from; start < to; start += rows) {
                // A tile never straddles two blocks of the store: they are separate memory segments.
                int b = store.blockOf(start);
                rows = Math.min(TILE_ROWS, Math.min(to, store.blockEnd(b)) - start);
                int local = start - store.blockStart(b);
                if (int8) {
                    MemorySegment codes = store.codes(b);
                    float[] scales = store.scales(b);
                    for (int j = 0; j < blockCount; j++) {
                        kernels.dotRowsInt8(packed, (block + j) * dim, codes, (long) dim * local, rows, dim, scores, 0);
                        TopK heap = heaps[block + j];
                        for (int r = 0; r < rows; r++) {
                            if (excluded == null || !excluded.get(start + r)) {
                                heap.offer(start + r, scores[r] * scales[local + r]);
                            }
                        }
                    }
                } else {
                    MemorySegment vectors = store.vectors(b);
                    long offset = 4L * dim * local;
                    if (blockCount == 1) {
                        kernels.dotRows(packed, block * dim, vectors, offset, rows, dim, scores, 0);
                    } else {
                        kernels.dotRowsMulti(packed, block * dim, blockCount, vectors, offset, rows, dim, scores);
                    }
                    for (int j = 0; j < blockCount; j++) {
                        TopK heap = heaps[block + j];
                        for (int r = 0; r < rows; r++) {
                            if (excluded == null || !excluded.get(start + r)) {
                                heap.offer(start + r, scores[j * rows + r]);
                            }
                        }
                    }
                }
            }
        }
        return heaps;
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("index: used after close()");
        }
    }

    /** Stops the scan threads (of a pool of its own) and frees a store of its own. Idempotent. */
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
            if (ownsStore) {
                store.close();
            }
        } finally {
            lock.writeLock().unlock();
        }
    }
}
