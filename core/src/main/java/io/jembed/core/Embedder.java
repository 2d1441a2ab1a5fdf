package io.jembed.core;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.locks.ReentrantLock;

import io.jembed.core.kernels.Kernels;
import io.jembed.core.kernels.KernelsProvider;
import io.jembed.core.kernels.WorkerPool;
import io.jembed.core.model.BertModel;
import io.jembed.core.model.BertWeights;
import io.jembed.core.model.ModelDirectory;
import io.jembed.core.model.Prompt;
import io.jembed.core.model.Prompts;
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
 * <p>The directory is read once, by {@link ModelDirectory#read}: weights, config, tokenizer,
 * pooling, max_seq_length, do_lower_case and prompts.
 *
 * <p>Prompts follow sentence-transformers: {@link #embed(List)} applies the model's default prompt
 * (none for most models), {@link #embedQuery} its {@code query} prompt and {@link #embedDocument}
 * its {@code document} (else {@code passage}, else {@code corpus}) prompt; {@link #embed(List, Prompt)}
 * takes any. The prompt is prepended to the text and counts against the max length.
 *
 * <p>Thread-safe: calls from several threads take turns on the model, each using every worker
 * thread of the pool.
 */
public final class Embedder implements AutoCloseable {

    private final ModelDirectory directory;
    private final BertConfig config;
    private final WordPieceTokenizer tokenizer;
    private final BertModel model;
    private final PoolingConfig pooling;
    private final int maxLength;
    private final int batchSize;
    private final WorkerPool pool;
    private final ReentrantLock modelLock = new ReentrantLock();
    private final BertModel.Workspace workspace;

    private Embedder(Builder builder) throws IOException {
        this.directory = builder.directory != null ? builder.directory : ModelDirectory.read(builder.modelDir);
        this.config = directory.config();
        this.tokenizer = directory.tokenizer();
        this.pooling = builder.pooling != null ? builder.pooling : directory.pooling();
        int configured = builder.maxLength > 0 ? builder.maxLength : directory.maxSeqLength();
        if (configured > config.maxPositionEmbeddings()) {
            throw new IllegalArgumentException("max length " + configured + ": expected at most "
                    + config.maxPositionEmbeddings() + " (max_position_embeddings of " + directory.dir() + ")");
        }
        this.maxLength = configured;
        this.batchSize = builder.batchSize;
        Kernels kernels = builder.kernels != null ? builder.kernels : KernelsProvider.get();
        try (SafetensorsReader reader = SafetensorsReader.open(directory.weightsFile())) {
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
        return new Builder(Objects.requireNonNull(modelDir, "modelDir"), null);
    }

    /** A builder for a model directory already read. */
    public static Builder builder(ModelDirectory directory) {
        return new Builder(directory.dir(), directory);
    }

    /** Options of {@link Embedder}; every one has a default. */
    public static final class Builder {
        private final Path modelDir;
        private final ModelDirectory directory;
        private int threads;
        private int batchSize = 32;
        private int maxLength;
        private Kernels kernels;
        private PoolingConfig pooling;

        private Builder(Path modelDir, ModelDirectory directory) {
            this.modelDir = modelDir;
            this.directory = directory;
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

    /** Sentence vectors of texts, in order, with the model's default prompt (usually none); [texts.size()][dimension()]. */
    public float[][] embed(List<String> texts) {
        return embed(texts, prompts().defaultPrompt());
    }

    /**
     * Sentence vectors of texts under a prompt ({@link Prompt#named} for one of the model's prompts,
     * {@link Prompt#text} for any other, {@link Prompt#NONE} for none).
     *
     * @throws IllegalArgumentException for a prompt name the model does not have
     */
    public float[][] embed(List<String> texts, Prompt prompt) {
        Objects.requireNonNull(texts, "texts");
        Prompt resolved = resolve(prompt);
        int skip = directory.promptTokensExcluded(resolved);
        float[][] vectors = new float[texts.size()][];
        for (int from = 0; from < texts.size(); from += batchSize) {
            int to = Math.min(texts.size(), from + batchSize);
            float[][] batch = embedEncoded(tokenize(texts.subList(from, to), resolved), skip);
            System.arraycopy(batch, 0, vectors, from, batch.length);
        }
        return vectors;
    }

    /** The sentence vector of one text, with the model's default prompt. */
    public float[] embed(String text) {
        return embed(text, prompts().defaultPrompt());
    }

    /** The sentence vector of one text under a prompt. */
    public float[] embed(String text, Prompt prompt) {
        Objects.requireNonNull(text, "text");
        return embed(List.of(text), prompt)[0];
    }

    /** Queries, with the model's query prompt (sentence-transformers' {@code encode_query}). */
    public float[][] embedQuery(List<String> queries) {
        return embed(queries, prompts().queryPrompt());
    }

    public float[] embedQuery(String query) {
        return embed(query, prompts().queryPrompt());
    }

    /** Documents, with the model's document prompt (sentence-transformers' {@code encode_document}). */
    public float[][] embedDocument(List<String> documents) {
        return embed(documents, prompts().documentPrompt());
    }

    public float[] embedDocument(String document) {
        return embed(document, prompts().documentPrompt());
    }

    /** A prompt with its text; a name is looked up in the model's prompts. */
    public Prompt resolve(Prompt prompt) {
        return prompts().resolve(Objects.requireNonNull(prompt, "prompt"));
    }

    /** What the encoder is fed for texts under a resolved prompt: prompt + text, lowercased if the model says, truncated. */
    public List<Encoding> tokenize(List<String> texts, Prompt prompt) {
        Prompt resolved = resolve(prompt);
        List<String> inputs = new ArrayList<>(texts.size());
        for (String text : texts) {
            if (text == null) {
                throw new IllegalArgumentException("texts: expected no null text, found one at " + inputs.size());
            }
            inputs.add(directory.input(resolved, text));
        }
        return tokenizer.encodeBatch(inputs, maxLength);
    }

    /** Sentence vectors of already tokenized texts, one forward pass. */
    public float[][] embedEncoded(List<Encoding> encodings) {
        return embedEncoded(encodings, 0);
    }

    /** skip: leading tokens (a prompt's) that pooling leaves out, as include_prompt=false does. */
    private float[][] embedEncoded(List<Encoding> encodings, int skip) {
        List<BertModel.Sequence> batch = sequences(encodings);
        int H = config.hiddenSize();
        float[][] vectors = new float[batch.size()][];
        modelLock.lock();
        try {
            model.forward(batch, workspace, pool);
            for (int s = 0; s < batch.size(); s++) {
                vectors[s] = skip == 0
                        ? Pooling.pool(pooling, workspace.hidden(), workspace.offset(s), workspace.length(s), H)
                        : poolWithoutPrompt(workspace.hidden(), workspace.offset(s), workspace.length(s), H, skip);
            }
        } finally {
            modelLock.unlock();
        }
        return vectors;
    }

    /** sentence-transformers' include_prompt=false: the prompt's positions get attention-mask 0 in pooling only. */
    private float[] poolWithoutPrompt(float[] hidden, int rowOffset, int T, int H, int skip) {
        float[] rows = Arrays.copyOfRange(hidden, rowOffset * H, (rowOffset + T) * H); // [1,T,H]
        int[] mask = new int[T];
        Arrays.fill(mask, Math.min(skip, T), T, 1);
        float[] out = new float[pooling.outputDimension(H)];
        Pooling.poolMasked(pooling, rows, mask, 1, T, H, out);
        return out;
    }

    /** The last hidden state of every token of text (no pooling, no prompt): [T][hidden_size]. */
    public float[][] embedTokens(String text) {
        Objects.requireNonNull(text, "text");
        List<BertModel.Sequence> batch = sequences(tokenize(List.of(text), Prompt.NONE));
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

    /** The model directory as read: config, tokenizer, pooling, prompts. */
    public ModelDirectory model() {
        return directory;
    }

    /** The model's prompts (config_sentence_transformers.json). */
    public Prompts prompts() {
        return directory.prompts();
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
        return directory.dir();
    }

    public Kernels kernels() {
        return model.kernels();
    }

    public int threads() {
        return pool.threads();
    }

    /** The model directory's name, as recorded in index manifests. */
    public String modelName() {
        return directory.name();
    }

    /** SHA-256 of model.safetensors, hex; computed on first use and remembered. */
    public String weightsChecksum() throws IOException {
        return directory.weightsSha256();
    }

    @Override
    public void close() {
        pool.close();
    }
}
