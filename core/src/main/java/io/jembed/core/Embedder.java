package io.jembed.core;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.locks.ReentrantLock;

import io.jembed.core.kernels.Kernels;
import io.jembed.core.kernels.KernelsProvider;
import io.jembed.core.kernels.WorkerPool;
import io.jembed.core.model.BertModel;
import io.jembed.core.model.BertWeights;
import io.jembed.core.model.SequenceLength;
import io.jembed.core.pooling.Pooling;
import io.jembed.core.pooling.PoolingConfig;
import io.jembed.tokenizer.Encoding;
import io.jembed.tokenizer.WordPieceTokenizer;
import io.jembed.weights.BertConfig;
import io.jembed.weights.SafetensorsReader;

/**
 * The entry point: a model directory in, sentence vectors out.
 *
 * <pre>{@code
 * try (Embedder embedder = Embedder.load(Path.of("models/all-MiniLM-L6-v2"))) {
 *     float[][] vectors = embedder.embed(List.of("I took my dog for a walk", "Today is going to rain"));
 *     float cosine = Similarity.cosine(vectors[0], vectors[1]);
 * }
 * }</pre>
 *
 * <p>A model directory holds {@code model.safetensors}, {@code config.json} and
 * {@code tokenizer.json} (or {@code vocab.txt}), plus sentence-transformers' settings when present:
 * {@code sentence_bert_config.json} (max_seq_length), {@code modules.json} and
 * {@code 1_Pooling/config.json} (pooling and normalisation). Without those, jembed does what
 * {@code SentenceTransformer(dir)} does for a plain encoder directory: mean pooling, no
 * normalisation (cosine similarity is unaffected), truncation at max_position_embeddings.
 *
 * <p>Thread-safe: calls from several threads take turns on the model, each using every worker
 * thread of the pool.
 */
public final class Embedder implements AutoCloseable {

    private final Path modelDir;
    private final BertConfig config;
    private final WordPieceTokenizer tokenizer;
    private final BertModel model;
    private final PoolingConfig pooling;
    private final int maxLength;
    private final int batchSize;
    private final WorkerPool pool;
    private final ReentrantLock modelLock = new ReentrantLock();
    private final BertModel.Workspace workspace;
    private volatile String weightsChecksum;

    private Embedder(Builder builder) throws IOException {
        this.modelDir = builder.modelDir;
        Path configFile = modelDir.resolve("config.json");
        if (!Files.isRegularFile(configFile)) {
            throw new IOException("model directory " + modelDir + ": expected config.json, found none");
        }
        this.config = BertConfig.read(configFile);
        this.tokenizer = WordPieceTokenizer.fromModelDir(modelDir);
        this.pooling = builder.pooling != null ? builder.pooling : PoolingConfig.read(modelDir);
        int configured = builder.maxLength > 0 ? builder.maxLength
                : SequenceLength.of(modelDir).orElse(config.maxPositionEmbeddings());
        if (configured > config.maxPositionEmbeddings()) {
            throw new IllegalArgumentException("max length " + configured + ": expected at most "
                    + config.maxPositionEmbeddings() + " (max_position_embeddings of " + modelDir + ")");
        }
        this.maxLength = configured;
        this.batchSize = builder.batchSize;
        Kernels kernels = builder.kernels != null ? builder.kernels : KernelsProvider.get();
        Path weightsFile = modelDir.resolve("model.safetensors");
        if (!Files.isRegularFile(weightsFile)) {
            throw new IOException("model directory " + modelDir + ": expected model.safetensors, found none");
        }
        try (SafetensorsReader reader = SafetensorsReader.open(weightsFile)) {
            this.model = new BertModel(config, BertWeights.load(reader, config, kernels), kernels);
        }
        this.pool = WorkerPool.create(builder.threads > 0 ? builder.threads : Runtime.getRuntime().availableProcessors());
        this.workspace = new BertModel.Workspace(model);
    }

    /** Loads a model directory with default settings (all processors, batches of 32). */
    public static Embedder load(Path modelDir) throws IOException {
        return builder(modelDir).build();
    }

    public static Builder builder(Path modelDir) {
        return new Builder(modelDir);
    }

    /** Options of {@link Embedder}; every one has a default. */
    public static final class Builder {
        private final Path modelDir;
        private int threads;
        private int batchSize = 32;
        private int maxLength;
        private Kernels kernels;
        private PoolingConfig pooling;

        private Builder(Path modelDir) {
            this.modelDir = Objects.requireNonNull(modelDir, "modelDir");
        }

        /** Worker threads for the model (default: available processors). */
        public Builder threads(int threads) {
            if (threads < 1) {
                throw new IllegalArgumentException("threads: expected >= 1, found " + threads);
            }
            this.threads = threads;
            return this;
        }

        /** Texts per forward pass in {@link #embed(List)} (default 32). */
        public Builder batchSize(int batchSize) {
            if (batchSize < 1) {
                throw new IllegalArgumentException("batch size: expected >= 1, found " + batchSize);
            }
            this.batchSize = batchSize;
            return this;
        }

        /** Tokens per text, [CLS] and [SEP] included (default: the model's max_seq_length). */
        public Builder maxLength(int maxLength) {
            if (maxLength < 2) {
                throw new IllegalArgumentException("max length: expected >= 2 ([CLS] and [SEP]), found " + maxLength);
            }
            this.maxLength = maxLength;
            return this;
        }

        /** The kernels to run on (default: chosen once per JVM by {@link KernelsProvider}). */
        public Builder kernels(Kernels kernels) {
            this.kernels = Objects.requireNonNull(kernels, "kernels");
            return this;
        }

        /** Pooling and normalisation (default: as the model directory says). */
        public Builder pooling(PoolingConfig pooling) {
            this.pooling = Objects.requireNonNull(pooling, "pooling");
            return this;
        }

        public Embedder build() throws IOException {
            return new Embedder(this);
        }
    }

    /** Sentence vectors of texts, in order; [texts.size()][dimension()]. */
    public float[][] embed(List<String> texts) {
        Objects.requireNonNull(texts, "texts");
        float[][] vectors = new float[texts.size()][];
        for (int from = 0; from < texts.size(); from += batchSize) {
            int to = Math.min(texts.size(), from + batchSize);
            List<Encoding> encodings = tokenizer.encodeBatch(texts.subList(from, to), maxLength);
            float[][] batch = embedEncoded(encodings);
            System.arraycopy(batch, 0, vectors, from, batch.length);
        }
        return vectors;
    }

    /** The sentence vector of one text (a query). */
    public float[] embed(String text) {
        Objects.requireNonNull(text, "text");
        return embedEncoded(List.of(tokenizer.encode(text, maxLength)))[0];
    }

    /** Sentence vectors of already tokenized texts, one forward pass. */
    public float[][] embedEncoded(List<Encoding> encodings) {
        List<BertModel.Sequence> batch = sequences(encodings);
        int H = config.hiddenSize();
        float[][] vectors = new float[batch.size()][];
        modelLock.lock();
        try {
            model.forward(batch, workspace, pool);
            for (int s = 0; s < batch.size(); s++) {
                vectors[s] = Pooling.pool(pooling, workspace.hidden(), workspace.offset(s), workspace.length(s), H);
            }
        } finally {
            modelLock.unlock();
        }
        return vectors;
    }

    /** The last hidden state of every token of text (no pooling): [T][hidden_size]. */
    public float[][] embedTokens(String text) {
        Objects.requireNonNull(text, "text");
        List<BertModel.Sequence> batch = sequences(List.of(tokenizer.encode(text, maxLength)));
        int H = config.hiddenSize();
        modelLock.lock();
        try {
            model.forward(batch, workspace, pool);
            float[][] tokens = new float[workspace.length(0)][H];
            for (int t = 0; t < tokens.length; t++) {
                System.arraycopy(workspace.hidden(), t * H, tokens[t], 0, H);
            }
            return tokens;
        } finally {
            modelLock.unlock();
        }
    }

    private static List<BertModel.Sequence> sequences(List<Encoding> encodings) {
        List<BertModel.Sequence> batch = new ArrayList<>(encodings.size());
        for (Encoding encoding : encodings) {
            batch.add(new BertModel.Sequence(encoding.ids(), encoding.typeIds()));
        }
        return batch;
    }

    /** Length of the vectors {@link #embed} returns. */
    public int dimension() {
        return pooling.outputDimension(config.hiddenSize());
    }

    /** Tokens per text, [CLS] and [SEP] included; longer texts are truncated. */
    public int maxLength() {
        return maxLength;
    }

    /** Texts per forward pass in {@link #embed(List)}. */
    public int batchSize() {
        return batchSize;
    }

    public WordPieceTokenizer tokenizer() {
        return tokenizer;
    }

    public BertConfig config() {
        return config;
    }

    public PoolingConfig pooling() {
        return pooling;
    }

    public Path modelDir() {
        return modelDir;
    }

    public Kernels kernels() {
        return model.kernels();
    }

    public int threads() {
        return pool.threads();
    }

    /** The model directory's name, as recorded in index manifests. */
    public String modelName() {
        return modelDir.toAbsolutePath().normalize().getFileName().toString();
    }

    /** SHA-256 of model.safetensors, hex; computed on first use and remembered. */
    public String weightsChecksum() throws IOException {
        String checksum = weightsChecksum;
        if (checksum == null) {
            MessageDigest digest;
            try {
                digest = MessageDigest.getInstance("SHA-256");
            } catch (NoSuchAlgorithmException e) {
                throw new IllegalStateException("the JDK has no SHA-256", e);
            }
            try (InputStream in = Files.newInputStream(modelDir.resolve("model.safetensors"))) {
                byte[] buffer = new byte[1 << 20];
                for (int n; (n = in.read(buffer)) > 0; ) {
                    digest.update(buffer, 0, n);
                }
            }
            checksum = HexFormat.of().formatHex(digest.digest());
            weightsChecksum = checksum;
        }
        return checksum;
    }

    @Override
    public void close() {
        pool.close();
    }
}
