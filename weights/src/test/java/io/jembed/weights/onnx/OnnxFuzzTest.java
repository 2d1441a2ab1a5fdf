package io.jembed.weights.onnx;

import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/** Corrupted ONNX bytes must import or fail with {@link OnnxFormatException}; never another exception. */
class OnnxFuzzTest {

    private static final long SEED = 0x0_77A_F022L;
    private static final int MUTATIONS = 5_000;

    @Test
    void mutationsImportOrFailWithFormatExceptionOnly() throws Exception {
        byte[] valid = OnnxImporterTest.tinyBertBytes(true);
        OnnxImporter.read(valid, "fuzz.onnx").inferConfig();
        Random random = new Random(SEED);
        int accepted = 0;
        int rejected = 0;
        for (int i = 0; i < MUTATIONS; i++) {
            byte[] bytes = valid.clone();
            int kind = random.nextInt(3);
            switch (kind) {
                case 0 -> {
                    int flips = 1 + random.nextInt(3);
                    for (int f = 0; f < flips; f++) {
                        bytes[random.nextInt(bytes.length)] ^= (byte) (1 << random.nextInt(8));
                    }
                }
                case 1 -> bytes = Arrays.copyOf(bytes, random.nextInt(bytes.length));
                default -> bytes[random.nextInt(bytes.length)] = (byte) random.nextInt(256);
            }
            try {
                OnnxImport result = OnnxImporter.read(bytes, "fuzz.onnx");
                try {
                    result.inferConfig();
                } catch (OnnxFormatException e) {
                    assertTrue(e.getMessage().endsWith(" in fuzz.onnx"), e.getMessage());
                }
                accepted++;
            } catch (OnnxFormatException e) {
                assertTrue(e.getMessage().endsWith(" in fuzz.onnx"), e.getMessage());
                rejected++;
            } catch (Throwable t) {
                fail("mutation " + i + " (kind " + kind + ", seed " + SEED + ") threw " + t, t);
            }
        }
        assertEquals(MUTATIONS, accepted + rejected);
        assertTrue(accepted > 100, "accepted " + accepted);
        assertTrue(rejected > 1_000, "rejected " + rejected);
    }
}
