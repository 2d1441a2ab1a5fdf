package io.jembed.core.server;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;

import io.jembed.core.Embedder;
import io.jembed.core.index.Document;
import io.jembed.core.index.DocumentFilter;
import io.jembed.core.model.Prompt;
import io.jembed.core.model.TinyModelDirectory;
import io.jembed.core.search.SemanticSearch;
import io.jembed.tokenizer.TruncationDirection;

/**
 * Every route of {@code jembed serve} and every error case, on the tiny random BERT (max length
 * 24, 32 dimensions, prompts "query : " / "passage : "), against an ephemeral loopback port.
 * Vectors are compared to {@link Embedder}'s bit for bit.
 */
class EmbeddingServerTest {

    @TempDir
    static Path dir;

    static final ObjectMapper JSON = new ObjectMapper();
    static final HttpClient CLIENT = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    static Embedder embedder;
    static SemanticSearch search;
    static EmbeddingServer server;

    @BeforeAll
    static void start() throws IOException {
        embedder = Embedder.builder(TinyModelDirectory.write(dir)).threads(2).build();
        search = SemanticSearch.create(embedder);
        search.index(List.of(Document.of("d1", "the cat sat on the mat"), Document.of("d2", "a dog ran"),
                Document.of("d3", "hello world")));
        server = EmbeddingServer.start(embedder, search, ServerOptions.builder().port(0).maxClientBatchSize(4).build());
    }

    @AfterAll
    static void stop() {
        server.close();
        search.close();
        embedder.close();
    }

    record Reply(int status, String body, HttpResponse<String> response) {
        JsonNode json() throws IOException {
            return JSON.readTree(body);
        }
    }

    static Reply post(EmbeddingServer to, String path, String body) throws Exception {
        return send(to, HttpRequest.newBuilder(to.uri().resolve(path)).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body)));
    }

    static Reply post(String path, String body) throws Exception {
        return post(server, path, body);
    }

    static Reply get(String path) throws Exception {
        return send(server, HttpRequest.newBuilder(server.uri().resolve(path)).GET());
    }

    static Reply send(EmbeddingServer to, HttpRequest.Builder request) throws Exception {
        HttpResponse<String> response = CLIENT.send(request.build(), HttpResponse.BodyHandlers.ofString());
        return new Reply(response.statusCode(), response.body(), response);
    }

    static float[] floats(JsonNode array) {
        float[] out = new float[array.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = array.get(i).floatValue();
        }
        return out;
    }

    /** status, error_type and a piece of the message of a TEI error body. */
    static void assertError(Reply reply, int status, String type, String messagePart) throws IOException {
        assertEquals(status, reply.status(), reply.body());
        JsonNode body = reply.json();
        assertEquals(type, body.path("error_type").asText(), reply.body());
        assertTrue(body.path("error").asText().contains(messagePart), reply.body());
    }

    // ---- /embed ----------------------------------------------------------------------------

    @Test
    void embedReturnsTheEmbeddersVectorsBitForBit() throws Exception {
        List<String> texts = List.of("hello world", "the cat sat on the mat", "a dog ran");
        float[][] expected = embedder.embed(texts);
        JsonNode batch = post("/embed", JSON.writeValueAsString(Map.of("inputs", texts))).json();
        assertEquals(3, batch.size());
        for (int i = 0; i < 3; i++) {
            assertArrayEquals(expected[i], floats(batch.get(i)), "input " + i);
        }
        JsonNode single = post("/embed", "{\"inputs\": \"hello world\"}").json();
        assertEquals(1, single.size());
        assertArrayEquals(expected[0], floats(single.get(0)));
    }

    @Test
    void embedNormalizeDimensionsPromptAndDirection() throws Exception {
        String text = "the cat sat on the mat";
        float[] raw = embedder.encode(embedder.prepare(List.of(text), Prompt.NONE, TruncationDirection.RIGHT), false)[0];
        JsonNode unnormalized = post("/embed", "{\"inputs\": \"" + text + "\", \"normalize\": false}").json();
        assertArrayEquals(raw, floats(unnormalized.get(0)));

        float[] cut = java.util.Arrays.copyOf(raw, 8);
        io.jembed.core.pooling.Pooling.normalize(cut, 0, 8);
        JsonNode eight = post("/embed", "{\"inputs\": \"" + text + "\", \"dimensions\": 8}").json();
        assertArrayEquals(cut, floats(eight.get(0)));
        assertEquals(32, post("/embed", "{\"inputs\": \"a\", \"dimensions\": 32}").json().get(0).size());

        JsonNode query = post("/embed", "{\"inputs\": \"" + text + "\", \"prompt_name\": \"query\"}").json();
        assertArrayEquals(embedder.embed(text, Prompt.named("query")), floats(query.get(0)));

        String longText = "the cat sat on the mat ".repeat(10);
        float[] left = embedder.embed(io.jembed.core.EmbedRequest.of(List.of(longText)).truncate(TruncationDirection.LEFT))
                .vector(0);
        JsonNode fromLeft = post("/embed", "{\"inputs\": \"" + longText + "\", \"truncation_direction\": \"left\"}").json();
        assertArrayEquals(left, floats(fromLeft.get(0)));
        assertEquals(200, post("/embed", "{\"inputs\": \"" + longText + "\", \"truncation_direction\": \"Left\"}").status());
        JsonNode fromRight = post("/embed", "{\"inputs\": \"" + longText + "\"}").json(); // auto-truncate, as TEI
        assertArrayEquals(embedder.embed(longText), floats(fromRight.get(0)));
    }

    @Test
    void tokenIdInputsAreEncodedAsGiven() throws Exception {
        // [CLS] hello world [SEP] in the tiny vocabulary: the same tokens as the text "hello world".
        JsonNode ids = post("/embed", "{\"inputs\": [2, 5, 7, 3]}").json();
        assertEquals(1, ids.size(), "an array of numbers is one input, as TEI reads it");
        assertArrayEquals(embedder.embed("hello world"), floats(ids.get(0)));
        JsonNode batch = post("/embed", "{\"inputs\": [[2, 5, 7, 3], \"hello world\"]}").json();
        assertArrayEquals(floats(batch.get(0)), floats(batch.get(1)));
        assertError(post("/embed", "{\"inputs\": [2, 999]}"), 422, "Tokenizer", "expected 0 to 21");
    }

    @Test
    void embedErrorsAreTeis() throws Exception {
        assertError(post("/embed", "{\"inputs\": []}"), 400, "Empty", "Input validation error: `inputs` cannot be empty");
        assertError(post("/embed", "{\"inputs\": \"\"}"), 400, "Empty", "`inputs` cannot be empty");
        assertError(post("/embed", "{\"inputs\": [\"a\", \"\"]}"), 400, "Empty", "`inputs` cannot be empty");
        assertError(post("/embed", "{\"inputs\": [\"a\",\"b\",\"c\",\"d\",\"e\"]}"), 422, "Validation",
                "batch size 5 > maximum allowed batch size 4");
        String tooLong = "the cat sat on the mat ".repeat(10);
        assertError(post("/embed", "{\"inputs\": \"" + tooLong + "\", \"truncate\": false}"), 422, "Validation",
                "Input validation error: `inputs` must have less than 24 tokens. Given: 62");
        assertError(post("/embed", "{\"inputs\": \"a\", \"dimensions\": 0}"), 422, "Validation", "`dimensions` should be positive");
        assertError(post("/embed", "{\"inputs\": \"a\", \"dimensions\": 33}"), 422, "Validation",
                "`dimensions` should be smaller than the maximum embedding dimension");
        assertError(post("/embed", "{\"inputs\": \"a\", \"prompt_name\": \"nope\"}"), 422, "Validation", "nope");
        assertError(post("/embed", "{\"inputs\": \"a\", \"truncation_direction\": \"LEFT\"}"), 422, "Validation",
                "truncation_direction");
        assertError(post("/embed", "{\"inputs\": 5}"), 422, "Validation", "inputs: expected");
        assertError(post("/embed", "{\"input\": \"a\"}"), 422, "Validation", "missing field `inputs`");
        assertError(post("/embed", "{\"inputs\": \"a\", \"normalize\": \"yes\"}"), 422, "Validation", "normalize");
        assertError(post("/embed", "[1, 2]"), 422, "Validation", "expected a JSON object");
        Reply malformed = post("/embed", "{\"inputs\": \"a\",\n \"normalize\": tru}");
        assertError(malformed, 400, "Malformed", "at line 2, column");
        assertError(post("/embed", ""), 400, "Malformed", "empty body");
        Reply text = send(server, HttpRequest.newBuilder(server.uri().resolve("/embed"))
                .POST(HttpRequest.BodyPublishers.ofString("{\"inputs\": \"a\"}")));
        assertError(text, 415, "Validation", "Content-Type: application/json");
        assertError(get("/nowhere"), 404, "NotFound", "no route /nowhere");
        assertError(get("/embed"), 405, "Validation", "expected method POST");
        assertEquals(200, post("/embed", "{\"inputs\": \"still serving\"}").status());
    }

    // ---- /v1/embeddings ------------------------------------------------------------------

    @Test
    void openAiEmbeddingsFloatAndBase64AreTheEmbeddersVectors() throws Exception {
        List<String> texts = List.of("hello world", "a dog ran");
        float[][] expected = embedder.embed(texts);
        JsonNode floatReply = post("/v1/embeddings", JSON.writeValueAsString(Map.of("input", texts, "model", "x"))).json();
        assertEquals("list", floatReply.path("object").asText());
        assertEquals(embedder.modelName(), floatReply.path("model").asText());
        long tokens = embedder.embed(io.jembed.core.EmbedRequest.of(texts)).totalTokens();
        assertEquals(tokens, floatReply.path("usage").path("prompt_tokens").asLong());
        assertEquals(tokens, floatReply.path("usage").path("total_tokens").asLong());
        for (int i = 0; i < 2; i++) {
            JsonNode item = floatReply.path("data").get(i);
            assertEquals("embedding", item.path("object").asText());
            assertEquals(i, item.path("index").asInt());
            assertArrayEquals(expected[i], floats(item.path("embedding")));
        }
        JsonNode base64 = post("/v1/embeddings", JSON.writeValueAsString(Map.of("input", texts,
                "encoding_format", "base64"))).json();
        for (int i = 0; i < 2; i++) {
            byte[] bytes = Base64.getDecoder().decode(base64.path("data").get(i).path("embedding").asText());
            float[] decoded = new float[bytes.length / 4];
            ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(decoded);
            assertArrayEquals(expected[i], decoded);
        }
        JsonNode ids = post("/v1/embeddings", "{\"input\": [[2, 5, 7, 3]]}").json();
        assertArrayEquals(expected[0], floats(ids.path("data").get(0).path("embedding")));
    }

    @Test
    void openAiErrorsHaveOpenAisShape() throws Exception {
        Reply empty = post("/v1/embeddings", "{\"input\": []}");
        assertEquals(400, empty.status());
        JsonNode error = empty.json().path("error");
        assertEquals("Empty", error.path("type").asText());
        assertEquals(400, error.path("code").asInt());
        assertTrue(error.path("message").asText().contains("cannot be empty"));
        Reply format = post("/v1/embeddings", "{\"input\": \"a\", \"encoding_format\": \"int8\"}");
        assertEquals(422, format.status());
        assertTrue(format.json().path("error").path("message").asText().contains("encoding_format"));
        Reply malformed = post("/v1/embeddings", "{");
        assertEquals(400, malformed.status());
        assertTrue(malformed.json().path("error").path("message").asText().contains("line 1, column"));
    }

    // ---- /similarity, /tokenize, /decode, /info, /health, /metrics -------------------------

    @Test
    void similarityIsTheCosineOfTheVectors() throws Exception {
        JsonNode scores = post("/similarity", """
                {"inputs": {"source_sentence": "hello world", "sentences": ["hello world", "a dog ran"]}}""").json();
        assertEquals(2, scores.size());
        float[][] v = embedder.embed(List.of("hello world", "a dog ran"));
        assertEquals(1.0, scores.get(0).doubleValue(), 1e-6);
        assertEquals(io.jembed.core.index.Similarity.cosine(v[0], v[1]), scores.get(1).floatValue(), 1e-6);
        assertError(post("/similarity", "{\"inputs\": {\"source_sentence\": \"a\", \"sentences\": []}}"), 400, "Empty",
                "`inputs.sentences` cannot be empty");
        assertError(post("/similarity", "{\"inputs\": {\"source_sentence\": \"a\", \"sentences\": [\"a\",\"b\",\"c\",\"d\"]}}"),
                422, "Validation", "batch size 5 > maximum allowed batch size 4");
        assertError(post("/similarity", "{\"inputs\": {\"sentences\": [\"a\"]}}"), 422, "Validation", "source_sentence");
        assertEquals(200, post("/similarity", """
                {"inputs": {"source_sentence": "a", "sentences": ["b"]}, "parameters": {"prompt_name": "query"}}""").status());
    }

    @Test
    void tokenizeGivesTeisTokensWithByteOffsets() throws Exception {
        JsonNode tokens = post("/tokenize", "{\"inputs\": \"Hello wörld\"}").json();
        assertEquals(1, tokens.size());
        JsonNode list = tokens.get(0);
        assertEquals(4, list.size(), list.toString());
        assertEquals("[CLS]", list.get(0).path("text").asText());
        assertTrue(list.get(0).path("special").asBoolean());
        assertTrue(list.get(0).path("start").isNull());
        assertEquals(6, list.get(1).path("id").asInt());
        assertEquals("Hello", list.get(1).path("text").asText());
        assertEquals(0, list.get(1).path("start").asInt());
        assertEquals(5, list.get(1).path("stop").asInt());
        assertEquals(1, list.get(2).path("id").asInt(), "wörld is not in the tiny vocabulary: [UNK]");
        assertEquals("wörld", list.get(2).path("text").asText());
        assertEquals(6, list.get(2).path("start").asInt());
        assertEquals(12, list.get(2).path("stop").asInt(), "ö is two UTF-8 bytes");
        JsonNode plain = post("/tokenize", "{\"inputs\": [\"hello\", \"a dog\"], \"add_special_tokens\": false}").json();
        assertEquals(2, plain.size());
        assertEquals(1, plain.get(0).size());
        assertEquals(2, plain.get(1).size());
        JsonNode prompted = post("/tokenize", "{\"inputs\": \"cat\", \"prompt_name\": \"query\"}").json().get(0);
        assertEquals("query", prompted.get(1).path("text").asText());
        assertEquals("cat", prompted.get(3).path("text").asText());
        assertEquals(8, prompted.get(3).path("start").asInt(), "offsets count the prompt, as TEI's");
        assertError(post("/tokenize", "{\"inputs\": []}"), 400, "Empty", "`inputs` cannot be empty");
        assertError(post("/tokenize", "{\"inputs\": [1, 2]}"), 422, "Validation", "expected a string");
    }

    @Test
    void decodeJoinsTokens() throws Exception {
        assertEquals("[\"hello world\"]", post("/decode", "{\"ids\": [2, 5, 7, 3]}").body());
        assertEquals("[\"[CLS] hello world [SEP]\",\"cat\"]",
                post("/decode", "{\"ids\": [[2, 5, 7, 3], [13]], \"skip_special_tokens\": false}").body());
        assertError(post("/decode", "{\"ids\": []}"), 400, "Empty", "`input_ids` cannot be empty");
        assertError(post("/decode", "{\"ids\": [5000]}"), 422, "Tokenizer", "5000");
    }

    @Test
    void infoHealthAndMetrics() throws Exception {
        JsonNode info = get("/info").json();
        assertEquals(embedder.modelName(), info.path("model_id").asText());
        assertEquals(embedder.weightsChecksum(), info.path("model_sha").asText());
        assertEquals("float32", info.path("model_dtype").asText());
        assertEquals("mean", info.path("model_type").path("embedding").path("pooling").asText());
        assertEquals(24, info.path("max_input_length").asInt());
        assertEquals(16384, info.path("max_batch_tokens").asInt());
        assertEquals(4, info.path("max_client_batch_size").asInt());
        assertEquals(512, info.path("max_concurrent_requests").asInt());
        assertTrue(info.path("auto_truncate").asBoolean());
        assertTrue(info.has("max_batch_requests") && info.has("version") && info.has("sha") && info.has("docker_label"));
        assertEquals(3, info.path("index").path("documents").asInt());
        Reply health = get("/health");
        assertEquals(200, health.status());
        assertEquals("", health.body());

        post("/embed", "{\"inputs\": [\"hello\", \"world\"]}");
        post("/embed", "{\"inputs\": []}");
        String metrics = get("/metrics").body();
        for (String name : List.of("te_request_count{method=\"batch\"}", "te_request_success{method=\"batch\"}",
                "te_request_failure{err=\"validation\"}", "te_request_duration_bucket", "te_request_tokenization_duration_sum",
                "te_request_queue_duration_count", "te_request_inference_duration_count", "te_request_input_length_bucket{le=\"16\"}",
                "te_batch_next_size_count", "te_batch_next_tokens_sum", "te_queue_size 0", "jembed_search_count",
                "jembed_search_duration_bucket")) {
            assertTrue(metrics.contains(name), name + " in\n" + metrics);
        }
        assertFalse(metrics.contains("te_request_input_length_bucket{le=\"32\"}"), "buckets stop at the max input length");
        assertTrue(get("/metrics").response().headers().firstValue("Content-Type").orElse("").startsWith("text/plain"));
    }

    // ---- /search and the page --------------------------------------------------------------

    @Test
    void searchAnswersAsTheIndexDoes() throws Exception {
        JsonNode reply = post("/search", "{\"query\": \"the cat\", \"k\": 2}").json();
        List<SemanticSearch.Hit> expected = search.search("the cat", 2);
        assertEquals(2, reply.path("hits").size());
        for (int i = 0; i < 2; i++) {
            JsonNode hit = reply.path("hits").get(i);
            assertEquals(expected.get(i).id().asText(), hit.path("id").asText());
            assertEquals(expected.get(i).score(), hit.path("score").floatValue());
            assertEquals(expected.get(i).text(), hit.path("text").asText());
            assertTrue(hit.path("fields").isObject());
        }
        assertEquals(3, post("/search", "{\"query\": \"dog\", \"k\": 50}").json().path("hits").size());
        JsonNode queryPrompt = post("/search", "{\"query\": \"dog\", \"prompt_name\": \"query\"}").json();
        assertEquals(search.search("dog", 3, Prompt.named("query")).get(0).score(),
                queryPrompt.path("hits").get(0).path("score").floatValue());
        assertError(post("/search", "{\"query\": \" \"}"), 400, "Empty", "`query` cannot be empty");
        assertError(post("/search", "{\"query\": \"a\", \"k\": 0}"), 422, "Validation", "k: expected");
        assertError(post("/search", "{}"), 422, "Validation", "missing field `query`");
        // Filters on stored fields: these documents have none, so a filter passes none of them.
        assertEquals(0, post("/search", "{\"query\": \"cat\", \"filter\": {\"lang\": \"en\"}}").json()
                .path("hits").size());
        assertEquals(3, post("/search", "{\"query\": \"cat\", \"ef\": 50}").json().path("hits").size());
        assertError(post("/search", "{\"query\": \"cat\", \"filter\": [\"lang\"]}"), 422, "Validation",
                "filter: expected an object of field: value or [values]");
        assertError(post("/search", "{\"query\": \"cat\", \"filter\": {\"lang\": {\"a\": 1}}}"), 422,
                "Validation", "filter.lang: expected a string, number or boolean");
        assertError(post("/search", "{\"query\": \"cat\", \"ef\": 0}"), 422, "Validation", "ef: expected");
        Reply page = get("/");
        assertEquals(200, page.status());
        assertTrue(page.response().headers().firstValue("Content-Security-Policy").orElse("").contains("default-src 'none'"));
        assertEquals(200, get("/?q=cat").status());
    }

    @Test
    void aRequestFilterMatchesAsTheCommandLineFilterDoes() {
        ObjectMapper mapper = new ObjectMapper();
        DocumentFilter filter = Routes.filter(RequestBody.parse(mapper, ("{\"query\": \"q\", \"filter\": "
                + "{\"lang\": [\"en\", \"de\"], \"year\": 2020, \"open\": true}}").getBytes(StandardCharsets.UTF_8)));
        assertEquals(DocumentFilter.parse(List.of("lang=en", "lang=de", "year=2020", "open=true")).toString(),
                filter.toString());
        ObjectNode fields = mapper.createObjectNode().put("lang", "de").put("year", 2020).put("open", true);
        assertTrue(filter.matches(new Document(TextNode.valueOf("x"), "t", fields)));
        fields.put("year", 2021);
        assertFalse(filter.matches(new Document(TextNode.valueOf("x"), "t", fields)));
    }

    @Test
    void searchWithoutAnIndexIs404() throws Exception {
        try (EmbeddingServer bare = EmbeddingServer.start(embedder, null, ServerOptions.builder().port(0).build())) {
            Reply reply = post(bare, "/search", "{\"query\": \"cat\"}");
            assertEquals(404, reply.status());
            assertTrue(reply.json().path("error").asText().contains("--index"));
            assertTrue(send(bare, HttpRequest.newBuilder(bare.uri().resolve("/info"))).json().path("index").isNull());
        }
    }

    // ---- limits: API key, CORS, concurrency, payload ---------------------------------------

    @Test
    void apiKeyGuardsThePostRoutesOnly() throws Exception {
        try (EmbeddingServer keyed = EmbeddingServer.start(embedder, null,
                ServerOptions.builder().port(0).apiKey("s3cret").build())) {
            assertError(post(keyed, "/embed", "{\"inputs\": \"a\"}"), 401, "Unauthorized", "Authorization: Bearer");
            Reply wrong = send(keyed, HttpRequest.newBuilder(keyed.uri().resolve("/embed"))
                    .header("Content-Type", "application/json").header("Authorization", "Bearer nope")
                    .POST(HttpRequest.BodyPublishers.ofString("{\"inputs\": \"a\"}")));
            assertError(wrong, 401, "Unauthorized", "wrong API key");
            Reply right = send(keyed, HttpRequest.newBuilder(keyed.uri().resolve("/embed"))
                    .header("Content-Type", "application/json").header("Authorization", "Bearer s3cret")
                    .POST(HttpRequest.BodyPublishers.ofString("{\"inputs\": \"a\"}")));
            assertEquals(200, right.status());
            Reply openai = post(keyed, "/v1/embeddings", "{\"input\": \"a\"}");
            assertEquals(401, openai.status());
            assertEquals("Unauthorized", openai.json().path("error").path("type").asText());
            assertEquals(200, send(keyed, HttpRequest.newBuilder(keyed.uri().resolve("/health"))).status());
            assertEquals(200, send(keyed, HttpRequest.newBuilder(keyed.uri().resolve("/metrics"))).status());
        }
    }

    @Test
    void corsOnlyWhenAsked() throws Exception {
        HttpRequest.Builder fromElsewhere = HttpRequest.newBuilder(server.uri().resolve("/embed"))
                .header("Content-Type", "application/json").header("Origin", "http://example.test")
                .POST(HttpRequest.BodyPublishers.ofString("{\"inputs\": \"a\"}"));
        assertTrue(send(server, fromElsewhere).response().headers().firstValue("Access-Control-Allow-Origin").isEmpty());
        try (EmbeddingServer open = EmbeddingServer.start(embedder, null,
                ServerOptions.builder().port(0).corsAllowOrigin("http://app.test").build())) {
            Reply preflight = send(open, HttpRequest.newBuilder(open.uri().resolve("/embed"))
                    .header("Origin", "http://app.test").header("Access-Control-Request-Method", "POST")
                    .method("OPTIONS", HttpRequest.BodyPublishers.noBody()));
            assertEquals(204, preflight.status());
            assertEquals("http://app.test", preflight.response().headers().firstValue("Access-Control-Allow-Origin").orElse(""));
            assertTrue(preflight.response().headers().firstValue("Access-Control-Allow-Headers").orElse("").contains("authorization"));
            Reply other = send(open, HttpRequest.newBuilder(open.uri().resolve("/embed"))
                    .header("Content-Type", "application/json").header("Origin", "http://evil.test")
                    .POST(HttpRequest.BodyPublishers.ofString("{\"inputs\": \"a\"}")));
            assertTrue(other.response().headers().firstValue("Access-Control-Allow-Origin").isEmpty());
        }
    }

    @Test
    void moreInputsThanPermitsIs429AndTheServerKeepsServing() throws Exception {
        try (EmbeddingServer small = EmbeddingServer.start(embedder, null,
                ServerOptions.builder().port(0).maxConcurrentRequests(2).build())) {
            Reply busy = post(small, "/embed", "{\"inputs\": [\"a\", \"b\", \"c\"]}");
            assertEquals(429, busy.status(), busy.body());
            assertEquals("Overloaded", busy.json().path("error_type").asText());
            assertEquals("Model is overloaded", busy.json().path("error").asText());
            assertEquals("1", busy.response().headers().firstValue("Retry-After").orElse(""));
            assertEquals(200, post(small, "/embed", "{\"inputs\": [\"a\", \"b\"]}").status());
            Reply openai = post(small, "/v1/embeddings", "{\"input\": [\"a\", \"b\", \"c\"]}");
            assertEquals(429, openai.status());
            assertEquals("Overloaded", openai.json().path("error").path("type").asText());
        }
    }

    @Test
    void aBodyOverThePayloadLimitIs413() throws Exception {
        String big = "{\"inputs\": \"" + "a ".repeat(1_500_000) + "\"}"; // 3 MB
        assertError(post("/embed", big), 413, "PayloadTooLarge", "2000000");
        try (EmbeddingServer tight = EmbeddingServer.start(embedder, null,
                ServerOptions.builder().port(0).payloadLimit(100).build())) {
            // Chunked, so the length is only known while reading.
            Reply chunked = send(tight, HttpRequest.newBuilder(tight.uri().resolve("/embed"))
                    .header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofInputStream(
                            () -> new java.io.ByteArrayInputStream(("{\"inputs\": \"" + "a".repeat(200) + "\"}").getBytes()))));
            assertEquals(413, chunked.status(), chunked.body());
            assertEquals(200, post(tight, "/embed", "{\"inputs\": \"a\"}").status());
        }
        assertEquals(200, post("/embed", "{\"inputs\": \"after the big one\"}").status());
    }

    // ---- dynamic batching ------------------------------------------------------------------

    @Test
    void concurrentRequestsShareForwardPassesAndKeepTheirBits() throws Exception {
        List<String> texts = new ArrayList<>();
        String[] words = {"hello", "world", "the", "cat", "sat", "on", "mat", "dog", "ran"};
        for (int i = 0; i < 48; i++) {
            texts.add(words[i % 9] + " " + words[(i * 5 + 1) % 9] + " " + words[(i * 7 + 2) % 9].repeat(1 + i % 3));
        }
        float[][] expected = embedder.embed(texts);
        try (ExecutorService pool = Executors.newFixedThreadPool(16)) {
            List<Future<float[]>> replies = new ArrayList<>();
            for (String text : texts) {
                Callable<float[]> call = () -> floats(post("/embed", JSON.writeValueAsString(Map.of("inputs", text))).json().get(0));
                replies.add(pool.submit(call));
            }
            for (int i = 0; i < texts.size(); i++) {
                assertArrayEquals(expected[i], replies.get(i).get(), "text " + i);
            }
        }
    }

    @Test
    void theQueueGathersWaitingRequestsIntoOnePass() throws Exception {
        ServerMetrics metrics = new ServerMetrics(() -> 0, () -> 0, 0, 24);
        BatchQueue queue = new BatchQueue(embedder, metrics, false);
        try {
            List<String> a = List.of("hello world", "a dog ran");
            List<String> b = List.of("the cat sat on the mat");
            var first = queue.submit(embedder.prepare(a, Prompt.NONE, TruncationDirection.RIGHT));
            var second = queue.submit(embedder.prepare(b, Prompt.named("query"), TruncationDirection.RIGHT));
            assertEquals(3, queue.size());
            queue.start();
            float[][] gotA = Routes.finish(first.get().vectors(), null, true);
            float[][] gotB = Routes.finish(second.get().vectors(), null, true);
            assertArrayEquals(embedder.embed(a)[0], gotA[0]);
            assertArrayEquals(embedder.embed(a)[1], gotA[1]);
            assertArrayEquals(embedder.embed(b.get(0), Prompt.named("query")), gotB[0]);
            String scrape = metrics.scrape();
            assertTrue(scrape.contains("te_batch_next_size_count 1\n"), scrape);
            assertTrue(scrape.contains("te_batch_next_size_sum 3\n"), scrape);
        } finally {
            queue.close();
        }
    }

    @Test
    void utf8OffsetsCountBytes() {
        assertArrayEquals(new int[] {0, 1, 3, 4}, Routes.utf8Offsets("aöb"));
        assertArrayEquals(new int[] {0, 3, 4}, Routes.utf8Offsets("这a"));
        assertArrayEquals(new int[] {0, 0, 4, 5}, Routes.utf8Offsets("\uD83D\uDE00a"));
    }
}
