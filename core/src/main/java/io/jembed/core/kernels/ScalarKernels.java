package io.jembed.core.kernels;

/**
 * The textbook loops: the test oracle for {@link VectorKernels}, and the fallback when the
 * Vector API module is absent. Sums are accumulated in double so the oracle's own rounding is
 * far below the vector kernels' tolerances.
 *
 * <p>{@link #linear} reads a {@link PackedLinear} of any panel width, so a layer packed for the
 * vector kernels can be checked against this one directly. Everything runs on the calling
 * thread; the pool argument is ignored.
 */
public final class ScalarKernels implements Kernels {

    static final ScalarKernels INSTANCE = new ScalarKernels();

    /** √(2/π), the scale inside tanh of the GELU_TANH approximation. */
    private static final double SQRT_2_OVER_PI = 0.7978845608028654;

    /** The cubic coefficient of the GELU_TANH approximation (Hendrycks and Gimpel). */
    private static final double GELU_TANH_CUBIC = 0.044715;

    private ScalarKernels() {
    }

    @Override
    public String name() {
        return "scalar";
    }

    @Override
    public PackedLinear pack(float[] weight, float[] bias, int out, int in) {
        return PackedLinear.pack(weight, bias, out, in, 1);
    }

    @Override
    public void linear(WorkerPool pool, float[] x, int rows, PackedLinear w, Activation act, float[] y) {
        int in = w.in();
        int out = w.out();
        Checks.range("linear", "x", x, 0, rows * in);
        Checks.range("linear", "y", y, 0, rows * out);
        int P = w.panelWidth();
        float[] weights = w.weights;
        for (int t = 0; t < rows; t++) {
            for (int o = 0; o < out; o++) {
                int wBase = (o / P) * in * P + o % P; // weight[o][i] at wBase + i * P
                double sum = w.bias[o];
                for (int i = 0; i < in; i++) {
                    sum += (double) x[t * in + i] * weights[wBase + i * P];
                }
                y[t * out + o] = activate(act, (float) sum);
            }
        }
    }

    @Override
    public void attention(float[] q, int qOff, float[] k, int kOff, float[] v, int vOff, int stride,
                          int T, int d, float scale, float[] out, int outOff, int outStride, float[] scratch) {
        Checks.positive("attention", "T", T);
        Checks.positive("attention", "d", d);
        Checks.strided("attention", "q", q, qOff, stride, T, d);
        Checks.strided("attention", "k", k, kOff, stride, T, d);
        Checks.strided("attention", "v", v, vOff, stride, T, d);
        Checks.strided("attention", "out", out, outOff, outStride, T, d);
        Checks.range("attention", "scratch", scratch, 0, attentionScratchSize(T, d));
        if (!(scale > 0)) {
            throw new IllegalArgumentException("attention: expected scale > 0, found " + scale);
        }
        float[] scores = scratch; // [T]: one query's scores, then its probabilities
        for (int t = 0; t < T; t++) {
            for (int s = 0; s < T; s++) {
                double sum = 0;
                for (int j = 0; j < d; j++) {
                    sum += (double) q[qOff + t * stride + j] * k[kOff + s * stride + j];
                }
                scores[s] = (float) (scale * sum);
            }
            softmax(scores, 0, T);
            for (int j = 0; j < d; j++) {
                double sum = 0;
                for (int s = 0; s < T; s++) {
                    sum += (double) scores[s] * v[vOff + s * stride + j];
                }
                out[outOff + t * outStride + j] = (float) sum;
            }
        }
    }

    @Override
    public int attentionScratchSize(int T, int d) {
        return T;
    }

    @Override
    public void addLayerNorm(float[] x, float[] residual, int firstRow, int rows, int n, float[] gamma, float[] beta,
                             float eps, float[] out) {
        Checks.positive("addLayerNorm", "n", n);
        Checks.range("addLayerNorm", "x", x, firstRow * n, rows * n);
        if (residual != null) {
            Checks.range("addLayerNorm", "residual", residual, firstRow * n, rows * n);
        }
        Checks.range("addLayerNorm", "gamma", gamma, 0, n);
        Checks.range("addLayerNorm", "beta", beta, 0, n);
        Checks.range("addLayerNorm", "out", out, firstRow * n, rows * n);
        for (int r = firstRow; r < firstRow + rows; r++) {
            int base = r * n;
            double sum = 0;
            for (int i = 0; i < n; i++) {
                sum += input(x, residual, base + i);
            }
            double mean = sum / n;
            double squares = 0;
            for (int i = 0; i < n; i++) {
                double centered = input(x, residual, base + i) - mean;
                squares += centered * centered;
            }
            double rstd = 1 / Math.sqrt(squares / n + eps);
            for (int i = 0; i < n; i++) {
                double normalized = (input(x, residual, base + i) - mean) * rstd;
                out[base + i] = (float) (normalized * gamma[i] + beta[i]);
            }
        }
    }

    /** x + residual as the float the vector kernel also rounds it to before normalising. */
    private static float input(float[] x, float[] residual, int i) {
        return residual == null ? x[i] : x[i] + residual[i];
    }

    @Override
    public void softmax(float[] x, int off, int n) {
        Checks.range("softmax", "x", x, off, n);
        float max = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) {
            max = Math.max(max, x[off + i]);
        }
        double sum = 0;
        for (int i = 0; i < n; i++) {
            double e = Math.exp((double) x[off + i] - max);
            x[off + i] = (float) e;
            sum += e;
        }
        double inverse = 1 / sum;
        for (int i = 0; i < n; i++) {
            x[off + i] = (float) (x[off + i] * inverse);
        }
    }

    @Override
    public float dot(float[] a, int aOff, float[] b, int bOff, int n) {
        Checks.range("dot", "a", a, aOff, n);
        Checks.range("dot", "b", b, bOff, n);
        double sum = 0;
        for (int i = 0; i < n; i++) {
            sum += (double) a[aOff + i] * b[bOff + i];
        }
        return (float) sum;
    }

    @Override
    public void axpy(float alpha, float[] x, int xOff, float[] y, int yOff, int n) {
        Checks.range("axpy", "x", x, xOff, n);
        Checks.range("axpy", "y", y, yOff, n);
        for (int i = 0; i < n; i++) {
            y[yOff + i] += alpha * x[xOff + i];
        }
    }

    @Override
    public void activate(Activation act, float[] x, int off, int n) {
        Checks.range("activate", "x", x, off, n);
        for (int i = 0; i < n; i++) {
            x[off + i] = activate(act, x[off + i]);
        }
    }

    @Override
    public void l2Normalize(float[] x, int off, int n) {
        Checks.range("l2Normalize", "x", x, off, n);
        double squares = 0;
        for (int i = 0; i < n; i++) {
            squares += (double) x[off + i] * x[off + i];
        }
        if (squares == 0) {
            return;
        }
        double inverse = 1 / Math.sqrt(squares);
        for (int i = 0; i < n; i++) {
            x[off + i] = (float) (x[off + i] * inverse);
        }
    }

    static float activate(Activation act, float x) {
        return switch (act) {
            case NONE -> x;
            case GELU -> gelu(x);
            case GELU_TANH -> geluTanh(x);
            case RELU -> Math.max(x, 0f);
        };
    }

    /** Exact GELU, {@code x Φ(x)}, from the erf approximation in {@link NormalCdf}. */
    static float gelu(float x) {
        return (float) (x * NormalCdf.phi(x));
    }

    /** Hugging Face's {@code gelu_new}: {@code x/2 (1 + tanh(√(2/π) (x + 0.044715 x³)))}. */
    static float geluTanh(float x) {
        double u = SQRT_2_OVER_PI * (x + GELU_TANH_CUBIC * x * x * x);
        return (float) (0.5 * x * (1 + Math.tanh(u)));
    }
}
