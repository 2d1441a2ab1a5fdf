package io.jembed.weights.onnx;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.Deque;
import java.util.Objects;

/**
 * A reader of the protobuf wire format over a byte array, enough for ONNX: varints, fixed32/64,
 * length-delimited fields (bytes, strings, nested messages, packed repeated scalars) and skipping
 * anything unknown, groups included.
 *
 * <p>Use: {@code while (r.next()) switch (r.fieldNumber()) { case 1 -> name = r.readString(); default -> r.skip(); }}.
 * Each {@code read*} call consumes the value of the field {@link #next()} just announced and checks
 * its wire type. Nested readers share the array; byte views are zero-copy. Every malformation is an
 * {@link OnnxFormatException} with reason {@code MALFORMED_PROTOBUF} naming the absolute byte offset.
 */
public final class ProtoReader {

    public static final int VARINT = 0;
    public static final int FIXED64 = 1;
    public static final int LENGTH_DELIMITED = 2;
    public static final int START_GROUP = 3;
    public static final int END_GROUP = 4;
    public static final int FIXED32 = 5;

    private final byte[] buffer;
    private final int limit;
    private final String source;
    private int position;
    private int fieldNumber;
    private int wireType = -1;

    /** A reader of the whole array; {@code source} names it in messages. */
    public ProtoReader(byte[] buffer, String source) {
        this(buffer, 0, buffer.length, source);
    }

    /** A reader of {@code buffer[offset, offset + length)}. */
    public ProtoReader(byte[] buffer, int offset, int length, String source) {
        Objects.checkFromIndexSize(offset, length, buffer.length);
        this.buffer = buffer;
        this.position = offset;
        this.limit = offset + length;
        this.source = source;
    }

    /**
     * Reads the next field key.
     *
     * @return false at the end of this message
     */
    public boolean next() throws OnnxFormatException {
        if (position >= limit) {
            wireType = -1;
            return false;
        }
        int keyAt = position;
        long key = varint();
        int type = (int) (key & 7);
        long number = key >>> 3;
        if (number < 1 || number > 0x1FFF_FFFF || type == 6 || type == 7) {
            throw malformed(keyAt, "expected a field key (number 1..2^29-1, wire type 0-5), found number "
                    + number + " wire type " + type);
        }
        fieldNumber = (int) number;
        wireType = type;
        return true;
    }

    /** Field number of the current field. */
    public int fieldNumber() {
        return fieldNumber;
    }

    /** Wire type of the current field (one of the constants of this class). */
    public int wireType() {
        return wireType;
    }

    /** Absolute offset in the array of the next unread byte. */
    public int position() {
        return position;
    }

    /** A varint field as an unsigned 64-bit value (int32, int64, uint64, bool, enum). */
    public long readVarint() throws OnnxFormatException {
        expect(VARINT);
        return varint();
    }

    /** A varint field as int32/enum: the low 32 bits, as protobuf truncates. */
    public int readInt32() throws OnnxFormatException {
        return (int) readVarint();
    }

    /** A fixed32 field's raw bits. */
    public int readFixed32() throws OnnxFormatException {
        expect(FIXED32);
        return fixed32();
    }

    /** A fixed64 field's raw bits. */
    public long readFixed64() throws OnnxFormatException {
        expect(FIXED64);
        return fixed64();
    }

    /** A {@code float} field (fixed32). */
    public float readFloat() throws OnnxFormatException {
        return Float.intBitsToFloat(readFixed32());
    }

    /** A {@code double} field (fixed64). */
    public double readDouble() throws OnnxFormatException {
        return Double.longBitsToDouble(readFixed64());
    }

    /** A length-delimited field as a read-only little-endian view of the array (no copy). */
    public ByteBuffer readBytes() throws OnnxFormatException {
        int length = lengthPrefix();
        ByteBuffer view = ByteBuffer.wrap(buffer, position, length).slice().asReadOnlyBuffer().order(ByteOrder.LITTLE_ENDIAN);
        position += length;
        return view;
    }

    /** A {@code string} field, which must be valid UTF-8. */
    public String readString() throws OnnxFormatException {
        int start = position;
        ByteBuffer bytes = readBytes();
        try {
            return StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(bytes)
                    .toString();
        } catch (CharacterCodingException e) {
            throw malformed(start, "expected a UTF-8 string in field " + fieldNumber + ", found invalid bytes");
        }
    }

    /** A nested message field as a reader over its bytes. */
    public ProtoReader readMessage() throws OnnxFormatException {
        int length = lengthPrefix();
        ProtoReader nested = new ProtoReader(buffer, position, length, source);
        position += length;
        return nested;
    }

    /**
     * A repeated varint field: packed (one length-delimited run) or unpacked (one value), both of
     * which a writer may use; callers append the result to what they already have.
     */
    public long[] readVarints() throws OnnxFormatException {
        if (wireType == VARINT) {
            return new long[] {varint()};
        }
        int length = lengthPrefix();
        int end = position + length;
        long[] values = new long[Math.min(length, 16)];
        int count = 0;
        ProtoReader packed = new ProtoReader(buffer, position, length, source);
        while (packed.position < end) {
            if (count == values.length) {
                values = Arrays.copyOf(values, count * 2);
            }
            values[count++] = packed.varint();
        }
        position = end;
        return Arrays.copyOf(values, count);
    }

    /** A repeated {@code float} field, packed or unpacked. */
    public float[] readFloats() throws OnnxFormatException {
        if (wireType == FIXED32) {
            return new float[] {Float.intBitsToFloat(fixed32())};
        }
        int start = position;
        ByteBuffer bytes = readBytes();
        if (bytes.remaining() % Float.BYTES != 0) {
            throw malformed(start, "expected packed floats (a multiple of 4 bytes) in field " + fieldNumber
                    + ", found " + bytes.remaining() + " bytes");
        }
        float[] values = new float[bytes.remaining() / Float.BYTES];
        bytes.asFloatBuffer().get(values);
        return values;
    }

    /** A repeated {@code double} field, packed or unpacked. */
    public double[] readDoubles() throws OnnxFormatException {
        if (wireType == FIXED64) {
            return new double[] {Double.longBitsToDouble(fixed64())};
        }
        int start = position;
        ByteBuffer bytes = readBytes();
        if (bytes.remaining() % Double.BYTES != 0) {
            throw malformed(start, "expected packed doubles (a multiple of 8 bytes) in field " + fieldNumber
                    + ", found " + bytes.remaining() + " bytes");
        }
        double[] values = new double[bytes.remaining() / Double.BYTES];
        bytes.asDoubleBuffer().get(values);
        return values;
    }

    /** Skips the current field's value, whatever its wire type. */
    public void skip() throws OnnxFormatException {
        switch (wireType) {
            case VARINT -> varint();
            case FIXED64 -> advance(8);
            case LENGTH_DELIMITED -> advance(lengthPrefix());
            case FIXED32 -> advance(4);
            case START_GROUP -> skipGroup(fieldNumber);
            default -> throw malformed(position, "expected a field value to skip, found wire type " + wireType);
        }
    }

    /** Iterative, so a file of deeply nested groups cannot overflow the stack. */
    private void skipGroup(int groupNumber) throws OnnxFormatException {
        int start = position;
        Deque<Integer> open = new ArrayDeque<>();
        open.push(groupNumber);
        while (!open.isEmpty()) {
            if (!next()) {
                throw malformed(start, "expected END_GROUP for group field " + open.peek() + ", found end of message");
            }
            if (wireType == END_GROUP) {
                int expected = open.pop();
                if (fieldNumber != expected) {
                    throw malformed(position, "expected END_GROUP for field " + expected + ", found it for field "
                            + fieldNumber);
                }
            } else if (wireType == START_GROUP) {
                open.push(fieldNumber);
            } else {
                skip();
            }
        }
    }

    // ---------------------------------------------------------------- primitives

    private void expect(int type) throws OnnxFormatException {
        if (wireType != type) {
            throw malformed(position, "expected wire type " + type + " for field " + fieldNumber + ", found "
                    + wireType);
        }
    }

    private long varint() throws OnnxFormatException {
        int start = position;
        long result = 0;
        for (int shift = 0; shift < 64; shift += 7) {
            if (position >= limit) {
                throw malformed(start, "expected a complete varint, found end of message");
            }
            byte b = buffer[position++];
            if (shift == 63 && (b & 0xFE) != 0) {
                throw malformed(start, "expected a varint of at most 64 bits, found more");
            }
            result |= (long) (b & 0x7F) << shift;
            if (b >= 0) {
                return result;
            }
        }
        throw malformed(start, "expected a varint of at most 10 bytes, found more");
    }

    private int fixed32() throws OnnxFormatException {
        int start = position;
        advance(4);
        return (buffer[start] & 0xFF) | (buffer[start + 1] & 0xFF) << 8
                | (buffer[start + 2] & 0xFF) << 16 | (buffer[start + 3] & 0xFF) << 24;
    }

    private long fixed64() throws OnnxFormatException {
        long low = fixed32() & 0xFFFF_FFFFL;
        long high = fixed32() & 0xFFFF_FFFFL;
        return low | high << 32;
    }

    private int lengthPrefix() throws OnnxFormatException {
        expect(LENGTH_DELIMITED);
        int start = position;
        long length = varint();
        if (length < 0 || length > limit - position) {
            throw malformed(start, "expected a length within the " + (limit - position)
                    + " remaining bytes for field " + fieldNumber + ", found " + Long.toUnsignedString(length));
        }
        return (int) length;
    }

    private void advance(int bytes) throws OnnxFormatException {
        if (bytes > limit - position) {
            throw malformed(position, "expected " + bytes + " more bytes for field " + fieldNumber + ", found "
                    + (limit - position));
        }
        position += bytes;
    }

    private OnnxFormatException malformed(int at, String detail) {
        return new OnnxFormatException(OnnxFormatException.Reason.MALFORMED_PROTOBUF, null, source,
                "protobuf at byte " + at + ": " + detail);
    }
}
