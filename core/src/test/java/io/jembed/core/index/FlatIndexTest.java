package io.jembed.core.index;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Random;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import io.jembed.core.kernels.WorkerPool;

class FlatIndexTest {

    /**
     * A float dot product of unit vectors differs from the double one by at most n·2^-24 (the
     * recursive summation bound with sum|a_i b_i| <= 1), plus the rounding of the normalisation.
     */
    static float tolerance(int dim) {
        return (float) ((dim + 4) * Math.scalb(1.0, -24));
    }

    static float[][] gaussian(Random random, int n, int dim) {
        float[][] vectors = new float[n][dim];
        for (float[] v : vectors) {
            for (int i = 0; i < dim; i++) {
                v[i] = (float) random.nextGaussian();
            }
        }
        return vectors;
    }

    /** The oracle: every vector scored in double, sorted by score then position. */
    static List<VectorIndex.Hit> bruteForce(float[][] corpus, float[] query, int k) {
        double[] q = unit(query);
        List<double[]> scored = new ArrayList<>();
        for (int p = 0; p < corpus.length; p++) {
            double[] v = unit(corpus[p]);
            double dot = 0;
            for (int i = 0; i < v.length; i++) {
                dot += q[i] * v[i];
            }
            scored.add(new double[] {dot, p});
        }
        scored.sort(Comparator.<double[]>comparingDouble(s -> -s[0]).thenComparingDouble(s -> s[1]));
        List<VectorIndex.Hit> hits = new ArrayList<>();
        for (int i = 0; i < Math.min(k, corpus.length); i++) {
            hits.add(new VectorIndex.Hit((int) scored.get(i)[1], (float) scored.get(i)[0]));
        }
        return hits;
    }

    static double[] unit(float[] v) {
        double norm = 0;
        for (float x : v) {
            norm += (double) x * x;
        }
        norm = Math.sqrt(norm);
        double[] out = new double[v.length];
        for (int i = 0; i < v.length; i++) {
            out[i] = norm == 0 ? 0 : v[i] / norm;
        }
        return out;
    }

    /**
     * Found hits must be the oracle's, rank by rank, with scores within the tolerance; a different
     * position at a rank is accepted only for a near-tie: both vectors' true scores within twice
     * the tolerance (a full ranking of thousands of random vectors has such pairs).
     */
    static void assertMatchesOracle(float[][] corpus, float[] query, List<VectorIndex.Hit> expected,
                                    List<VectorIndex.Hit> found, int dim, String where) {
        assertEquals(expected.size(), found.size(), where + ": hit count");
        double[] q = unit(query);
        java.util.Set<Integer> seen = new java.util.HashSet<>();
        for (int i = 0; i < expected.size(); i++) {
            VectorIndex.Hit e = expected.get(i);
            VectorIndex.Hit f = found.get(i);
            assertTrue(seen.add(f.position()), where + " rank " + i + ": position " + f.position() + " returned twice");
            assertEquals(e.score(), f.score(), tolerance(dim), where + " rank " + i + " score");
            if (e.position() != f.position()) {
                double trueScore = dot(q, unit(corpus[f.position()]));
                assertEquals(e.score(), trueScore, 2 * tolerance(dim), where + " rank " + i + ": expected position "
                        + e.position() + " (score " + e.score() + "), found " + f.position() + " whose true score is "
                        + trueScore + ", not a near-tie");
            }
        }
    }

    static double dot(double[] a, double[] b) {
        double sum = 0;
        for (int i = 0; i < a.length; i++) {
            sum += a[i] * b[i];
        }
        return sum;
    }

    @Test
    void searchEqualsBruteForceOnRandomData() {
        Random random = new Random(1);
        for (int dim : new int[] {384, 17}) {
            for (int n : new int[] {1, 5, 255, 257, 1000, 6000}) {
                float[][] corpus = gaussian(random, n, dim);
                float[][] queries = gaussian(random, 7, dim);
                try (FlatIndex index = new FlatIndex(dim, Quantization.NONE, 3)) {
                    assertEquals(0, index.add(corpus));
                    for (int k : new int[] {1, 10, n + 5}) {
                        List<List<VectorIndex.Hit>> batch = index.search(queries, k);
                        for (int q = 0; q < queries.length; q++) {
                            List<VectorIndex.Hit> expected = bruteForce(corpus, queries[q], k);
                            String where = "dim=" + dim + " n=" + n + " k=" + k + " query " + q;
                            List<VectorIndex.Hit> found = index.search(queries[q], k);
                            assertMatchesOracle(corpus, queries[q], expected, found, dim, where);
                            if (k == 10) {
                                assertEquals(expected.stream().map(VectorIndex.Hit::position).toList(),
                                        found.stream().map(VectorIndex.Hit::position).toList(), where + ": top 10");
                            }
                            assertEquals(index.search(queries[q], k), batch.get(q), where + ": batch differs from single");
                        }
                    }
                }
            }
        }
    }

    @Test
    void resultsDoNotDependOnThreadsOrBatching() {
        Random random = new Random(2);
        int dim = 64;
        float[][] corpus = gaussian(random, 40_000, dim);
        float[][] queries = gaussian(random, 70, dim);
        assertTrue((long) corpus.length * dim >= FlatIndex.PARALLEL_MIN_WORK, "corpus large enough to scan in parallel");
        try (FlatIndex one = new FlatIndex(dim, Quantization.NONE, 1);
             FlatIndex four = new FlatIndex(dim, Quantization.NONE, 4)) {
            one.add(corpus);
            four.add(corpus);
            List<List<VectorIndex.Hit>> batch = four.search(queries, 10);
            for (int q = 0; q < queries.length; q++) {
                List<VectorIndex.Hit> sequential = one.search(queries[q], 10);
                assertEquals(sequential, four.search(queries[q], 10), "query " + q + ": 4 threads vs 1");
                assertEquals(sequential, batch.get(q), "query " + q + ": batch of 70 vs single");
            }
        }
    }

    @Test
    void tiesAreBrokenByInsertionOrder() {
        float[] same = {0.3f, -0.2f, 0.9f};
        float[] other = {-1f, 0f, 0f};
        try (FlatIndex index = new FlatIndex(3, Quantization.NONE, 1)) {
            index.add(new float[][] {other, same, other, same, same, other});
            List<VectorIndex.Hit> hits = index.search(same, 4);
            assertEquals(List.of(1, 3, 4, 0), hits.stream().map(VectorIndex.Hit::position).toList());
            assertEquals(hits.get(0).score(), hits.get(1).score());
            assertEquals(hits.get(1).score(), hits.get(2).score());
        }
    }

    @Test
    void scoresAreCosineSimilarities() {
        try (FlatIndex index = new FlatIndex(2)) {
            index.add(new float[][] {{3f, 0f}, {1f, 1f}, {0f, -5f}});
            List<VectorIndex.Hit> hits = index.search(new float[] {2f, 0f}, 3);
            assertEquals(new VectorIndex.Hit(0, 1f), hits.get(0));
            assertEquals(1, hits.get(1).position());
            assertEquals(Math.sqrt(0.5), hits.get(1).score(), 1e-7);
            assertEquals(new VectorIndex.Hit(2, 0f), hits.get(2));
            float[] stored = index.vector(2);
            assertEquals(0f, stored[0]);
            assertEquals(-1f, stored[1]);
        }
    }

    @Test
    void kLargerThanTheIndexIsClampedAndEmptyIndexReturnsNothing() {
        try (FlatIndex index = new FlatIndex(2)) {
            assertEquals(List.of(), index.search(new float[] {1f, 0f}, 5));
            index.add(new float[][] {{1f, 0f}, {0f, 1f}});
            assertEquals(2, index.search(new float[] {1f, 0f}, 5).size());
        }
    }

    @Test
    void callerMistakesAreRejectedWithTheirNumbers() {
        try (FlatIndex index = new FlatIndex(3)) {
            index.add(new float[] {1f, 2f, 3f});
            assertEquals("k: expected >= 1, found 0",
                    assertThrows(IllegalArgumentException.class, () -> index.search(new float[3], 0)).getMessage());
            assertEquals("query: expected dimension 3, found 4",
                    assertThrows(IllegalArgumentException.class, () -> index.search(new float[4], 1)).getMessage());
            assertEquals("query 1: expected dimension 3, found 2", assertThrows(IllegalArgumentException.class,
                    () -> index.search(new float[][] {new float[3], new float[2]}, 1)).getMessage());
            assertEquals("vector 1: expected dimension 3, found 2", assertThrows(IllegalArgumentException.class,
                    () -> index.add(new float[][] {new float[3], new float[2]})).getMessage());
            assertEquals("vector 0: expected finite values, found NaN at index 1", assertThrows(
                    IllegalArgumentException.class, () -> index.add(new float[] {0f, Float.NaN, 0f})).getMessage());
            assertEquals(1, index.size(), "a rejected add adds nothing");
        }
        assertEquals("index dimension: expected >= 1, found 0",
                assertThrows(IllegalArgumentException.class, () -> new FlatIndex(0)).getMessage());
    }

    @Test
    void closedIndexRefusesWork() {
        FlatIndex index = new FlatIndex(2);
        index.close();
        index.close();
        assertEquals("index: used after close()", assertThrows(IllegalStateException.class,
                () -> index.search(new float[2], 1)).getMessage());
    }

    @Test
    void mappedBlocksAndGrowableTailSearchAsOne() {
        Random random = new Random(3);
        int dim = 24;
        float[][] corpus = gaussian(random, 700, dim);
        int baseCount = 300;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment base = arena.allocate(4L * dim * baseCount);
            MemorySegment codes = arena.allocate((long) dim * baseCount);
            float[] scales = new float[baseCount];
            byte[] rowCodes = new byte[dim];
            for (int p = 0; p < baseCount; p++) {
                float[] row = corpus[p].clone();
                VectorStore.normalize(row, 0, dim);
                MemorySegment.copy(row, 0, base, VectorStore.FLOAT_LE, 4L * dim * p, dim);
                scales[p] = VectorStore.quantize(row, rowCodes);
                MemorySegment.copy(rowCodes, 0, codes, java.lang.foreign.ValueLayout.JAVA_BYTE, (long) dim * p, dim);
            }
            for (Quantization quantization : Quantization.values()) {
                // Three mapped segments (one empty, as a segment whose rows were all compacted away
                // never is, but a block boundary must not depend on that) and the tail.
                VectorStore store = new VectorStore(dim, quantization);
                store.addBlock(base.asSlice(0, 4L * dim * 100), codes.asSlice(0, (long) dim * 100),
                        java.util.Arrays.copyOfRange(scales, 0, 100), 100);
                store.addBlock(MemorySegment.NULL, MemorySegment.NULL, new float[0], 0);
                store.addBlock(base.asSlice(4L * dim * 100), codes.asSlice((long) dim * 100),
                        java.util.Arrays.copyOfRange(scales, 100, baseCount), baseCount - 100);
                try (FlatIndex index = new FlatIndex(store, WorkerPool.create(2), true, true)) {
                    // Added in several calls so the tail grows while the blocks stay put.
                    index.add(java.util.Arrays.copyOfRange(corpus, baseCount, 310));
                    index.add(java.util.Arrays.copyOfRange(corpus, 310, 700));
                    assertEquals(700, index.size());
                    for (float[] query : gaussian(random, 5, dim)) {
                        assertMatchesOracle(corpus, query, bruteForce(corpus, query, 20), index.search(query, 20), dim,
                                quantization + " blocks+tail");
                    }
                    assertArrayEquals(index.vector(150), normalized(corpus[150]));
                }
            }
        }
    }

    @ParameterizedTest
    @EnumSource(Quantization.class)
    void excludedRowsAreNeverReturned(Quantization quantization) {
        Random random = new Random(5);
        int dim = 16;
        float[][] corpus = gaussian(random, 3000, dim);
        java.util.BitSet excluded = new java.util.BitSet();
        for (int p = 0; p < corpus.length; p += 3) {
            excluded.set(p);
        }
        float[][] kept = new float[corpus.length - excluded.cardinality()][];
        int[] keptRow = new int[kept.length];
        for (int p = 0, i = 0; p < corpus.length; p++) {
            if (!excluded.get(p)) {
                keptRow[i] = p;
                kept[i++] = corpus[p];
            }
        }
        try (FlatIndex index = new FlatIndex(dim, quantization, 2)) {
            index.add(corpus);
            float[][] queries = gaussian(random, 70, dim);
            List<List<VectorIndex.Hit>> found = index.search(queries, 10, excluded);
            for (int q = 0; q < queries.length; q++) {
                List<VectorIndex.Hit> expected = new ArrayList<>();
                for (VectorIndex.Hit hit : bruteForce(kept, queries[q], 10)) {
                    expected.add(new VectorIndex.Hit(keptRow[hit.position()], hit.score()));
                }
                for (VectorIndex.Hit hit : found.get(q)) {
                    assertFalse(excluded.get(hit.position()), "excluded row " + hit.position() + " returned");
                }
                if (quantization == Quantization.NONE) {
                    assertEquals(expected.stream().map(VectorIndex.Hit::position).toList(),
                            found.get(q).stream().map(VectorIndex.Hit::position).toList(), "query " + q);
                }
            }
            java.util.BitSet all = new java.util.BitSet();
            all.set(0, corpus.length);
            assertEquals(List.of(), index.search(queries, 5, all).get(0), "every row excluded: no hits");
        }
    }

    static float[] normalized(float[] v) {
        float[] copy = v.clone();
        VectorStore.normalize(copy, 0, copy.length);
        return copy;
    }

    /** Random data in clusters, like embeddings of texts on a few hundred topics. */
    static float[][] clustered(Random random, float[][] centers, int n, double spread) {
        int dim = centers[0].length;
        float[][] vectors = new float[n][dim];
        for (float[] v : vectors) {
            float[] center = centers[random.nextInt(centers.length)];
            for (int i = 0; i < dim; i++) {
                v[i] = (float) (center[i] + spread * random.nextGaussian());
            }
        }
        return vectors;
    }

    @Test
    void int8RecallAtTenOnClusteredDataIsAtLeast099AndScoresAreExact() {
        Random random = new Random(4);
        int dim = 384;
        float[][] centers = gaussian(random, 200, dim);
        float[][] corpus = clustered(random, centers, 20_000, 0.3);
        float[][] queries = clustered(random, centers, 200, 0.3);
        double recall = Recall.int8Recall(corpus, queries, 10);
        System.out.printf("int8 recall@10 (int8 scan + exact re-scoring) on 20000 clustered 384-d vectors: %.4f%n",
                recall);
        assertTrue(recall >= 0.99, "int8 recall@10: expected >= 0.99, found " + recall);
        try (FlatIndex index = new FlatIndex(dim, Quantization.INT8, 2)) {
            index.add(corpus);
            List<List<VectorIndex.Hit>> exact = index.searchExact(queries, 10);
            List<List<VectorIndex.Hit>> approximate = index.search(queries, 10);
            for (int q = 0; q < queries.length; q++) {
                for (VectorIndex.Hit hit : approximate.get(q)) {
                    for (VectorIndex.Hit truth : exact.get(q)) {
                        if (truth.position() == hit.position()) {
                            assertEquals(truth.score(), hit.score(), "query " + q + " position " + hit.position()
                                    + ": re-scored int8 hit must carry the exact fp32 score");
                        }
                    }
                }
            }
        }
    }

    @Test
    void quantizeUsesTheMaxAbsoluteValueAsCode127() {
        byte[] codes = new byte[4];
        float scale = VectorStore.quantize(new float[] {0.5f, -0.3f, 0f, 0.1f}, codes);
        assertEquals(0.5f / 127f, scale);
        assertEquals(127, codes[0]);
        assertEquals(-76, codes[1]);
        assertEquals(0, codes[2]);
        assertEquals(25, codes[3]);
        assertEquals(0f, VectorStore.quantize(new float[3], new byte[3]));
    }

    @Test
    void recallCountsSharedPositions() {
        List<List<VectorIndex.Hit>> truth = List.of(
                List.of(new VectorIndex.Hit(1, 0.9f), new VectorIndex.Hit(2, 0.8f)),
                List.of(new VectorIndex.Hit(5, 0.9f), new VectorIndex.Hit(6, 0.7f)));
        List<List<VectorIndex.Hit>> found = List.of(
                List.of(new VectorIndex.Hit(2, 0.8f), new VectorIndex.Hit(1, 0.9f)),
                List.of(new VectorIndex.Hit(5, 0.9f), new VectorIndex.Hit(7, 0.6f)));
        assertEquals(0.75, Recall.recall(truth, found));
    }
}
