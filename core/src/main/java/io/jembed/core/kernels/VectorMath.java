package io.jembed.core.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import io.jembed.core.kernels.Kernels.Activation;

/**
 * Element-wise functions on vectors of {@link VectorWidth#SPECIES}: exp, the activations, and
 * their in-place application to a run of floats.
 *
 * <p>exp is computed here rather than with {@code lanewise(EXP)}: that one calls out of line
 * into a math library on x86 and falls back to a per-lane scalar loop elsewhere, while these few
 * FMAs inline into the calling loop on every platform the Vector API compiles.
 */
final class VectorMath {

    private static final VectorSpecies<Float> S = VectorWidth.SPECIES;
    private static final int L = S.length();

    private static final float LOG2_E = 1.4426950408889634f;
    // ln 2 split so that n * LN2_HI is exact for the |n| <= 150 used here (Cody and Waite).
    private static final float LN2_HI = 0.693145751953125f;
    private static final float LN2_LO = 1.4286068203094172e-6f;
    // Adding then subtracting 1.5 * 2^23 rounds a float of magnitude below 2^22 to an integer.
    private static final float ROUND_MAGIC = 12582912f;
    // exp(x) underflows to 0 below -103.97 and overflows above 88.72; clamping to this range
    // keeps n within [-150, 129], where 2^n is built exactly as two factors 2^(n/2) 2^(n - n/2).
    private static final float EXP_MIN = -104f;
    private static final float EXP_MAX = 89f;

    private static final float SQRT_HALF = (float) NormalCdf.SQRT_HALF;
    // The branch point and clamp of NormalCdf, as bounds on |x| = √2 |z|.
    private static final float SPLIT_X = (float) (NormalCdf.SPLIT * Math.sqrt(2));
    private static final float CLAMP_X = (float) (NormalCdf.CLAMP * Math.sqrt(2));
    private static final float[] ERF = toFloats(NormalCdf.ERF);
    private static final float ERF0 = ERF[0], ERF1 = ERF[1], ERF2 = ERF[2], ERF3 = ERF[3],
            ERF4 = ERF[4], ERF5 = ERF[5], ERF6 = ERF[6];
    private static final float[] ERFC_P = toFloats(NormalCdf.ERFC_P);
    private static final float P0 = ERFC_P[0], P1 = ERFC_P[1], P2 = ERFC_P[2], P3 = ERFC_P[3];
    private static final float[] ERFC_Q = toFloats(NormalCdf.ERFC_Q);
    private static final float Q0 = ERFC_Q[0], Q1 = ERFC_Q[1], Q2 = ERFC_Q[2], Q3 = ERFC_Q[3], Q4 = ERFC_Q[4];

    private static final float SQRT_2_OVER_PI = 0.7978845608028654f;
    private static final float GELU_TANH_CUBIC = 0.044715f;

    private VectorMath() {
    }

    /**
     * e^x per lane, within 2 ulp of the exact value for normal results. Range reduction
     * {@code x = n ln2 + r}, |r| <= ln2 / 2, then e^r by its Taylor polynomial to degree 7,
     * whose truncation error r^8 / 8! <= 5.3e-9 is below a tenth of a float ulp.
     */
    static FloatVector exp(FloatVector x) {
        FloatVector clamped = x.max(EXP_MIN).min(EXP_MAX);
        FloatVector n = clamped.fma(LOG2_E, ROUND_MAGIC).sub(ROUND_MAGIC);
        FloatVector r = n.fma(FloatVector.broadcast(S, -LN2_HI), clamped);
        r = n.fma(FloatVector.broadcast(S, -LN2_LO), r);
        FloatVector p = r.fma(1f / 5040, 1f / 720);
        p = mulAdd(p, r, 1f / 120);
        p = mulAdd(p, r, 1f / 24);
        p = mulAdd(p, r, 1f / 6);
        p = mulAdd(p, r, 0.5f);
        p = mulAdd(p, r, 1f);
        p = mulAdd(p, r, 1f);
        IntVector exponent = (IntVector) n.convert(VectorOperators.F2I, 0);
        IntVector half = exponent.lanewise(VectorOperators.ASHR, 1);
        FloatVector scale1 = twoTo(half);
        FloatVector scale2 = twoTo(exponent.sub(half));
        return p.mul(scale1).mul(scale2);
    }

    /** One Horner step, {@code p * x + c}. */
    private static FloatVector mulAdd(FloatVector p, FloatVector x, float c) {
        return p.fma(x, FloatVector.broadcast(S, c));
    }

    /** 2^n for n in [-126, 127], built in the exponent field. */
    private static FloatVector twoTo(IntVector n) {
        return n.add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
    }

    /** Exact GELU {@code x Φ(x)}, Φ from the approximations documented in {@link NormalCdf}. */
    static FloatVector gelu(FloatVector x) {
        FloatVector z = x.mul(SQRT_HALF);
        // |z| < 1: Φ = 1/2 + z S(z²) / 2
        FloatVector t = z.mul(z);
        FloatVector s = t.fma(ERF6, ERF5);
        s = mulAdd(s, t, ERF4);
        s = mulAdd(s, t, ERF3);
        s = mulAdd(s, t, ERF2);
        s = mulAdd(s, t, ERF1);
        s = mulAdd(s, t, ERF0);
        FloatVector small = z.mul(s).fma(0.5f, 0.5f);
        // |z| >= 1: erfc(a) = exp(-a²) P(a) / Q(a) with a = |x| / √2 clamped to the fitted range.
        // exp's argument a² = x² / 2 is taken from x, as hi + lo with lo the rounding error of
        // x², not from the rounded a: at a = 7 the rounding of a alone would cost 6e-6 relative.
        FloatVector xc = x.abs().max(SPLIT_X).min(CLAMP_X);
        FloatVector c = xc.mul(SQRT_HALF);
        FloatVector squareHi = xc.mul(xc);
        FloatVector squareLo = xc.fma(xc, squareHi.neg());
        FloatVector e = exp(squareHi.mul(-0.5f));
        e = squareLo.mul(-0.5f).fma(e, e);
        FloatVector p = mulAdd(mulAdd(c.fma(P3, P2), c, P1), c, P0);
        FloatVector q = mulAdd(mulAdd(mulAdd(c.fma(Q4, Q3), c, Q2), c, Q1), c, Q0);
        FloatVector halfErfc = e.mul(0.5f).mul(p.div(q));
        FloatVector large = halfErfc.neg().add(1f).blend(halfErfc, x.lt(0f));
        FloatVector phi = large.blend(small, x.abs().lt(SPLIT_X));
        return x.mul(phi);
    }

    /**
     * {@code gelu_new}: {@code x/2 (1 + tanh(u)) = x / (1 + e^(-2u))} with
     * {@code u = √(2/π) (x + 0.044715 x³)}; e^(-2u) overflowing to infinity gives -0, the limit.
     */
    static FloatVector geluTanh(FloatVector x) {
        FloatVector u = x.mul(x).fma(GELU_TANH_CUBIC, 1f).mul(x).mul(SQRT_2_OVER_PI);
        return x.div(exp(u.mul(-2f)).add(1f));
    }

    static FloatVector activate(Activation act, FloatVector x) {
        return switch (act) {
            case NONE -> x;
            case GELU -> gelu(x);
            case GELU_TANH -> geluTanh(x);
            case RELU -> x.max(0f);
        };
    }

    /** In-place activation of x[off, off + n); the tail runs masked so every element sees the same math. */
    static void activate(Activation act, float[] x, int off, int n) {
        switch (act) {
            case NONE -> { }
            case GELU -> {
                int i = 0;
                for (; i <= n - L; i += L) {
                    gelu(FloatVector.fromArray(S, x, off + i)).intoArray(x, off + i);
                }
                if (i < n) {
                    VectorMask<Float> m = S.indexInRange(i, n);
                    gelu(FloatVector.fromArray(S, x, off + i, m)).intoArray(x, off + i, m);
                }
            }
            case GELU_TANH -> {
                int i = 0;
                for (; i <= n - L; i += L) {
                    geluTanh(FloatVector.fromArray(S, x, off + i)).intoArray(x, off + i);
                }
                if (i < n) {
                    VectorMask<Float> m = S.indexInRange(i, n);
                    geluTanh(FloatVector.fromArray(S, x, off + i, m)).intoArray(x, off + i, m);
                }
            }
            case RELU -> {
                int i = 0;
                for (; i <= n - L; i += L) {
                    FloatVector.fromArray(S, x, off + i).max(0f).intoArray(x, off + i);
                }
                if (i < n) {
                    VectorMask<Float> m = S.indexInRange(i, n);
                    FloatVector.fromArray(S, x, off + i, m).max(0f).intoArray(x, off + i, m);
                }
            }
        }
    }

    private static float[] toFloats(double[] values) {
        float[] floats = new float[values.length];
        for (int i = 0; i < values.length; i++) {
            floats[i] = (float) values[i];
        }
        return floats;
    }
}
