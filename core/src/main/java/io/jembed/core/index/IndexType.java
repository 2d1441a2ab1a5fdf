package io.jembed.core.index;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import io.jembed.core.kernels.WorkerPool;

/**
 * A kind of index: how the rows of an {@link IndexStore} are searched, and which files that needs
 * beside the segments. {@link IndexStore} keeps the documents, the vectors, the segments and the
 * deletions for every type; a type adds a search over those rows ({@link #open}) and, when it
 * needs one, a structure per segment written once when the segment is ({@link #writeSegment}) and,
 * like the segment, never changed after.
 *
 * <p>"flat" ({@link FlatIndex}, exact) is built in; other types are found with
 * {@link java.util.ServiceLoader} (the jembed-lucene module's "hnsw"), so core depends on none of
 * them. See {@link IndexTypes}.
 */
public interface IndexType {

    /**
     * One committed segment's rows as the index sees them.
     *
     * @param id       the segment's number
     * @param firstRow its first row in the store
     * @param rows     how many rows it has
     * @param files    the directory {@link #writeSegment} wrote for it, or null (none written)
     */
    record SegmentRows(long id, int firstRow, int rows, Path files) {
    }

    /**
     * What {@link #open} searches.
     *
     * @param parameters the type's settings from the manifest
     * @param store      every row, segments first, then the rows added since the last commit
     * @param segments   the committed segments in row order; rows past the last are the tail
     * @param pool       the threads one search may use
     */
    record Context(Map<String, String> parameters, VectorStore store, List<SegmentRows> segments, WorkerPool pool) {
        public Context {
            parameters = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(parameters));
            segments = List.copyOf(segments);
        }
    }

    /** The name in manifest.json and on the command line ({@code --type}). */
    String name();

    /** One line for help texts: what the type is for. */
    String description();

    /**
     * The settings of a new index from what a user gave: defaults filled in, in a fixed order (they
     * are written to manifest.json as they come back).
     *
     * @throws IllegalArgumentException naming the setting, what it expects and what it found, for an
     *                                  unknown name or a bad value
     */
    Map<String, String> parameters(Map<String, String> given);

    /** Whether {@link #writeSegment} writes anything (flat writes nothing beside the segment). */
    boolean writesSegmentFiles();

    /**
     * Writes this type's structure for one new segment into {@code directory} (which does not exist
     * yet), from its rows, and forces it to disk: the segment is committed after this returns.
     */
    void writeSegment(Path directory, VectorStore rows, Map<String, String> parameters, WorkerPool pool)
            throws IOException;

    /** The searchable index over a store's rows. */
    VectorIndex open(Context context) throws IOException;
}
