package io.jembed.weights.onnx;

import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ProtoReaderTest {

    private static ProtoReader reader(byte... bytes) {
        return new ProtoReader(bytes, "test.onnx");
    }

    private static byte[] bytes(int... values) {
        byte[] out = new byte[values.length];
        for (int i = 0; i < values.length; i++) {
            out[i] = (byte) values[i];
        }
        return out;
    }

    @Test
    void readsVarintsOfOneToTenBytes() throws Exception {
        // field 1 = 1, field 2 = 300 (0xAC 0x02, the protobuf docs' example), field 3 = 2^64-1 (ten bytes)
        ProtoReader r = reader(bytes(0x08, 0x01, 0x10, 0xAC, 0x02,
                0x18, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01));
        assertTrue(r.next());
        assertEquals(1, r.fieldNumber());
        assertEquals(ProtoReader.VARINT, r.wireType());
        assertEquals(1, r.readVarint());
        assertTrue(r.next());
        assertEquals(2, r.fieldNumber());
        assertEquals(300, r.readVarint());
        assertTrue(r.next());
        assertEquals(-1L, r.readVarint());
        assertFalse(r.next());
        assertEquals(16, r.position());
    }

    @Test
    void negativeInt32IsTenBytesTruncatedToLow32Bits() throws Exception {
        ProtoReader r = reader(new ProtoWriter().varint(2, -5L).toByteArray());
        assertTrue(r.next());
        assertEquals(-5, r.readInt32());
    }

    @Test
    void rejectsElevenByteVarint() {
        ProtoReader r = reader(bytes(0x08, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01));
        OnnxFormatException e = assertThrows(OnnxFormatException.class, () -> {
            r.next();
            r.readVarint();
        });
        assertEquals(OnnxFormatException.Reason.MALFORMED_PROTOBUF, e.reason());
        assertTrue(e.getMessage().contains("at byte 1"), e.getMessage());
        assertTrue(e.getMessage().endsWith("in test.onnx"), e.getMessage());
    }

    @Test
    void rejectsTruncatedVarint() {
        ProtoReader r = reader(bytes(0x08, 0x80, 0x80));
        OnnxFormatException e = assertThrows(OnnxFormatException.class, () -> {
            r.next();
            r.readVarint();
        });
        assertTrue(e.getMessage().contains("expected a complete varint"), e.getMessage());
    }

    @Test
    void readsFixed32Fixed64FloatAndDouble() throws Exception {
        byte[] message = new ProtoWriter()
                .fixed32(1, 0xDEADBEEF)
                .fixed64(2, 0x0123456789ABCDEFL)
                .floatField(3, 1.5f)
                .fixed64(4, Double.doubleToRawLongBits(-2.25))
                .toByteArray();
        ProtoReader r = reader(message);
        r.next();
        assertEquals(0xDEADBEEF, r.readFixed32());
        r.next();
        assertEquals(0x0123456789ABCDEFL, r.readFixed64());
        r.next();
        assertEquals(1.5f, r.readFloat());
        r.next();
        assertEquals(-2.25, r.readDouble());
        assertFalse(r.next());
    }

    @Test
    void readsStringsBytesAndNestedMessages() throws Exception {
        byte[] message = new ProtoWriter()
                .string(1, "encoder.layer.0.attention.self.query.bias")
                .message(2, new ProtoWriter().varint(1, 42).string(2, "héllo"))
                .bytes(3, new byte[] {1, 2, 3})
                .toByteArray();
        ProtoReader r = reader(message);
        r.next();
        assertEquals("encoder.layer.0.attention.self.query.bias", r.readString());
        r.next();
        ProtoReader nested = r.readMessage();
        nested.next();
        assertEquals(42, nested.readVarint());
        nested.next();
        assertEquals("héllo", nested.readString());
        assertFalse(nested.next());
        r.next();
        ByteBuffer raw = r.readBytes();
        assertEquals(3, raw.remaining());
        assertEquals(3, raw.get(2));
        assertTrue(raw.isReadOnly());
        assertFalse(r.next());
    }

    @Test
    void rejectsInvalidUtf8InStrings() {
        ProtoReader r = reader(new ProtoWriter().bytes(1, bytes(0xC3, 0x28)).toByteArray());
        OnnxFormatException e = assertThrows(OnnxFormatException.class, () -> {
            r.next();
            r.readString();
        });
        assertTrue(e.getMessage().contains("UTF-8"), e.getMessage());
    }

    @Test
    void readsPackedAndUnpackedRepeatedFields() throws Exception {
        byte[] message = new ProtoWriter()
                .packedFloats(4, 1.0f, -0.5f, 3.25f)
                .floatField(4, 7.0f)
                .packedVarints(1, 384, 1536, 0)
                .varint(1, 30522)
                .toByteArray();
        ProtoReader r = reader(message);
        r.next();
        assertArrayEquals(new float[] {1.0f, -0.5f, 3.25f}, r.readFloats());
        r.next();
        assertArrayEquals(new float[] {7.0f}, r.readFloats());
        r.next();
        assertArrayEquals(new long[] {384, 1536, 0}, r.readVarints());
        r.next();
        assertArrayEquals(new long[] {30522}, r.readVarints());
        assertFalse(r.next());
    }

    @Test
    void rejectsPackedFloatsOfWrongLength() {
        ProtoReader r = reader(new ProtoWriter().bytes(4, new byte[6]).toByteArray());
        OnnxFormatException e = assertThrows(OnnxFormatException.class, () -> {
            r.next();
            r.readFloats();
        });
        assertTrue(e.getMessage().contains("found 6 bytes"), e.getMessage());
    }

    @Test
    void skipsUnknownFieldsOfEveryWireTypeIncludingGroups() throws Exception {
        byte[] message = new ProtoWriter()
                .varint(10, 123456789)
                .fixed64(11, 1L)
                .string(12, "ignored")
                .fixed32(13, 5)
                // group 14 { field 1 varint, nested group 2 { } }
                .key(14, ProtoReader.START_GROUP).varint(1, 7)
                .key(2, ProtoReader.START_GROUP).key(2, ProtoReader.END_GROUP)
                .key(14, ProtoReader.END_GROUP)
                .string(1, "kept")
                .toByteArray();
        ProtoReader r = reader(message);
        String kept = null;
        int skipped = 0;
        while (r.next()) {
            if (r.fieldNumber() == 1) {
                kept = r.readString();
            } else {
                r.skip();
                skipped++;
            }
        }
        assertEquals("kept", kept);
        assertEquals(5, skipped);
    }

    @Test
    void rejectsUnterminatedGroup() {
        ProtoReader r = reader(new ProtoWriter().key(14, ProtoReader.START_GROUP).varint(1, 7).toByteArray());
        OnnxFormatException e = assertThrows(OnnxFormatException.class, () -> {
            r.next();
            r.skip();
        });
        assertTrue(e.getMessage().contains("expected END_GROUP"), e.getMessage());
    }

    @Test
    void skipsDeeplyNestedGroupsWithoutRecursion() throws Exception {
        ProtoWriter w = new ProtoWriter();
        int depth = 200_000;
        for (int i = 0; i < depth; i++) {
            w.key(3, ProtoReader.START_GROUP);
        }
        for (int i = 0; i < depth; i++) {
            w.key(3, ProtoReader.END_GROUP);
        }
        ProtoReader r = reader(w.string(1, "kept").toByteArray());
        r.next();
        r.skip();
        r.next();
        assertEquals("kept", r.readString());
    }

    @Test
    void rejectsReservedWireTypesAndFieldZero() {
        assertThrows(OnnxFormatException.class, () -> reader(bytes(0x0E, 0x00)).next()); // field 1, wire type 6
        assertThrows(OnnxFormatException.class, () -> reader(bytes(0x0F, 0x00)).next()); // wire type 7
        assertThrows(OnnxFormatException.class, () -> reader(bytes(0x00, 0x00)).next()); // field 0
    }

    @Test
    void rejectsLengthPastTheEndOfTheMessage() {
        ProtoReader r = reader(bytes(0x0A, 0x05, 'a', 'b'));
        OnnxFormatException e = assertThrows(OnnxFormatException.class, () -> {
            r.next();
            r.readString();
        });
        assertTrue(e.getMessage().contains("found 5"), e.getMessage());
    }

    @Test
    void nestedReaderStopsAtItsOwnLimit() throws Exception {
        // The nested message claims a length that fits the outer buffer but not the nested one.
        byte[] inner = bytes(0x0A, 0x03, 'a');
        byte[] message = new ProtoWriter().bytes(1, inner).string(2, "after").toByteArray();
        ProtoReader r = reader(message);
        r.next();
        ProtoReader nested = r.readMessage();
        nested.next();
        assertThrows(OnnxFormatException.class, nested::readString);
        r.next();
        assertEquals("after", r.readString());
    }

    @Test
    void rejectsReadingWithTheWrongWireType() {
        ProtoReader r = reader(new ProtoWriter().string(1, "x").toByteArray());
        OnnxFormatException e = assertThrows(OnnxFormatException.class, () -> {
            r.next();
            r.readVarint();
        });
        assertTrue(e.getMessage().contains("expected wire type 0 for field 1, found 2"), e.getMessage());
    }

    @Test
    void stringsAreUtf8() throws Exception {
        String text = "onnx::MatMul_787 ✓";
        ProtoReader r = reader(new ProtoWriter().bytes(8, text.getBytes(StandardCharsets.UTF_8)).toByteArray());
        r.next();
        assertEquals(8, r.fieldNumber());
        assertEquals(text, r.readString());
    }
}
