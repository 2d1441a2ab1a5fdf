package io.jembed.core.server;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionException;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.jembed.core.Embedder;
import io.jembed.core.index.DocumentFilter;
import io.jembed.core.index.IndexStore;
import io.jembed.core.index.Similarity;
import io.jembed.core.model.Prompt;
import io.jembed.core.pooling.Pooling;
import io.jembed.core.search.SemanticSearch;
import io.jembed.tokenizer.Encoding;
import io.jembed.tokenizer.TruncationDirection;
import io.jembed.tokenizer.WordPieceTokenizer;

/**
 * What each route does, in TEI's request and response shapes (field names, defaults, messages
 * and statuses follow TEI 1.9's router; see {@link EmbeddingServer} for the HTTP side). Inputs
 * are tokenized on the request's own thread, then pooled by the shared {@link BatchQueue}.
 */
final class Routes {

    /** Search hits a request may ask for. */
    static final int MAX_K = 1000;
    static final int DEFAULT_K = 10;

    /** What a route answers: status, content type, body, extra headers. */
    record Response(int status, String contentType, byte[] body, Map<String, String> headers) {
        static Response json(byte[] body) {
            return new Response(200, "application/json", body, Map.of());
        }
    }

    /** The inputs' vectors before normalisation, with the timings and token counts TEI reports. */
    private record Embedded(float[][] raw, int tokens, int characters, long tokenizationNanos,
                            BatchQueue.Pooled pooled) {
        /** TEI's x-* headers: times in ms, characters and tokens of the inputs. */
        Map<String, String> headers(long startNanos) {
            Map<String, String> headers = new LinkedHashMap<>();
            long total = System.nanoTime() - startNanos;
            headers.put("x-compute-type", "cpu");
            headers.put("x-compute-time", Long.toString(millis(tokenizationNanos + pooled.queueNanos() + pooled.inferenceNanos())));
            headers.put("x-compute-characters", Integer.toString(characters));
            headers.put("x-compute-tokens", Integer.toString(tokens));
            headers.put("x-total-time", Long.toString(millis(total)));
            headers.put("x-tokenization-time", Long.toString(millis(tokenizationNanos)));
            headers.put("x-queue-time", Long.toString(millis(pooled.queueNanos())));
            headers.put("x-inference-time", Long.toString(millis(pooled.inferenceNanos())));
            return headers;
        }
    }

    private final Embedder embedder;
    private final SemanticSearch search;
    private final BatchQueue queue;
    private final ServerMetrics metrics;
    private final ServerOptions options;
    private final ObjectMapper mapper;
    private final Admission admission;

    /** Takes one permit per input (TEI's max_concurrent_requests semaphore), never waiting. */
    interface Admission {
        /** @throws ApiException 429 when fewer than n permits are free */
        void acquire(int n);

        void release(int n);
    }

    Routes(Embedder embedder, SemanticSearch search, BatchQueue queue, ServerMetrics metrics, ServerOptions options,
           ObjectMapper mapper, Admission admission) {
        this.embedder = embedder;
        this.search = search;
        this.queue = queue;
        this.metrics = metrics;
        this.options = options;
        this.mapper = mapper;
        this.admission = admission;
    }

    // ---- TEI: POST /embed ------------------------------------------------------------------

    Response embed(RequestBody body) {
        long start = System.nanoTime();
        RequestBody.Inputs inputs = body.inputs("inputs", true);
        metrics.requestCount.increment(inputs.batch() ? "batch" : "single");
        checkBatchSize(inputs.size(), inputs.size());
        boolean truncate = body.bool("truncate", options.autoTruncate());
        TruncationDirection direction = body.direction("truncation_direction");
        Prompt prompt = prompt(body.string("prompt_name"), embedder.prompts().defaultPrompt());
        boolean normalize = body.bool("normalize", true);
        Integer dimensions = dimensions(body);
        Embedded embedded = admitted(inputs.size(), () -> embed(inputs.items(), prompt, direction, truncate));
        float[][] vectors = finish(embedded.raw(), dimensions, normalize);
        byte[] json = write(g -> {
            g.writeStartArray();
            for (float[] vector : vectors) {
                writeVector(g, vector);
            }
            g.writeEndArray();
        });
        return success(start, inputs.batch(), embedded, json);
    }

    // ---- TEI: POST /similarity -------------------------------------------------------------

    Response similarity(RequestBody body) {
        long start = System.nanoTime();
        RequestBody inputs = body.object("inputs");
        body.required("inputs");
        String source = textField(inputs, "inputs.source_sentence");
        JsonNode sentencesNode = inputs.required("sentences");
        if (!sentencesNode.isArray()) {
            throw RequestBody.shape("inputs.sentences", "an array of strings", sentencesNode);
        }
        List<RequestBody.Input> items = new ArrayList<>(sentencesNode.size() + 1);
        items.add(new RequestBody.Input(source, null));
        for (int i = 0; i < sentencesNode.size(); i++) {
            JsonNode sentence = sentencesNode.get(i);
            if (!sentence.isTextual()) {
                throw RequestBody.shape("inputs.sentences[" + i + "]", "a string", sentence);
            }
            items.add(new RequestBody.Input(sentence.textValue(), null));
        }
        metrics.requestCount.increment("batch");
        if (items.size() == 1) {
            throw new ApiException(400, ApiException.Type.EMPTY, "`inputs.sentences` cannot be empty");
        }
        checkBatchSize(items.size(), items.size());
        RequestBody parameters = body.object("parameters");
        boolean truncate = parameters.bool("truncate", options.autoTruncate());
        TruncationDirection direction = parameters.direction("truncation_direction");
        Prompt prompt = prompt(parameters.string("prompt_name"), embedder.prompts().defaultPrompt());
        Embedded embedded = admitted(items.size(), () -> embed(items, prompt, direction, truncate));
        float[][] raw = embedded.raw();
        byte[] json = write(g -> {
            g.writeStartArray();
            for (int i = 1; i < raw.length; i++) {
                g.writeNumber(Similarity.cosine(raw[0], raw[i])); // TEI: 1 - cosine distance
            }
            g.writeEndArray();
        });
        return success(start, true, embedded, json);
    }

    // ---- OpenAI: POST /v1/embeddings -------------------------------------------------------

    Response openai(RequestBody body) {
        long start = System.nanoTime();
        RequestBody.Inputs inputs = body.inputs("input", true);
        metrics.requestCount.increment(inputs.batch() ? "batch" : "single");
        checkBatchSize(inputs.size(), inputs.size());
        String format = body.choice("encoding_format", "float", "float", "base64");
        Integer dimensions = dimensions(body);
        body.string("model"); // accepted and, as in TEI, not checked against the served model
        body.string("user");
        Embedded embedded = admitted(inputs.size(), () -> embed(inputs.items(), embedder.prompts().defaultPrompt(),
                TruncationDirection.RIGHT, options.autoTruncate()));
        float[][] vectors = finish(embedded.raw(), dimensions, true);
        byte[] json = write(g -> {
            g.writeStartObject();
            g.writeStringField("object", "list");
            g.writeArrayFieldStart("data");
            for (int i = 0; i < vectors.length; i++) {
                g.writeStartObject();
                g.writeStringField("object", "embedding");
                g.writeNumberField("index", i);
                g.writeFieldName("embedding");
                if (format.equals("base64")) {
                    g.writeString(base64(vectors[i]));
                } else {
                    writeVector(g, vectors[i]);
                }
                g.writeEndObject();
            }
            g.writeEndArray();
            g.writeStringField("model", embedder.modelName());
            g.writeObjectFieldStart("usage");
            g.writeNumberField("prompt_tokens", embedded.tokens());
            g.writeNumberField("total_tokens", embedded.tokens());
            g.writeEndObject();
            g.writeEndObject();
        });
        return success(start, inputs.batch(), embedded, json);
    }

    /** Little-endian IEEE-754 float32 bytes, standard base64 with padding (OpenAI's and TEI's encoding). */
    static String base64(float[] vector) {
        ByteBuffer bytes = ByteBuffer.allocate(vector.length * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
        bytes.asFloatBuffer().put(vector);
        return Base64.getEncoder().encodeToString(bytes.array());
    }

    // ---- POST /search ----------------------------------------------------------------------

    /**
     * {@code "filter": {"field": value or [values], ...}} as a {@link DocumentFilter} (null when
     * absent): a value is a string, number or boolean, matched as the CLI's --filter matches it.
     */
    static DocumentFilter filter(RequestBody body) {
        JsonNode node = body.root().get("filter");
        if (node == null || node.isNull()) {
            return null;
        }
        if (!node.isObject() || node.isEmpty()) {
            throw RequestBody.shape("filter", "an object of field: value or [values]", node);
        }
        Map<String, List<String>> values = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> field : node.properties()) {
            List<String> texts = new ArrayList<>();
            JsonNode value = field.getValue();
            for (JsonNode element : value.isArray() ? value : List.of(value)) {
                if (!element.isValueNode() || element.isNull()) {
                    throw RequestBody.shape("filter." + field.getKey(), "a string, number or boolean, or an array "
                            + "of them", value);
                }
                texts.add(element.isTextual() ? element.textValue() : element.toString());
            }
            if (texts.isEmpty() || field.getKey().isEmpty()) {
                throw RequestBody.shape("filter." + field.getKey(), "a field name and at least one value", value);
            }
            values.put(field.getKey(), texts);
        }
        return DocumentFilter.of(values);
    }

    Response search(RequestBody body) {
        long start = System.nanoTime();
        if (search == null) {
            throw new ApiException(404, ApiException.Type.NOT_FOUND,
                    "no index is served: start the server with --index DIR to search");
        }
        String query = textField(body, "query");
        if (query.isBlank()) {
            throw new ApiException(400, ApiException.Type.EMPTY, "Input validation error: `query` cannot be empty");
        }
        Integer k = body.integer("k", 1, MAX_K);
        int hitsWanted = Math.min(k == null ? DEFAULT_K : k, Math.max(search.size(), 1));
        Prompt prompt = prompt(body.string("prompt_name"), search.queryPrompt());
        Integer ef = body.integer("ef", 1, 100_000);
        IndexStore.SearchOptions options = new IndexStore.SearchOptions(filter(body), ef == null ? 0 : ef);
        Embedded embedded = admitted(1, () -> embed(List.of(new RequestBody.Input(query, null)), prompt,
                TruncationDirection.RIGHT, true));
        float[] vector = finish(embedded.raw(), null, embedder.pooling().normalize())[0];
        long scan = System.nanoTime();
        List<SemanticSearch.Hit> hits = search.size() == 0 ? List.of() : search.search(vector, hitsWanted, options);
        metrics.searchScanDuration.observeNanos(System.nanoTime() - scan);
        byte[] json = write(g -> {
            g.writeStartObject();
            g.writeStringField("query", query);
            g.writeStringField("prompt", prompt.describe());
            g.writeArrayFieldStart("hits");
            for (SemanticSearch.Hit hit : hits) {
                g.writeStartObject();
                g.writeFieldName("id");
                g.writeTree(hit.id());
                g.writeNumberField("score", hit.score());
                g.writeStringField("text", hit.text());
                g.writeFieldName("fields");
                g.writeTree(hit.fields());
                if (hit.chunk() != null) {
                    g.writeObjectFieldStart("chunk");
                    g.writeNumberField("start", hit.chunk().start());
                    g.writeNumberField("end", hit.chunk().end());
                    g.writeStringField("text", hit.chunk().text());
                    g.writeEndObject();
                }
                g.writeEndObject();
            }
            g.writeEndArray();
            g.writeEndObject();
        });
        metrics.searchCount.increment();
        metrics.searchDuration.observeNanos(System.nanoTime() - start);
        return new Response(200, "application/json", json, embedded.headers(start));
    }

    // ---- TEI: POST /tokenize, POST /decode, GET /info --------------------------------------

    Response tokenize(RequestBody body) {
        RequestBody.Inputs inputs = body.inputs("inputs", false);
        if (inputs.size() == 0) {
            throw new ApiException(400, ApiException.Type.EMPTY, "`inputs` cannot be empty");
        }
        checkBatchSize(inputs.size(), inputs.size());
        boolean special = body.bool("add_special_tokens", true);
        Prompt prompt = prompt(body.string("prompt_name"), embedder.prompts().defaultPrompt());
        WordPieceTokenizer tokenizer = embedder.tokenizer();
        List<Encoding> encodings = new ArrayList<>(inputs.size());
        List<String> texts = new ArrayList<>(inputs.size());
        for (RequestBody.Input input : inputs.items()) {
            checkNotEmpty(input.text());
            String prompted = prompt.text() + input.text();
            String fed = embedder.model().input(prompt, input.text());
            encodings.add(special ? tokenizer.encode(fed) : tokenizer.encodeWithoutSpecialTokens(fed));
            // Offsets index the string fed (lowercased if the model says); slices come from the
            // string as sent when lowercasing kept its length, as TEI's offsets map to the original.
            texts.add(prompted.length() == fed.length() ? prompted : fed);
        }
        byte[] json = write(g -> {
            g.writeStartArray();
            for (int e = 0; e < encodings.size(); e++) {
                Encoding encoding = encodings.get(e);
                String text = texts.get(e);
                int[] utf8 = utf8Offsets(text);
                g.writeStartArray();
                for (int t = 0; t < encoding.length(); t++) {
                    int id = encoding.id(t);
                    boolean isSpecial = tokenizer.isSpecial(id) && encoding.offsetStart(t) == encoding.offsetEnd(t);
                    g.writeStartObject();
                    g.writeNumberField("id", id);
                    if (isSpecial) {
                        g.writeStringField("text", encoding.token(t));
                        g.writeBooleanField("special", true);
                        g.writeNullField("start");
                        g.writeNullField("stop");
                    } else {
                        g.writeStringField("text", text.substring(encoding.offsetStart(t), encoding.offsetEnd(t)));
                        g.writeBooleanField("special", false);
                        g.writeNumberField("start", utf8[encoding.offsetStart(t)]);
                        g.writeNumberField("stop", utf8[encoding.offsetEnd(t)]);
                    }
                    g.writeEndObject();
                }
                g.writeEndArray();
            }
            g.writeEndArray();
        });
        return Response.json(json);
    }

    /** utf8[i] = UTF-8 bytes of text[0, i), for i in [0, length]: TEI's offsets are byte offsets. */
    static int[] utf8Offsets(String text) {
        int[] offsets = new int[text.length() + 1];
        int bytes = 0;
        for (int i = 0; i < text.length(); i++) {
            offsets[i] = bytes;
            char c = text.charAt(i);
            if (c < 0x80) {
                bytes += 1;
            } else if (c < 0x800) {
                bytes += 2;
            } else if (Character.isHighSurrogate(c) && i + 1 < text.length() && Character.isLowSurrogate(text.charAt(i + 1))) {
                bytes += 4;
                offsets[++i] = bytes - 4; // inside the pair: the code point's start
            } else {
                bytes += 3;
            }
        }
        offsets[text.length()] = bytes;
        return offsets;
    }

    Response decode(RequestBody body) {
        JsonNode node = body.required("ids");
        if (!node.isArray()) {
            throw RequestBody.shape("ids", "an array of token ids or an array of those", node);
        }
        List<int[]> batch = new ArrayList<>();
        if (node.isEmpty() || node.get(0).isNumber()) {
            batch.add(RequestBody.ids("ids", node));
        } else {
            for (int i = 0; i < node.size(); i++) {
                batch.add(RequestBody.ids("ids[" + i + "]", node.get(i)));
            }
        }
        checkBatchSize(batch.size(), batch.size());
        boolean skip = body.bool("skip_special_tokens", true);
        List<String> texts = new ArrayList<>(batch.size());
        for (int[] ids : batch) {
            if (ids.length == 0) {
                throw new ApiException(400, ApiException.Type.EMPTY, "Input validation error: `input_ids` cannot be empty");
            }
            try {
                texts.add(embedder.tokenizer().decode(ids, skip));
            } catch (IllegalArgumentException e) {
                throw new ApiException(422, ApiException.Type.TOKENIZER, "tokenizer error " + e.getMessage());
            }
        }
        return Response.json(write(g -> {
            g.writeStartArray();
            for (String text : texts) {
                g.writeString(text);
            }
            g.writeEndArray();
        }));
    }

    Response info() {
        return Response.json(write(g -> {
            g.writeStartObject();
            g.writeStringField("model_id", embedder.modelName());
            g.writeStringField("model_sha", checksum());
            g.writeStringField("model_dtype", "float32");
            g.writeStringField("served_model_name", embedder.modelName());
            g.writeObjectFieldStart("model_type");
            g.writeObjectFieldStart("embedding");
            g.writeStringField("pooling", embedder.pooling().describe());
            g.writeEndObject();
            g.writeEndObject();
            g.writeNumberField("max_concurrent_requests", options.maxConcurrentRequests());
            g.writeNumberField("max_input_length", embedder.maxLength());
            g.writeNumberField("max_batch_tokens", embedder.maxBatchTokens());
            if (embedder.batchSize() == Integer.MAX_VALUE) {
                g.writeNullField("max_batch_requests");
            } else {
                g.writeNumberField("max_batch_requests", embedder.batchSize());
            }
            g.writeNumberField("max_client_batch_size", options.maxClientBatchSize());
            g.writeBooleanField("auto_truncate", options.autoTruncate());
            g.writeNumberField("tokenization_workers", embedder.threads());
            g.writeStringField("version", EmbeddingServer.version());
            g.writeNullField("sha");
            g.writeNullField("docker_label");
            // jembed's own, after TEI's fields.
            g.writeNumberField("dimension", embedder.dimension());
            g.writeObjectFieldStart("prompts");
            for (var prompt : embedder.prompts().prompts().entrySet()) {
                g.writeStringField(prompt.getKey(), prompt.getValue());
            }
            g.writeEndObject();
            g.writeStringField("kernels", embedder.kernels().name());
            g.writeNumberField("threads", embedder.threads());
            if (search == null) {
                g.writeNullField("index");
            } else {
                g.writeObjectFieldStart("index");
                g.writeNumberField("documents", search.size());
                g.writeStringField("query_prompt", search.queryPrompt().describe());
                g.writeStringField("document_prompt", search.documentPrompt().describe());
                g.writeEndObject();
            }
            g.writeEndObject();
        }));
    }

    private String checksum() {
        try {
            return embedder.weightsChecksum();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    // ---- shared steps ----------------------------------------------------------------------

    /** Tokenizes inputs on this thread, then waits for the batch queue to pool them. */
    private Embedded embed(List<RequestBody.Input> inputs, Prompt prompt, TruncationDirection direction,
                           boolean truncate) {
        long start = System.nanoTime();
        WordPieceTokenizer tokenizer = embedder.tokenizer();
        // Texts are prepared together (the prompt resolved once); token ids without a prompt go
        // to the encoder as given. Token ids under a prompt are decoded and re-encoded with it, as TEI does.
        List<String> texts = new ArrayList<>();
        for (RequestBody.Input input : inputs) {
            if (input.isText() || !prompt.isEmpty()) {
                String value = input.isText() ? input.text() : decodeIds(input.ids());
                checkNotEmpty(value);
                texts.add(value);
            } else if (input.ids().length == 0) {
                throw new ApiException(400, ApiException.Type.EMPTY, "Input validation error: `inputs` cannot be empty");
            } else if (input.ids().length > embedder.maxLength() && !truncate) {
                throw tooLong(input.ids().length);
            }
        }
        List<Embedder.Prepared> preparedTexts;
        try {
            preparedTexts = embedder.prepare(texts, prompt, direction);
        } catch (IllegalArgumentException e) {
            throw new ApiException(422, ApiException.Type.VALIDATION, "Input validation error: " + e.getMessage());
        }
        List<Embedder.Prepared> prepared = new ArrayList<>(inputs.size());
        int tokens = 0;
        int characters = 0;
        int nextText = 0;
        for (RequestBody.Input input : inputs) {
            Embedder.Prepared text;
            if (input.isText() || !prompt.isEmpty()) {
                String value = texts.get(nextText);
                text = preparedTexts.get(nextText++);
                if (text.truncated() && !truncate) {
                    throw tooLong(tokenizer.encode(embedder.model().input(prompt, value)).length());
                }
            } else {
                try {
                    text = new Embedder.Prepared(tokenizer.encodeIds(input.ids(), embedder.maxLength(), direction), 0);
                } catch (IllegalArgumentException e) {
                    throw new ApiException(422, ApiException.Type.TOKENIZER, "tokenizer error " + e.getMessage());
                }
            }
            metrics.inputLength.observe(text.tokens());
            tokens += text.tokens();
            characters += input.characters();
            prepared.add(text);
        }
        long tokenization = System.nanoTime() - start;
        metrics.tokenizationDuration.observeNanos(tokenization);
        BatchQueue.Pooled pooled;
        try {
            pooled = queue.submit(prepared).join();
        } catch (CompletionException e) {
            throw new ApiException(424, ApiException.Type.BACKEND, "Backend error: " + describe(e.getCause()));
        } catch (IllegalStateException e) {
            throw new ApiException(503, ApiException.Type.UNHEALTHY, e.getMessage());
        }
        metrics.queueDuration.observeNanos(pooled.queueNanos());
        metrics.inferenceDuration.observeNanos(pooled.inferenceNanos());
        return new Embedded(pooled.vectors(), tokens, characters, tokenization, pooled);
    }

    private String decodeIds(int[] ids) {
        try {
            return embedder.tokenizer().decode(ids, true);
        } catch (IllegalArgumentException e) {
            throw new ApiException(422, ApiException.Type.TOKENIZER, "tokenizer error " + e.getMessage());
        }
    }

    private ApiException tooLong(int tokens) {
        return new ApiException(422, ApiException.Type.VALIDATION, "Input validation error: `inputs` must have less than "
                + embedder.maxLength() + " tokens. Given: " + tokens);
    }

    private <T> T admitted(int permits, java.util.function.Supplier<T> work) {
        admission.acquire(permits);
        try {
            return work.get();
        } finally {
            admission.release(permits);
        }
    }

    private void checkBatchSize(int size, int counted) {
        if (counted > options.maxClientBatchSize()) {
            throw new ApiException(422, ApiException.Type.VALIDATION, "batch size " + size
                    + " > maximum allowed batch size " + options.maxClientBatchSize(), "batch_size");
        }
    }

    private static void checkNotEmpty(String text) {
        if (text.isEmpty()) {
            throw new ApiException(400, ApiException.Type.EMPTY, "Input validation error: `inputs` cannot be empty");
        }
    }

    private static String textField(RequestBody body, String field) {
        String name = field.substring(field.lastIndexOf('.') + 1);
        JsonNode node = body.required(name);
        if (!node.isTextual()) {
            throw RequestBody.shape(field, "a string", node);
        }
        return node.textValue();
    }

    /** prompt_name resolved against the model's prompts; null gives the fallback. */
    private Prompt prompt(String name, Prompt fallback) {
        try {
            return embedder.resolve(name == null ? fallback : Prompt.named(name));
        } catch (IllegalArgumentException e) {
            throw new ApiException(422, ApiException.Type.VALIDATION, "Input validation error: `prompt_name` "
                    + name + " is not one of the model's prompts " + embedder.prompts().prompts().keySet());
        }
    }

    private Integer dimensions(RequestBody body) {
        Integer dimensions = body.integer("dimensions", 0, Integer.MAX_VALUE);
        if (dimensions == null) {
            return null;
        }
        if (dimensions == 0) {
            throw new ApiException(422, ApiException.Type.VALIDATION, "Input validation error: `dimensions` should be positive");
        }
        if (dimensions > embedder.dimension()) {
            throw new ApiException(422, ApiException.Type.VALIDATION, "Input validation error: `dimensions` should be "
                    + "smaller than the maximum embedding dimension. (" + embedder.dimension() + ", found " + dimensions + ")");
        }
        return dimensions;
    }

    /**
     * TEI's last step: cut to dimensions, then L2-normalise if asked. With the full dimension and
     * normalisation this is the same arithmetic, in the same order, as the embedder's own
     * pooling, so the vector is the CLI's to the bit.
     */
    static float[][] finish(float[][] raw, Integer dimensions, boolean normalize) {
        float[][] out = new float[raw.length][];
        for (int i = 0; i < raw.length; i++) {
            float[] vector = dimensions == null ? raw[i].clone() : Arrays.copyOf(raw[i], dimensions);
            if (normalize) {
                Pooling.normalize(vector, 0, vector.length);
            }
            out[i] = vector;
        }
        return out;
    }

    private Response success(long start, boolean batch, Embedded embedded, byte[] json) {
        metrics.requestSuccess.increment(batch ? "batch" : "single");
        metrics.requestDuration.observeNanos(System.nanoTime() - start);
        return new Response(200, "application/json", json, embedded.headers(start));
    }

    private static void writeVector(JsonGenerator g, float[] vector) throws IOException {
        g.writeStartArray();
        for (float v : vector) {
            g.writeNumber(v);
        }
        g.writeEndArray();
    }

    interface Writer {
        void write(JsonGenerator g) throws IOException;
    }

    byte[] write(Writer writer) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(256);
        try (JsonGenerator g = mapper.getFactory().createGenerator(out)) {
            writer.write(g);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }

    private static long millis(long nanos) {
        return nanos / 1_000_000;
    }

    private static String describe(Throwable e) {
        return e == null ? "unknown" : e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName();
    }
}
