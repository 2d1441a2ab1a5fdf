package io.jembed.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.stream.Stream;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real multi-JVM run: spark/standalone.sh starts a master and two workers of one core on
 * 127.0.0.1 from the Maven jars, this JVM is the driver, each worker starts an executor JVM that
 * loads the model, and the vectors of 2,000 SQuAD paragraphs are the CLI's bit for bit.
 */
class StandaloneClusterTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static Path dir;
    static Path cluster;
    static boolean started;

    @BeforeAll
    static void startCluster() throws Exception {
        Needs.catalogueModel("all-MiniLM-L6-v2");
        cluster = dir.resolve("cluster");
        Process start = new ProcessBuilder("bash", script().toString(), "start", cluster.toString(), "--workers", "2",
                "--cores", "1", "--memory", "2g").redirectErrorStream(true).start();
        String log = new String(start.getInputStream().readAllBytes());
        assertTrue(start.waitFor(120, TimeUnit.SECONDS), "standalone.sh start timed out");
        assertEquals(0, start.exitValue(), log);
        started = true;
    }

    @AfterAll
    static void stopCluster() throws Exception {
        SparkSession.getActiveSession().foreach(s -> {
            s.stop();
            return null;
        });
        if (started) {
            new ProcessBuilder("bash", script().toString(), "stop", cluster.toString()).inheritIO().start()
                    .waitFor(60, TimeUnit.SECONDS);
        }
    }

    @Test
    void twoExecutorJvmsWriteTheCliVectorsBitForBit() throws Exception {
        Path model = Needs.catalogueModel("all-MiniLM-L6-v2");
        Path corpus = dir.resolve("paragraphs.jsonl");
        try (Stream<String> lines = Files.lines(Needs.sharedData("squad-v1.1-dev/paragraphs.jsonl"))) {
            Files.write(corpus, lines.limit(2_000).toList());
        }
        String master = Files.readString(cluster.resolve("master-url")).strip();
        SparkSession spark = SparkSession.builder().master(master).appName("StandaloneClusterTest")
                .config("spark.driver.host", "127.0.0.1").config("spark.driver.bindAddress", "127.0.0.1")
                .config("spark.ui.enabled", "false")
                .config("spark.jars", applicationJar().toString())
                .config("spark.executor.cores", "1").config("spark.cores.max", "2").config("spark.executor.memory", "1g")
                .config("spark.executor.extraJavaOptions",
                        "--add-modules=jdk.incubator.vector --enable-native-access=ALL-UNNAMED")
                .getOrCreate();
        Path out = dir.resolve("job");
        EmbedJob.Summary summary = EmbedJob.run(Map.of("input", corpus.toString(), "output", out.toString(),
                "model", model.toString(), "id-field", "pid", "text-field", "context", "partitions", "4"), spark);
        assertEquals(2_000, summary.rows());

        // Two executors, each its own JVM under its worker, each of which loaded the model.
        Set<String> workersUsed = new HashSet<>();
        try (Stream<Path> files = Files.walk(cluster)) {
            files.filter(p -> p.getFileName().toString().equals("stderr") && p.toString().contains("app-"))
                    .forEach(p -> workersUsed.add(cluster.relativize(p).getName(0).toString()));
        }
        assertEquals(Set.of("worker-1", "worker-2"), workersUsed);

        Path cliOut = dir.resolve("cli.jsonl");
        SparkEmbedTest.Run cli = SparkEmbedTest.cli("embed", "--input", corpus, "--output", cliOut, "--model", model,
                "--id-field", "pid", "--text-field", "context");
        assertEquals(0, cli.code(), cli.err());
        Map<String, float[]> expected = new HashMap<>();
        for (String line : Files.readAllLines(cliOut)) {
            JsonNode node = JSON.readTree(line);
            float[] v = new float[node.get("embedding").size()];
            for (int i = 0; i < v.length; i++) {
                v[i] = Float.parseFloat(node.get("embedding").get(i).asText());
            }
            expected.put(node.get("id").asText(), v);
        }
        List<Row> rows = spark.read().parquet(out.toString()).select("id", "embedding").collectAsList();
        assertEquals(expected.size(), rows.size());
        for (Row row : rows) {
            float[] e = expected.get(row.getString(0));
            List<Float> a = row.getList(1);
            for (int i = 0; i < e.length; i++) {
                if (Float.floatToRawIntBits(e[i]) != Float.floatToRawIntBits(a.get(i))) {
                    throw new AssertionError(row.getString(0) + " component " + i + ": CLI " + e[i] + ", cluster " + a.get(i));
                }
            }
        }
        spark.stop();
    }

    static Path script() {
        Path here = Path.of("").toAbsolutePath();
        Path script = here.resolve("standalone.sh");
        return Files.isRegularFile(script) ? script : here.resolve("spark/standalone.sh");
    }

    /**
     * The executors' application jar: jembed's classes from this JVM's class path (the reactor's
     * target/classes directories or the modules' jars), as the shaded jar would hold them.
     */
    static Path applicationJar() throws IOException {
        Path jar = dir.resolve("jembed-app.jar");
        Set<String> seen = new HashSet<>();
        List<Path> entries = new ArrayList<>();
        for (String entry : System.getProperty("java.class.path").split(java.io.File.pathSeparator)) {
            Path path = Path.of(entry);
            String name = path.toString();
            boolean ours = name.contains("jembed-") || (name.endsWith("target/classes")
                    && Stream.of("core", "tokenizer", "weights", "spark").anyMatch(m -> name.endsWith(m + "/target/classes")));
            if (ours) {
                entries.add(path);
            }
        }
        try (JarOutputStream out = new JarOutputStream(Files.newOutputStream(jar))) {
            for (Path entry : entries) {
                if (Files.isDirectory(entry)) {
                    try (Stream<Path> files = Files.walk(entry)) {
                        for (Path file : files.filter(Files::isRegularFile).sorted().toList()) {
                            String name = entry.relativize(file).toString().replace('\\', '/');
                            if (seen.add(name)) {
                                out.putNextEntry(new JarEntry(name));
                                Files.copy(file, out);
                                out.closeEntry();
                            }
                        }
                    }
                } else if (Files.isRegularFile(entry)) {
                    try (java.util.jar.JarFile in = new java.util.jar.JarFile(entry.toFile())) {
                        for (JarEntry e : java.util.Collections.list(in.entries())) {
                            if (!e.isDirectory() && seen.add(e.getName()) && !e.getName().startsWith("META-INF/MANIFEST")) {
                                out.putNextEntry(new JarEntry(e.getName()));
                                try (var stream = in.getInputStream(e)) {
                                    stream.transferTo((OutputStream) out);
                                }
                                out.closeEntry();
                            }
                        }
                    }
                }
            }
        }
        return jar;
    }
}
