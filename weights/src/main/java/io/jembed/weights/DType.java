package io.jembed.weights;

import java.util.Optional;

/**
 * Element types of a safetensors file, spelled as in the header's {@code "dtype"} field.
 *
 * <p>Every type the reference Rust crate writes with a whole number of bytes per element is
 * known, so any such file validates; only {@link #F32}, {@link #F16} and {@link #BF16} convert to
 * {@code float[]}. Sub-byte types (F4, F6) are not supported and fail as an unknown dtype.
 */
public enum DType {
    BOOL(1),
    U8(1),
    I8(1),
    F8_E5M2(1),
    F8_E4M3(1),
    I16(2),
    U16(2),
    F16(2),
    BF16(2),
    I32(4),
    U32(4),
    F32(4),
    F64(8),
    I64(8),
    U64(8);

    private final int byteSize;

    DType(int byteSize) {
        this.byteSize = byteSize;
    }

    /** Bytes per element. */
    public int byteSize() {
        return byteSize;
    }

    /** Whether {@link SafetensorsReader#floats(String)} converts this type to F32. */
    public boolean isFloatConvertible() {
        return this == F32 || this == F16 || this == BF16;
    }

    /** The type with this header spelling (case-sensitive, as the reference crate), if known. */
    public static Optional<DType> fromHeaderName(String name) {
        for (DType type : values()) {
            if (type.name().equals(name)) {
                return Optional.of(type);
            }
        }
        return Optional.empty();
    }
}
