package io.jembed.weights;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.WritableByteChannel;
import java.util.Arrays;
import java.util.Objects;

/**
 * The sink a {@link TensorSource} writes one tensor into. It counts bytes and refuses to write
 * past the tensor's declared length, so a wrong source fails instead of corrupting the layout.
 */
public final class TensorOutput {

    /** Staging buffer size: large enough for efficient writes, small next to any real tensor. */
    private static final int STAGING_BYTES = 1 << 20;

    private final WritableByteChannel channel;
    private final ByteBuffer staging;
    private String tensorName;
    private DType dtype;
    private long[] shape;
    private long expectedBytes;
    private long writtenBytes;

    TensorOutput(WritableByteChannel channel) {
        this.channel = channel;
        this.staging = ByteBuffer.allocate(STAGING_BYTES).order(ByteOrder.LITTLE_ENDIAN);
    }

    void begin(String name, DType type, long[] dims, long byteLength) {
        this.tensorName = name;
        this.dtype = type;
        this.shape = dims;
        this.expectedBytes = byteLength;
        this.writtenBytes = 0;
    }

    void finish() {
        if (writtenBytes != expectedBytes) {
            throw new IllegalStateException("tensor '" + tensorName + "': expected " + expectedBytes
                    + " bytes for " + dtype + " " + Arrays.toString(shape) + ", found " + writtenBytes
                    + " written by its source");
        }
    }

    /** The tensor's dtype; {@link #writeFloats} converts to it. */
    public DType dtype() {
        return dtype;
    }

    /** Bytes written so far for this tensor. */
    public long bytesWritten() {
        return writtenBytes;
    }

    /** Writes all of {@code values}, converted to the tensor's dtype. */
    public void writeFloats(float[] values) throws IOException {
        writeFloats(values, 0, values.length);
    }

    /**
     * Writes {@code values[from, from + count)} converted to the tensor's dtype (F32 as is, F16 and
     * BF16 rounded to nearest even).
     *
     * @throws IllegalStateException if the tensor's dtype is not F32, F16 or BF16
     */
    public void writeFloats(float[] values, int from, int count) throws IOException {
        if (!dtype.isFloatConvertible()) {
            throw new IllegalStateException("tensor '" + tensorName + "': expected a float dtype to write floats into, found "
                    + dtype);
        }
        Objects.checkFromIndexSize(from, count, values.length);
        reserve((long) count * dtype.byteSize());
        int perChunk = STAGING_BYTES / dtype.byteSize();
        for (int start = from; start < from + count; start += perChunk) {
            int n = Math.min(perChunk, from + count - start);
            staging.clear();
            switch (dtype) {
                case F32 -> staging.asFloatBuffer().put(values, start, n);
                case F16 -> {
                    for (int i = 0; i < n; i++) {
                        staging.putShort(2 * i, HalfFloats.f32ToF16(values[start + i]));
                    }
                }
                case BF16 -> {
                    for (int i = 0; i < n; i++) {
                        staging.putShort(2 * i, HalfFloats.f32ToBf16(values[start + i]));
                    }
                }
                default -> throw new IllegalStateException("unreachable: " + dtype);
            }
            staging.limit(n * dtype.byteSize());
            drain(staging);
        }
    }

    /** Writes raw little-endian element bytes. */
    public void writeBytes(byte[] data, int from, int count) throws IOException {
        Objects.checkFromIndexSize(from, count, data.length);
        reserve(count);
        drain(ByteBuffer.wrap(data, from, count));
    }

    /** Writes the remaining bytes of {@code data} (raw little-endian elements); its position is left unchanged. */
    public void writeBytes(ByteBuffer data) throws IOException {
        reserve(data.remaining());
        drain(data.duplicate());
    }

    /** Writes all bytes of {@code data} (raw little-endian elements), in slices so its size is not limited to 2 GB. */
    public void writeSegment(MemorySegment data) throws IOException {
        reserve(data.byteSize());
        long maxSlice = 1L << 30;
        for (long offset = 0; offset < data.byteSize(); offset += maxSlice) {
            long n = Math.min(maxSlice, data.byteSize() - offset);
            drain(data.asSlice(offset, n).asByteBuffer());
        }
    }

    private void reserve(long bytes) {
        if (bytes > expectedBytes - writtenBytes) {
            throw new IllegalStateException("tensor '" + tensorName + "': expected " + expectedBytes
                    + " bytes for " + dtype + " " + Arrays.toString(shape) + ", found a source writing at least "
                    + (writtenBytes + bytes));
        }
        writtenBytes += bytes;
    }

    private void drain(ByteBuffer buffer) throws IOException {
        while (buffer.hasRemaining()) {
            channel.write(buffer);
        }
    }
}
