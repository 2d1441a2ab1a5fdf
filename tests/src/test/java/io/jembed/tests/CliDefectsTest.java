package io.jembed.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * CLI defects a new user hit (the index issue's list, items 2, 3, 6, 7, 9 and part of 10), each
 * reproduced as it was reported and checked fixed: exit code, message, and what is on disk.
 */
class CliDefectsTest {

    static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static Path dir;
    static Path model;
    static Path index;

    @BeforeAll
    static void setUp() throws IOException {
        model = Requirements.defaultModel();
        Path corpus = Files.writeString(dir.resolve("corpus.jsonl"), """
                {"id": "a", "text": "The sky looks blue because air scatters blue light.", "score": 99}
                {"id": "b", "text": "Bread rises because yeast makes carbon dioxide."}
                """);
        index = dir.resolve("index");
        CliRun built = run("index", "--input", corpus.toString(), "--output", index.toString());
        assertEquals(0, built.code(), built.err());
    }

    static CliRun run(String... words) {
        List<String> all = new ArrayList<>(List.of(words));
        all.add("--model");
        all.add(model.toString());
        return CliRun.run(all.toArray(String[]::new));
    }

    /** Item 2: outputs get the permissions of any new file here (0644 under umask 0022), not 0600. */
    @Test
    void outputFilesHaveTheDefaultPermissions() throws IOException {
        Path input = Files.writeString(dir.resolve("perm.jsonl"), "{\"id\": 1, \"text\": \"hello\"}\n");
        Set<PosixFilePermission> expected = Files.getPosixFilePermissions(Files.createFile(dir.resolve("probe-file")));
        Path embedded = dir.resolve("perm-embed.jsonl");
        assertEquals(0, run("embed", "--input", input.toString(), "--output", embedded.toString()).code());
        assertEquals(expected, Files.getPosixFilePermissions(embedded));
        Path tokens = dir.resolve("perm-tokens.jsonl");
        assertEquals(0, run("tokenize", "--input", input.toString(), "--output", tokens.toString()).code());
        assertEquals(expected, Files.getPosixFilePermissions(tokens));
        Path hits = dir.resolve("perm-hits.txt");
        assertEquals(0, run("search", "--index", index.toString(), "-k", "1", "--output", hits.toString(), "sky").code());
        assertEquals(expected, Files.getPosixFilePermissions(hits));
        assertTrue(expected.contains(PosixFilePermission.OWNER_READ));
    }

    /** Item 3: a document field named score does not replace the similarity; every field is under "fields". */
    @Test
    void aFieldNamedScoreKeepsTheSimilarityScore() throws IOException {
        CliRun json = run("search", "--index", index.toString(), "--json", "-k", "1", "why is the sky blue");
        assertEquals(0, json.code(), json.err());
        JsonNode hit = JSON.readTree(json.out()).path("hits").get(0);
        assertEquals("a", hit.path("id").asText());
        assertTrue(hit.path("score").floatValue() < 1.5f, "the cosine, not the field's 99: " + hit);
        assertEquals(99, hit.path("fields").path("score").asInt());
    }

    /** Item 6: "text": null is named as null, not as a missing field. */
    @Test
    void aNullTextIsReportedAsNull() throws IOException {
        Path input = Files.writeString(dir.resolve("null.jsonl"), "{\"id\": 1, \"text\": \"ok\"}\n{\"id\": 2, \"text\": null}\n");
        CliRun run = run("embed", "--input", input.toString(), "--output", dir.resolve("null-out.jsonl").toString());
        assertEquals(1, run.code());
        assertTrue(run.err().contains("line 2 has \"text\": null; expected a string"), run.err());
        assertFalse(Files.exists(dir.resolve("null-out.jsonl")));
    }

    /** Item 7: search --output writes the file; --json with --queries is refused rather than ignored. */
    @Test
    void searchFlagsAreHonouredOrRefused() throws IOException {
        Path out = dir.resolve("one-hit.json");
        CliRun toFile = run("search", "--index", index.toString(), "--json", "-k", "1", "--output", out.toString(), "bread");
        assertEquals(0, toFile.code(), toFile.err());
        assertEquals("", toFile.out());
        assertEquals("b", JSON.readTree(Files.readString(out)).path("hits").get(0).path("id").asText());
        Path queries = Files.writeString(dir.resolve("q.jsonl"), "{\"id\": 1, \"text\": \"bread\"}\n");
        CliRun both = run("search", "--index", index.toString(), "--json", "--queries", queries.toString());
        assertEquals(2, both.code());
        assertTrue(both.err().contains("--json is for one question"), both.err());
    }

    /** Item 9: --output equal to --input is refused and the input is left as it was. */
    @Test
    void anOutputThatIsTheInputIsRefused() throws IOException {
        String content = "{\"id\": 1, \"text\": \"keep me\"}\n";
        Path input = Files.writeString(dir.resolve("same.jsonl"), content);
        CliRun run = run("embed", "--input", input.toString(), "--output", dir.resolve(".").resolve("same.jsonl").toString());
        assertEquals(2, run.code());
        assertTrue(run.err().contains("is the --input file"), run.err());
        assertEquals(content, Files.readString(input));
        assertEquals(2, run("tokenize", "--input", input.toString(), "--output", input.toString()).code());
        assertEquals(content, Files.readString(input));
    }

    /** Item 10, in part: an empty question, -n named as typed, every line skipped, --help's commands. */
    @Test
    void smallerDefects() throws IOException {
        CliRun empty = run("search", "--index", index.toString(), "-k", "1", "  ");
        assertEquals(2, empty.code());
        assertTrue(empty.err().contains("the question is empty"), empty.err());

        CliRun n = run("search", "--index", index.toString(), "-k", "1", "-n", "5", "sky");
        assertEquals(2, n.code());
        assertTrue(n.err().contains("unknown option -n "), n.err());

        Path bad = Files.writeString(dir.resolve("bad.jsonl"), "not json\nnor this\n");
        Path out = dir.resolve("bad-out.jsonl");
        CliRun skipped = run("embed", "--input", bad.toString(), "--output", out.toString(), "--on-error", "skip");
        assertEquals(1, skipped.code());
        assertTrue(skipped.err().contains("every line of " + bad + " was skipped (2 bad lines)"), skipped.err());
        assertFalse(Files.exists(out));
        Path badIndex = dir.resolve("bad-index");
        assertEquals(1, run("index", "--input", bad.toString(), "--output", badIndex.toString(), "--on-error", "skip").code());
        assertFalse(Files.exists(badIndex));

        CliRun help = CliRun.run("--help");
        assertTrue(help.out().contains("  test ") && help.out().contains("  bench "), help.out());
        try (var files = Files.list(dir)) {
            assertTrue(files.noneMatch(f -> f.getFileName().toString().endsWith(".tmp")), "no temporary file left behind");
        }
    }
}
