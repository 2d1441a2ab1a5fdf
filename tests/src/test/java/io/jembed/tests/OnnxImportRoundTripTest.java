package io.jembed.tests;

import io.jembed.weights.BertConfig;
import io.jembed.weights.DType;
import io.jembed.weights.SafetensorsReader;
import io.jembed.weights.TensorInfo;
import io.jembed.weights.onnx.ImportedTensor;
import io.jembed.weights.onnx.OnnxImport;
import io.jembed.weights.onnx.OnnxImporter;
import io.jembed.weights.onnx.OnnxTensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.nio.IntBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Imports the real all-MiniLM-L6-v2 fp32 ONNX export from the langchain4j jar, writes it as
 * safetensors, reads it back, and checks every tensor against its ONNX initializer bit for bit.
 */
class OnnxImportRoundTripTest {

    private static final String ONNX_ENTRY = "all-minilm-l6-v2.onnx";
    private static final int TENSORS = 101;
    private static final long PARAMETERS = 22_565_376L;
    /** 6 layers x (query, key, value, attention output, intermediate, output) Linear weights. */
    private static final int TRANSPOSED_WEIGHTS = 6 * 6;

    private static byte[] readOnnx(Path jar) throws IOException {
        try (ZipFile zip = new ZipFile(jar.toFile())) {
            ZipEntry entry = zip.getEntry(ONNX_ENTRY);
            assertNotNull(entry, ONNX_ENTRY + " in " + jar);
            try (InputStream in = zip.getInputStream(entry)) {
                return in.readAllBytes();
            }
        }
    }

    @Test
    void importedSafetensorsEqualTheOnnxInitializersBitForBit(@TempDir Path dir) throws Exception {
        Path jar = Requirements.defaultModelArtifact();
        OnnxImport imported = OnnxImporter.read(readOnnx(jar), ONNX_ENTRY);
        assertEquals(List.of("embeddings.position_ids"), imported.droppedInitializers());
        assertEquals(new BertConfig(30522, 384, 6, 12, 1536, "gelu", 512, 2, 1e-12), imported.inferConfig());

        Path file = dir.resolve("model.safetensors");
        imported.writeSafetensors(file);
        Map<String, OnnxTensor> initializers = imported.model().graph().initializers();

        long start = System.nanoTime();
        try (SafetensorsReader reader = SafetensorsReader.open(file)) {
            long opened = System.nanoTime();
            assertEquals(TENSORS, reader.size());
            assertEquals(PARAMETERS, reader.totalParameters());
            assertEquals(Map.of("format", "pt"), reader.metadata());
            assertArrayEquals(new long[] {30522, 384}, reader.info("embeddings.word_embeddings.weight").shape());
            assertArrayEquals(new long[] {1536, 384}, reader.info("encoder.layer.0.intermediate.dense.weight").shape());
            assertArrayEquals(new long[] {384, 1536}, reader.info("encoder.layer.5.output.dense.weight").shape());

            int transposed = 0;
            for (String name : reader.names()) {
                ImportedTensor tensor = imported.tensor(name);
                OnnxTensor source = initializers.get(tensor.onnxName());
                assertNotNull(source, "initializer " + tensor.onnxName() + " of " + name);
                TensorInfo info = reader.info(name);
                assertEquals(DType.F32, info.dtype(), name);
                long[] dims = source.dims();
                if (tensor.transposed()) {
                    transposed++;
                    assertTrue(tensor.onnxName().startsWith("onnx::MatMul_"), tensor.onnxName());
                    assertArrayEquals(new long[] {dims[1], dims[0]}, info.shape(), name);
                } else {
                    assertEquals(name, tensor.onnxName());
                    assertArrayEquals(dims, info.shape(), name);
                }
                assertSameBits(name, tensor, source.rawData().asIntBuffer(), reader.floats(name, info.shape()), dims);
            }
            assertEquals(TRANSPOSED_WEIGHTS, transposed);
            long converted = System.nanoTime();
            System.out.printf("model.safetensors (%,d bytes): open + validate + map %.1f ms; %d tensors to float[] + "
                            + "bit comparison %.1f ms%n", Files.size(file), (opened - start) / 1e6, TENSORS,
                    (converted - opened) / 1e6);
        }
    }

    /** Safetensors value [o][i] must be ONNX raw [i][o] when transposed, else the same index. */
    private static void assertSameBits(String name, ImportedTensor tensor, IntBuffer onnxBits, float[] read, long[] dims) {
        assertEquals(onnxBits.remaining(), read.length, name);
        if (!tensor.transposed()) {
            for (int i = 0; i < read.length; i++) {
                if (Float.floatToRawIntBits(read[i]) != onnxBits.get(i)) {
                    fail(mismatch(name, "index " + i, onnxBits.get(i), read[i]));
                }
            }
            return;
        }
        int in = (int) dims[0];
        int out = (int) dims[1];
        for (int o = 0; o < out; o++) {
            for (int i = 0; i < in; i++) {
                int expected = onnxBits.get(i * out + o);
                float actual = read[o * in + i];
                if (Float.floatToRawIntBits(actual) != expected) {
                    fail(mismatch(name, "[" + o + ", " + i + "] (ONNX " + tensor.onnxName() + " [" + i + ", " + o + "])",
                            expected, actual));
                }
            }
        }
    }

    private static String mismatch(String name, String where, int expectedBits, float actual) {
        return "tensor '" + name + "' at " + where + ": expected bits 0x" + Integer.toHexString(expectedBits) + " ("
                + Float.intBitsToFloat(expectedBits) + "), found 0x" + Integer.toHexString(Float.floatToRawIntBits(actual))
                + " (" + actual + ") in model.safetensors";
    }
}
