package io.jembed.core;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.BlockingDeque;
import java.util.concurrent.LinkedBlockingDeque;

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
import io.jembed.tokenizer.TruncationDirection;
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
 * <p>The runtime is immutable once built: weights, kernels and one compute pool (sized by
 * {@link Builder#threads}) that the encoder, the tokenizer and the indexes of a
 * {@code SemanticSearch} built on this embedder all run on, so they never compete for cores. Each
 * call is a request ({@link EmbedRequest}): its texts are tokenized on the pool, then encoded in
 * forward passes of at most {@link Builder#maxBatchTokens} tokens (16,384 by default, as TEI), so
 * memory is bounded whatever the texts. {@link #embed(EmbedRequest)} also says per text how many
 * tokens it had and whether it was cut.
 *
 * <p>Thread-safe: concurrent calls each get an activation workspace (at most {@value #WORKSPACES}
 * exist, so memory stays bounded; more callers wait) and take turns on the pool's threads.
 * A text's vector is the same bits whatever else is in its call, on any thread count.
 */
public final class Embedder implements AutoCloseable {

    /** TEI's default max_batch_tokens. */
    public static final int DEFAULT_MAX_BATCH_TOKENS = 16_384;

    /**
     * Activation workspaces, the most forward passes in flight: one computing on the pool while
     * another caller tokenizes or pools, more would only queue for the same threads. They are
     * handed out last-returned first, so a single caller always reuses one (its buffers stay in
     * cache, and the second is only allocated when two passes overlap).
     */
    static final int WORKSPACES = 2;

    /** Texts tokenized per parallel step: the rest of a long request waits as strings, not tokens. */
    private static final int TOKENIZE_CHUNK = 256;
    /** Texts per tokenizing or pooling task, enough to outweigh claiming it. */
    private static final int TEXTS_PER_TASK = 8;

    private final ModelDirectory directory;
    private final BertConfig config;
    private final WordPieceTokenizer tokenizer;
    private final BertModel model;
    private final PoolingConfig pooling;
    private final int maxLength;
    private final int maxBatchTokens;
    private final int batchSize;
    private final WorkerPool pool;
    private final BlockingDeque<BertModel.Workspace> workspaces = new LinkedBlockingDeque<>(WORKSPACES);

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
        this.maxBatchTokens = builder.maxBatchTokens > 0 ? builder.maxBatchTokens : DEFAULT_MAX_BATCH_TOKENS;
        if (maxBatchTokens < maxLength) {
            throw new IllegalArgumentException("max batch tokens " + maxBatchTokens + ": expected at least the max length ("
                    + maxLength + "), so that every text fits in a forward pass");
        }
        BertModel.Workspace.checkCapacity(config, maxBatchTokens);
        this.batchSize = builder.batchSize;
        Kernels kernels = builder.kernels != null ? builder.kernels : KernelsProvider.get();
        try (SafetensorsReader reader = SafetensorsReader.open(directory.weightsFile())) {
            this.model = new BertModel(config, BertWeights.load(reader, config, kernels), kernels);
        }
        this.pool = WorkerPool.create(builder.threads > 0 ? builder.threads : Runtime.getRuntime().availableProcessors());
        for (int i = 0; i < WORKSPACES; i++) {
            workspaces.addFirst(new BertModel.Workspace(model, maxBatchTokens));
        }
    }

    /** Loads a model directory with default settings (all processors, batches of up to 16,384 tokens). */
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
        private int batchSize = Integer.MAX_VALUE;
        private int maxBatchTokens;
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

        /** Most texts per forward pass (default: as many as {@link #maxBatchTokens} allows). */
        public Builder batchSize(int batchSize) {
            if (batchSize < 1) {
                throw new IllegalArgumentException("batch size: expected >= 1, found " + batchSize);
            }
            this.batchSize = batchSize;
            return this;
        }

        /**
         * Most tokens per forward pass (default {@value Embedder#DEFAULT_MAX_BATCH_TOKENS}, TEI's
         * max_batch_tokens): the activation memory of a pass grows with it, about
         * {@code 4 * (6 * hidden_size + intermediate_size)} bytes per token. At least the max length.
         */
        public Builder maxBatchTokens(int maxBatchTokens) {
            if (maxBatchTokens < 2) {
                throw new IllegalArgumentException("max batch tokens: expected >= 2, found " + maxBatchTokens);
            }
            this.maxBatchTokens = maxBatchTokens;
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
        return embed(EmbedRequest.of(texts).prompt(prompt)).vectors();
    }

    /**
     * Vectors of a request's texts, with each text's token count and whether it was cut.
     *
     * @throws InputTooLongException    if the request refuses truncation and a text is too long
     *                                  (nothing is encoded then)
     * @throws IllegalArgumentException for a prompt name the model does not have
     */
    public EmbedResult embed(EmbedRequest request) {
        Objects.requireNonNull(request, "request");
        Prompt prompt = resolve(request.prompt() != null ? request.prompt() : prompts().defaultPrompt());
        TruncationDirection direction = request.truncationDirection();
        int skip = promptTokensExcluded(prompt, direction);
        List<String> texts = request.texts();
        if (!request.truncates()) {
            refuseTooLong(texts, prompt);
        }
        int n = texts.size();
        float[][] vectors = new float[n][];
        int[] tokens = new int[n];
        boolean[] truncated = new boolean[n];
        Passes passes = new Passes(pooling.normalize(), vectors);
        Encoding[] encodings = new Encoding[Math.min(n, TOKENIZE_CHUNK)];
        for (int from = 0; from < n; from += TOKENIZE_CHUNK) {
            int count = Math.min(TOKENIZE_CHUNK, n - from);
            tokenize(texts, from, count, prompt, direction, encodings);
            for (int i = 0; i < count; i++) {
                tokens[from + i] = encodings[i].length();
                truncated[from + i] = encodings[i].truncated();
                passes.add(new Prepared(encodings[i], skip));
            }
        }
        passes.finish();
        return new EmbedResult(vectors, tokens, truncated);
    }

    /** The prompt's tokens that pooling leaves out, refusing LEFT truncation, which would eat them. */
    private int promptTokensExcluded(Prompt resolved, TruncationDirection direction) {
        int skip = directory.promptTokensExcluded(resolved);
        if (skip > 0 && direction == TruncationDirection.LEFT) {
            throw new IllegalArgumentException("truncation direction LEFT: expected RIGHT for prompt "
                    + resolved.describe() + ", whose tokens the pooling excludes (include_prompt: false)");
        }
        return skip;
    }

    /** Tokenizes whole texts (cheap beside encoding them) to fail before any is encoded. */
    private void refuseTooLong(List<String> texts, Prompt prompt) {
        int[] firstTooLong = {Integer.MAX_VALUE};
        pool.parallelFor((texts.size() + TEXTS_PER_TASK - 1) / TEXTS_PER_TASK, task -> {
            int end = Math.min(texts.size(), (task + 1) * TEXTS_PER_TASK);
            for (int i = task * TEXTS_PER_TASK; i < end; i++) {
                if (tokenizer.encode(directory.input(prompt, texts.get(i)), maxLength).truncated()) {
                    synchronized (firstTooLong) {
                        firstTooLong[0] = Math.min(firstTooLong[0], i);
                    }
                    return;
                }
            }
        });
        int index = firstTooLong[0];
        if (index != Integer.MAX_VALUE) {
            throw new InputTooLongException(index, tokenizer.encode(directory.input(prompt, texts.get(index))).length(),
                    maxLength);
        }
    }

    /** texts[from, from + count) under a resolved prompt into out[0, count), on the pool. */
    private void tokenize(List<String> texts, int from, int count, Prompt prompt, TruncationDirection direction,
                          Encoding[] out) {
        pool.parallelFor((count + TEXTS_PER_TASK - 1) / TEXTS_PER_TASK, task -> {
            int end = Math.min(count, (task + 1) * TEXTS_PER_TASK);
            for (int i = task * TEXTS_PER_TASK; i < end; i++) {
                out[i] = tokenizer.encode(directory.input(prompt, texts.get(from + i)), maxLength, direction);
            }
        });
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

    /** What the encoder is fed for texts under a prompt: prompt + text, lowercased if the model says, truncated. */
    public List<Encoding> tokenize(List<String> texts, Prompt prompt) {
        Prompt resolved = resolve(prompt);
        List<String> checked = EmbedRequest.of(texts).texts();
        Encoding[] encodings = new Encoding[checked.size()];
        tokenize(checked, 0, checked.size(), resolved, TruncationDirection.RIGHT, encodings);
        return List.of(encodings);
    }

    /** Sentence vectors of already tokenized texts, in forward passes within the token budget. */
    public float[][] embedEncoded(List<Encoding> encodings) {
        float[][] vectors = new float[encodings.size()][];
        Passes passes = new Passes(pooling.normalize(), vectors);
        for (Encoding encoding : encodings) {
            passes.add(new Prepared(encoding, 0));
        }
        passes.finish();
        return vectors;
    }

    /**
     * A text as the encoder takes it: its tokens under a prompt, and how many leading ones (the
     * prompt's, when the pooling has include_prompt false) pooling leaves out. Made by
     * {@link #prepare}; a server gathers those of many requests into one {@link #encode} call.
     */
    public record Prepared(Encoding encoding, int promptTokensExcluded) {
        public Prepared {
            Objects.requireNonNull(encoding, "encoding");
            if (promptTokensExcluded < 0) {
                throw new IllegalArgumentException("prompt tokens excluded: expected >= 0, found " + promptTokensExcluded);
            }
        }

        /** Tokens, [CLS] and [SEP] (and the prompt's) included. */
        public int tokens() {
            return encoding.length();
        }

        public boolean truncated() {
            return encoding.truncated();
        }
    }

    /**
     * Tokenizes texts under a prompt on the calling thread (not on the compute pool, so callers
     * that gather texts for {@link #encode} never wait behind a forward pass), cutting each to the
     * max length from the given side; {@link Prepared#truncated()} says which were cut.
     *
     * @throws IllegalArgumentException for a prompt name the model does not have, or LEFT for a
     *                                  prompt the pooling excludes (cutting from the left would eat it)
     */
    public List<Prepared> prepare(List<String> texts, Prompt prompt, TruncationDirection direction) {
        Objects.requireNonNull(direction, "direction");
        List<String> checked = EmbedRequest.of(texts).texts();
        Prompt resolved = resolve(prompt);
        int skip = promptTokensExcluded(resolved, direction);
        List<Prepared> prepared = new ArrayList<>(checked.size());
        for (String text : checked) {
            prepared.add(new Prepared(tokenizer.encode(directory.input(resolved, text), maxLength, direction), skip));
        }
        return prepared;
    }

    /**
     * Pools prepared texts, in order, in forward passes of at most {@link #maxBatchTokens} tokens;
     * normalize says whether to L2-normalise (the model's own setting is {@code pooling().normalize()}).
     * With the model's setting, a text's vector is the same bits as {@link #embed(EmbedRequest)} gives it.
     */
    public float[][] encode(List<Prepared> texts, boolean normalize) {
        float[][] vectors = new float[texts.size()][];
        Passes passes = new Passes(normalize, vectors);
        for (Prepared text : texts) {
            if (text.tokens() > maxLength) {
                throw new IllegalArgumentException("prepared text of " + text.tokens()
                        + " tokens: expected at most the max length, " + maxLength);
            }
            passes.add(text);
        }
        passes.finish();
        return vectors;
    }

    /**
     * Cuts a call's texts, in order, into forward passes of at most maxBatchTokens tokens and
     * batchSize texts, and pools each pass into vectors, normalised or not.
     */
    private final class Passes {
        private final PoolingConfig pooling;
        private final float[][] vectors;
        private final List<Prepared> pending = new ArrayList<>();
        private int next;          // index in vectors of pending's first text
        private long pendingTokens;

        Passes(boolean normalize, float[][] vectors) {
            this.pooling = Embedder.this.pooling.withNormalize(normalize);
            this.vectors = vectors;
        }

        void add(Prepared text) {
            int T = text.tokens();
            if (!pending.isEmpty() && (pendingTokens + T > maxBatchTokens || pending.size() == batchSize)) {
                flush();
            }
            pending.add(text);
            pendingTokens += T;
        }

        void finish() {
            if (!pending.isEmpty()) {
                flush();
            }
        }

        private void flush() {
            forwardAndPool(pending, pooling, vectors, next);
            next += pending.size();
            pending.clear();
            pendingTokens = 0;
        }
    }

    private void forwardAndPool(List<Prepared> texts, PoolingConfig pooling, float[][] vectors, int at) {
        List<BertModel.Sequence> batch = sequences(texts.stream().map(Prepared::encoding).toList());
        int H = config.hiddenSize();
        BertModel.Workspace workspace = takeWorkspace();
        try {
            model.forward(batch, workspace, pool);
            float[] hidden = workspace.hidden();
            pool.parallelFor((batch.size() + TEXTS_PER_TASK - 1) / TEXTS_PER_TASK, task -> {
                int end = Math.min(batch.size(), (task + 1) * TEXTS_PER_TASK);
                for (int s = task * TEXTS_PER_TASK; s < end; s++) {
                    int skip = texts.get(s).promptTokensExcluded();
                    vectors[at + s] = skip == 0
                            ? Pooling.pool(pooling, hidden, workspace.offset(s), workspace.length(s), H)
                            : poolWithoutPrompt(pooling, hidden, workspace.offset(s), workspace.length(s), H, skip);
                }
            });
        } finally {
            workspaces.addFirst(workspace);
        }
    }

    /** sentence-transformers' include_prompt=false: the prompt's positions get attention-mask 0 in pooling only. */
    private static float[] poolWithoutPrompt(PoolingConfig pooling, float[] hidden, int rowOffset, int T, int H,
                                             int skip) {
        float[] rows = Arrays.copyOfRange(hidden, rowOffset * H, (rowOffset + T) * H); // [1,T,H]
        int[] mask = new int[T];
        Arrays.fill(mask, Math.min(skip, T), T, 1);
        float[] out = new float[pooling.outputDimension(H)];
        Pooling.poolMasked(pooling, rows, mask, 1, T, H, out);
        return out;
    }

    /** A free workspace, waiting for one if every one is in a forward pass. */
    private BertModel.Workspace takeWorkspace() {
        boolean interrupted = false;
        try {
            while (true) {
                try {
                    return workspaces.takeFirst();
                } catch (InterruptedException e) {
                    interrupted = true; // finish the call; the caller sees its interrupt afterwards
                }
            }
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** The last hidden state of every token of text (no pooling, no prompt): [T][hidden_size]. */
    public float[][] embedTokens(String text) {
        Objects.requireNonNull(text, "text");
        List<BertModel.Sequence> batch = sequences(tokenize(List.of(text), Prompt.NONE));
        int H = config.hiddenSize();
        BertModel.Workspace workspace = takeWorkspace();
        try {
            model.forward(batch, workspace, pool);
            float[][] tokens = new float[workspace.length(0)][H];
            for (int t = 0; t < tokens.length; t++) {
                System.arraycopy(workspace.hidden(), t * H, tokens[t], 0, H);
            }
            return tokens;
        } finally {
            workspaces.addFirst(workspace);
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

    /** Most texts per forward pass ({@link Integer#MAX_VALUE}: only the token budget limits it). */
    public int batchSize() {
        return batchSize;
    }

    /** Most tokens per forward pass. */
    public int maxBatchTokens() {
        return maxBatchTokens;
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

    /**
     * The compute pool the encoder runs on, for other work that should share its cores (an index's
     * scans); it is closed with this embedder.
     */
    public WorkerPool computePool() {
        return pool;
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
