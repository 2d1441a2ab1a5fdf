package io.jembed.core.index;

import java.util.Objects;
import java.util.regex.Pattern;

import io.jembed.core.model.Prompt;
import io.jembed.core.model.Prompts;
import io.jembed.core.pooling.PoolingConfig;

/**
 * What produced an index's vectors: the model (its name, and the sha256 of its weights file, which
 * is what identifies it), the vector dimension, and the pooling and normalisation. Vectors from
 * two specs are not comparable, so an index refuses queries and additions from another spec.
 *
 * @param model       model name, for messages (e.g. "all-MiniLM-L6-v2")
 * @param modelSha256 lowercase hex sha256 of the model's weights file (model.safetensors)
 * @param dimension   floats per vector
 * @param pooling     pooling modes as {@link PoolingConfig#describe()} writes them (e.g. "mean")
 * @param normalize   whether the model L2-normalises its sentence vectors
 * @param prompts     the model's prompts (config_sentence_transformers.json); queries take the query
 *                    prompt from them
 * @param documentPrompt the resolved prompt the documents were embedded with
 */
public record EmbeddingSpec(String model, String modelSha256, int dimension, String pooling, boolean normalize,
                            Prompts prompts, Prompt documentPrompt) {

    private static final Pattern SHA256 = Pattern.compile("[0-9a-f]{64}");

    public EmbeddingSpec {
        if (model == null || model.isBlank()) {
            throw new IllegalArgumentException("embedding spec model: expected a name, found " + quoted(model));
        }
        if (modelSha256 == null || !SHA256.matcher(modelSha256).matches()) {
            throw new IllegalArgumentException("embedding spec model_sha256: expected 64 lowercase hex digits, found "
                    + quoted(modelSha256));
        }
        if (dimension < 1) {
            throw new IllegalArgumentException("embedding spec dimension: expected >= 1, found " + dimension);
        }
        Objects.requireNonNull(pooling, "pooling");
        Objects.requireNonNull(prompts, "prompts");
        Objects.requireNonNull(documentPrompt, "documentPrompt");
        if (!documentPrompt.isResolved()) {
            throw new IllegalArgumentException("embedding spec document prompt: expected its text, found only the name "
                    + documentPrompt.describe());
        }
        pooling = PoolingConfig.parse(pooling, normalize).describe();
    }

    /** A spec without prompts (what a version-1 index records). */
    public EmbeddingSpec(String model, String modelSha256, int dimension, String pooling, boolean normalize) {
        this(model, modelSha256, dimension, pooling, normalize, Prompts.NONE, Prompt.NONE);
    }

    /** The spec of a model with this pooling configuration and prompts, documents embedded with documentPrompt. */
    public static EmbeddingSpec of(String model, String modelSha256, int dimension, PoolingConfig pooling,
                                   Prompts prompts, Prompt documentPrompt) {
        return new EmbeddingSpec(model, modelSha256, dimension, pooling.describe(), pooling.normalize(), prompts,
                documentPrompt);
    }

    /** The same spec with documents embedded under another (resolved) prompt. */
    public EmbeddingSpec withDocumentPrompt(Prompt prompt) {
        return new EmbeddingSpec(model, modelSha256, dimension, pooling, normalize, prompts, prompt);
    }

    /** The prompt queries take by default: the recorded prompts' query prompt (encode_query's rule). */
    public Prompt queryPrompt() {
        return prompts.queryPrompt();
    }

    /** "mean" or "mean+normalize", as messages show the pooling. */
    public String describePooling() {
        return normalize ? pooling + "+normalize" : pooling;
    }

    /** "all-MiniLM-L6-v2 (sha256 53aa5117…)", as messages show the model. */
    public String describeModel() {
        return model + " (sha256 " + modelSha256.substring(0, 12) + "…)";
    }

    private static String quoted(String text) {
        return text == null ? "null" : "'" + text + "'";
    }
}
