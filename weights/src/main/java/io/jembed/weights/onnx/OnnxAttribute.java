package io.jembed.weights.onnx;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * A parsed {@code AttributeProto}. Only the value fields the importer reads are kept: f, i, s, t,
 * floats, ints, strings. Subgraph values (g, graphs) are skipped; BERT encoders have none.
 *
 * @param name    attribute name, e.g. "perm", "axis", "value"
 * @param type    {@code AttributeProto.AttributeType} code (1 FLOAT, 2 INT, 3 STRING, 4 TENSOR,
 *                6 FLOATS, 7 INTS, 8 STRINGS, ...), 0 if the writer omitted it
 * @param f       FLOAT value
 * @param i       INT value
 * @param s       STRING value, decoded as UTF-8 (null if absent)
 * @param t       TENSOR value (null if absent)
 * @param floats  FLOATS values
 * @param ints    INTS values
 * @param strings STRINGS values
 */
public record OnnxAttribute(String name, int type, float f, long i, String s, OnnxTensor t, float[] floats,
                            long[] ints, List<String> strings) {

    public static final int FLOAT = 1;
    public static final int INT = 2;
    public static final int STRING = 3;
    public static final int TENSOR = 4;
    public static final int FLOATS = 6;
    public static final int INTS = 7;
    public static final int STRINGS = 8;

    public OnnxAttribute {
        floats = floats.clone();
        ints = ints.clone();
        strings = List.copyOf(strings);
    }

    @Override
    public float[] floats() {
        return floats.clone();
    }

    @Override
    public long[] ints() {
        return ints.clone();
    }

    static OnnxAttribute parse(ProtoReader r, String source) throws OnnxFormatException {
        String name = "";
        int type = 0;
        float f = 0;
        long i = 0;
        String s = null;
        OnnxTensor t = null;
        ArrayBuilders.Floats floats = new ArrayBuilders.Floats();
        ArrayBuilders.Longs ints = new ArrayBuilders.Longs();
        List<String> strings = new ArrayList<>();
        while (r.next()) {
            switch (r.fieldNumber()) {
                case 1 -> name = r.readString();
                case 2 -> f = r.readFloat();
                case 3 -> i = r.readVarint();
                case 4 -> s = utf8(r.readBytes());
                case 5 -> t = OnnxTensor.parse(r.readMessage(), source);
                case 7 -> floats.addAll(r.readFloats());
                case 8 -> ints.addAll(r.readVarints());
                case 9 -> strings.add(utf8(r.readBytes()));
                case 20 -> type = r.readInt32();
                default -> r.skip();
            }
        }
        return new OnnxAttribute(name, type, f, i, s, t, floats.toArray(), ints.toArray(), strings);
    }

    /** Attribute bytes are arbitrary; decode leniently, they only label things. */
    private static String utf8(ByteBuffer bytes) {
        byte[] copy = new byte[bytes.remaining()];
        bytes.get(copy);
        return new String(copy, StandardCharsets.UTF_8);
    }
}
