package io.jembed.benchmarks;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.IntNode;
import com.fasterxml.jackson.databind.node.LongNode;
import io.jembed.core.model.ModelCatalog;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * {@code jembed embed --input in.jsonl --output out.jsonl} done with ONNX Runtime instead: the peer's side of
 * the whole-process race ({@code benchmarks/whole-process.sh}), so that both sides are a process a user
 * starts, that reads a file and writes one. Same input ({@code {"id": <any JSON value>, "text": "..."}} lines,
 * blank lines ignored, a missing id is the line number), same output ({@code {"id": <same>, "embedding":
 * [...]}} lines in input order, written and synced before an atomic rename), same vectors ({@link OrtPeer}:
 * the catalogue model's ONNX export, its pooling, L2 normalisation).
 *
 * <p>ONNX Runtime runs in its best mode for a whole corpus, which needs the whole corpus in memory first:
 * every text tokenized, sorted by token count, and run in batches padded only to the longest text of each
 * batch ({@link OrtPeer#embedSorted}). {@code jembed embed} streams its input in file-order batches, so
 * this side has the advantage of seeing every text before it starts.
 *
 * <pre>
 * java --enable-native-access=ALL-UNNAMED -cp benchmarks/target/benchmarks.jar io.jembed.benchmarks.OrtFileEmbed \
 *     --input in.jsonl --output out.jsonl [--catalogue-model all-MiniLM-L6-v2] [--threads 2] [--batch-size 32]
 *     [--onnx-jar JAR]
 * </pre>
 */
public final class OrtFileEmbed {

    static final String TOOL = "OrtFileEmbed";
    static final List<String> FLAGS =
        List.of("--input", "--output", "--catalogue-model", "--threads", "--batch-size", "--onnx-jar");
    static final String USAGE = """
        usage: OrtFileEmbed --input FILE --output FILE [--catalogue-model NAME=%s (one of %s)]
               [--threads T=2 (ONNX Runtime intra-op)] [--batch-size B=32 (texts per padded batch)]
               [--onnx-jar JAR=NAME's langchain4j jar in ~/.m2]"""
        .formatted(ModelCatalog.DEFAULT_NAME, String.join(", ", ModelCatalog.names()));

    /** The input's ids and texts, index for index. */
    record Texts(List<JsonNode> ids, List<String> texts) {}

    private OrtFileEmbed() {}

    public static void main(String[] args) throws Exception {
        ToolArgs.run(TOOL, USAGE, FLAGS, args, OrtFileEmbed::run);
    }

    static int run(ToolArgs args) throws Exception {
        String name = args.string("--catalogue-model", ModelCatalog.DEFAULT_NAME);
        ModelCatalog.Entry model = ModelCatalog.find(name).orElseThrow(() -> new IllegalArgumentException(
            "argument --catalogue-model: expected one of " + String.join(", ", ModelCatalog.names())
                + ", found '" + name + "'"));
        Path input = args.requiredPath("--input");
        Path output = args.requiredPath("--output");
        int threads = args.integer("--threads", 2, 1);
        int batchSize = args.integer("--batch-size", 32, 1);
        String jarFlag = args.string("--onnx-jar", null);
        Path jar = jarFlag != null ? Path.of(jarFlag) : OrtPeer.localJar(model);
        if (!Files.isRegularFile(jar)) {
            throw new IllegalArgumentException("argument --onnx-jar: expected " + model.artifact() + "'s jar, found no"
                + " file at " + jar + " (run './jembed model setup " + model.name() + "')");
        }

        long start = System.nanoTime();
        Texts texts = read(input);
        long read = System.nanoTime();
        float[][] embeddings;
        long loaded;
        try (OrtPeer ort = OrtPeer.open(jar, model, threads)) {
            loaded = System.nanoTime();
            embeddings = ort.embedSorted(texts.texts(), batchSize);
        }
        long embedded = System.nanoTime();
        write(output, texts.ids(), embeddings);
        long written = System.nanoTime();
        args.note(String.format(Locale.ROOT, "embedded %d texts into %s in %.2f s (read %.2f s, load %.2f s,"
                + " embed %.2f s, write %.2f s); %s, %d intra-op threads, batches of %d sorted by token count",
            embeddings.length, output, seconds(start, written), seconds(start, read), seconds(read, loaded),
            seconds(loaded, embedded), seconds(embedded, written), model.name(), threads, batchSize));
        return 0;
    }

    /** Every text of the file with its id, in file order; the same rules as jembed's JSONL input. */
    static Texts read(Path input) throws IOException {
        var ids = new ArrayList<JsonNode>();
        var texts = new ArrayList<String>();
        try (var lines = JsonLines.open(input)) {
            JsonLines.Line line;
            while ((line = lines.next()) != null) {
                JsonNode text = line.object().get("text");
                if (text == null || !text.isTextual()) {
                    throw new IOException(lines.where() + ": expected a string field 'text', found "
                        + (text == null ? "none" : text.getNodeType()));
                }
                JsonNode id = line.object().get("id");
                if (id == null) {
                    id = line.number() <= Integer.MAX_VALUE ? IntNode.valueOf((int) line.number())
                        : LongNode.valueOf(line.number());
                }
                ids.add(id);
                texts.add(text.textValue());
            }
        }
        return new Texts(ids, texts);
    }

    private static void write(Path output, List<JsonNode> ids, float[][] embeddings) throws IOException {
        JsonLines.writeAtomically(output, json -> {
            for (int i = 0; i < embeddings.length; i++) {
                json.writeStartObject();
                json.writeFieldName("id");
                json.writeTree(ids.get(i));
                json.writeFieldName("embedding");
                writeVector(json, embeddings[i]);
                json.writeEndObject();
                json.writeRaw('\n');
            }
        });
    }

    private static void writeVector(JsonGenerator json, float[] vector) throws IOException {
        json.writeStartArray();
        for (float v : vector) {
            json.writeNumber(v);
        }
        json.writeEndArray();
    }

    private static double seconds(long fromNanos, long toNanos) {
        return (toNanos - fromNanos) / 1e9;
    }
}
