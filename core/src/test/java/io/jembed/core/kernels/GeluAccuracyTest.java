package io.jembed.core.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

import io.jembed.core.kernels.Kernels.Activation;

/**
 * Exact GELU, {@code x Φ(x)}, against a double-precision reference for erf/erfc accurate to
 * about 1e-15 relative, on every 1/1024 of [-10, 10] (and the rest of the float line by sampling).
 */
class GeluAccuracyTest {

    /**
     * Allowed error relative to max(1, |x|): 2 float ulp of 1 (2.4e-7). GELU's output is a
     * product rounded to float, so half an ulp of |gelu(x)| <= |x| is unavoidable; the vector
     * path rounds through about ten float operations (measured worst case 1.4e-7), the scalar
     * path evaluates in double and rounds once (5.9e-8).
     */
    static final double TOLERANCE = 0x1p-22;

    /**
     * Where {@code gelu(x)} is far below 1 in magnitude (x < -1), its relative error: the erfc
     * branch keeps the negative tail accurate relative to its size, unlike {@code 1 + erf}.
     * 16 u (8 ulp) covers the float evaluation of exp, the rational function and the product;
     * the measured worst, 13.6 u, is just above x = -√2, where the erf branch's
     * {@code 1/2 + erf/2} still cancels by a factor of 6. Results below the smallest normal float
     * (x < -13) are left to the absolute bound.
     */
    static final double TAIL_RELATIVE_TOLERANCE = 16 * 0x1p-24;

    /** erf(z) for z >= 0, by the all-positive series or the continued fraction of erfc. */
    static double erfReference(double z) {
        return z < 3 ? erfSeries(z) : 1 - erfcContinuedFraction(z);
    }

    /** erfc(z) for z >= 0. */
    static double erfcReference(double z) {
        return z < 3 ? 1 - erfSeries(z) : erfcContinuedFraction(z);
    }

    /**
     * erf(z) = 2/√π e^(-z²) Σ 2^n z^(2n+1) / (1·3·…·(2n+1)) (Abramowitz and Stegun 7.1.6):
     * every term is positive, so nothing cancels and the sum is good to a few ulp.
     */
    private static double erfSeries(double z) {
        double term = z;
        double sum = z;
        for (int n = 1; n < 500 && term > 1e-18 * sum; n++) {
            term *= 2 * z * z / (2 * n + 1);
            sum += term;
        }
        return 2 / Math.sqrt(Math.PI) * Math.exp(-z * z) * sum;
    }

    /**
     * erfc(z) = e^(-z²)/√π · 1/(z + (1/2)/(z + 1/(z + (3/2)/(z + …)))) (A&S 7.1.14), evaluated
     * by Lentz's method; for z >= 3 it converges to double precision in a few dozen terms.
     */
    private static double erfcContinuedFraction(double z) {
        double tiny = 1e-300;
        double f = z;
        double c = z;
        double d = 0;
        for (int n = 1; n < 1000; n++) {
            double a = n / 2.0;
            d = z + a * d;
            d = d == 0 ? tiny : d;
            c = z + a / c;
            c = c == 0 ? tiny : c;
            d = 1 / d;
            double delta = c * d;
            f *= delta;
            if (Math.abs(delta - 1) < 1e-17) {
                break;
            }
        }
        return Math.exp(-z * z) / Math.sqrt(Math.PI) / f;
    }

    static double geluReference(double x) {
        double z = x / Math.sqrt(2);
        double phi = z < 0 ? 0.5 * erfcReference(-z) : 1 - 0.5 * erfcReference(z);
        return x * phi;
    }

    @Test
    void referenceMatchesKnownValues() {
        // Values from mpmath at 30 digits.
        assertEquals(0.52049987781304653768, erfReference(0.5), 1e-15);
        assertEquals(0.84270079294971486934, erfReference(1), 1e-15);
        assertEquals(0.99532226501895273416, erfReference(2), 1e-15);
        assertEquals(2.2090496998585441373e-5, erfcReference(3), 2.2090496998585441373e-5 * 1e-14);
        assertEquals(1.5374597944280348502e-12, erfcReference(5), 1.5374597944280348502e-12 * 1e-14);
        assertEquals(4.1838256077794143986e-23, erfcReference(7), 4.1838256077794143986e-23 * 1e-14);
    }

    @Test
    void scalarGeluIsAccurate() {
        float[] grid = grid();
        for (float x : grid) {
            check("scalar", x, ScalarKernels.gelu(x));
        }
    }

    @Test
    void vectorGeluIsAccurate() {
        float[] grid = grid();
        float[] values = grid.clone();
        VectorKernels.INSTANCE.activate(Activation.GELU, values, 0, values.length);
        for (int i = 0; i < grid.length; i++) {
            check("vector", grid[i], values[i]);
        }
    }

    @Test
    void specialValues() {
        for (Kernels kernels : new Kernels[] {ScalarKernels.INSTANCE, VectorKernels.INSTANCE}) {
            float[] x = {0f, -0f, Float.POSITIVE_INFINITY, 1e30f, -1e30f, Float.NaN, Float.MIN_VALUE};
            kernels.activate(Activation.GELU, x, 0, x.length);
            String name = kernels.name();
            assertEquals(0f, x[0], name + " gelu(0)");
            assertEquals(0f, Math.abs(x[1]), name + " gelu(-0)");
            assertEquals(Float.POSITIVE_INFINITY, x[2], name + " gelu(inf)");
            assertEquals(1e30f, x[3], name + " gelu(1e30)");
            assertEquals(0f, Math.abs(x[4]), name + " gelu(-1e30)");
            assertTrue(Float.isNaN(x[5]), name + " gelu(NaN)");
            assertEquals(0f, Math.abs(x[6] - Float.MIN_VALUE / 2), Float.MIN_VALUE, name + " gelu(MIN_VALUE)");
        }
    }

    private static void check(String path, float x, float actual) {
        double expected = geluReference(x);
        double error = Math.abs(actual - expected);
        assertTrue(error <= TOLERANCE * Math.max(1, Math.abs(x)),
                path + " gelu(" + x + "): expected " + expected + ", found " + actual + ", error " + error);
        if (x < -1 && x > -13) {
            assertTrue(error <= TAIL_RELATIVE_TOLERANCE * Math.abs(expected),
                    path + " gelu(" + x + "): expected " + expected + ", found " + actual
                            + ", relative error " + error / Math.abs(expected));
        }
    }

    /** Every 1/1024 of [-10, 10], then powers of two up to 2^20 and down to 2^-20 on both sides. */
    private static float[] grid() {
        int dense = 20 * 1024 + 1;
        float[] grid = new float[dense + 4 * 41];
        for (int i = 0; i < dense; i++) {
            grid[i] = -10f + i / 1024f;
        }
        int at = dense;
        for (int e = -20; e <= 20; e++) {
            float power = (float) Math.scalb(1.0, e);
            grid[at++] = power;
            grid[at++] = -power;
            grid[at++] = power * 1.37f;
            grid[at++] = -power * 1.37f;
        }
        return grid;
    }
}
