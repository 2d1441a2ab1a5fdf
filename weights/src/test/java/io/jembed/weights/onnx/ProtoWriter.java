package io.jembed.weights.onnx;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/** Test-side protobuf encoder, the inverse of {@link ProtoReader}, for hand-built messages. */
final class ProtoWriter {

    private final ByteArrayOutputStream out = new ByteArrayOutputStream();

    ProtoWriter key(int field, int wireType) {
        return rawVarint(((long) field << 3) | wireType);
    }

    ProtoWriter rawVarint(long value) {
        while ((value & ~0x7FL) != 0) {
            out.write((int) ((value & 0x7F) | 0x80));
            value >>>= 7;
        }
        out.write((int) value);
        return this;
    }

    ProtoWriter rawBytes(byte... bytes) {
        out.writeBytes(bytes);
        return this;
    }

    ProtoWriter varint(int field, long value) {
        return key(field, ProtoReader.VARINT).rawVarint(value);
    }

    ProtoWriter fixed32(int field, int bits) {
        key(field, ProtoReader.FIXED32);
        return rawBytes(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(bits).array());
    }

    ProtoWriter fixed64(int field, long bits) {
        key(field, ProtoReader.FIXED64);
        return rawBytes(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(bits).array());
    }

    ProtoWriter floatField(int field, float value) {
        return fixed32(field, Float.floatToRawIntBits(value));
    }

    ProtoWriter bytes(int field, byte[] value) {
        key(field, ProtoReader.LENGTH_DELIMITED).rawVarint(value.length);
        return rawBytes(value);
    }

    ProtoWriter string(int field, String value) {
        return bytes(field, value.getBytes(StandardCharsets.UTF_8));
    }

    ProtoWriter message(int field, ProtoWriter nested) {
        return bytes(field, nested.toByteArray());
    }

    ProtoWriter packedVarints(int field, long... values) {
        ProtoWriter packed = new ProtoWriter();
        for (long v : values) {
            packed.rawVarint(v);
        }
        return bytes(field, packed.toByteArray());
    }

    ProtoWriter packedFloats(int field, float... values) {
        ByteBuffer buffer = ByteBuffer.allocate(4 * values.length).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : values) {
            buffer.putFloat(v);
        }
        return bytes(field, buffer.array());
    }

    byte[] toByteArray() {
        return out.toByteArray();
    }

    // ---------------------------------------------------------------- ONNX messages

    /** TensorProto with FLOAT raw_data. */
    static ProtoWriter floatTensor(String name, long[] dims, float... values) {
        ByteBuffer raw = ByteBuffer.allocate(4 * values.length).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : values) {
            raw.putFloat(v);
        }
        return tensor(name, OnnxDataType.FLOAT, dims, raw.array());
    }

    /** TensorProto with INT64 raw_data. */
    static ProtoWriter longTensor(String name, long[] dims, long... values) {
        ByteBuffer raw = ByteBuffer.allocate(8 * values.length).order(ByteOrder.LITTLE_ENDIAN);
        for (long v : values) {
            raw.putLong(v);
        }
        return tensor(name, OnnxDataType.INT64, dims, raw.array());
    }

    static ProtoWriter tensor(String name, OnnxDataType type, long[] dims, byte[] raw) {
        ProtoWriter t = new ProtoWriter();
        for (long d : dims) {
            t.varint(1, d); // unpacked dims, as the torch exporter writes them
        }
        t.varint(2, type.code());
        t.string(8, name);
        t.bytes(9, raw);
        return t;
    }

    /** NodeProto. */
    static ProtoWriter node(String opType, String name, String[] inputs, String[] outputs, ProtoWriter... attributes) {
        ProtoWriter n = new ProtoWriter();
        for (String in : inputs) {
            n.string(1, in);
        }
        for (String o : outputs) {
            n.string(2, o);
        }
        n.string(3, name);
        n.string(4, opType);
        for (ProtoWriter a : attributes) {
            n.message(5, a);
        }
        return n;
    }

    static ProtoWriter intAttribute(String name, long value) {
        return new ProtoWriter().string(1, name).varint(3, value).varint(20, OnnxAttribute.INT);
    }

    static ProtoWriter tensorAttribute(String name, ProtoWriter tensor) {
        return new ProtoWriter().string(1, name).message(5, tensor).varint(20, OnnxAttribute.TENSOR);
    }

    /** ModelProto around a graph of these nodes and initializers. */
    static byte[] model(ProtoWriter[] nodes, ProtoWriter[] initializers) {
        ProtoWriter graph = new ProtoWriter();
        for (ProtoWriter n : nodes) {
            graph.message(1, n);
        }
        graph.string(2, "test_graph");
        for (ProtoWriter init : initializers) {
            graph.message(5, init);
        }
        graph.message(11, new ProtoWriter().string(1, "input_ids"));
        graph.message(12, new ProtoWriter().string(1, "last_hidden_state"));
        return new ProtoWriter()
                .varint(1, 8)
                .string(2, "pytorch")
                .string(3, "2.0.1")
                .message(7, graph)
                .message(8, new ProtoWriter().string(1, "").varint(2, 14))
                .toByteArray();
    }
}
