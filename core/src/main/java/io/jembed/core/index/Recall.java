package io.jembed.core.index;

import java.util.HashSet;
import java.util.List;
import java.util.Set;

/** How many of the true nearest neighbours an approximate search finds. */
public final class Recall {

    private Recall() {
    }

    /**
     * Mean over queries of {@code |found ∩ truth| / |truth|}, comparing positions; both lists hold
     * one hit list per query, in the same order.
     *
     * @throws IllegalArgumentException if the lists have different lengths
     */
    public static double recall(List<List<VectorIndex.Hit>> truth, List<List<VectorIndex.Hit>> found) {
        if (truth.size() != found.size()) {
            throw new IllegalArgumentException("recall: expected as many result lists as truth lists ("
                    + truth.size() + "), found " + found.size());
        }
        if (truth.isEmpty()) {
            return 1.0;
        }
        double sum = 0;
        for (int q = 0; q < truth.size(); q++) {
            Set<Integer> expected = new HashSet<>();
            for (VectorIndex.Hit hit : truth.get(q)) {
                expected.add(hit.position());
            }
            if (expected.isEmpty()) {
                sum += 1.0;
                continue;
            }
            int matched = 0;
            for (VectorIndex.Hit hit : found.get(q)) {
                if (expected.contains(hit.position())) {
                    matched++;
                }
            }
            sum += (double) matched / expected.size();
        }
        return sum / truth.size();
    }

    /**
     * recall@k of int8 search (int8 scan, exact re-scoring) against the exact fp32 scan, for
     * {@code queries} over {@code corpus}: the number the int8 option reports. Meant for real
     * embeddings (the acceptance bar is 0.99 at k = 10).
     */
    public static double int8Recall(float[][] corpus, float[][] queries, int k) {
        if (corpus.length == 0) {
            throw new IllegalArgumentException("recall: expected a non-empty corpus, found 0 vectors");
        }
        try (FlatIndex index = new FlatIndex(corpus[0].length, Quantization.INT8, FlatIndex.defaultThreads())) {
            index.add(corpus);
            return recall(index.searchExact(queries, k), index.search(queries, k));
        }
    }
}
