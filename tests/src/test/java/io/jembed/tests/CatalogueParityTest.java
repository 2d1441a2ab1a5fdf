package io.jembed.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.zip.GZIPInputStream;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.jembed.core.Embedder;
import io.jembed.core.model.ModelCatalog;
import io.jembed.core.model.Prompt;
import io.jembed.tokenizer.Encoding;

/**
 * Every catalogue model against its reference fixtures (ONNX Runtime + Hugging Face tokenizers on the
 * same export, made by tests/generator's ModelFixtures; see tests/README.md): each text without a
 * prompt and under each of the model's prompts, the prompt resolved by name from the model directory
 * exactly as the CLI and the index resolve it. Token ids must be equal; sentence embeddings within
 * {@value #EMBEDDING_TOLERANCE} per component.
 */
class CatalogueParityTest {

    /** Float32 with another summation order lands near 1e-6 on unit vectors; a wrong pooling or prompt is > 1e-2. */
    static final double EMBEDDING_TOLERANCE = 1e-5;

    static final ObjectMapper JSON = new ObjectMapper();

    record Fixture(String id, String promptName, String prompt, String text, int[] inputIds, boolean truncated,
                   float[] embedding) {
    }

    static List<Fixture> read(String model) throws IOException {
        String resource = "/fixtures/models/" + model + "/embeddings.jsonl.gz";
        InputStream raw = CatalogueParityTest.class.getResourceAsStream(resource);
        assertNotNull(raw, "fixture " + resource + " is missing (made by tests/generator ModelFixtures)");
        List<Fixture> fixtures = new ArrayList<>();
        try (BufferedReader in = new BufferedReader(new InputStreamReader(new GZIPInputStream(raw), StandardCharsets.UTF_8))) {
            for (String line; (line = in.readLine()) != null; ) {
                JsonNode node = JSON.readTree(line);
                int[] ids = new int[node.get("input_ids").size()];
                for (int i = 0; i < ids.length; i++) {
                    ids[i] = node.get("input_ids").get(i).intValue();
                }
                float[] embedding = new float[node.get("embedding").size()];
                for (int i = 0; i < embedding.length; i++) {
                    embedding[i] = (float) node.get("embedding").get(i).doubleValue();
                }
                JsonNode name = node.get("prompt_name");
                fixtures.add(new Fixture(node.get("id").asText(), name == null || name.isNull() ? null : name.asText(),
                        node.get("prompt").asText(), node.get("text").asText(), ids, node.get("truncated").asBoolean(),
                        embedding));
            }
        }
        return fixtures;
    }

    @ParameterizedTest
    @ValueSource(strings = {"all-MiniLM-L6-v2", "bge-small-en-v1.5", "e5-small-v2", "bge-small-zh-v1.5"})
    void tokensAndEmbeddingsEqualTheReference(String model) throws IOException {
        List<Fixture> fixtures = read(model);
        ModelCatalog.Entry entry = ModelCatalog.find(model).orElseThrow();
        try (Embedder embedder = Embedder.builder(Requirements.catalogueModel(model)).batchSize(16).build()) {
            assertEquals(entry.maxSeqLength(), embedder.maxLength());
            int prompted = 0;
            int truncated = 0;
            double maxDiff = 0;
            String worst = "";
            // Group by prompt so each group goes through embed(texts, prompt) as one ragged batch list.
            for (String promptName : new String[] {null, "query", "document"}) {
                List<Fixture> group = new ArrayList<>();
                for (Fixture fixture : fixtures) {
                    if (java.util.Objects.equals(fixture.promptName(), promptName)) {
                        group.add(fixture);
                    }
                }
                if (group.isEmpty()) {
                    continue;
                }
                Prompt prompt = promptName == null ? Prompt.NONE : Prompt.named(promptName);
                assertEquals(group.get(0).prompt(), embedder.resolve(prompt).text(), "prompt '" + promptName + "'");
                List<String> texts = group.stream().map(Fixture::text).toList();
                List<Encoding> encodings = embedder.tokenize(texts, prompt);
                for (int i = 0; i < group.size(); i++) {
                    Fixture fixture = group.get(i);
                    int[] ids = encodings.get(i).ids();
                    if (!Arrays.equals(fixture.inputIds(), ids)) {
                        int at = Arrays.mismatch(fixture.inputIds(), ids);
                        fail(model + " '" + fixture.id() + "' prompt " + promptName + ": token ids differ first at " + at
                                + " (reference " + (at < fixture.inputIds().length ? fixture.inputIds()[at] : "end")
                                + ", jembed " + (at < ids.length ? ids[at] + " " + embedder.tokenizer().token(ids[at]) : "end")
                                + ")");
                    }
                }
                float[][] vectors = embedder.embed(texts, prompt);
                for (int i = 0; i < group.size(); i++) {
                    Fixture fixture = group.get(i);
                    for (int j = 0; j < vectors[i].length; j++) {
                        double diff = Math.abs(vectors[i][j] - fixture.embedding()[j]);
                        if (diff > maxDiff) {
                            maxDiff = diff;
                            worst = fixture.id() + " (prompt " + promptName + ", component " + j + ")";
                        }
                    }
                    prompted += promptName == null ? 0 : 1;
                    truncated += fixture.truncated() ? 1 : 0;
                }
            }
            System.out.printf("%s parity: %d fixtures (%d under a prompt, %d truncated at %d): token ids equal, "
                    + "embeddings max |diff| %.3g at %s%n", model, fixtures.size(), prompted, truncated,
                    entry.maxSeqLength(), maxDiff, worst);
            assertTrue(fixtures.size() >= 200, model + ": expected >= 200 fixtures, found " + fixtures.size());
            assertTrue(maxDiff <= EMBEDDING_TOLERANCE, model + ": embeddings max |diff| " + maxDiff + " at " + worst);
            assertTrue(entry.prompts().isEmpty() || prompted > 0, model + ": no fixture under a prompt");
        }
    }
}
