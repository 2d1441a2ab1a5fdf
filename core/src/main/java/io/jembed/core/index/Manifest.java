package io.jembed.core.index;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Locale;
import java.util.Objects;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

import io.jembed.core.model.Prompt;
import io.jembed.core.model.Prompts;

/**
 * An index directory's {@code manifest.json}: what produced the vectors, which index type searches
 * them, and the segments that hold them. Writing a new manifest is the moment a write to the
 * directory takes effect (see {@link IndexStore}); the files it names are never changed after.
 *
 * <pre>{@code
 * {
 *   "format": "jembed-index",
 *   "format_version": 3,
 *   "model": "all-MiniLM-L6-v2",
 *   "model_sha256": "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db",
 *   "dimension": 384,
 *   "pooling": "mean",
 *   "normalize": true,
 *   "prompts": {"query": "query: ", "document": "passage: "},
 *   "default_prompt_name": null,
 *   "document_prompt": {"name": "document", "text": "passage: "},
 *   "index_type": "flat",
 *   "index_parameters": {},
 *   "quantization": "none",
 *   "chunking": {"tokens": 256, "overlap": 128},
 *   "generation": 3,
 *   "count": 215,
 *   "segments": [
 *     {"segment": 1, "documents": 200, "rows": 610, "max_rows_per_document": 7,
 *      "vectors_file": "vectors.1.safetensors", "vectors_bytes": 938000,
 *      "documents_file": "documents.1.jsonl", "documents_bytes": 41023,
 *      "deleted": 5, "deletions_file": "deletions.1.3.bin", "deletions_bytes": 25},
 *     {"segment": 3, "documents": 20, "rows": 20, "max_rows_per_document": 1, ...,
 *      "deleted": 0, "deletions_file": null, "deletions_bytes": 0, "index_files": null}
 *   ]
 * }
 * }</pre>
 *
 * <p>{@code count} is the number of live documents: every segment's documents minus its deleted
 * ones. A segment is numbered by the generation that wrote it; a row is one vector (a document, or
 * one window of it when {@code chunking} is set: null when documents are embedded whole).
 *
 * <p>{@code index_parameters} are the index type's settings as {@link IndexType#parameters} completed
 * them (e.g. hnsw's {@code {"m": "16", "ef_construction": "100", "quantize": "none"}}); a segment's
 * {@code index_files} names the directory of the type's own files for it (hnsw's graph), null for a
 * type that keeps none (flat). Manifests of version 3 written before these two fields read as
 * flat, with none.
 *
 * <p>Version 3 added segments, deletions, chunking and the index type; version 2 added the prompts:
 * the model's ({@code prompts}, {@code default_prompt_name}, as its config_sentence_transformers.json
 * has them) and the one the documents were embedded with ({@code document_prompt}; name null for a
 * literal prompt, text "" for none). Versions 1 and 2 (one {@code vectors_file} and
 * {@code documents_file}, no prompts in version 1) are read as one segment numbered by their
 * generation, of a flat index; they are rewritten as version 3 by the next write.
 *
 * @param formatVersion layout version; this jembed writes {@value #FORMAT_VERSION} and reads 1 and 2 too
 * @param spec          model, dimension, pooling, normalisation and prompts of the vectors
 * @param indexType     the {@link IndexType} name: "flat", or "hnsw" with the jembed-lucene module
 * @param indexParameters the index type's settings, names and values as text, in a fixed order
 * @param quantization  scan storage; INT8 segments also hold the int8 copy
 * @param chunking      how documents were cut into windows, or null for whole documents
 * @param generation    1 for the first write, +1 for each later one
 * @param segments      the segments, in row order
 */
public record Manifest(int formatVersion, EmbeddingSpec spec, String indexType, Map<String, String> indexParameters,
                       Quantization quantization, Chunking chunking, long generation, List<Segment> segments) {

    /** The value of the "format" field. */
    public static final String FORMAT = "jembed-index";
    /** The layout version this jembed writes; it reads 1 and 2 as well. */
    public static final int FORMAT_VERSION = 3;

    /**
     * Windows of a document: {@code tokens} tokens each (specials and prompt not counted), each
     * starting {@code tokens - overlap} tokens after the previous one.
     */
    public record Chunking(int tokens, int overlap) {
        public Chunking {
            if (tokens < 1 || overlap < 0 || overlap >= tokens) {
                throw new IllegalArgumentException("chunking: expected tokens >= 1 and 0 <= overlap < tokens, found "
                        + tokens + " tokens, overlap " + overlap);
            }
        }
    }

    /**
     * One immutable segment: its rows' vectors (safetensors), its documents (JSONL), and the set of
     * its documents deleted since (a bitset file, replaced by a new file on each change).
     *
     * @param id                 the generation that wrote it; its file names carry it
     * @param documents          documents in it, deleted ones included
     * @param rows               vectors in it (= documents unless chunked)
     * @param maxRowsPerDocument the most windows any one of its documents has (1 unless chunked)
     * @param deleted            how many of its documents are deleted
     * @param deletionsFile      the bitset of deleted documents, null when none is
     * @param indexFiles         the directory of the index type's files for this segment, null when it has none
     */
    public record Segment(long id, int documents, int rows, int maxRowsPerDocument, String vectorsFile,
                          long vectorsBytes, String documentsFile, long documentsBytes, int deleted,
                          String deletionsFile, long deletionsBytes, String indexFiles) {
        public Segment {
            if (id < 1 || documents < 0 || rows < documents || maxRowsPerDocument < 1 || deleted < 0
                    || deleted > documents || vectorsBytes < 0 || documentsBytes < 0 || deletionsBytes < 0) {
                throw new IllegalArgumentException("manifest segment " + id + ": expected segment >= 1, rows >= "
                        + "documents >= deleted >= 0, max_rows_per_document >= 1 and sizes >= 0, found documents "
                        + documents + ", rows " + rows + ", max_rows_per_document " + maxRowsPerDocument
                        + ", deleted " + deleted);
            }
            checkFileName("segment " + id + " vectors_file", vectorsFile);
            checkFileName("segment " + id + " documents_file", documentsFile);
            if (deleted > 0 || deletionsFile != null) {
                checkFileName("segment " + id + " deletions_file", deletionsFile);
            }
            if (indexFiles != null) {
                checkFileName("segment " + id + " index_files", indexFiles);
            }
        }

        /** Documents not deleted. */
        public int live() {
            return documents - deleted;
        }

        /** This segment with another deletion set. */
        Segment withDeletions(int deletedCount, String file, long bytes) {
            return new Segment(id, documents, rows, maxRowsPerDocument, vectorsFile, vectorsBytes, documentsFile,
                    documentsBytes, deletedCount, file, bytes, indexFiles);
        }

        /** This segment with the index type's files for it. */
        Segment withIndexFiles(String directory) {
            return new Segment(id, documents, rows, maxRowsPerDocument, vectorsFile, vectorsBytes, documentsFile,
                    documentsBytes, deleted, deletionsFile, deletionsBytes, directory);
        }
    }

    public Manifest {
        Objects.requireNonNull(spec, "spec");
        Objects.requireNonNull(indexType, "indexType");
        indexParameters = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(indexParameters));
        Objects.requireNonNull(quantization, "quantization");
        segments = List.copyOf(segments);
        if (generation < 1) {
            throw new IllegalArgumentException("manifest: expected generation >= 1, found " + generation);
        }
        java.util.Set<Long> ids = new java.util.HashSet<>();
        long rows = 0;
        for (Segment segment : segments) {
            if (!ids.add(segment.id()) || segment.id() > generation) {
                throw new IllegalArgumentException("manifest segments: expected distinct numbers up to the generation "
                        + generation + ", found segment " + segment.id() + (ids.contains(segment.id()) ? " twice" : ""));
            }
            rows += segment.rows();
        }
        if (rows > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("manifest: expected at most " + (Integer.MAX_VALUE - 8)
                    + " rows in all, found " + rows);
        }
    }

    /** Live documents: every segment's minus its deleted. */
    public int count() {
        int count = 0;
        for (Segment segment : segments) {
            count += segment.live();
        }
        return count;
    }

    /** Rows (vectors) stored, deleted documents' included. */
    public int rows() {
        int rows = 0;
        for (Segment segment : segments) {
            rows += segment.rows();
        }
        return rows;
    }

    /** Deleted documents still stored (what {@code jembed compact} removes). */
    public int deleted() {
        int deleted = 0;
        for (Segment segment : segments) {
            deleted += segment.deleted();
        }
        return deleted;
    }

    /** A plain file name: the manifest must not point outside its directory. */
    private static void checkFileName(String field, String name) {
        if (name == null || name.isEmpty() || name.startsWith(".") || name.contains("/") || name.contains("\\")) {
            throw new IllegalArgumentException("manifest " + field + ": expected a file name inside the index "
                    + "directory, found " + (name == null ? "none" : "'" + name + "'"));
        }
    }

    /** The manifest as JSON (always the current version), fields in the documented order. */
    public ObjectNode toJson() {
        ObjectNode json = JsonNodeFactory.instance.objectNode();
        json.put("format", FORMAT);
        json.put("format_version", FORMAT_VERSION);
        json.put("model", spec.model());
        json.put("model_sha256", spec.modelSha256());
        json.put("dimension", spec.dimension());
        json.put("pooling", spec.pooling());
        json.put("normalize", spec.normalize());
        ObjectNode prompts = json.putObject("prompts");
        spec.prompts().prompts().forEach(prompts::put);
        json.put("default_prompt_name", spec.prompts().defaultPromptName());
        ObjectNode document = json.putObject("document_prompt");
        document.put("name", spec.documentPrompt().name());
        document.put("text", spec.documentPrompt().text());
        json.put("index_type", indexType);
        ObjectNode parameters = json.putObject("index_parameters");
        indexParameters.forEach(parameters::put);
        json.put("quantization", quantization.name().toLowerCase(Locale.ROOT));
        if (chunking == null) {
            json.putNull("chunking");
        } else {
            json.putObject("chunking").put("tokens", chunking.tokens()).put("overlap", chunking.overlap());
        }
        json.put("generation", generation);
        json.put("count", count());
        ArrayNode list = json.putArray("segments");
        for (Segment segment : segments) {
            ObjectNode entry = list.addObject();
            entry.put("segment", segment.id());
            entry.put("documents", segment.documents());
            entry.put("rows", segment.rows());
            entry.put("max_rows_per_document", segment.maxRowsPerDocument());
            entry.put("vectors_file", segment.vectorsFile());
            entry.put("vectors_bytes", segment.vectorsBytes());
            entry.put("documents_file", segment.documentsFile());
            entry.put("documents_bytes", segment.documentsBytes());
            entry.put("deleted", segment.deleted());
            entry.put("deletions_file", segment.deletionsFile());
            entry.put("deletions_bytes", segment.deletionsBytes());
            entry.put("index_files", segment.indexFiles());
        }
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
        if (version > FORMAT_VERSION) {
            throw new IndexFormatException(IndexFormatException.Reason.UNSUPPORTED_VERSION, dir,
                    "manifest.json format_version: expected 1 to " + FORMAT_VERSION + ", found " + version
                            + " (written by a newer jembed)");
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
            long generation = integer(json, "generation", dir, 1, Long.MAX_VALUE);
            if (version < 3) {
                // One generation's files: one segment numbered by it, nothing deleted, whole documents.
                int count = (int) integer(json, "count", dir, 0, Integer.MAX_VALUE);
                Segment only = new Segment(generation, count, count, 1, text(json, "vectors_file", dir),
                        integer(json, "vectors_bytes", dir, 0, Long.MAX_VALUE), text(json, "documents_file", dir),
                        integer(json, "documents_bytes", dir, 0, Long.MAX_VALUE), 0, null, 0, null);
                return new Manifest(version, spec, FlatIndex.TYPE, Map.of(), quantization, null, generation,
                        List.of(only));
            }
            String indexType = text(json, "index_type", dir);
            Map<String, String> indexParameters = indexParameters(json, dir);
            Chunking chunking = chunking(json, dir);
            JsonNode list = json.get("segments");
            if (list == null || !list.isArray()) {
                throw bad(dir, "manifest.json field 'segments': expected an array, found " + describe(list));
            }
            List<Segment> segments = new ArrayList<>();
            for (JsonNode entry : list) {
                if (!entry.isObject()) {
                    throw bad(dir, "manifest.json segments: expected objects, found " + entry);
                }
                JsonNode deletionsFile = entry.get("deletions_file");
                if (deletionsFile == null || !(deletionsFile.isNull() || deletionsFile.isTextual())) {
                    throw bad(dir, "manifest.json segment field 'deletions_file': expected null or a file name, found "
                            + describe(deletionsFile));
                }
                JsonNode indexFiles = entry.get("index_files");
                if (indexFiles != null && !(indexFiles.isNull() || indexFiles.isTextual())) {
                    throw bad(dir, "manifest.json segment field 'index_files': expected null or a directory name, "
                            + "found " + indexFiles);
                }
                segments.add(new Segment(integer(entry, "segment", dir, 1, Long.MAX_VALUE),
                        (int) integer(entry, "documents", dir, 0, Integer.MAX_VALUE),
                        (int) integer(entry, "rows", dir, 0, Integer.MAX_VALUE),
                        (int) integer(entry, "max_rows_per_document", dir, 1, Integer.MAX_VALUE),
                        text(entry, "vectors_file", dir), integer(entry, "vectors_bytes", dir, 0, Long.MAX_VALUE),
                        text(entry, "documents_file", dir), integer(entry, "documents_bytes", dir, 0, Long.MAX_VALUE),
                        (int) integer(entry, "deleted", dir, 0, Integer.MAX_VALUE),
                        deletionsFile.isNull() ? null : deletionsFile.textValue(),
                        integer(entry, "deletions_bytes", dir, 0, Long.MAX_VALUE),
                        indexFiles == null || indexFiles.isNull() ? null : indexFiles.textValue()));
            }
            Manifest manifest = new Manifest(version, spec, indexType, indexParameters, quantization, chunking,
                    generation, segments);
            long count = integer(json, "count", dir, 0, Integer.MAX_VALUE);
            if (count != manifest.count()) {
                throw bad(dir, "manifest.json field 'count': expected " + manifest.count()
                        + " (the segments' documents minus their deleted), found " + count);
            }
            return manifest;
        } catch (IllegalArgumentException e) {
            throw new IndexFormatException(IndexFormatException.Reason.BAD_MANIFEST, dir, e.getMessage(), e);
        }
    }

    /** Absent in the version 3 manifests written before index types had settings: none. */
    private static Map<String, String> indexParameters(JsonNode json, Path dir) throws IndexFormatException {
        JsonNode node = json.get("index_parameters");
        Map<String, String> parameters = new LinkedHashMap<>();
        if (node == null) {
            return parameters;
        }
        if (!node.isObject()) {
            throw bad(dir, "manifest.json field 'index_parameters': expected an object of name: value, found " + node);
        }
        for (Map.Entry<String, JsonNode> parameter : node.properties()) {
            if (!parameter.getValue().isTextual()) {
                throw bad(dir, "manifest.json field 'index_parameters." + parameter.getKey() + "': expected a string, "
                        + "found " + parameter.getValue());
            }
            parameters.put(parameter.getKey(), parameter.getValue().textValue());
        }
        return parameters;
    }

    private static Chunking chunking(JsonNode json, Path dir) throws IndexFormatException {
        JsonNode node = json.get("chunking");
        if (node != null && node.isNull()) {
            return null;
        }
        if (node == null || !node.isObject()) {
            throw bad(dir, "manifest.json field 'chunking': expected null or {\"tokens\": N, \"overlap\": M}, found "
                    + describe(node));
        }
        return new Chunking((int) integer(node, "tokens", dir, 1, Integer.MAX_VALUE),
                (int) integer(node, "overlap", dir, 0, Integer.MAX_VALUE));
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
