package io.jembed.lucene;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.logging.Level;
import java.util.logging.Logger;

import org.apache.lucene.codecs.KnnVectorsFormat;
import org.apache.lucene.codecs.lucene104.Lucene104Codec;
import org.apache.lucene.codecs.lucene104.Lucene104HnswScalarQuantizedVectorsFormat;
import org.apache.lucene.codecs.lucene99.Lucene99HnswVectorsFormat;
import org.apache.lucene.document.Document;
import org.apache.lucene.document.KnnFloatVectorField;
import org.apache.lucene.document.NumericDocValuesField;
import org.apache.lucene.index.IndexWriter;
import org.apache.lucene.index.IndexWriterConfig;
import org.apache.lucene.index.LogByteSizeMergePolicy;
import org.apache.lucene.index.SerialMergeScheduler;
import org.apache.lucene.index.VectorSimilarityFunction;
import org.apache.lucene.store.FSDirectory;
import org.apache.lucene.util.quantization.QuantizedByteVectorValues;

import io.jembed.core.index.IndexType;
import io.jembed.core.index.VectorIndex;
import io.jembed.core.index.VectorStore;
import io.jembed.core.kernels.WorkerPool;

/**
 * The "hnsw" index type: each segment's rows in an Apache Lucene index of its own
 * ({@code index.S/}), a {@link KnnFloatVectorField} per row searched through Lucene's HNSW graph;
 * see {@link HnswIndex} for the search.
 *
 * <p>Only the graph (and Lucene's copy of the vectors it walks) lives in Lucene. Documents, ids,
 * deletions and the commit stay jembed's ({@code IndexStore}), the same for every type: a segment's
 * Lucene index is written once, when the segment is, and never changed, so a crash is covered by the
 * manifest rename as for flat, and there is one commit point rather than two that must agree.
 * Deleted rows are kept out of a search by Lucene's pre-filtered kNN (an accept set), as filters are.
 *
 * <p>Settings (manifest.json {@code index_parameters}, all as text):
 * <ul>
 *   <li>{@code m} (16): graph neighbours per node (Lucene's maxConn); more costs memory and build
 *       time for recall;</li>
 *   <li>{@code ef_construction} (100): the beam while building (Lucene's beamWidth);</li>
 *   <li>{@code quantize} (none): the vectors the graph walks: none (float32), int8 or int4, Lucene's
 *       scalar-quantised format; candidates are re-scored with the float32 rows either way;</li>
 *   <li>{@code ef} (100): candidates per query when a search does not say, at least k.</li>
 * </ul>
 * Vectors are unit length, so the similarity is DOT_PRODUCT (cosine without renormalising).
 */
public final class HnswIndexType implements IndexType {

    public static final String NAME = "hnsw";
    static final String VECTOR_FIELD = "vector";
    static final String ROW_FIELD = "row";

    static final int DEFAULT_M = 16;
    static final int DEFAULT_EF_CONSTRUCTION = 100;
    static final int DEFAULT_EF = 100;
    /** Lucene's per-thread indexing buffer limit (its hard limit is 1945 MB): rows past it flush a segment. */
    private static final int RAM_PER_THREAD_MB = 1900;

    /**
     * Lucene says at INFO which vector code it chose; a CLI's stderr is for the user's messages.
     * Held in a field: java.util.logging keeps loggers weakly, and a collected one forgets its level.
     */
    private static final Logger LUCENE_VECTORIZATION = Logger.getLogger("org.apache.lucene.internal.vectorization");

    static {
        LUCENE_VECTORIZATION.setLevel(Level.WARNING);
    }

    /** The service-loader constructor. */
    public HnswIndexType() {
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public String description() {
        return "approximate: Lucene's HNSW graph (for millions of passages; --hnsw-m, --hnsw-ef-construction, --ef)";
    }

    @Override
    public Map<String, String> parameters(Map<String, String> given) {
        Map<String, String> rest = new LinkedHashMap<>(given);
        Map<String, String> parameters = new LinkedHashMap<>();
        parameters.put("m", Integer.toString(integer(rest.remove("m"), "m", DEFAULT_M, 2,
                Lucene99HnswVectorsFormat.MAXIMUM_MAX_CONN)));
        parameters.put("ef_construction", Integer.toString(integer(rest.remove("ef_construction"), "ef_construction",
                DEFAULT_EF_CONSTRUCTION, 1, Lucene99HnswVectorsFormat.MAXIMUM_BEAM_WIDTH)));
        String quantize = rest.remove("quantize");
        quantize = quantize == null ? "none" : quantize.toLowerCase(Locale.ROOT);
        if (!List.of("none", "int8", "int4").contains(quantize)) {
            throw new IllegalArgumentException("hnsw quantize: expected none, int8 or int4, found '" + quantize + "'");
        }
        parameters.put("quantize", quantize);
        parameters.put("ef", Integer.toString(integer(rest.remove("ef"), "ef", DEFAULT_EF, 1, 100_000)));
        if (!rest.isEmpty()) {
            throw new IllegalArgumentException("hnsw settings: expected m, ef_construction, quantize or ef, found "
                    + String.join(", ", rest.keySet()));
        }
        return parameters;
    }

    private static int integer(String text, String name, int otherwise, int min, int max) {
        if (text == null) {
            return otherwise;
        }
        try {
            int value = Integer.parseInt(text.trim());
            if (value >= min && value <= max) {
                return value;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new IllegalArgumentException("hnsw " + name + ": expected an integer in [" + min + ", " + max
                + "], found '" + text + "'");
    }

    @Override
    public boolean writesSegmentFiles() {
        return true;
    }

    /**
     * One Lucene index of the rows, merged to one Lucene segment (one graph to walk per query). Rows
     * are added by the pool's threads, each with its own Lucene buffer (and graph); the merge then
     * grows the largest graph with the other rows on as many workers. Each document holds the row's
     * vector and its row number (doc values), since Lucene numbers documents in its own order.
     */
    @Override
    public void writeSegment(Path directory, VectorStore rows, Map<String, String> parameters, WorkerPool pool)
            throws IOException {
        Map<String, String> settings = parameters(parameters);
        int threads = Math.max(1, pool.threads());
        ExecutorService merges = threads > 1 ? Executors.newFixedThreadPool(threads, daemon("jembed-hnsw-merge"))
                : null;
        try (FSDirectory dir = FSDirectory.open(directory)) {
            KnnVectorsFormat format = format(settings, threads, merges);
            IndexWriterConfig config = new IndexWriterConfig()
                    .setOpenMode(IndexWriterConfig.OpenMode.CREATE)
                    .setCodec(new Lucene104Codec() {
                        @Override
                        public KnnVectorsFormat getKnnVectorsFormatForField(String field) {
                            return format;
                        }
                    })
                    .setRAMBufferSizeMB(bufferMegabytes(threads))
                    .setRAMPerThreadHardLimitMB(RAM_PER_THREAD_MB)
                    .setMergePolicy(new LogByteSizeMergePolicy())
                    .setMergeScheduler(new SerialMergeScheduler())
                    .setUseCompoundFile(false)
                    .setCommitOnClose(false);
            try (IndexWriter writer = new IndexWriter(dir, config)) {
                int n = rows.size();
                List<IOException> failures = new ArrayList<>();
                AtomicInteger next = new AtomicInteger();
                int block = 1024;
                pool.parallelFor(threads, t -> {
                    try {
                        for (int start = next.getAndAdd(block); start < n; start = next.getAndAdd(block)) {
                            for (int row = start; row < Math.min(n, start + block); row++) {
                                Document document = new Document();
                                document.add(new KnnFloatVectorField(VECTOR_FIELD, rows.vector(row),
                                        VectorSimilarityFunction.DOT_PRODUCT));
                                document.add(new NumericDocValuesField(ROW_FIELD, row));
                                writer.addDocument(document);
                            }
                        }
                    } catch (IOException e) {
                        synchronized (failures) {
                            failures.add(e);
                        }
                    }
                });
                if (!failures.isEmpty()) {
                    throw failures.get(0);
                }
                writer.forceMerge(1);
                // Forces every file and the directory to disk before returning: the manifest names this next.
                writer.commit();
            }
        } finally {
            if (merges != null) {
                merges.shutdown();
                try {
                    merges.awaitTermination(1, TimeUnit.MINUTES);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        }
    }

    /**
     * Lucene's indexing buffer: each flush writes a Lucene segment whose graph the final merge
     * mostly rebuilds, so as large as the heap allows (a third of it: the rows are on the heap
     * twice while a flush writes them), up to the per-thread limit for each thread.
     */
    private static double bufferMegabytes(int threads) {
        double heapThird = Runtime.getRuntime().maxMemory() / 3.0 / (1 << 20);
        return Math.max(16, Math.min(heapThird, (double) RAM_PER_THREAD_MB * threads));
    }

    /** Lucene's HNSW format for the settings: float32 vectors, or its scalar-quantised ones. */
    static KnnVectorsFormat format(Map<String, String> settings, int threads, ExecutorService merges) {
        int m = Integer.parseInt(settings.get("m"));
        int efConstruction = Integer.parseInt(settings.get("ef_construction"));
        int workers = merges == null ? 1 : threads;
        return switch (settings.get("quantize")) {
            case "int8" -> new Lucene104HnswScalarQuantizedVectorsFormat(
                    QuantizedByteVectorValues.ScalarEncoding.UNSIGNED_BYTE, m, efConstruction, workers, merges);
            case "int4" -> new Lucene104HnswScalarQuantizedVectorsFormat(
                    QuantizedByteVectorValues.ScalarEncoding.PACKED_NIBBLE, m, efConstruction, workers, merges);
            default -> new Lucene99HnswVectorsFormat(m, efConstruction, workers, merges);
        };
    }

    private static java.util.concurrent.ThreadFactory daemon(String name) {
        return runnable -> {
            Thread thread = new Thread(runnable, name);
            thread.setDaemon(true);
            return thread;
        };
    }

    @Override
    public VectorIndex open(Context context) throws IOException {
        return HnswIndex.open(context, parameters(context.parameters()));
    }
}
