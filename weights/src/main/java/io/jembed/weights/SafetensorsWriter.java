package io.jembed.weights;

import com.fasterxml.jackson.core.JsonGenerator;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.WritableByteChannel;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * Builds a safetensors file from tensors added one by one, then writes it in one pass.
 *
 * <pre>{@code
 * new SafetensorsWriter()
 *         .metadata("format", "pt")
 *         .add("embeddings.word_embeddings.weight", wordEmbeddings, 30522, 384)
 *         .write(modelDir.resolve("model.safetensors"));
 * }</pre>
 *
 * <p>Data is referenced, not copied: arrays, buffers and segments passed to {@code add} are read
 * during {@link #write} and must not change before then. Floats are converted to little-endian
 * bytes through a 1 MiB buffer, so writing a 1.5 GB tensor needs no second heap copy;
 * {@link TensorSource} streams tensors that are not in one piece.
 *
 * <p>Layout as the reference writer: {@code __metadata__} first, header padded with spaces to a
 * multiple of 8 bytes, tensors ordered by dtype size (largest first, insertion order within a
 * size) so every tensor starts aligned to its element size.
 */
public final class SafetensorsWriter {

    private record Pending(String name, DType dtype, long[] shape, long byteLength, TensorSource source) {
    }

    private final List<Pending> tensors = new ArrayList<>();
    private final Set<String> names = new HashSet<>();
    private final Map<String, String> metadata = new LinkedHashMap<>();

    /** Adds a {@code __metadata__} entry (HF model files carry {@code "format": "pt"}). */
    public SafetensorsWriter metadata(String key, String value) {
        metadata.put(Objects.requireNonNull(key, "key"), Objects.requireNonNull(value, "value"));
        return this;
    }

    /** Adds an F32 tensor; {@code data} is row-major with {@code shape}'s element count. */
    public SafetensorsWriter add(String name, float[] data, long... shape) {
        return add(name, DType.F32, data, shape);
    }

    /** Adds a tensor stored as {@code dtype} (F32, F16 or BF16) from F32 values, converted while writing. */
    public SafetensorsWriter add(String name, DType dtype, float[] data, long... shape) {
        Objects.requireNonNull(data, "data");
        if (!dtype.isFloatConvertible()) {
            throw new IllegalArgumentException("tensor '" + name + "': expected dtype F32, F16 or BF16 for float data, found "
                    + dtype);
        }
        checkElements(name, dtype, shape, data.length);
        return addSource(name, dtype, shape, out -> out.writeFloats(data));
    }

    /** Adds a tensor from raw little-endian element bytes. */
    public SafetensorsWriter add(String name, DType dtype, long[] shape, byte[] data) {
        Objects.requireNonNull(data, "data");
        checkBytes(name, dtype, shape, data.length);
        return addSource(name, dtype, shape, out -> out.writeBytes(data, 0, data.length));
    }

    /** Adds a tensor from the remaining raw little-endian bytes of {@code data} (position not consumed). */
    public SafetensorsWriter add(String name, DType dtype, long[] shape, ByteBuffer data) {
        ByteBuffer view = data.duplicate();
        checkBytes(name, dtype, shape, view.remaining());
        return addSource(name, dtype, shape, out -> out.writeBytes(view));
    }

    /** Adds a tensor from raw little-endian bytes in a segment (heap, native or mapped; any size). */
    public SafetensorsWriter add(String name, DType dtype, long[] shape, MemorySegment data) {
        checkBytes(name, dtype, shape, data.byteSize());
        return addSource(name, dtype, shape, out -> out.writeSegment(data));
    }

    /** Adds a tensor whose bytes {@code source} writes during {@link #write}. */
    public SafetensorsWriter add(String name, DType dtype, long[] shape, TensorSource source) {
        Objects.requireNonNull(source, "source");
        byteLength(name, dtype, shape);
        return addSource(name, dtype, shape, source);
    }

    private SafetensorsWriter addSource(String name, DType dtype, long[] shape, TensorSource source) {
        long bytes = byteLength(name, dtype, shape);
        if (name.isEmpty() || name.equals(SafetensorsReader.METADATA_KEY)) {
            throw new IllegalArgumentException("tensor name: expected a non-empty name other than "
                    + SafetensorsReader.METADATA_KEY + ", found '" + name + "'");
        }
        if (!names.add(name)) {
            throw new IllegalArgumentException("tensor '" + name + "': expected a unique name, found it added twice");
        }
        tensors.add(new Pending(name, dtype, shape.clone(), bytes, source));
        return this;
    }

    private static long byteLength(String name, DType dtype, long[] shape) {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(dtype, "dtype");
        Objects.requireNonNull(shape, "shape");
        long elements = 1;
        for (long dim : shape) {
            if (dim < 0) {
                throw new IllegalArgumentException("tensor '" + name + "': expected non-negative dimensions, found "
                        + Arrays.toString(shape));
            }
            try {
                elements = Math.multiplyExact(elements, dim);
            } catch (ArithmeticException e) {
                throw new IllegalArgumentException("tensor '" + name + "': shape " + Arrays.toString(shape)
                        + " overflows 64 bits", e);
            }
        }
        try {
            return Math.multiplyExact(elements, (long) dtype.byteSize());
        } catch (ArithmeticException e) {
            throw new IllegalArgumentException("tensor '" + name + "': " + dtype + " " + Arrays.toString(shape)
                    + " byte length overflows 64 bits", e);
        }
    }

    private static void checkElements(String name, DType dtype, long[] shape, long found) {
        long expected = byteLength(name, dtype, shape) / dtype.byteSize();
        if (expected != found) {
            throw new IllegalArgumentException("tensor '" + name + "': expected " + expected + " elements for shape "
                    + Arrays.toString(shape) + ", found " + found);
        }
    }

    private static void checkBytes(String name, DType dtype, long[] shape, long found) {
        long expected = byteLength(name, dtype, shape);
        if (expected != found) {
            throw new IllegalArgumentException("tensor '" + name + "': expected " + expected + " bytes for " + dtype + " "
                    + Arrays.toString(shape) + ", found " + found);
        }
    }

    /** Number of tensors added. */
    public int size() {
        return tensors.size();
    }

    /** Size of the file {@link #write} produces, in bytes. */
    public long byteSize() {
        long total = 8 + header().length;
        for (Pending t : tensors) {
            total += t.byteLength;
        }
        return total;
    }

    /**
     * Writes the file atomically: to a temporary file in the same directory, forced to disk, then
     * renamed over {@code file}. On failure {@code file} is untouched.
     */
    public void write(Path file) throws IOException {
        AtomicFiles.write(file, this::writeTo);
    }

    /** Writes the file's bytes to {@code channel}; returns the number of bytes written. */
    public long writeTo(WritableByteChannel channel) throws IOException {
        byte[] header = header();
        if (header.length > SafetensorsReader.MAX_HEADER_BYTES) {
            throw new IllegalStateException("safetensors header: expected at most " + SafetensorsReader.MAX_HEADER_BYTES
                    + " bytes, found " + header.length + " for " + tensors.size() + " tensors");
        }
        ByteBuffer prefix = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(0, header.length);
        while (prefix.hasRemaining()) {
            channel.write(prefix);
        }
        ByteBuffer headerBuffer = ByteBuffer.wrap(header);
        while (headerBuffer.hasRemaining()) {
            channel.write(headerBuffer);
        }
        long total = 8 + header.length;
        TensorOutput out = new TensorOutput(channel);
        for (Pending t : ordered()) {
            out.begin(t.name, t.dtype, t.shape, t.byteLength);
            t.source.writeTo(out);
            out.finish();
            total += t.byteLength;
        }
        return total;
    }

    private List<Pending> ordered() {
        List<Pending> ordered = new ArrayList<>(tensors);
        // Stable: insertion order within one element size.
        ordered.sort(Comparator.comparingInt((Pending t) -> t.dtype.byteSize()).reversed());
        return ordered;
    }

    private byte[] header() {
        ByteArrayOutputStream json = new ByteArrayOutputStream();
        try (JsonGenerator generator = HeaderJson.FACTORY.createGenerator(json)) {
            generator.writeStartObject();
            if (!metadata.isEmpty()) {
                generator.writeObjectFieldStart(SafetensorsReader.METADATA_KEY);
                for (Map.Entry<String, String> e : metadata.entrySet()) {
                    generator.writeStringField(e.getKey(), e.getValue());
                }
                generator.writeEndObject();
            }
            long offset = 0;
            for (Pending t : ordered()) {
                generator.writeObjectFieldStart(t.name);
                generator.writeStringField("dtype", t.dtype.name());
                generator.writeArrayFieldStart("shape");
                for (long dim : t.shape) {
                    generator.writeNumber(dim);
                }
                generator.writeEndArray();
                generator.writeArrayFieldStart("data_offsets");
                generator.writeNumber(offset);
                generator.writeNumber(offset + t.byteLength);
                generator.writeEndArray();
                generator.writeEndObject();
                offset += t.byteLength;
            }
            generator.writeEndObject();
        } catch (IOException e) {
            throw new UncheckedIOException("writing JSON to memory cannot fail", e);
        }
        int length = json.size();
        int padded = (length + 7) & ~7;
        byte[] header = Arrays.copyOf(json.toByteArray(), padded);
        Arrays.fill(header, length, padded, (byte) ' ');
        return header;
    }
}
