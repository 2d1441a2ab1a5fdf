package io.jembed.weights.onnx;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.Objects;

/**
 * A parsed {@code TensorProto}: an initializer or a Constant node's value. Data stays where the
 * protobuf put it ({@code raw_data} as a zero-copy view of the file bytes, or a typed repeated
 * field) until {@link #toFloats()} or {@link #toLongs()} converts it.
 */
public final class OnnxTensor {

    private final String name;
    private final int dataType;
    private final long[] dims;
    private final ByteBuffer rawData;
    private final float[] floatData;
    private final long[] int32Data;
    private final long[] int64Data;
    private final double[] doubleData;
    private final boolean external;
    private final String source;

    OnnxTensor(String name, int dataType, long[] dims, ByteBuffer rawData, float[] floatData, long[] int32Data,
               long[] int64Data, double[] doubleData, boolean external, String source) {
        this.name = Objects.requireNonNullElse(name, "");
        this.dataType = dataType;
        this.dims = dims;
        this.rawData = rawData;
        this.floatData = floatData;
        this.int32Data = int32Data;
        this.int64Data = int64Data;
        this.doubleData = doubleData;
        this.external = external;
        this.source = source;
    }

    /** Parses a {@code TensorProto} message. */
    static OnnxTensor parse(ProtoReader r, String source) throws OnnxFormatException {
        String name = "";
        int dataType = 0;
        ArrayBuilders.Longs dims = new ArrayBuilders.Longs();
        ByteBuffer raw = null;
        ArrayBuilders.Floats floats = new ArrayBuilders.Floats();
        ArrayBuilders.Longs int32s = new ArrayBuilders.Longs();
        ArrayBuilders.Longs int64s = new ArrayBuilders.Longs();
        ArrayBuilders.Doubles doubles = new ArrayBuilders.Doubles();
        boolean external = false;
        while (r.next()) {
            switch (r.fieldNumber()) {
                case 1 -> dims.addAll(r.readVarints());
                case 2 -> dataType = r.readInt32();
                case 4 -> floats.addAll(r.readFloats());
                case 5 -> int32s.addAll(r.readVarints());
                case 7 -> int64s.addAll(r.readVarints());
                case 8 -> name = r.readString();
                case 9 -> raw = r.readBytes();
                case 10 -> doubles.addAll(r.readDoubles());
                case 13 -> {
                    external = true;
                    r.skip();
                }
                case 14 -> external |= r.readInt32() == 1;
                default -> r.skip();
            }
        }
        return new OnnxTensor(name, dataType, dims.toArray(), raw, floats.toArray(), int32s.toArray(), int64s.toArray(),
                doubles.toArray(), external, source);
    }

    /** Tensor name ("" for an unnamed Constant value). */
    public String name() {
        return name;
    }

    /** {@code TensorProto.data_type} code; see {@link OnnxDataType}. */
    public int dataType() {
        return dataType;
    }

    /** Dimensions, outermost first. */
    public long[] dims() {
        return dims.clone();
    }

    /** Whether the data lives in an external file. */
    public boolean hasExternalData() {
        return external;
    }

    /** A read-only little-endian view of {@code raw_data}, or null if the tensor has none. */
    public ByteBuffer rawData() {
        return rawData == null ? null : rawData.duplicate().order(ByteOrder.LITTLE_ENDIAN);
    }

    /** Product of the dimensions (1 for a scalar). */
    public long elementCount() throws OnnxFormatException {
        long count = 1;
        for (long dim : dims) {
            if (dim < 0) {
                throw invalid("expected non-negative dims, found " + Arrays.toString(dims));
            }
            try {
                count = Math.multiplyExact(count, dim);
            } catch (ArithmeticException e) {
                throw invalid("expected dims whose product fits 64 bits, found " + Arrays.toString(dims));
            }
        }
        return count;
    }

    /** A FLOAT tensor's values, row-major, bit for bit as stored. */
    public float[] toFloats() throws OnnxFormatException {
        requireData();
        if (dataType != OnnxDataType.FLOAT.code()) {
            throw new OnnxFormatException(OnnxFormatException.Reason.UNSUPPORTED_DTYPE, name, source,
                    "expected FLOAT, found " + OnnxDataType.describe(dataType) + dtypeHint());
        }
        int count = arrayLength();
        if (rawData != null) {
            checkRawLength(count, Float.BYTES);
            float[] values = new float[count];
            rawData().asFloatBuffer().get(values);
            return values;
        }
        if (floatData.length != count) {
            throw invalid("expected " + count + " float_data values for dims " + Arrays.toString(dims) + ", found "
                    + floatData.length);
        }
        return floatData.clone();
    }

    /** An INT64 or INT32 tensor's values, row-major. */
    public long[] toLongs() throws OnnxFormatException {
        requireData();
        int count = arrayLength();
        if (dataType == OnnxDataType.INT64.code()) {
            if (rawData != null) {
                checkRawLength(count, Long.BYTES);
                long[] values = new long[count];
                rawData().asLongBuffer().get(values);
                return values;
            }
            return checkedCopy(int64Data, count, "int64_data");
        }
        if (dataType == OnnxDataType.INT32.code()) {
            if (rawData != null) {
                checkRawLength(count, Integer.BYTES);
                long[] values = new long[count];
                ByteBuffer raw = rawData();
                for (int i = 0; i < count; i++) {
                    values[i] = raw.getInt(i * Integer.BYTES);
                }
                return values;
            }
            long[] values = checkedCopy(int32Data, count, "int32_data");
            for (int i = 0; i < count; i++) {
                values[i] = (int) values[i];
            }
            return values;
        }
        throw new OnnxFormatException(OnnxFormatException.Reason.UNSUPPORTED_DTYPE, name, source,
                "expected INT64 or INT32, found " + OnnxDataType.describe(dataType));
    }

    /** A FLOAT or DOUBLE scalar (or one-element tensor) as a double; used for graph constants. */
    double toScalarDouble() throws OnnxFormatException {
        if (dataType == OnnxDataType.DOUBLE.code()) {
            requireData();
            if (arrayLength() != 1) {
                throw invalid("expected one element, found dims " + Arrays.toString(dims));
            }
            return rawData != null ? rawData().getDouble(0) : doubleData[0];
        }
        float[] values = toFloats();
        if (values.length != 1) {
            throw invalid("expected one element, found dims " + Arrays.toString(dims));
        }
        return values[0];
    }

    private String dtypeHint() {
        return dataType == OnnxDataType.INT8.code() || dataType == OnnxDataType.UINT8.code()
                ? " (dequantising int8 models is not supported; use the fp32 export)"
                : "";
    }

    private void requireData() throws OnnxFormatException {
        if (external) {
            throw new OnnxFormatException(OnnxFormatException.Reason.EXTERNAL_DATA, name, source,
                    "expected data inside the model file, found external_data (models over 2 GB are not supported)");
        }
    }

    private int arrayLength() throws OnnxFormatException {
        long count = elementCount();
        if (count > Integer.MAX_VALUE - 8) {
            throw invalid("expected at most " + (Integer.MAX_VALUE - 8) + " elements, found " + count);
        }
        return (int) count;
    }

    private void checkRawLength(int count, int elementBytes) throws OnnxFormatException {
        long expected = (long) count * elementBytes;
        if (rawData.remaining() != expected) {
            throw invalid("expected " + expected + " bytes of raw_data for " + OnnxDataType.describe(dataType) + " "
                    + Arrays.toString(dims) + ", found " + rawData.remaining());
        }
    }

    private long[] checkedCopy(long[] values, int count, String field) throws OnnxFormatException {
        if (values.length != count) {
            throw invalid("expected " + count + " " + field + " values for dims " + Arrays.toString(dims) + ", found "
                    + values.length);
        }
        return values.clone();
    }

    private OnnxFormatException invalid(String detail) {
        return new OnnxFormatException(OnnxFormatException.Reason.INVALID_TENSOR, name, source, detail);
    }

    @Override
    public String toString() {
        return "OnnxTensor[" + name + " " + OnnxDataType.describe(dataType) + " " + Arrays.toString(dims) + "]";
    }
}
