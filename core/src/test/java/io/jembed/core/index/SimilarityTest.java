package io.jembed.core.index;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;

import org.junit.jupiter.api.Test;

class SimilarityTest {

    @Test
    void cosineOfKnownVectors() {
        assertEquals(Math.sqrt(0.5), Similarity.cosine(new float[] {2f, 0f}, new float[] {1f, 1f}), 1e-7);
        assertEquals(-1f, Similarity.cosine(new float[] {1f, 2f, 3f}, new float[] {-2f, -4f, -6f}), 1e-7);
        assertEquals(0f, Similarity.cosine(new float[] {0f, 0f}, new float[] {1f, 1f}), "zero vector, as cos_sim");
    }

    @Test
    void matrixHoldsEveryPairLikeCosSim() {
        float[][] m = Similarity.cosineMatrix(List.of(new float[] {1f, 0f}, new float[] {0f, 3f}, new float[] {1f, 1f}));
        float half = (float) Math.sqrt(0.5);
        float[][] expected = {{1f, 0f, half}, {0f, 1f, half}, {half, half, 1f}};
        for (int i = 0; i < 3; i++) {
            for (int j = 0; j < 3; j++) {
                assertEquals(expected[i][j], m[i][j], 1e-7, "[" + i + "][" + j + "]");
            }
        }
        float[][] rectangular = Similarity.cosineMatrix(new float[][] {{1f, 0f}}, new float[][] {{0f, 1f}, {-1f, 0f}});
        assertEquals(1, rectangular.length);
        assertEquals(0f, rectangular[0][0], 1e-7);
        assertEquals(-1f, rectangular[0][1], 1e-7);
    }

    @Test
    void mismatchedDimensionsAreRejected() {
        assertEquals("vector b: expected dimension 2, found 3", assertThrows(IllegalArgumentException.class,
                () -> Similarity.cosine(new float[2], new float[3])).getMessage());
        assertEquals("b[1]: expected dimension 2, found 1", assertThrows(IllegalArgumentException.class,
                () -> Similarity.cosineMatrix(List.of(new float[2]), List.of(new float[2], new float[1]))).getMessage());
    }
}
