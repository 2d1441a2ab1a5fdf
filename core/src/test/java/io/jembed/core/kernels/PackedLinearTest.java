package io.jembed.core.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class PackedLinearTest {

    @Test
    void packedWeightsReadBackInTheHuggingFaceLayout() {
        int out = 37;
        int in = 5;
        float[] weight = new float[out * in];
        for (int i = 0; i < weight.length; i++) {
            weight[i] = i;
        }
        float[] bias = new float[out];
        for (int o = 0; o < out; o++) {
            bias[o] = -o;
        }
        for (int panelWidth : new int[] {1, 8, 16, 32}) {
            PackedLinear packed = PackedLinear.pack(weight, bias, out, in, panelWidth);
            assertEquals(out, packed.out());
            assertEquals(in, packed.in());
            assertEquals((out + panelWidth - 1) / panelWidth, packed.panels());
            for (int o = 0; o < out; o++) {
                for (int i = 0; i < in; i++) {
                    assertEquals(o * in + i, packed.weight(o, i), "weight[" + o + "][" + i + "] at width " + panelWidth);
                }
                assertEquals(-o, packed.bias[o]);
            }
            // Padding past out is zero, so a full-width panel adds nothing there.
            for (int c = out; c < packed.bias.length; c++) {
                assertEquals(0f, packed.bias[c]);
                for (int i = 0; i < in; i++) {
                    assertEquals(0f, packed.weights[((c / panelWidth) * in + i) * panelWidth + c % panelWidth]);
                }
            }
        }
    }

    @Test
    void packRejectsWrongWeightLength() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> PackedLinear.pack(new float[12], null, 4, 4, 32));
        assertEquals("pack linear: expected weight of 16 floats [4, 4], found 12 floats", e.getMessage());
    }

    @Test
    void packRejectsWrongBiasLength() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> PackedLinear.pack(new float[16], new float[3], 4, 4, 32));
        assertEquals("pack linear: expected bias of 4 floats [4], found 3 floats", e.getMessage());
    }
}
