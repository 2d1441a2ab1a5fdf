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
import java.util.stream.Stream;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * An index kept current through the CLI, as the index issue asks: ids are keys (--append refuses a
 * known id, --upsert replaces it, delete removes it), each change a new segment or deletion set,
 * compact merges them, long documents are reported when cut, refused with --truncate error, or
 * indexed in windows whose spans come back with the hits.
 */
class IndexLifecycleTest {

    static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static Path dir;
    static Path model;

    @BeforeAll
    static void setUp() {
        model = Requirements.defaultModel();
    }

    static CliRun run(String... words) {
        return CliRun.withModel(model, words);
    }

    static Path corpus(String name, String lines) throws IOException {
        return Files.writeString(dir.resolve(name), lines);
    }

    static JsonNode manifest(Path index) throws IOException {
        return JSON.readTree(index.resolve("manifest.json").toFile());
    }

    static List<String> ids(Path index, String question, int k) throws IOException {
        CliRun search = run("search", "--index", index.toString(), "--json", "-k", String.valueOf(k), question);
        assertEquals(0, search.code(), search.err());
        List<String> ids = new ArrayList<>();
        for (JsonNode hit : JSON.readTree(search.out()).path("hits")) {
            ids.add(hit.path("id").asText());
        }
        return ids;
    }

    static List<String> files(Path index) throws IOException {
        try (Stream<Path> list = Files.list(index)) {
            // .lock stays: deleting a lock file another writer may be waiting on would let two writers in.
            return list.map(p -> p.getFileName().toString()).filter(name -> !name.equals(".lock")).sorted().toList();
        }
    }

    @Test
    void idsAreKeysThroughAppendUpsertDeleteAndCompact() throws IOException {
        Path index = dir.resolve("keys");
        Path first = corpus("first.jsonl", """
                {"id": "sky", "text": "The sky looks blue because air scatters blue light."}
                {"id": "bread", "text": "Bread rises because yeast makes carbon dioxide."}
                {"id": 7, "text": "Rivers carve valleys over thousands of years."}
                """);
        assertEquals(0, run("index", "--input", first.toString(), "--output", index.toString()).code());
        byte[] firstSegment = Files.readAllBytes(index.resolve(manifest(index).path("segments").get(0)
                .path("vectors_file").asText()));

        // The same documents again: refused, naming the line and the way out, and nothing written.
        JsonNode before = manifest(index);
        CliRun again = run("index", "--input", first.toString(), "--output", index.toString(), "--append");
        assertEquals(1, again.code());
        assertTrue(again.err().contains("line 1: document id \"sky\" is already in the index") && again.err().contains("--upsert"),
                again.err());
        assertEquals(before, manifest(index));
        Path twice = corpus("twice.jsonl", """
                {"id": "moon", "text": "The moon has phases."}
                {"id": "moon", "text": "The moon pulls the tides."}
                """);
        CliRun repeated = run("index", "--input", twice.toString(), "--output", index.toString(), "--append");
        assertEquals(1, repeated.code());
        assertTrue(repeated.err().contains("line 2: document id \"moon\" appears earlier in the input (line 1)"), repeated.err());
        assertEquals(before, manifest(index));

        // --append of new ids: one new segment; the first segment's files are not rewritten.
        Path more = corpus("more.jsonl", "{\"id\": \"tea\", \"text\": \"Green tea is made from unoxidised leaves.\"}\n");
        CliRun appended = run("index", "--input", more.toString(), "--output", index.toString(), "--append");
        assertEquals(0, appended.code(), appended.err());
        assertEquals(2, manifest(index).path("segments").size());
        assertArrayEquals(firstSegment, Files.readAllBytes(index.resolve(manifest(index).path("segments").get(0)
                .path("vectors_file").asText())));

        // --upsert replaces: the old text is never returned again; an integer id 7 and "7" are one key.
        Path changed = corpus("changed.jsonl", """
                {"id": "bread", "text": "Sourdough bread uses wild yeast and lactic bacteria."}
                {"id": "7", "text": "Glaciers carve U-shaped valleys."}
                """);
        CliRun upserted = run("index", "--input", changed.toString(), "--output", index.toString(), "--upsert");
        assertEquals(0, upserted.code(), upserted.err());
        assertTrue(upserted.err().contains("now holds 4 documents (4 before, 2 replaced)"), upserted.err());
        CliRun bread = run("search", "--index", index.toString(), "--json", "-k", "4", "yeast bread");
        JsonNode hits = JSON.readTree(bread.out()).path("hits");
        assertEquals(4, hits.size());
        assertEquals("Sourdough bread uses wild yeast and lactic bacteria.", hits.get(0).path("text").asText());
        for (JsonNode hit : hits) {
            assertFalse(hit.path("text").asText().startsWith("Bread rises") || hit.path("text").asText().startsWith("Rivers"),
                    "a replaced document came back: " + hits);
        }

        // delete: by arguments and by --ids; unknown ids reported, exit 0.
        Path idsFile = Files.writeString(dir.resolve("ids.txt"), "tea\n\nnot-there\n");
        CliRun deleted = CliRun.run("delete", "--index", index.toString(), "sky", "--ids", idsFile.toString());
        assertEquals(0, deleted.code(), deleted.err());
        assertTrue(deleted.err().contains("deleted 2 documents") && deleted.err().contains("not-there"), deleted.err());
        assertEquals(List.of("7", "bread"), ids(index, "blue sky tea valleys bread", 2).stream().sorted().toList());
        assertEquals(2, manifest(index).path("count").asInt());
        List<String> beforeCompact = ids(index, "valleys", 2);

        // compact: one segment, the same answers, the replaced files gone.
        CliRun compacted = CliRun.run("compact", "--index", index.toString());
        assertEquals(0, compacted.code(), compacted.err());
        assertEquals(1, manifest(index).path("segments").size());
        assertEquals(beforeCompact, ids(index, "valleys", 2));
        assertEquals(3, files(index).size(), "manifest, one vectors file, one documents file: " + files(index));

        CliRun noIndex = CliRun.run("delete", "--index", dir.resolve("nowhere").toString(), "x");
        assertEquals(1, noIndex.code());
        assertTrue(noIndex.err().contains("expected an index directory"), noIndex.err());
        assertEquals(2, CliRun.run("delete", "--index", index.toString()).code());
    }

    @Test
    void upsertCreatesAnIndexThatIsNotThereAndTheLastLineOfAnIdWins() throws IOException {
        Path index = dir.resolve("upsert-new");
        Path input = corpus("upsert-new.jsonl", """
                {"id": "a", "text": "first version"}
                {"id": "a", "text": "second version about owls"}
                """);
        CliRun created = run("index", "--input", input.toString(), "--output", index.toString(), "--upsert");
        assertEquals(0, created.code(), created.err());
        JsonNode hits = JSON.readTree(run("search", "--index", index.toString(), "--json", "-k", "1", "owls").out())
                .path("hits");
        assertEquals(1, hits.size());
        assertEquals("second version about owls", hits.get(0).path("text").asText());
        assertEquals(2, run("index", "--input", input.toString(), "--output", index.toString(), "--upsert", "--append").code());
    }

    static String words(int n) {
        StringBuilder text = new StringBuilder();
        String[] pool = {"harbour", "ferry", "timetable", "parking", "permit", "quay", "market", "church", "roof",
                "regatta", "mooring", "volunteer", "spring", "summer", "office", "desk"};
        for (int i = 0; i < n; i++) {
            text.append(i == 0 ? "" : " ").append(pool[(i * 7 + i / 16) % pool.length]);
        }
        return text.toString();
    }

    @Test
    void longDocumentsAreReportedRefusedOrIndexedInWindows() throws IOException {
        String needle = "Owls can turn their heads two hundred and seventy degrees to look behind them.";
        String longText = words(300) + ". " + needle + " " + words(300) + ".";
        Path input = corpus("long.jsonl", JSON.writeValueAsString(java.util.Map.of("id", "long", "text", longText))
                + "\n{\"id\": \"short\", \"text\": \"Cats sleep most of the day.\"}\n");

        CliRun cut = run("index", "--input", input.toString(), "--output", dir.resolve("cut").toString());
        assertEquals(0, cut.code(), cut.err());
        assertTrue(cut.err().contains("1 of 2 texts had more than 256 tokens and were truncated"), cut.err());

        Path refusedDir = dir.resolve("refused");
        CliRun refused = run("index", "--input", input.toString(), "--output", refusedDir.toString(), "--truncate", "error");
        assertEquals(1, refused.code());
        assertTrue(refused.err().contains(input + ":1: expected at most 256 tokens"), refused.err());
        assertFalse(Files.exists(refusedDir));

        CliRun tooBig = run("index", "--input", input.toString(), "--output", dir.resolve("big").toString(),
                "--chunk-tokens", "300");
        assertEquals(2, tooBig.code());
        assertTrue(tooBig.err().contains("--chunk-tokens: expected at most 254"), tooBig.err());
        assertEquals(2, run("index", "--input", input.toString(), "--output", dir.resolve("big").toString(),
                "--chunk-tokens", "64", "--chunk-overlap", "64").code());

        Path chunked = dir.resolve("chunked");
        CliRun windows = run("index", "--input", input.toString(), "--output", chunked.toString(),
                "--chunk-tokens", "64", "--chunk-overlap", "16");
        assertEquals(0, windows.code(), windows.err());
        assertFalse(windows.err().contains("truncated"), windows.err());
        JsonNode hit = JSON.readTree(run("search", "--index", chunked.toString(), "--json", "-k", "1",
                "how far can an owl rotate its head").out()).path("hits").get(0);
        assertEquals("long", hit.path("id").asText());
        assertEquals(longText, hit.path("text").asText(), "the whole document comes back beside its window");
        JsonNode chunk = hit.path("chunk");
        int start = chunk.path("start").asInt();
        int end = chunk.path("end").asInt();
        assertEquals(longText.substring(start, end), chunk.path("text").asText());
        assertTrue(chunk.path("text").asText().contains("Owls can turn"), chunk.toString());
        assertTrue(end - start < longText.length() / 4, "a window, not the document: " + chunk);

        CliRun table = run("search", "--index", chunked.toString(), "-k", "1", "how far can an owl rotate its head");
        assertTrue(table.out().contains("…") && table.out().contains("long"), "the table shows the window: " + table.out());

        Path queries = corpus("owl-q.jsonl", "{\"id\": \"q\", \"text\": \"owl head rotation\"}\n");
        Path out = dir.resolve("owl-hits.jsonl");
        assertEquals(0, run("search", "--index", chunked.toString(), "--queries", queries.toString(), "-k", "2",
                "--output", out.toString()).code());
        JsonNode batch = JSON.readTree(Files.readString(out)).path("hits");
        assertEquals(start, batch.get(0).path("chunk").path("start").asInt());
        assertEquals(2, batch.size(), "documents, not windows, are ranked: " + batch);

        // --append keeps the index's windows, and refuses other ones.
        Path more = corpus("long-more.jsonl", JSON.writeValueAsString(java.util.Map.of("id", "more", "text", longText)) + "\n");
        CliRun other = run("index", "--input", more.toString(), "--output", chunked.toString(), "--append",
                "--chunk-tokens", "128");
        assertEquals(1, other.code());
        assertTrue(other.err().contains("documents in windows of 64 tokens overlapping by 16"), other.err());
        CliRun kept = run("index", "--input", more.toString(), "--output", chunked.toString(), "--append");
        assertEquals(0, kept.code(), kept.err());
        assertTrue(kept.err().contains("windows of at most 64 tokens, overlap 16"), kept.err());
    }
}
