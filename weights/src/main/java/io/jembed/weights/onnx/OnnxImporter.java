package io.jembed.weights.onnx;

import io.jembed.weights.onnx.OnnxFormatException.Reason;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.OptionalInt;
import java.util.SequencedMap;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Recovers Hugging Face named, HF-layout F32 weights from a PyTorch ONNX export of a BERT encoder.
 *
 * <p>The torch exporter keeps most parameter names ({@code embeddings.word_embeddings.weight},
 * {@code encoder.layer.0.output.LayerNorm.bias}) but stores every Linear weight transposed, as the
 * [in, out] right operand of a MatMul, under a generated name such as {@code onnx::MatMul_787}. The
 * graph still says which Linear it is: the MatMul's output is added to the module's named bias.
 * So a generated initializer consumed as MatMul's B, whose product is added to
 * {@code <module>.bias}, becomes {@code <module>.weight}, transposed back to HF's [out, in]. Gemm
 * (with its transB flag) is handled alike.
 *
 * <p>Initializers that kept their parameter name are copied as they are (the exporter renames
 * anything it transposes). Integer buffers ({@code embeddings.position_ids}) and generated scalar
 * constants are not weights and are dropped (listed in {@link OnnxImport#droppedInitializers()}).
 * Anything else that cannot be named fails with {@code UNMAPPABLE_INITIALIZER} naming the
 * initializer; int8 and other non-F32 weights fail with {@code UNSUPPORTED_DTYPE} (dequantising is
 * out of scope).
 */
public final class OnnxImporter {

    /** A parameter-style name: dotted identifiers. Generated names contain ':' or '/' or start with a digit. */
    private static final Pattern HF_NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*(\\.[A-Za-z0-9_]+)*");

    private OnnxImporter() {
    }

    /** Imports an .onnx file. */
    public static OnnxImport read(Path onnxFile) throws IOException {
        return fromModel(OnnxModel.read(onnxFile));
    }

    /** Imports a model read fully from {@code in} (for example a jar entry); {@code source} names it in messages. */
    public static OnnxImport read(InputStream in, String source) throws IOException {
        return read(in.readAllBytes(), source);
    }

    /** Imports a serialized ModelProto. */
    public static OnnxImport read(byte[] onnxBytes, String source) throws OnnxFormatException {
        return fromModel(OnnxModel.parse(onnxBytes, source));
    }

    /** Imports an already parsed model. */
    public static OnnxImport fromModel(OnnxModel model) throws OnnxFormatException {
        return new OnnxImporter.Run(model).run();
    }

    /** Operators of onnxruntime's int8 quantisation (the "-q" exports); their graphs hold no fp32 weights to import. */
    private static final java.util.Set<String> QUANTISED_OPS = java.util.Set.of("DynamicQuantizeLinear", "MatMulInteger",
            "QuantizeLinear", "DequantizeLinear", "QLinearMatMul", "ConvInteger", "QAttention", "DynamicQuantizeMatMul",
            "MatMulIntegerToFloat");

    /** Whether {@code name} looks like a PyTorch parameter name rather than an exporter-generated one. */
    static boolean isParameterName(String name) {
        return HF_NAME.matcher(name).matches();
    }

    /** How a weight is used as the B operand of a Linear-style node. */
    private record LinearUse(OnnxNode node, boolean needsTranspose, String biasName, String outputName) {
    }

    /** One import: the graph and what has been recovered so far. */
    private static final class Run {
        private final OnnxModel model;
        private final OnnxGraph graph;
        private final String source;
        private final SequencedMap<String, ImportedTensor> tensors = new LinkedHashMap<>();
        private final List<String> dropped = new ArrayList<>();
        /** HF weight name of each Linear -> tensor name of its output (after the bias Add). */
        private final Map<String, String> linearOutputs = new LinkedHashMap<>();

        Run(OnnxModel model) {
            this.model = model;
            this.graph = model.graph();
            this.source = model.source();
        }

        OnnxImport run() throws OnnxFormatException {
            if (graph.sparseInitializerCount() > 0) {
                throw new OnnxFormatException(Reason.UNSUPPORTED_DTYPE, null, source,
                        "expected dense initializers, found " + graph.sparseInitializerCount() + " sparse_initializer entries");
            }
            // Report quantisation up front: the scales around int8 weights would otherwise fail first, less clearly.
            java.util.Set<String> quantisedOps = new java.util.TreeSet<>();
            for (OnnxNode node : graph.nodes()) {
                if (QUANTISED_OPS.contains(node.opType())) {
                    quantisedOps.add(node.opType());
                }
            }
            if (!quantisedOps.isEmpty()) {
                throw new OnnxFormatException(Reason.UNSUPPORTED_DTYPE, null, source,
                        "expected an fp32 graph, found an int8 " + (quantisedOps.contains("DynamicQuantizeLinear")
                                ? "dynamically-quantised" : "quantised") + " graph (" + String.join("/", quantisedOps)
                                + "); use the fp32 export");
            }
            for (OnnxTensor init : graph.initializers().values()) {
                int type = init.dataType();
                if (type == OnnxDataType.INT8.code() || type == OnnxDataType.UINT8.code()) {
                    throw new OnnxFormatException(Reason.UNSUPPORTED_DTYPE, init.name(), source,
                            "expected FLOAT weights, found " + OnnxDataType.describe(type)
                                    + " (dequantising int8 models is not supported; use the fp32 export)");
                }
            }
            for (OnnxTensor init : graph.initializers().values()) {
                importInitializer(init);
            }
            return new OnnxImport(model, tensors, dropped, inferHeads(), inferActivation(), inferLayerNormEps());
        }

        private void importInitializer(OnnxTensor init) throws OnnxFormatException {
            String name = init.name();
            int type = init.dataType();
            if (type == OnnxDataType.INT64.code() || type == OnnxDataType.INT32.code() || type == OnnxDataType.BOOL.code()) {
                dropped.add(name);
                return;
            }
            if (type != OnnxDataType.FLOAT.code()) {
                throw new OnnxFormatException(Reason.UNSUPPORTED_DTYPE, name, source,
                        "expected FLOAT weights, found " + OnnxDataType.describe(type));
            }
            long[] dims = init.dims();
            Optional<LinearUse> linear = linearUse(init);
            String hfName;
            boolean transpose;
            if (isParameterName(name)) {
                // The exporter keeps a parameter's name only when it keeps its PyTorch layout; a
                // transposed copy is a new constant with a generated name.
                hfName = name;
                transpose = false;
            } else if (init.elementCount() <= 1) {
                // A folded scalar constant (e.g. 1/sqrt(d)), not a parameter.
                dropped.add(name);
                return;
            } else {
                LinearUse use = linear.orElseThrow(() -> unmappable(init, describeConsumers(name)));
                if (use.biasName == null || !use.biasName.endsWith(".bias")) {
                    throw unmappable(init, "expected the " + use.node.describe() + " output to be added to a bias named "
                            + "'<module>.bias', found " + (use.biasName == null ? "no named bias" : "'" + use.biasName + "'"));
                }
                hfName = use.biasName.substring(0, use.biasName.length() - "bias".length()) + "weight";
                transpose = use.needsTranspose;
            }
            if (linear.isPresent()) {
                linearOutputs.put(hfName, linear.get().outputName);
            }
            float[] data = init.toFloats();
            long[] shape = dims;
            if (transpose) {
                data = transpose(data, (int) dims[0], (int) dims[1]);
                shape = new long[] {dims[1], dims[0]};
            }
            ImportedTensor previous = tensors.putIfAbsent(hfName,
                    new ImportedTensor(hfName, data, shape, name, transpose));
            if (previous != null) {
                throw new OnnxFormatException(Reason.DUPLICATE_NAME, name, source, "expected a unique Hugging Face name, found '"
                        + hfName + "' already taken by initializer '" + previous.onnxName() + "'");
            }
        }

        /**
         * The initializer's use as the weight operand of MatMul or Gemm, if every use is one and all
         * agree on the bias; empty if it has another kind of consumer.
         */
        private Optional<LinearUse> linearUse(OnnxTensor init) throws OnnxFormatException {
            String name = init.name();
            List<OnnxNode> consumers = graph.consumersOf(name);
            long[] dims = init.dims();
            if (consumers.isEmpty() || dims.length != 2) {
                return Optional.empty();
            }
            LinearUse agreed = null;
            for (OnnxNode node : consumers) {
                boolean isWeightOperand = node.input(1).equals(name) && !node.input(0).equals(name);
                LinearUse use;
                if (node.opType().equals("MatMul") && isWeightOperand) {
                    use = matMulUse(node, dims[1]);
                } else if (node.opType().equals("Gemm") && isWeightOperand) {
                    boolean transB = node.attribute("transB").map(a -> a.i() != 0).orElse(false);
                    long out = transB ? dims[0] : dims[1];
                    String bias = namedBias(node.input(2), out);
                    use = new LinearUse(node, !transB, bias, node.output(0));
                } else {
                    return Optional.empty();
                }
                if (agreed != null && !Objects.equals(agreed.biasName, use.biasName)) {
                    throw unmappable(init, "expected all uses to share one bias, found '" + agreed.biasName + "' and '"
                            + use.biasName + "'");
                }
                agreed = use;
            }
            return Optional.ofNullable(agreed);
        }

        /** MatMul(x, W) followed by Add(MatMul, bias) or Add(bias, MatMul). */
        private LinearUse matMulUse(OnnxNode matMul, long out) throws OnnxFormatException {
            String product = matMul.output(0);
            for (OnnxNode add : graph.consumersOf(product)) {
                if (add.opType().equals("Add") && add.inputs().size() == 2) {
                    String other = add.input(0).equals(product) ? add.input(1) : add.input(0);
                    String bias = namedBias(other, out);
                    if (bias != null) {
                        return new LinearUse(matMul, true, bias, add.output(0));
                    }
                }
            }
            return new LinearUse(matMul, true, null, product);
        }

        /** {@code tensorName} if it is a rank-1 float initializer of length {@code out}, else null. */
        private String namedBias(String tensorName, long out) {
            if (tensorName.isEmpty()) {
                return null;
            }
            OnnxTensor bias = graph.initializers().get(tensorName);
            if (bias == null || bias.dataType() != OnnxDataType.FLOAT.code()) {
                return null;
            }
            long[] dims = bias.dims();
            return dims.length == 1 && dims[0] == out ? tensorName : null;
        }

        private String describeConsumers(String name) {
            List<OnnxNode> consumers = graph.consumersOf(name);
            if (consumers.isEmpty()) {
                return "expected the B operand of a MatMul or Gemm whose output is added to a named bias, found no consumer";
            }
            List<String> uses = new ArrayList<>();
            for (OnnxNode node : consumers) {
                uses.add(node.describe() + " input " + node.inputs().indexOf(name));
            }
            return "expected the B operand of a MatMul or Gemm whose output is added to a named bias, found "
                    + String.join(", ", uses);
        }

        private OnnxFormatException unmappable(OnnxTensor init, String detail) {
            return new OnnxFormatException(Reason.UNMAPPABLE_INITIALIZER, init.name(), source,
                    "cannot recover a Hugging Face name for " + OnnxDataType.describe(init.dataType()) + " "
                            + Arrays.toString(init.dims()) + ": " + detail);
        }

        // ------------------------------------------------------------ config inference

        /**
         * Heads from the constant part of the Reshape that splits the query/key/value projections,
         * {@code [B, T, h, d]}: torch exports it as a Concat of two computed sizes and two constants.
         */
        private OptionalInt inferHeads() throws OnnxFormatException {
            Set<Long> found = new HashSet<>();
            for (Map.Entry<String, String> linear : linearOutputs.entrySet()) {
                String weight = linear.getKey();
                if (!weight.matches(".*\\.attention\\.self\\.(query|key|value)\\.weight")) {
                    continue;
                }
                long hidden = tensors.get(weight).shape()[0];
                for (OnnxNode reshape : graph.consumersOf(linear.getValue())) {
                    if (!reshape.opType().equals("Reshape") || !reshape.input(0).equals(linear.getValue())) {
                        continue;
                    }
                    long[] shape = constantShape(reshape.input(1));
                    if (shape != null && shape.length == 4 && shape[2] > 0 && shape[2] <= Integer.MAX_VALUE
                            && (shape[3] <= 0 || shape[2] * shape[3] == hidden)) {
                        found.add(shape[2]);
                    }
                }
            }
            return found.size() == 1 ? OptionalInt.of(Math.toIntExact(found.iterator().next())) : OptionalInt.empty();
        }

        /** A shape tensor's values with -1 for the entries computed at run time; null if not recoverable. */
        private long[] constantShape(String tensorName) throws OnnxFormatException {
            Optional<OnnxTensor> constant = graph.constant(tensorName);
            if (constant.isPresent()) {
                return constant.get().toLongs();
            }
            Optional<OnnxNode> producer = graph.producerOf(tensorName);
            if (producer.isEmpty() || !producer.get().opType().equals("Concat")) {
                return null;
            }
            List<Long> values = new ArrayList<>();
            for (String part : producer.get().inputs()) {
                Optional<OnnxTensor> partConstant = graph.constant(part);
                if (partConstant.isPresent()) {
                    for (long v : partConstant.get().toLongs()) {
                        values.add(v);
                    }
                } else if (graph.producerOf(part).map(n -> n.opType().equals("Unsqueeze")).orElse(false)) {
                    // A run-time scalar (batch or sequence length) unsqueezed to one element.
                    values.add(-1L);
                } else {
                    return null;
                }
            }
            return values.stream().mapToLong(Long::longValue).toArray();
        }

        /** The activation between the intermediate dense and the output dense of the first layer. */
        private Optional<String> inferActivation() {
            String start = null;
            for (Map.Entry<String, String> linear : linearOutputs.entrySet()) {
                if (linear.getKey().endsWith(".intermediate.dense.weight")) {
                    start = linear.getValue();
                    break;
                }
            }
            if (start == null) {
                return Optional.empty();
            }
            Set<String> ops = new LinkedHashSet<>();
            Deque<String> frontier = new ArrayDeque<>(List.of(start));
            Set<String> seen = new HashSet<>();
            // GELU as exported is at most five elementwise nodes deep; stop at the next projection.
            for (int depth = 0; depth < 6 && !frontier.isEmpty(); depth++) {
                Deque<String> next = new ArrayDeque<>();
                for (String tensor : frontier) {
                    for (OnnxNode node : graph.consumersOf(tensor)) {
                        if (node.opType().equals("MatMul") || node.opType().equals("Gemm") || !seen.add(node.output(0))) {
                            continue;
                        }
                        ops.add(node.opType());
                        if (node.opType().equals("Gelu")) {
                            boolean tanh = node.attribute("approximate").map(a -> "tanh".equals(a.s())).orElse(false);
                            return Optional.of(tanh ? "gelu_new" : "gelu");
                        }
                        next.addAll(node.outputs());
                    }
                }
                frontier = next;
            }
            if (ops.contains("Erf")) {
                return Optional.of("gelu");
            }
            if (ops.contains("Tanh")) {
                return Optional.of("gelu_new");
            }
            if (ops.contains("Relu")) {
                return Optional.of("relu");
            }
            return Optional.empty();
        }

        /**
         * LayerNorm epsilon: a LayerNormalization node's attribute, or in the decomposed form the
         * scalar added to the variance before Sqrt, {@code Sqrt(Add(ReduceMean(..), eps))}.
         */
        private OptionalDouble inferLayerNormEps() throws OnnxFormatException {
            Set<Float> found = new HashSet<>();
            for (OnnxNode node : graph.nodes()) {
                if (node.opType().equals("LayerNormalization")) {
                    found.add(node.attribute("epsilon").map(OnnxAttribute::f).orElse(1e-5f));
                } else if (node.opType().equals("Sqrt")) {
                    Optional<OnnxNode> add = graph.producerOf(node.input(0));
                    if (add.isEmpty() || !add.get().opType().equals("Add") || add.get().inputs().size() != 2) {
                        continue;
                    }
                    for (int i = 0; i < 2; i++) {
                        Optional<OnnxTensor> eps = graph.constant(add.get().input(i));
                        boolean fromMean = graph.producerOf(add.get().input(1 - i))
                                .map(n -> n.opType().equals("ReduceMean")).orElse(false);
                        if (eps.isPresent() && fromMean && eps.get().elementCount() == 1) {
                            found.add((float) eps.get().toScalarDouble());
                        }
                    }
                }
            }
            if (found.size() != 1) {
                return OptionalDouble.empty();
            }
            // The graph holds float32(eps); its shortest decimal is the config value (1e-12, not 9.99e-13).
            return OptionalDouble.of(Double.parseDouble(Float.toString(found.iterator().next())));
        }
    }

    /** [rows, cols] -> [cols, rows]. */
    static float[] transpose(float[] data, int rows, int cols) {
        float[] out = new float[data.length];
        for (int r = 0; r < rows; r++) {
            int rowStart = r * cols;
            for (int c = 0; c < cols; c++) {
                out[c * rows + r] = data[rowStart + c];
            }
        }
        return out;
    }
}
