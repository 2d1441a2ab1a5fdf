package io.jembed.weights.onnx;

import java.util.Arrays;
import java.util.Objects;

/**
 * One weight recovered from an ONNX graph, under its Hugging Face name and in HF layout.
 *
 * @param name       Hugging Face parameter name, e.g. {@code encoder.layer.0.attention.self.query.weight}
 * @param data       F32 values, row-major in {@code shape}; shared, not copied (up to 47 MB for
 *                   the word embeddings), so callers must not modify it
 * @param shape      HF shape, e.g. [out, in] for a Linear weight
 * @param onnxName   the initializer it came from, e.g. {@code onnx::MatMul_787}
 * @param transposed whether {@code data} is the initializer transposed (ONNX MatMul stores
 *                   Linear weights as [in, out])
 */
public record ImportedTensor(String name, float[] data, long[] shape, String onnxName, boolean transposed) {

    public ImportedTensor {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(data, "data");
        shape = shape.clone();
    }

    @Override
    public long[] shape() {
        return shape.clone();
    }

    /** Number of elements. */
    public int elementCount() {
        return data.length;
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof ImportedTensor that
                && name.equals(that.name)
                && Arrays.equals(data, that.data)
                && Arrays.equals(shape, that.shape)
                && onnxName.equals(that.onnxName)
                && transposed == that.transposed;
    }

    @Override
    public int hashCode() {
        return Objects.hash(name, Arrays.hashCode(shape), onnxName, transposed);
    }

    @Override
    public String toString() {
        return "ImportedTensor[" + name + " " + Arrays.toString(shape) + " from " + onnxName
                + (transposed ? " (transposed)" : "") + "]";
    }
}
