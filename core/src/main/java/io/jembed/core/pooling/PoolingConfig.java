package io.jembed.core.pooling;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.Iterator;
import java.util.List;
import java.util.Set;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * Which pooling a model uses and whether its sentence vectors are L2-normalised, as a
 * sentence-transformers model directory states it.
 *
 * <p>{@link #read(Path)} follows what {@code SentenceTransformer(dir)} loads:
 * <ul>
 *   <li>{@code modules.json} present: its Pooling module's {@code config.json} (usually
 *       {@code 1_Pooling/config.json}) gives the modes; a Normalize module turns normalisation on.
 *       Transformer, Pooling and Normalize are the only module types jembed runs; any other (Dense,
 *       LayerNorm, ...) would change the vectors, so it is refused rather than skipped.</li>
 *   <li>{@code modules.json} absent (a plain Hugging Face encoder directory): mean pooling without
 *       normalisation, which is what sentence-transformers builds for such a directory. A
 *       {@code 1_Pooling} folder without {@code modules.json} is ignored, as sentence-transformers
 *       ignores it. Cosine similarity and the search index do not depend on this choice (they
 *       normalise anyway); only raw {@code embed} output does.</li>
 * </ul>
 * Keys missing from the pooling {@code config.json} take sentence-transformers' constructor
 * defaults: mean on, every other mode off, {@code include_prompt} true. Several enabled modes are
 * concatenated in {@link PoolingMode} order, so the sentence dimension is hidden size x modes.
 *
 * @param modes                  enabled modes in concatenation order; not empty, no duplicates
 * @param normalize              whether the concatenated vector is scaled to unit L2 norm
 * @param includePrompt          sentence-transformers' {@code include_prompt}: whether prompt tokens
 *                               count in the pooling (only instruction models set it false)
 * @param wordEmbeddingDimension {@code word_embedding_dimension} from the config, or 0 when no
 *                               config stated it
 */
public record PoolingConfig(List<PoolingMode> modes, boolean normalize, boolean includePrompt,
                            int wordEmbeddingDimension) {

    /** What all-MiniLM-L6-v2 uses: mean pooling, then L2 normalisation. */
    public static final PoolingConfig MEAN_NORMALIZED = of(PoolingMode.MEAN, true);

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String MODULE_PREFIX = "sentence_transformers.models.";

    public PoolingConfig {
        if (modes == null || modes.isEmpty()) {
            throw new IllegalArgumentException("pooling config: expected at least one pooling mode, found none");
        }
        Set<PoolingMode> set = EnumSet.noneOf(PoolingMode.class);
        for (PoolingMode mode : modes) {
            if (mode == null || !set.add(mode)) {
                throw new IllegalArgumentException("pooling config: expected distinct non-null modes, found " + modes);
            }
        }
        if (wordEmbeddingDimension < 0) {
            throw new IllegalArgumentException("pooling config: word_embedding_dimension must be >= 0, found "
                    + wordEmbeddingDimension);
        }
        modes = List.copyOf(set);
    }

    /** One mode, prompt included, no stated dimension. */
    public static PoolingConfig of(PoolingMode mode, boolean normalize) {
        return new PoolingConfig(List.of(mode), normalize, true, 0);
    }

    /**
     * Parses {@link #describe()}'s form: mode names joined by '+', e.g. "mean" or "cls+mean"
     * (names as {@link PoolingMode#fromName(String)} accepts them).
     */
    public static PoolingConfig parse(String modes, boolean normalize) {
        List<PoolingMode> list = new ArrayList<>();
        for (String name : modes.split("\\+", -1)) {
            list.add(PoolingMode.fromName(name));
        }
        return new PoolingConfig(list, normalize, true, 0);
    }

    /** The same configuration with one mode instead of the stated ones (a command-line override). */
    public PoolingConfig withMode(PoolingMode mode) {
        return new PoolingConfig(List.of(mode), normalize, includePrompt, wordEmbeddingDimension);
    }

    /** The same configuration with normalisation switched on or off (a command-line override). */
    public PoolingConfig withNormalize(boolean normalize) {
        return new PoolingConfig(modes, normalize, includePrompt, wordEmbeddingDimension);
    }

    /** The single mode, for the usual one-mode configuration. */
    public PoolingMode mode() {
        if (modes.size() != 1) {
            throw new IllegalStateException("pooling config: expected one mode, found " + describe());
        }
        return modes.get(0);
    }

    /** Sentence vector length for a hidden size H: H per enabled mode. */
    public int outputDimension(int hidden) {
        return hidden * modes.size();
    }

    /** The modes as "mean" or "cls+mean", the form an index manifest records; see {@link #parse}. */
    public String describe() {
        StringBuilder text = new StringBuilder();
        for (PoolingMode mode : modes) {
            text.append(text.isEmpty() ? "" : "+").append(mode.shortName());
        }
        return text.toString();
    }

    /**
     * Reads a model directory's pooling and normalisation as described in the class comment.
     *
     * @throws PoolingConfigException if modules.json or the pooling config is malformed or names a
     *                                module jembed does not run
     * @throws IOException            if a file cannot be read
     */
    public static PoolingConfig read(Path modelDir) throws IOException {
        Path modulesFile = modelDir.resolve("modules.json");
        if (!Files.isRegularFile(modulesFile)) {
            if (!Files.isDirectory(modelDir)) {
                throw new NoSuchFileException(modelDir.toString(), null, "model directory does not exist");
            }
            return of(PoolingMode.MEAN, false);
        }
        JsonNode modules = parseJson(modulesFile);
        if (!modules.isArray()) {
            throw new PoolingConfigException(modulesFile, "modules.json: expected a JSON array of modules, found "
                    + modules.getNodeType());
        }
        String poolingPath = null;
        boolean normalize = false;
        for (int i = 0; i < modules.size(); i++) {
            JsonNode module = modules.get(i);
            String type = module.path("type").asText("");
            String simpleName = type.startsWith(MODULE_PREFIX) ? type.substring(MODULE_PREFIX.length()) : type;
            switch (simpleName) {
                case "Transformer" -> { }
                case "Normalize" -> normalize = true;
                case "Pooling" -> {
                    if (poolingPath != null) {
                        throw new PoolingConfigException(modulesFile, "module " + i
                                + ": expected one Pooling module, found a second");
                    }
                    poolingPath = module.path("path").asText("");
                }
                default -> throw new PoolingConfigException(modulesFile, "module " + i + ": expected type "
                        + MODULE_PREFIX + "Transformer, Pooling or Normalize, found '" + type + "'");
            }
        }
        if (poolingPath == null) {
            throw new PoolingConfigException(modulesFile,
                    "modules: expected a " + MODULE_PREFIX + "Pooling module, found none");
        }
        Path poolingFile = modelDir.resolve(poolingPath).resolve("config.json");
        if (!Files.isRegularFile(poolingFile)) {
            throw new PoolingConfigException(modulesFile, "Pooling module: expected its config at " + poolingFile
                    + ", found no such file");
        }
        return readPoolingFile(poolingFile, normalize);
    }

    private static PoolingConfig readPoolingFile(Path file, boolean normalize) throws IOException {
        JsonNode config = parseJson(file);
        if (!config.isObject()) {
            throw new PoolingConfigException(file, "pooling config: expected a JSON object, found "
                    + config.getNodeType());
        }
        JsonNode promptValue = config.get("include_prompt");
        boolean includePrompt = promptValue == null || bool(file, "include_prompt", promptValue);
        int dimension = dimensionOf(file, config);
        JsonNode modeName = config.get("pooling_mode");
        if (modeName != null && !modeName.isNull()) {
            // sentence-transformers: a pooling_mode string replaces every boolean.
            if (!modeName.isTextual()) {
                throw new PoolingConfigException(file, "pooling_mode: expected a string, found " + modeName);
            }
            try {
                return new PoolingConfig(List.of(PoolingMode.fromName(modeName.textValue())), normalize,
                        includePrompt, dimension);
            } catch (IllegalArgumentException e) {
                throw new PoolingConfigException(file, e.getMessage(), e);
            }
        }
        Set<PoolingMode> modes = EnumSet.noneOf(PoolingMode.class);
        for (Iterator<String> keys = config.fieldNames(); keys.hasNext(); ) {
            String key = keys.next();
            if (key.startsWith("pooling_mode_") && modeForKey(key) == null) {
                throw new PoolingConfigException(file, key + ": expected a known pooling_mode_* key, found this "
                        + "unknown one (a pooling jembed cannot run)");
            }
        }
        for (PoolingMode mode : PoolingMode.values()) {
            JsonNode value = config.get(mode.configKey());
            // Absent keys take sentence-transformers' constructor defaults: only mean is on.
            if (value == null ? mode == PoolingMode.MEAN : bool(file, mode.configKey(), value)) {
                modes.add(mode);
            }
        }
        if (modes.isEmpty()) {
            throw new PoolingConfigException(file, "pooling modes: expected at least one pooling_mode_* true, "
                    + "found all false");
        }
        return new PoolingConfig(List.copyOf(modes), normalize, includePrompt, dimension);
    }

    private static int dimensionOf(Path file, JsonNode config) throws PoolingConfigException {
        JsonNode value = config.get("word_embedding_dimension");
        if (value == null) {
            return 0;
        }
        if (!value.isIntegralNumber() || !value.canConvertToInt() || value.intValue() <= 0) {
            throw new PoolingConfigException(file, "word_embedding_dimension: expected a positive integer, found "
                    + value);
        }
        return value.intValue();
    }

    private static PoolingMode modeForKey(String key) {
        for (PoolingMode mode : PoolingMode.values()) {
            if (mode.configKey().equals(key)) {
                return mode;
            }
        }
        return null;
    }

    private static boolean bool(Path file, String key, JsonNode value) throws PoolingConfigException {
        if (!value.isBoolean()) {
            throw new PoolingConfigException(file, key + ": expected true or false, found " + value);
        }
        return value.booleanValue();
    }

    private static JsonNode parseJson(Path file) throws IOException {
        try {
            return JSON.readTree(file.toFile());
        } catch (JacksonException e) {
            throw new PoolingConfigException(file, "JSON: expected a well-formed document, found a syntax error ("
                    + e.getOriginalMessage() + ")", e);
        }
    }
}
