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
 * CLI defects a new user hit (the index issue's list, items 1 to 10), each reproduced as it was
 * reported and checked fixed: exit code, message, and what is on disk.
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
        return CliRun.withModel(model, words);
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

    /** Item 1: an unknown switch is named as unknown, and does not swallow the argument after it. */
    @Test
    void anUnknownSwitchIsNamedAndSwallowsNothing() throws IOException {
        Path input = Files.writeString(dir.resolve("ok.jsonl"), "{\"id\": 1, \"text\": \"hello\"}\n");
        Path out = dir.resolve("u.jsonl");
        CliRun embed = run("embed", "--input", input.toString(), "--output", out.toString(), "--normalize");
        assertEquals(2, embed.code());
        assertTrue(embed.err().contains("unknown option --normalize"), embed.err());
        assertFalse(embed.err().contains("needs a value"), embed.err());
        assertFalse(Files.exists(out));
        CliRun search = run("search", "--index", index.toString(), "--pretty", "vitamin D");
        assertEquals(2, search.code());
        assertTrue(search.err().contains("unknown option --pretty"), search.err());
        assertFalse(search.err().contains("expected one question"), search.err());
    }

    /**
     * Item 4: a BEIR line (_id, title, text, metadata) indexes with --text-field title or title,text,
     * its own fields kept apart from jembed's keys; an --id-field missing from a line is named.
     */
    @Test
    void beirLinesIndexWithAnyTextFieldAndTheirOwnFields() throws IOException {
        Path beir = Files.writeString(dir.resolve("beir.jsonl"), """
                {"_id": "d1", "title": "Vitamin D and bone health", "text": "Calcium absorption in the gut depends on vitamin D.", "metadata": {"year": 2001}}
                {"_id": "d2", "title": "Sleep and memory", "text": "Deep sleep consolidates what was learned during the day.", "metadata": {}}
                """);
        Path byTitle = dir.resolve("beir-title");
        CliRun title = run("index", "--input", beir.toString(), "--output", byTitle.toString(), "--id-field", "_id",
                "--text-field", "title");
        assertEquals(0, title.code(), title.err());
        JsonNode hit = JSON.readTree(run("search", "--index", byTitle.toString(), "--json", "-k", "1", "bones").out())
                .path("hits").get(0);
        assertEquals("d1", hit.path("id").asText());
        assertEquals("Vitamin D and bone health", hit.path("text").asText());
        // The document's own "text" is a field like any other, beside jembed's "text" (the title here).
        assertEquals("Calcium absorption in the gut depends on vitamin D.", hit.path("fields").path("text").asText());
        assertEquals(2001, hit.path("fields").path("metadata").path("year").asInt());
        assertFalse(hit.path("fields").has("_id") || hit.path("fields").has("title"), hit.toString());

        Path joined = dir.resolve("beir-joined");
        assertEquals(0, run("index", "--input", beir.toString(), "--output", joined.toString(), "--id-field", "_id",
                "--text-field", "title,text").code());
        JsonNode both = JSON.readTree(run("search", "--index", joined.toString(), "--json", "-k", "1", "sleep").out())
                .path("hits").get(0);
        assertEquals("Sleep and memory Deep sleep consolidates what was learned during the day.", both.path("text").asText());
        assertEquals(List.of("metadata"), iterable(both.path("fields").fieldNames()));

        Path plain = Files.writeString(dir.resolve("no-underscore-id.jsonl"), "{\"id\": \"x\", \"text\": \"hello\"}\n");
        CliRun missing = run("index", "--input", plain.toString(), "--output", dir.resolve("no-id").toString(),
                "--id-field", "_id");
        assertEquals(1, missing.code());
        assertTrue(missing.err().contains("line 1 has no \"_id\" field (named by --id-field)"), missing.err());
        assertFalse(missing.err().contains("expected no 'id' or 'text'"), missing.err());
        assertFalse(Files.exists(dir.resolve("no-id")));
    }

    static List<String> iterable(java.util.Iterator<String> names) {
        List<String> list = new ArrayList<>();
        names.forEachRemaining(list::add);
        return list;
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

        Path array = Files.writeString(dir.resolve("array.json"), "[{\"id\": 1, \"text\": \"x\"}]\n");
        CliRun arrayRun = run("embed", "--input", array.toString(), "--output", dir.resolve("array-out.jsonl").toString());
        assertEquals(1, arrayRun.code());
        assertTrue(arrayRun.err().contains("the input must be JSON Lines, one object per line"), arrayRun.err());
        Path pretty = Files.writeString(dir.resolve("pretty.json"), "{\"id\": 1,\n \"text\": \"x\"}\n");
        CliRun prettyRun = run("embed", "--input", pretty.toString(), "--output", dir.resolve("pretty-out.jsonl").toString());
        assertTrue(prettyRun.err().contains("JSON Lines") && !prettyRun.err().contains("(code "), prettyRun.err());

        Path docs = Files.writeString(dir.resolve("docs.txt"), "first document\n\nthird document\n");
        CliRun missingParent = run("index", "--input", docs.toString(), "--output", dir.resolve("no/such/ix").toString());
        assertEquals(1, missingParent.code());
        assertTrue(missingParent.err().contains("does not exist"), missingParent.err());
        assertFalse(Files.exists(dir.resolve("no")));
        Path txtIndex = dir.resolve("txt-index");
        CliRun txt = run("index", "--input", docs.toString(), "--format", "txt", "--output", txtIndex.toString());
        assertEquals(0, txt.code(), txt.err());
        JsonNode hit = JSON.readTree(run("search", "--index", txtIndex.toString(), "--json", "-k", "1", "third").out())
                .path("hits").get(0);
        assertEquals(3, hit.path("id").asInt(), "plain text: the id is the line number");

        CliRun help = CliRun.run("--help");
        assertTrue(help.out().contains("  test ") && help.out().contains("  bench "), help.out());
        try (var files = Files.list(dir)) {
            assertTrue(files.noneMatch(f -> f.getFileName().toString().endsWith(".tmp")), "no temporary file left behind");
        }
    }

    static Process cli(String... words) throws IOException {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--add-modules=jdk.incubator.vector", "-cp", System.getProperty("java.class.path"), "io.jembed.core.cli.Main"));
        command.addAll(List.of(words));
        command.addAll(List.of("--model", model.toString()));
        return new ProcessBuilder(command).redirectError(dir.resolve("child-" + System.nanoTime() + ".err").toFile()).start();
    }

    static Path sentences(String name, int n) throws IOException {
        StringBuilder lines = new StringBuilder();
        for (int i = 0; i < n; i++) {
            lines.append("{\"id\": ").append(i).append(", \"text\": \"sentence number ").append(i)
                    .append(" about rivers, bread and the sky\"}\n");
        }
        return Files.writeString(dir.resolve(name), lines);
    }

    /** Item 8: a reader that goes away (| head -c 10) stops embed with exit 1 instead of embedding for no one. */
    @Test
    void aBrokenPipeStopsEmbed() throws Exception {
        Path input = sentences("pipe.jsonl", 20_000);
        Process process = cli("embed", "--input", input.toString(), "--output", "-");
        byte[] head = process.getInputStream().readNBytes(10);
        assertEquals("{\"id\":0,\"e", new String(head, java.nio.charset.StandardCharsets.UTF_8));
        process.getInputStream().close();
        long start = System.nanoTime();
        assertTrue(process.waitFor(120, java.util.concurrent.TimeUnit.SECONDS), "embed kept going after its reader left");
        assertEquals(1, process.exitValue());
        assertTrue((System.nanoTime() - start) / 1e9 < 60, "stopped soon after the pipe closed");
    }

    /** Item 5: SIGTERM during embed leaves neither the output nor its temporary file. */
    @Test
    void sigtermDuringEmbedLeavesNoTemporaryFile() throws Exception {
        Path work = Files.createDirectories(dir.resolve("sigterm"));
        Path input = sentences("sigterm.jsonl", 20_000);
        Path output = work.resolve("out.jsonl");
        Process process = cli("embed", "--input", input.toString(), "--output", output.toString());
        long deadline = System.nanoTime() + 60_000_000_000L;
        boolean writing = false;
        while (!writing && System.nanoTime() < deadline && process.isAlive()) {
            try (var files = Files.list(work)) {
                writing = files.anyMatch(f -> f.getFileName().toString().endsWith(".tmp"));
            }
            Thread.sleep(20);
        }
        assertTrue(writing, "embed never started writing its temporary output");
        process.toHandle().destroy(); // SIGTERM
        assertTrue(process.waitFor(60, java.util.concurrent.TimeUnit.SECONDS));
        try (var files = Files.list(work)) {
            assertEquals(List.of(), files.toList(), "nothing left behind");
        }
    }
}
