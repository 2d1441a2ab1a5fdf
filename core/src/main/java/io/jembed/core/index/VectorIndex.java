package io.jembed.core.index;

import java.util.BitSet;
import java.util.List;

/**
 * An index type: how the rows of a {@link VectorStore} are searched. {@link IndexStore} keeps the
 * documents, the segments and the deletions, and asks its index for the best rows; the index type
 * is recorded in manifest.json ({@code "index_type"}) so a directory is reopened with the same.
 * {@link FlatIndex} ("flat") is exact; an approximate type (hnsw, from {@link IndexType}) implements
 * the same contract over the same rows, examining {@code candidates} of them per query.
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

    /**
     * {@link #search(float[][], int, BitSet)} examining about {@code candidates} rows per query
     * (hnsw's ef; at least k is used): more finds more of the true nearest at more cost. 0 means
     * the type's default; an exact type ignores it.
     */
    default List<List<Hit>> search(float[][] queries, int k, BitSet excluded, int candidates) {
        return search(queries, k, excluded);
    }

    /** Releases what the index holds (not the store's blocks, which belong to their owner). */
    @Override
    void close();
}
