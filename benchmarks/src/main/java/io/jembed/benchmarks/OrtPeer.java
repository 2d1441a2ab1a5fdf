package io.jembed.benchmarks;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.OrtSession.SessionOptions.OptLevel;
import ai.onnxruntime.TensorInfo;
import io.jembed.core.model.ModelCatalog;
import io.jembed.core.pooling.PoolingMode;
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
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.zip.ZipFile;

/**
 * The peer jembed races: ONNX Runtime (Java API, CPU) on a catalogue model's ONNX export from its
 * langchain4j jar, with the Hugging Face Rust tokenizer through DJL, then the model's
 * sentence-transformers pooling (CLS or masked mean) and L2 normalisation. This is what a Java user
 * gets today without jembed, so it is configured the way such a user would: graph optimisation ALL,
 * a fixed intra-op thread count, sequential execution.
 *
 * <p>Texts are embedded as given (no prompt), lowercased first when the model's
 * sentence_bert_config.json says do_lower_case, and truncated at its max_seq_length: the same input
 * jembed's {@code Embedder} builds, so the two engines compute the same vectors.
 */
public final class OrtPeer implements AutoCloseable {

    /** The exports' encoder output, [B,T,H]. */
    private static final String OUTPUT = "last_hidden_state";
    private static final String INPUT_IDS = "input_ids";
    private static final String ATTENTION_MASK = "attention_mask";
    /** Optional: some exports drop it and fold segment 0's type embedding into the graph. */
    private static final String TOKEN_TYPE_IDS = "token_type_ids";

    private final ModelCatalog.Entry model;
    private final Path workDirectory;
    private final HuggingFaceTokenizer tokenizer;
    private final OrtEnvironment environment;
    private final OrtSession session;
    private final int intraOpThreads;
    /** H, from the session's declared output shape [batch, sequence, H]. */
    private final int hidden;
    private final boolean feedsTokenTypeIds;

    private OrtPeer(ModelCatalog.Entry model, Path workDirectory, HuggingFaceTokenizer tokenizer,
            OrtEnvironment environment, OrtSession session, int intraOpThreads, int hidden, boolean feedsTokenTypeIds) {
        this.model = model;
        this.workDirectory = workDirectory;
        this.tokenizer = tokenizer;
        this.environment = environment;
        this.session = session;
        this.intraOpThreads = intraOpThreads;
        this.hidden = hidden;
        this.feedsTokenTypeIds = feedsTokenTypeIds;
    }

    /**
     * Where Maven keeps the entry's jar in the local repository (groupId dirs/artifactId/version/
     * artifactId-version.jar). The CLI's resolver is package-private in core and would also fetch;
     * a benchmark only reads what set-up already put there.
     */
    public static Path localJar(ModelCatalog.Entry model) {
        String[] gav = model.artifact().split(":");
        if (gav.length != 3) {
            throw new IllegalArgumentException("artifact of catalogue model '" + model.name()
                + "': expected groupId:artifactId:version, found '" + model.artifact() + "'");
        }
        return Path.of(System.getProperty("user.home"), ".m2", "repository").resolve(gav[0].replace('.', '/'))
            .resolve(gav[1]).resolve(gav[2]).resolve(gav[1] + "-" + gav[2] + ".jar");
    }

    /**
     * Extracts the model's ONNX file and tokenizer.json from the jar into a temporary directory and
     * loads them; the jar's entry names, pooling, lowercasing and max length come from the catalogue entry.
     */
    public static OrtPeer open(Path jar, ModelCatalog.Entry model, int intraOpThreads)
            throws IOException, OrtException {
        if (intraOpThreads < 1) {
            throw new IllegalArgumentException("ONNX Runtime intra-op threads: expected >= 1, found " + intraOpThreads);
        }
        if (model.pooling() != PoolingMode.CLS && model.pooling() != PoolingMode.MEAN) {
            throw new IllegalArgumentException("pooling of catalogue model '" + model.name() + "': expected cls or"
                + " mean, found " + model.pooling().shortName());
        }
        Path work = Files.createTempDirectory("jembed-ort-peer");
        HuggingFaceTokenizer tokenizer = null;
        OrtSession session = null;
        try {
            Path onnx = extract(jar, model.onnxEntry(), work);
            tokenizer = newTokenizer(extract(jar, model.tokenizerEntry(), work), model.maxSeqLength());
            var environment = OrtEnvironment.getEnvironment();
            try (var options = new OrtSession.SessionOptions()) {
                options.setOptimizationLevel(OptLevel.ALL_OPT);
                options.setExecutionMode(OrtSession.SessionOptions.ExecutionMode.SEQUENTIAL);
                options.setIntraOpNumThreads(intraOpThreads);
                options.setInterOpNumThreads(1);
                session = environment.createSession(onnx.toString(), options);
            }
            String where = jar + "!/" + model.onnxEntry();
            Set<String> inputs = session.getInputNames();
            for (String required : List.of(INPUT_IDS, ATTENTION_MASK)) {
                if (!inputs.contains(required)) {
                    throw new IllegalArgumentException("ONNX input '" + required + "': expected present, found inputs "
                        + inputs + " in " + where);
                }
            }
            var output = session.getOutputInfo().get(OUTPUT);
            long[] shape = output != null && output.getInfo() instanceof TensorInfo info ? info.getShape() : null;
            if (shape == null || shape.length != 3 || shape[2] < 1) {
                String found = shape == null ? "outputs " + session.getOutputNames() : Arrays.toString(shape);
                throw new IllegalArgumentException("ONNX output '" + OUTPUT + "': expected shape [batch, sequence,"
                    + " hidden] with a fixed hidden size, found " + found + " in " + where);
            }
            return new OrtPeer(model, work, tokenizer, environment, session, intraOpThreads, (int) shape[2],
                inputs.contains(TOKEN_TYPE_IDS));
        } catch (IOException | OrtException | RuntimeException e) {
            // The extracted export is 90-130 MB; do not leave it in the temporary directory.
            if (session != null) {
                try {
                    session.close();
                } catch (OrtException closing) {
                    e.addSuppressed(closing);
                }
            }
            if (tokenizer != null) {
                tokenizer.close();
            }
            deleteExtracted(work, model);
            throw e;
        }
    }

    /** Token ids of one text: lowercased if the model says, [CLS] ... [SEP], truncated at max_seq_length. */
    public long[] tokenize(String text) {
        // sentence-transformers lowercases before the tokenizer (str.lower()); jembed's ModelDirectory.input likewise.
        return tokenizer.encode(model.doLowerCase() ? text.toLowerCase(Locale.ROOT) : text).getIds();
    }

    /** Real (unpadded) token count of one text, [CLS] and [SEP] included. */
    public int tokenCount(String text) {
        return tokenize(text).length;
    }

    /** Length of the vectors this peer returns. */
    public int hiddenSize() {
        return hidden;
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

    /** A line for the report: how ONNX Runtime is set up and what it computes. */
    public String describe() {
        return "ONNX Runtime " + intraOpThreads + " intra-op threads, graph optimisation ALL, DJL Hugging Face"
            + " tokenizer; " + model.onnxEntry() + " inputs " + new TreeSet<>(session.getInputNames())
            + ", hidden " + hidden + ", " + model.pooling().shortName() + " pooling, max length "
            + model.maxSeqLength() + (model.doLowerCase() ? ", lowercased" : "");
    }

    /** [B] id arrays -> padded [B,T] inputs -> [B,T,H] -> pool (CLS row or masked mean) -> L2 normalise -> [B][H]. */
    private List<float[]> run(List<long[]> batch) throws OrtException {
        int B = batch.size();
        int T = 0;
        for (long[] ids : batch) {
            T = Math.max(T, ids.length);
        }
        int H = hidden;
        long[] inputIds = new long[B * T];
        long[] attentionMask = new long[B * T];
        for (int b = 0; b < B; b++) {
            long[] ids = batch.get(b);
            System.arraycopy(ids, 0, inputIds, b * T, ids.length);
            Arrays.fill(attentionMask, b * T, b * T + ids.length, 1L); // padding id 0 stays masked out
        }
        long[] shape = {B, T};
        // Only what the session declares: ORT rejects an input the graph does not have.
        try (var idsTensor = OnnxTensor.createTensor(environment, LongBuffer.wrap(inputIds), shape);
             var maskTensor = OnnxTensor.createTensor(environment, LongBuffer.wrap(attentionMask), shape);
             var typeTensor = feedsTokenTypeIds // single segment: all zero
                 ? OnnxTensor.createTensor(environment, LongBuffer.wrap(new long[B * T]), shape) : null) {
            var inputs = new HashMap<String, OnnxTensor>(Map.of(INPUT_IDS, idsTensor, ATTENTION_MASK, maskTensor));
            if (typeTensor != null) {
                inputs.put(TOKEN_TYPE_IDS, typeTensor);
            }
            try (var result = session.run(inputs)) {
                var output = (OnnxTensor) result.get(OUTPUT).orElseThrow();
                long[] outputShape = output.getInfo().getShape();
                if (!Arrays.equals(outputShape, new long[] {B, T, H})) {
                    throw new IllegalStateException("ONNX output '" + OUTPUT + "': expected [" + B + ", " + T + ", "
                        + H + "], found " + Arrays.toString(outputShape) + " in " + model.onnxEntry());
                }
                return pool(output.getFloatBuffer(), batch, T, H);
            }
        }
    }

    /** [B,T,H] hidden states -> [B][H] unit vectors under the model's pooling. */
    private List<float[]> pool(FloatBuffer hiddenStates, List<long[]> batch, int T, int H) {
        var embeddings = new ArrayList<float[]>(batch.size());
        float[] row = new float[H];
        for (int b = 0; b < batch.size(); b++) {
            // CLS reads row 0 only; mean reads the real tokens, padding rows past length are left out.
            int rows = model.pooling() == PoolingMode.CLS ? 1 : batch.get(b).length;
            double[] sum = new double[H];
            for (int t = 0; t < rows; t++) {
                hiddenStates.get((b * T + t) * H, row);
                for (int k = 0; k < H; k++) {
                    sum[k] += row[k];
                }
            }
            embeddings.add(normalize(sum, rows));
        }
        return embeddings;
    }

    private static float[] normalize(double[] sum, int count) {
        double sumSquares = 0;
        for (int k = 0; k < sum.length; k++) {
            sum[k] /= count;
            sumSquares += sum[k] * sum[k];
        }
        double norm = Math.max(Math.sqrt(sumSquares), 1e-12);
        float[] embedding = new float[sum.length];
        for (int k = 0; k < sum.length; k++) {
            embedding[k] = (float) (sum[k] / norm);
        }
        return embedding;
    }

    private static HuggingFaceTokenizer newTokenizer(Path tokenizerJson, int maxTokens) throws IOException {
        // tokenizer.json carries the ONNX export's truncation (128 for all-MiniLM-L6-v2); sentence-transformers
        // truncates at max_seq_length, so that is set here.
        return HuggingFaceTokenizer.builder()
            .optTokenizerPath(tokenizerJson)
            .optAddSpecialTokens(true)
            .optMaxLength(maxTokens)
            .optTruncation(true)
            .optPadding(false)
            .build();
    }

    private static Path extract(Path jar, String entry, Path directory) throws IOException {
        if (!Files.isRegularFile(jar)) {
            throw new IllegalArgumentException("langchain4j jar: expected a file, found none at " + jar
                + " (run './jembed model setup NAME', or pass --onnx-jar JAR)");
        }
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
        deleteExtracted(workDirectory, model);
    }

    private static void deleteExtracted(Path workDirectory, ModelCatalog.Entry model) {
        try {
            Files.deleteIfExists(workDirectory.resolve(model.onnxEntry()));
            Files.deleteIfExists(workDirectory.resolve(model.tokenizerEntry()));
            Files.deleteIfExists(workDirectory);
        } catch (IOException e) {
            throw new UncheckedIOException("deleting ONNX Runtime peer files in " + workDirectory, e);
        }
    }
}
