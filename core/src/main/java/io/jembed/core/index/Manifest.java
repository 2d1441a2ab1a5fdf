package io.jembed.core.index;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Locale;
import java.util.Objects;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

import io.jembed.core.model.Prompt;
import io.jembed.core.model.Prompts;

/**
 * An index directory's {@code manifest.json}: what produced the vectors, how many there are, and
 * which files of the directory hold them. Writing a new manifest is the moment a write to the
 * directory takes effect (see {@link IndexStore}); the files it names are never changed after.
 *
 * <pre>{@code
 * {
 *   "format": "jembed-index",
 *   "format_version": 2,
 *   "model": "all-MiniLM-L6-v2",
 *   "model_sha256": "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db",
 *   "dimension": 384,
 *   "pooling": "mean",
 *   "normalize": true,
 *   "prompts": {"query": "query: ", "document": "passage: "},
 *   "default_prompt_name": null,
 *   "document_prompt": {"name": "document", "text": "passage: "},
 *   "count": 220,
 *   "quantization": "none",
 *   "generation": 3,
 *   "vectors_file": "vectors.3.safetensors",
 *   "vectors_bytes": 338000,
 *   "documents_file": "documents.3.jsonl",
 *   "documents_bytes": 41023
 * }
 * }</pre>
 *
 * <p>Version 2 added the prompts: the model's ({@code prompts}, {@code default_prompt_name}, as its
 * config_sentence_transformers.json has them) and the one the documents were embedded with
 * ({@code document_prompt}; name null for a literal prompt, text "" for none). Version 1 manifests
 * (no prompts) are read as an index built without prompts.
 *
 * @param formatVersion  layout version; this jembed writes {@value #FORMAT_VERSION} and reads 1 too
 * @param spec           model, dimension, pooling and normalisation of the vectors
 * @param count          number of documents and vectors
 * @param quantization   scan storage; INT8 files also hold the int8 copy
 * @param generation     1 for the first write, +1 for each later one
 * @param vectorsFile    name of the safetensors file in the directory
 * @param vectorsBytes   its exact size, so a truncated or replaced file is detected before use
 * @param documentsFile  name of the JSONL file in the directory
 * @param documentsBytes its exact size
 */
public record Manifest(int formatVersion, EmbeddingSpec spec, int count, Quantization quantization, long generation,
                       String vectorsFile, long vectorsBytes, String documentsFile, long documentsBytes) {

    /** The value of the "format" field. */
    public static final String FORMAT = "jembed-index";
    /** The layout version this jembed writes; it reads 1 as well. */
    public static final int FORMAT_VERSION = 2;

    public Manifest {
        Objects.requireNonNull(spec, "spec");
        Objects.requireNonNull(quantization, "quantization");
        if (count < 0 || generation < 1 || vectorsBytes < 0 || documentsBytes < 0) {
            throw new IllegalArgumentException("manifest: expected count >= 0, generation >= 1 and sizes >= 0, found "
                    + "count " + count + ", generation " + generation + ", sizes " + vectorsBytes + " and "
                    + documentsBytes);
        }
        checkFileName("vectors_file", vectorsFile);
        checkFileName("documents_file", documentsFile);
    }

    /** A plain file name: the manifest must not point outside its directory. */
    private static void checkFileName(String field, String name) {
        if (name == null || name.isEmpty() || name.startsWith(".") || name.contains("/") || name.contains("\\")) {
            throw new IllegalArgumentException("manifest " + field + ": expected a file name inside the index "
                    + "directory, found " + (name == null ? "none" : "'" + name + "'"));
        }
    }

    /** The manifest as JSON, fields in the documented order. */
    public ObjectNode toJson() {
        ObjectNode json = JsonNodeFactory.instance.objectNode();
        json.put("format", FORMAT);
        json.put("format_version", formatVersion);
        json.put("model", spec.model());
        json.put("model_sha256", spec.modelSha256());
        json.put("dimension", spec.dimension());
        json.put("pooling", spec.pooling());
        json.put("normalize", spec.normalize());
        if (formatVersion >= 2) {
            ObjectNode prompts = json.putObject("prompts");
            spec.prompts().prompts().forEach(prompts::put);
            json.put("default_prompt_name", spec.prompts().defaultPromptName());
            ObjectNode document = json.putObject("document_prompt");
            document.put("name", spec.documentPrompt().name());
            document.put("text", spec.documentPrompt().text());
        }
        json.put("count", count);
        json.put("quantization", quantization.name().toLowerCase(Locale.ROOT));
        json.put("generation", generation);
        json.put("vectors_file", vectorsFile);
        json.put("vectors_bytes", vectorsBytes);
        json.put("documents_file", documentsFile);
        json.put("documents_bytes", documentsBytes);
        return json;
    }

    /**
     * Reads a manifest's JSON.
     *
     * @param dir the index directory, for messages
     * @throws IndexFormatException NOT_AN_INDEX if "format" is not {@value #FORMAT},
     *                              UNSUPPORTED_VERSION for a newer format_version, BAD_MANIFEST for
     *                              a missing field or a bad value
     */
    public static Manifest fromJson(JsonNode json, Path dir) throws IndexFormatException {
        if (!json.isObject()) {
            throw bad(dir, "manifest.json: expected a JSON object, found " + json.getNodeType());
        }
        JsonNode format = json.get("format");
        if (format == null || !FORMAT.equals(format.asText())) {
            throw new IndexFormatException(IndexFormatException.Reason.NOT_AN_INDEX, dir, "manifest.json field "
                    + "'format': expected \"" + FORMAT + "\", found " + (format == null ? "none" : format));
        }
        int version = (int) integer(json, "format_version", dir, 1, Integer.MAX_VALUE);
        if (version != FORMAT_VERSION && version != 1) {
            throw new IndexFormatException(IndexFormatException.Reason.UNSUPPORTED_VERSION, dir,
                    "manifest.json format_version: expected 1 or " + FORMAT_VERSION + ", found " + version
                            + (version > FORMAT_VERSION ? " (written by a newer jembed)" : ""));
        }
        String quantizationName = text(json, "quantization", dir);
        Quantization quantization = null;
        for (Quantization q : Quantization.values()) {
            if (q.name().toLowerCase(Locale.ROOT).equals(quantizationName)) {
                quantization = q;
            }
        }
        if (quantization == null) {
            throw bad(dir, "manifest.json field 'quantization': expected \"none\" or \"int8\", found \""
                    + quantizationName + "\"");
        }
        try {
            Prompts prompts = version >= 2 ? prompts(json, dir) : Prompts.NONE;
            Prompt documentPrompt = version >= 2 ? documentPrompt(json, dir) : Prompt.NONE;
            EmbeddingSpec spec = new EmbeddingSpec(text(json, "model", dir), text(json, "model_sha256", dir),
                    (int) integer(json, "dimension", dir, 1, Integer.MAX_VALUE), text(json, "pooling", dir),
                    bool(json, "normalize", dir), prompts, documentPrompt);
            return new Manifest(version, spec, (int) integer(json, "count", dir, 0, Integer.MAX_VALUE), quantization,
                    integer(json, "generation", dir, 1, Long.MAX_VALUE), text(json, "vectors_file", dir),
                    integer(json, "vectors_bytes", dir, 0, Long.MAX_VALUE), text(json, "documents_file", dir),
                    integer(json, "documents_bytes", dir, 0, Long.MAX_VALUE));
        } catch (IllegalArgumentException e) {
            throw new IndexFormatException(IndexFormatException.Reason.BAD_MANIFEST, dir, e.getMessage(), e);
        }
    }

    private static Prompts prompts(JsonNode json, Path dir) throws IndexFormatException {
        JsonNode node = json.get("prompts");
        if (node == null || !node.isObject()) {
            throw bad(dir, "manifest.json field 'prompts': expected an object of name: text, found " + describe(node));
        }
        Map<String, String> prompts = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> prompt : node.properties()) {
            if (!prompt.getValue().isTextual()) {
                throw bad(dir, "manifest.json field 'prompts." + prompt.getKey() + "': expected a string, found "
                        + prompt.getValue());
            }
            prompts.put(prompt.getKey(), prompt.getValue().textValue());
        }
        JsonNode defaultName = json.get("default_prompt_name");
        if (defaultName != null && !defaultName.isNull() && !defaultName.isTextual()) {
            throw bad(dir, "manifest.json field 'default_prompt_name': expected null or a string, found " + defaultName);
        }
        return new Prompts(prompts, defaultName == null || defaultName.isNull() ? null : defaultName.textValue());
    }

    private static Prompt documentPrompt(JsonNode json, Path dir) throws IndexFormatException {
        JsonNode node = json.get("document_prompt");
        JsonNode name = node == null ? null : node.get("name");
        JsonNode text = node == null ? null : node.get("text");
        if (node == null || !node.isObject() || text == null || !text.isTextual()
                || name == null || !(name.isNull() || name.isTextual())) {
            throw bad(dir, "manifest.json field 'document_prompt': expected {\"name\": null or a string, \"text\": "
                    + "a string}, found " + describe(node));
        }
        return name.isNull() ? Prompt.text(text.textValue()) : new Prompt(name.textValue(), text.textValue());
    }

    private static IndexFormatException bad(Path dir, String detail) {
        return new IndexFormatException(IndexFormatException.Reason.BAD_MANIFEST, dir, detail);
    }

    private static String text(JsonNode json, String field, Path dir) throws IndexFormatException {
        JsonNode value = json.get(field);
        if (value == null || !value.isTextual()) {
            throw bad(dir, "manifest.json field '" + field + "': expected a string, found " + describe(value));
        }
        return value.textValue();
    }

    private static long integer(JsonNode json, String field, Path dir, long min, long max) throws IndexFormatException {
        JsonNode value = json.get(field);
        if (value == null || !value.isIntegralNumber() || !value.canConvertToLong()
                || value.longValue() < min || value.longValue() > max) {
            throw bad(dir, "manifest.json field '" + field + "': expected an integer in [" + min + ", " + max
                    + "], found " + describe(value));
        }
        return value.longValue();
    }

    private static boolean bool(JsonNode json, String field, Path dir) throws IndexFormatException {
        JsonNode value = json.get(field);
        if (value == null || !value.isBoolean()) {
            throw bad(dir, "manifest.json field '" + field + "': expected true or false, found " + describe(value));
        }
        return value.booleanValue();
    }

    private static String describe(JsonNode value) {
        return value == null ? "none" : value.toString();
    }
}
