package io.jembed.weights;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.util.DefaultIndenter;
import com.fasterxml.jackson.core.util.DefaultPrettyPrinter;
import com.fasterxml.jackson.core.util.Separators;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Objects;
import java.util.Set;

/**
 * The fields of a Hugging Face BERT {@code config.json} that inference needs, under their HF
 * names ({@code hidden_size} is {@link #hiddenSize}, and so on).
 *
 * @param vocabSize             {@code vocab_size}: rows of the word embedding table (V)
 * @param hiddenSize            {@code hidden_size}: model width (H)
 * @param numHiddenLayers       {@code num_hidden_layers}: encoder layers
 * @param numAttentionHeads     {@code num_attention_heads}: heads (h); divides H
 * @param intermediateSize      {@code intermediate_size}: feed-forward width (I)
 * @param hiddenAct             {@code hidden_act}: one of {@link #ACTIVATIONS}
 * @param maxPositionEmbeddings {@code max_position_embeddings}: rows of the position table
 * @param typeVocabSize         {@code type_vocab_size}: rows of the token type table
 * @param layerNormEps          {@code layer_norm_eps}: added to the variance in every LayerNorm
 * @param padTokenId            {@code pad_token_id}
 * @param positionEmbeddingType {@code position_embedding_type}: only "absolute" is supported
 */
public record BertConfig(
        int vocabSize,
        int hiddenSize,
        int numHiddenLayers,
        int numAttentionHeads,
        int intermediateSize,
        String hiddenAct,
        int maxPositionEmbeddings,
        int typeVocabSize,
        double layerNormEps,
        int padTokenId,
        String positionEmbeddingType) {

    /** Accepted {@code hidden_act} values: exact erf GELU, the two tanh approximations, ReLU. */
    public static final Set<String> ACTIVATIONS = Set.of("gelu", "gelu_new", "gelu_pytorch_tanh", "relu");

    /** HF BertConfig defaults for fields that configs may omit. */
    public static final String DEFAULT_HIDDEN_ACT = "gelu";
    public static final double DEFAULT_LAYER_NORM_EPS = 1e-12;

    private static final ObjectMapper JSON = new ObjectMapper();

    public BertConfig {
        positive("vocab_size", vocabSize);
        positive("hidden_size", hiddenSize);
        positive("num_hidden_layers", numHiddenLayers);
        positive("num_attention_heads", numAttentionHeads);
        positive("intermediate_size", intermediateSize);
        positive("max_position_embeddings", maxPositionEmbeddings);
        positive("type_vocab_size", typeVocabSize);
        if (hiddenSize % numAttentionHeads != 0) {
            throw new IllegalArgumentException("num_attention_heads: expected a divisor of hidden_size " + hiddenSize
                    + ", found " + numAttentionHeads);
        }
        if (!ACTIVATIONS.contains(hiddenAct)) {
            throw new IllegalArgumentException("hidden_act: expected one of " + ACTIVATIONS.stream().sorted().toList()
                    + ", found " + (hiddenAct == null ? "null" : "\"" + hiddenAct + "\""));
        }
        if (!(layerNormEps > 0) || Double.isInfinite(layerNormEps)) {
            throw new IllegalArgumentException("layer_norm_eps: expected a finite value > 0, found " + layerNormEps);
        }
        if (padTokenId < 0 || padTokenId >= vocabSize) {
            throw new IllegalArgumentException("pad_token_id: expected 0 <= id < vocab_size " + vocabSize
                    + ", found " + padTokenId);
        }
        if (!"absolute".equals(positionEmbeddingType)) {
            throw new IllegalArgumentException("position_embedding_type: expected \"absolute\", found "
                    + (positionEmbeddingType == null ? "null" : "\"" + positionEmbeddingType + "\""));
        }
    }

    /** A config with {@code pad_token_id} 0 and absolute position embeddings, as HF's defaults. */
    public BertConfig(int vocabSize, int hiddenSize, int numHiddenLayers, int numAttentionHeads, int intermediateSize,
                      String hiddenAct, int maxPositionEmbeddings, int typeVocabSize, double layerNormEps) {
        this(vocabSize, hiddenSize, numHiddenLayers, numAttentionHeads, intermediateSize, hiddenAct,
                maxPositionEmbeddings, typeVocabSize, layerNormEps, 0, "absolute");
    }

    private static void positive(String field, int value) {
        if (value <= 0) {
            throw new IllegalArgumentException(field + ": expected a positive integer, found " + value);
        }
    }

    /** Width of one attention head (d = H / h). */
    public int headSize() {
        return hiddenSize / numAttentionHeads;
    }

    // ---------------------------------------------------------------- reading

    /**
     * Reads an HF {@code config.json}. The dimension fields are required; {@code hidden_act},
     * {@code layer_norm_eps}, {@code pad_token_id} and {@code position_embedding_type} default as in
     * HF's BertConfig; {@code model_type}, when present, must be "bert"; other fields are ignored.
     *
     * @throws ConfigFormatException naming the file and field for malformed JSON, a missing or
     *                               mistyped field, or a value the constructor rejects
     * @throws IOException           if the file cannot be read
     */
    public static BertConfig read(Path configJson) throws IOException {
        return fromJson(Files.readString(configJson, StandardCharsets.UTF_8), configJson.toString());
    }

    /** {@link #read} from JSON text; {@code source} names it in messages. */
    public static BertConfig fromJson(String json, String source) throws ConfigFormatException {
        JsonNode root;
        try {
            root = JSON.readTree(json);
        } catch (JsonProcessingException e) {
            String where = e.getLocation() == null ? ""
                    : " at line " + e.getLocation().getLineNr() + ", column " + e.getLocation().getColumnNr();
            throw new ConfigFormatException(source, null, "expected well-formed JSON, found " + e.getOriginalMessage()
                    + where, e);
        }
        if (root == null || !root.isObject()) {
            throw new ConfigFormatException(source, null, "expected a JSON object, found "
                    + (root == null ? "nothing" : root.getNodeType()), null);
        }
        JsonNode modelType = root.get("model_type");
        if (modelType != null && !"bert".equals(modelType.asText())) {
            throw new ConfigFormatException(source, "model_type", "expected \"bert\", found " + modelType, null);
        }
        int vocabSize = requiredInt(root, "vocab_size", source);
        int hiddenSize = requiredInt(root, "hidden_size", source);
        int numHiddenLayers = requiredInt(root, "num_hidden_layers", source);
        int numAttentionHeads = requiredInt(root, "num_attention_heads", source);
        int intermediateSize = requiredInt(root, "intermediate_size", source);
        int maxPositionEmbeddings = requiredInt(root, "max_position_embeddings", source);
        int typeVocabSize = requiredInt(root, "type_vocab_size", source);
        String hiddenAct = optionalString(root, "hidden_act", DEFAULT_HIDDEN_ACT, source);
        double layerNormEps = optionalDouble(root, "layer_norm_eps", DEFAULT_LAYER_NORM_EPS, source);
        int padTokenId = root.hasNonNull("pad_token_id") ? requiredInt(root, "pad_token_id", source) : 0;
        String positionEmbeddingType = optionalString(root, "position_embedding_type", "absolute", source);
        try {
            return new BertConfig(vocabSize, hiddenSize, numHiddenLayers, numAttentionHeads, intermediateSize,
                    hiddenAct, maxPositionEmbeddings, typeVocabSize, layerNormEps, padTokenId, positionEmbeddingType);
        } catch (IllegalArgumentException e) {
            // The constructor's messages are "<json field>: expected ..., found ...".
            String message = e.getMessage();
            int colon = message.indexOf(": ");
            throw colon < 0
                    ? new ConfigFormatException(source, null, message, e)
                    : new ConfigFormatException(source, message.substring(0, colon), message.substring(colon + 2), e);
        }
    }

    private static int requiredInt(JsonNode root, String field, String source) throws ConfigFormatException {
        JsonNode node = root.get(field);
        if (node == null || node.isNull()) {
            throw new ConfigFormatException(source, field, "expected an integer, found no such field", null);
        }
        if (!node.isIntegralNumber() || !node.canConvertToInt()) {
            throw new ConfigFormatException(source, field, "expected a 32-bit integer, found " + node, null);
        }
        return node.intValue();
    }

    private static String optionalString(JsonNode root, String field, String fallback, String source)
            throws ConfigFormatException {
        JsonNode node = root.get(field);
        if (node == null || node.isNull()) {
            return fallback;
        }
        if (!node.isTextual()) {
            throw new ConfigFormatException(source, field, "expected a string, found " + node, null);
        }
        return node.textValue();
    }

    private static double optionalDouble(JsonNode root, String field, double fallback, String source)
            throws ConfigFormatException {
        JsonNode node = root.get(field);
        if (node == null || node.isNull()) {
            return fallback;
        }
        if (!node.isNumber()) {
            throw new ConfigFormatException(source, field, "expected a number, found " + node, null);
        }
        return node.doubleValue();
    }

    // ---------------------------------------------------------------- writing

    /**
     * An HF-style {@code config.json}: these fields plus {@code model_type} "bert",
     * {@code architectures} ["BertModel"] and HF's training-only defaults, so HF transformers loads it.
     */
    public String toJson() {
        ObjectNode root = JSON.createObjectNode();
        root.putArray("architectures").add("BertModel");
        root.put("attention_probs_dropout_prob", 0.1);
        root.put("hidden_act", hiddenAct);
        root.put("hidden_dropout_prob", 0.1);
        root.put("hidden_size", hiddenSize);
        root.put("initializer_range", 0.02);
        root.put("intermediate_size", intermediateSize);
        root.put("layer_norm_eps", layerNormEps);
        root.put("max_position_embeddings", maxPositionEmbeddings);
        root.put("model_type", "bert");
        root.put("num_attention_heads", numAttentionHeads);
        root.put("num_hidden_layers", numHiddenLayers);
        root.put("pad_token_id", padTokenId);
        root.put("position_embedding_type", positionEmbeddingType);
        root.put("torch_dtype", "float32");
        root.put("type_vocab_size", typeVocabSize);
        root.put("use_cache", true);
        root.put("vocab_size", vocabSize);
        // HF's json.dumps(indent=2) layout: two-space indent, "key": value.
        DefaultPrettyPrinter printer = new DefaultPrettyPrinter(Separators.createDefaultInstance()
                .withObjectFieldValueSpacing(Separators.Spacing.AFTER))
                .withObjectIndenter(new DefaultIndenter("  ", "\n"))
                .withArrayIndenter(new DefaultIndenter("  ", "\n"));
        try {
            return JSON.writer(printer).writeValueAsString(root) + "\n";
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("serialising an in-memory JSON tree cannot fail", e);
        }
    }

    /** Writes {@link #toJson()} to {@code configJson} atomically. */
    public void write(Path configJson) throws IOException {
        byte[] bytes = toJson().getBytes(StandardCharsets.UTF_8);
        AtomicFiles.write(Objects.requireNonNull(configJson, "configJson"), channel -> {
            ByteBuffer buffer = ByteBuffer.wrap(bytes);
            while (buffer.hasRemaining()) {
                channel.write(buffer);
            }
        });
    }
}
