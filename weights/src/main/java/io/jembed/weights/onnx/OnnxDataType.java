package io.jembed.weights.onnx;

import java.util.Optional;

/** ONNX {@code TensorProto.DataType} codes, with the byte size of one element where whole. */
public enum OnnxDataType {
    UNDEFINED(0, 0),
    FLOAT(1, 4),
    UINT8(2, 1),
    INT8(3, 1),
    UINT16(4, 2),
    INT16(5, 2),
    INT32(6, 4),
    INT64(7, 8),
    STRING(8, 0),
    BOOL(9, 1),
    FLOAT16(10, 2),
    DOUBLE(11, 8),
    UINT32(12, 4),
    UINT64(13, 8),
    COMPLEX64(14, 8),
    COMPLEX128(15, 16),
    BFLOAT16(16, 2),
    FLOAT8E4M3FN(17, 1),
    FLOAT8E4M3FNUZ(18, 1),
    FLOAT8E5M2(19, 1),
    FLOAT8E5M2FNUZ(20, 1),
    UINT4(21, 0),
    INT4(22, 0),
    FLOAT4E2M1(23, 0);

    private final int code;
    private final int byteSize;

    OnnxDataType(int code, int byteSize) {
        this.code = code;
        this.byteSize = byteSize;
    }

    /** The code stored in {@code TensorProto.data_type}. */
    public int code() {
        return code;
    }

    /** Bytes per element in {@code raw_data}; 0 for strings and sub-byte types. */
    public int byteSize() {
        return byteSize;
    }

    /** The type with this code, if the importer knows it. */
    public static Optional<OnnxDataType> fromCode(int code) {
        OnnxDataType[] all = values();
        return code >= 0 && code < all.length ? Optional.of(all[code]) : Optional.empty();
    }

    /** The type's name, or "data type N" for unknown codes, for messages. */
    public static String describe(int code) {
        return fromCode(code).map(Enum::name).orElse("data type " + code);
    }
}
