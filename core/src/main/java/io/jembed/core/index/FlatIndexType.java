package io.jembed.core.index;

import java.nio.file.Path;
import java.util.Map;

import io.jembed.core.kernels.WorkerPool;

/** The built-in exact type: every search scans every row ({@link FlatIndex}); no files of its own. */
final class FlatIndexType implements IndexType {

    static final FlatIndexType INSTANCE = new FlatIndexType();

    private FlatIndexType() {
    }

    @Override
    public String name() {
        return FlatIndex.TYPE;
    }

    @Override
    public String description() {
        return "exact: every query scans every vector (the default; best up to about a million passages)";
    }

    @Override
    public Map<String, String> parameters(Map<String, String> given) {
        if (!given.isEmpty()) {
            throw new IllegalArgumentException("index type flat: expected no settings, found "
                    + String.join(", ", given.keySet()) + " (settings of the hnsw type)");
        }
        return Map.of();
    }

    @Override
    public boolean writesSegmentFiles() {
        return false;
    }

    @Override
    public void writeSegment(Path directory, VectorStore rows, Map<String, String> parameters, WorkerPool pool) {
        throw new UnsupportedOperationException("the flat index type writes no files of its own");
    }

    @Override
    public VectorIndex open(Context context) {
        return new FlatIndex(context.store(), context.pool(), false, false);
    }
}
