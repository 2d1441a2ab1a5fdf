package io.jembed.core.kernels;

import static jdk.incubator.vector.VectorOperators.FMA;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import io.jembed.core.kernels.Kernels.Activation;

/**
 * Element-wise loops on {@link VectorWidth#SPECIES}: exp (for softmax) and the activations,
 * in place over a run of floats.
 *
 * <p>exp is computed here rather than with {@code lanewise(EXP)}: that one calls out of line
 * into a math library on x86 and falls back to a per-lane scalar loop elsewhere, while these few
 * FMAs run inside the loop on every platform the Vector API compiles.
 *
 * <p>Each loop holds all of its arithmetic, exp included, instead of calling helpers that take
 * or return vectors: C2 inlines such a helper only while it is small or not yet compiled on its
 * own, and a call it does not inline boxes every vector (GELU measured 100x slower that way).
 * Each loop runs its last, partial vector under a mask, so every element sees the same math; only
 * that one: without mask registers (AVX2) a mask per vector costs a Java-level {@code indexInRange}
 * and masked loads and stores on every vector.
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

    /** In-place activation of x[off, off + n). */
    static void activate(Activation act, float[] x, int off, int n) {
        switch (act) {
            case NONE -> { }
            case GELU -> gelu(x, off, n);
            case GELU_TANH -> geluTanh(x, off, n);
            case RELU -> relu(x, off, n);
        }
    }

    /**
     * {@code x[i] = e^(scale x[i] + shift)} over x[off, off + n); returns the sum of the results.
     *
     * <p>e^a within 2 ulp for normal results: range reduction {@code a = k ln2 + r},
     * |r| <= ln2 / 2, then e^r by its Taylor polynomial to degree 7, whose truncation error
     * r^8 / 8! <= 5.3e-9 is below a tenth of a float ulp, then 2^k built in the exponent field.
     * a is clamped to [-104, 89] (e^a is 0 below -103.97 and infinite above 88.72), which keeps
     * k within [-150, 129]; 2^k is applied as two factors 2^(k/2) 2^(k - k/2) so that both stay
     * normal and a subnormal result is rounded once.
     */
    static float expSum(float[] x, int off, int n, float scale, float shift) {
        FloatVector sums = FloatVector.zero(S);
        for (int i = 0; i < n; i += L) {
            boolean whole = i + L <= n;
            FloatVector a = (whole ? FloatVector.fromArray(S, x, off + i)
                    : FloatVector.fromArray(S, x, off + i, S.indexInRange(i, n))).fma(scale, shift);
            FloatVector clamped = a.max(EXP_MIN).min(EXP_MAX);
            FloatVector k = clamped.fma(LOG2_E, ROUND_MAGIC).sub(ROUND_MAGIC);
            FloatVector r = k.lanewise(FMA, -LN2_HI, clamped);
            r = k.lanewise(FMA, -LN2_LO, r);
            FloatVector p = r.fma(1f / 5040, 1f / 720);
            p = p.lanewise(FMA, r, 1f / 120);
            p = p.lanewise(FMA, r, 1f / 24);
            p = p.lanewise(FMA, r, 1f / 6);
            p = p.lanewise(FMA, r, 0.5f);
            p = p.lanewise(FMA, r, 1f);
            p = p.lanewise(FMA, r, 1f);
            IntVector exponent = (IntVector) k.convert(VectorOperators.F2I, 0);
            IntVector half = exponent.lanewise(VectorOperators.ASHR, 1);
            FloatVector e = p.mul(half.add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats())
                    .mul(exponent.sub(half).add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats());
            if (whole) {
                e.intoArray(x, off + i);
                sums = sums.add(e);
            } else {
                VectorMask<Float> m = S.indexInRange(i, n);
                e.intoArray(x, off + i, m);
                sums = sums.add(e, m);
            }
        }
        return VectorWidth.sumLanes(sums);
    }

    /** Exact GELU {@code x Φ(x)}, Φ from the approximations documented in {@link NormalCdf}. */
    private static void gelu(float[] values, int off, int n) {
        for (int i = 0; i < n; i += L) {
            boolean whole = i + L <= n;
            FloatVector x = whole ? FloatVector.fromArray(S, values, off + i)
                    : FloatVector.fromArray(S, values, off + i, S.indexInRange(i, n));
            FloatVector z = x.mul(SQRT_HALF);
            // |z| < 1: Φ = 1/2 + z S(z²) / 2
            FloatVector t = z.mul(z);
            FloatVector s = t.fma(ERF6, ERF5);
            s = s.lanewise(FMA, t, ERF4);
            s = s.lanewise(FMA, t, ERF3);
            s = s.lanewise(FMA, t, ERF2);
            s = s.lanewise(FMA, t, ERF1);
            s = s.lanewise(FMA, t, ERF0);
            FloatVector small = z.mul(s).fma(0.5f, 0.5f);
            // |z| >= 1: erfc(c) = e^(-c²) P(c) / Q(c), c = |x| / √2 clamped to the fitted range.
            // The exponent c² = x² / 2 is taken from x, as hi + lo with lo the rounding error of
            // x², not from the rounded c: at c = 7 the rounding of c alone would cost 6e-6 relative.
            FloatVector xc = x.abs().max(SPLIT_X).min(CLAMP_X);
            FloatVector c = xc.mul(SQRT_HALF);
            FloatVector squareHi = xc.mul(xc);
            FloatVector squareLo = xc.fma(xc, squareHi.neg());
            // e^(-squareHi / 2) as in expSum; the argument is already within [-111, -1].
            FloatVector a = squareHi.mul(-0.5f);
            FloatVector k = a.fma(LOG2_E, ROUND_MAGIC).sub(ROUND_MAGIC);
            FloatVector r = k.lanewise(FMA, -LN2_HI, a);
            r = k.lanewise(FMA, -LN2_LO, r);
            FloatVector p = r.fma(1f / 5040, 1f / 720);
            p = p.lanewise(FMA, r, 1f / 120);
            p = p.lanewise(FMA, r, 1f / 24);
            p = p.lanewise(FMA, r, 1f / 6);
            p = p.lanewise(FMA, r, 0.5f);
            p = p.lanewise(FMA, r, 1f);
            p = p.lanewise(FMA, r, 1f);
            IntVector exponent = (IntVector) k.convert(VectorOperators.F2I, 0);
            IntVector half = exponent.lanewise(VectorOperators.ASHR, 1);
            FloatVector e = p.mul(half.add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats())
                    .mul(exponent.sub(half).add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats());
            e = squareLo.mul(-0.5f).fma(e, e); // e^(-lo/2) = 1 - lo/2 to 1e-11
            FloatVector numerator = c.fma(P3, P2);
            numerator = numerator.lanewise(FMA, c, P1);
            numerator = numerator.lanewise(FMA, c, P0);
            FloatVector denominator = c.fma(Q4, Q3);
            denominator = denominator.lanewise(FMA, c, Q2);
            denominator = denominator.lanewise(FMA, c, Q1);
            denominator = denominator.lanewise(FMA, c, Q0);
            FloatVector halfErfc = e.mul(0.5f).mul(numerator.div(denominator));
            FloatVector large = halfErfc.neg().add(1f).blend(halfErfc, x.lt(0f));
            FloatVector phi = large.blend(small, x.abs().lt(SPLIT_X));
            FloatVector y = x.mul(phi);
            if (whole) {
                y.intoArray(values, off + i);
            } else {
                y.intoArray(values, off + i, S.indexInRange(i, n)); // the tail only: AVX2 has no mask registers
            }
        }
    }

    /**
     * {@code gelu_new}: {@code x/2 (1 + tanh(u)) = x / (1 + e^(-2u))} with
     * {@code u = √(2/π) (x + 0.044715 x³)}; e^(-2u) overflowing to infinity gives -0, the limit.
     */
    private static void geluTanh(float[] values, int off, int n) {
        for (int i = 0; i < n; i += L) {
            boolean whole = i + L <= n;
            FloatVector x = whole ? FloatVector.fromArray(S, values, off + i)
                    : FloatVector.fromArray(S, values, off + i, S.indexInRange(i, n));
            FloatVector u = x.mul(x).fma(GELU_TANH_CUBIC, 1f).mul(x).mul(SQRT_2_OVER_PI);
            // e^(-2u) as in expSum.
            FloatVector clamped = u.mul(-2f).max(EXP_MIN).min(EXP_MAX);
            FloatVector k = clamped.fma(LOG2_E, ROUND_MAGIC).sub(ROUND_MAGIC);
            FloatVector r = k.lanewise(FMA, -LN2_HI, clamped);
            r = k.lanewise(FMA, -LN2_LO, r);
            FloatVector p = r.fma(1f / 5040, 1f / 720);
            p = p.lanewise(FMA, r, 1f / 120);
            p = p.lanewise(FMA, r, 1f / 24);
            p = p.lanewise(FMA, r, 1f / 6);
            p = p.lanewise(FMA, r, 0.5f);
            p = p.lanewise(FMA, r, 1f);
            p = p.lanewise(FMA, r, 1f);
            IntVector exponent = (IntVector) k.convert(VectorOperators.F2I, 0);
            IntVector half = exponent.lanewise(VectorOperators.ASHR, 1);
            FloatVector e = p.mul(half.add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats())
                    .mul(exponent.sub(half).add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats());
            FloatVector y = x.div(e.add(1f));
            if (whole) {
                y.intoArray(values, off + i);
            } else {
                y.intoArray(values, off + i, S.indexInRange(i, n));
            }
        }
    }

    private static void relu(float[] values, int off, int n) {
        int i = 0;
        for (; i + L <= n; i += L) {
            FloatVector.fromArray(S, values, off + i).max(0f).intoArray(values, off + i);
        }
        if (i < n) {
            VectorMask<Float> m = S.indexInRange(i, n);
            FloatVector.fromArray(S, values, off + i, m).max(0f).intoArray(values, off + i, m);
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
