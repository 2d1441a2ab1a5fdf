package io.jembed.core.index;

import java.util.List;
import java.util.Objects;

import io.jembed.core.kernels.IndexKernels;

/**
 * Cosine similarity as sentence-transformers' {@code util.cos_sim} computes it: each vector is
 * divided by {@code max(||v||, 1e-12)}, then the normalised vectors are multiplied. A zero vector
 * is therefore similar to nothing (score 0), and a vector's similarity with itself is 1 up to
 * float rounding.
 */
public final class Similarity {

    /** torch.nn.functional.normalize's eps: norms below it are replaced by it. */
    static final double NORM_EPS = 1e-12;

    private Similarity() {
    }

    /**
     * Cosine similarity of two vectors of the same length.
     *
     * @throws IllegalArgumentException if the lengths differ or are 0
     */
    public static float cosine(float[] a, float[] b) {
        checkLength("vector b", b, checkLength("vector a", a, -1));
        return IndexKernels.get().dot(normalized(a), 0, normalized(b), 0, a.length);
    }

    /** The matrix of every vector's similarity with every other: {@code [n, n]}, as {@code cos_sim(x, x)}. */
    public static float[][] cosineMatrix(List<float[]> vectors) {
        return cosineMatrix(vectors, vectors);
    }

    /**
     * {@code result[i][j] = cosine(a[i], b[j])}: {@code [a.size, b.size]}, as {@code cos_sim(a, b)}.
     *
     * @throws IllegalArgumentException if the vectors do not all have the same non-zero length
     */
    public static float[][] cosineMatrix(List<float[]> a, List<float[]> b) {
        int dim = -1;
        for (int i = 0; i < a.size(); i++) {
            dim = checkLength("a[" + i + "]", a.get(i), dim);
        }
        for (int j = 0; j < b.size(); j++) {
            dim = checkLength("b[" + j + "]", b.get(j), dim);
        }
        float[][] left = new float[a.size()][];
        for (int i = 0; i < left.length; i++) {
            left[i] = normalized(a.get(i));
        }
        float[][] right = a == b ? left : new float[b.size()][];
        if (a != b) {
            for (int j = 0; j < right.length; j++) {
                right[j] = normalized(b.get(j));
            }
        }
        IndexKernels kernels = IndexKernels.get();
        float[][] result = new float[left.length][right.length];
        for (int i = 0; i < left.length; i++) {
            for (int j = 0; j < right.length; j++) {
                result[i][j] = kernels.dot(left[i], 0, right[j], 0, dim);
            }
        }
        return result;
    }

    /** {@link #cosineMatrix(List, List)} over arrays. */
    public static float[][] cosineMatrix(float[][] a, float[][] b) {
        return cosineMatrix(List.of(a), List.of(b));
    }

    private static float[] normalized(float[] v) {
        double sumOfSquares = 0;
        for (float x : v) {
            sumOfSquares += (double) x * x;
        }
        double norm = Math.max(Math.sqrt(sumOfSquares), NORM_EPS);
        float[] out = new float[v.length];
        for (int i = 0; i < v.length; i++) {
            out[i] = (float) (v[i] / norm);
        }
        return out;
    }

    /** Checks v's length against dim (or takes it, when dim is -1); returns the length. */
    private static int checkLength(String what, float[] v, int dim) {
        Objects.requireNonNull(v, what);
        if (v.length == 0 || (dim >= 0 && v.length != dim)) {
            throw new IllegalArgumentException(what + ": expected dimension " + (dim >= 0 ? dim : ">= 1") + ", found "
                    + v.length);
        }
        return v.length;
    }
}
