package io.jembed.tests;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
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
import io.jembed.core.index.IndexStore;

/**
 * The CLI end to end on the default model: the JSONL contracts of embed, index and search, and
 * bad input (malformed lines, bad bytes, empty corpus, wrong k, not an index, truncated vectors),
 * each a clear message, a non-zero exit code, and no half-written output.
 */
class CliEndToEndTest {

    static final ObjectMapper JSON = new ObjectMapper();
    static Path model;
    static Embedder embedder;

    @TempDir
    static Path dir;

    @BeforeAll
    static void load() throws IOException {
        model = Requirements.defaultModel();
        embedder = Embedder.load(model);
    }

    @AfterAll
    static void close() {
        if (embedder != null) {
            embedder.close();
        }
    }

    static CliRun run(String... words) {
        return CliRun.withModel(model, words);
    }

    static Path write(String name, String content) throws IOException {
        return Files.writeString(dir.resolve(name), content);
    }

    static List<JsonNode> lines(Path file) throws IOException {
        List<JsonNode> lines = new ArrayList<>();
        for (String line : Files.readAllLines(file)) {
            lines.add(JSON.readTree(line));
        }
        return lines;
    }

    @Test
    void withoutTheVectorModuleTheCliWarnsOnceWithoutVerbose() throws IOException, InterruptedException {
        // A child JVM started without --add-modules jdk.incubator.vector: the scalar kernels, ~45x slower.
        List<String> command = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-cp",
                System.getProperty("java.class.path"), "io.jembed.core.cli.Main", "similarity", "--model",
                model.toString(), "a cat", "a dog");
        Process process = new ProcessBuilder(command).start();
        process.getOutputStream().close();
        String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        String err = new String(process.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, process.waitFor(), err);
        assertEquals(List.of("jembed: kernels: scalar (module jdk.incubator.vector absent; start the JVM with "
                + "--add-modules jdk.incubator.vector for the vector kernels, ~45x faster)"), err.lines().toList());
        assertTrue(out.contains("S1   a cat"), out);
    }

    @Test
    void embedWritesOneLinePerTextInOrderWithIdsAsGiven() throws IOException {
        Path input = write("embed.jsonl", """
                {"id": 7, "text": "I took my dog for a walk"}
                {"id": "b", "text": "Today is going to rain", "extra": true}

                {"id": {"k": [1, 2]}, "text": "ünïcödé 中文 🙂"}
                """);
        Path output = dir.resolve("embed-out.jsonl");
        CliRun run = run("embed", "--input", input.toString(), "--output", output.toString(), "--batch-size", "2");
        assertEquals(0, run.code(), run.err());
        List<JsonNode> lines = lines(output);
        assertEquals(3, lines.size());
        assertEquals(JSON.readTree("7"), lines.get(0).get("id"));
        assertEquals(JSON.readTree("\"b\""), lines.get(1).get("id"));
        assertEquals(JSON.readTree("{\"k\": [1, 2]}"), lines.get(2).get("id"));
        float[] expected = embedder.embed("ünïcödé 中文 🙂");
        float[] actual = new float[expected.length];
        for (int i = 0; i < actual.length; i++) {
            actual[i] = lines.get(2).get("embedding").get(i).floatValue();
        }
        assertArrayEquals(expected, actual, "the CLI writes exactly the library's vector");
        assertTrue(run.err().contains("embedded 3 texts"), run.err());
    }

    @Test
    void embedPlainTextUsesLineNumbersAsIds() throws IOException {
        Path input = write("plain.txt", "first line\n\nthird line\n");
        Path output = dir.resolve("plain-out.jsonl");
        assertEquals(0, run("embed", "--format", "txt", "--input", input.toString(), "--output", output.toString()).code());
        List<JsonNode> lines = lines(output);
        assertEquals(List.of(1L, 3L), lines.stream().map(l -> l.get("id").asLong()).toList());
    }

    @Test
    void malformedLineFailsWithItsNumberAndLeavesTheOldOutput() throws IOException {
        Path input = write("bad.jsonl", "{\"id\": 1, \"text\": \"fine\"}\n{\"id\": 2 \"text\": \"no comma\"}\n");
        Path output = write("kept.jsonl", "old content\n");
        CliRun run = run("embed", "--input", input.toString(), "--output", output.toString());
        assertEquals(1, run.code());
        assertTrue(run.err().contains("line 2") && run.err().contains("not valid JSON"), run.err());
        assertFalse(run.err().contains("at io.jembed"), "no stack trace without --verbose: " + run.err());
        assertEquals("old content\n", Files.readString(output), "a failed run must not touch the old output");

        CliRun skip = run("embed", "--input", input.toString(), "--output", output.toString(), "--on-error", "skip");
        assertEquals(0, skip.code(), skip.err());
        assertTrue(skip.err().contains("skipped") && skip.err().contains("line 2"), skip.err());
        assertEquals(1, lines(output).size());
    }

    @Test
    void nonUtf8BytesAreReportedWithTheirLine() throws IOException {
        Path input = dir.resolve("latin1.jsonl");
        byte[] good = "{\"id\": 1, \"text\": \"ok\"}\n".getBytes(StandardCharsets.UTF_8);
        byte[] bad = "{\"id\": 2, \"text\": \"caf\u00e9\"}\n".getBytes(StandardCharsets.ISO_8859_1);
        byte[] all = new byte[good.length + bad.length];
        System.arraycopy(good, 0, all, 0, good.length);
        System.arraycopy(bad, 0, all, good.length, bad.length);
        Files.write(input, all);
        CliRun run = run("embed", "--input", input.toString(), "--output", dir.resolve("latin1-out.jsonl").toString());
        assertEquals(1, run.code());
        assertTrue(run.err().contains("line 2") && run.err().contains("UTF-8"), run.err());
        assertFalse(Files.exists(dir.resolve("latin1-out.jsonl")));
    }

    @Test
    void indexSearchAppendAndRefusals() throws IOException {
        StringBuilder corpus = new StringBuilder();
        corpus.append("{\"id\": \"nile\", \"text\": \"The Nile flows north into the Mediterranean Sea.\", \"topic\": \"geo\"}\n");
        corpus.append("{\"id\": \"tea\", \"text\": \"Green and black tea are made from the same plant.\"}\n");
        corpus.append("{\"id\": \"big\", \"text\": \"").append("a very long document ".repeat(250_000)).append("\"}\n");
        Path input = write("corpus.jsonl", corpus.toString());
        Path index = dir.resolve("index");
        CliRun built = run("index", "--input", input.toString(), "--output", index.toString());
        assertEquals(0, built.code(), built.err());
        try (IndexStore store = IndexStore.open(index, 1)) {
            assertEquals(3, store.size());
            assertEquals("a very long document ".repeat(250_000), store.document(2).text(), "a 5 MB document is kept whole");
            assertEquals("geo", store.document(0).fields().get("topic").asText(), "extra fields are kept");
        }

        CliRun search = run("search", "--index", index.toString(), "-k", "1", "--json", "Which way does the Nile flow?");
        assertEquals(0, search.code(), search.err());
        JsonNode hits = JSON.readTree(search.out()).get("hits");
        assertEquals("nile", hits.get(0).get("id").asText());

        Path queries = write("queries.jsonl", "{\"id\": 1, \"text\": \"tea leaves\"}\n{\"id\": \"q\", \"text\": \"river\"}\n");
        Path hitsFile = dir.resolve("hits.jsonl");
        assertEquals(0, run("search", "--index", index.toString(), "-k", "2", "--queries", queries.toString(),
                "--output", hitsFile.toString()).code());
        List<JsonNode> answers = lines(hitsFile);
        assertEquals(JSON.readTree("1"), answers.get(0).get("id"));
        assertEquals("tea", answers.get(0).get("hits").get(0).get("id").asText());
        assertEquals(2, answers.get(1).get("hits").size());
        assertTrue(answers.get(1).get("hits").get(0).get("score").isNumber());

        CliRun again = run("index", "--input", input.toString(), "--output", index.toString());
        assertEquals(1, again.code());
        assertTrue(again.err().contains("already holds an index of 3 documents"), again.err());

        Path more = write("more.jsonl", "{\"id\": 4, \"text\": \"Mount Everest is the highest mountain above sea level.\"}\n");
        assertEquals(0, run("index", "--input", more.toString(), "--output", index.toString(), "--append").code());
        try (IndexStore store = IndexStore.open(index, 1)) {
            assertEquals(4, store.size());
        }

        CliRun zero = run("search", "--index", index.toString(), "-k", "0", "river");
        assertEquals(2, zero.code());
        assertTrue(zero.err().contains("-k") || zero.err().contains("--k"), zero.err());
        CliRun tooMany = run("search", "--index", index.toString(), "-k", "5", "river");
        assertEquals(2, tooMany.code());
        assertTrue(tooMany.err().contains("holds (4)"), tooMany.err());
    }

    @Test
    void emptyCorpusAndMissingTextFieldWriteNothing() throws IOException {
        Path empty = write("empty.jsonl", "\n\n");
        Path target = dir.resolve("empty-index");
        CliRun run = run("index", "--input", empty.toString(), "--output", target.toString());
        assertEquals(1, run.code());
        assertTrue(run.err().contains("no documents"), run.err());
        assertFalse(IndexStore.isIndex(target));

        Path noText = write("notext.jsonl", "{\"id\": 1, \"body\": \"text under another name\"}\n");
        CliRun missing = run("index", "--input", noText.toString(), "--output", dir.resolve("notext-index").toString());
        assertEquals(1, missing.code());
        assertTrue(missing.err().contains("line 1") && missing.err().contains("\"text\"")
                && missing.err().contains("body"), missing.err());
        assertFalse(IndexStore.isIndex(dir.resolve("notext-index")));
    }

    @Test
    void notAnIndexAndTruncatedVectorsAreRefused() throws IOException {
        CliRun notIndex = run("search", "--index", dir.toString(), "anything");
        assertEquals(1, notIndex.code());
        assertTrue(notIndex.err().contains("not a jembed index"), notIndex.err());

        Path input = write("small.jsonl", "{\"id\": 1, \"text\": \"one\"}\n{\"id\": 2, \"text\": \"two\"}\n");
        Path index = dir.resolve("truncated-index");
        assertEquals(0, run("index", "--input", input.toString(), "--output", index.toString()).code());
        Path vectors;
        try (var files = Files.list(index)) {
            vectors = files.filter(f -> f.getFileName().toString().endsWith(".safetensors")).findFirst().orElseThrow();
        }
        try (RandomAccessFile file = new RandomAccessFile(vectors.toFile(), "rw")) {
            file.setLength(file.length() - 100);
        }
        CliRun truncated = run("search", "--index", index.toString(), "-k", "1", "one");
        assertEquals(1, truncated.code());
        assertTrue(truncated.err().contains(vectors.getFileName().toString()), truncated.err());
        assertFalse(truncated.err().contains("at io.jembed"), truncated.err());
    }

    @Test
    void similarityPrintsTheLabelledMatrix() {
        CliRun run = run("similarity", "I took my dog for a walk", "I took my cat for a walk", "Today is going to rain");
        assertEquals(0, run.code(), run.err());
        assertTrue(run.out().contains("S1      1.0000  0.8291  0.1702"), run.out());
        assertTrue(run.out().contains("S3      0.1702  0.1740  1.0000"), run.out());
    }

    @Test
    void demoAnswersEveryBundledQuestionWithItsPassage() {
        CliRun run = run("demo");
        assertEquals(0, run.code(), run.err());
        assertTrue(run.out().contains("ranked first for 10 of 10 questions"), run.out());
    }
}
