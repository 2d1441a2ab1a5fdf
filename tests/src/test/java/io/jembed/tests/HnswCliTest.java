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

/**
 * The hnsw index type through the CLI, beside flat on the demo corpus: {@code index --type hnsw},
 * {@code index info}, search unchanged (with {@code --ef}), {@code --filter} on both types, append,
 * upsert, delete and compact, and the usage errors of the new options.
 */
class HnswCliTest {

    static final ObjectMapper JSON = new ObjectMapper();
    static final List<String> QUESTIONS = List.of("Which river flows north?", "How do vaccines train the immune system?",
            "Why is the sky blue?", "What makes bread rise?", "How are mountains formed?");

    @TempDir
    static Path dir;
    static Path model;
    static Path corpus;
    static Path flat;
    static Path hnsw;

    @BeforeAll
    static void setUp() throws IOException {
        model = Requirements.defaultModel();
        corpus = dir.resolve("corpus.jsonl");
        try (InputStream in = HnswCliTest.class.getResourceAsStream("/io/jembed/demo/corpus.jsonl")) {
            Files.copy(in, corpus);
        }
        flat = dir.resolve("flat");
        hnsw = dir.resolve("hnsw");
        CliRun made = run("index", "--input", corpus.toString(), "--output", flat.toString());
        assertEquals(0, made.code(), made.err());
        made = run("index", "--input", corpus.toString(), "--output", hnsw.toString(), "--type", "hnsw");
        assertEquals(0, made.code(), made.err());
        assertTrue(made.err().contains("in an hnsw index {m=16, ef_construction=100, quantize=none, ef=100}"),
                made.err());
    }

    static CliRun run(String... words) {
        return CliRun.withModel(model, words);
    }

    static JsonNode hits(Path index, String question, String... more) throws IOException {
        List<String> words = new ArrayList<>(List.of("search", "--index", index.toString(), "--json"));
        if (!List.of(more).contains("-k")) {
            words.addAll(List.of("-k", "5"));
        }
        words.addAll(List.of(more));
        words.add(question);
        CliRun search = run(words.toArray(String[]::new));
        assertEquals(0, search.code(), search.err());
        return JSON.readTree(search.out()).path("hits");
    }

    static List<String> ids(JsonNode hits) {
        List<String> ids = new ArrayList<>();
        hits.forEach(hit -> ids.add(hit.path("id").asText()));
        return ids;
    }

    @Test
    void hnswAnswersAsFlatDoesWithTheSameScores() throws IOException {
        for (String question : QUESTIONS) {
            // 240 documents and ef 240: the graph walk reaches every one, so the top 5 is flat's exactly.
            JsonNode exact = hits(flat, question);
            JsonNode approximate = hits(hnsw, question, "--ef", "240");
            assertEquals(exact, approximate, question);
            assertEquals(ids(exact).subList(0, 3), ids(hits(hnsw, question)).subList(0, 3), question + " at default ef");
        }
        CliRun flatEf = run("search", "--index", flat.toString(), "--ef", "50", "Why is the sky blue?");
        assertEquals(0, flatEf.code(), flatEf.err());
        assertTrue(flatEf.err().contains("--ef ignored: " + flat + " is a flat index, whose search is exact"),
                flatEf.err());
    }

    @Test
    void indexInfoShowsTypeSettingsSegmentsAndSizes() throws IOException {
        CliRun info = CliRun.run("index", "info", hnsw.toString());
        assertEquals(0, info.code(), info.err());
        assertTrue(info.out().contains("type        hnsw  m=16 ef_construction=100 quantize=none ef=100"), info.out());
        assertTrue(info.out().contains("documents   240 live, 0 deleted; 240 rows"), info.out());
        assertTrue(info.out().matches("(?s).*segment 1\\s+240 documents \\(0 deleted\\), 240 rows; vectors [0-9.]+ kB, "
                + "documents [0-9.]+ kB, hnsw [0-9.]+ kB.*"), info.out());
        CliRun json = CliRun.run("index", "info", hnsw.toString(), "--json");
        assertEquals(0, json.code(), json.err());
        JsonNode root = JSON.readTree(json.out());
        assertEquals("hnsw", root.path("index_type").asText());
        assertEquals("16", root.path("index_parameters").path("m").asText());
        assertEquals("index.1", root.path("segments").get(0).path("index_files").asText());
        assertTrue(root.path("segments").get(0).path("index_files_bytes").asLong() > 0);
        assertTrue(root.path("bytes").asLong() > root.path("segments").get(0).path("vectors_bytes").asLong());
        CliRun flatInfo = CliRun.run("index", "info", flat.toString());
        assertTrue(flatInfo.out().contains("type        flat\n"), flatInfo.out());
        CliRun missing = CliRun.run("index", "info", dir.resolve("nothing").toString());
        assertEquals(1, missing.code());
        assertTrue(missing.err().contains("nothing"), missing.err());
        assertEquals(2, CliRun.run("index", "info").code());
    }

    @Test
    void filtersKeepToMatchingDocumentsOnBothTypes() throws IOException {
        for (Path index : List.of(flat, hnsw)) {
            JsonNode science = hits(index, "Why is the sky blue?", "--filter", "topic=science");
            assertEquals(5, science.size());
            science.forEach(hit -> assertEquals("science", hit.path("fields").path("topic").asText(), hit.toString()));
            JsonNode two = hits(index, "Why is the sky blue?", "--filter", "topic=cooking", "--filter", "topic=health");
            two.forEach(hit -> assertTrue(List.of("cooking", "health").contains(hit.path("fields").path("topic").asText()),
                    hit.toString()));
            CliRun none = run("search", "--index", index.toString(), "--filter", "topic=astrology", "sky");
            assertEquals(0, none.code(), none.err());
            assertEquals("", none.out());
            assertTrue(none.err().contains("passes --filter topic=astrology"), none.err());
        }
        assertEquals(hits(flat, "What makes bread rise?", "--filter", "topic=cooking"),
                hits(hnsw, "What makes bread rise?", "--filter", "topic=cooking"));
        CliRun bad = run("search", "--index", flat.toString(), "--filter", "topic", "sky");
        assertEquals(2, bad.code());
        assertTrue(bad.err().contains("--filter: expected field=value, found 'topic'"), bad.err());
    }

    @Test
    void theNewOptionsRefuseWhatTheyCannotDo() throws IOException {
        String out = dir.resolve("refused").toString();
        String in = corpus.toString();
        CliRun type = run("index", "--input", in, "--output", out, "--type", "ivf");
        assertEquals(2, type.code());
        assertTrue(type.err().contains("index: --type: index type: expected flat or hnsw, found 'ivf'"), type.err());
        CliRun m = run("index", "--input", in, "--output", out, "--type", "hnsw", "--hnsw-m", "1");
        assertEquals(2, m.code());
        assertTrue(m.err().contains("--hnsw-m: expected an integer in [2, 512], found '1'"), m.err());
        CliRun int4 = run("index", "--input", in, "--output", out, "--quantize", "int4");
        assertEquals(2, int4.code());
        assertTrue(int4.err().contains("--quantize int4 needs --type hnsw"), int4.err());
        CliRun flatM = run("index", "--input", in, "--output", out, "--hnsw-m", "8");
        assertEquals(2, flatM.code());
        assertTrue(flatM.err().contains("--hnsw-m and --hnsw-ef-construction need --type hnsw"), flatM.err());
        assertFalse(Files.exists(Path.of(out)), "nothing written");
    }

    @Test
    void appendUpsertDeleteAndCompactKeepTheGraphs() throws IOException {
        Path index = dir.resolve("lifecycle");
        Path first = Files.writeString(dir.resolve("first.jsonl"), """
                {"id": "a", "text": "The Nile flows north through Egypt to the Mediterranean.", "kind": "river"}
                {"id": "b", "text": "Bread rises because yeast makes carbon dioxide.", "kind": "food"}
                {"id": "c", "text": "Mount Everest is the highest mountain above sea level.", "kind": "mountain"}
                """);
        Path second = Files.writeString(dir.resolve("second.jsonl"), """
                {"id": "d", "text": "The Amazon carries more water than any other river.", "kind": "river"}
                {"id": "b", "text": "Sourdough uses wild yeast and lactic bacteria.", "kind": "food"}
                """);
        CliRun made = run("index", "--input", first.toString(), "--output", index.toString(), "--type", "hnsw",
                "--hnsw-m", "8", "--quantize", "int8");
        assertEquals(0, made.code(), made.err());
        CliRun changed = run("index", "--input", second.toString(), "--output", index.toString(), "--append",
                "--type", "flat");
        assertEquals(1, changed.code());
        assertTrue(changed.err().contains("is a hnsw index; --append and --upsert keep its type")
                || changed.err().contains("is an hnsw index; --append and --upsert keep its type"), changed.err());
        CliRun otherM = run("index", "--input", second.toString(), "--output", index.toString(), "--upsert",
                "--hnsw-m", "32");
        assertEquals(1, otherM.code());
        assertTrue(otherM.err().contains("has hnsw m 8; --append and --upsert keep its settings (found 32)"),
                otherM.err());
        CliRun upsert = run("index", "--input", second.toString(), "--output", index.toString(), "--upsert");
        assertEquals(0, upsert.code(), upsert.err());
        JsonNode manifest = JSON.readTree(index.resolve("manifest.json").toFile());
        assertEquals(2, manifest.path("segments").size());
        manifest.path("segments").forEach(s -> assertTrue(Files.isDirectory(index.resolve(s.path("index_files")
                .asText())), s.toString()));
        assertEquals("int8", manifest.path("index_parameters").path("quantize").asText());
        JsonNode bread = hits(index, "How does bread rise?", "-k", "4");
        assertEquals(4, bread.size());
        assertEquals(1, ids(bread).stream().filter("b"::equals).count(), "one b, the new one");
        bread.forEach(hit -> assertFalse(hit.path("text").asText().contains("carbon dioxide"), "replaced b returned"));
        CliRun delete = CliRun.run("delete", "--index", index.toString(), "a");
        assertEquals(0, delete.code(), delete.err());
        assertFalse(ids(hits(index, "Which river flows north?", "-k", "3")).contains("a"));
        assertEquals(List.of("d"), ids(hits(index, "Which river flows north?", "-k", "3", "--filter", "kind=river")));
        CliRun compact = CliRun.run("compact", "--index", index.toString());
        assertEquals(0, compact.code(), compact.err());
        manifest = JSON.readTree(index.resolve("manifest.json").toFile());
        assertEquals(1, manifest.path("segments").size());
        assertEquals(3, manifest.path("count").asInt());
        try (var files = Files.list(index)) {
            assertEquals(1, files.filter(f -> f.getFileName().toString().startsWith("index.")).count(),
                    "the old graphs are gone");
        }
        assertEquals(List.of("d"), ids(hits(index, "Which river flows north?", "-k", "3", "--filter", "kind=river")));
    }
}
