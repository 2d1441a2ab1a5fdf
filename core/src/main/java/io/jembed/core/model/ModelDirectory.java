package io.jembed.core.model;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.jembed.core.pooling.PoolingConfig;
import io.jembed.tokenizer.WordPieceTokenizer;
import io.jembed.weights.BertConfig;

/**
 * Everything a model directory says about its model, read and cross-checked in one place: the
 * encoder's {@code config.json}, the tokenizer ({@code tokenizer.json} or {@code vocab.txt}),
 * sentence-transformers' {@code sentence_bert_config.json} ({@code max_seq_length},
 * {@code do_lower_case}), {@code modules.json} with the pooling config, and
 * {@code config_sentence_transformers.json} (prompts). The engine reads a model directory only
 * through this class.
 *
 * <p>The layout is the one sentence-transformers saves and the Hugging Face Hub serves, with the
 * weights as one {@code model.safetensors}. What jembed cannot load is refused here with what was
 * found and what to do: PyTorch-only weights, sharded safetensors, an ONNX export not yet imported.
 *
 * <p>Without sentence-transformers' files a directory reads as {@code SentenceTransformer(dir)}
 * builds it for a plain encoder: mean pooling without normalisation, truncation at
 * {@code max_position_embeddings}, no prompts.
 *
 * <p>Immutable; {@link #weightsSha256()} is computed on first use.
 */
public final class ModelDirectory {

    public static final String CONFIG = "config.json";
    public static final String WEIGHTS = "model.safetensors";
    public static final String TOKENIZER_JSON = "tokenizer.json";
    public static final String VOCAB_TXT = "vocab.txt";
    public static final String SENTENCE_BERT_CONFIG = "sentence_bert_config.json";
    public static final String SENTENCE_TRANSFORMERS_CONFIG = "config_sentence_transformers.json";
    public static final String MODULES = "modules.json";

    private static final ObjectMapper JSON = new ObjectMapper();

    private final Path dir;
    private final BertConfig config;
    private final WordPieceTokenizer tokenizer;
    private final Path tokenizerFile;
    private final PoolingConfig pooling;
    private final int maxSeqLength;
    private final boolean doLowerCase;
    private final Prompts prompts;
    private volatile String weightsSha256;

    private ModelDirectory(Path dir, BertConfig config, WordPieceTokenizer tokenizer, Path tokenizerFile,
                           PoolingConfig pooling, int maxSeqLength, boolean doLowerCase, Prompts prompts) {
        this.dir = dir;
        this.config = config;
        this.tokenizer = tokenizer;
        this.tokenizerFile = tokenizerFile;
        this.pooling = pooling;
        this.maxSeqLength = maxSeqLength;
        this.doLowerCase = doLowerCase;
        this.prompts = prompts;
    }

    /**
     * Reads and validates a model directory.
     *
     * @throws ModelDirectoryException for a missing, malformed or inconsistent file, naming the file
     *                                 and the field
     * @throws IOException             if a file cannot be read, or a module's own format exception
     *                                 (tokenizer, pooling, config) for a malformed file
     */
    public static ModelDirectory read(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            throw new ModelDirectoryException(dir, null, "expected a model directory, found "
                    + (Files.exists(dir) ? "a file" : "nothing"));
        }
        Path configFile = dir.resolve(CONFIG);
        checkWeights(dir);
        if (!Files.isRegularFile(configFile)) {
            throw new ModelDirectoryException(dir, CONFIG, "expected the encoder's config.json, found no such file");
        }
        BertConfig config = BertConfig.read(configFile);

        Path tokenizerFile = dir.resolve(TOKENIZER_JSON);
        if (!Files.isRegularFile(tokenizerFile)) {
            tokenizerFile = dir.resolve(VOCAB_TXT);
        }
        if (!Files.isRegularFile(tokenizerFile)) {
            throw new ModelDirectoryException(dir, "tokenizer", "expected " + TOKENIZER_JSON + " or " + VOCAB_TXT
                    + ", found neither");
        }
        WordPieceTokenizer tokenizer = WordPieceTokenizer.fromModelDir(dir);
        if (tokenizer.vocabSize() > config.vocabSize()) {
            throw new ModelDirectoryException(tokenizerFile, "vocabulary", "expected at most " + config.vocabSize()
                    + " tokens (vocab_size in " + CONFIG + "), found " + tokenizer.vocabSize());
        }

        PoolingConfig pooling = PoolingConfig.read(dir);
        if (pooling.wordEmbeddingDimension() != 0 && pooling.wordEmbeddingDimension() != config.hiddenSize()) {
            throw new ModelDirectoryException(poolingFile(dir), "word_embedding_dimension", "expected "
                    + config.hiddenSize() + " (hidden_size in " + CONFIG + "), found " + pooling.wordEmbeddingDimension());
        }

        SentenceBertConfig st = SentenceBertConfig.read(dir);
        int maxSeqLength = config.maxPositionEmbeddings();
        if (st.maxSeqLength() > 0) {
            if (st.maxSeqLength() > config.maxPositionEmbeddings()) {
                throw new ModelDirectoryException(dir.resolve(SENTENCE_BERT_CONFIG), "max_seq_length", "expected at most "
                        + config.maxPositionEmbeddings() + " (max_position_embeddings in " + CONFIG + "), found "
                        + st.maxSeqLength());
            }
            maxSeqLength = st.maxSeqLength();
        }
        boolean doLowerCase = st.doLowerCase();

        Prompts prompts = readPrompts(dir.resolve(SENTENCE_TRANSFORMERS_CONFIG));
        return new ModelDirectory(dir, config, tokenizer, tokenizerFile, pooling, maxSeqLength, doLowerCase, prompts);
    }

    /** Refuses, with what to do, the weight layouts jembed does not read. */
    private static void checkWeights(Path dir) throws ModelDirectoryException {
        if (Files.isRegularFile(dir.resolve(WEIGHTS))) {
            return;
        }
        if (Files.isRegularFile(dir.resolve("model.safetensors.index.json"))) {
            throw new ModelDirectoryException(dir, WEIGHTS, "expected one model.safetensors, found sharded safetensors "
                    + "(model.safetensors.index.json); merge the shards into one model.safetensors "
                    + "(load and save_file them with the safetensors library) and retry");
        }
        if (Files.isRegularFile(dir.resolve("pytorch_model.bin"))) {
            throw new ModelDirectoryException(dir, WEIGHTS, "expected model.safetensors, found pytorch_model.bin only "
                    + "(PyTorch pickle, which jembed does not read); save the model with safetensors "
                    + "(save_pretrained(dir, safe_serialization=True)), or import its ONNX export with "
                    + "'jembed model import'");
        }
        for (String onnx : List.of("model.onnx", "onnx/model.onnx")) {
            if (Files.isRegularFile(dir.resolve(onnx))) {
                throw new ModelDirectoryException(dir, WEIGHTS, "expected model.safetensors, found only the ONNX export "
                        + onnx + "; import it with 'jembed model import --onnx " + dir.resolve(onnx)
                        + " --tokenizer " + dir.resolve(TOKENIZER_JSON) + " --pooling mean|cls --output DIR'");
            }
        }
        throw new ModelDirectoryException(dir, WEIGHTS, "expected the weights as model.safetensors, found no such file");
    }

    private static Path poolingFile(Path dir) {
        try {
            JsonNode modules = JSON.readTree(dir.resolve(MODULES).toFile());
            for (JsonNode module : modules) {
                if (module.path("type").asText("").endsWith("Pooling")) {
                    return dir.resolve(module.path("path").asText("")).resolve(CONFIG);
                }
            }
        } catch (IOException e) {
            // PoolingConfig.read accepted the file a moment ago; fall back to the usual place.
        }
        return dir.resolve("1_Pooling").resolve(CONFIG);
    }

    /** sentence_bert_config.json's two fields; maxSeqLength 0 when absent. */
    private record SentenceBertConfig(int maxSeqLength, boolean doLowerCase) {
        static SentenceBertConfig read(Path dir) throws IOException {
            Path file = dir.resolve(SENTENCE_BERT_CONFIG);
            if (!Files.isRegularFile(file)) {
                return new SentenceBertConfig(0, false);
            }
            JsonNode st = object(file);
            int maxSeqLength = 0;
            JsonNode length = st.get("max_seq_length");
            if (length != null && !length.isNull()) {
                if (!length.isIntegralNumber() || !length.canConvertToInt() || length.intValue() < 2) {
                    throw new ModelDirectoryException(file, "max_seq_length", "expected a whole number >= 2, found "
                            + length);
                }
                maxSeqLength = length.intValue();
            }
            JsonNode lower = st.get("do_lower_case");
            if (lower != null && !lower.isNull() && !lower.isBoolean()) {
                throw new ModelDirectoryException(file, "do_lower_case", "expected true or false, found " + lower);
            }
            return new SentenceBertConfig(maxSeqLength, lower != null && lower.booleanValue());
        }
    }

    /**
     * What tokenizing needs, from a directory that may hold only a tokenizer: the tokenizer, the
     * max length (max_seq_length, else max_position_embeddings, else the tokenizer's own truncation,
     * else none), do_lower_case and the prompts.
     */
    public record TokenizerView(WordPieceTokenizer tokenizer, int maxSeqLength, boolean doLowerCase, Prompts prompts) {

        /** prompt + text, lowercased when do_lower_case, as {@link ModelDirectory#input}. */
        public String input(Prompt prompt, String text) {
            return ModelDirectory.input(prompt, text, doLowerCase);
        }
    }

    /** The tokenizing view of a full model directory, or of a tokenizer-only one. */
    public static TokenizerView readTokenizer(Path dir) throws IOException {
        if (Files.isRegularFile(dir.resolve(CONFIG)) && Files.isRegularFile(dir.resolve(WEIGHTS))) {
            ModelDirectory model = read(dir);
            return new TokenizerView(model.tokenizer, model.maxSeqLength, model.doLowerCase, model.prompts);
        }
        if (!Files.isDirectory(dir)) {
            throw new ModelDirectoryException(dir, null, "expected a model directory, found "
                    + (Files.exists(dir) ? "a file" : "nothing"));
        }
        if (!Files.isRegularFile(dir.resolve(TOKENIZER_JSON)) && !Files.isRegularFile(dir.resolve(VOCAB_TXT))) {
            throw new ModelDirectoryException(dir, "tokenizer", "expected " + TOKENIZER_JSON + " or " + VOCAB_TXT
                    + ", found neither");
        }
        WordPieceTokenizer tokenizer = WordPieceTokenizer.fromModelDir(dir);
        SentenceBertConfig st = SentenceBertConfig.read(dir);
        int maxSeqLength = st.maxSeqLength() > 0 ? st.maxSeqLength()
                : tokenizer.configuredMaxLength().orElse(Integer.MAX_VALUE);
        return new TokenizerView(tokenizer, maxSeqLength, st.doLowerCase(),
                readPrompts(dir.resolve(SENTENCE_TRANSFORMERS_CONFIG)));
    }

    /** {@code prompts} and {@code default_prompt_name} of config_sentence_transformers.json; none if absent. */
    static Prompts readPrompts(Path file) throws IOException {
        if (!Files.isRegularFile(file)) {
            return Prompts.NONE;
        }
        JsonNode json = object(file);
        Map<String, String> prompts = new LinkedHashMap<>();
        JsonNode node = json.get("prompts");
        if (node != null && !node.isNull()) {
            if (!node.isObject()) {
                throw new ModelDirectoryException(file, "prompts", "expected an object of name: text, found "
                        + node.getNodeType().name().toLowerCase(Locale.ROOT) + " " + abbreviate(node));
            }
            for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> prompt = it.next();
                if (!prompt.getValue().isTextual()) {
                    throw new ModelDirectoryException(file, "prompts." + prompt.getKey(), "expected a string, found "
                            + abbreviate(prompt.getValue()));
                }
                if (prompt.getKey().isEmpty()) {
                    throw new ModelDirectoryException(file, "prompts", "expected non-empty prompt names, found \"\"");
                }
                prompts.put(prompt.getKey(), prompt.getValue().textValue());
            }
        }
        JsonNode defaultName = json.get("default_prompt_name");
        String defaultPromptName = null;
        if (defaultName != null && !defaultName.isNull()) {
            if (!defaultName.isTextual() || !prompts.containsKey(defaultName.textValue())) {
                throw new ModelDirectoryException(file, "default_prompt_name", "expected null or one of "
                        + prompts.keySet() + ", found " + abbreviate(defaultName));
            }
            defaultPromptName = defaultName.textValue();
        }
        return new Prompts(prompts, defaultPromptName);
    }

    private static JsonNode object(Path file) throws IOException {
        JsonNode json;
        try (InputStream in = Files.newInputStream(file)) {
            json = JSON.readTree(in);
        } catch (JacksonException e) {
            throw new ModelDirectoryException(file, null, "expected well-formed JSON, found a syntax error ("
                    + e.getOriginalMessage() + " at line " + e.getLocation().getLineNr() + ", column "
                    + e.getLocation().getColumnNr() + ")", e);
        }
        if (json == null || !json.isObject()) {
            throw new ModelDirectoryException(file, null, "expected a JSON object, found "
                    + (json == null ? "an empty file" : json.getNodeType().name().toLowerCase(Locale.ROOT)));
        }
        return json;
    }

    private static String abbreviate(JsonNode node) {
        String text = node.toString();
        return text.length() > 60 ? text.substring(0, 57) + "..." : text;
    }

    /** The text the tokenizer sees for text under a resolved prompt: prompt + text, lowercased if do_lower_case. */
    public String input(Prompt prompt, String text) {
        return input(prompt, text, doLowerCase);
    }

    private static String input(Prompt prompt, String text, boolean doLowerCase) {
        String joined = prompt.text().isEmpty() ? text : prompt.text() + text;
        return doLowerCase ? joined.toLowerCase(Locale.ROOT) : joined;
    }

    /**
     * Tokens at the start of a prompted text that pooling skips when {@code include_prompt} is
     * false: the prompt's tokens with [CLS], counted as sentence-transformers counts them (the
     * prompt tokenized alone, minus its [SEP]); 0 when the prompt is included or empty.
     */
    public int promptTokensExcluded(Prompt prompt) {
        if (pooling.includePrompt() || prompt.text().isEmpty()) {
            return 0;
        }
        return tokenizer.encode(input(prompt, ""), maxSeqLength).length() - 1;
    }

    /** Every model file's name that exists, for listings. */
    public List<String> files() throws IOException {
        List<String> names = new ArrayList<>();
        try (var stream = Files.walk(dir)) {
            for (Path file : stream.filter(Files::isRegularFile).sorted().toList()) {
                names.add(dir.relativize(file).toString());
            }
        }
        return names;
    }

    public Path dir() {
        return dir;
    }

    /** The directory's name, which indexes record (a catalogue model's directory is named after it). */
    public String name() {
        return dir.toAbsolutePath().normalize().getFileName().toString();
    }

    public BertConfig config() {
        return config;
    }

    public WordPieceTokenizer tokenizer() {
        return tokenizer;
    }

    /** tokenizer.json, or vocab.txt when there is no tokenizer.json. */
    public Path tokenizerFile() {
        return tokenizerFile;
    }

    public PoolingConfig pooling() {
        return pooling;
    }

    /** Tokens per text with [CLS] and [SEP]: max_seq_length, else max_position_embeddings. */
    public int maxSeqLength() {
        return maxSeqLength;
    }

    /** sentence_bert_config.json's do_lower_case: the input is lowercased before tokenizing. */
    public boolean doLowerCase() {
        return doLowerCase;
    }

    public Prompts prompts() {
        return prompts;
    }

    /** Floats per sentence vector. */
    public int dimension() {
        return pooling.outputDimension(config.hiddenSize());
    }

    public Path weightsFile() {
        return dir.resolve(WEIGHTS);
    }

    /** SHA-256 of model.safetensors, lowercase hex; what identifies the model in index manifests. */
    public String weightsSha256() throws IOException {
        String checksum = weightsSha256;
        if (checksum == null) {
            checksum = sha256(weightsFile());
            weightsSha256 = checksum;
        }
        return checksum;
    }

    /** SHA-256 of a file, lowercase hex. */
    public static String sha256(Path file) throws IOException {
        MessageDigest digest;
        try {
            digest = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JDK has no SHA-256", e);
        }
        try (InputStream in = Files.newInputStream(file)) {
            byte[] buffer = new byte[1 << 20];
            for (int n; (n = in.read(buffer)) > 0; ) {
                digest.update(buffer, 0, n);
            }
        }
        return HexFormat.of().formatHex(digest.digest());
    }
}
