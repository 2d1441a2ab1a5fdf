package io.jembed.core.index;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.ServiceConfigurationError;
import java.util.ServiceLoader;

/**
 * The index types this jembed has: flat, and every {@link IndexType} on the class path registered
 * under {@code META-INF/services/io.jembed.core.index.IndexType} (the runnable jar holds the
 * jembed-lucene module's hnsw).
 */
public final class IndexTypes {

    private static volatile Map<String, IndexType> types;

    private IndexTypes() {
    }

    /** Every type by name, flat first. */
    public static Map<String, IndexType> all() {
        Map<String, IndexType> found = types;
        if (found == null) {
            found = new LinkedHashMap<>();
            found.put(FlatIndex.TYPE, FlatIndexType.INSTANCE);
            try {
                for (IndexType type : ServiceLoader.load(IndexType.class, IndexTypes.class.getClassLoader())) {
                    found.putIfAbsent(type.name(), type);
                }
            } catch (ServiceConfigurationError e) {
                // A broken provider on the class path must not take flat down with it; its type is then missing.
            }
            types = found = java.util.Collections.unmodifiableMap(found);
        }
        return found;
    }

    /**
     * The type called {@code name}.
     *
     * @throws IllegalArgumentException naming the types there are, when there is none of that name
     */
    public static IndexType get(String name) {
        IndexType type = all().get(name);
        if (type == null) {
            List<String> names = new ArrayList<>(all().keySet());
            throw new IllegalArgumentException("index type: expected " + String.join(" or ", names) + ", found '"
                    + name + "'" + ("hnsw".equals(name) ? " (hnsw comes with the jembed-lucene module, which is not "
                    + "on this class path)" : ""));
        }
        return type;
    }
}
