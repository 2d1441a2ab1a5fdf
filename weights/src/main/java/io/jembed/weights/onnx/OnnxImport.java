package io.jembed.weights.onnx;

import io.jembed.weights.BertConfig;
import io.jembed.weights.SafetensorsWriter;
import io.jembed.weights.onnx.OnnxFormatException.Reason;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.OptionalInt;
import java.util.SequencedMap;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The result of {@link OnnxImporter}: Hugging Face named F32 weights in HF layout, what was
 * dropped, and the config values the graph reveals.
 */
public final class OnnxImport {

    private static final String WORD_EMBEDDINGS = "embeddings.word_embeddings.weight";

    private final OnnxModel model;
    private final SequencedMap<String, ImportedTensor> tensors;
    private final List<String> dropped;
    private final OptionalInt numAttentionHeads;
    private final Optional<String> hiddenAct;
    private final OptionalDouble layerNormEps;

    OnnxImport(OnnxModel model, SequencedMap<String, ImportedTensor> tensors, List<String> dropped,
               OptionalInt numAttentionHeads, Optional<String> hiddenAct, OptionalDouble layerNormEps) {
        this.model = model;
        this.tensors = Collections.unmodifiableSequencedMap(new LinkedHashMap<>(tensors));
        this.dropped = List.copyOf(dropped);
        this.numAttentionHeads = numAttentionHeads;
        this.hiddenAct = hiddenAct;
        this.layerNormEps = layerNormEps;
    }

    /** The parsed model, for access to the raw initializers and graph. */
    public OnnxModel model() {
        return model;
    }

    /** Weights by Hugging Face name, in initializer order. */
    public SequencedMap<String, ImportedTensor> tensors() {
        return tensors;
    }

    /**
     * The weight of this HF name, with its source initializer and whether it was transposed.
     *
     * @throws IllegalArgumentException if there is no such weight
     */
    public ImportedTensor tensor(String hfName) {
        ImportedTensor tensor = tensors.get(hfName);
        if (tensor == null) {
            throw new IllegalArgumentException("tensor '" + hfName + "': expected an imported weight of this name, found "
                    + "none among " + tensors.size() + " in " + model.source());
        }
        return tensor;
    }

    /** Initializers that are not weights (integer buffers such as position_ids, scalar constants). */
    public List<String> droppedInitializers() {
        return dropped;
    }

    /** Total number of weight elements. */
    public long totalParameters() {
        long total = 0;
        for (ImportedTensor tensor : tensors.values()) {
            total += tensor.elementCount();
        }
        return total;
    }

    /** {@code num_attention_heads} from the constants of the attention Reshape, if the graph shows it. */
    public OptionalInt inferredNumAttentionHeads() {
        return numAttentionHeads;
    }

    /** {@code hidden_act} from the operators after the intermediate dense, if recognisable. */
    public Optional<String> inferredHiddenAct() {
        return hiddenAct;
    }

    /** {@code layer_norm_eps} from the LayerNorm constants, if all LayerNorms agree. */
    public OptionalDouble inferredLayerNormEps() {
        return layerNormEps;
    }

    /**
     * A full {@link BertConfig}: sizes from the embedding and layer tensors' shapes, heads,
     * activation and epsilon from the graph.
     *
     * @throws OnnxFormatException {@code MISSING_TENSOR} naming a tensor the shapes come from, or
     *                             {@code CANNOT_INFER_CONFIG} naming the value that is not recoverable
     */
    public BertConfig inferConfig() throws OnnxFormatException {
        int heads = numAttentionHeads.orElseThrow(() -> cannotInfer("num_attention_heads",
                "expected a Reshape of the query/key/value projection to [B, T, heads, head size] with constant heads"));
        return inferConfig(heads);
    }

    /**
     * {@link #inferConfig()} with a known head count, for graphs that do not show it; if the graph
     * does show it, the two must agree.
     */
    public BertConfig inferConfig(int numAttentionHeads) throws OnnxFormatException {
        if (this.numAttentionHeads.isPresent() && this.numAttentionHeads.getAsInt() != numAttentionHeads) {
            throw cannotInfer("num_attention_heads", "expected " + numAttentionHeads + " as given, found "
                    + this.numAttentionHeads.getAsInt() + " in the attention Reshape constants");
        }
        String prefix = modelPrefix();
        long[] words = shapeOf(prefix + WORD_EMBEDDINGS);
        long[] positions = shapeOf(prefix + "embeddings.position_embeddings.weight");
        long[] types = shapeOf(prefix + "embeddings.token_type_embeddings.weight");
        long[] intermediate = shapeOf(prefix + "encoder.layer.0.intermediate.dense.weight");
        int layers = countLayers(prefix);
        String act = hiddenAct.orElseThrow(() -> cannotInfer("hidden_act",
                "expected Erf, Gelu, Tanh or Relu between the intermediate and output dense layers"));
        double eps = layerNormEps.orElseThrow(() -> cannotInfer("layer_norm_eps",
                "expected LayerNormalization nodes or Sqrt(Add(ReduceMean, eps)) with one common eps"));
        try {
            return new BertConfig(Math.toIntExact(words[0]), Math.toIntExact(words[1]), layers, numAttentionHeads,
                    Math.toIntExact(intermediate[0]), act, Math.toIntExact(positions[0]), Math.toIntExact(types[0]), eps);
        } catch (IllegalArgumentException | ArithmeticException e) {
            throw cannotInfer("config", "expected values BertConfig accepts, found " + e.getMessage());
        }
    }

    /** Writes the weights as an HF-style {@code model.safetensors} (F32, metadata {"format": "pt"}), atomically. */
    public void writeSafetensors(Path file) throws IOException {
        writeSafetensors(file, Map.of("format", "pt"));
    }

    /** Writes the weights as F32 safetensors with this {@code __metadata__} (sorted by key), atomically. */
    public void writeSafetensors(Path file, Map<String, String> metadata) throws IOException {
        SafetensorsWriter writer = new SafetensorsWriter();
        new TreeMap<>(metadata).forEach(writer::metadata);
        for (ImportedTensor tensor : tensors.values()) {
            writer.add(tensor.name(), tensor.data(), tensor.shape());
        }
        writer.write(file);
    }

    /** "" or e.g. "bert." if the export kept a wrapper module's prefix. */
    private String modelPrefix() throws OnnxFormatException {
        for (String name : tensors.keySet()) {
            if (name.endsWith(WORD_EMBEDDINGS)) {
                return name.substring(0, name.length() - WORD_EMBEDDINGS.length());
            }
        }
        throw missing(WORD_EMBEDDINGS);
    }

    private long[] shapeOf(String name) throws OnnxFormatException {
        ImportedTensor tensor = tensors.get(name);
        if (tensor == null) {
            throw missing(name);
        }
        long[] shape = tensor.shape();
        if (shape.length != 2) {
            throw new OnnxFormatException(Reason.CANNOT_INFER_CONFIG, name, model.source(),
                    "expected a rank-2 weight, found shape " + Arrays.toString(shape));
        }
        return shape;
    }

    private int countLayers(String prefix) throws OnnxFormatException {
        Pattern layer = Pattern.compile(Pattern.quote(prefix + "encoder.layer.") + "(\\d+)\\..*");
        TreeSet<Integer> indices = new TreeSet<>();
        for (String name : tensors.keySet()) {
            Matcher m = layer.matcher(name);
            if (m.matches()) {
                indices.add(Integer.parseInt(m.group(1)));
            }
        }
        if (indices.isEmpty() || indices.first() != 0 || indices.last() != indices.size() - 1) {
            throw cannotInfer("num_hidden_layers", "expected encoder.layer.0 .. encoder.layer.N-1, found layer indices "
                    + indices);
        }
        return indices.size();
    }

    private OnnxFormatException missing(String name) {
        return new OnnxFormatException(Reason.MISSING_TENSOR, name, model.source(),
                "expected this BERT weight among the " + tensors.size() + " imported tensors, found none");
    }

    private OnnxFormatException cannotInfer(String field, String detail) {
        return new OnnxFormatException(Reason.CANNOT_INFER_CONFIG, null, model.source(),
                "config field \"" + field + "\": " + detail);
    }
}
