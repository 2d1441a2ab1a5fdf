package io.jembed.core.model;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.OptionalInt;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * How many tokens (with [CLS] and [SEP]) a model directory embeds per text:
 * sentence-transformers' {@code max_seq_length} (sentence_bert_config.json), capped by
 * {@code max_position_embeddings} (config.json); else {@code max_position_embeddings}.
 * tokenizer.json's own truncation length (128 for all-MiniLM-L6-v2) is not what
 * sentence-transformers uses, so it is not consulted here.
 */
public final class SequenceLength {

    private SequenceLength() {
    }

    /** The length the directory's files give, or empty when neither file says (a tokenizer-only directory). */
    public static OptionalInt of(Path modelDir) throws IOException {
        int positions = intField(modelDir.resolve("config.json"), "max_position_embeddings");
        int seqLength = intField(modelDir.resolve("sentence_bert_config.json"), "max_seq_length");
        if (seqLength > 0) {
            return OptionalInt.of(positions > 0 ? Math.min(seqLength, positions) : seqLength);
        }
        return positions > 0 ? OptionalInt.of(positions) : OptionalInt.empty();
    }

    /** A whole-number field >= 2 of a JSON file, or 0 if the file or the field is absent. */
    private static int intField(Path file, String field) throws IOException {
        if (!Files.isRegularFile(file)) {
            return 0;
        }
        JsonNode node;
        try (InputStream in = Files.newInputStream(file)) {
            node = new ObjectMapper().readTree(in);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IOException(file + ": expected valid JSON, found a syntax error (" + e.getOriginalMessage() + ")", e);
        }
        JsonNode value = node == null ? null : node.get(field);
        if (value == null || value.isNull()) {
            return 0;
        }
        if (!value.isIntegralNumber() || !value.canConvertToInt() || value.asInt() < 2) {
            throw new IOException(file + ": expected " + field + " to be a whole number >= 2, found " + value);
        }
        return value.asInt();
    }
}
