package io.jembed.core.index;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.locks.ReadWriteLock;
import java.util.concurrent.locks.ReentrantLock;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.regex.Pattern;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.core.json.JsonWriteFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;

import io.jembed.core.kernels.WorkerPool;

/**
 * A searchable collection of documents: their vectors in a {@link VectorStore} searched by a
 * {@link VectorIndex}, the documents themselves, and the {@link EmbeddingSpec} that says which
 * model made the vectors; in memory ({@link #create}), or opened from an index directory
 * ({@link #open}) whose segments are memory-mapped and whose documents are read from their files
 * when a search returns them.
 *
 * <p>Ids are keys: an id names one live document. {@link #add} refuses an id already present (in
 * the index or earlier in the same call) unless told to replace it ({@link Duplicates#REPLACE},
 * upsert); {@link #delete} removes documents by id. An integer id 7 and a string id "7" are the
 * same key, as they are on a command line. Deleted and replaced documents are never returned;
 * their rows stay in their segment, marked in its deletion set, until {@link #compact}.
 *
 * <p>A document is one row, or with chunking several rows (windows of its text, each with its span)
 * under the same id; a search ranks documents by their best row and reports that row's window.
 *
 * <p>{@link #save(Path)} commits: to the directory the store was opened from (or last saved to) it
 * writes only what changed, one new segment for the added documents and a new deletion file per
 * segment that lost documents; elsewhere it writes every live document as one segment. The layout
 * and the crash-safety argument are in the package documentation.
 *
 * <p>Thread safety: searches and {@link #document} may run concurrently with each other and with a
 * save's writing; {@link #add}, {@link #delete}, {@link #save} and {@link #compact} are serialised,
 * and block searches only for the moments they change what a search reads. Positions (of documents
 * and rows) are stable until a save or compaction that removes deleted documents renumbers them.
 */
public final class IndexStore implements AutoCloseable {

    /**
     * A window of a chunked document: chars [start, end) of its text.
     *
     * @param start first char (UTF-16, as Java strings index)
     * @param end   one past the last char
     * @param text  the window's text
     */
    public record Chunk(int start, int end, String text) {
    }

    /**
     * One search result with its document.
     *
     * @param position the document's position (segment order, from 0)
     * @param score    cosine similarity of the query and the document's best row
     * @param document the document
     * @param chunk    the window that scored best, or null when documents are not chunked
     */
    public record Match(int position, float score, Document document, Chunk chunk) {
    }

    /**
     * How a search runs beyond its queries and k.
     *
     * @param filter     which documents may be returned, or null for all
     * @param candidates rows an approximate index examines per query (hnsw's ef), 0 for the type's
     *                   default; exact search ignores it
     */
    public record SearchOptions(DocumentFilter filter, int candidates) {
        /** No filter, the type's default effort. */
        public static final SearchOptions DEFAULT = new SearchOptions(null, 0);

        public SearchOptions {
            if (candidates < 0) {
                throw new IllegalArgumentException("candidates: expected >= 0 (0: the index type's default), found "
                        + candidates);
            }
        }
    }

    /** What {@link #add} does with a document whose id is already in the index. */
    public enum Duplicates {
        /** Refuse the whole call ({@link DuplicateIdException}), adding nothing. */
        REFUSE,
        /** Delete the old document(s) and add the new one (upsert); the last of one call wins. */
        REPLACE
    }

    /** An id given twice, or already in the index, when duplicates are refused. */
    public static final class DuplicateIdException extends IllegalArgumentException {
        private static final long serialVersionUID = 1L;
        private final String id;
        private final int index;

        DuplicateIdException(String id, int index, String detail) {
            super("document id " + quote(id) + ": " + detail);
            this.id = id;
            this.index = index;
        }

        /** The id, as text. */
        public String id() {
            return id;
        }

        /** Its place in the list given to {@link #add}. */
        public int index() {
            return index;
        }
    }

    public static final String MANIFEST_FILE = "manifest.json";
    static final String LOCK_FILE = ".lock";
    static final String MANIFEST_TEMP = ".manifest.json.tmp";
    /** Names of the files a save writes, so leftovers of an interrupted save can be recognised. */
    private static final Pattern GENERATION_FILE = Pattern.compile(
            "(vectors\\.\\d+\\.safetensors|documents\\.\\d+\\.jsonl|deletions\\.\\d+\\.\\d+\\.bin|index\\.\\d+)");

    // Characters outside the BMP are written as UTF-8 rather than as escaped surrogate pairs, so lines stay readable.
    private static final ObjectMapper JSON = JsonMapper.builder()
            .enable(JsonWriteFeature.COMBINE_UNICODE_SURROGATES_IN_UTF8)
            .build();
    private static final ObjectMapper PRETTY = JSON.copy().enable(SerializationFeature.INDENT_OUTPUT);

    /** A point of {@link #save} at which a test can simulate a crash by throwing. */
    @FunctionalInterface
    interface SaveHook {
        void reached(String step) throws IOException;
    }

    static volatile SaveHook saveHook = step -> { };

    private final EmbeddingSpec spec;
    private final Quantization quantization;
    private final IndexType type;
    /** The type's settings, as the manifest records them. */
    private final Map<String, String> parameters;
    private final WorkerPool pool;
    private final boolean ownsPool;
    /** Searches and document reads take the read lock; changes to what they read take the write lock. */
    private final ReadWriteLock lock = new ReentrantReadWriteLock();
    /** Held by add, delete, save and compact for their whole run, so writers never interleave. */
    private final ReentrantLock writer = new ReentrantLock();

    private Manifest.Chunking chunking;
    /** The directory this store commits to incrementally, and the generation it last read or wrote there. */
    private Path source;
    private long sourceGeneration;
    private List<SegmentData> segments = List.of();
    private VectorStore vectors;
    private VectorIndex index;
    // The tail: documents added since the last commit, their first rows (prefix, size + 1) and windows.
    private List<Document> added = new ArrayList<>();
    private int[] addedRows = {0};
    private int[] addedSpans = new int[0];
    private BitSet deletedAdded = new BitSet();
    /** Rows of deleted documents, everywhere: what the index must skip. Replaced, never changed, once published. */
    private BitSet excluded = new BitSet();
    private int maxRowsPerDocument = 1;
    private int documentsInSegments;
    private int deletedInSegments;
    /** id hash -> positions of live documents with that id hash; built when a write first needs it. */
    private Map<Long, int[]> keys;
    private boolean closed;

    private IndexStore(EmbeddingSpec spec, Quantization quantization, IndexType type, Map<String, String> parameters,
                       WorkerPool pool, boolean ownsPool) throws IOException {
        this.spec = spec;
        this.quantization = quantization;
        this.type = type;
        this.parameters = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(parameters));
        this.pool = pool;
        this.ownsPool = ownsPool;
        this.vectors = new VectorStore(spec.dimension(), quantization);
        this.index = type.open(new IndexType.Context(parameters, vectors, List.of(), pool));
    }

    private static IndexStore created(EmbeddingSpec spec, Quantization quantization, IndexType type,
                                      Map<String, String> parameters, WorkerPool pool, boolean ownsPool) {
        try {
            return new IndexStore(spec, quantization, type, parameters, pool, ownsPool);
        } catch (IOException e) {
            // Opening over no segment reads no file.
            throw new UncheckedIOException(e);
        }
    }

    /**
     * An empty in-memory collection.
     *
     * @param threads threads one search may use
     */
    public static IndexStore create(EmbeddingSpec spec, Quantization quantization, int threads) {
        Objects.requireNonNull(spec, "spec");
        Objects.requireNonNull(quantization, "quantization");
        if (threads < 1) {
            throw new IllegalArgumentException("index threads: expected >= 1, found " + threads);
        }
        return created(spec, quantization, FlatIndexType.INSTANCE, Map.of(), WorkerPool.create(threads), true);
    }

    /** An empty in-memory collection whose searches run on {@code pool} (the caller closes it, after this). */
    public static IndexStore create(EmbeddingSpec spec, Quantization quantization, WorkerPool pool) {
        Objects.requireNonNull(spec, "spec");
        Objects.requireNonNull(quantization, "quantization");
        return created(spec, quantization, FlatIndexType.INSTANCE, Map.of(), Objects.requireNonNull(pool, "pool"),
                false);
    }

    /**
     * An empty in-memory collection of an index type ({@link IndexTypes#get}), searched on
     * {@code pool} (the caller closes it, after this).
     *
     * @param type       "flat", or another type on the class path (hnsw)
     * @param parameters the type's settings; missing ones take its defaults
     * @throws IllegalArgumentException for a type there is not, or a bad setting
     */
    public static IndexStore create(EmbeddingSpec spec, Quantization quantization, String type,
                                    Map<String, String> parameters, WorkerPool pool) {
        Objects.requireNonNull(spec, "spec");
        Objects.requireNonNull(quantization, "quantization");
        IndexType found = IndexTypes.get(type);
        return created(spec, quantization, found, found.parameters(parameters), Objects.requireNonNull(pool, "pool"),
                false);
    }

    /** Whether {@code dir} looks like an index directory (holds a manifest.json). */
    public static boolean isIndex(Path dir) {
        return Files.isRegularFile(dir.resolve(MANIFEST_FILE));
    }

    /**
     * The manifest of an index directory, validated but without opening the data files.
     *
     * @throws IndexFormatException NOT_AN_INDEX, BAD_MANIFEST or UNSUPPORTED_VERSION
     */
    public static Manifest readManifest(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            throw new IndexFormatException(IndexFormatException.Reason.NOT_AN_INDEX, dir,
                    "index directory: expected a directory, found nothing");
        }
        if (!Files.isDirectory(dir)) {
            throw new IndexFormatException(IndexFormatException.Reason.NOT_AN_INDEX, dir,
                    "index directory: expected a directory, found a file");
        }
        Path file = dir.resolve(MANIFEST_FILE);
        if (!Files.isRegularFile(file)) {
            throw new IndexFormatException(IndexFormatException.Reason.NOT_AN_INDEX, dir,
                    "index directory: expected " + MANIFEST_FILE + ", found none (not a jembed index)");
        }
        JsonNode json;
        try {
            json = JSON.readTree(Files.readAllBytes(file));
        } catch (JacksonException e) {
            throw new IndexFormatException(IndexFormatException.Reason.BAD_MANIFEST, dir, MANIFEST_FILE
                    + ": expected well-formed JSON, found a syntax error (" + e.getOriginalMessage() + ")", e);
        }
        if (json == null || json.isMissingNode()) {
            throw new IndexFormatException(IndexFormatException.Reason.BAD_MANIFEST, dir,
                    MANIFEST_FILE + ": expected a JSON object, found an empty file");
        }
        return Manifest.fromJson(json, dir);
    }

    /**
     * Opens an index directory for search and writes, refusing it unless it was built with the
     * {@code expected} model, dimension and pooling.
     *
     * @throws IndexFormatException with the reason the directory cannot be used
     * @throws IOException          if a file cannot be read or mapped
     */
    public static IndexStore open(Path dir, EmbeddingSpec expected, int threads) throws IOException {
        Objects.requireNonNull(expected, "expected");
        Manifest manifest = readManifest(dir);
        checkCompatible(expected, manifest.spec(), dir);
        return open(dir, manifest, WorkerPool.create(checkThreads(threads)), true);
    }

    /** As {@link #open(Path, EmbeddingSpec, int)}, searching on {@code pool} (the caller closes it, after this). */
    public static IndexStore open(Path dir, EmbeddingSpec expected, WorkerPool pool) throws IOException {
        Objects.requireNonNull(expected, "expected");
        Objects.requireNonNull(pool, "pool");
        Manifest manifest = readManifest(dir);
        checkCompatible(expected, manifest.spec(), dir);
        return open(dir, manifest, pool, false);
    }

    /** Opens an index directory whatever model built it; {@link #spec()} says which. */
    public static IndexStore open(Path dir, int threads) throws IOException {
        return open(dir, readManifest(dir), WorkerPool.create(checkThreads(threads)), true);
    }

    private static int checkThreads(int threads) {
        if (threads < 1) {
            throw new IllegalArgumentException("index threads: expected >= 1, found " + threads);
        }
        return threads;
    }

    private static IndexStore open(Path dir, Manifest manifest, WorkerPool pool, boolean ownsPool) throws IOException {
        IndexType type = IndexTypes.all().get(manifest.indexType());
        if (type == null) {
            if (ownsPool) {
                pool.close();
            }
            throw new IndexFormatException(IndexFormatException.Reason.UNSUPPORTED_VERSION, dir,
                    "manifest.json index_type: expected " + String.join(" or ", IndexTypes.all().keySet())
                            + ", found \"" + manifest.indexType() + "\" (an index type this jembed does not have"
                            + ("hnsw".equals(manifest.indexType()) ? ": it comes with the jembed-lucene module" : "")
                            + ")");
        }
        IndexStore store;
        try {
            store = new IndexStore(manifest.spec(), manifest.quantization(), type, manifest.indexParameters(), pool,
                    ownsPool);
        } catch (IOException | RuntimeException e) {
            if (ownsPool) {
                pool.close();
            }
            throw e;
        }
        try {
            store.load(dir, manifest);
            return store;
        } catch (IOException | RuntimeException | Error e) {
            store.close();
            throw e;
        }
    }

    /** Replaces the whole state by the segments of a manifest (under the write lock, or before publication). */
    private void load(Path dir, Manifest manifest) throws IOException {
        List<SegmentData> opened = new ArrayList<>();
        List<IndexType.SegmentRows> segmentRows = new ArrayList<>();
        VectorStore store = new VectorStore(spec.dimension(), quantization);
        VectorIndex opening = null;
        BitSet rowsExcluded = new BitSet();
        int firstRow = 0;
        int firstDocument = 0;
        int maxRows = 1;
        int deletedCount = 0;
        try {
            for (Manifest.Segment info : manifest.segments()) {
                SegmentData segment = SegmentData.open(dir, info, quantization, spec.dimension(), firstRow,
                        firstDocument);
                opened.add(segment);
                store.addBlock(segment.vectors, segment.codes, segment.scales, info.rows());
                if (type.writesSegmentFiles() && info.indexFiles() == null) {
                    throw new IndexFormatException(IndexFormatException.Reason.BAD_MANIFEST, dir, "manifest.json "
                            + "segment " + info.id() + " index_files: expected the " + type.name() + " files of the "
                            + "segment, found none");
                }
                segmentRows.add(new IndexType.SegmentRows(info.id(), firstRow, info.rows(),
                        info.indexFiles() == null ? null : dir.resolve(info.indexFiles())));
                for (int d = segment.deleted.nextSetBit(0); d >= 0; d = segment.deleted.nextSetBit(d + 1)) {
                    rowsExcluded.set(firstRow + segment.firstRowOf(d), firstRow + segment.firstRowOf(d + 1));
                }
                firstRow += info.rows();
                firstDocument += info.documents();
                maxRows = Math.max(maxRows, info.maxRowsPerDocument());
                deletedCount += info.deleted();
            }
            opening = type.open(new IndexType.Context(parameters, store, segmentRows, pool));
        } catch (IOException | RuntimeException | Error e) {
            for (SegmentData segment : opened) {
                segment.close();
            }
            throw e;
        }
        List<SegmentData> previous = segments;
        VectorIndex previousIndex = index;
        VectorStore previousVectors = vectors;
        segments = List.copyOf(opened);
        vectors = store;
        index = opening;
        added = new ArrayList<>();
        addedRows = new int[] {0};
        addedSpans = new int[0];
        deletedAdded = new BitSet();
        excluded = rowsExcluded;
        maxRowsPerDocument = maxRows;
        documentsInSegments = firstDocument;
        deletedInSegments = deletedCount;
        keys = null;
        chunking = manifest.chunking();
        source = dir;
        sourceGeneration = manifest.generation();
        previousIndex.close();
        previousVectors.close();
        for (SegmentData segment : previous) {
            segment.close();
        }
    }

    /** Refuses an index whose vectors are not comparable with the expected spec's. */
    static void checkCompatible(EmbeddingSpec expected, EmbeddingSpec found, Path dir) throws IndexFormatException {
        if (!expected.modelSha256().equals(found.modelSha256())) {
            throw new IndexFormatException(IndexFormatException.Reason.MODEL_MISMATCH, dir, "index model: expected "
                    + expected.describeModel() + ", found " + found.describeModel()
                    + "; use the model the index was built with, or rebuild the index");
        }
        if (expected.dimension() != found.dimension()) {
            throw new IndexFormatException(IndexFormatException.Reason.DIMENSION_MISMATCH, dir,
                    "index dimension: expected " + expected.dimension() + ", found " + found.dimension());
        }
        if (!expected.prompts().equals(found.prompts())) {
            throw new IndexFormatException(IndexFormatException.Reason.PROMPTS_MISMATCH, dir, "index prompts: expected "
                    + describe(expected.prompts()) + " (the model's config_sentence_transformers.json), found "
                    + describe(found.prompts()) + " in manifest.json; use the model directory the index was built "
                    + "with, or rebuild the index");
        }
        if (!expected.pooling().equals(found.pooling()) || expected.normalize() != found.normalize()) {
            throw new IndexFormatException(IndexFormatException.Reason.POOLING_MISMATCH, dir, "index pooling: expected "
                    + expected.describePooling() + ", found " + found.describePooling()
                    + "; use the pooling the index was built with, or rebuild the index");
        }
    }

    private static String describe(io.jembed.core.model.Prompts prompts) {
        if (prompts.isEmpty()) {
            return "no prompts";
        }
        return prompts.prompts() + (prompts.defaultPromptName() == null ? "" : " (default "
                + prompts.defaultPromptName() + ")");
    }

    public EmbeddingSpec spec() {
        return spec;
    }

    public int dimension() {
        return spec.dimension();
    }

    public Quantization quantization() {
        return quantization;
    }

    /** The index type searching the rows ("flat", "hnsw"). */
    public String indexType() {
        return type.name();
    }

    /** The index type's settings, as manifest.json records them. */
    public Map<String, String> indexParameters() {
        return parameters;
    }

    /** How documents are cut into windows, or null when they are embedded whole. */
    public Manifest.Chunking chunking() {
        lock.readLock().lock();
        try {
            return chunking;
        } finally {
            lock.readLock().unlock();
        }
    }

    /** Number of live documents (deleted and replaced ones not counted). */
    public int size() {
        lock.readLock().lock();
        try {
            return documentsInSegments - deletedInSegments + added.size() - deletedAdded.cardinality();
        } finally {
            lock.readLock().unlock();
        }
    }

    /** Number of rows (vectors): one per document, or one per window when chunked; deleted ones included. */
    public int rows() {
        lock.readLock().lock();
        try {
            return vectors.size();
        } finally {
            lock.readLock().unlock();
        }
    }

    /**
     * Adds documents with their vectors (one per document, in the same order, from this spec's
     * model), refusing ids already present; returns the first one's position. All are checked
     * before any is added.
     *
     * @throws DuplicateIdException     if an id is in the index or given twice
     * @throws IllegalArgumentException if the counts differ, or a vector has the wrong dimension or
     *                                  a non-finite value
     */
    public int add(List<Document> documents, float[][] vectors) {
        return add(documents, vectors, Duplicates.REFUSE);
    }

    /** {@link #add(List, float[][])} with duplicates refused or replaced. */
    public int add(List<Document> documents, float[][] vectors, Duplicates duplicates) {
        if (documents.size() != vectors.length) {
            throw new IllegalArgumentException("add: expected one vector per document (" + documents.size()
                    + "), found " + vectors.length);
        }
        int[] rowsPerDocument = new int[documents.size()];
        Arrays.fill(rowsPerDocument, 1);
        return add(documents, rowsPerDocument, vectors, null, null, duplicates);
    }

    /**
     * Adds chunked documents: document i has {@code rowsPerDocument[i]} rows (at least 1), its
     * windows' vectors in order in {@code vectors} and their spans as (start, end) pairs in
     * {@code spans}, chars of its text. The store's chunking must be {@code chunking} (set by the
     * first chunked add to an empty store).
     */
    public int addChunked(List<Document> documents, int[] rowsPerDocument, float[][] vectors, int[] spans,
                          Manifest.Chunking chunking, Duplicates duplicates) {
        Objects.requireNonNull(chunking, "chunking");
        return add(documents, rowsPerDocument, vectors, spans, chunking, duplicates);
    }

    private int add(List<Document> documents, int[] rowsPerDocument, float[][] rowVectors, int[] spans,
                    Manifest.Chunking chunked, Duplicates duplicates) {
        Objects.requireNonNull(duplicates, "duplicates");
        if (rowsPerDocument.length != documents.size()) {
            throw new IllegalArgumentException("add: expected a row count per document (" + documents.size()
                    + "), found " + rowsPerDocument.length);
        }
        long rowTotal = 0;
        for (int i = 0; i < documents.size(); i++) {
            Objects.requireNonNull(documents.get(i), "document " + i);
            if (rowsPerDocument[i] < 1) {
                throw new IllegalArgumentException("document " + documents.get(i).idText()
                        + ": expected at least one row, found " + rowsPerDocument[i]);
            }
            rowTotal += rowsPerDocument[i];
        }
        if (rowTotal != rowVectors.length || (spans != null && spans.length != 2 * rowTotal)) {
            throw new IllegalArgumentException("add: expected " + rowTotal + " vectors" + (spans == null ? ""
                    : " and " + 2 * rowTotal + " span ends") + ", found " + rowVectors.length
                    + (spans == null ? "" : " and " + spans.length));
        }
        for (int i = 0; i < rowVectors.length; i++) {
            vectors.check("vector " + i, rowVectors[i]);
        }
        if (spans != null) {
            int row = 0;
            for (int i = 0; i < documents.size(); i++) {
                int length = documents.get(i).text().length();
                for (int w = 0; w < rowsPerDocument[i]; w++, row++) {
                    if (spans[2 * row] < 0 || spans[2 * row] > spans[2 * row + 1] || spans[2 * row + 1] > length) {
                        throw new IllegalArgumentException("document " + documents.get(i).idText() + " window " + w
                                + ": expected a span within its " + length + " chars, found [" + spans[2 * row]
                                + ", " + spans[2 * row + 1] + ")");
                    }
                }
            }
        }
        writer.lock();
        try {
            checkOpen();
            if (!Objects.equals(chunked, chunking) && (vectors.size() > 0 || added.size() > 0)) {
                throw new IllegalArgumentException("add: the index holds " + describe(chunking)
                        + "; expected the same for new documents, found " + describe(chunked));
            }
            Map<Long, int[]> keyMap = keys();
            // Every id is checked before anything changes, so a refused call adds nothing.
            List<Integer> replaced = new ArrayList<>();
            Map<String, Integer> inCall = new HashMap<>();
            for (int i = 0; i < documents.size(); i++) {
                String id = documents.get(i).idText();
                Integer earlier = inCall.put(id, i);
                List<Integer> present = livePositions(keyMap, id);
                if (duplicates == Duplicates.REFUSE) {
                    if (earlier != null) {
                        throw new DuplicateIdException(id, i, "given twice (also at " + (earlier + 1)
                                + " of the " + documents.size() + " documents added together)");
                    }
                    if (!present.isEmpty()) {
                        boolean saved = present.get(0) < documentsInSegments;
                        throw new DuplicateIdException(id, i, saved
                                ? "already in the index (position " + present.get(0) + ")"
                                : "added earlier and not yet saved (position " + present.get(0) + ")");
                    }
                }
                replaced.addAll(present);
            }
            int total = documentsInSegments + added.size();
            lock.writeLock().lock();
            try {
                BitSet rowsExcluded = (BitSet) excluded.clone();
                for (int position : new LinkedHashSet<>(replaced)) {
                    markDeleted(position, rowsExcluded);
                }
                int firstRow = vectors.add(rowVectors);
                int[] rows = Arrays.copyOf(addedRows, addedRows.length + documents.size());
                int[] allSpans = spans == null ? addedSpans : Arrays.copyOf(addedSpans, addedSpans.length + spans.length);
                if (spans != null) {
                    System.arraycopy(spans, 0, allSpans, addedSpans.length, spans.length);
                }
                int row = firstRow - documentsRowsInSegments();
                for (int i = 0; i < documents.size(); i++) {
                    row += rowsPerDocument[i];
                    rows[added.size() + i + 1] = row;
                    maxRowsPerDocument = Math.max(maxRowsPerDocument, rowsPerDocument[i]);
                }
                // Within one call the last of an id wins: earlier ones in the call are deleted at once.
                for (int i = 0; i < documents.size(); i++) {
                    if (inCall.get(documents.get(i).idText()) != i) {
                        deletedAdded.set(added.size() + i);
                        rowsExcluded.set(rows[added.size() + i] + documentsRowsInSegments(),
                                rows[added.size() + i + 1] + documentsRowsInSegments());
                    }
                }
                added.addAll(documents);
                addedRows = rows;
                addedSpans = allSpans;
                excluded = rowsExcluded;
                chunking = chunked;
                for (int i = 0; i < documents.size(); i++) {
                    if (!deletedAdded.get(total - documentsInSegments + i)) {
                        addKey(keyMap, idHash(documents.get(i).idText()), total + i);
                    }
                }
            } finally {
                lock.writeLock().unlock();
            }
            return total;
        } finally {
            writer.unlock();
        }
    }

    private static String describe(Manifest.Chunking chunking) {
        return chunking == null ? "whole documents" : "documents in windows of " + chunking.tokens()
                + " tokens overlapping by " + chunking.overlap();
    }

    /** Rows held by the segments: the tail's rows come after. */
    private int documentsRowsInSegments() {
        return vectors.size() - vectors.tailSize();
    }

    /**
     * Deletes the live documents with these ids (as text: an integer id 7 is "7"); returns how many
     * were deleted. Ids not in the index are ignored; {@code missing} receives them when not null.
     * Takes effect in searches at once, and in the directory at the next {@link #save}.
     */
    public int delete(Collection<String> ids, Collection<String> missing) {
        Objects.requireNonNull(ids, "ids");
        writer.lock();
        try {
            checkOpen();
            Map<Long, int[]> keyMap = keys();
            Set<Integer> positions = new LinkedHashSet<>();
            for (String id : ids) {
                List<Integer> present = livePositions(keyMap, Objects.requireNonNull(id, "id"));
                if (present.isEmpty() && missing != null) {
                    missing.add(id);
                }
                positions.addAll(present);
            }
            if (positions.isEmpty()) {
                return 0;
            }
            lock.writeLock().lock();
            try {
                BitSet rowsExcluded = (BitSet) excluded.clone();
                for (int position : positions) {
                    markDeleted(position, rowsExcluded);
                }
                excluded = rowsExcluded;
            } finally {
                lock.writeLock().unlock();
            }
            return positions.size();
        } finally {
            writer.unlock();
        }
    }

    /** Marks a live document deleted and its rows excluded; drops it from the keys. Under both locks. */
    private void markDeleted(int position, BitSet rowsExcluded) {
        if (position >= documentsInSegments) {
            int local = position - documentsInSegments;
            deletedAdded.set(local);
            int base = documentsRowsInSegments();
            rowsExcluded.set(base + addedRows[local], base + addedRows[local + 1]);
        } else {
            SegmentData segment = segmentOfDocument(position);
            int local = position - segment.firstDocument;
            segment.deleted.set(local);
            segment.deletionsChanged = true;
            deletedInSegments++;
            rowsExcluded.set(segment.firstRow + segment.firstRowOf(local), segment.firstRow + segment.firstRowOf(local + 1));
        }
        if (keys != null) {
            long hash = idHash(documentAt(position).idText());
            int[] list = keys.get(hash);
            if (list != null) {
                int[] rest = Arrays.stream(list).filter(p -> p != position).toArray();
                if (rest.length == 0) {
                    keys.remove(hash);
                } else {
                    keys.put(hash, rest);
                }
            }
        }
    }

    /** Live positions whose id is exactly {@code id} (the hash narrows, the document's id decides). */
    private List<Integer> livePositions(Map<Long, int[]> keyMap, String id) {
        int[] candidates = keyMap.get(idHash(id));
        if (candidates == null) {
            return List.of();
        }
        List<Integer> found = new ArrayList<>(1);
        for (int position : candidates) {
            if (!isDeleted(position) && documentAt(position).idText().equals(id)) {
                found.add(position);
            }
        }
        return found;
    }

    private boolean isDeleted(int position) {
        if (position >= documentsInSegments) {
            return deletedAdded.get(position - documentsInSegments);
        }
        SegmentData segment = segmentOfDocument(position);
        return segment.deleted.get(position - segment.firstDocument);
    }

    /** The id keys of every live document, built on first use from the segments' id hashes. */
    private Map<Long, int[]> keys() {
        if (keys == null) {
            Map<Long, int[]> map = new HashMap<>();
            for (SegmentData segment : segments) {
                for (int d = 0; d < segment.documentCount(); d++) {
                    if (!segment.deleted.get(d)) {
                        // Segments of format version 2 have no hashes: their ids are read once, here.
                        long hash = segment.hasIdHashes() ? segment.idHash(d)
                                : idHash(parse(segment, d).idText());
                        addKey(map, hash, segment.firstDocument + d);
                    }
                }
            }
            for (int i = 0; i < added.size(); i++) {
                if (!deletedAdded.get(i)) {
                    addKey(map, idHash(added.get(i).idText()), documentsInSegments + i);
                }
            }
            keys = map;
        }
        return keys;
    }

    private static void addKey(Map<Long, int[]> map, long hash, int position) {
        int[] list = map.get(hash);
        if (list == null) {
            map.put(hash, new int[] {position});
        } else {
            int[] longer = Arrays.copyOf(list, list.length + 1);
            longer[list.length] = position;
            map.put(hash, longer);
        }
    }

    /**
     * The key of an id: FNV-1a (64-bit) over the UTF-8 bytes of its text, as stored in a segment's
     * {@code id_hashes}. Only narrows a lookup; equality of the text decides.
     */
    static long idHash(String idText) {
        long hash = 0xcbf29ce484222325L;
        for (byte b : idText.getBytes(StandardCharsets.UTF_8)) {
            hash ^= b & 0xff;
            hash *= 0x100000001b3L;
        }
        return hash;
    }

    /** Whether a live document has this id (as text). */
    public boolean contains(String id) {
        writer.lock();
        try {
            checkOpen();
            return !livePositions(keys(), id).isEmpty();
        } finally {
            writer.unlock();
        }
    }

    /** The stored (unit-length float32) vector of a row. */
    public float[] vector(int row) {
        lock.readLock().lock();
        try {
            checkOpen();
            return vectors.vector(row);
        } finally {
            lock.readLock().unlock();
        }
    }

    /**
     * The document at a position (deleted ones too, until compaction removes them).
     *
     * @throws UncheckedIOException wrapping an {@link IndexFormatException} (BAD_DOCUMENTS) if its
     *                              line in an opened directory is not a valid document
     */
    public Document document(int position) {
        lock.readLock().lock();
        try {
            checkOpen();
            Objects.checkIndex(position, documentsInSegments + added.size());
            return documentAt(position);
        } finally {
            lock.readLock().unlock();
        }
    }

    private Document documentAt(int position) {
        if (position >= documentsInSegments) {
            return added.get(position - documentsInSegments);
        }
        SegmentData segment = segmentOfDocument(position);
        return parse(segment, position - segment.firstDocument);
    }

    private Document parse(SegmentData segment, int local) {
        try {
            return Document.fromStoredLine(JSON.readTree(segment.line(local)), segment.nestedFields());
        } catch (IOException | IllegalArgumentException e) {
            String reason = e instanceof JacksonException json ? json.getOriginalMessage() : e.getMessage();
            throw new UncheckedIOException(new IndexFormatException(IndexFormatException.Reason.BAD_DOCUMENTS, source,
                    segment.info.documentsFile() + " line " + (local + 1) + ": expected a JSON document with 'id' and "
                            + "'text', found " + reason, e));
        }
    }

    private SegmentData segmentOfDocument(int position) {
        return segmentHolding(position, segment -> segment.firstDocument, SegmentData::documentCount);
    }

    private SegmentData segmentOfRow(int row) {
        return segmentHolding(row, segment -> segment.firstRow, SegmentData::rowCount);
    }

    /** The segment whose [first, first + count) holds {@code at}: a binary search on the firsts. */
    private SegmentData segmentHolding(int at, java.util.function.ToIntFunction<SegmentData> first,
                                       java.util.function.ToIntFunction<SegmentData> count) {
        int lo = 0;
        int hi = segments.size() - 1;
        while (lo < hi) {
            int mid = (lo + hi + 1) >>> 1;
            if (first.applyAsInt(segments.get(mid)) <= at) {
                lo = mid;
            } else {
                hi = mid - 1;
            }
        }
        // Empty segments share their first position with the next: take the one that holds it.
        while (at - first.applyAsInt(segments.get(lo)) >= count.applyAsInt(segments.get(lo))) {
            lo++;
        }
        return segments.get(lo);
    }

    /** The k documents most similar to a query vector from this spec's model, best first. */
    public List<Match> search(float[] query, int k) {
        return search(new float[][] {query}, k).get(0);
    }

    /** {@link #search(float[], int)} for several queries, scanned together. */
    public List<List<Match>> search(float[][] queries, int k) {
        return search(queries, k, SearchOptions.DEFAULT);
    }

    /**
     * {@link #search(float[][], int)} with a filter on the documents' fields and an approximate
     * index's effort.
     */
    public List<List<Match>> search(float[][] queries, int k, SearchOptions options) {
        Objects.requireNonNull(options, "options");
        if (k < 1) {
            throw new IllegalArgumentException("k: expected >= 1, found " + k);
        }
        lock.readLock().lock();
        try {
            checkOpen();
            // A document of at most m rows: the best k x m rows hold the best row of each of the best k documents.
            int rowsWanted = (int) Math.min(Integer.MAX_VALUE - 8, (long) k * maxRowsPerDocument);
            List<List<Match>> results = new ArrayList<>(queries.length);
            BitSet skipped = options.filter() == null ? excluded : excludedBy(options.filter());
            for (List<VectorIndex.Hit> hits : index.search(queries, rowsWanted, skipped, options.candidates())) {
                List<Match> matches = new ArrayList<>(Math.min(k, hits.size()));
                Set<Integer> seen = new HashSet<>();
                for (VectorIndex.Hit hit : hits) {
                    if (matches.size() == k) {
                        break;
                    }
                    Match match = match(hit);
                    if (seen.add(match.position())) {
                        matches.add(match);
                    }
                }
                results.add(matches);
            }
            return results;
        } finally {
            lock.readLock().unlock();
        }
    }

    /** The rows a search must skip: deleted documents' and those of documents the filter does not pass. */
    private BitSet excludedBy(DocumentFilter filter) {
        BitSet skipped = (BitSet) excluded.clone();
        List<String> fields = new ArrayList<>(filter.fields());
        for (SegmentData segment : segments) {
            List<String[][]> columns = new ArrayList<>(fields.size());
            for (String field : fields) {
                columns.add(segment.fieldValues.computeIfAbsent(field, f -> fieldValues(segment, f)));
            }
            List<String[]> values = new ArrayList<>(fields.size());
            for (int d = 0; d < segment.documentCount(); d++) {
                if (segment.deleted.get(d)) {
                    continue;
                }
                values.clear();
                for (String[][] column : columns) {
                    values.add(column[d]);
                }
                if (!filter.matches(values)) {
                    skipped.set(segment.firstRow + segment.firstRowOf(d), segment.firstRow + segment.firstRowOf(d + 1));
                }
            }
        }
        int base = documentsRowsInSegments();
        for (int i = 0; i < added.size(); i++) {
            if (!deletedAdded.get(i) && !filter.matches(added.get(i))) {
                skipped.set(base + addedRows[i], base + addedRows[i + 1]);
            }
        }
        return skipped;
    }

    /** One pass over a segment's documents: each one's values of a field, equal texts shared. */
    private String[][] fieldValues(SegmentData segment, String field) {
        String[][] column = new String[segment.documentCount()][];
        Map<String, String> shared = new HashMap<>();
        for (int d = 0; d < column.length; d++) {
            String[] values = DocumentFilter.values(parse(segment, d).fields().get(field));
            for (int v = 0; v < values.length; v++) {
                values[v] = shared.computeIfAbsent(values[v], t -> t);
            }
            column[d] = values;
        }
        return column;
    }

    private Match match(VectorIndex.Hit hit) {
        int row = hit.position();
        int segmentRows = documentsRowsInSegments();
        int position;
        int[] span;
        if (row >= segmentRows) {
            int localRow = row - segmentRows;
            int local = Arrays.binarySearch(addedRows, localRow);
            local = local >= 0 ? local : -local - 2;
            // Equal starts cannot occur (every document has a row), so this is the document holding the row.
            position = documentsInSegments + local;
            span = chunking == null ? null : new int[] {addedSpans[2 * localRow], addedSpans[2 * localRow + 1]};
        } else {
            SegmentData segment = segmentOfRow(row);
            int localRow = row - segment.firstRow;
            position = segment.firstDocument + segment.documentOfRow(localRow);
            span = segment.span(localRow);
        }
        Document document = documentAt(position);
        Chunk chunk = span == null ? null : new Chunk(span[0], span[1], document.text().substring(span[0], span[1]));
        return new Match(position, hit.score(), document, chunk);
    }

    // ---------------------------------------------------------------- writing

    /**
     * Commits the store to the index directory {@code dir} (created if absent) and returns its
     * manifest. To the directory the store came from, only the changes are written (a segment of the
     * added documents, new deletion files); to any other, every live document as one segment,
     * replacing an index of the same spec there. Until the new manifest is in place the old index is
     * untouched and readable; a failure or crash before then leaves it as it was. After a save the
     * store reads from {@code dir} when it had no directory before, else from where it was.
     *
     * @throws IndexFormatException NOT_AN_INDEX if dir is a file or a non-empty directory without a
     *                              manifest; a mismatch reason if it holds an index of another spec;
     *                              LOCKED if another save to it is running; CHANGED if another writer
     *                              committed to the store's own directory since it was opened
     */
    public Manifest save(Path dir) throws IOException {
        writer.lock();
        try {
            checkOpen();
            return commit(dir, !isSource(dir));
        } finally {
            writer.unlock();
        }
    }

    /**
     * Rewrites the store's directory as one segment of its live documents: deleted and replaced
     * documents' rows and lines are dropped, positions renumbered. Changes not yet saved are
     * included.
     *
     * @throws IllegalStateException if the store has no directory (never opened or saved)
     */
    public Manifest compact() throws IOException {
        writer.lock();
        try {
            checkOpen();
            if (source == null) {
                throw new IllegalStateException("compact: the index has no directory yet; save it first");
            }
            return commit(source, true);
        } finally {
            writer.unlock();
        }
    }

    /** Under the writer lock: locks the directory, writes, commits, then reads the directory's new state. */
    private Manifest commit(Path dir, boolean full) throws IOException {
        boolean created = !Files.exists(dir);
        if (!created) {
            // Checked before the lock file is made, so a refused directory gets nothing written into it.
            checkWritable(dir);
        }
        Files.createDirectories(dir);
        boolean saved = false;
        try {
            Manifest manifest;
            try (FileChannel lockChannel = FileChannel.open(dir.resolve(LOCK_FILE), StandardOpenOption.CREATE,
                    StandardOpenOption.WRITE)) {
                // The lock is released when the channel closes.
                tryLock(lockChannel, dir);
                manifest = commitLocked(dir, full);
                saved = true;
            }
            if (source == null || isSource(dir)) {
                // The directory now holds everything: read it back so memory holds only what a reader needs.
                lock.writeLock().lock();
                try {
                    load(dir, manifest);
                } finally {
                    lock.writeLock().unlock();
                }
            }
            return manifest;
        } finally {
            if (created && !saved) {
                Files.deleteIfExists(dir.resolve(LOCK_FILE));
                Files.deleteIfExists(dir);
            }
        }
    }

    /** Whether dir is the directory this store reads from. */
    private boolean isSource(Path dir) throws IOException {
        return source != null && Files.isDirectory(dir) && Files.isSameFile(dir, source);
    }

    /** Refuses a file, or a directory holding files that are neither an index nor leftovers of one. */
    private void checkWritable(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            throw new IndexFormatException(IndexFormatException.Reason.NOT_AN_INDEX, dir,
                    "index directory: expected a directory, found a file");
        }
        if (isIndex(dir)) {
            checkCompatible(spec, readManifest(dir).spec(), dir);
            return;
        }
        List<String> foreign = new ArrayList<>();
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir)) {
            for (Path entry : entries) {
                if (!isOurs(entry.getFileName().toString())) {
                    foreign.add(entry.getFileName().toString());
                }
            }
        }
        if (!foreign.isEmpty()) {
            foreign.sort(null);
            throw new IndexFormatException(IndexFormatException.Reason.NOT_AN_INDEX, dir, "index directory: expected "
                    + "an empty directory or an index, found other files (" + String.join(", ",
                    foreign.subList(0, Math.min(3, foreign.size()))) + (foreign.size() > 3 ? ", ..." : "")
                    + "); refusing to write into it");
        }
    }

    private static void tryLock(FileChannel channel, Path dir) throws IOException {
        FileLock fileLock;
        try {
            fileLock = channel.tryLock();
        } catch (OverlappingFileLockException e) {
            fileLock = null;
        }
        if (fileLock == null) {
            throw new IndexFormatException(IndexFormatException.Reason.LOCKED, dir,
                    "index lock " + LOCK_FILE + ": expected it free, found another save to this directory running");
        }
    }

    private Manifest commitLocked(Path dir, boolean full) throws IOException {
        // Again under the lock: another process may have written the directory meanwhile.
        checkWritable(dir);
        Manifest previous = isIndex(dir) ? readManifest(dir) : null;
        if (isSource(dir) && (previous == null || previous.generation() != sourceGeneration)) {
            throw new IndexFormatException(IndexFormatException.Reason.CHANGED, dir, "index generation: expected "
                    + sourceGeneration + " (as this index was opened), found " + (previous == null ? "no index"
                    : previous.generation()) + "; another writer committed meanwhile: open the index again and "
                    + "repeat the change");
        }
        long generation = previous == null ? 1 : previous.generation() + 1;
        List<Path> written = new ArrayList<>();
        Path manifestTemp = dir.resolve(MANIFEST_TEMP);
        boolean committed = false;
        try {
            List<Manifest.Segment> list = new ArrayList<>();
            if (full) {
                Manifest.Segment all = writeSegment(dir, generation, true, written);
                if (all != null) {
                    list.add(all);
                }
            } else {
                for (SegmentData segment : segments) {
                    list.add(segment.deletionsChanged ? writeDeletions(dir, segment, generation, written)
                            : segment.info);
                }
                Manifest.Segment tail = writeSegment(dir, generation, false, written);
                if (tail != null) {
                    list.add(tail);
                }
            }
            Manifest manifest = new Manifest(Manifest.FORMAT_VERSION, spec, type.name(), parameters, quantization,
                    chunking, generation, list);
            try (FileChannel channel = FileChannel.open(manifestTemp, StandardOpenOption.CREATE,
                    StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
                SegmentWriter.writeFully(channel, ByteBuffer.wrap(PRETTY.writeValueAsBytes(manifest.toJson())));
                channel.force(true);
            }
            saveHook.reached("manifest-temp-written");
            try {
                Files.move(manifestTemp, dir.resolve(MANIFEST_FILE), StandardCopyOption.ATOMIC_MOVE,
                        StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                throw new IOException("index " + dir + ": expected a file system with atomic rename, found none; "
                        + "the previous index is unchanged", e);
            }
            committed = true;
            syncDirectory(dir);
            saveHook.reached("committed");
            removeStaleFiles(dir, manifest);
            return manifest;
        } finally {
            if (!committed) {
                // Nothing of this generation is referenced: remove it so no half-written file stays.
                for (Path file : written) {
                    deleteTree(file);
                }
                Files.deleteIfExists(manifestTemp);
            }
        }
    }

    /**
     * Writes segment {@code id} of the live documents: of every segment and the tail ({@code all}),
     * or of the tail only. Returns null when there is none to write.
     */
    private Manifest.Segment writeSegment(Path dir, long id, boolean all, List<Path> written) throws IOException {
        int liveTail = added.size() - deletedAdded.cardinality();
        int live = liveTail + (all ? documentsInSegments - deletedInSegments : 0);
        if (live == 0) {
            return null;
        }
        boolean chunked = chunking != null;
        SegmentWriter out = new SegmentWriter(dir, id, vectors, chunked);
        written.add(dir.resolve("documents." + id + ".jsonl"));
        written.add(dir.resolve("vectors." + id + ".safetensors"));
        try (out) {
            if (all) {
                for (SegmentData segment : segments) {
                    for (int d = 0; d < segment.documentCount(); d++) {
                        if (segment.deleted.get(d)) {
                            continue;
                        }
                        int first = segment.firstRowOf(d);
                        int count = segment.firstRowOf(d + 1) - first;
                        long hash = segment.hasIdHashes() ? segment.idHash(d) : idHash(parse(segment, d).idText());
                        // Lines of version 3 segments are copied as they are; older ones are rewritten nested.
                        byte[] line = segment.nestedFields() ? segment.line(d)
                                : JSON.writeValueAsBytes(parse(segment, d).toJson());
                        out.add(line, hash, segment.firstRow + first, count,
                                chunked ? segmentSpans(segment, first, count) : null);
                    }
                }
            }
            int base = documentsRowsInSegments();
            for (int i = 0; i < added.size(); i++) {
                if (deletedAdded.get(i)) {
                    continue;
                }
                Document document = added.get(i);
                int count = addedRows[i + 1] - addedRows[i];
                out.add(JSON.writeValueAsBytes(document.toJson()), idHash(document.idText()), base + addedRows[i],
                        count, chunked ? Arrays.copyOfRange(addedSpans, 2 * addedRows[i], 2 * addedRows[i + 1]) : null);
            }
            Manifest.Segment info = out.finish(saveHook);
            return type.writesSegmentFiles() ? writeIndexFiles(dir, info, written) : info;
        }
    }

    /** The index type's structure for a segment just written, built from the rows in its vectors file. */
    private Manifest.Segment writeIndexFiles(Path dir, Manifest.Segment info, List<Path> written) throws IOException {
        String name = "index." + info.id();
        Path files = dir.resolve(name);
        // A leftover of an interrupted save of the same generation (never referenced): start afresh.
        deleteTree(files);
        written.add(files);
        try (SegmentData segment = SegmentData.open(dir, info, quantization, spec.dimension(), 0, 0);
             VectorStore rows = new VectorStore(spec.dimension(), quantization)) {
            rows.addBlock(segment.vectors, segment.codes, segment.scales, info.rows());
            type.writeSegment(files, rows, parameters, pool);
        }
        syncDirectory(dir);
        saveHook.reached("index-files-written");
        return info.withIndexFiles(name);
    }

    /** Deletes a file, or a directory and everything in it; nothing there is fine. */
    static void deleteTree(Path path) throws IOException {
        if (Files.isDirectory(path, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            try (DirectoryStream<Path> entries = Files.newDirectoryStream(path)) {
                for (Path entry : entries) {
                    deleteTree(entry);
                }
            }
        }
        Files.deleteIfExists(path);
    }

    private static int[] segmentSpans(SegmentData segment, int first, int count) {
        int[] spans = new int[2 * count];
        for (int r = 0; r < count; r++) {
            int[] span = segment.span(first + r);
            if (span == null) {
                // A segment of whole documents in a chunked index cannot be: chunking is set on the first add.
                throw new IllegalStateException("segment " + segment.info.id() + " has no windows");
            }
            spans[2 * r] = span[0];
            spans[2 * r + 1] = span[1];
        }
        return spans;
    }

    /** A new deletions file for a segment whose set changed; the old file stays until the commit. */
    private Manifest.Segment writeDeletions(Path dir, SegmentData segment, long generation, List<Path> written)
            throws IOException {
        String name = "deletions." + segment.info.id() + "." + generation + ".bin";
        Path file = dir.resolve(name);
        written.add(file);
        byte[] bytes = segment.deleted.toByteArray();
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            SegmentWriter.writeFully(channel, ByteBuffer.wrap(bytes));
            channel.force(true);
        }
        saveHook.reached("deletions-written");
        return segment.info.withDeletions(segment.deleted.cardinality(), name, bytes.length);
    }

    private static boolean isOurs(String name) {
        return name.equals(LOCK_FILE) || name.equals(MANIFEST_TEMP) || GENERATION_FILE.matcher(name).matches();
    }

    /**
     * Deletes files the manifest does not name: earlier generations and leftovers of interrupted
     * saves. Best effort: it runs after the commit, so a failure here must not report the save as
     * failed; whatever stays is unreferenced and the next save removes it.
     */
    private static void removeStaleFiles(Path dir, Manifest manifest) {
        Set<String> referenced = new HashSet<>();
        for (Manifest.Segment segment : manifest.segments()) {
            referenced.add(segment.vectorsFile());
            referenced.add(segment.documentsFile());
            if (segment.deletionsFile() != null) {
                referenced.add(segment.deletionsFile());
            }
            if (segment.indexFiles() != null) {
                referenced.add(segment.indexFiles());
            }
        }
        List<Path> stale = new ArrayList<>();
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir)) {
            for (Path entry : entries) {
                String name = entry.getFileName().toString();
                if (GENERATION_FILE.matcher(name).matches() && !referenced.contains(name)) {
                    stale.add(entry);
                }
            }
        } catch (IOException e) {
            return;
        }
        for (Path file : stale) {
            try {
                deleteTree(file);
            } catch (IOException e) {
                // Typically still open elsewhere (Windows keeps mapped files open); see above.
            }
        }
    }

    /** Makes the rename durable where the platform allows opening a directory. */
    private static void syncDirectory(Path dir) {
        try (FileChannel channel = FileChannel.open(dir, StandardOpenOption.READ)) {
            channel.force(true);
        } catch (IOException e) {
            // Windows cannot open a directory; the rename is still atomic there, only its
            // durability across a power cut is not forced.
        }
    }

    static String quote(String id) {
        return "\"" + id.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("index store: used after close()");
        }
    }

    /** Releases the index's memory and unmaps the directory's files. Idempotent. */
    @Override
    public void close() {
        lock.writeLock().lock();
        try {
            if (closed) {
                return;
            }
            closed = true;
            index.close();
            vectors.close();
            for (SegmentData segment : segments) {
                segment.close();
            }
            segments = List.of();
            if (ownsPool) {
                pool.close();
            }
        } finally {
            lock.writeLock().unlock();
        }
    }
}
