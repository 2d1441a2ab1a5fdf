package io.jembed.core.index;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.BitSet;

import io.jembed.weights.DType;
import io.jembed.weights.SafetensorsFormatException;
import io.jembed.weights.SafetensorsReader;

/**
 * One segment of an index directory, opened: its vectors file mapped (the rows, and the tables that
 * let a document be found without reading the others), its documents file mapped, and its deletion
 * set read. Immutable but for the deletion set, which its {@link IndexStore} changes under its lock.
 *
 * <p>Tensors of a segment's vectors file (shapes: d documents, r rows, dim):
 * <pre>
 *   vectors            F32 [r, dim]  unit length, row order
 *   vectors_int8       I8  [r, dim]  (int8 only)   vectors_int8_scale F32 [r] (int8 only)
 *   document_offsets   I64 [d + 1]   byte offset of each document's line in documents.S.jsonl, then its size
 *   id_hashes          I64 [d]       {@link IndexStore#idHash} of each document's id, to find ids without
 *                                    reading documents
 *   document_rows      I32 [d + 1]   first row of each document, then r     (chunked segments only)
 *   row_spans          I32 [r, 2]    start and end (UTF-16 chars) of each row's window in its document's
 *                                    text                                     (chunked segments only)
 * </pre>
 * Segments written by jembed before format version 3 have only the vectors (and int8) tensors: their
 * offsets are found by one pass over the documents file, and their ids are read from the documents
 * when a write needs them.
 */
final class SegmentData implements AutoCloseable {

    static final String VECTORS_TENSOR = "vectors";
    static final String CODES_TENSOR = "vectors_int8";
    static final String SCALES_TENSOR = "vectors_int8_scale";
    static final String OFFSETS_TENSOR = "document_offsets";
    static final String ID_HASHES_TENSOR = "id_hashes";
    static final String DOCUMENT_ROWS_TENSOR = "document_rows";
    static final String SPANS_TENSOR = "row_spans";

    static final ValueLayout.OfLong LONG_LE = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfInt INT_LE = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    final Manifest.Segment info;
    final int firstRow;
    final int firstDocument;
    private final SafetensorsReader file;
    private final Arena documentsArena;
    final MemorySegment vectors;
    final MemorySegment codes;
    final float[] scales;
    private final MemorySegment documents;
    private final MemorySegment offsets;
    /** Null for a segment written before offsets were stored: then {@link #legacyOffsets} holds them. */
    private final long[] legacyOffsets;
    private final MemorySegment idHashes;
    private final MemorySegment documentRows;
    private final MemorySegment spans;
    /** Deleted documents of this segment (local numbers); changed only through {@link IndexStore}. */
    final BitSet deleted;
    /** Whether {@link #deleted} changed since the manifest: the next commit writes a new deletions file. */
    boolean deletionsChanged;
    /**
     * Per field a filter has named: each local document's values of it ({@link DocumentFilter#values}).
     * Filled on the first filtered search that names the field (one pass over the documents); the
     * segment never changes, so neither do they.
     */
    final java.util.concurrent.ConcurrentHashMap<String, String[][]> fieldValues =
            new java.util.concurrent.ConcurrentHashMap<>();

    private SegmentData(Manifest.Segment info, int firstRow, int firstDocument, SafetensorsReader file,
                        Arena documentsArena, MemorySegment vectors, MemorySegment codes, float[] scales,
                        MemorySegment documents, MemorySegment offsets, long[] legacyOffsets, MemorySegment idHashes,
                        MemorySegment documentRows, MemorySegment spans, BitSet deleted) {
        this.info = info;
        this.firstRow = firstRow;
        this.firstDocument = firstDocument;
        this.file = file;
        this.documentsArena = documentsArena;
        this.vectors = vectors;
        this.codes = codes;
        this.scales = scales;
        this.documents = documents;
        this.offsets = offsets;
        this.legacyOffsets = legacyOffsets;
        this.idHashes = idHashes;
        this.documentRows = documentRows;
        this.spans = spans;
        this.deleted = deleted;
    }

    /** Opens a segment the manifest lists, checking every file's size and every table's shape first. */
    static SegmentData open(Path dir, Manifest.Segment info, Quantization quantization, int dim, int firstRow,
                            int firstDocument) throws IOException {
        Path vectorsPath = dir.resolve(info.vectorsFile());
        Path documentsPath = dir.resolve(info.documentsFile());
        checkSize(dir, vectorsPath, info.vectorsBytes());
        checkSize(dir, documentsPath, info.documentsBytes());
        BitSet deleted = readDeletions(dir, info);
        int docs = info.documents();
        int rows = info.rows();
        SafetensorsReader file = null;
        Arena documentsArena = Arena.ofShared();
        try {
            try {
                file = SafetensorsReader.open(vectorsPath);
            } catch (SafetensorsFormatException e) {
                throw new IndexFormatException(IndexFormatException.Reason.BAD_VECTORS, dir, e.getMessage(), e);
            }
            MemorySegment vectors = tensor(file, dir, VECTORS_TENSOR, DType.F32, rows, dim);
            MemorySegment codes = MemorySegment.NULL;
            float[] scales = new float[0];
            if (quantization == Quantization.INT8) {
                codes = tensor(file, dir, CODES_TENSOR, DType.I8, rows, dim);
                scales = tensor(file, dir, SCALES_TENSOR, DType.F32, rows).toArray(VectorStore.FLOAT_LE);
            }
            MemorySegment documents;
            try (FileChannel channel = FileChannel.open(documentsPath, StandardOpenOption.READ)) {
                documents = channel.map(FileChannel.MapMode.READ_ONLY, 0, channel.size(), documentsArena);
            }
            MemorySegment offsets = null;
            long[] legacyOffsets = null;
            if (file.contains(OFFSETS_TENSOR)) {
                offsets = tensor(file, dir, OFFSETS_TENSOR, DType.I64, docs + 1L);
                checkOffsets(offsets, docs, documents.byteSize(), dir, info.documentsFile());
            } else {
                legacyOffsets = lineStarts(documents, docs, dir, info.documentsFile());
            }
            MemorySegment idHashes = file.contains(ID_HASHES_TENSOR)
                    ? tensor(file, dir, ID_HASHES_TENSOR, DType.I64, docs) : null;
            MemorySegment documentRows = null;
            MemorySegment spans = null;
            if (rows != docs || file.contains(DOCUMENT_ROWS_TENSOR)) {
                documentRows = tensor(file, dir, DOCUMENT_ROWS_TENSOR, DType.I32, docs + 1L);
                checkDocumentRows(documentRows, docs, rows, info.maxRowsPerDocument(), dir, info.vectorsFile());
            }
            if (file.contains(SPANS_TENSOR)) {
                spans = tensor(file, dir, SPANS_TENSOR, DType.I32, rows, 2);
            }
            return new SegmentData(info, firstRow, firstDocument, file, documentsArena, vectors, codes, scales,
                    documents, offsets, legacyOffsets, idHashes, documentRows, spans, deleted);
        } catch (IOException | RuntimeException | Error e) {
            if (file != null) {
                file.close();
            }
            documentsArena.close();
            throw e;
        }
    }

    int documentCount() {
        return info.documents();
    }

    int rowCount() {
        return info.rows();
    }

    /** Whether its documents file has the fields nested (format version 3), not beside id and text. */
    boolean nestedFields() {
        return legacyOffsets == null;
    }

    /** Whether rows carry windows of their documents. */
    boolean chunked() {
        return spans != null;
    }

    /** Local document of a local row. */
    int documentOfRow(int row) {
        if (documentRows == null) {
            return row;
        }
        // The last document whose first row is <= row.
        int lo = 0;
        int hi = info.documents() - 1;
        while (lo < hi) {
            int mid = (lo + hi + 1) >>> 1;
            if (documentRows.getAtIndex(INT_LE, mid) <= row) {
                lo = mid;
            } else {
                hi = mid - 1;
            }
        }
        return lo;
    }

    /** First local row of a local document; {@code firstRowOf(documents)} is the row count. */
    int firstRowOf(int document) {
        return documentRows == null ? document : documentRows.getAtIndex(INT_LE, document);
    }

    /** Start and end (chars) of a local row's window, or null when the segment is not chunked. */
    int[] span(int row) {
        if (spans == null) {
            return null;
        }
        return new int[] {spans.getAtIndex(INT_LE, 2L * row), spans.getAtIndex(INT_LE, 2L * row + 1)};
    }

    /**
     * The JSON line of a local document, without its newline.
     *
     * @throws IllegalArgumentException if the offsets table does not end the line at a newline
     */
    byte[] line(int document) {
        long start = offset(document);
        long end = offset(document + 1) - 1;
        if (documents.get(ValueLayout.JAVA_BYTE, end) != '\n') {
            throw new IllegalArgumentException("a line ending at byte " + end + " as " + OFFSETS_TENSOR
                    + " records, found no newline there (the file changed since it was written)");
        }
        return documents.asSlice(start, end - start).toArray(ValueLayout.JAVA_BYTE);
    }

    private long offset(int document) {
        return legacyOffsets != null ? legacyOffsets[document] : offsets.getAtIndex(LONG_LE, document);
    }

    /** The stored id hash of a local document, or null-equivalent: {@code hasIdHashes()} says whether there are any. */
    boolean hasIdHashes() {
        return idHashes != null;
    }

    long idHash(int document) {
        return idHashes.getAtIndex(LONG_LE, document);
    }

    private static MemorySegment tensor(SafetensorsReader file, Path dir, String name, DType dtype, long... shape)
            throws IndexFormatException {
        try {
            return file.segment(name, dtype, shape);
        } catch (SafetensorsFormatException e) {
            throw new IndexFormatException(IndexFormatException.Reason.BAD_VECTORS, dir, e.getMessage(), e);
        }
    }

    static void checkSize(Path dir, Path file, long expected) throws IOException {
        long found;
        try {
            found = Files.size(file);
        } catch (NoSuchFileException e) {
            throw new IndexFormatException(IndexFormatException.Reason.MISSING_FILE, dir, file.getFileName()
                    + ": expected the file " + IndexStore.MANIFEST_FILE + " names, found none", e);
        }
        if (found != expected) {
            throw new IndexFormatException(IndexFormatException.Reason.TRUNCATED, dir, file.getFileName()
                    + ": expected " + expected + " bytes (as " + IndexStore.MANIFEST_FILE + " records), found " + found
                    + (found < expected ? " (truncated)" : " (changed since it was written)"));
        }
    }

    /** The deletion bitset: bit d (byte d / 8, bit d % 8) set when local document d is deleted. */
    private static BitSet readDeletions(Path dir, Manifest.Segment info) throws IOException {
        if (info.deletionsFile() == null) {
            return new BitSet();
        }
        Path path = dir.resolve(info.deletionsFile());
        checkSize(dir, path, info.deletionsBytes());
        BitSet deleted = BitSet.valueOf(Files.readAllBytes(path));
        if (deleted.cardinality() != info.deleted() || deleted.length() > info.documents()) {
            throw new IndexFormatException(IndexFormatException.Reason.BAD_DELETIONS, dir, info.deletionsFile()
                    + ": expected " + info.deleted() + " deleted documents among " + info.documents() + ", found "
                    + deleted.cardinality() + (deleted.length() > info.documents() ? " (some past the segment's end)" : ""));
        }
        return deleted;
    }

    /** Offsets must start at 0, never decrease, and end at the file's size; each line is checked when read. */
    private static void checkOffsets(MemorySegment offsets, int docs, long size, Path dir, String name)
            throws IndexFormatException {
        long previous = 0;
        for (int d = 0; d <= docs; d++) {
            long offset = offsets.getAtIndex(LONG_LE, d);
            if ((d == 0 && offset != 0) || offset <= previous && d > 0 || offset > size) {
                throw new IndexFormatException(IndexFormatException.Reason.BAD_DOCUMENTS, dir, name + ": expected "
                        + "increasing line offsets within its " + size + " bytes, found offset " + offset
                        + " for document " + d);
            }
            previous = offset;
        }
        if (previous != size) {
            throw new IndexFormatException(IndexFormatException.Reason.BAD_DOCUMENTS, dir, name + ": expected "
                    + docs + " lines ending at byte " + size + ", found them ending at " + previous);
        }
    }

    private static void checkDocumentRows(MemorySegment documentRows, int docs, int rows, int maxRows, Path dir,
                                          String name) throws IndexFormatException {
        int previous = 0;
        for (int d = 0; d <= docs; d++) {
            int row = documentRows.getAtIndex(INT_LE, d);
            boolean bad = d == 0 ? row != 0 : row - previous < 1 || row - previous > maxRows;
            if (bad || (d == docs && row != rows)) {
                throw new IndexFormatException(IndexFormatException.Reason.BAD_VECTORS, dir, name + " "
                        + DOCUMENT_ROWS_TENSOR + ": expected 1 to " + maxRows + " rows per document, " + rows
                        + " in all, found row " + row + " at document " + d);
            }
            previous = row;
        }
    }

    /** Start of each of the count lines, plus the end: the file must be exactly count '\n'-terminated lines. */
    static long[] lineStarts(MemorySegment documents, int count, Path dir, String name) throws IndexFormatException {
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

    @Override
    public void close() {
        file.close();
        documentsArena.close();
    }
}
