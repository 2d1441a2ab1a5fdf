package io.jembed.weights;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import io.jembed.weights.SafetensorsFormatException.Reason;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A memory-mapped safetensors file with zero-copy tensor views.
 *
 * <p>File layout: an 8-byte little-endian header length {@code n}, {@code n} bytes of UTF-8 JSON
 * mapping tensor names to {@code {"dtype", "shape", "data_offsets": [begin, end]}} (plus an
 * optional {@code "__metadata__"} object of strings), then the data section, which the tensors'
 * offsets (relative to its start) must tile exactly.
 *
 * <p>{@link #open} validates the whole header before any tensor is visible, with the checks of the
 * reference Rust crate; every failure is a {@link SafetensorsFormatException} with its
 * {@link SafetensorsFormatException.Reason}. Tensor names are listed in data-offset order, which
 * is the order of the bytes in the file.
 *
 * <p>Segments returned by {@link #segment} are read-only views of the mapping, valid until
 * {@link #close()}; arrays returned by {@link #floats} are copies and outlive the reader. The
 * reader is immutable after opening and safe to read from several threads; closing it while
 * another thread reads is not.
 */
public final class SafetensorsReader implements AutoCloseable {

    /** The reference implementation's limit on the header length, in bytes. */
    public static final long MAX_HEADER_BYTES = 100_000_000L;

    static final String METADATA_KEY = "__metadata__";

    private static final ValueLayout.OfLong U64_LE =
            ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfFloat F32_LE =
            ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort U16_LE =
            ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /** Largest {@code float[]} the JVM reliably allocates. */
    private static final long MAX_ARRAY_LENGTH = Integer.MAX_VALUE - 8;

    private final Arena arena;
    private final MemorySegment bytes;
    private final String fileName;
    private final Map<String, TensorInfo> tensors;
    private final List<String> names;
    private final Map<String, String> metadata;

    private SafetensorsReader(Arena arena, MemorySegment bytes, String fileName,
                              Map<String, TensorInfo> tensors, Map<String, String> metadata) {
        this.arena = arena;
        this.bytes = bytes;
        this.fileName = fileName;
        this.tensors = Collections.unmodifiableMap(tensors);
        this.names = List.copyOf(tensors.keySet());
        this.metadata = Collections.unmodifiableMap(metadata);
    }

    /**
     * Maps {@code file} read-only and validates its header.
     *
     * @throws SafetensorsFormatException if the file is not a valid safetensors file
     * @throws IOException                if it cannot be read or mapped
     */
    public static SafetensorsReader open(Path file) throws IOException {
        String fileName = String.valueOf(file.getFileName());
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = channel.size();
            if (size < 8) {
                throw tooSmall(size, fileName);
            }
            Arena arena = Arena.ofShared();
            try {
                MemorySegment mapped = channel.map(FileChannel.MapMode.READ_ONLY, 0, size, arena);
                return validate(arena, mapped, fileName);
            } catch (IOException | RuntimeException | Error e) {
                arena.close();
                throw e;
            }
        }
    }

    /**
     * Validates safetensors bytes already in memory (a resource, a test fixture). The reader does
     * not own {@code data}; closing it releases nothing.
     *
     * @param sourceName name shown in error messages in place of a file name
     */
    public static SafetensorsReader wrap(MemorySegment data, String sourceName) throws SafetensorsFormatException {
        Objects.requireNonNull(sourceName, "sourceName");
        if (data.byteSize() < 8) {
            throw tooSmall(data.byteSize(), sourceName);
        }
        return validate(null, data.asReadOnly(), sourceName);
    }

    /** {@link #wrap(MemorySegment, String)} over a byte array (not copied). */
    public static SafetensorsReader wrap(byte[] data, String sourceName) throws SafetensorsFormatException {
        return wrap(MemorySegment.ofArray(data), sourceName);
    }

    private static SafetensorsFormatException tooSmall(long size, String fileName) {
        return new SafetensorsFormatException(Reason.FILE_TOO_SMALL, null, fileName,
                "expected at least 8 bytes for the header length, found " + size);
    }

    // ---------------------------------------------------------------- validation

    private static SafetensorsReader validate(Arena arena, MemorySegment file, String fileName)
            throws SafetensorsFormatException {
        long fileSize = file.byteSize();
        long headerLength = file.get(U64_LE, 0);
        if (Long.compareUnsigned(headerLength, MAX_HEADER_BYTES) > 0) {
            throw new SafetensorsFormatException(Reason.HEADER_TOO_LARGE, null, fileName,
                    "header length: expected at most " + MAX_HEADER_BYTES + " bytes, found "
                            + Long.toUnsignedString(headerLength));
        }
        if (headerLength > fileSize - 8) {
            throw new SafetensorsFormatException(Reason.HEADER_PAST_EOF, null, fileName,
                    "header length: expected at most " + (fileSize - 8) + " bytes (file is " + fileSize
                            + " bytes), found " + headerLength);
        }
        byte[] headerBytes = file.asSlice(8, headerLength).toArray(ValueLayout.JAVA_BYTE);
        String header = decodeUtf8(headerBytes, fileName);
        Map<String, Object> entries = parseObject(header, fileName);

        Map<String, String> metadata = new LinkedHashMap<>();
        List<Entry> parsed = new ArrayList<>(entries.size());
        for (Map.Entry<String, Object> e : entries.entrySet()) {
            if (e.getKey().equals(METADATA_KEY)) {
                metadata = parseMetadata(e.getValue(), fileName);
            } else {
                parsed.add(parseEntry(e.getKey(), e.getValue(), fileName));
            }
        }

        // As the reference crate: sort by (begin, end), then the offsets must tile [0, data size).
        parsed.sort(Comparator.comparingLong(Entry::begin).thenComparingLong(Entry::end));
        long dataStart = 8 + headerLength;
        long dataSize = fileSize - dataStart;
        long expectedBegin = 0;
        String previous = null;
        Map<String, TensorInfo> tensors = new LinkedHashMap<>();
        for (Entry entry : parsed) {
            if (entry.begin != expectedBegin) {
                String after = previous == null ? "the start of the data section" : "the end of '" + previous + "'";
                throw new SafetensorsFormatException(entry.begin > expectedBegin ? Reason.GAP : Reason.OVERLAP,
                        entry.name, fileName, "data_offsets: expected data to begin at byte " + expectedBegin
                        + " (" + after + "), found " + entry.begin);
            }
            expectedBegin = entry.end;
            previous = entry.name;
            tensors.put(entry.name, new TensorInfo(entry.name, entry.dtype, entry.shape,
                    dataStart + entry.begin, entry.end - entry.begin));
        }
        if (expectedBegin < dataSize) {
            throw new SafetensorsFormatException(Reason.TRAILING_BYTES, null, fileName,
                    "data section: expected " + expectedBegin + " bytes (end of the last tensor), found "
                            + dataSize + " (" + (dataSize - expectedBegin) + " trailing bytes)");
        }
        if (expectedBegin > dataSize) {
            throw new SafetensorsFormatException(Reason.DATA_PAST_EOF, previous, fileName,
                    "data_offsets: expected data to end within the " + dataSize
                            + "-byte data section, found end " + expectedBegin);
        }
        return new SafetensorsReader(arena, file, fileName, tensors, metadata);
    }

    private record Entry(String name, DType dtype, long[] shape, long begin, long end) {
    }

    private static String decodeUtf8(byte[] headerBytes, String fileName) throws SafetensorsFormatException {
        try {
            return StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(headerBytes))
                    .toString();
        } catch (CharacterCodingException e) {
            throw new SafetensorsFormatException(Reason.INVALID_UTF8, null, fileName,
                    "header: expected UTF-8 text, found an invalid byte sequence", e);
        }
    }

    /** Top-level object, keeping key order and rejecting duplicate keys. */
    private static Map<String, Object> parseObject(String header, String fileName) throws SafetensorsFormatException {
        Map<String, Object> entries = new LinkedHashMap<>();
        try (JsonParser parser = HeaderJson.FACTORY.createParser(header)) {
            JsonToken first = parser.nextToken();
            if (first == null) {
                throw new SafetensorsFormatException(Reason.INVALID_JSON, null, fileName,
                        "header: expected a JSON object, found no JSON value");
            }
            if (first != JsonToken.START_OBJECT) {
                throw new SafetensorsFormatException(Reason.NOT_AN_OBJECT, null, fileName,
                        "header: expected a JSON object, found " + describeToken(first));
            }
            while (parser.nextToken() == JsonToken.FIELD_NAME) {
                String key = parser.currentName();
                parser.nextToken();
                Object value = HeaderJson.readValue(parser);
                if (entries.put(key, value) != null) {
                    throw key.equals(METADATA_KEY)
                            ? new SafetensorsFormatException(Reason.DUPLICATE_NAME, null, fileName,
                                    "header: expected one " + METADATA_KEY + " entry, found two")
                            : new SafetensorsFormatException(Reason.DUPLICATE_NAME, key, fileName,
                                    "expected one header entry of this name, found two");
                }
            }
            JsonToken after = parser.nextToken();
            if (after != null) {
                throw new SafetensorsFormatException(Reason.INVALID_JSON, null, fileName,
                        "header: expected only whitespace after the JSON object, found " + describeToken(after));
            }
        } catch (SafetensorsFormatException e) {
            throw e;
        } catch (JsonProcessingException e) {
            String where = e.getLocation() == null ? "" : " at character " + e.getLocation().getCharOffset();
            throw new SafetensorsFormatException(Reason.INVALID_JSON, null, fileName,
                    "header: expected well-formed JSON, found " + e.getOriginalMessage() + where, e);
        } catch (IOException e) {
            // Parsing a String performs no I/O; anything else is a JSON error reported through IOException.
            throw new SafetensorsFormatException(Reason.INVALID_JSON, null, fileName,
                    "header: expected well-formed JSON, found " + e.getMessage(), e);
        }
        return entries;
    }

    private static String describeToken(JsonToken token) {
        return switch (token) {
            case START_ARRAY -> "an array";
            case VALUE_STRING -> "a string";
            case VALUE_NUMBER_INT, VALUE_NUMBER_FLOAT -> "a number";
            case VALUE_TRUE, VALUE_FALSE -> "a boolean";
            case VALUE_NULL -> "null";
            default -> token.asString() == null ? token.name() : "'" + token.asString() + "'";
        };
    }

    private static Map<String, String> parseMetadata(Object node, String fileName) throws SafetensorsFormatException {
        Map<String, String> metadata = new LinkedHashMap<>();
        if (node == HeaderJson.NULL) {
            return metadata;
        }
        if (!(node instanceof Map<?, ?> object)) {
            throw new SafetensorsFormatException(Reason.INVALID_METADATA, null, fileName,
                    METADATA_KEY + ": expected an object of strings, found " + HeaderJson.typeName(node));
        }
        for (Map.Entry<?, ?> e : object.entrySet()) {
            if (!(e.getValue() instanceof String value)) {
                throw new SafetensorsFormatException(Reason.INVALID_METADATA, null, fileName,
                        METADATA_KEY + "['" + e.getKey() + "']: expected a string, found " + HeaderJson.typeName(e.getValue()));
            }
            metadata.put((String) e.getKey(), value);
        }
        return metadata;
    }

    private static Entry parseEntry(String name, Object node, String fileName) throws SafetensorsFormatException {
        if (!(node instanceof Map<?, ?> entry)) {
            throw new SafetensorsFormatException(Reason.INVALID_ENTRY, name, fileName,
                    "expected an object with dtype, shape and data_offsets, found " + HeaderJson.typeName(node));
        }
        Object dtypeNode = required(entry, "dtype", name, fileName);
        Object shapeNode = required(entry, "shape", name, fileName);
        Object offsetsNode = required(entry, "data_offsets", name, fileName);

        if (!(dtypeNode instanceof String dtypeName)) {
            throw new SafetensorsFormatException(Reason.UNKNOWN_DTYPE, name, fileName,
                    "dtype: expected a string such as \"F32\", found " + HeaderJson.typeName(dtypeNode));
        }
        DType dtype = DType.fromHeaderName(dtypeName).orElseThrow(() ->
                new SafetensorsFormatException(Reason.UNKNOWN_DTYPE, name, fileName,
                        "dtype: expected one of " + Arrays.toString(DType.values()) + ", found " + HeaderJson.text(dtypeName)));

        if (!(shapeNode instanceof List<?> dims)) {
            throw new SafetensorsFormatException(Reason.INVALID_SHAPE, name, fileName,
                    "shape: expected an array of non-negative integers, found " + HeaderJson.typeName(shapeNode));
        }
        long[] shape = new long[dims.size()];
        for (int i = 0; i < shape.length; i++) {
            Object dim = dims.get(i);
            if (!(dim instanceof BigInteger value) || value.signum() < 0) {
                throw new SafetensorsFormatException(Reason.INVALID_SHAPE, name, fileName,
                        "shape[" + i + "]: expected a non-negative integer, found " + HeaderJson.text(dim));
            }
            if (!HeaderJson.isNonNegativeLong(value)) {
                throw new SafetensorsFormatException(Reason.SHAPE_OVERFLOW, name, fileName,
                        "shape[" + i + "]: expected a dimension below 2^63, found " + value);
            }
            shape[i] = value.longValue();
        }
        long byteLength;
        try {
            long elements = 1;
            for (long dim : shape) {
                elements = Math.multiplyExact(elements, dim);
            }
            byteLength = Math.multiplyExact(elements, (long) dtype.byteSize());
        } catch (ArithmeticException e) {
            throw new SafetensorsFormatException(Reason.SHAPE_OVERFLOW, name, fileName,
                    "shape: expected a byte length below 2^63, found " + dtype + " " + Arrays.toString(shape)
                            + " which overflows", e);
        }

        long[] offsets = parseOffsets(offsetsNode, name, fileName);
        long span = offsets[1] - offsets[0];
        if (span != byteLength) {
            throw new SafetensorsFormatException(Reason.SIZE_MISMATCH, name, fileName,
                    "data_offsets " + Arrays.toString(offsets) + ": expected " + byteLength + " bytes for "
                            + dtype + " " + Arrays.toString(shape) + ", found " + span);
        }
        return new Entry(name, dtype, shape, offsets[0], offsets[1]);
    }

    private static Object required(Map<?, ?> entry, String field, String name, String fileName)
            throws SafetensorsFormatException {
        Object value = entry.get(field);
        if (value == null) {
            throw new SafetensorsFormatException(Reason.INVALID_ENTRY, name, fileName,
                    "expected field \"" + field + "\", found fields " + entry.keySet());
        }
        return value;
    }

    private static long[] parseOffsets(Object node, String name, String fileName) throws SafetensorsFormatException {
        if (node instanceof List<?> pair && pair.size() == 2
                && HeaderJson.isNonNegativeLong(pair.get(0)) && HeaderJson.isNonNegativeLong(pair.get(1))) {
            long begin = ((BigInteger) pair.get(0)).longValue();
            long end = ((BigInteger) pair.get(1)).longValue();
            if (begin <= end) {
                return new long[] {begin, end};
            }
        }
        throw new SafetensorsFormatException(Reason.INVALID_OFFSETS, name, fileName,
                "data_offsets: expected [begin, end] with 0 <= begin <= end, found " + HeaderJson.text(node));
    }

    // ---------------------------------------------------------------- access

    /** Tensor names in data-offset order (the order of their bytes in the file). */
    public List<String> names() {
        return names;
    }

    /** Number of tensors. */
    public int size() {
        return names.size();
    }

    /** The {@code __metadata__} entries in header order; empty if the file has none. */
    public Map<String, String> metadata() {
        return metadata;
    }

    /** File name (or source name) used in messages. */
    public String fileName() {
        return fileName;
    }

    /** Whether the file holds a tensor of this name. */
    public boolean contains(String name) {
        return tensors.containsKey(name);
    }

    /** Sum of element counts over all tensors. */
    public long totalParameters() {
        long total = 0;
        for (TensorInfo info : tensors.values()) {
            total += info.elementCount();
        }
        return total;
    }

    /**
     * Header entry of a tensor.
     *
     * @throws SafetensorsFormatException {@code MISSING_TENSOR} naming the tensor and the closest names
     */
    public TensorInfo info(String name) throws SafetensorsFormatException {
        TensorInfo info = tensors.get(Objects.requireNonNull(name, "name"));
        if (info == null) {
            throw new SafetensorsFormatException(Reason.MISSING_TENSOR, name, fileName,
                    "expected a tensor of this name, found none among " + tensors.size() + " tensors"
                            + closestNames(name));
        }
        return info;
    }

    /** Read-only view of a tensor's bytes (little-endian), valid until {@link #close()}. */
    public MemorySegment segment(String name) throws SafetensorsFormatException {
        TensorInfo info = info(name);
        return bytes.asSlice(info.byteOffset(), info.byteLength());
    }

    /**
     * Read-only view of a tensor that must have exactly this dtype and shape.
     *
     * @throws SafetensorsFormatException {@code MISSING_TENSOR}, {@code DTYPE_MISMATCH} or
     *                                    {@code SHAPE_MISMATCH}, with expected and found
     */
    public MemorySegment segment(String name, DType dtype, long... expectedShape) throws SafetensorsFormatException {
        TensorInfo info = info(name);
        if (info.dtype() != dtype) {
            throw mismatch(Reason.DTYPE_MISMATCH, info, dtype.name(), expectedShape);
        }
        if (!info.hasShape(expectedShape)) {
            throw mismatch(Reason.SHAPE_MISMATCH, info, dtype.name(), expectedShape);
        }
        return bytes.asSlice(info.byteOffset(), info.byteLength());
    }

    /**
     * A copy of an F32, F16 or BF16 tensor as F32 values, row-major.
     *
     * @throws SafetensorsFormatException {@code MISSING_TENSOR}, or {@code DTYPE_MISMATCH} for other dtypes
     * @throws IllegalArgumentException   if the tensor has more elements than a Java array holds
     *                                    (read it through {@link #segment(String)} instead)
     */
    public float[] floats(String name) throws SafetensorsFormatException {
        TensorInfo info = info(name);
        if (!info.dtype().isFloatConvertible()) {
            throw mismatch(Reason.DTYPE_MISMATCH, info, "F32, F16 or BF16", info.shape());
        }
        return toFloats(info);
    }

    /**
     * {@link #floats(String)} for a tensor that must have exactly {@code expectedShape}; the usual
     * way a model loader fetches a weight.
     *
     * @throws SafetensorsFormatException {@code MISSING_TENSOR}, {@code DTYPE_MISMATCH} or
     *                                    {@code SHAPE_MISMATCH}, e.g. {@code tensor 'x.weight': expected
     *                                    F32 [384, 384], found I64 [384, 768] in model.safetensors}
     */
    public float[] floats(String name, long... expectedShape) throws SafetensorsFormatException {
        for (long dim : expectedShape) {
            if (dim < 0) {
                throw new IllegalArgumentException("expected shape for tensor '" + name
                        + "': expected non-negative dimensions, found " + Arrays.toString(expectedShape));
            }
        }
        TensorInfo info = info(name);
        if (!info.dtype().isFloatConvertible()) {
            throw mismatch(Reason.DTYPE_MISMATCH, info, "F32", expectedShape);
        }
        if (!info.hasShape(expectedShape)) {
            throw mismatch(Reason.SHAPE_MISMATCH, info, "F32", expectedShape);
        }
        return toFloats(info);
    }

    private SafetensorsFormatException mismatch(Reason reason, TensorInfo info, String expectedType, long[] expectedShape) {
        return new SafetensorsFormatException(reason, info.name(), fileName,
                "expected " + expectedType + " " + Arrays.toString(expectedShape) + ", found " + info.describe());
    }

    private float[] toFloats(TensorInfo info) {
        long count = info.elementCount();
        if (count > MAX_ARRAY_LENGTH) {
            throw new IllegalArgumentException("tensor '" + info.name() + "': expected at most " + MAX_ARRAY_LENGTH
                    + " elements for a float[], found " + count + " (" + info.describe() + ") in " + fileName
                    + "; read it with segment()");
        }
        int n = (int) count;
        float[] out = new float[n];
        long offset = info.byteOffset();
        switch (info.dtype()) {
            case F32 -> MemorySegment.copy(bytes, F32_LE, offset, out, 0, n);
            case F16 -> {
                for (int i = 0; i < n; i++) {
                    out[i] = HalfFloats.f16ToF32(bytes.get(U16_LE, offset + 2L * i));
                }
            }
            case BF16 -> {
                for (int i = 0; i < n; i++) {
                    out[i] = HalfFloats.bf16ToF32(bytes.get(U16_LE, offset + 2L * i));
                }
            }
            default -> throw new IllegalStateException("unreachable: " + info.dtype());
        }
        return out;
    }

    /** " (closest: 'a', 'b')" for names within a small edit distance, or "" if none is close. */
    private String closestNames(String name) {
        int limit = Math.max(3, name.length() / 4);
        Map<String, Integer> distances = new HashMap<>();
        for (String candidate : names) {
            if (Math.abs(candidate.length() - name.length()) <= limit) {
                int d = editDistance(name, candidate);
                if (d <= limit) {
                    distances.put(candidate, d);
                }
            }
        }
        if (distances.isEmpty()) {
            return "";
        }
        List<String> closest = distances.keySet().stream()
                .sorted(Comparator.comparingInt((String s) -> distances.get(s)).thenComparing(Comparator.naturalOrder()))
                .limit(3)
                .map(s -> "'" + s + "'")
                .toList();
        return " (closest: " + String.join(", ", closest) + ")";
    }

    private static int editDistance(String a, String b) {
        int[] previous = new int[b.length() + 1];
        int[] current = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            previous[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            current[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int substitution = previous[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1);
                current[j] = Math.min(substitution, Math.min(previous[j], current[j - 1]) + 1);
            }
            int[] swap = previous;
            previous = current;
            current = swap;
        }
        return previous[b.length()];
    }

    /** Unmaps the file; segments obtained from this reader become inaccessible. Idempotent. */
    @Override
    public void close() {
        if (arena != null && arena.scope().isAlive()) {
            arena.close();
        }
    }
}
