package io.jembed.core.index;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.locks.ReadWriteLock;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.regex.Pattern;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.core.json.JsonWriteFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;

import io.jembed.core.kernels.WorkerPool;
import io.jembed.weights.DType;
import io.jembed.weights.SafetensorsFormatException;
import io.jembed.weights.SafetensorsReader;
import io.jembed.weights.SafetensorsWriter;

/**
 * A searchable collection of documents: a {@link FlatIndex} of their vectors, the documents
 * themselves, and the {@link EmbeddingSpec} that says which model made the vectors; in memory
 * ({@link #create}), or opened from an index directory ({@link #open}) whose vectors are
 * memory-mapped and whose documents are read from their file when a search returns them.
 *
 * <p>{@link #save(Path)} writes the whole collection as a new generation of an index directory;
 * the layout and the crash-safety argument are in the package documentation. Appending is
 * {@code open(dir)}, {@link #add}, {@code save(dir)}.
 *
 * <p>Thread safety: searches and {@link #document} may run concurrently, and concurrently with
 * {@link #save}; {@link #add} waits for them and blocks them while it runs.
 */
public final class IndexStore implements AutoCloseable {

    /**
     * One search result with its document.
     *
     * @param position the document's position in the index (insertion order, from 0)
     * @param score    cosine similarity of the query and the document's vector
     * @param document the document
     */
    public record Match(int position, float score, Document document) {
    }

    public static final String MANIFEST_FILE = "manifest.json";
    static final String LOCK_FILE = ".lock";
    static final String MANIFEST_TEMP = ".manifest.json.tmp";
    static final String VECTORS_TENSOR = "vectors";
    static final String CODES_TENSOR = "vectors_int8";
    static final String SCALES_TENSOR = "vectors_int8_scale";
    /** Names of the files a save writes, so leftovers of an interrupted save can be recognised. */
    private static final Pattern GENERATION_FILE = Pattern.compile("(vectors\\.\\d+\\.safetensors|documents\\.\\d+\\.jsonl)");

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
    private final FlatIndex index;
    private final ReadWriteLock lock = new ReentrantReadWriteLock();
    // Rows [0, baseCount) come from an opened directory; later ones were added in memory.
    private final SafetensorsReader baseVectorsFile;
    private final Arena baseDocumentsArena;
    private final MemorySegment baseDocuments;
    private final long[] lineStarts;
    private final String baseDocumentsName;
    private final Path source;
    private final int baseCount;
    private final List<Document> added = new ArrayList<>();
    private boolean closed;

    private IndexStore(EmbeddingSpec spec, FlatIndex index, SafetensorsReader baseVectorsFile, Arena baseDocumentsArena,
                       MemorySegment baseDocuments, long[] lineStarts, String baseDocumentsName, Path source,
                       int baseCount) {
        this.spec = spec;
        this.index = index;
        this.baseVectorsFile = baseVectorsFile;
        this.baseDocumentsArena = baseDocumentsArena;
        this.baseDocuments = baseDocuments;
        this.lineStarts = lineStarts;
        this.baseDocumentsName = baseDocumentsName;
        this.source = source;
        this.baseCount = baseCount;
    }

    /**
     * An empty in-memory collection.
     *
     * @param threads threads one search may use
     */
    public static IndexStore create(EmbeddingSpec spec, Quantization quantization, int threads) {
        Objects.requireNonNull(spec, "spec");
        FlatIndex index = new FlatIndex(spec.dimension(), quantization, threads);
        return new IndexStore(spec, index, null, null, MemorySegment.NULL, new long[] {0}, null, null, 0);
    }

    /** An empty in-memory collection whose searches run on {@code pool} (the caller closes it, after this). */
    public static IndexStore create(EmbeddingSpec spec, Quantization quantization, WorkerPool pool) {
        Objects.requireNonNull(spec, "spec");
        FlatIndex index = new FlatIndex(spec.dimension(), quantization, pool);
        return new IndexStore(spec, index, null, null, MemorySegment.NULL, new long[] {0}, null, null, 0);
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
     * Opens an index directory for search and append, refusing it unless it was built with the
     * {@code expected} model, dimension and pooling.
     *
     * @throws IndexFormatException with the reason the directory cannot be used
     * @throws IOException          if a file cannot be read or mapped
     */
    public static IndexStore open(Path dir, EmbeddingSpec expected, int threads) throws IOException {
        Objects.requireNonNull(expected, "expected");
        Manifest manifest = readManifest(dir);
        checkCompatible(expected, manifest.spec(), dir);
        return open(dir, manifest, threads, null);
    }

    /** As {@link #open(Path, EmbeddingSpec, int)}, searching on {@code pool} (the caller closes it, after this). */
    public static IndexStore open(Path dir, EmbeddingSpec expected, WorkerPool pool) throws IOException {
        Objects.requireNonNull(expected, "expected");
        Objects.requireNonNull(pool, "pool");
        Manifest manifest = readManifest(dir);
        checkCompatible(expected, manifest.spec(), dir);
        return open(dir, manifest, 0, pool);
    }

    /** Opens an index directory whatever model built it; {@link #spec()} says which. */
    public static IndexStore open(Path dir, int threads) throws IOException {
        return open(dir, readManifest(dir), threads, null);
    }

    /** pool: the caller's, or null for one of {@code threads} threads the index owns. */
    private static IndexStore open(Path dir, Manifest manifest, int threads, WorkerPool pool) throws IOException {
        Path vectorsPath = dir.resolve(manifest.vectorsFile());
        Path documentsPath = dir.resolve(manifest.documentsFile());
        checkSize(dir, vectorsPath, manifest.vectorsBytes());
        checkSize(dir, documentsPath, manifest.documentsBytes());
        int count = manifest.count();
        int dim = manifest.spec().dimension();
        SafetensorsReader vectorsFile = null;
        Arena documentsArena = Arena.ofShared();
        try {
            try {
                vectorsFile = SafetensorsReader.open(vectorsPath);
            } catch (SafetensorsFormatException e) {
                throw new IndexFormatException(IndexFormatException.Reason.BAD_VECTORS, dir, e.getMessage(), e);
            }
            MemorySegment vectors = tensor(vectorsFile, dir, VECTORS_TENSOR, DType.F32, count, dim);
            MemorySegment codes = MemorySegment.NULL;
            float[] scales = new float[0];
            if (manifest.quantization() == Quantization.INT8) {
                codes = tensor(vectorsFile, dir, CODES_TENSOR, DType.I8, count, dim);
                scales = tensor(vectorsFile, dir, SCALES_TENSOR, DType.F32, count)
                        .toArray(FlatIndex.FLOAT_LE);
            }
            MemorySegment documents;
            try (FileChannel channel = FileChannel.open(documentsPath, StandardOpenOption.READ)) {
                documents = channel.map(FileChannel.MapMode.READ_ONLY, 0, channel.size(), documentsArena);
            }
            long[] lineStarts = lineStarts(documents, count, dir, manifest.documentsFile());
            FlatIndex index = pool == null
                    ? new FlatIndex(dim, manifest.quantization(), threads, vectors, codes, scales, count)
                    : new FlatIndex(dim, manifest.quantization(), pool, false, vectors, codes, scales, count);
            return new IndexStore(manifest.spec(), index, vectorsFile, documentsArena, documents, lineStarts,
                    manifest.documentsFile(), dir, count);
        } catch (IOException | RuntimeException | Error e) {
            if (vectorsFile != null) {
                vectorsFile.close();
            }
            documentsArena.close();
            throw e;
        }
    }

    private static MemorySegment tensor(SafetensorsReader file, Path dir, String name, DType dtype, long... shape)
            throws IndexFormatException {
        try {
            return file.segment(name, dtype, shape);
        } catch (SafetensorsFormatException e) {
            throw new IndexFormatException(IndexFormatException.Reason.BAD_VECTORS, dir, e.getMessage(), e);
        }
    }

    private static void checkSize(Path dir, Path file, long expected) throws IOException {
        long found;
        try {
            found = Files.size(file);
        } catch (NoSuchFileException e) {
            throw new IndexFormatException(IndexFormatException.Reason.MISSING_FILE, dir, file.getFileName()
                    + ": expected the file " + MANIFEST_FILE + " names, found none", e);
        }
        if (found != expected) {
            throw new IndexFormatException(IndexFormatException.Reason.TRUNCATED, dir, file.getFileName()
                    + ": expected " + expected + " bytes (as " + MANIFEST_FILE + " records), found " + found
                    + (found < expected ? " (truncated)" : " (changed since it was written)"));
        }
    }

    /** Start of each of the count lines, plus the end: the file must be exactly count '\n'-terminated lines. */
    private static long[] lineStarts(MemorySegment documents, int count, Path dir, String name)
            throws IndexFormatException {
        long[] starts = new long[count + 1];
        int lines = 0;
        long size = documents.byteSize();
        for (long i = 0; i < size; i++) {
            if (documents.get(ValueLayout.JAVA_BYTE, i) == '\n') {
                if (lines == count) {
                    throw new IndexFormatException(IndexFormatException.Reason.BAD_DOCUMENTS, dir, name
                            + ": expected " + count + " lines, found more");
                }
                starts[++lines] = i + 1;
            }
        }
        if (lines != count || starts[count] != size) {
            throw new IndexFormatException(IndexFormatException.Reason.BAD_DOCUMENTS, dir, name + ": expected "
                    + count + " newline-terminated lines, found " + lines
                    + (lines > 0 && starts[lines] != size ? " and an unterminated last line" : ""));
        }
        return starts;
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
        return index.quantization();
    }

    /** Number of documents. */
    public int size() {
        lock.readLock().lock();
        try {
            return baseCount + added.size();
        } finally {
            lock.readLock().unlock();
        }
    }

    /**
     * Adds documents with their vectors (one per document, in the same order, from this spec's
     * model); returns the first one's position. All are checked before any is added.
     *
     * @throws IllegalArgumentException if the counts differ, or a vector has the wrong dimension or
     *                                  a non-finite value
     */
    public int add(List<Document> documents, float[][] vectors) {
        if (documents.size() != vectors.length) {
            throw new IllegalArgumentException("add: expected one vector per document (" + documents.size()
                    + "), found " + vectors.length);
        }
        for (int i = 0; i < documents.size(); i++) {
            Objects.requireNonNull(documents.get(i), "document " + i);
        }
        lock.writeLock().lock();
        try {
            checkOpen();
            int first = index.add(vectors);
            added.addAll(documents);
            return first;
        } finally {
            lock.writeLock().unlock();
        }
    }

    /** The stored (unit-length float32) vector at a position. */
    public float[] vector(int position) {
        return index.vector(position);
    }

    /**
     * The document at a position.
     *
     * @throws UncheckedIOException wrapping an {@link IndexFormatException} (BAD_DOCUMENTS) if its
     *                              line in an opened directory is not a valid document
     */
    public Document document(int position) {
        lock.readLock().lock();
        try {
            checkOpen();
            Objects.checkIndex(position, baseCount + added.size());
            return documentAt(position);
        } finally {
            lock.readLock().unlock();
        }
    }

    private Document documentAt(int position) {
        if (position >= baseCount) {
            return added.get(position - baseCount);
        }
        long start = lineStarts[position];
        long end = lineStarts[position + 1] - 1;
        byte[] line = baseDocuments.asSlice(start, end - start).toArray(ValueLayout.JAVA_BYTE);
        try {
            return Document.fromJson(JSON.readTree(line));
        } catch (IOException | IllegalArgumentException e) {
            String reason = e instanceof JacksonException json ? json.getOriginalMessage() : e.getMessage();
            throw new UncheckedIOException(new IndexFormatException(IndexFormatException.Reason.BAD_DOCUMENTS, source,
                    baseDocumentsName + " line " + (position + 1) + ": expected a JSON document with 'id' and 'text', "
                            + "found " + reason, e));
        }
    }

    /** The k documents most similar to a query vector from this spec's model, best first. */
    public List<Match> search(float[] query, int k) {
        return search(new float[][] {query}, k).get(0);
    }

    /** {@link #search(float[], int)} for several queries, scanned together. */
    public List<List<Match>> search(float[][] queries, int k) {
        lock.readLock().lock();
        try {
            checkOpen();
            List<List<Match>> results = new ArrayList<>(queries.length);
            for (List<FlatIndex.Hit> hits : index.search(queries, k)) {
                List<Match> matches = new ArrayList<>(hits.size());
                for (FlatIndex.Hit hit : hits) {
                    matches.add(new Match(hit.position(), hit.score(), documentAt(hit.position())));
                }
                results.add(matches);
            }
            return results;
        } finally {
            lock.readLock().unlock();
        }
    }

    /**
     * Writes every document and vector as a new generation of the index directory {@code dir}
     * (created if absent) and returns its manifest. {@code dir} must be absent, empty, or an
     * index of the same spec, which this write replaces (append is open, add, save). Until the
     * new manifest is in place the old index is untouched and readable; a failure or crash before
     * then leaves it as it was.
     *
     * @throws IndexFormatException NOT_AN_INDEX if dir is a file or a non-empty directory without a
     *                              manifest; a mismatch reason if it holds an index of another spec;
     *                              LOCKED if another save to it is running
     */
    public Manifest save(Path dir) throws IOException {
        lock.readLock().lock();
        try {
            checkOpen();
            boolean created = !Files.exists(dir);
            if (!created) {
                // Checked before the lock file is made, so a refused directory gets nothing written into it.
                checkWritable(dir);
            }
            Files.createDirectories(dir);
            boolean saved = false;
            try {
                try (FileChannel lockChannel = FileChannel.open(dir.resolve(LOCK_FILE), StandardOpenOption.CREATE,
                        StandardOpenOption.WRITE)) {
                    // The lock is released when the channel closes.
                    tryLock(lockChannel, dir);
                    Manifest manifest = saveLocked(dir);
                    saved = true;
                    return manifest;
                }
            } finally {
                if (created && !saved) {
                    Files.deleteIfExists(dir.resolve(LOCK_FILE));
                    Files.deleteIfExists(dir);
                }
            }
        } finally {
            lock.readLock().unlock();
        }
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

    private Manifest saveLocked(Path dir) throws IOException {
        // Again under the lock: another process may have written the directory meanwhile.
        checkWritable(dir);
        Manifest previous = isIndex(dir) ? readManifest(dir) : null;
        long generation = previous == null ? 1 : previous.generation() + 1;
        String vectorsName = "vectors." + generation + ".safetensors";
        String documentsName = "documents." + generation + ".jsonl";
        Path vectorsPath = dir.resolve(vectorsName);
        Path documentsPath = dir.resolve(documentsName);
        Path manifestTemp = dir.resolve(MANIFEST_TEMP);
        boolean committed = false;
        try {
            long vectorsBytes = writeVectors(vectorsPath);
            saveHook.reached("vectors-written");
            long documentsBytes = writeDocuments(documentsPath);
            saveHook.reached("documents-written");
            Manifest manifest = new Manifest(Manifest.FORMAT_VERSION, spec, baseCount + added.size(),
                    index.quantization(), generation, vectorsName, vectorsBytes, documentsName, documentsBytes);
            try (FileChannel channel = FileChannel.open(manifestTemp, StandardOpenOption.CREATE,
                    StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
                writeFully(channel, ByteBuffer.wrap(PRETTY.writeValueAsBytes(manifest.toJson())));
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
            removeStaleFiles(dir, vectorsName, documentsName);
            return manifest;
        } finally {
            if (!committed) {
                // Nothing of this generation is referenced: remove it so no half-written file stays.
                Files.deleteIfExists(vectorsPath);
                Files.deleteIfExists(documentsPath);
                Files.deleteIfExists(manifestTemp);
            }
        }
    }

    private long writeVectors(Path file) throws IOException {
        int count = baseCount + added.size();
        int dim = spec.dimension();
        SafetensorsWriter writer = new SafetensorsWriter().metadata("format", Manifest.FORMAT);
        List<MemorySegment> vectorBlocks = index.vectorBlocks();
        writer.add(VECTORS_TENSOR, DType.F32, new long[] {count, dim}, out -> {
            for (MemorySegment block : vectorBlocks) {
                out.writeSegment(block);
            }
        });
        if (index.quantization() == Quantization.INT8) {
            List<MemorySegment> codeBlocks = index.codeBlocks();
            writer.add(CODES_TENSOR, DType.I8, new long[] {count, dim}, out -> {
                for (MemorySegment block : codeBlocks) {
                    out.writeSegment(block);
                }
            });
            writer.add(SCALES_TENSOR, index.scales(), count);
        }
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            long written = writer.writeTo(channel);
            channel.force(true);
            return written;
        }
    }

    private long writeDocuments(Path file) throws IOException {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            // Lines of the opened directory are copied as they are; they were validated when written.
            long sliceBytes = 1L << 30;
            long baseBytes = lineStarts[baseCount];
            for (long offset = 0; offset < baseBytes; offset += sliceBytes) {
                writeFully(channel, baseDocuments.asSlice(offset, Math.min(sliceBytes, baseBytes - offset)).asByteBuffer());
            }
            ByteBuffer buffer = ByteBuffer.allocate(1 << 16);
            for (Document document : added) {
                byte[] line = JSON.writeValueAsBytes(document.toJson());
                if (buffer.remaining() < line.length + 1) {
                    buffer.flip();
                    writeFully(channel, buffer);
                    buffer.clear();
                }
                if (line.length + 1 > buffer.capacity()) {
                    writeFully(channel, ByteBuffer.wrap(line));
                    writeFully(channel, ByteBuffer.wrap(new byte[] {'\n'}));
                } else {
                    buffer.put(line).put((byte) '\n');
                }
            }
            buffer.flip();
            writeFully(channel, buffer);
            channel.force(true);
            return channel.size();
        }
    }

    private static void writeFully(FileChannel channel, ByteBuffer buffer) throws IOException {
        while (buffer.hasRemaining()) {
            channel.write(buffer);
        }
    }

    private static boolean isOurs(String name) {
        return name.equals(LOCK_FILE) || name.equals(MANIFEST_TEMP) || GENERATION_FILE.matcher(name).matches();
    }

    /**
     * Deletes earlier generations and leftovers of interrupted saves. Best effort: it runs after
     * the commit, so a failure here must not report the save as failed; whatever stays is
     * unreferenced and the next save removes it.
     */
    private static void removeStaleFiles(Path dir, String vectorsName, String documentsName) {
        List<Path> stale = new ArrayList<>();
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir)) {
            for (Path entry : entries) {
                String name = entry.getFileName().toString();
                if (GENERATION_FILE.matcher(name).matches() && !name.equals(vectorsName) && !name.equals(documentsName)) {
                    stale.add(entry);
                }
            }
        } catch (IOException e) {
            return;
        }
        for (Path file : stale) {
            try {
                Files.deleteIfExists(file);
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
            if (baseVectorsFile != null) {
                baseVectorsFile.close();
            }
            if (baseDocumentsArena != null) {
                baseDocumentsArena.close();
            }
        } finally {
            lock.writeLock().unlock();
        }
    }
}
