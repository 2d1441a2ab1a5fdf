package io.jembed.weights.onnx;

import io.jembed.weights.BertConfig;
import io.jembed.weights.SafetensorsReader;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static io.jembed.weights.onnx.ProtoWriter.floatTensor;
import static io.jembed.weights.onnx.ProtoWriter.longTensor;
import static io.jembed.weights.onnx.ProtoWriter.node;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class OnnxImporterTest {

    /** 0, 1, 2, ... scaled, so each element identifies its position. */
    private static float[] ramp(int n, float start) {
        float[] values = new float[n];
        for (int i = 0; i < n; i++) {
            values[i] = start + i;
        }
        return values;
    }

    private static String[] names(String... names) {
        return names;
    }

    /**
     * Embedding lookup, then one Linear as torch exports it: MatMul(x, onnx::MatMul_7 [in=4, out=3])
     * and Add(dense.bias, product), plus the position_ids buffer.
     */
    private static List<ProtoWriter> linearNodes() {
        return new ArrayList<>(List.of(
                node("Gather", "/embeddings/word_embeddings/Gather", names("embeddings.word_embeddings.weight", "input_ids"),
                        names("/emb")),
                node("MatMul", "/dense/MatMul", names("/emb", "onnx::MatMul_7"), names("/mm")),
                node("Add", "/dense/Add", names("dense.bias", "/mm"), names("last_hidden_state"))));
    }

    private static List<ProtoWriter> linearInitializers() {
        return new ArrayList<>(List.of(
                longTensor("embeddings.position_ids", new long[] {1, 5}, 0, 1, 2, 3, 4),
                floatTensor("embeddings.word_embeddings.weight", new long[] {5, 4}, ramp(20, 0)),
                floatTensor("dense.bias", new long[] {3}, 0.1f, 0.2f, 0.3f),
                floatTensor("onnx::MatMul_7", new long[] {4, 3}, ramp(12, 100))));
    }

    private static OnnxImport importGraph(List<ProtoWriter> nodes, List<ProtoWriter> initializers) throws Exception {
        byte[] model = ProtoWriter.model(nodes.toArray(ProtoWriter[]::new), initializers.toArray(ProtoWriter[]::new));
        return OnnxImporter.read(model, "tiny.onnx");
    }

    @Test
    void mapsGeneratedMatMulWeightToBiasModuleAndTransposesIt() throws Exception {
        OnnxImport result = importGraph(linearNodes(), linearInitializers());

        assertEquals(List.of("embeddings.word_embeddings.weight", "dense.bias", "dense.weight"),
                List.copyOf(result.tensors().keySet()));
        assertEquals(List.of("embeddings.position_ids"), result.droppedInitializers());
        assertEquals(20 + 3 + 12, result.totalParameters());

        ImportedTensor weight = result.tensor("dense.weight");
        assertEquals("onnx::MatMul_7", weight.onnxName());
        assertTrue(weight.transposed());
        assertArrayEquals(new long[] {3, 4}, weight.shape());
        // ONNX W[in][out] = 100 + 3*in + out; HF W'[out][in] = W[in][out].
        assertArrayEquals(new float[] {
                100, 103, 106, 109,
                101, 104, 107, 110,
                102, 105, 108, 111}, weight.data());

        ImportedTensor embeddings = result.tensor("embeddings.word_embeddings.weight");
        assertFalse(embeddings.transposed());
        assertEquals("embeddings.word_embeddings.weight", embeddings.onnxName());
        assertArrayEquals(new long[] {5, 4}, embeddings.shape());
        assertArrayEquals(ramp(20, 0), embeddings.data());
    }

    @Test
    void biasMayBeEitherAddOperand() throws Exception {
        List<ProtoWriter> nodes = linearNodes();
        nodes.set(2, node("Add", "/dense/Add", names("/mm", "dense.bias"), names("last_hidden_state")));
        OnnxImport result = importGraph(nodes, linearInitializers());
        assertEquals("onnx::MatMul_7", result.tensor("dense.weight").onnxName());
    }

    @Test
    void gemmWithTransBKeepsTheOutInLayout() throws Exception {
        List<ProtoWriter> nodes = linearNodes();
        nodes.add(node("Gemm", "/proj/Gemm", names("/emb2d", "onnx::Gemm_5", "proj.bias"), names("/proj"),
                ProtoWriter.intAttribute("transB", 1)));
        List<ProtoWriter> inits = linearInitializers();
        inits.add(floatTensor("proj.bias", new long[] {2}, 1, 2));
        inits.add(floatTensor("onnx::Gemm_5", new long[] {2, 4}, ramp(8, 50)));

        ImportedTensor proj = importGraph(nodes, inits).tensor("proj.weight");
        assertFalse(proj.transposed());
        assertArrayEquals(new long[] {2, 4}, proj.shape());
        assertArrayEquals(ramp(8, 50), proj.data());
    }

    @Test
    void unmappableInitializerFailsNamingIt() {
        List<ProtoWriter> nodes = linearNodes();
        nodes.add(node("Mul", "/scale/Mul", names("/emb", "onnx::Mul_9"), names("/scaled")));
        List<ProtoWriter> inits = linearInitializers();
        inits.add(floatTensor("onnx::Mul_9", new long[] {4, 3}, ramp(12, 0)));

        OnnxFormatException e = assertThrows(OnnxFormatException.class, () -> importGraph(nodes, inits));
        assertEquals(OnnxFormatException.Reason.UNMAPPABLE_INITIALIZER, e.reason());
        assertEquals("onnx::Mul_9", e.tensorName());
        assertEquals("tensor 'onnx::Mul_9': cannot recover a Hugging Face name for FLOAT [4, 3]: expected the B operand "
                + "of a MatMul or Gemm whose output is added to a named bias, found Mul '/scale/Mul' input 1 in tiny.onnx",
                e.getMessage());
    }

    @Test
    void matMulWithoutNamedBiasFailsNamingTheInitializer() {
        List<ProtoWriter> nodes = linearNodes();
        nodes.add(node("MatMul", "/head/MatMul", names("/emb", "onnx::MatMul_8"), names("/logits")));
        List<ProtoWriter> inits = linearInitializers();
        inits.add(floatTensor("onnx::MatMul_8", new long[] {4, 2}, ramp(8, 0)));

        OnnxFormatException e = assertThrows(OnnxFormatException.class, () -> importGraph(nodes, inits));
        assertEquals(OnnxFormatException.Reason.UNMAPPABLE_INITIALIZER, e.reason());
        assertEquals("onnx::MatMul_8", e.tensorName());
        assertTrue(e.getMessage().contains("MatMul '/head/MatMul' output to be added to a bias named '<module>.bias', "
                + "found no named bias"), e.getMessage());
    }

    @Test
    void dynamicallyQuantisedGraphIsRefusedAsSuch() {
        // onnxruntime's quantize_dynamic (the "-q" exports): activations quantised at run time, MatMulInteger
        // on uint8 weights with zero-point tensors, which the dtype check alone would report confusingly.
        List<ProtoWriter> nodes = linearNodes();
        nodes.add(node("DynamicQuantizeLinear", "/dense/DQ", names("/emb"), names("/q", "/scale", "/zero_point")));
        nodes.add(node("MatMulInteger", "/dense/MatMulInteger", names("/q", "onnx::MatMul_7_quantized", "/zero_point",
                "onnx::MatMul_7_zero_point"), names("/mmi")));
        List<ProtoWriter> inits = linearInitializers();
        inits.add(ProtoWriter.tensor("onnx::MatMul_7_quantized", OnnxDataType.UINT8, new long[] {4, 3}, new byte[12]));
        inits.add(ProtoWriter.tensor("onnx::MatMul_7_zero_point", OnnxDataType.UINT8, new long[] {}, new byte[1]));

        OnnxFormatException e = assertThrows(OnnxFormatException.class, () -> importGraph(nodes, inits));
        assertEquals(OnnxFormatException.Reason.UNSUPPORTED_DTYPE, e.reason());
        assertTrue(e.getMessage().contains("int8 dynamically-quantised graph (DynamicQuantizeLinear/MatMulInteger); "
                + "use the fp32 export"), e.getMessage());
        assertTrue(!e.getMessage().contains("zero_point"), e.getMessage());
    }

    @Test
    void int8WeightsFailNamingTheDtype() {
        List<ProtoWriter> inits = linearInitializers();
        inits.add(ProtoWriter.tensor("onnx::MatMul_7_quantized", OnnxDataType.INT8, new long[] {4, 3}, new byte[12]));

        OnnxFormatException e = assertThrows(OnnxFormatException.class, () -> importGraph(linearNodes(), inits));
        assertEquals(OnnxFormatException.Reason.UNSUPPORTED_DTYPE, e.reason());
        assertEquals("onnx::MatMul_7_quantized", e.tensorName());
        assertTrue(e.getMessage().contains("expected FLOAT weights, found INT8 (dequantising int8 models is not supported"),
                e.getMessage());
    }

    @Test
    void rawDataOfWrongLengthFails() {
        List<ProtoWriter> inits = linearInitializers();
        inits.set(2, ProtoWriter.tensor("dense.bias", OnnxDataType.FLOAT, new long[] {3}, new byte[8]));

        OnnxFormatException e = assertThrows(OnnxFormatException.class, () -> importGraph(linearNodes(), inits));
        assertEquals(OnnxFormatException.Reason.INVALID_TENSOR, e.reason());
        assertEquals("tensor 'dense.bias': expected 12 bytes of raw_data for FLOAT [3], found 8 in tiny.onnx", e.getMessage());
    }

    @Test
    void modelWithoutGraphFails() {
        byte[] noGraph = new ProtoWriter().varint(1, 8).string(2, "pytorch").toByteArray();
        OnnxFormatException e = assertThrows(OnnxFormatException.class, () -> OnnxImporter.read(noGraph, "empty.onnx"));
        assertEquals(OnnxFormatException.Reason.MISSING_GRAPH, e.reason());
        assertTrue(e.getMessage().endsWith("in empty.onnx"), e.getMessage());
    }

    @Test
    void parsesModelHeaderGraphInputsAndConstants() throws Exception {
        byte[] bytes = ProtoWriter.model(linearNodes().toArray(ProtoWriter[]::new),
                linearInitializers().toArray(ProtoWriter[]::new));
        OnnxModel model = OnnxModel.parse(bytes, "tiny.onnx");
        assertEquals(8, model.irVersion());
        assertEquals("pytorch", model.producerName());
        assertEquals("2.0.1", model.producerVersion());
        assertEquals(Map.of("", 14L), model.opsetImports());
        OnnxGraph graph = model.graph();
        assertEquals("test_graph", graph.name());
        assertEquals(List.of("input_ids"), graph.inputs());
        assertEquals(List.of("last_hidden_state"), graph.outputs());
        assertEquals(3, graph.nodes().size());
        assertEquals("/dense/MatMul", graph.producerOf("/mm").orElseThrow().name());
        assertEquals("/dense/Add", graph.consumersOf("/mm").getFirst().name());
        assertArrayEquals(new long[] {0, 1, 2, 3, 4}, graph.constant("embeddings.position_ids").orElseThrow().toLongs());
    }

    @Test
    void writesSafetensorsThatReadBack(@TempDir Path dir) throws Exception {
        OnnxImport result = importGraph(linearNodes(), linearInitializers());
        Path file = dir.resolve("model.safetensors");
        result.writeSafetensors(file);
        try (SafetensorsReader reader = SafetensorsReader.open(file)) {
            assertEquals(Map.of("format", "pt"), reader.metadata());
            assertEquals(3, reader.size());
            assertEquals(35, reader.totalParameters());
            assertArrayEquals(result.tensor("dense.weight").data(), reader.floats("dense.weight", 3, 4));
            assertArrayEquals(new float[] {0.1f, 0.2f, 0.3f}, reader.floats("dense.bias", 3));
        }
    }

    // ---------------------------------------------------------------- config inference

    /**
     * A one-layer BERT skeleton as torch exports it, H=6 with 3 heads of size 2, I=8: embeddings
     * and a decomposed LayerNorm (eps 1e-12), the query projection reshaped to [B, T, 3, 2] via
     * Concat(Unsqueeze, Unsqueeze, Constant 3, Constant 2), and the intermediate dense with erf GELU.
     */
    private static OnnxImport tinyBert(boolean withHeadReshape) throws Exception {
        return OnnxImporter.read(tinyBertBytes(withHeadReshape), "tiny.onnx");
    }

    static byte[] tinyBertBytes(boolean withHeadReshape) {
        List<ProtoWriter> inits = List.of(
                floatTensor("embeddings.word_embeddings.weight", new long[] {5, 6}, ramp(30, 0)),
                floatTensor("embeddings.position_embeddings.weight", new long[] {7, 6}, ramp(42, 0)),
                floatTensor("embeddings.token_type_embeddings.weight", new long[] {2, 6}, ramp(12, 0)),
                floatTensor("embeddings.LayerNorm.weight", new long[] {6}, ramp(6, 1)),
                floatTensor("encoder.layer.0.attention.self.query.bias", new long[] {6}, ramp(6, 0)),
                floatTensor("onnx::MatMul_1", new long[] {6, 6}, ramp(36, 0)),
                floatTensor("encoder.layer.0.intermediate.dense.bias", new long[] {8}, ramp(8, 0)),
                floatTensor("onnx::MatMul_2", new long[] {6, 8}, ramp(48, 0)));
        List<ProtoWriter> nodes = new ArrayList<>(List.of(
                node("Gather", "/emb/Gather", names("embeddings.word_embeddings.weight", "input_ids"), names("/w")),
                node("ReduceMean", "/ln/ReduceMean", names("/w"), names("/mean")),
                node("Sub", "/ln/Sub", names("/w", "/mean"), names("/centered")),
                node("Constant", "/ln/Constant", names(), names("/two"),
                        ProtoWriter.tensorAttribute("value", floatTensor("", new long[0], 2f))),
                node("Pow", "/ln/Pow", names("/centered", "/two"), names("/sq")),
                node("ReduceMean", "/ln/ReduceMean_1", names("/sq"), names("/var")),
                node("Constant", "/ln/Constant_1", names(), names("/eps"),
                        ProtoWriter.tensorAttribute("value", floatTensor("", new long[0], 1e-12f))),
                node("Add", "/ln/Add", names("/var", "/eps"), names("/var_eps")),
                node("Sqrt", "/ln/Sqrt", names("/var_eps"), names("/std")),
                node("Div", "/ln/Div", names("/centered", "/std"), names("/normed")),
                node("Mul", "/ln/Mul", names("/normed", "embeddings.LayerNorm.weight"), names("/ln")),
                node("MatMul", "/query/MatMul", names("/ln", "onnx::MatMul_1"), names("/q")),
                node("Add", "/query/Add", names("encoder.layer.0.attention.self.query.bias", "/q"), names("/qa")),
                node("MatMul", "/intermediate/MatMul", names("/ln", "onnx::MatMul_2"), names("/i")),
                node("Add", "/intermediate/Add", names("encoder.layer.0.intermediate.dense.bias", "/i"), names("/ia")),
                node("Div", "/act/Div", names("/ia", "/sqrt2"), names("/x")),
                node("Erf", "/act/Erf", names("/x"), names("/erf")),
                node("Add", "/act/Add", names("/erf", "/one"), names("/erf1")),
                node("Mul", "/act/Mul", names("/ia", "/erf1"), names("/gelu2")),
                node("Mul", "/act/Mul_1", names("/gelu2", "/half"), names("last_hidden_state"))));
        if (withHeadReshape) {
            nodes.addAll(List.of(
                    node("Unsqueeze", "/self/Unsqueeze", names("/batch"), names("/u0")),
                    node("Unsqueeze", "/self/Unsqueeze_1", names("/seq"), names("/u1")),
                    node("Constant", "/self/Constant_2", names(), names("/heads"),
                            ProtoWriter.tensorAttribute("value", longTensor("", new long[] {1}, 3))),
                    node("Constant", "/self/Constant_3", names(), names("/head_size"),
                            ProtoWriter.tensorAttribute("value", longTensor("", new long[] {1}, 2))),
                    node("Concat", "/self/Concat", names("/u0", "/u1", "/heads", "/head_size"), names("/shape"),
                            ProtoWriter.intAttribute("axis", 0)),
                    node("Reshape", "/self/Reshape", names("/qa", "/shape"), names("/q4"))));
        }
        return ProtoWriter.model(nodes.toArray(ProtoWriter[]::new), inits.toArray(ProtoWriter[]::new));
    }

    @Test
    void infersBertConfigFromShapesAndGraphConstants() throws Exception {
        OnnxImport result = tinyBert(true);
        assertEquals(3, result.inferredNumAttentionHeads().orElseThrow());
        assertEquals("gelu", result.inferredHiddenAct().orElseThrow());
        assertEquals(1e-12, result.inferredLayerNormEps().orElseThrow());
        assertEquals(new BertConfig(5, 6, 1, 3, 8, "gelu", 7, 2, 1e-12), result.inferConfig());
        assertArrayEquals(new long[] {8, 6}, result.tensor("encoder.layer.0.intermediate.dense.weight").shape());
    }

    @Test
    void missingHeadReshapeLeavesHeadsUnknownAndConfigInferenceSaysWhy() throws Exception {
        OnnxImport result = tinyBert(false);
        assertTrue(result.inferredNumAttentionHeads().isEmpty());
        OnnxFormatException e = assertThrows(OnnxFormatException.class, result::inferConfig);
        assertEquals(OnnxFormatException.Reason.CANNOT_INFER_CONFIG, e.reason());
        assertNull(e.tensorName());
        assertTrue(e.getMessage().startsWith("onnx: config field \"num_attention_heads\": expected a Reshape"),
                e.getMessage());
    }

    @Test
    void explicitHeadCountFillsTheGapAndMustAgreeWithTheGraph() throws Exception {
        assertEquals(new BertConfig(5, 6, 1, 2, 8, "gelu", 7, 2, 1e-12), tinyBert(false).inferConfig(2));
        assertEquals(new BertConfig(5, 6, 1, 3, 8, "gelu", 7, 2, 1e-12), tinyBert(true).inferConfig(3));
        OnnxFormatException e = assertThrows(OnnxFormatException.class, () -> tinyBert(true).inferConfig(2));
        assertEquals("onnx: config field \"num_attention_heads\": expected 2 as given, found 3 in the attention Reshape "
                + "constants in tiny.onnx", e.getMessage());
    }

    @Test
    void writesCallerMetadata(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("model.safetensors");
        importGraph(linearNodes(), linearInitializers()).writeSafetensors(file, Map.of("format", "pt", "source", "tiny.onnx"));
        try (SafetensorsReader reader = SafetensorsReader.open(file)) {
            assertEquals(Map.of("format", "pt", "source", "tiny.onnx"), reader.metadata());
        }
    }

    @Test
    void configInferenceNamesAMissingEmbeddingTable() throws Exception {
        OnnxImport result = importGraph(
                List.of(node("MatMul", "/dense/MatMul", names("x", "onnx::MatMul_7"), names("/mm")),
                        node("Add", "/dense/Add", names("dense.bias", "/mm"), names("y"))),
                List.of(floatTensor("dense.bias", new long[] {3}, 0.1f, 0.2f, 0.3f),
                        floatTensor("onnx::MatMul_7", new long[] {4, 3}, ramp(12, 100))));
        OnnxFormatException e = assertThrows(OnnxFormatException.class, () -> result.inferConfig(2));
        assertEquals(OnnxFormatException.Reason.MISSING_TENSOR, e.reason());
        assertEquals("embeddings.word_embeddings.weight", e.tensorName());
    }

    @Test
    void parameterNamesAreRecognised() {
        assertTrue(OnnxImporter.isParameterName("encoder.layer.0.attention.self.query.bias"));
        assertTrue(OnnxImporter.isParameterName("embeddings.LayerNorm.weight"));
        assertFalse(OnnxImporter.isParameterName("onnx::MatMul_787"));
        assertFalse(OnnxImporter.isParameterName("/encoder/layer.0/Constant_output_0"));
        assertFalse(OnnxImporter.isParameterName("1234"));
        assertFalse(OnnxImporter.isParameterName(""));
    }

    @Test
    void transposeMovesEveryElement() {
        // [2, 3] -> [3, 2]
        assertArrayEquals(new float[] {1, 4, 2, 5, 3, 6}, OnnxImporter.transpose(new float[] {1, 2, 3, 4, 5, 6}, 2, 3));
    }
}
