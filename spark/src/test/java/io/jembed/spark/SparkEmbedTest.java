package io.jembed.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.jembed.core.Embedder;
import io.jembed.core.cli.Cli;
import io.jembed.core.cli.Main;
import io.jembed.core.index.Embeddings;
import io.jembed.core.model.ModelDirectory;
import io.jembed.core.search.SemanticSearch;

/**
 * The Spark job in local[2] against the CLI on the same texts: the vectors bit for bit (2,000 SQuAD
 * paragraphs; e5-small-v2 with its query prompt), the description beside them, and an index built
 * from them with --from-embeddings answering SQuAD's questions exactly as the CLI-built index does.
 */
class SparkEmbedTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int PARAGRAPHS = 2_000;

    @TempDir
    static Path dir;
    static SparkSession spark;
    static Path model;
    static Path corpus;
    static Path jobOutput;
    static EmbedJob.Summary summary;

    @BeforeAll
    static void embedOnce() throws IOException {
        model = Needs.catalogueModel("all-MiniLM-L6-v2");
        Path paragraphs = Needs.sharedData("squad-v1.1-dev/paragraphs.jsonl");
        corpus = dir.resolve("paragraphs.jsonl");
        try (Stream<String> lines = Files.lines(paragraphs)) {
            Files.write(corpus, lines.limit(PARAGRAPHS).toList());
        }
        spark = SparkSession.builder().master("local[2]").appName("SparkEmbedTest")
                .config("spark.driver.host", "127.0.0.1").config("spark.driver.bindAddress", "127.0.0.1")
                .config("spark.ui.enabled", "false").config("spark.sql.shuffle.partitions", "2").getOrCreate();
        jobOutput = dir.resolve("job");
        summary = EmbedJob.run(args("--input", corpus, "--output", jobOutput, "--model", model, "--id-field", "pid",
                "--text-field", "context"), spark);
    }

    @AfterAll
    static void stop() {
        if (spark != null) {
            spark.stop();
        }
    }

    @Test
    void jobVectorsAreTheCliVectorsBitForBit() throws IOException {
        Path cliOut = dir.resolve("cli.jsonl");
        Run cli = cli("embed", "--input", corpus, "--output", cliOut, "--model", model, "--id-field", "pid",
                "--text-field", "context");
        assertEquals(0, cli.code, cli.err);
        Map<String, float[]> expected = readJsonl(cliOut);
        Map<String, float[]> actual = readParquet(jobOutput);
        assertEquals(PARAGRAPHS, expected.size());
        assertSameBits(expected, actual);

        Embeddings.Description description = Embeddings.readDescription(jobOutput);
        ModelDirectory directory = ModelDirectory.read(model);
        assertEquals("all-MiniLM-L6-v2", description.model());
        assertEquals(directory.weightsSha256(), description.modelSha256());
        assertEquals(384, description.dimension());
        assertEquals("mean", description.pooling());
        assertTrue(description.normalize());
        assertEquals("", description.prompt().text());
        assertEquals(256, description.maxLength());
        assertEquals("parquet", description.dataFormat());
        assertEquals(PARAGRAPHS, description.rows());
        assertEquals(PARAGRAPHS, summary.rows());
        // The CLI says how many it cut; the job counted the same.
        java.util.regex.Matcher cut = java.util.regex.Pattern.compile("([\\d,]+) of [\\d,]+ texts had more than")
                .matcher(cli.err);
        assertTrue(cut.find(), cli.err);
        assertEquals(Long.parseLong(cut.group(1).replace(",", "")), description.truncated());
        assertTrue(description.truncated() > 0, "SQuAD has paragraphs past 256 tokens");
        // Other columns are kept beside id, text and embedding.
        Dataset<Row> written = spark.read().parquet(jobOutput.toString());
        assertEquals(List.of("id", "text", "embedding", "title"), List.of(written.columns()));
    }

    @Test
    void withAPromptTheVectorsAreTheCliVectorsBitForBit() throws IOException {
        Path e5 = Needs.catalogueModel("e5-small-v2");
        Path small = dir.resolve("small.jsonl");
        Files.write(small, Files.readAllLines(corpus).subList(0, 200));
        Path cliOut = dir.resolve("cli-e5.jsonl");
        Run cli = cli("embed", "--input", small, "--output", cliOut, "--model", e5, "--id-field", "pid",
                "--text-field", "context", "--prompt-name", "query");
        assertEquals(0, cli.code, cli.err);
        Path out = dir.resolve("job-e5");
        EmbedJob.run(args("--input", small, "--output", out, "--model", e5, "--id-field", "pid", "--text-field", "context",
                "--prompt-name", "query", "--output-format", "jsonl"), spark);
        Embeddings.Description description = Embeddings.readDescription(out);
        assertEquals("query: ", description.prompt().text());
        assertEquals("query", description.prompt().name());
        assertEquals("jsonl", description.dataFormat());
        // JSON Lines output, read back by core's reader (what --from-embeddings reads without Spark).
        Map<String, float[]> actual = new HashMap<>();
        try (var rows = Embeddings.open(out, description)) {
            while (rows.hasNext()) {
                Embeddings.Row row = rows.next();
                actual.put(row.document().idText(), row.embedding());
                assertEquals("title", String.join(",", iterable(row.document().fields().fieldNames())));
            }
        }
        assertSameBits(readJsonl(cliOut), actual);
    }

    @Test
    void joinedTextFieldsAreTheCliJoinBitForBit() throws IOException {
        // BEIR's layout (_id, title, text, metadata), titles and abstracts joined with a space.
        Path beir = dir.resolve("scifact.jsonl");
        try (Stream<String> lines = Files.lines(Needs.sharedData("beir-scifact/corpus.jsonl"))) {
            Files.write(beir, lines.limit(300).toList());
        }
        Path cliOut = dir.resolve("cli-scifact.jsonl");
        Run cli = cli("embed", "--input", beir, "--output", cliOut, "--model", model, "--id-field", "_id",
                "--text-field", "title,text");
        assertEquals(0, cli.code, cli.err);
        Path out = dir.resolve("job-scifact");
        EmbedJob.run(args("--input", beir, "--output", out, "--model", model, "--id-field", "_id",
                "--text-field", "title,text"), spark);
        assertSameBits(readJsonl(cliOut), readParquet(out));
        Row first = spark.read().parquet(out.toString()).filter("id = '4983'").first();
        assertTrue(first.getString(1).startsWith("Microstructural development of human newborn cerebral white matter "
                + "assessed in vivo by diffusion tensor magnetic resonance imaging. Alterations of the architecture"),
                first.getString(1));
    }

    @Test
    void anIndexFromTheJobsEmbeddingsAnswersAsTheCliIndex() throws IOException {
        Path fromJob = dir.resolve("index-from-job");
        Run imported = cli("index", "--from-embeddings", jobOutput, "--output", fromJob, "--model", model);
        assertEquals(0, imported.code, imported.err);
        assertTrue(imported.err.contains("nothing embedded again"), imported.err);
        Path fromCli = dir.resolve("index-from-cli");
        Run built = cli("index", "--input", corpus, "--output", fromCli, "--model", model, "--id-field", "pid",
                "--text-field", "context");
        assertEquals(0, built.code, built.err);

        // Every SQuAD question on these paragraphs, embedded once, searched in both indexes.
        Set<String> pids = new HashSet<>(readParquet(jobOutput).keySet());
        List<String> questions = new ArrayList<>();
        List<String> relevant = new ArrayList<>();
        for (String line : Files.readAllLines(Needs.sharedData("squad-v1.1-dev/questions.jsonl"))) {
            JsonNode q = JSON.readTree(line);
            if (pids.contains(q.get("pid").asText())) {
                questions.add(q.get("question").asText());
                relevant.add(q.get("pid").asText());
            }
        }
        assertTrue(questions.size() > 9_000, "questions: " + questions.size());
        try (Embedder embedder = Embedder.load(model);
             SemanticSearch job = SemanticSearch.open(embedder, fromJob);
             SemanticSearch reference = SemanticSearch.open(embedder, fromCli)) {
            assertEquals(PARAGRAPHS, job.size());
            float[][] vectors = embedder.embed(questions);
            int[] hitsJob = new int[3];
            int[] hitsCli = new int[3];
            int[] ks = {1, 3, 10};
            for (int q = 0; q < questions.size(); q++) {
                List<SemanticSearch.Hit> a = job.search(vectors[q], 10);
                List<SemanticSearch.Hit> b = reference.search(vectors[q], 10);
                assertEquals(b.size(), a.size());
                for (int i = 0; i < a.size(); i++) {
                    assertEquals(b.get(i).id(), a.get(i).id(), "question " + q + " hit " + i);
                    assertEquals(Float.floatToRawIntBits(b.get(i).score()), Float.floatToRawIntBits(a.get(i).score()));
                    assertEquals(b.get(i).text(), a.get(i).text());
                    assertEquals(b.get(i).fields(), a.get(i).fields());
                }
                for (int k = 0; k < ks.length; k++) {
                    hitsJob[k] += rank(a, relevant.get(q)) < ks[k] ? 1 : 0;
                    hitsCli[k] += rank(b, relevant.get(q)) < ks[k] ? 1 : 0;
                }
            }
            assertEquals(List.of(hitsCli[0], hitsCli[1], hitsCli[2]), List.of(hitsJob[0], hitsJob[1], hitsJob[2]));
            System.out.printf("SparkEmbedTest: %d questions, recall@1/3/10 %.4f %.4f %.4f (job's index = CLI's)%n",
                    questions.size(), hitsJob[0] / (double) questions.size(), hitsJob[1] / (double) questions.size(),
                    hitsJob[2] / (double) questions.size());
        }
    }

    @Test
    void embeddingsOfAnotherModelAreRefusedAndNothingIsWritten() throws IOException {
        Path e5 = Needs.catalogueModel("e5-small-v2");
        Path target = dir.resolve("refused");
        Run run = cli("index", "--from-embeddings", jobOutput, "--output", target, "--model", e5);
        assertEquals(1, run.code, run.err);
        assertTrue(run.err.contains("the vectors are of model all-MiniLM-L6-v2"), run.err);
        assertFalse(Files.exists(target), "nothing written");

        Path bare = dir.resolve("bare");
        Files.createDirectories(bare);
        Files.copy(corpus, bare.resolve("part-00000.json"));
        run = cli("index", "--from-embeddings", bare, "--output", target, "--model", model);
        assertEquals(1, run.code, run.err);
        assertTrue(run.err.contains("_jembed.json: expected the description"), run.err);
        assertFalse(Files.exists(target));

        run = cli("index", "--from-embeddings", jobOutput, "--output", target, "--model", model, "--prompt-name", "query");
        assertEquals(2, run.code, run.err);
        assertTrue(run.err.contains("--prompt-name does not apply to --from-embeddings"), run.err);
    }

    @Test
    void jobUsageErrorsExitTwoAndWriteNothing() throws IOException {
        Path out = dir.resolve("never");
        assertEquals(2, EmbedJob.run(new String[] {"--input", corpus.toString()}, quiet(), quiet()));
        assertEquals(2, EmbedJob.run(new String[] {"--input", corpus.toString(), "--output", out.toString(), "--colour",
                "red"}, quiet(), quiet()));
        EmbedJob.UsageException e = assertThrows(EmbedJob.UsageException.class, () -> EmbedJob.run(args("--input", corpus,
                "--output", out, "--model", model, "--id-field", "pid", "--text-field", "body"), spark));
        assertTrue(e.getMessage().contains("expected a text column 'body' (--text-field), found columns [context, pid, title]"),
                e.getMessage());
        e = assertThrows(EmbedJob.UsageException.class, () -> EmbedJob.run(args("--input", corpus, "--output", jobOutput,
                "--model", model, "--id-field", "pid", "--text-field", "context"), spark));
        assertTrue(e.getMessage().contains("exists; expected a new path"), e.getMessage());
        e = assertThrows(EmbedJob.UsageException.class, () -> EmbedJob.run(args("--input", corpus, "--output", out,
                "--model", model, "--text-field", "context"), spark));
        assertTrue(e.getMessage().contains("expected an id column 'id' (--id-field)"), e.getMessage());
        assertFalse(Files.exists(out));
    }

    @Test
    void aModelShippedInTheJobsArchivesIsFoundByItsName() throws Exception {
        // spark-submit --archives minilm.tgz#shipped-minilm ... --model shipped-minilm, as the README says.
        Path archive = dir.resolve("minilm.tgz");
        Process tar = new ProcessBuilder("tar", "czf", archive.toString(), "-C", model.toString(), ".")
                .redirectErrorStream(true).start();
        String log = new String(tar.getInputStream().readAllBytes());
        assertEquals(0, tar.waitFor(), log);
        spark.sparkContext().addArchive(archive + "#shipped-minilm");
        StructType schema = new StructType().add("text", DataTypes.StringType);
        Dataset<Row> df = spark.createDataFrame(List.of(RowFactory.create("A kitten slept on the rug.")), schema);
        List<Row> rows = JembedSpark.embed(df, "text", "vector", JembedSpark.Options.model("shipped-minilm"))
                .collectAsList();
        try (Embedder embedder = Embedder.load(model)) {
            float[] expected = embedder.embed("A kitten slept on the rug.");
            List<Float> got = rows.get(0).getList(1);
            for (int i = 0; i < expected.length; i++) {
                assertEquals(Float.floatToRawIntBits(expected[i]), Float.floatToRawIntBits(got.get(i)));
            }
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> JembedSpark.embed(df, "text", "vector", JembedSpark.Options.model("no-such-model")));
        assertTrue(e.getMessage().contains("model 'no-such-model': expected a model directory, a directory shipped with "
                + "--archives, or a catalogue model"), e.getMessage());
    }

    @Test
    void theApiKeepsEveryColumnAndGivesANullTextANullVector() throws IOException {
        StructType schema = new StructType().add("key", DataTypes.LongType).add("body", DataTypes.StringType, true);
        Dataset<Row> df = spark.createDataFrame(List.of(RowFactory.create(1L, "The cat sat on the mat."),
                RowFactory.create(2L, null), RowFactory.create(3L, "A dog barked.")), schema);
        List<Row> rows = JembedSpark.embed(df, "body", "vector", JembedSpark.Options.model(model.toString()))
                .orderBy("key").collectAsList();
        try (Embedder embedder = Embedder.load(model)) {
            float[] cat = embedder.embed("The cat sat on the mat.");
            List<Float> got = rows.get(0).getList(2);
            for (int i = 0; i < cat.length; i++) {
                assertEquals(Float.floatToRawIntBits(cat[i]), Float.floatToRawIntBits(got.get(i)));
            }
        }
        assertNull(rows.get(1).get(2));
        assertEquals(384, rows.get(2).getList(2).size());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> JembedSpark.embed(df, "body", "key", JembedSpark.Options.model(model.toString())));
        assertTrue(e.getMessage().contains("output column 'key': expected a new column name"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> JembedSpark.embed(df, "key", "vector", JembedSpark.Options.model(model.toString())));
        assertTrue(e.getMessage().contains("expected a string column, found bigint"), e.getMessage());
    }

    private static int rank(List<SemanticSearch.Hit> hits, String id) {
        for (int i = 0; i < hits.size(); i++) {
            if (hits.get(i).id().asText().equals(id)) {
                return i;
            }
        }
        return Integer.MAX_VALUE;
    }

    private static void assertSameBits(Map<String, float[]> expected, Map<String, float[]> actual) {
        assertEquals(expected.keySet(), actual.keySet());
        int components = 0;
        for (Map.Entry<String, float[]> entry : expected.entrySet()) {
            float[] a = actual.get(entry.getKey());
            float[] e = entry.getValue();
            assertEquals(e.length, a.length, entry.getKey());
            for (int i = 0; i < e.length; i++) {
                if (Float.floatToRawIntBits(e[i]) != Float.floatToRawIntBits(a[i])) {
                    throw new AssertionError(entry.getKey() + " component " + i + ": CLI " + e[i] + ", Spark " + a[i]);
                }
                components++;
            }
        }
        assertTrue(components > 0);
    }

    private static Map<String, float[]> readJsonl(Path file) throws IOException {
        Map<String, float[]> vectors = new HashMap<>();
        for (String line : Files.readAllLines(file)) {
            JsonNode node = JSON.readTree(line);
            JsonNode embedding = node.get("embedding");
            float[] v = new float[embedding.size()];
            for (int i = 0; i < v.length; i++) {
                // From the text: the CLI writes each float's shortest decimal.
                v[i] = Float.parseFloat(embedding.get(i).asText());
            }
            vectors.put(node.get("id").asText(), v);
        }
        return vectors;
    }

    private static Map<String, float[]> readParquet(Path out) {
        Map<String, float[]> vectors = new HashMap<>();
        for (Row row : spark.read().parquet(out.toString()).select("id", "embedding").collectAsList()) {
            List<Float> list = row.getList(1);
            float[] v = new float[list.size()];
            for (int i = 0; i < v.length; i++) {
                v[i] = list.get(i);
            }
            vectors.put(row.getString(0), v);
        }
        return vectors;
    }

    private static <T> Iterable<T> iterable(java.util.Iterator<T> iterator) {
        return () -> iterator;
    }

    private static Map<String, String> args(Object... words) {
        Map<String, String> map = new java.util.LinkedHashMap<>();
        for (int i = 0; i < words.length; i += 2) {
            map.put(words[i].toString().substring(2), words[i + 1].toString());
        }
        return map;
    }

    record Run(int code, String out, String err) {
    }

    static Run cli(Object... words) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        String[] argv = Stream.of(words).map(Object::toString).toArray(String[]::new);
        int code = Main.run(argv, new Cli(new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8), false, false));
        return new Run(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    private static PrintStream quiet() {
        return new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8);
    }
}
