package io.jembed.core.pooling;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import java.util.Random;

import org.junit.jupiter.api.Test;

class PoolingTest {

    /** Three tokens of H = 2, preceded by one unrelated row (rowOffset 1). */
    static final float[] HIDDEN = {
            99f, 99f,
            1f, -4f,
            3f, -2f,
            8f, -6f,
    };

    static float[] pool(PoolingMode mode) {
        float[] out = {7f, 7f, 7f, 7f};
        Pooling.pool(mode, HIDDEN, 1, 3, 2, out, 1);
        assertEquals(7f, out[0], "wrote before the output");
        assertEquals(7f, out[3], "wrote past the output");
        return new float[] {out[1], out[2]};
    }

    @Test
    void meanDividesTheSumByTheTokenCount() {
        assertArrayEquals(new float[] {4f, -4f}, pool(PoolingMode.MEAN));
    }

    @Test
    void clsAndLastTokenTakeTheFirstAndLastRows() {
        assertArrayEquals(new float[] {1f, -4f}, pool(PoolingMode.CLS));
        assertArrayEquals(new float[] {8f, -6f}, pool(PoolingMode.LAST_TOKEN));
    }

    @Test
    void maxTakesTheLargestValueEvenWhenAllAreNegative() {
        assertArrayEquals(new float[] {8f, -2f}, pool(PoolingMode.MAX));
    }

    @Test
    void meanSqrtLenDividesBySqrtOfTheCount() {
        float root3 = (float) Math.sqrt(3f);
        assertArrayEquals(new float[] {12f / root3, -12f / root3}, pool(PoolingMode.MEAN_SQRT_LEN));
    }

    @Test
    void weightedMeanWeighsTokenTByTPlusOne() {
        // (1*1 + 3*2 + 8*3) / 6 and (-4*1 - 2*2 - 6*3) / 6
        assertArrayEquals(new float[] {31f / 6f, -26f / 6f}, pool(PoolingMode.WEIGHTED_MEAN));
    }

    @Test
    void severalModesConcatenateInSentenceTransformersOrderThenNormalise() {
        PoolingConfig config = new PoolingConfig(List.of(PoolingMode.MEAN, PoolingMode.CLS), true, true, 0);
        assertEquals(List.of(PoolingMode.CLS, PoolingMode.MEAN), config.modes());
        assertEquals("cls+mean", config.describe());
        float[] out = Pooling.pool(config, HIDDEN, 1, 3, 2);
        // cls (1, -4) then mean (4, -4): norm sqrt(1 + 16 + 16 + 16) = 7
        assertArrayEquals(new float[] {1f / 7f, -4f / 7f, 4f / 7f, -4f / 7f}, out, 1e-7f);
    }

    @Test
    void normalizeScalesToUnitLengthAndKeepsZero() {
        float[] x = {9f, 3f, 4f, 9f};
        Pooling.normalize(x, 1, 2);
        assertArrayEquals(new float[] {9f, 0.6f, 0.8f, 9f}, x);
        float[] zero = {0f, 0f, 0f};
        Pooling.normalize(zero, 0, 3);
        assertArrayEquals(new float[] {0f, 0f, 0f}, zero);
    }

    @Test
    void maskedBatchEqualsUnpaddedSequencesBitForBit() {
        Random random = new Random(7);
        int B = 4;
        int T = 9;
        int H = 5;
        int[] lengths = {9, 1, 4, 7};
        float[] hidden = new float[B * T * H];
        for (int i = 0; i < hidden.length; i++) {
            hidden[i] = (float) random.nextGaussian();
        }
        int[] mask = new int[B * T];
        for (int b = 0; b < B; b++) {
            for (int t = 0; t < lengths[b]; t++) {
                mask[b * T + t] = 1;
            }
        }
        for (PoolingMode mode : PoolingMode.values()) {
            PoolingConfig config = PoolingConfig.of(mode, true);
            float[] batch = new float[B * H];
            Pooling.poolMasked(config, hidden, mask, B, T, H, batch);
            for (int b = 0; b < B; b++) {
                float[] single = Pooling.pool(config, hidden, b * T, lengths[b], H);
                for (int j = 0; j < H; j++) {
                    assertEquals(Float.floatToIntBits(single[j]), Float.floatToIntBits(batch[b * H + j]),
                            mode + " sequence " + b + " feature " + j + ": unpadded " + single[j] + ", masked "
                                    + batch[b * H + j]);
                }
            }
        }
    }

    @Test
    void aSequenceWithNoTokenUnderTheMaskPoolsLikeSentenceTransformers() {
        float[] hidden = {2f, -3f, 5f, 6f};
        int[] mask = {0, 0};
        float[] out = new float[2];
        Pooling.poolMasked(PoolingConfig.of(PoolingMode.MEAN, false), hidden, mask, 1, 2, 2, out);
        assertArrayEquals(new float[] {0f, 0f}, out);
        Pooling.poolMasked(PoolingConfig.of(PoolingMode.MAX, false), hidden, mask, 1, 2, 2, out);
        assertArrayEquals(new float[] {-1e9f, -1e9f}, out);
        Pooling.poolMasked(PoolingConfig.of(PoolingMode.CLS, false), hidden, mask, 1, 2, 2, out);
        assertArrayEquals(new float[] {2f, -3f}, out);
        Pooling.poolMasked(PoolingConfig.of(PoolingMode.LAST_TOKEN, false), hidden, mask, 1, 2, 2, out);
        assertArrayEquals(new float[] {2f, -3f}, out);
    }

    @Test
    void badShapesAreCallerMistakes() {
        IllegalArgumentException empty = assertThrows(IllegalArgumentException.class,
                () -> Pooling.pool(PoolingMode.MEAN, HIDDEN, 0, 0, 2, new float[2], 0));
        assertEquals("pooling: expected T >= 1, H >= 1, rowOffset >= 0, found T=0, H=2, rowOffset=0",
                empty.getMessage());
        IllegalArgumentException shortHidden = assertThrows(IllegalArgumentException.class,
                () -> Pooling.pool(PoolingMode.MEAN, HIDDEN, 2, 3, 2, new float[2], 0));
        assertEquals("hidden rows [2, 5) of width 2: expected at least 10 values, found 8", shortHidden.getMessage());
        IllegalArgumentException shortOut = assertThrows(IllegalArgumentException.class,
                () -> Pooling.pool(PoolingMode.MEAN, HIDDEN, 0, 3, 2, new float[2], 1));
        assertEquals("pooling output: expected 2 floats from index 1, found an array of 2", shortOut.getMessage());
        IllegalArgumentException badMask = assertThrows(IllegalArgumentException.class,
                () -> Pooling.poolMasked(PoolingConfig.MEAN_NORMALIZED, new float[4], new int[] {1, 2}, 1, 2, 2,
                        new float[2]));
        assertEquals("attention mask [0, 1]: expected 0 or 1, found 2", badMask.getMessage());
    }
}
