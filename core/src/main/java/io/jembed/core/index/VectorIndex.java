package io.jembed.core.index;

import java.util.BitSet;
import java.util.List;

/**
 * An index type: how the rows of a {@link VectorStore} are searched. {@link IndexStore} keeps the
 * documents, the segments and the deletions, and asks its index for the best rows; the index type
 * is recorded in manifest.json ({@code "index_type"}) so a directory is reopened with the same.
 * Today there is {@link FlatIndex} ("flat", exact); an approximate type such as HNSW implements the
 * same contract over the same rows.
 *
 * <p>Contract: rows are numbered as in the store; a row in {@code excluded} (deleted or replaced
 * documents) is never returned; hits are best first with ties broken by lower row; k is at least 1
 * and larger than the number of rows means all of them.
 */
public interface VectorIndex extends AutoCloseable {

    /**
     * One search result.
     *
     * @param position the row (insertion order across segments, from 0)
     * @param score    cosine similarity of the query and the row's vector
     */
    record Hit(int position, float score) {
    }

    /** The name recorded in manifest.json, e.g. "flat". */
    String type();

    int dimension();

    Quantization quantization();

    /** Rows stored, excluded or not. */
    int size();

    /**
     * The k best rows for each query, none of them in {@code excluded} (null: none excluded).
     *
     * @throws IllegalArgumentException if k &lt; 1 or a query has the wrong length or a non-finite value
     */
    List<List<Hit>> search(float[][] queries, int k, BitSet excluded);

    /** Releases what the index holds (not the store's blocks, which belong to their owner). */
    @Override
    void close();
}
