package io.jembed.weights;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SafetensorsWriterTest {

    @TempDir
    Path dir;

    /** Distinct bytes, so a misplaced byte shows. */
    private static byte[] pattern(int length) {
        byte[] bytes = new byte[length];
        for (int i = 0; i < length; i++) {
            bytes[i] = (byte) (i * 7 + 1);
        }
        return bytes;
    }

    @ParameterizedTest
    @EnumSource(DType.class)
    void rawBytesRoundTripForEveryDtype(DType dtype) throws Exception {
        byte[] data = pattern(3 * 2 * dtype.byteSize());
        Path file = dir.resolve("t.safetensors");
        new SafetensorsWriter().add("t", dtype, new long[] {3, 2}, data).write(file);
        try (SafetensorsReader reader = SafetensorsReader.open(file)) {
            TensorInfo info = reader.info("t");
            assertEquals(dtype, info.dtype());
            assertArrayEquals(new long[] {3, 2}, info.shape());
            assertArrayEquals(data, reader.segment("t").toArray(ValueLayout.JAVA_BYTE));
        }
    }

    @Test
    void floatsRoundTripBitForBit() throws Exception {
        float[] values = {0f, -0f, 1.5f, Float.MIN_VALUE, Float.MAX_VALUE, Float.NEGATIVE_INFINITY, 0.1f,
                Float.intBitsToFloat(0x7FC00001)};
        Path file = dir.resolve("f.safetensors");
        new SafetensorsWriter().add("f", values, 2, 4).write(file);
        try (SafetensorsReader reader = SafetensorsReader.open(file)) {
            float[] read = reader.floats("f", 2, 4);
            for (int i = 0; i < values.length; i++) {
                assertEquals(Float.floatToRawIntBits(values[i]), Float.floatToRawIntBits(read[i]), "element " + i);
            }
        }
    }

    @Test
    void convertsFloatsToF16AndBf16WhileWriting() throws Exception {
        Path file = dir.resolve("h.safetensors");
        new SafetensorsWriter()
                .add("h", DType.F16, new float[] {1f, -2f, 0.1f, 65504f}, 4)
                .add("b", DType.BF16, new float[] {1f, -2f, (float) Math.PI}, 3)
                .write(file);
        try (SafetensorsReader reader = SafetensorsReader.open(file)) {
            assertEquals(8, reader.info("h").byteLength());
            assertArrayEquals(new float[] {1f, -2f, 0.0999755859375f, 65504f}, reader.floats("h", 4));
            assertArrayEquals(new float[] {1f, -2f, 3.140625f}, reader.floats("b", 3));
        }
    }

    @Test
    void headerIsPaddedWithSpacesToEightBytesWithMetadataFirst() throws Exception {
        Path file = dir.resolve("p.safetensors");
        SafetensorsWriter writer = new SafetensorsWriter().metadata("format", "pt").add("x", new float[] {1f}, 1);
        writer.write(file);
        byte[] bytes = Files.readAllBytes(file);
        assertEquals(writer.byteSize(), bytes.length);
        long headerLength = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).getLong(0);
        assertEquals(0, headerLength % 8);
        String header = new String(bytes, 8, (int) headerLength, StandardCharsets.UTF_8);
        String json = "{\"__metadata__\":{\"format\":\"pt\"},\"x\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}";
        assertEquals(json + " ".repeat((int) headerLength - json.length()), header);
        assertEquals(8 + headerLength + 4, bytes.length);
    }

    @Test
    void ordersTensorsByElementSizeSoEachIsAligned() throws Exception {
        Path file = dir.resolve("a.safetensors");
        new SafetensorsWriter()
                .add("mask", DType.U8, new long[] {3}, new byte[3])
                .add("weight", new float[] {1, 2}, 2)
                .add("half", DType.F16, new float[] {1}, 1)
                .add("ids", DType.I64, new long[] {1}, new byte[8])
                .add("bias", new float[] {3}, 1)
                .write(file);
        try (SafetensorsReader reader = SafetensorsReader.open(file)) {
            assertEquals(List.of("ids", "weight", "bias", "half", "mask"), reader.names());
            for (String name : reader.names()) {
                TensorInfo info = reader.info(name);
                assertEquals(0, info.byteOffset() % info.dtype().byteSize(), name);
            }
        }
    }

    @Test
    void writesFromSegmentsBuffersAndStreamingSources() throws Exception {
        Path file = dir.resolve("s.safetensors");
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment native4 = arena.allocate(16);
            for (int i = 0; i < 4; i++) {
                native4.setAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), i, i + 0.25f);
            }
            ByteBuffer buffer = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putFloat(7f).putFloat(8f).flip();
            float[][] rows = {{1, 2, 3}, {4, 5, 6}};
            new SafetensorsWriter()
                    .add("segment", DType.F32, new long[] {4}, native4)
                    .add("buffer", DType.F32, new long[] {2}, buffer)
                    .add("rows", DType.F32, new long[] {2, 3}, out -> {
                        for (float[] row : rows) {
                            out.writeFloats(row);
                        }
                    })
                    .write(file);
            assertEquals(0, buffer.position());
        }
        try (SafetensorsReader reader = SafetensorsReader.open(file)) {
            assertArrayEquals(new float[] {0.25f, 1.25f, 2.25f, 3.25f}, reader.floats("segment", 4));
            assertArrayEquals(new float[] {7f, 8f}, reader.floats("buffer", 2));
            assertArrayEquals(new float[] {1, 2, 3, 4, 5, 6}, reader.floats("rows", 2, 3));
        }
    }

    @Test
    void largeFloatArraysStreamThroughTheStagingBuffer() throws Exception {
        int n = 700_001; // several 1 MiB staging chunks and a partial one
        float[] values = new float[n];
        for (int i = 0; i < n; i++) {
            values[i] = i * 0.5f;
        }
        Path file = dir.resolve("big.safetensors");
        new SafetensorsWriter().add("big", values, n).write(file);
        try (SafetensorsReader reader = SafetensorsReader.open(file)) {
            assertArrayEquals(values, reader.floats("big", n));
        }
    }

    @Test
    void sourceWritingTheWrongLengthFailsAndLeavesTheTargetUntouched() throws Exception {
        Path file = dir.resolve("model.safetensors");
        Files.writeString(file, "previous");
        SafetensorsWriter shortSource = new SafetensorsWriter()
                .add("rows", DType.F32, new long[] {2, 3}, out -> out.writeFloats(new float[] {1, 2, 3}));
        IllegalStateException tooFew = assertThrows(IllegalStateException.class, () -> shortSource.write(file));
        assertEquals("tensor 'rows': expected 24 bytes for F32 [2, 3], found 12 written by its source", tooFew.getMessage());

        SafetensorsWriter longSource = new SafetensorsWriter()
                .add("rows", DType.F32, new long[] {1}, out -> out.writeFloats(new float[] {1, 2}));
        IllegalStateException tooMany = assertThrows(IllegalStateException.class, () -> longSource.write(file));
        assertEquals("tensor 'rows': expected 4 bytes for F32 [1], found a source writing at least 8", tooMany.getMessage());

        assertEquals("previous", Files.readString(file));
        try (var listing = Files.list(dir)) {
            assertEquals(List.of(file), listing.toList(), "no temporary file may remain");
        }
    }

    @Test
    void rejectsCallerMistakes() {
        SafetensorsWriter writer = new SafetensorsWriter().add("w", new float[6], 2, 3);
        IllegalArgumentException count = assertThrows(IllegalArgumentException.class,
                () -> writer.add("x", new float[5], 2, 3));
        assertEquals("tensor 'x': expected 6 elements for shape [2, 3], found 5", count.getMessage());
        IllegalArgumentException bytes = assertThrows(IllegalArgumentException.class,
                () -> writer.add("y", DType.I64, new long[] {2}, new byte[12]));
        assertEquals("tensor 'y': expected 16 bytes for I64 [2], found 12", bytes.getMessage());
        IllegalArgumentException duplicate = assertThrows(IllegalArgumentException.class,
                () -> writer.add("w", new float[1], 1));
        assertEquals("tensor 'w': expected a unique name, found it added twice", duplicate.getMessage());
        assertThrows(IllegalArgumentException.class, () -> writer.add("__metadata__", new float[1], 1));
        assertThrows(IllegalArgumentException.class, () -> writer.add("", new float[1], 1));
        assertThrows(IllegalArgumentException.class, () -> writer.add("n", new float[0], -1, 0));
        assertThrows(IllegalArgumentException.class, () -> writer.add("i", DType.I32, new float[1], 1));
        assertEquals(1, writer.size());
    }

    @Test
    void emptyWriterProducesAValidFile() throws Exception {
        Path file = dir.resolve("empty.safetensors");
        new SafetensorsWriter().write(file);
        assertEquals(16, Files.size(file)); // 8-byte length + "{}" padded to 8
        try (SafetensorsReader reader = SafetensorsReader.open(file)) {
            assertEquals(List.of(), reader.names());
            assertEquals(Map.of(), reader.metadata());
        }
    }

    @Test
    void overwritesAnExistingFileAtomically() throws Exception {
        Path file = dir.resolve("sub/dir/model.safetensors");
        new SafetensorsWriter().add("a", new float[] {1}, 1).write(file);
        new SafetensorsWriter().add("b", new float[] {2}, 1).write(file);
        try (SafetensorsReader reader = SafetensorsReader.open(file)) {
            assertEquals(List.of("b"), reader.names());
        }
        assertFalse(Files.exists(dir.resolve("sub/dir/.model.safetensors.tmp")));
        assertTrue(Files.isRegularFile(file));
    }
}
