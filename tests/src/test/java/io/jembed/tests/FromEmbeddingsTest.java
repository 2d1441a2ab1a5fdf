package io.jembed.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import io.jembed.core.Embedder;
import io.jembed.core.index.Embeddings;
import io.jembed.core.search.SemanticSearch;

/**
 * {@code jembed index --from-embeddings} on JSON Lines embeddings (the layout EmbedJob writes with
 * --output-format jsonl, here made from {@code jembed embed}'s vectors): flat and hnsw indexes that
 * answer as the ones {@code index --input} builds, ids as keys, and the refusals (another model, a
 * bad row, options that do not apply), each writing nothing.
 */
class FromEmbeddingsTest {

    static final ObjectMapper JSON = new ObjectMapper();
    static final List<String> QUESTIONS = List.of("Which river flows north?", "Why is the sky blue?",
            "What makes bread rise?");

    @TempDir
    static Path dir;
    static Path model;
    static Path corpus;
    static Path embeddings;
    static Path reference;

    @BeforeAll
    static void setUp() throws IOException {
        model = Requirements.defaultModel();
        corpus = dir.resolve("corpus.jsonl");
        try (InputStream in = FromEmbeddingsTest.class.getResourceAsStream("/io/jembed/demo/corpus.jsonl")) {
            Files.copy(in, corpus);
        }
        Path vectors = dir.resolve("vectors.jsonl");
        assertEquals(0, CliRun.withModel(model, "embed", "--input", corpus.toString(), "--output", vectors.toString()).code());
        // The rows as EmbedJob writes them: id, text, embedding, then the corpus's other fields.
        List<String> corpusLines = Files.readAllLines(corpus);
        List<String> vectorLines = Files.readAllLines(vectors);
        embeddings = dir.resolve("embedded");
        Files.createDirectories(embeddings);
        List<String> rows = new ArrayList<>();
        for (int i = 0; i < corpusLines.size(); i++) {
            ObjectNode document = (ObjectNode) JSON.readTree(corpusLines.get(i));
            ObjectNode row = JSON.createObjectNode();
            row.set("id", document.remove("id"));
            row.set("text", document.remove("text"));
            row.set("embedding", JSON.readTree(vectorLines.get(i)).get("embedding"));
            row.setAll(document);
            rows.add(JSON.writeValueAsString(row));
        }
        Files.write(embeddings.resolve("part-00000.json"), rows.subList(0, 100));
        Files.write(embeddings.resolve("part-00001.json"), rows.subList(100, rows.size()));
        try (Embedder embedder = Embedder.load(model)) {
            Embeddings.writeDescription(embeddings, Embeddings.Description.of(SemanticSearch.spec(embedder),
                    embedder.maxLength(), "jsonl", rows.size(), 0));
        }
        reference = dir.resolve("reference");
        CliRun built = CliRun.withModel(model, "index", "--input", corpus.toString(), "--output", reference.toString());
        assertEquals(0, built.code(), built.err());
    }

    static JsonNode hits(Path index, String question, String... more) throws IOException {
        List<String> words = new ArrayList<>(List.of("search", "--index", index.toString(), "--json", "-k", "5"));
        words.addAll(List.of(more));
        words.add(question);
        CliRun search = CliRun.withModel(model, words.toArray(String[]::new));
        assertEquals(0, search.code(), search.err());
        return JSON.readTree(search.out()).path("hits");
    }

    @Test
    void flatAndHnswIndexesFromEmbeddingsAnswerAsTheCliBuiltIndex() throws IOException {
        Path flat = dir.resolve("flat");
        CliRun made = CliRun.withModel(model, "index", "--from-embeddings", embeddings.toString(), "--output", flat.toString());
        assertEquals(0, made.code(), made.err());
        assertTrue(made.err().contains("indexed 240 documents from " + embeddings + " (embedded by all-MiniLM-L6-v2,"
                + " nothing embedded again)"), made.err());
        Path hnsw = dir.resolve("hnsw");
        made = CliRun.withModel(model, "index", "--from-embeddings", embeddings.toString(), "--output", hnsw.toString(),
                "--type", "hnsw");
        assertEquals(0, made.code(), made.err());
        for (String question : QUESTIONS) {
            JsonNode expected = hits(reference, question);
            // Same ids, scores, texts and stored fields: the documents and their vectors came through whole.
            assertEquals(expected, hits(flat, question), question);
            assertEquals(expected, hits(hnsw, question, "--ef", "240"), question);
        }
    }

    @Test
    void idsAreKeysAsForInput() throws IOException {
        Path index = dir.resolve("keys");
        assertEquals(0, CliRun.withModel(model, "index", "--from-embeddings", embeddings.toString(), "--output",
                index.toString()).code());
        CliRun again = CliRun.withModel(model, "index", "--from-embeddings", embeddings.toString(), "--output",
                index.toString(), "--append");
        assertEquals(1, again.code(), again.err());
        assertTrue(again.err().contains("part-00000.json line 1: document id"), again.err());
        assertTrue(again.err().contains("is already in the index"), again.err());
        CliRun upsert = CliRun.withModel(model, "index", "--from-embeddings", embeddings.toString(), "--output",
                index.toString(), "--upsert");
        assertEquals(0, upsert.code(), upsert.err());
        assertTrue(upsert.err().contains("now holds 240 documents (240 before, 240 replaced)"), upsert.err());
    }

    @Test
    void refusalsNameWhatIsWrongAndWriteNothing() throws IOException {
        Path target = dir.resolve("never");
        // Vectors of another model: the description's sha256 is not the index model's.
        Path other = dir.resolve("other-model");
        Files.createDirectories(other);
        Files.copy(embeddings.resolve("part-00000.json"), other.resolve("part-00000.json"));
        ObjectNode description = (ObjectNode) JSON.readTree(embeddings.resolve(Embeddings.DESCRIPTION_FILE).toFile());
        description.put("model", "some-other-model").put("model_sha256", "ab".repeat(32));
        Files.writeString(other.resolve(Embeddings.DESCRIPTION_FILE), description.toString());
        CliRun run = CliRun.withModel(model, "index", "--from-embeddings", other.toString(), "--output", target.toString());
        assertEquals(1, run.code(), run.err());
        assertTrue(run.err().contains("the vectors are of model some-other-model (sha256 abababababab…), the index's "
                + "model is all-MiniLM-L6-v2"), run.err());
        assertFalse(Files.exists(target));

        // A row whose embedding is one number short, in the second file: named by file and line.
        Path bad = dir.resolve("bad-row");
        Files.createDirectories(bad);
        Files.copy(embeddings.resolve(Embeddings.DESCRIPTION_FILE), bad.resolve(Embeddings.DESCRIPTION_FILE));
        Files.copy(embeddings.resolve("part-00000.json"), bad.resolve("part-00000.json"));
        List<String> lines = new ArrayList<>(Files.readAllLines(embeddings.resolve("part-00001.json")));
        ObjectNode row = (ObjectNode) JSON.readTree(lines.get(2));
        ((com.fasterxml.jackson.databind.node.ArrayNode) row.get("embedding")).remove(0);
        lines.set(2, row.toString());
        Files.write(bad.resolve("part-00001.json"), lines);
        run = CliRun.withModel(model, "index", "--from-embeddings", bad.toString(), "--output", target.toString());
        assertEquals(1, run.code(), run.err());
        assertTrue(run.err().contains("part-00001.json line 3: \"embedding\": expected 384 numbers, found 383"), run.err());
        assertFalse(Files.exists(target));

        run = CliRun.withModel(model, "index", "--from-embeddings", embeddings.toString(), "--input", corpus.toString(),
                "--output", target.toString());
        assertEquals(2, run.code(), run.err());
        run = CliRun.withModel(model, "index", "--from-embeddings", embeddings.toString(), "--output", target.toString(),
                "--chunk-tokens", "100");
        assertEquals(2, run.code(), run.err());
        assertTrue(run.err().contains("--chunk-tokens does not apply to --from-embeddings"), run.err());
        run = CliRun.withModel(model, "index", "--from-embeddings", dir.resolve("nowhere").toString(), "--output",
                target.toString());
        assertEquals(1, run.code(), run.err());
        assertTrue(run.err().contains("_jembed.json: expected the description of the vectors"), run.err());
        assertFalse(Files.exists(target));
    }
}
