package io.jembed.core.kernels;

/**
 * A Linear layer's weight and bias, packed once at load time in the layout a {@link Kernels}
 * implementation reads fastest. Build one with {@link Kernels#pack}.
 *
 * <p>Layout: the out dimension is cut into panels of {@code panelWidth} output features; panel p
 * holds, for each input feature i, the {@code panelWidth} weights of outputs
 * {@code [p * panelWidth, (p + 1) * panelWidth)} contiguously, so a matmul kernel reads one
 * panel row per input feature with aligned vector loads:
 * {@code weights[(p * in + i) * panelWidth + c] = weight[p * panelWidth + c][i]}. The last panel
 * is zero-padded past {@code out}. A panel width of 1 is exactly the Hugging Face {@code [out, in]}
 * layout.
 */
public final class PackedLinear {

    private final int out;
    private final int in;
    private final int panelWidth;
    final float[] weights; // [panels, in, panelWidth], zero-padded past out
    final float[] bias;    // [panels * panelWidth], zero where the layer has no bias or past out

    private PackedLinear(int out, int in, int panelWidth, float[] weights, float[] bias) {
        this.out = out;
        this.in = in;
        this.panelWidth = panelWidth;
        this.weights = weights;
        this.bias = bias;
    }

    /**
     * Packs {@code weight [out, in]} (row-major, the Hugging Face layout) and {@code bias [out]}
     * (or null) into panels of {@code panelWidth} outputs.
     */
    static PackedLinear pack(float[] weight, float[] bias, int out, int in, int panelWidth) {
        if (out < 1 || in < 1) {
            throw new IllegalArgumentException("pack linear: expected out >= 1 and in >= 1, found out="
                    + out + ", in=" + in);
        }
        if (weight == null || (long) out * in != weight.length) {
            throw new IllegalArgumentException("pack linear: expected weight of " + ((long) out * in)
                    + " floats [" + out + ", " + in + "], found "
                    + (weight == null ? "null" : weight.length + " floats"));
        }
        if (bias != null && bias.length != out) {
            throw new IllegalArgumentException("pack linear: expected bias of " + out + " floats ["
                    + out + "], found " + bias.length + " floats");
        }
        int panels = (out + panelWidth - 1) / panelWidth;
        long packedLength = (long) panels * in * panelWidth;
        if (packedLength > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("pack linear: expected at most " + (Integer.MAX_VALUE - 8)
                    + " packed floats, found " + packedLength + " for [" + out + ", " + in + "]");
        }
        float[] packed = new float[(int) packedLength];
        for (int o = 0; o < out; o++) {
            int panelBase = (o / panelWidth) * in * panelWidth + o % panelWidth;
            for (int i = 0; i < in; i++) {
                packed[panelBase + i * panelWidth] = weight[o * in + i];
            }
        }
        float[] paddedBias = new float[panels * panelWidth];
        if (bias != null) {
            System.arraycopy(bias, 0, paddedBias, 0, out);
        }
        return new PackedLinear(out, in, panelWidth, packed, paddedBias);
    }

    /** Output features (rows of the Hugging Face weight). */
    public int out() {
        return out;
    }

    /** Input features (columns of the Hugging Face weight). */
    public int in() {
        return in;
    }

    /** Output features per panel; 1 means the plain {@code [out, in]} layout. */
    public int panelWidth() {
        return panelWidth;
    }

    /** Number of panels, the last one possibly zero-padded. */
    int panels() {
        return bias.length / panelWidth;
    }

    /** The weight of output o for input i, {@code weight[o][i]} in the Hugging Face layout. */
    float weight(int o, int i) {
        return weights[((o / panelWidth) * in + i) * panelWidth + o % panelWidth];
    }
}
