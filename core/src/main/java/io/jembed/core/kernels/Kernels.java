package io.jembed.core.kernels;

/**
 * The primitive operations the encoder's forward pass is written in.
 *
 * <p>All matrices are row-major {@code float[]}. Shape symbols: T rows (tokens), in/out
 * the Linear layer's input and output features, d the head size. Two implementations:
 * {@link ScalarKernels}, the textbook loops that serve as the test oracle, and
 * {@code VectorKernels} on {@code jdk.incubator.vector}. {@link KernelsProvider} picks one
 * once per JVM.
 *
 * <p>Implementations are stateless and thread-safe; parallel work is spread over the
 * {@link WorkerPool} the caller passes in.
 */
public interface Kernels {

    /** Activation applied to each output of a Linear layer (fused into its epilogue). */
    enum Activation { NONE, GELU, GELU_TANH, RELU }

    /** Short name for logs and benchmark labels, e.g. "scalar" or "vector(512-bit)". */
    String name();

    /**
     * Packs a Linear layer once at load time, in this implementation's layout ({@link #linear}
     * accepts only a layer packed by the same implementation, or by {@link ScalarKernels} for
     * the scalar one, which reads any layout).
     *
     * @param weight [out, in], the Hugging Face layout
     * @param bias   [out], or null for no bias
     */
    PackedLinear pack(float[] weight, float[] bias, int out, int in);

    /**
     * {@code y[T, out] = act(x[T, in] · weightᵀ + bias)}; rows of x and y are contiguous
     * starting at offset 0. Work is split over {@code pool}.
     */
    void linear(WorkerPool pool, float[] x, int rows, PackedLinear w, Activation act, float[] y);

    /**
     * Scaled dot-product attention of one head of one sequence, bidirectional (no mask: the
     * caller passes only the sequence's real tokens):
     * {@code out[t] = Σ_s softmax_s(scale · q[t]·k[s]) v[s]}.
     *
     * <p>q, k and v are addressed as {@code base[off + t * stride + j]} and out as
     * {@code out[outOff + t * outStride + j]}, for token t in [0, T) and feature j in [0, d).
     * {@code scratch} holds at least {@link #attentionScratchSize(int, int)} floats and is
     * overwritten; give each concurrent call its own. {@code scale > 0} (usually 1/√d).
     */
    void attention(float[] q, int qOff, float[] k, int kOff, float[] v, int vOff, int stride,
                   int T, int d, float scale, float[] out, int outOff, int outStride, float[] scratch);

    /** Floats of scratch {@link #attention} needs for a sequence of T tokens and head size d. */
    int attentionScratchSize(int T, int d);

    /**
     * Row-wise {@code out[r] = LayerNorm(x[r] + residual[r]) * gamma + beta} over rows of
     * length n; residual may be null. Two passes (mean, then variance). out may alias x or
     * residual.
     */
    default void addLayerNorm(float[] x, float[] residual, int rows, int n, float[] gamma, float[] beta,
                              float eps, float[] out) {
        addLayerNorm(x, residual, 0, rows, n, gamma, beta, eps, out);
    }

    /**
     * {@link #addLayerNorm(float[], float[], int, int, float[], float[], float, float[])} over rows
     * [firstRow, firstRow + rows) only, so that callers can split a batch over threads.
     */
    void addLayerNorm(float[] x, float[] residual, int firstRow, int rows, int n, float[] gamma, float[] beta,
                      float eps, float[] out);

    /** In-place softmax of x[off, off+n) with the row max subtracted first. */
    void softmax(float[] x, int off, int n);

    /** Sum of a[aOff + i] * b[bOff + i] for i in [0, n). */
    float dot(float[] a, int aOff, float[] b, int bOff, int n);

    /** y[yOff + i] += alpha * x[xOff + i] for i in [0, n). */
    void axpy(float alpha, float[] x, int xOff, float[] y, int yOff, int n);

    /** In-place activation of x[off, off+n). */
    void activate(Activation act, float[] x, int off, int n);

    /** Scales x[off, off+n) to unit L2 norm; a zero vector stays zero. */
    void l2Normalize(float[] x, int off, int n);
}
