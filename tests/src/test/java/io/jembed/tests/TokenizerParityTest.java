package io.jembed.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.zip.GZIPInputStream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import io.jembed.tokenizer.Encoding;
import io.jembed.tokenizer.WordPieceTokenizer;

/**
 * jembed's tokenizer against Hugging Face tokenizers (the Rust crate, through DJL), on the
 * fixtures tests/generator wrote: every id, offset (UTF-16 chars), token and decoded text must be
 * equal. A mismatch prints the text, the first differing token position and both tokens.
 */
class TokenizerParityTest {

    private static final String FIXTURES = "/fixtures/tokenizer/";
    private static final String TOKENIZER_ENTRY = "all-minilm-l6-v2-tokenizer.json";
    private static final int CODE_POINTS_PER_TEXT = 64;
    private static final int MAX_REPORTED = 20;
    private static final ObjectMapper JSON = new ObjectMapper();

    private static byte[] tokenizerJson;
    private static WordPieceTokenizer tokenizer;

    @BeforeAll
    static void loadDefaultTokenizer() throws IOException {
        Path jar = Requirements.defaultModelArtifact();
        try (ZipFile zip = new ZipFile(jar.toFile())) {
            ZipEntry entry = zip.getEntry(TOKENIZER_ENTRY);
            if (entry == null) {
                throw new IOException("jar entry " + TOKENIZER_ENTRY + ": expected in " + jar + ", found none");
            }
            try (InputStream in = zip.getInputStream(entry)) {
                tokenizerJson = in.readAllBytes();
            }
        }
        tokenizer = WordPieceTokenizer.fromTokenizerJson(new ByteArrayInputStream(tokenizerJson), jar + "!" + TOKENIZER_ENTRY);
    }

    @Test
    void hardTextsMatchTheReference() throws IOException {
        Mismatches mismatches = new Mismatches("hard texts");
        forEachLine("hard-texts.jsonl.gz", line -> {
            String text = line.get("text").asText();
            int maxLength = line.get("max_length").asInt();
            Encoding actual;
            String label = line.get("name").asText();
            if (line.has("text_pair")) {
                String pair = line.get("text_pair").asText();
                actual = tokenizer.encodePair(text, pair, maxLength);
                label += " (pair with \"" + escape(pair, 80) + "\")";
            } else {
                actual = maxLength == 0 ? tokenizer.encode(text) : tokenizer.encode(text, maxLength);
            }
            String difference = difference(line, actual);
            if (difference == null && line.has("type_ids") && !equal(line.get("type_ids"), actual.typeIds())) {
                difference = "type ids differ: expected " + line.get("type_ids") + ", found "
                        + java.util.Arrays.toString(actual.typeIds());
            }
            String decoded = tokenizer.decode(actual.ids());
            if (difference == null && !decoded.equals(line.get("decoded").asText())) {
                difference = "decode differs: expected \"" + escape(line.get("decoded").asText(), 200) + "\", found \""
                        + escape(decoded, 200) + "\"";
            }
            mismatches.check(label, text, difference);
        });
        mismatches.assertNone(3000);
    }

    @Test
    void otherNormalizerSettingsMatchTheReference() throws IOException {
        Map<String, WordPieceTokenizer> byNormalizer = new HashMap<>();
        Mismatches mismatches = new Mismatches("hard texts under other normalizer settings");
        forEachLine("hard-texts-variants.jsonl.gz", line -> {
            JsonNode normalizer = line.get("normalizer");
            WordPieceTokenizer variant = byNormalizer.computeIfAbsent(normalizer.toString(), key -> withNormalizer(normalizer));
            String text = line.get("text").asText();
            int maxLength = line.get("max_length").asInt();
            Encoding actual = maxLength == 0 ? variant.encode(text) : variant.encode(text, maxLength);
            mismatches.check(line.get("name").asText() + " with " + normalizer, text, difference(line, actual));
        });
        mismatches.assertNone(2800);
    }

    @Test
    void everyCodePointMatchesTheReference() throws IOException {
        Mismatches mismatches = new Mismatches("code point texts (\"a\" + c + \"a\" for every Unicode scalar value)");
        forEachLine("codepoints.jsonl.gz", line -> {
            int first = line.get("first").asInt();
            int last = line.get("last").asInt();
            StringBuilder text = new StringBuilder();
            for (int c = first; c <= last; c++) {
                text.append('a').appendCodePoint(c).append("a ");
            }
            Encoding actual = tokenizer.encode(text.toString(), 256);
            mismatches.check(String.format("U+%04X..U+%04X", first, last), text.toString(), difference(line, actual));
        });
        mismatches.assertNone(17_000);
    }

    @Test
    void stsBenchmarkSentencesMatchTheReference() throws IOException {
        Path stsb = Requirements.sharedData("stsb");
        Map<String, List<JsonNode>> rows = new HashMap<>();
        Mismatches mismatches = new Mismatches("STS Benchmark sentences");
        forEachLine("stsb.jsonl.gz", line -> {
            String file = line.get("file").asText();
            List<JsonNode> fileRows = rows.computeIfAbsent(file, name -> readJsonLines(stsb.resolve(name)));
            int lineNumber = line.get("line").asInt();
            String text = fileRows.get(lineNumber - 1).get(line.get("field").asText()).asText();
            Encoding actual = tokenizer.encode(text, 256);
            mismatches.check(file + " line " + lineNumber + " " + line.get("field").asText(), text, difference(line, actual));
        });
        mismatches.assertNone(17_000);
    }

    /** The first difference in ids, offsets or tokens, described; null if equal. */
    private static String difference(JsonNode expected, Encoding actual) {
        JsonNode ids = expected.get("ids");
        JsonNode offsets = expected.get("offsets");
        JsonNode tokens = expected.get("tokens");
        int length = Math.max(ids.size(), actual.length());
        for (int i = 0; i < length; i++) {
            boolean inExpected = i < ids.size();
            boolean inActual = i < actual.length();
            boolean same = inExpected && inActual && ids.get(i).asInt() == actual.id(i)
                    && offsets.get(i).get(0).asInt() == actual.offsetStart(i)
                    && offsets.get(i).get(1).asInt() == actual.offsetEnd(i)
                    && (tokens == null || tokens.get(i).asText().equals(actual.token(i)));
            if (!same) {
                String want = inExpected ? describe(tokens != null ? tokens.get(i).asText() : tokenizer.token(ids.get(i).asInt()),
                        ids.get(i).asInt(), offsets.get(i).get(0).asInt(), offsets.get(i).get(1).asInt()) : "no token";
                String found = inActual ? describe(actual.token(i), actual.id(i), actual.offsetStart(i), actual.offsetEnd(i))
                        : "no token";
                return "first difference at token " + i + ": expected " + want + ", found " + found + " (lengths "
                        + ids.size() + " and " + actual.length() + ")";
            }
        }
        return null;
    }

    private static String describe(String token, int id, int start, int end) {
        return "'" + escape(token, 40) + "' id " + id + " offsets (" + start + ", " + end + ")";
    }

    private static boolean equal(JsonNode expected, int[] actual) {
        if (expected.size() != actual.length) {
            return false;
        }
        for (int i = 0; i < actual.length; i++) {
            if (expected.get(i).asInt() != actual[i]) {
                return false;
            }
        }
        return true;
    }

    private static WordPieceTokenizer withNormalizer(JsonNode normalizer) {
        try {
            ObjectNode variant = (ObjectNode) JSON.readTree(tokenizerJson);
            variant.set("normalizer", normalizer);
            return WordPieceTokenizer.fromTokenizerJson(new ByteArrayInputStream(JSON.writeValueAsBytes(variant)),
                    "tokenizer.json with normalizer " + normalizer);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static void forEachLine(String fixture, Consumer<JsonNode> action) throws IOException {
        try (InputStream resource = TokenizerParityTest.class.getResourceAsStream(FIXTURES + fixture)) {
            assertTrue(resource != null, "fixture " + FIXTURES + fixture + ": expected on the test class path, found none");
            BufferedReader reader = new BufferedReader(new InputStreamReader(new GZIPInputStream(resource),
                    StandardCharsets.UTF_8));
            String line;
            while ((line = reader.readLine()) != null) {
                action.accept(JSON.readTree(line));
            }
        }
    }

    private static List<JsonNode> readJsonLines(Path file) {
        try {
            List<JsonNode> rows = new ArrayList<>();
            for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
                rows.add(JSON.readTree(line));
            }
            return rows;
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** Non-printable and non-ASCII code points as \\u{...}, cut to a length. */
    private static String escape(String text, int maxChars) {
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < text.length() && out.length() < maxChars; ) {
            int c = text.codePointAt(i);
            if (c >= 0x20 && c < 0x7F) {
                out.append((char) c);
            } else {
                out.append(String.format("\\u{%X}", c));
            }
            i += Character.charCount(c);
        }
        return out.length() >= maxChars ? out + "..." : out.toString();
    }

    /** Counts comparisons, prints the first mismatches in full and the totals. */
    private static final class Mismatches {
        private final String what;
        private int checked;
        private final List<String> reports = new ArrayList<>();
        private int count;

        Mismatches(String what) {
            this.what = what;
        }

        void check(String label, String text, String difference) {
            checked++;
            if (difference == null) {
                return;
            }
            count++;
            if (reports.size() < MAX_REPORTED) {
                reports.add(label + ": text \"" + escape(text, 300) + "\"\n    " + difference);
            }
        }

        void assertNone(int minimumChecked) {
            System.out.printf("tokenizer parity, %s: %d of %d equal (ids, offsets%s)%n", what, checked - count, checked,
                    what.startsWith("hard texts") && !what.contains("other") ? ", tokens, type ids, decode" : "");
            reports.forEach(report -> System.out.println("  MISMATCH " + report));
            assertTrue(checked >= minimumChecked, what + ": expected at least " + minimumChecked
                    + " fixture lines, found " + checked);
            assertEquals(0, count, count + " of " + checked + " " + what + " differ from the reference; first: "
                    + (reports.isEmpty() ? "" : reports.get(0)));
        }
    }
}
