package io.jembed.weights;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.Channels;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Random corruptions of a valid file must either open (and then every tensor must be readable
 * within bounds) or fail with {@link SafetensorsFormatException}; never another exception.
 */
class SafetensorsFuzzTest {

    private static final long SEED = 0x5AFE_7E25L;
    private static final int MUTATIONS = 10_000;
    /** Bytes that change JSON structure, so mutations reach deep into validation. */
    private static final byte[] JSON_BYTES = "{}[]\",:-.0123456789eE \\tfnu".getBytes(StandardCharsets.US_ASCII);

    static byte[] validFile() throws Exception {
        SafetensorsWriter writer = new SafetensorsWriter()
                .metadata("format", "pt")
                .add("encoder.layer.0.attention.self.query.weight", new float[] {1, 2, 3, 4, 5, 6}, 2, 3)
                .add("h", DType.F16, new float[] {0.5f, -1, 2, 4}, 4)
                .add("b", DType.BF16, new float[] {1, 2, 3}, 3)
                .add("ids", DType.I64, new long[] {2}, new byte[16])
                .add("mask", DType.U8, new long[] {5}, new byte[] {1, 1, 1, 0, 0})
                .add("scalar", DType.I32, new long[] {}, new byte[4]);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        writer.writeTo(Channels.newChannel(out));
        return out.toByteArray();
    }

    @Test
    void mutationsOpenOrFailWithFormatExceptionOnly() throws Exception {
        byte[] valid = validFile();
        int headerEnd = 8 + (int) ByteBuffer.wrap(valid).order(ByteOrder.LITTLE_ENDIAN).getLong(0);
        Random random = new Random(SEED);
        int accepted = 0;
        int rejected = 0;
        for (int i = 0; i < MUTATIONS; i++) {
            int kind = random.nextInt(6);
            byte[] bytes = mutate(valid, headerEnd, kind, random);
            try (SafetensorsReader reader = SafetensorsReader.wrap(bytes, "fuzz.safetensors")) {
                readEverything(reader);
                accepted++;
            } catch (SafetensorsFormatException e) {
                assertEquals("fuzz.safetensors", e.file());
                assertTrue(e.getMessage().endsWith(" in fuzz.safetensors"), e.getMessage());
                rejected++;
            } catch (Throwable t) {
                fail("mutation " + i + " (kind " + kind + ", seed " + SEED + ") threw " + t + " for header "
                        + new String(bytes, 8, Math.max(0, Math.min(bytes.length, headerEnd) - 8), StandardCharsets.ISO_8859_1), t);
            }
        }
        assertEquals(MUTATIONS, accepted + rejected);
        // Both outcomes must occur, or the mutations are not exercising the validator.
        assertTrue(accepted > 100, "accepted " + accepted);
        assertTrue(rejected > 5_000, "rejected " + rejected);
    }

    private static void readEverything(SafetensorsReader reader) throws SafetensorsFormatException {
        reader.totalParameters();
        for (String name : reader.names()) {
            TensorInfo info = reader.info(name);
            MemorySegment segment = reader.segment(name);
            assertEquals(info.byteLength(), segment.byteSize());
            if (segment.byteSize() > 0) {
                segment.get(ValueLayout.JAVA_BYTE, segment.byteSize() - 1);
            }
            if (info.dtype().isFloatConvertible()) {
                assertEquals(info.elementCount(), reader.floats(name, info.shape()).length);
            }
        }
    }

    private static byte[] mutate(byte[] valid, int headerEnd, int kind, Random random) {
        byte[] bytes = valid.clone();
        switch (kind) {
            case 0 -> { // flip bits in 1-4 bytes, mostly inside the header
                int flips = 1 + random.nextInt(4);
                for (int f = 0; f < flips; f++) {
                    int at = random.nextInt(10) < 8 ? random.nextInt(headerEnd) : random.nextInt(bytes.length);
                    bytes[at] ^= (byte) (1 << random.nextInt(8));
                }
            }
            case 1 -> bytes = Arrays.copyOf(bytes, random.nextInt(bytes.length)); // truncate
            case 2 -> { // edit the header length
                long length = headerEnd - 8;
                long edited = switch (random.nextInt(4)) {
                    case 0 -> length + random.nextInt(33) - 16;
                    case 1 -> random.nextLong();
                    case 2 -> random.nextInt(bytes.length + 16);
                    default -> 100_000_000L + random.nextInt(3) - 1;
                };
                ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).putLong(0, edited);
            }
            case 3 -> { // replace header bytes with JSON-significant ones
                int edits = 1 + random.nextInt(3);
                for (int e = 0; e < edits; e++) {
                    bytes[8 + random.nextInt(headerEnd - 8)] = JSON_BYTES[random.nextInt(JSON_BYTES.length)];
                }
            }
            case 4 -> { // delete or insert a header byte, keeping the declared length
                int at = 8 + random.nextInt(headerEnd - 8);
                byte[] edited = new byte[bytes.length + (random.nextBoolean() ? 1 : -1)];
                if (edited.length > bytes.length) {
                    System.arraycopy(bytes, 0, edited, 0, at);
                    edited[at] = JSON_BYTES[random.nextInt(JSON_BYTES.length)];
                    System.arraycopy(bytes, at, edited, at + 1, bytes.length - at);
                } else {
                    System.arraycopy(bytes, 0, edited, 0, at);
                    System.arraycopy(bytes, at + 1, edited, at, bytes.length - at - 1);
                }
                bytes = edited;
            }
            default -> { // append or drop data bytes
                int delta = random.nextInt(17) - 8;
                bytes = Arrays.copyOf(bytes, Math.max(0, bytes.length + delta));
            }
        }
        return bytes;
    }
}
