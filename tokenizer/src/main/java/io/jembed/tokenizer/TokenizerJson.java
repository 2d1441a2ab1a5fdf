package io.jembed.tokenizer;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * Reads tokenizer.json (and the vocab.txt fallback) into a {@link WordPieceTokenizer}, checking
 * every field it uses. Field names and defaults are those of Hugging Face tokenizers; any
 * component type or option not implemented here is rejected with its JSON path and value.
 */
final class TokenizerJson {

    private static final ObjectMapper JSON = new ObjectMapper();

    private static final String DEFAULT_UNK = "[UNK]";
    private static final String DEFAULT_PREFIX = "##";
    private static final int DEFAULT_MAX_INPUT_CHARS_PER_WORD = 100;
    private static final List<String> BERT_SPECIAL_TOKENS = List.of("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]");

    private final String source;

    private TokenizerJson(String source) {
        this.source = source;
    }

    static WordPieceTokenizer read(InputStream in, String source) throws IOException {
        JsonNode root;
        try {
            root = JSON.readTree(in);
        } catch (JacksonException e) {
            throw new TokenizerFormatException("tokenizer.json", source, "expected JSON, found a parse error ("
                    + e.getOriginalMessage() + ")");
        }
        return new TokenizerJson(source).tokenizer(root);
    }

    static WordPieceTokenizer readVocabTxt(Path file, boolean doLowerCase) throws IOException {
        String source = file.toString();
        List<String> lines = new ArrayList<>();
        try (BufferedReader reader = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            String line;
            while ((line = reader.readLine()) != null) {
                lines.add(stripTrailingWhitespace(line));
            }
        }
        String[] tokens = lines.toArray(String[]::new);
        Map<String, Integer> ids = new HashMap<>();
        for (int id = 0; id < tokens.length; id++) {
            ids.put(tokens[id], id);
        }
        TokenizerJson reader = new TokenizerJson(source);
        int unkId = reader.requireToken(ids, DEFAULT_UNK, "special token " + DEFAULT_UNK);
        int clsId = reader.requireToken(ids, "[CLS]", "special token [CLS]");
        int sepId = reader.requireToken(ids, "[SEP]", "special token [SEP]");
        List<AddedTokens.AddedToken> added = new ArrayList<>();
        for (String special : BERT_SPECIAL_TOKENS) {
            if (ids.containsKey(special)) {
                added.add(new AddedTokens.AddedToken(ids.get(special), special, true));
            }
        }
        Vocabulary vocabulary = new Vocabulary(tokens, ids);
        return new WordPieceTokenizer(vocabulary, new AddedTokens(added),
                BertNormalizer.of(true, true, null, doLowerCase),
                new WordPiece(ids, unkId, DEFAULT_PREFIX, DEFAULT_MAX_INPUT_CHARS_PER_WORD),
                DEFAULT_MAX_INPUT_CHARS_PER_WORD, TemplateProcessing.bert(clsId, sepId),
                WordPieceDecoder.wordPiece(DEFAULT_PREFIX, true), ids.getOrDefault("[PAD]", 0), 0, OptionalInt.empty());
    }

    /** tokenizer_config.json's do_lower_case; true when the file or the field is absent. */
    static boolean readDoLowerCase(Path file) throws IOException {
        if (!Files.isRegularFile(file)) {
            return true;
        }
        JsonNode root;
        try {
            root = JSON.readTree(file.toFile());
        } catch (JacksonException e) {
            throw new TokenizerFormatException("tokenizer_config.json", file.toString(),
                    "expected JSON, found a parse error (" + e.getOriginalMessage() + ")");
        }
        JsonNode value = root.get("do_lower_case");
        if (value == null || value.isNull()) {
            return true;
        }
        if (!value.isBoolean()) {
            throw new TokenizerFormatException("do_lower_case", file.toString(), "expected true or false, found " + value);
        }
        return value.booleanValue();
    }

    private WordPieceTokenizer tokenizer(JsonNode root) throws TokenizerFormatException {
        if (!root.isObject()) {
            throw error("tokenizer.json", "expected an object, found " + describe(root));
        }
        JsonNode modelNode = requireObject(root, "model");
        requireType(modelNode, "model", "WordPiece");
        String unkToken = string(modelNode, "model.unk_token", "unk_token", DEFAULT_UNK);
        String prefix = string(modelNode, "model.continuing_subword_prefix", "continuing_subword_prefix", DEFAULT_PREFIX);
        int maxInputChars = integer(modelNode, "model.max_input_chars_per_word", "max_input_chars_per_word",
                DEFAULT_MAX_INPUT_CHARS_PER_WORD);
        Map<String, Integer> modelIds = vocab(requireObject(modelNode, "vocab"));
        int unkId = requireToken(modelIds, unkToken, "model.unk_token");

        int size = modelIds.values().stream().mapToInt(Integer::intValue).max().orElse(-1) + 1;
        List<AddedTokens.AddedToken> added = addedTokens(root.get("added_tokens"));
        for (AddedTokens.AddedToken token : added) {
            size = Math.max(size, token.id() + 1);
        }
        String[] tokens = new String[size];
        modelIds.forEach((token, id) -> tokens[id] = token);
        Map<String, Integer> ids = new HashMap<>(modelIds);
        for (AddedTokens.AddedToken token : added) {
            tokens[token.id()] = token.content();
            ids.put(token.content(), token.id());
        }
        Vocabulary vocabulary = new Vocabulary(tokens, ids);

        BertNormalizer normalizer = normalizer(root.get("normalizer"));
        preTokenizer(root.get("pre_tokenizer"));
        TemplateProcessing postProcessor = postProcessor(root.get("post_processor"), vocabulary);
        WordPieceDecoder decoder = decoder(root.get("decoder"));
        OptionalInt maxLength = truncation(root.get("truncation"));
        int[] padding = padding(root.get("padding"), vocabulary);
        return new WordPieceTokenizer(vocabulary, new AddedTokens(added), normalizer,
                new WordPiece(modelIds, unkId, prefix, maxInputChars), maxInputChars, postProcessor, decoder,
                padding[0], padding[1], maxLength);
    }

    private Map<String, Integer> vocab(JsonNode vocab) throws TokenizerFormatException {
        Map<String, Integer> ids = new HashMap<>(2 * vocab.size());
        Map<Integer, String> byId = new HashMap<>(2 * vocab.size());
        for (Map.Entry<String, JsonNode> entry : vocab.properties()) {
            JsonNode id = entry.getValue();
            if (!id.canConvertToInt() || !id.isIntegralNumber() || id.intValue() < 0) {
                throw error("model.vocab[\"" + entry.getKey() + "\"]", "expected a non-negative integer id, found "
                        + describe(id));
            }
            if (entry.getKey().isEmpty()) {
                throw error("model.vocab", "expected non-empty tokens, found \"\" with id " + id.intValue());
            }
            String previous = byId.put(id.intValue(), entry.getKey());
            if (previous != null) {
                throw error("model.vocab", "expected one token per id, found \"" + previous + "\" and \""
                        + entry.getKey() + "\" both with id " + id.intValue());
            }
            ids.put(entry.getKey(), id.intValue());
        }
        return ids;
    }

    private List<AddedTokens.AddedToken> addedTokens(JsonNode node) throws TokenizerFormatException {
        List<AddedTokens.AddedToken> tokens = new ArrayList<>();
        if (node == null || node.isNull()) {
            return tokens;
        }
        if (!node.isArray()) {
            throw error("added_tokens", "expected an array, found " + describe(node));
        }
        for (int i = 0; i < node.size(); i++) {
            String path = "added_tokens[" + i + "]";
            JsonNode token = node.get(i);
            if (!token.isObject()) {
                throw error(path, "expected an object, found " + describe(token));
            }
            int id = integer(token, path + ".id", "id", -1);
            String content = string(token, path + ".content", "content", "");
            if (id < 0 || content.isEmpty()) {
                throw error(path, "expected an id >= 0 and non-empty content, found " + token);
            }
            for (String option : List.of("normalized", "single_word", "lstrip", "rstrip")) {
                if (bool(token, path + "." + option, option, false)) {
                    throw error(path + "." + option, "expected false (only raw-text matching of whole tokens is "
                            + "implemented), found true for \"" + content + "\"");
                }
            }
            tokens.add(new AddedTokens.AddedToken(id, content, bool(token, path + ".special", "special", false)));
        }
        return tokens;
    }

    private BertNormalizer normalizer(JsonNode node) throws TokenizerFormatException {
        if (node == null || node.isNull()) {
            return new BertNormalizer(false, false, false, false);
        }
        requireType(node, "normalizer", "BertNormalizer");
        JsonNode strip = node.get("strip_accents");
        Boolean stripAccents = null;
        if (strip != null && !strip.isNull()) {
            stripAccents = bool(node, "normalizer.strip_accents", "strip_accents", false);
        }
        return BertNormalizer.of(bool(node, "normalizer.clean_text", "clean_text", true),
                bool(node, "normalizer.handle_chinese_chars", "handle_chinese_chars", true), stripAccents,
                bool(node, "normalizer.lowercase", "lowercase", true));
    }

    private void preTokenizer(JsonNode node) throws TokenizerFormatException {
        if (node == null || node.isNull()) {
            throw error("pre_tokenizer", "expected type BertPreTokenizer, found null");
        }
        requireType(node, "pre_tokenizer", "BertPreTokenizer");
    }

    private TemplateProcessing postProcessor(JsonNode node, Vocabulary vocabulary) throws TokenizerFormatException {
        if (node == null || node.isNull()) {
            return TemplateProcessing.none();
        }
        String type = requireType(node, "post_processor", "TemplateProcessing", "BertProcessing");
        if (type.equals("BertProcessing")) {
            int clsId = specialPair(node, "cls", vocabulary);
            int sepId = specialPair(node, "sep", vocabulary);
            return TemplateProcessing.bert(clsId, sepId);
        }
        JsonNode specials = requireObject(node, "special_tokens");
        Map<String, int[]> specialIds = new HashMap<>();
        for (Map.Entry<String, JsonNode> entry : specials.properties()) {
            String path = "post_processor.special_tokens[\"" + entry.getKey() + "\"]";
            JsonNode ids = entry.getValue().get("ids");
            JsonNode tokens = entry.getValue().get("tokens");
            if (ids == null || !ids.isArray() || tokens == null || !tokens.isArray() || ids.size() != tokens.size()) {
                throw error(path, "expected ids and tokens arrays of one length, found " + entry.getValue());
            }
            int[] values = new int[ids.size()];
            for (int k = 0; k < ids.size(); k++) {
                String token = tokens.get(k).asText();
                values[k] = ids.get(k).asInt(-1);
                if (vocabulary.id(token) < 0) {
                    throw error(path, "expected special token \"" + token + "\" in the vocabulary, found it missing");
                }
                if (vocabulary.id(token) != values[k]) {
                    throw error(path, "expected id " + vocabulary.id(token) + " (the vocabulary's) for \"" + token
                            + "\", found " + values[k]);
                }
            }
            specialIds.put(entry.getKey(), values);
        }
        return new TemplateProcessing(template(node, "single", specialIds, false),
                template(node, "pair", specialIds, true));
    }

    private List<TemplateProcessing.Piece> template(JsonNode processor, String name, Map<String, int[]> specialIds,
            boolean pair) throws TokenizerFormatException {
        String path = "post_processor." + name;
        JsonNode pieces = processor.get(name);
        if (pieces == null || !pieces.isArray()) {
            throw error(path, "expected an array of SpecialToken and Sequence pieces, found " + describe(pieces));
        }
        List<TemplateProcessing.Piece> template = new ArrayList<>();
        for (int i = 0; i < pieces.size(); i++) {
            JsonNode piece = pieces.get(i);
            String at = path + "[" + i + "]";
            if (piece.has("SpecialToken")) {
                JsonNode special = piece.get("SpecialToken");
                String id = special.path("id").asText();
                int[] ids = specialIds.get(id);
                if (ids == null) {
                    throw error(at, "expected a token listed in post_processor.special_tokens, found \"" + id + "\"");
                }
                template.add(new TemplateProcessing.Piece(TemplateProcessing.Kind.SPECIAL, ids,
                        special.path("type_id").asInt(0)));
            } else if (piece.has("Sequence")) {
                JsonNode sequence = piece.get("Sequence");
                String id = sequence.path("id").asText();
                TemplateProcessing.Kind kind = switch (id) {
                    case "A" -> TemplateProcessing.Kind.SEQUENCE_A;
                    case "B" -> TemplateProcessing.Kind.SEQUENCE_B;
                    default -> throw error(at + ".Sequence.id", "expected A or B, found \"" + id + "\"");
                };
                if (kind == TemplateProcessing.Kind.SEQUENCE_B && !pair) {
                    throw error(at, "expected only sequence A in the single template, found B");
                }
                template.add(new TemplateProcessing.Piece(kind, null, sequence.path("type_id").asInt(0)));
            } else {
                throw error(at, "expected a SpecialToken or Sequence piece, found " + piece);
            }
        }
        long sequences = template.stream().filter(p -> p.kind() != TemplateProcessing.Kind.SPECIAL).count();
        if (sequences != (pair ? 2 : 1)) {
            throw error(path, "expected " + (pair ? "sequences A and B once each" : "sequence A once") + ", found "
                    + pieces);
        }
        return template;
    }

    private int specialPair(JsonNode node, String name, Vocabulary vocabulary) throws TokenizerFormatException {
        String path = "post_processor." + name;
        JsonNode pair = node.get(name);
        if (pair == null || !pair.isArray() || pair.size() != 2) {
            throw error(path, "expected [token, id], found " + describe(pair));
        }
        String token = pair.get(0).asText();
        int id = pair.get(1).asInt(-1);
        if (vocabulary.id(token) != id) {
            throw error(path, "expected special token \"" + token + "\" with id " + id + " in the vocabulary, found "
                    + (vocabulary.id(token) < 0 ? "it missing" : "id " + vocabulary.id(token)));
        }
        return id;
    }

    private WordPieceDecoder decoder(JsonNode node) throws TokenizerFormatException {
        if (node == null || node.isNull()) {
            return WordPieceDecoder.joinWithSpaces();
        }
        requireType(node, "decoder", "WordPiece");
        return WordPieceDecoder.wordPiece(string(node, "decoder.prefix", "prefix", DEFAULT_PREFIX),
                bool(node, "decoder.cleanup", "cleanup", true));
    }

    private OptionalInt truncation(JsonNode node) throws TokenizerFormatException {
        if (node == null || node.isNull()) {
            return OptionalInt.empty();
        }
        String strategy = string(node, "truncation.strategy", "strategy", "LongestFirst");
        if (!strategy.equals("LongestFirst")) {
            throw error("truncation.strategy", "expected LongestFirst, found \"" + strategy + "\"");
        }
        String direction = string(node, "truncation.direction", "direction", "Right");
        if (!direction.equals("Right")) {
            throw error("truncation.direction", "expected Right, found \"" + direction + "\"");
        }
        int maxLength = integer(node, "truncation.max_length", "max_length", -1);
        if (maxLength < 0) {
            throw error("truncation.max_length", "expected a non-negative integer, found " + node.get("max_length"));
        }
        return OptionalInt.of(maxLength);
    }

    /** {pad id, pad type id}: from the padding section, else [PAD] (or 0) and 0. */
    private int[] padding(JsonNode node, Vocabulary vocabulary) throws TokenizerFormatException {
        int defaultPad = Math.max(vocabulary.id("[PAD]"), 0);
        if (node == null || node.isNull()) {
            return new int[] {defaultPad, 0};
        }
        String direction = string(node, "padding.direction", "direction", "Right");
        if (!direction.equals("Right")) {
            throw error("padding.direction", "expected Right, found \"" + direction + "\"");
        }
        int padId = integer(node, "padding.pad_id", "pad_id", defaultPad);
        if (vocabulary.token(padId) == null) {
            throw error("padding.pad_id", "expected an id of the vocabulary, found " + padId);
        }
        return new int[] {padId, integer(node, "padding.pad_type_id", "pad_type_id", 0)};
    }

    private int requireToken(Map<String, Integer> ids, String token, String field) throws TokenizerFormatException {
        Integer id = ids.get(token);
        if (id == null) {
            throw error(field, "expected \"" + token + "\" in the vocabulary, found it missing");
        }
        return id;
    }

    private String requireType(JsonNode node, String path, String... supported) throws TokenizerFormatException {
        JsonNode type = node.get("type");
        String found = type == null ? null : type.asText();
        if (found == null || !Arrays.asList(supported).contains(found)) {
            throw error(path + ".type", "expected " + String.join(" or ", supported) + ", found "
                    + (found == null ? "no type" : "\"" + found + "\" (not implemented)"));
        }
        return found;
    }

    private JsonNode requireObject(JsonNode parent, String name) throws TokenizerFormatException {
        JsonNode node = parent.get(name);
        if (node == null || !node.isObject()) {
            throw error(name, "expected an object, found " + describe(node));
        }
        return node;
    }

    private String string(JsonNode node, String path, String name, String fallback) throws TokenizerFormatException {
        JsonNode value = node.get(name);
        if (value == null || value.isNull()) {
            return fallback;
        }
        if (!value.isTextual()) {
            throw error(path, "expected a string, found " + describe(value));
        }
        return value.textValue();
    }

    private int integer(JsonNode node, String path, String name, int fallback) throws TokenizerFormatException {
        JsonNode value = node.get(name);
        if (value == null || value.isNull()) {
            return fallback;
        }
        if (!value.isIntegralNumber() || !value.canConvertToInt()) {
            throw error(path, "expected an integer, found " + describe(value));
        }
        return value.intValue();
    }

    private boolean bool(JsonNode node, String path, String name, boolean fallback) throws TokenizerFormatException {
        JsonNode value = node.get(name);
        if (value == null || value.isNull()) {
            return fallback;
        }
        if (!value.isBoolean()) {
            throw error(path, "expected true or false, found " + describe(value));
        }
        return value.booleanValue();
    }

    private TokenizerFormatException error(String field, String detail) {
        return new TokenizerFormatException(field, source, detail);
    }

    private static String describe(JsonNode node) {
        if (node == null) {
            return "nothing";
        }
        String text = node.toString();
        return text.length() > 80 ? text.substring(0, 77) + "..." : text;
    }

    /** Rust's {@code str::trim_end}, which the reference applies to each vocab.txt line. */
    private static String stripTrailingWhitespace(String line) {
        int end = line.length();
        while (end > 0 && UnicodeClasses.isWhitespace(line.charAt(end - 1))) {
            end--;
        }
        return line.substring(0, end);
    }
}
