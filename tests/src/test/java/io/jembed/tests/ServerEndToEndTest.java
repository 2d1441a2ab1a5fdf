package io.jembed.tests;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.jembed.core.Embedder;
import io.jembed.core.model.Prompt;
import io.jembed.core.server.EmbeddingServer;
import io.jembed.core.server.ServerOptions;

/**
 * {@code jembed serve} with the real models: the requests of TEI's documentation answered in
 * TEI's shapes, and vectors from {@code /embed} and {@code /v1/embeddings} (float and base64),
 * sent by 16 clients at once so they share forward passes, bitwise equal to {@code jembed embed}'s
 * for the same texts, with and without a prompt.
 */
class ServerEndToEndTest {

    static final ObjectMapper JSON = new ObjectMapper();
    static final HttpClient CLIENT = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    @TempDir
    Path dir;

    static JsonNode post(EmbeddingServer server, String path, String body) throws Exception {
        HttpResponse<String> response = CLIENT.send(HttpRequest.newBuilder(server.uri().resolve(path))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, response.statusCode(), path + " " + body + " -> " + response.body());
        return JSON.readTree(response.body());
    }

    static float[] floats(JsonNode array) {
        float[] out = new float[array.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = array.get(i).floatValue();
        }
        return out;
    }

    static float[] base64(String text) {
        byte[] bytes = Base64.getDecoder().decode(text);
        float[] out = new float[bytes.length / 4];
        ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(out);
        return out;
    }

    /**
     * Requests copied from TEI's documentation (huggingface/text-embeddings-inference at
     * 0d124dc9, docs/source/en/quick_tour.md lines 55-58, 98-104 and 160-163; the /similarity and
     * /tokenize bodies from the schema examples in router/src/http/types.rs and docs/openapi.json),
     * answered in the shapes documented there.
     */
    @Test
    void teisDocumentedRequestsGetTeisShapes() throws Exception {
        Path model = Requirements.defaultModel();
        try (Embedder embedder = Embedder.load(model);
             EmbeddingServer server = EmbeddingServer.start(embedder, null, ServerOptions.builder().port(0).build())) {
            // quick_tour.md:55-58: curl 127.0.0.1:8080/embed -X POST -d '{"inputs":"What is Deep Learning?"}'
            JsonNode single = post(server, "/embed", "{\"inputs\":\"What is Deep Learning?\"}");
            assertEquals(1, single.size());
            assertEquals(384, single.get(0).size());
            assertArrayEquals(embedder.embed("What is Deep Learning?"), floats(single.get(0)));

            // quick_tour.md:160-163: {"inputs":["Today is a nice day", "I like you"]}
            JsonNode batch = post(server, "/embed", "{\"inputs\":[\"Today is a nice day\", \"I like you\"]}");
            float[][] expected = embedder.embed(List.of("Today is a nice day", "I like you"));
            assertEquals(2, batch.size());
            assertArrayEquals(expected[0], floats(batch.get(0)));
            assertArrayEquals(expected[1], floats(batch.get(1)));

            // quick_tour.md:98-104: {"input": "What is Deep Learning?", "model": "text-embeddings-inference",
            // "encoding_format": "float"} -> {"object":"list","data":[{"object":"embedding","embedding":[...],
            // "index":0}],"model":...,"usage":{"prompt_tokens":N,"total_tokens":N}} (types.rs:339-365)
            JsonNode openai = post(server, "/v1/embeddings", """
                    {
                        "input": "What is Deep Learning?",
                        "model": "text-embeddings-inference",
                        "encoding_format": "float"
                      }""");
            assertEquals("list", openai.path("object").asText());
            assertEquals(1, openai.path("data").size());
            assertEquals("embedding", openai.path("data").get(0).path("object").asText());
            assertEquals(0, openai.path("data").get(0).path("index").asInt());
            assertArrayEquals(embedder.embed("What is Deep Learning?"), floats(openai.path("data").get(0).path("embedding")));
            assertEquals("all-MiniLM-L6-v2", openai.path("model").asText());
            int tokens = embedder.tokenizer().encode("What is Deep Learning?").length();
            assertEquals(tokens, openai.path("usage").path("prompt_tokens").asInt());
            assertEquals(tokens, openai.path("usage").path("total_tokens").asInt());

            // types.rs:371-374 / openapi.json SimilarityInput example -> [float] (SimilarityResponse)
            JsonNode similarity = post(server, "/similarity", """
                    {"inputs": {"source_sentence": "What is Deep Learning?", "sentences": ["What is Machine Learning?"]}}""");
            assertEquals(1, similarity.size());
            float[][] pair = embedder.embed(List.of("What is Deep Learning?", "What is Machine Learning?"));
            assertEquals(io.jembed.core.index.Similarity.cosine(pair[0], pair[1]), similarity.get(0).floatValue(), 1e-6);

            // openapi.json SimpleToken example: [[{"id": 0, "text": "test", "special": false, "start": 0, "stop": 2}]]
            JsonNode tokenized = post(server, "/tokenize", "{\"inputs\": \"test\"}");
            assertEquals(JSON.readTree("""
                    [[{"id": 101, "text": "[CLS]", "special": true, "start": null, "stop": null},
                      {"id": 3231, "text": "test", "special": false, "start": 0, "stop": 4},
                      {"id": 102, "text": "[SEP]", "special": true, "start": null, "stop": null}]]"""), tokenized);
            assertEquals(JSON.readTree("[\"test\"]"), post(server, "/decode", "{\"ids\": [101, 3231, 102]}"));

            // An error body as TEI writes one (issue huggingface/text-embeddings-inference#394):
            // {"error": "Input validation error: `inputs` must have less than ...", "error_type": "Validation"}
            HttpResponse<String> tooLong = CLIENT.send(HttpRequest.newBuilder(server.uri().resolve("/embed"))
                    .header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString("{\"inputs\": \"" + "word ".repeat(300) + "\", \"truncate\": false}"))
                    .build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(422, tooLong.statusCode());
            assertEquals(JSON.readTree("""
                    {"error": "Input validation error: `inputs` must have less than 256 tokens. Given: 302",
                     "error_type": "Validation"}"""), JSON.readTree(tooLong.body()));
        }
    }

    @Test
    void concurrentRequestsGetTheClisVectorsBitForBit() throws Exception {
        assertSameAsCli(Requirements.defaultModel(), null);
    }

    @Test
    void withAQueryPromptTooOnE5() throws Exception {
        assertSameAsCli(Requirements.catalogueModel("e5-small-v2"), "query");
    }

    /** 64 SQuAD-like and short texts: jembed embed's vectors, then the server's, one text per request, 16 at a time. */
    private void assertSameAsCli(Path model, String promptName) throws Exception {
        List<String> texts = new ArrayList<>();
        String[] subjects = {"The river", "A small cat", "Our new library", "The committee", "Quantum computers",
                "The 1998 season", "Photosynthesis", "München's old town"};
        for (int i = 0; i < 64; i++) {
            texts.add(subjects[i % subjects.length] + " " + "was described at length, ".repeat(1 + (i * 7) % 40)
                    + "and nobody disagreed (" + i + ").");
        }
        Path input = dir.resolve("texts.jsonl");
        StringBuilder lines = new StringBuilder();
        for (int i = 0; i < texts.size(); i++) {
            lines.append(JSON.writeValueAsString(Map.of("id", i, "text", texts.get(i)))).append('\n');
        }
        Files.writeString(input, lines, StandardCharsets.UTF_8);
        Path output = dir.resolve("vectors.jsonl");
        List<String> command = new ArrayList<>(List.of("embed", "--model", model.toString(), "--input", input.toString(),
                "--output", output.toString()));
        if (promptName != null) {
            command.addAll(List.of("--prompt-name", promptName));
        }
        CliRun run = CliRun.run(command.toArray(String[]::new));
        assertEquals(0, run.code(), run.err());
        List<float[]> cli = new ArrayList<>();
        for (String line : Files.readAllLines(output)) {
            cli.add(floats(JSON.readTree(line).get("embedding")));
        }
        try (Embedder embedder = Embedder.load(model);
             EmbeddingServer server = EmbeddingServer.start(embedder, null, ServerOptions.builder().port(0).build());
             ExecutorService clients = Executors.newFixedThreadPool(16)) {
            List<Future<float[][]>> replies = new ArrayList<>();
            for (String text : texts) {
                replies.add(clients.submit(() -> {
                    String prompt = promptName == null ? "" : ", \"prompt_name\": \"" + promptName + "\"";
                    float[] tei = floats(post(server, "/embed", "{\"inputs\": " + JSON.writeValueAsString(text) + prompt + "}").get(0));
                    if (promptName != null) {
                        return new float[][] {tei};
                    }
                    JsonNode openai = post(server, "/v1/embeddings", JSON.writeValueAsString(Map.of("input", List.of(text))));
                    JsonNode b64 = post(server, "/v1/embeddings", JSON.writeValueAsString(Map.of("input", text,
                            "encoding_format", "base64")));
                    return new float[][] {tei, floats(openai.path("data").get(0).path("embedding")),
                            base64(b64.path("data").get(0).path("embedding").asText())};
                }));
            }
            for (int i = 0; i < texts.size(); i++) {
                float[][] got = replies.get(i).get();
                for (float[] vector : got) {
                    assertArrayEquals(cli.get(i), vector, "text " + i);
                }
                if (promptName != null) {
                    assertArrayEquals(embedder.embed(texts.get(i), Prompt.named(promptName)), got[0]);
                }
            }
            String metrics = CLIENT.send(HttpRequest.newBuilder(server.uri().resolve("/metrics")).build(),
                    HttpResponse.BodyHandlers.ofString()).body();
            assertTrue(metrics.contains("te_batch_next_size_count"), metrics);
        }
    }
}
