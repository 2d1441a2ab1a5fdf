package io.jembed.core.model;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

import io.jembed.core.kernels.Kernels;
import io.jembed.core.kernels.PackedLinear;
import io.jembed.weights.BertConfig;
import io.jembed.weights.SafetensorsReader;

/**
 * The weights of a BERT encoder, one field per Hugging Face module, read from safetensors by
 * their Hugging Face names (optionally under a {@code bert.} prefix, as in {@code BertForMaskedLM}
 * checkpoints) and checked against the config's shapes.
 *
 * <p>Shape symbols: V vocab_size, P max_position_embeddings, Y type_vocab_size, H hidden_size,
 * I intermediate_size. Linear layers are packed once here into the kernels' layout.
 */
public final class BertWeights {

    /** {@code BertEmbeddings}. */
    public record Embeddings(
            float[] wordEmbeddings,      // [V, H]
            float[] positionEmbeddings,  // [P, H]
            float[] tokenTypeEmbeddings, // [Y, H]
            float[] layerNormWeight,     // [H]
            float[] layerNormBias) {     // [H]
    }

    /** {@code BertLayer}: attention (self + output), intermediate, output. */
    public record Layer(
            PackedLinear queryKeyValue,           // [3H, H]: query, key and value rows stacked, one matmul
            PackedLinear attentionOutputDense,    // [H, H]
            float[] attentionOutputLayerNormWeight, // [H]
            float[] attentionOutputLayerNormBias,   // [H]
            PackedLinear intermediateDense,       // [I, H]
            PackedLinear outputDense,             // [H, I]
            float[] outputLayerNormWeight,        // [H]
            float[] outputLayerNormBias) {        // [H]
    }

    private final Embeddings embeddings;
    private final List<Layer> layers;

    private BertWeights(Embeddings embeddings, List<Layer> layers) {
        this.embeddings = embeddings;
        this.layers = List.copyOf(layers);
    }

    public Embeddings embeddings() {
        return embeddings;
    }

    public List<Layer> layers() {
        return layers;
    }

    /** Reads and packs every tensor the encoder needs; a missing or mis-shaped one is an error naming it. */
    public static BertWeights load(SafetensorsReader file, BertConfig config, Kernels kernels) throws IOException {
        Lookup w = new Lookup(file, prefixOf(file));
        int H = config.hiddenSize();
        int I = config.intermediateSize();
        Embeddings embeddings = new Embeddings(
                w.tensor("embeddings.word_embeddings.weight", config.vocabSize(), H),
                w.tensor("embeddings.position_embeddings.weight", config.maxPositionEmbeddings(), H),
                w.tensor("embeddings.token_type_embeddings.weight", config.typeVocabSize(), H),
                w.tensor("embeddings.LayerNorm.weight", H),
                w.tensor("embeddings.LayerNorm.bias", H));
        List<Layer> layers = new ArrayList<>();
        for (int i = 0; i < config.numHiddenLayers(); i++) {
            String layer = "encoder.layer." + i + ".";
            float[] qkvWeight = concat(
                    w.tensor(layer + "attention.self.query.weight", H, H),
                    w.tensor(layer + "attention.self.key.weight", H, H),
                    w.tensor(layer + "attention.self.value.weight", H, H));
            float[] qkvBias = concat(
                    w.tensor(layer + "attention.self.query.bias", H),
                    w.tensor(layer + "attention.self.key.bias", H),
                    w.tensor(layer + "attention.self.value.bias", H));
            layers.add(new Layer(
                    kernels.pack(qkvWeight, qkvBias, 3 * H, H),
                    kernels.pack(w.tensor(layer + "attention.output.dense.weight", H, H),
                            w.tensor(layer + "attention.output.dense.bias", H), H, H),
                    w.tensor(layer + "attention.output.LayerNorm.weight", H),
                    w.tensor(layer + "attention.output.LayerNorm.bias", H),
                    kernels.pack(w.tensor(layer + "intermediate.dense.weight", I, H),
                            w.tensor(layer + "intermediate.dense.bias", I), I, H),
                    kernels.pack(w.tensor(layer + "output.dense.weight", H, I),
                            w.tensor(layer + "output.dense.bias", H), H, I),
                    w.tensor(layer + "output.LayerNorm.weight", H),
                    w.tensor(layer + "output.LayerNorm.bias", H)));
        }
        return new BertWeights(embeddings, layers);
    }

    /** "" for a bare BertModel checkpoint, "bert." for task heads that wrap one. */
    static String prefixOf(SafetensorsReader file) {
        if (file.contains("embeddings.word_embeddings.weight")) {
            return "";
        }
        if (file.contains("bert.embeddings.word_embeddings.weight")) {
            return "bert.";
        }
        throw new IllegalArgumentException("tensor 'embeddings.word_embeddings.weight' (or 'bert.embeddings."
                + "word_embeddings.weight'): expected in a BERT checkpoint, found neither in " + file.fileName());
    }

    private static float[] concat(float[]... parts) {
        int length = 0;
        for (float[] part : parts) {
            length += part.length;
        }
        float[] all = new float[length];
        int at = 0;
        for (float[] part : parts) {
            System.arraycopy(part, 0, all, at, part.length);
            at += part.length;
        }
        return all;
    }

    /** Looks tensors up under a name prefix, checking dtype and shape. */
    private record Lookup(SafetensorsReader file, String prefix) {
        float[] tensor(String name, long... shape) throws IOException {
            return file.floats(prefix + name, shape);
        }
    }
}
