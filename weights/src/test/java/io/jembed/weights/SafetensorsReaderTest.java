package io.jembed.weights;

import io.jembed.weights.SafetensorsFormatException.Reason;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SafetensorsReaderTest {

    private static final String QUERY = "encoder.layer.3.attention.self.query.weight";

    @TempDir
    Path dir;

    /** 8-byte little-endian {@code headerLength}, the header bytes, then {@code dataBytes} zero bytes. */
    static byte[] file(long headerLength, byte[] header, int dataBytes) {
        return ByteBuffer.allocate(8 + header.length + dataBytes).order(ByteOrder.LITTLE_ENDIAN)
                .putLong(headerLength).put(header).array();
    }

    static byte[] file(String header, int dataBytes) {
        byte[] json = header.getBytes(StandardCharsets.UTF_8);
        return file(json.length, json, dataBytes);
    }

    private Path write(String name, byte[] bytes) throws Exception {
        Path path = dir.resolve(name);
        Files.write(path, bytes);
        return path;
    }

    // ---------------------------------------------------------------- one case per format failure

    record Case(Reason reason, byte[] bytes, String tensor, String message) {
        @Override
        public String toString() {
            return reason.name();
        }
    }

    static List<Case> formatFailures() {
        byte[] invalidUtf8 = "{\"w\u00ff\":1}".getBytes(StandardCharsets.ISO_8859_1);
        return List.of(
                new Case(Reason.FILE_TOO_SMALL, new byte[5], null,
                        "safetensors file: expected at least 8 bytes for the header length, found 5 in bad.safetensors"),
                new Case(Reason.HEADER_TOO_LARGE, file(100_000_001L, "{}".getBytes(StandardCharsets.UTF_8), 0), null,
                        "safetensors file: header length: expected at most 100000000 bytes, found 100000001 in bad.safetensors"),
                new Case(Reason.HEADER_PAST_EOF, file(100, new byte[20], 0), null,
                        "safetensors file: header length: expected at most 20 bytes (file is 28 bytes), found 100 in bad.safetensors"),
                new Case(Reason.INVALID_UTF8, file(invalidUtf8.length, invalidUtf8, 0), null,
                        "safetensors file: header: expected UTF-8 text, found an invalid byte sequence in bad.safetensors"),
                new Case(Reason.INVALID_JSON, file("{\"w\": {\"dtype\": ", 0), null, null),
                new Case(Reason.NOT_AN_OBJECT, file("[1, 2, 3]", 0), null,
                        "safetensors file: header: expected a JSON object, found an array in bad.safetensors"),
                new Case(Reason.DUPLICATE_NAME, file("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                        + "\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8), "w",
                        "tensor 'w': expected one header entry of this name, found two in bad.safetensors"),
                new Case(Reason.INVALID_ENTRY, file("{\"w\":{\"dtype\":\"F32\",\"shape\":[1]}}", 4), "w",
                        "tensor 'w': expected field \"data_offsets\", found fields [dtype, shape] in bad.safetensors"),
                new Case(Reason.UNKNOWN_DTYPE, file("{\"w\":{\"dtype\":\"Q4\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4), "w",
                        "tensor 'w': dtype: expected one of " + Arrays.toString(DType.values())
                                + ", found \"Q4\" in bad.safetensors"),
                new Case(Reason.INVALID_SHAPE, file("{\"w\":{\"dtype\":\"F32\",\"shape\":[-1,4],\"data_offsets\":[0,16]}}", 16), "w",
                        "tensor 'w': shape[0]: expected a non-negative integer, found -1 in bad.safetensors"),
                new Case(Reason.SHAPE_OVERFLOW, file("{\"w\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296],"
                        + "\"data_offsets\":[0,4]}}", 4), "w",
                        "tensor 'w': shape: expected a byte length below 2^63, found F32 [4294967296, 4294967296] "
                                + "which overflows in bad.safetensors"),
                new Case(Reason.INVALID_OFFSETS, file("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,4]}}", 8), "w",
                        "tensor 'w': data_offsets: expected [begin, end] with 0 <= begin <= end, found [8,4] in bad.safetensors"),
                new Case(Reason.SIZE_MISMATCH, file("{\"w\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0,12]}}", 12), "w",
                        "tensor 'w': data_offsets [0, 12]: expected 16 bytes for F32 [2, 2], found 12 in bad.safetensors"),
                new Case(Reason.GAP, file("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                        + "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,12]}}", 12), "b",
                        "tensor 'b': data_offsets: expected data to begin at byte 4 (the end of 'a'), found 8 in bad.safetensors"),
                new Case(Reason.OVERLAP, file("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                        + "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 12), "b",
                        "tensor 'b': data_offsets: expected data to begin at byte 8 (the end of 'a'), found 4 in bad.safetensors"),
                new Case(Reason.TRAILING_BYTES, file("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 8), null,
                        "safetensors file: data section: expected 4 bytes (end of the last tensor), found 8 (4 trailing bytes) "
                                + "in bad.safetensors"),
                new Case(Reason.DATA_PAST_EOF, file("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 4), "a",
                        "tensor 'a': data_offsets: expected data to end within the 4-byte data section, found end 8 "
                                + "in bad.safetensors"),
                new Case(Reason.INVALID_METADATA, file("{\"__metadata__\":{\"format\":1},"
                        + "\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4), null,
                        "safetensors file: __metadata__['format']: expected a string, found NUMBER in bad.safetensors"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("formatFailures")
    void rejectsMalformedFileWithItsReason(Case c) throws Exception {
        Path path = write("bad.safetensors", c.bytes);
        SafetensorsFormatException e = assertThrows(SafetensorsFormatException.class, () -> SafetensorsReader.open(path));
        assertEquals(c.reason, e.reason(), e.getMessage());
        assertEquals(c.tensor, e.tensorName());
        assertEquals("bad.safetensors", e.file());
        if (c.message != null) {
            assertEquals(c.message, e.getMessage());
        } else {
            assertTrue(e.getMessage().startsWith("safetensors file: header: expected well-formed JSON, found "), e.getMessage());
            assertTrue(e.getMessage().endsWith(" in bad.safetensors"), e.getMessage());
        }
    }

    @Test
    void everyReasonHasItsOwnTest() {
        Set<Reason> covered = formatFailures().stream().map(Case::reason).collect(Collectors.toCollection(() -> EnumSet.noneOf(Reason.class)));
        // The lookup reasons are tested below with a valid file.
        covered.addAll(List.of(Reason.MISSING_TENSOR, Reason.DTYPE_MISMATCH, Reason.SHAPE_MISMATCH));
        assertEquals(EnumSet.allOf(Reason.class), covered);
        assertEquals(formatFailures().size(), formatFailures().stream().map(Case::reason).distinct().count());
    }

    @Test
    void negativeHeaderLengthAsUnsignedIsTooLarge() throws Exception {
        Path path = write("bad.safetensors", file(-1L, new byte[8], 0));
        SafetensorsFormatException e = assertThrows(SafetensorsFormatException.class, () -> SafetensorsReader.open(path));
        assertEquals(Reason.HEADER_TOO_LARGE, e.reason());
        assertTrue(e.getMessage().contains("found 18446744073709551615"), e.getMessage());
    }

    @Test
    void nonIntegerShapeIsInvalid() throws Exception {
        Path path = write("bad.safetensors", file("{\"w\":{\"dtype\":\"F32\",\"shape\":[1.5],\"data_offsets\":[0,4]}}", 4));
        SafetensorsFormatException e = assertThrows(SafetensorsFormatException.class, () -> SafetensorsReader.open(path));
        assertEquals(Reason.INVALID_SHAPE, e.reason());
    }

    @Test
    void firstTensorNotAtZeroIsAGap() throws Exception {
        Path path = write("bad.safetensors", file("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8));
        SafetensorsFormatException e = assertThrows(SafetensorsFormatException.class, () -> SafetensorsReader.open(path));
        assertEquals(Reason.GAP, e.reason());
        assertEquals("tensor 'a': data_offsets: expected data to begin at byte 0 (the start of the data section), found 4 "
                + "in bad.safetensors", e.getMessage());
    }

    @Test
    void deeplyNestedHeaderIsInvalidJsonNotAStackOverflow() throws Exception {
        String header = "{\"__metadata__\":" + "[".repeat(5000) + "]".repeat(5000) + "}";
        Path path = write("bad.safetensors", file(header, 0));
        SafetensorsFormatException e = assertThrows(SafetensorsFormatException.class, () -> SafetensorsReader.open(path));
        assertEquals(Reason.INVALID_JSON, e.reason());
        assertTrue(e.getMessage().contains("nesting depth"), e.getMessage());
    }

    @Test
    void contentAfterTheHeaderObjectIsInvalidJson() throws Exception {
        Path path = write("bad.safetensors", file("{} {}", 0));
        SafetensorsFormatException e = assertThrows(SafetensorsFormatException.class, () -> SafetensorsReader.open(path));
        assertEquals(Reason.INVALID_JSON, e.reason());
        assertEquals("safetensors file: header: expected only whitespace after the JSON object, found '{' in bad.safetensors",
                e.getMessage());
    }

    // ---------------------------------------------------------------- valid files

    /** Header order b, a; data order a (F32 [2]), b (I64 [1]); metadata; trailing-space padding. */
    private static byte[] twoTensors() {
        String header = "{\"b\":{\"dtype\":\"I64\",\"shape\":[1],\"data_offsets\":[8,16]},"
                + "\"__metadata__\":{\"format\":\"pt\"},"
                + "\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}   ";
        byte[] bytes = file(header, 16);
        ByteBuffer data = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        int start = bytes.length - 16;
        data.putFloat(start, 1.5f).putFloat(start + 4, -2.0f).putLong(start + 8, 42L);
        return bytes;
    }

    @Test
    void readsTensorsInOffsetOrderWithMetadata() throws Exception {
        try (SafetensorsReader reader = SafetensorsReader.open(write("model.safetensors", twoTensors()))) {
            assertEquals(List.of("a", "b"), reader.names());
            assertEquals(Map.of("format", "pt"), reader.metadata());
            assertEquals(3, reader.totalParameters());
            assertTrue(reader.contains("a"));
            assertFalse(reader.contains("c"));
            assertArrayEquals(new float[] {1.5f, -2.0f}, reader.floats("a"));
            assertArrayEquals(new float[] {1.5f, -2.0f}, reader.floats("a", 2));
            TensorInfo b = reader.info("b");
            assertEquals(DType.I64, b.dtype());
            assertArrayEquals(new long[] {1}, b.shape());
            assertEquals(8, b.byteLength());
            assertEquals(42L, reader.segment("b", DType.I64, 1).get(ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 0));
        }
    }

    @Test
    void emptyHeaderZeroElementAndScalarTensorsAreValid() throws Exception {
        try (SafetensorsReader reader = SafetensorsReader.wrap(file("{}", 0), "empty")) {
            assertEquals(List.of(), reader.names());
            assertEquals(0, reader.totalParameters());
        }
        String header = "{\"empty\":{\"dtype\":\"F32\",\"shape\":[0,4],\"data_offsets\":[0,0]},"
                + "\"scalar\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[0,4]}}";
        try (SafetensorsReader reader = SafetensorsReader.wrap(file(header, 4), "edge")) {
            assertEquals(List.of("empty", "scalar"), reader.names());
            assertArrayEquals(new float[0], reader.floats("empty", 0, 4));
            assertArrayEquals(new float[] {0f}, reader.floats("scalar"));
            assertEquals(1, reader.totalParameters());
        }
    }

    @Test
    void shapeMismatchMessageFollowsTheTemplate() throws Exception {
        Path path = dir.resolve("model.safetensors");
        new SafetensorsWriter()
                .add(QUERY, DType.F16, new float[384 * 768], 384, 768)
                .add("ids", DType.I64, new long[] {1, 5}, new byte[40])
                .write(path);
        try (SafetensorsReader reader = SafetensorsReader.open(path)) {
            SafetensorsFormatException shape = assertThrows(SafetensorsFormatException.class,
                    () -> reader.floats(QUERY, 384, 384));
            assertEquals(Reason.SHAPE_MISMATCH, shape.reason());
            assertEquals(QUERY, shape.tensorName());
            assertEquals("tensor 'encoder.layer.3.attention.self.query.weight': expected F32 [384, 384], found F16 [384, 768] "
                    + "in model.safetensors", shape.getMessage());

            SafetensorsFormatException dtype = assertThrows(SafetensorsFormatException.class, () -> reader.floats("ids", 1, 5));
            assertEquals(Reason.DTYPE_MISMATCH, dtype.reason());
            assertEquals("tensor 'ids': expected F32 [1, 5], found I64 [1, 5] in model.safetensors", dtype.getMessage());

            SafetensorsFormatException exact = assertThrows(SafetensorsFormatException.class,
                    () -> reader.segment(QUERY, DType.F32, 384, 768));
            assertEquals(Reason.DTYPE_MISMATCH, exact.reason());
            assertEquals("tensor 'encoder.layer.3.attention.self.query.weight': expected F32 [384, 768], found F16 [384, 768] "
                    + "in model.safetensors", exact.getMessage());
        }
    }

    @Test
    void missingTensorNamesItAndTheClosestNames() throws Exception {
        Path path = dir.resolve("model.safetensors");
        new SafetensorsWriter()
                .add(QUERY, new float[4], 2, 2)
                .add("encoder.layer.3.attention.self.key.weight", new float[4], 2, 2)
                .add("embeddings.word_embeddings.weight", new float[4], 2, 2)
                .write(path);
        try (SafetensorsReader reader = SafetensorsReader.open(path)) {
            SafetensorsFormatException e = assertThrows(SafetensorsFormatException.class,
                    () -> reader.floats("encoder.layer.3.attention.self.querry.weight", 2, 2));
            assertEquals(Reason.MISSING_TENSOR, e.reason());
            assertEquals("encoder.layer.3.attention.self.querry.weight", e.tensorName());
            assertEquals("tensor 'encoder.layer.3.attention.self.querry.weight': expected a tensor of this name, found none "
                    + "among 3 tensors (closest: 'encoder.layer.3.attention.self.query.weight', "
                    + "'encoder.layer.3.attention.self.key.weight') in model.safetensors", e.getMessage());

            SafetensorsFormatException far = assertThrows(SafetensorsFormatException.class, () -> reader.info("pooler.dense.bias"));
            assertEquals("tensor 'pooler.dense.bias': expected a tensor of this name, found none among 3 tensors "
                    + "in model.safetensors", far.getMessage());
        }
    }

    @Test
    void floatsOfIntegerTensorIsADtypeMismatch() throws Exception {
        try (SafetensorsReader reader = SafetensorsReader.open(write("model.safetensors", twoTensors()))) {
            SafetensorsFormatException e = assertThrows(SafetensorsFormatException.class, () -> reader.floats("b"));
            assertEquals("tensor 'b': expected F32, F16 or BF16 [1], found I64 [1] in model.safetensors", e.getMessage());
        }
    }

    @Test
    void negativeExpectedShapeIsACallerMistake() throws Exception {
        try (SafetensorsReader reader = SafetensorsReader.open(write("model.safetensors", twoTensors()))) {
            assertThrows(IllegalArgumentException.class, () -> reader.floats("a", -2));
        }
    }

    @Test
    void segmentsAreReadOnlyViewsValidUntilClose() throws Exception {
        SafetensorsReader reader = SafetensorsReader.open(write("model.safetensors", twoTensors()));
        MemorySegment a = reader.segment("a");
        assertEquals(8, a.byteSize());
        assertTrue(a.isReadOnly());
        assertThrows(IllegalArgumentException.class, () -> a.set(ValueLayout.JAVA_BYTE, 0, (byte) 1));
        float[] copy = reader.floats("a");
        copy[0] = 99f;
        assertArrayEquals(new float[] {1.5f, -2.0f}, reader.floats("a"));
        reader.close();
        reader.close();
        assertThrows(IllegalStateException.class, () -> a.get(ValueLayout.JAVA_BYTE, 0));
        assertEquals(99f, copy[0]);
    }

    @Test
    void wrapNamesTheSourceInMessages() {
        SafetensorsFormatException e = assertThrows(SafetensorsFormatException.class,
                () -> SafetensorsReader.wrap(file("[]", 0), "classpath:model.safetensors"));
        assertEquals("classpath:model.safetensors", e.file());
        assertNull(e.tensorName());
        assertTrue(e.getMessage().endsWith(" in classpath:model.safetensors"), e.getMessage());
    }

    @Test
    void convertsF16AndBf16ToF32() throws Exception {
        // F16: 1, -2, 65504 (max), 2^-24 (smallest subnormal), +inf. BF16: 1, -2, 3.140625, -inf.
        short[] f16 = {0x3C00, (short) 0xC000, 0x7BFF, 0x0001, 0x7C00};
        short[] bf16 = {0x3F80, (short) 0xC000, 0x4049, (short) 0xFF80};
        ByteBuffer data = ByteBuffer.allocate(18).order(ByteOrder.LITTLE_ENDIAN);
        for (short s : f16) {
            data.putShort(s);
        }
        for (short s : bf16) {
            data.putShort(s);
        }
        String header = "{\"h\":{\"dtype\":\"F16\",\"shape\":[5],\"data_offsets\":[0,10]},"
                + "\"b\":{\"dtype\":\"BF16\",\"shape\":[4],\"data_offsets\":[10,18]}}";
        byte[] bytes = file(header, 0);
        byte[] full = Arrays.copyOf(bytes, bytes.length + 18);
        System.arraycopy(data.array(), 0, full, bytes.length, 18);
        try (SafetensorsReader reader = SafetensorsReader.wrap(full, "halves")) {
            assertArrayEquals(new float[] {1f, -2f, 65504f, 0x1p-24f, Float.POSITIVE_INFINITY}, reader.floats("h", 5));
            assertArrayEquals(new float[] {1f, -2f, 3.140625f, Float.NEGATIVE_INFINITY}, reader.floats("b", 4));
        }
    }
}
