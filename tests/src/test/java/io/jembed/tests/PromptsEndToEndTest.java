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

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.jembed.core.Embedder;
import io.jembed.core.index.Document;
import io.jembed.core.index.IndexStore;
import io.jembed.core.index.Quantization;
import io.jembed.core.model.Prompt;
import io.jembed.core.search.SemanticSearch;

/**
 * {@code jembed index} + {@code jembed search} on e5-small-v2 with no prompt flags: the stored vectors
 * are {@code embedDocument}'s ("passage: "), the question is embedded by {@code embedQuery}
 * ("query: "), and an index refuses a model whose prompts differ.
 */
class PromptsEndToEndTest {

    static final ObjectMapper JSON = new ObjectMapper();
    static final List<String> TEXTS = List.of(
            "The Nile flows north for more than six thousand kilometres into the Mediterranean.",
            "Green and black tea come from the leaves of the same plant, Camellia sinensis.",
            "Adult women need about 46 grams of protein a day, according to the CDC.",
            "A summit is the highest point of a mountain.");
    static final String QUESTION = "how much protein should a woman eat per day";

    static Path model;
    static Embedder embedder;

    @TempDir
    static Path dir;

    @BeforeAll
    static void load() throws IOException {
        model = Requirements.catalogueModel("e5-small-v2");
        embedder = Embedder.load(model);
    }

    @AfterAll
    static void close() {
        if (embedder != null) {
            embedder.close();
        }
    }

    static Path corpus() throws IOException {
        StringBuilder lines = new StringBuilder();
        for (int i = 0; i < TEXTS.size(); i++) {
            lines.append(JSON.createObjectNode().put("id", "d" + i).put("text", TEXTS.get(i))).append('\n');
        }
        return Files.writeString(dir.resolve("corpus.jsonl"), lines);
    }

    @Test
    void indexAndSearchApplyTheModelsDocumentAndQueryPrompts() throws IOException {
        Path index = dir.resolve("e5-index");
        CliRun built = CliRun.run("index", "--model", model.toString(), "--input", corpus().toString(), "--output", index.toString());
        assertEquals(0, built.code(), built.err());
        assertTrue(built.err().contains("document prompt 'document' (\"passage: \")"), built.err());

        float[][] documents = embedder.embedDocument(TEXTS);
        float[][] plain = embedder.embed(TEXTS);
        try (IndexStore expected = IndexStore.create(SemanticSearch.spec(embedder), Quantization.NONE, 1);
             IndexStore opened = IndexStore.open(index, SemanticSearch.spec(embedder), 1)) {
            List<Document> docs = new ArrayList<>();
            for (int i = 0; i < TEXTS.size(); i++) {
                docs.add(Document.of("d" + i, TEXTS.get(i)));
            }
            expected.add(docs, documents);
            assertEquals("passage: ", opened.spec().documentPrompt().text());
            for (int i = 0; i < TEXTS.size(); i++) {
                assertArrayEquals(expected.vector(i), opened.vector(i), "stored vector " + i + " is embedDocument's");
                assertFalse(java.util.Arrays.equals(plain[i], documents[i]), "the prompt changed nothing for " + i);
            }

            CliRun searched = CliRun.run("search", "--model", model.toString(), "--index", index.toString(), "-k", "4", "--json",
                    QUESTION);
            assertEquals(0, searched.code(), searched.err());
            JsonNode hits = JSON.readTree(searched.out()).get("hits");
            List<IndexStore.Match> byQueryPrompt = opened.search(embedder.embedQuery(QUESTION), 4);
            List<IndexStore.Match> byRawText = opened.search(embedder.embed(QUESTION, Prompt.NONE), 4);
            for (int i = 0; i < 4; i++) {
                assertEquals(byQueryPrompt.get(i).document().id().asText(), hits.get(i).get("id").asText());
                assertEquals(byQueryPrompt.get(i).score(), hits.get(i).get("score").floatValue(), 0f,
                        "hit " + i + " scored with embedQuery's vector");
            }
            assertEquals("d2", hits.get(0).get("id").asText());
            assertTrue(byRawText.get(0).score() != byQueryPrompt.get(0).score(), "the query prompt changed nothing");

            // --prompt overrides the automatic query prompt.
            CliRun overridden = CliRun.run("search", "--model", model.toString(), "--index", index.toString(), "-k", "1",
                    "--json", "--prompt", "", QUESTION);
            assertEquals(byRawText.get(0).score(),
                    JSON.readTree(overridden.out()).get("hits").get(0).get("score").floatValue(), 0f);
        }
    }

    @Test
    void searchWithoutModelFlagUsesTheIndexsCatalogueModel() throws IOException {
        Path index = dir.resolve("e5-named");
        assertEquals(0, CliRun.run("index", "--model", "e5-small-v2", "--input", corpus().toString(), "--output",
                index.toString()).code());
        CliRun searched = CliRun.run("search", "--index", index.toString(), "-k", "1", QUESTION);
        assertEquals(0, searched.code(), searched.err());
        assertTrue(searched.out().contains("d2"), searched.out());
    }

    @Test
    void anIndexRefusesAModelWhosePromptsDiffer() throws IOException {
        Path index = dir.resolve("e5-refuse");
        assertEquals(0, CliRun.run("index", "--model", model.toString(), "--input", corpus().toString(), "--output",
                index.toString()).code());
        // The same weights under other prompts: a copy of the directory with its prompts edited.
        Path other = Files.createDirectories(dir.resolve("e5-other-prompts"));
        try (var files = Files.walk(model)) {
            for (Path file : files.filter(Files::isRegularFile).toList()) {
                Path target = other.resolve(model.relativize(file).toString());
                Files.createDirectories(target.getParent());
                if (file.getFileName().toString().equals("model.safetensors")) {
                    Files.createSymbolicLink(target, file);
                } else {
                    Files.copy(file, target);
                }
            }
        }
        Files.writeString(other.resolve("config_sentence_transformers.json"),
                "{\"prompts\": {\"query\": \"Query: \", \"document\": \"Passage: \"}, \"default_prompt_name\": null}");
        CliRun refused = CliRun.run("search", "--model", other.toString(), "--index", index.toString(), QUESTION);
        assertEquals(1, refused.code(), refused.err());
        assertTrue(refused.err().contains("index prompts: expected {query=Query: , document=Passage: } (the model's "
                + "config_sentence_transformers.json), found {query=query: , document=passage: } in manifest.json"),
                refused.err());
        assertEquals("", refused.out());
    }

    @Test
    void embedTakesAPromptByNameOrText() throws IOException {
        Path out = dir.resolve("query-vectors.jsonl");
        CliRun named = CliRun.run("embed", "--model", model.toString(), "--input", corpus().toString(), "--output", out.toString(),
                "--prompt-name", "query");
        assertEquals(0, named.code(), named.err());
        List<String> lines = Files.readAllLines(out);
        float[][] queries = embedder.embedQuery(TEXTS);
        for (int i = 0; i < TEXTS.size(); i++) {
            JsonNode vector = JSON.readTree(lines.get(i)).get("embedding");
            for (int j = 0; j < queries[i].length; j++) {
                assertEquals(queries[i][j], vector.get(j).floatValue(), 0f);
            }
        }
        CliRun both = CliRun.run("embed", "--model", model.toString(), "--input", corpus().toString(), "--output", out.toString(),
                "--prompt-name", "query", "--prompt", "x");
        assertEquals(2, both.code());
        assertTrue(both.err().contains("--prompt-name and --prompt exclude each other"), both.err());
        CliRun unknown = CliRun.run("embed", "--model", model.toString(), "--input", corpus().toString(), "--output", "-",
                "--prompt-name", "passage");
        assertEquals(2, unknown.code());
        assertTrue(unknown.err().contains("--prompt-name 'passage': expected one of the model's prompts [query, document]"),
                unknown.err());
    }
}
