package io.jembed.tests;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.jembed.core.EmbedRequest;
import io.jembed.core.EmbedResult;
import io.jembed.core.Embedder;
import io.jembed.tokenizer.Encoding;

/**
 * Token counts and truncation on the default model (max_seq_length 256): texts of exactly 255, 256
 * and 257 tokens, checked against the tokenizer, and the CLI's report and refusal.
 */
class TruncationReportTest {

    @TempDir
    static Path dir;
    static Path model;
    static Embedder embedder;

    @BeforeAll
    static void load() throws IOException {
        model = Requirements.defaultModel();
        embedder = Embedder.load(model);
    }

    @AfterAll
    static void close() {
        if (embedder != null) {
            embedder.close();
        }
    }

    /** A text of exactly n tokens with [CLS] and [SEP] ("word" is one token in the vocabulary). */
    static String tokens(int n) {
        String text = String.join(" ", java.util.Collections.nCopies(n - 2, "word"));
        Encoding encoding = embedder.tokenizer().encode(text);
        assertEquals(n, encoding.length(), "the probe text's own token count");
        return text;
    }

    @Test
    void countsAndFlagsAreRightAt255And256And257Tokens() {
        assertEquals(256, embedder.maxLength());
        EmbedResult result = embedder.embed(EmbedRequest.of(List.of(tokens(255), tokens(256), tokens(257))));
        assertEquals(255, result.tokens(0));
        assertEquals(256, result.tokens(1));
        assertEquals(256, result.tokens(2));
        assertFalse(result.truncated(0));
        assertFalse(result.truncated(1));
        assertTrue(result.truncated(2));
        // Cut at the right, 257 tokens are the 256-token text.
        assertArrayEquals(result.vector(1), result.vector(2));
    }

    @Test
    void theCliReportsHowManyTextsWereCutAndCanRefuseThem() throws IOException {
        Path input = dir.resolve("mixed.jsonl");
        ObjectMapper json = new ObjectMapper();
        List<String> lines = new ArrayList<>();
        int[] sizes = {255, 256, 257, 10, 400};
        for (int i = 0; i < sizes.length; i++) {
            lines.add(json.writeValueAsString(java.util.Map.of("id", i, "text", tokens(sizes[i]))));
        }
        Files.write(input, lines);
        Path output = dir.resolve("out.jsonl");
        CliRun cut = CliRun.run("embed", "--input", input.toString(), "--output", output.toString(),
                "--model", model.toString());
        assertEquals(0, cut.code(), cut.err());
        assertTrue(cut.err().contains("jembed: 2 of 5 texts had more than 256 tokens and were truncated"), cut.err());
        assertEquals(5, Files.readAllLines(output).size());

        Path refused = dir.resolve("refused.jsonl");
        CliRun none = CliRun.run("embed", "--input", input.toString(), "--output", refused.toString(),
                "--truncate", "none", "--model", model.toString());
        assertEquals(1, none.code(), none.err());
        assertTrue(none.err().contains(input + ":3: expected at most 256 tokens (--max-length, [CLS] and [SEP] "
                + "included), found 257"), none.err());
        assertFalse(Files.exists(refused), "no output file after a refusal");

        CliRun bad = CliRun.run("embed", "--input", input.toString(), "--output", refused.toString(),
                "--truncate", "middle", "--model", model.toString());
        assertEquals(2, bad.code(), bad.err());
        assertTrue(bad.err().contains("--truncate: expected right, left, none or error, found 'middle'"), bad.err());
    }
}
