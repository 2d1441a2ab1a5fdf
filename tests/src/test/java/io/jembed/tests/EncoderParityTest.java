package io.jembed.tests;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.zip.GZIPInputStream;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.jembed.core.Embedder;
import io.jembed.core.index.Similarity;
import io.jembed.core.kernels.KernelsProvider;
import io.jembed.tokenizer.Encoding;
import io.jembed.weights.SafetensorsReader;

/**
 * jembed's encoder against the reference (ONNX Runtime running the same all-minilm-l6-v2.onnx,
 * DJL's Rust tokenizer, mean pooling and L2 normalisation; see tests/README.md) on the
 * committed fixtures: token ids, sentence embeddings to 1e-5 and token-level hidden states to
 * 1e-4, with the scalar and the vector kernels, one text at a time and in ragged batches.
 */
class EncoderParityTest {

    /** Per component of a unit vector: float32 summation order differs from ORT's, nothing else. */
    static final double EMBEDDING_TOLERANCE = 1e-5;
    /** Per hidden-state element (values up to ~10 after the last LayerNorm): same reason. */
    static final double HIDDEN_TOLERANCE = 1e-4;

    record Fixture(String id, String category, String text, int[] inputIds, float[] embedding) {
    }

    static final ObjectMapper JSON = new ObjectMapper();
    static List<Fixture> fixtures;
    static Embedder scalar;
    static Embedder vector;

    @BeforeAll
    static void load() throws IOException {
        Path model = Requirements.defaultModel();
        fixtures = readFixtures();
        scalar = Embedder.builder(model).kernels(KernelsProvider.scalar()).build();
        vector = Embedder.builder(model).kernels(KernelsProvider.vector()).build();
    }

    @AfterAll
    static void close() {
        if (scalar != null) {
            scalar.close();
        }
        if (vector != null) {
            vector.close();
        }
    }

    static List<Fixture> readFixtures() throws IOException {
        List<Fixture> list = new ArrayList<>();
        try (InputStream raw = EncoderParityTest.class.getResourceAsStream("/fixtures/encoder/embeddings.jsonl.gz");
             InputStream in = new GZIPInputStream(raw)) {
            for (String line : new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8).split("\n")) {
                if (line.isBlank()) {
                    continue;
                }
                JsonNode node = JSON.readTree(line);
                list.add(new Fixture(node.get("id").asText(), node.get("category").asText(), node.get("text").asText(),
                        ints(node.get("input_ids")), floats(node.get("embedding"))));
            }
        }
        return list;
    }

    static int[] ints(JsonNode array) {
        int[] values = new int[array.size()];
        for (int i = 0; i < values.length; i++) {
            values[i] = array.get(i).asInt();
        }
        return values;
    }

    static float[] floats(JsonNode array) {
        float[] values = new float[array.size()];
        for (int i = 0; i < values.length; i++) {
            values[i] = Float.parseFloat(array.get(i).asText());
        }
        return values;
    }

    Embedder embedder(String kernels) {
        return kernels.equals("scalar") ? scalar : vector;
    }

    @Test
    void tokenIdsEqualTheReference() {
        int mismatches = 0;
        for (Fixture fixture : fixtures) {
            Encoding encoding = vector.tokenizer().encode(fixture.text(), vector.maxLength());
            if (!Arrays.equals(fixture.inputIds(), encoding.ids())) {
                mismatches++;
                System.err.println("token ids differ for " + fixture.id() + ": expected "
                        + Arrays.toString(fixture.inputIds()) + ", found " + Arrays.toString(encoding.ids()));
            }
        }
        assertEquals(0, mismatches, "texts whose token ids differ from the reference");
        System.out.println("encoder parity: token ids of " + fixtures.size() + " texts equal the reference");
    }

    @ParameterizedTest
    @ValueSource(strings = {"scalar", "vector"})
    void sentenceEmbeddingsOneAtATime(String kernels) {
        Embedder embedder = embedder(kernels);
        double worst = 0;
        for (Fixture fixture : fixtures) {
            float[] actual = embedder.embed(fixture.text());
            worst = Math.max(worst, assertClose(fixture, fixture.embedding(), actual, kernels + ", one at a time"));
        }
        System.out.printf("encoder parity (%s, one at a time): %d texts, max |diff| %.3g%n", kernels, fixtures.size(), worst);
    }

    @ParameterizedTest
    @ValueSource(strings = {"scalar", "vector"})
    void sentenceEmbeddingsInRaggedBatches(String kernels) {
        Embedder embedder = embedder(kernels);
        // Batches of uneven size over texts of every length: a text's vector may not depend on its neighbours.
        int[] sizes = {7, 1, 32, 3, 64, 13};
        double worst = 0;
        int from = 0;
        for (int b = 0; from < fixtures.size(); b++) {
            int to = Math.min(fixtures.size(), from + sizes[b % sizes.length]);
            List<Fixture> batch = fixtures.subList(from, to);
            List<Encoding> encodings = new ArrayList<>();
            for (Fixture fixture : batch) {
                encodings.add(embedder.tokenizer().encode(fixture.text(), embedder.maxLength()));
            }
            float[][] vectors = embedder.embedEncoded(encodings);
            for (int i = 0; i < batch.size(); i++) {
                worst = Math.max(worst, assertClose(batch.get(i), batch.get(i).embedding(), vectors[i], kernels + ", batch"));
            }
            from = to;
        }
        System.out.printf("encoder parity (%s, ragged batches): %d texts, max |diff| %.3g%n", kernels, fixtures.size(), worst);
    }

    @ParameterizedTest
    @ValueSource(strings = {"scalar", "vector"})
    void tokenLevelHiddenStates(String kernels) throws IOException {
        Embedder embedder = embedder(kernels);
        JsonNode index;
        try (InputStream in = getClass().getResourceAsStream("/fixtures/encoder/hidden_states.json")) {
            index = JSON.readTree(in);
        }
        byte[] bytes;
        try (InputStream in = getClass().getResourceAsStream("/fixtures/encoder/hidden_states.safetensors")) {
            bytes = in.readAllBytes();
        }
        double worst = 0;
        int checked = 0;
        try (SafetensorsReader reader = SafetensorsReader.wrap(bytes, "hidden_states.safetensors")) {
            for (JsonNode entry : index.get("entries")) {
                String id = entry.get("id").asText();
                int T = entry.get("shape").get(0).asInt();
                int H = entry.get("shape").get(1).asInt();
                float[] expected = reader.floats(id, T, H);
                float[][] actual = embedder.embedTokens(entry.get("text").asText());
                assertEquals(T, actual.length, id + ": tokens");
                for (int t = 0; t < T; t++) {
                    for (int j = 0; j < H; j++) {
                        double diff = Math.abs(expected[t * H + j] - actual[t][j]);
                        worst = Math.max(worst, diff);
                        if (!(diff <= HIDDEN_TOLERANCE)) {
                            fail(id + " (" + kernels + "): token " + t + " feature " + j + " expected " + expected[t * H + j]
                                    + ", found " + actual[t][j] + " (|diff| " + diff + " > " + HIDDEN_TOLERANCE + ")");
                        }
                    }
                }
                checked++;
            }
        }
        assertTrue(checked >= 20, "hidden-state fixtures checked: " + checked);
        System.out.printf("encoder parity (%s): last_hidden_state of %d texts, max |diff| %.3g%n", kernels, checked, worst);
    }

    @Test
    void courseSentencesGiveThePublishedSimilarities() throws IOException {
        JsonNode similarity;
        try (InputStream in = getClass().getResourceAsStream("/fixtures/encoder/similarity.json")) {
            similarity = JSON.readTree(in);
        }
        for (JsonNode pair : similarity.get("pairs")) {
            String a = similarity.get("sentences").get(pair.get("a").asText()).asText();
            String b = similarity.get("sentences").get(pair.get("b").asText()).asText();
            float cosine = Similarity.cosine(vector.embed(a), vector.embed(b));
            double expected = pair.get("expected_4dp").asDouble();
            assertEquals(expected, Math.round(cosine * 1e4) / 1e4, 1e-9, "cos('" + a + "', '" + b + "') = " + cosine);
        }
    }

    @Test
    void changingTheLastTokenChangesTheFirstTokensOutput() {
        float[][] a = vector.embedTokens("The weather was cold");
        float[][] b = vector.embedTokens("The weather was warm");
        assertEquals(a.length, b.length);
        double change = 0;
        for (int j = 0; j < a[0].length; j++) {
            change = Math.max(change, Math.abs(a[1][j] - b[1][j]));
        }
        // "The" (position 1) sees "cold"/"warm" only if attention looks forward; a causal encoder leaves it equal.
        assertTrue(change > 1e-2, "the first word's output moved by only " + change);
    }

    static double assertClose(Fixture fixture, float[] expected, float[] actual, String how) {
        assertEquals(expected.length, actual.length, fixture.id() + ": dimension");
        double worst = 0;
        for (int j = 0; j < expected.length; j++) {
            double diff = Math.abs(expected[j] - actual[j]);
            worst = Math.max(worst, diff);
            if (!(diff <= EMBEDDING_TOLERANCE)) {
                fail(fixture.id() + " [" + fixture.category() + "] (" + how + "): component " + j + " expected "
                        + expected[j] + ", found " + actual[j] + " (|diff| " + diff + " > " + EMBEDDING_TOLERANCE
                        + "); text: " + abbreviate(fixture.text()));
            }
        }
        return worst;
    }

    static String abbreviate(String text) {
        return text.length() <= 80 ? text : text.substring(0, 77) + "...";
    }
}
