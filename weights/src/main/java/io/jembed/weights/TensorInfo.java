package io.jembed.weights;

import java.util.Arrays;
import java.util.Objects;

/**
 * One validated header entry.
 *
 * @param name       tensor name as in the header
 * @param dtype      element type
 * @param shape      dimensions, outermost first (row-major); copied in and out
 * @param byteOffset offset of the first byte from the start of the file
 * @param byteLength number of bytes, equal to {@code elementCount() * dtype.byteSize()}
 */
public record TensorInfo(String name, DType dtype, long[] shape, long byteOffset, long byteLength) {

    public TensorInfo {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(dtype, "dtype");
        shape = shape.clone();
    }

    @Override
    public long[] shape() {
        return shape.clone();
    }

    /** Number of dimensions. */
    public int rank() {
        return shape.length;
    }

    /** Size of dimension {@code i}. */
    public long dim(int i) {
        return shape[i];
    }

    /** Product of the dimensions (1 for a scalar). Validated not to overflow. */
    public long elementCount() {
        long count = 1;
        for (long dim : shape) {
            count *= dim;
        }
        return count;
    }

    /** Whether the shape equals {@code expected}. */
    public boolean hasShape(long... expected) {
        return Arrays.equals(shape, expected);
    }

    /** dtype and shape as messages show them, e.g. {@code F32 [384, 384]}. */
    public String describe() {
        return dtype + " " + Arrays.toString(shape);
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof TensorInfo that
                && name.equals(that.name)
                && dtype == that.dtype
                && Arrays.equals(shape, that.shape)
                && byteOffset == that.byteOffset
                && byteLength == that.byteLength;
    }

    @Override
    public int hashCode() {
        return Objects.hash(name, dtype, Arrays.hashCode(shape), byteOffset, byteLength);
    }

    @Override
    public String toString() {
        return "TensorInfo[" + name + " " + describe() + " @" + byteOffset + "+" + byteLength + "]";
    }
}
