package io.jembed.core.index;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import io.jembed.weights.DType;
import io.jembed.weights.SafetensorsWriter;

/**
 * Writes one new segment: documents are given in order, each with its id hash and its rows (ranges
 * of a {@link VectorStore}); {@link #finish} forces the documents file, then writes and forces the
 * vectors file with the tables {@link SegmentData} reads. Until the manifest names them the files
 * are unreferenced; {@link #delete} removes them when the write does not commit.
 */
final class SegmentWriter implements AutoCloseable {

    private final Path dir;
    private final long id;
    private final VectorStore store;
    private final boolean chunked;
    private final String vectorsName;
    private final String documentsName;
    private final FileChannel documentsChannel;
    private final ByteBuffer buffer = ByteBuffer.allocate(1 << 16);

    private long[] offsets = new long[1024];
    private long[] idHashes = new long[1024];
    private int[] documentRows = new int[1024];
    private int[] spans = new int[0];
    /** Row ranges [from, to) of the store, in order: the segment's rows. */
    private final List<int[]> rowRanges = new ArrayList<>();
    private int documents;
    private int rows;
    private int maxRowsPerDocument = 1;
    private long written;

    SegmentWriter(Path dir, long id, VectorStore store, boolean chunked) throws IOException {
        this.dir = dir;
        this.id = id;
        this.store = store;
        this.chunked = chunked;
        this.vectorsName = "vectors." + id + ".safetensors";
        this.documentsName = "documents." + id + ".jsonl";
        this.documentsChannel = FileChannel.open(dir.resolve(documentsName), StandardOpenOption.CREATE,
                StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING);
    }

    /**
     * Adds one document: its JSON line (no newline), its id hash, and its rows, store rows
     * [firstRow, firstRow + rowCount) with their windows (2 ints per row, chunked segments only).
     */
    void add(byte[] line, long idHash, int firstRow, int rowCount, int[] rowSpans) throws IOException {
        if (documents + 1 >= offsets.length) {
            int capacity = offsets.length * 2;
            offsets = Arrays.copyOf(offsets, capacity);
            idHashes = Arrays.copyOf(idHashes, capacity);
            documentRows = Arrays.copyOf(documentRows, capacity);
        }
        offsets[documents] = written;
        idHashes[documents] = idHash;
        documentRows[documents] = rows;
        write(line);
        write(new byte[] {'\n'});
        int[] last = rowRanges.isEmpty() ? null : rowRanges.get(rowRanges.size() - 1);
        if (last != null && last[1] == firstRow) {
            last[1] += rowCount;
        } else {
            rowRanges.add(new int[] {firstRow, firstRow + rowCount});
        }
        if (chunked) {
            if (spans.length < 2 * (rows + rowCount)) {
                spans = Arrays.copyOf(spans, Math.max(2 * (rows + rowCount), spans.length * 2));
            }
            System.arraycopy(rowSpans, 0, spans, 2 * rows, 2 * rowCount);
        }
        rows += rowCount;
        maxRowsPerDocument = Math.max(maxRowsPerDocument, rowCount);
        documents++;
    }

    int documents() {
        return documents;
    }

    private void write(byte[] bytes) throws IOException {
        if (buffer.remaining() < bytes.length) {
            flush();
        }
        if (bytes.length > buffer.capacity()) {
            writeFully(documentsChannel, ByteBuffer.wrap(bytes));
        } else {
            buffer.put(bytes);
        }
        written += bytes.length;
    }

    private void flush() throws IOException {
        buffer.flip();
        writeFully(documentsChannel, buffer);
        buffer.clear();
    }

    /** Forces both files to disk and returns the segment's manifest entry (no deletions). */
    Manifest.Segment finish(IndexStore.SaveHook hook) throws IOException {
        flush();
        documentsChannel.force(true);
        documentsChannel.close();
        hook.reached("documents-written");
        offsets[documents] = written;
        documentRows[documents] = rows;
        int dim = store.dimension();
        SafetensorsWriter writer = new SafetensorsWriter().metadata("format", Manifest.FORMAT);
        writer.add(SegmentData.VECTORS_TENSOR, DType.F32, new long[] {rows, dim}, out -> {
            for (int[] range : rowRanges) {
                forEachBlock(range, (b, local, count) -> out.writeSegment(
                        store.vectors(b).asSlice(4L * dim * local, 4L * dim * count)));
            }
        });
        if (store.quantization() == Quantization.INT8) {
            writer.add(SegmentData.CODES_TENSOR, DType.I8, new long[] {rows, dim}, out -> {
                for (int[] range : rowRanges) {
                    forEachBlock(range, (b, local, count) -> out.writeSegment(
                            store.codes(b).asSlice((long) dim * local, (long) dim * count)));
                }
            });
            float[] scales = new float[rows];
            int r = 0;
            for (int[] range : rowRanges) {
                for (int row = range[0]; row < range[1]; row++) {
                    scales[r++] = store.scale(row);
                }
            }
            writer.add(SegmentData.SCALES_TENSOR, scales, rows);
        }
        writer.add(SegmentData.OFFSETS_TENSOR, DType.I64, new long[] {documents + 1L}, longs(offsets, documents + 1));
        writer.add(SegmentData.ID_HASHES_TENSOR, DType.I64, new long[] {documents}, longs(idHashes, documents));
        if (chunked) {
            writer.add(SegmentData.DOCUMENT_ROWS_TENSOR, DType.I32, new long[] {documents + 1L},
                    ints(documentRows, documents + 1));
            writer.add(SegmentData.SPANS_TENSOR, DType.I32, new long[] {rows, 2}, ints(spans, 2 * rows));
        }
        long vectorsBytes;
        try (FileChannel channel = FileChannel.open(dir.resolve(vectorsName), StandardOpenOption.CREATE,
                StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
            vectorsBytes = writer.writeTo(channel);
            channel.force(true);
        }
        hook.reached("vectors-written");
        return new Manifest.Segment(id, documents, rows, maxRowsPerDocument, vectorsName, vectorsBytes, documentsName,
                written, 0, null, 0, null);
    }

    @FunctionalInterface
    private interface BlockRun {
        void accept(int block, int local, int count) throws IOException;
    }

    /** Splits a row range at the store's block boundaries. */
    private void forEachBlock(int[] range, BlockRun run) throws IOException {
        for (int row = range[0]; row < range[1]; ) {
            int b = store.blockOf(row);
            int end = Math.min(range[1], store.blockEnd(b));
            run.accept(b, row - store.blockStart(b), end - row);
            row = end;
        }
    }

    private static byte[] longs(long[] values, int n) {
        ByteBuffer bytes = ByteBuffer.allocate(8 * n).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < n; i++) {
            bytes.putLong(values[i]);
        }
        return bytes.array();
    }

    private static byte[] ints(int[] values, int n) {
        ByteBuffer bytes = ByteBuffer.allocate(4 * n).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < n; i++) {
            bytes.putInt(values[i]);
        }
        return bytes.array();
    }

    static void writeFully(FileChannel channel, ByteBuffer buffer) throws IOException {
        while (buffer.hasRemaining()) {
            channel.write(buffer);
        }
    }

    /** Removes this segment's files (a write that did not commit). */
    void delete() throws IOException {
        close();
        Files.deleteIfExists(dir.resolve(documentsName));
        Files.deleteIfExists(dir.resolve(vectorsName));
    }

    @Override
    public void close() throws IOException {
        if (documentsChannel.isOpen()) {
            documentsChannel.close();
        }
    }
}
