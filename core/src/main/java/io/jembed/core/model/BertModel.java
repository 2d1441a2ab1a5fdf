package io.jembed.core.model;

import java.util.List;

import io.jembed.core.kernels.Kernels;
import io.jembed.core.kernels.Kernels.Activation;
import io.jembed.core.kernels.WorkerPool;
import io.jembed.weights.BertConfig;

/**
 * The BERT encoder forward pass: embeddings, then a plain loop over bidirectional transformer
 * layers (post-LayerNorm, as in Hugging Face's {@code BertModel}).
 *
 * <p>A batch carries no padding: the N real tokens of all its sequences are concatenated
 * row after row, every Linear layer runs once over all N rows, and attention runs per
 * sequence over that sequence's own tokens. So a sequence's output does not depend on what
 * else is in its batch. Shape symbols: N tokens in the batch, T tokens of one sequence,
 * H hidden, I intermediate, h heads, d = H / h.
 */
public final class BertModel {

    /** One tokenized sequence: token ids and token type ids, [T] each. */
    public record Sequence(int[] inputIds, int[] tokenTypeIds) {
        public Sequence {
            if (inputIds.length != tokenTypeIds.length) {
                throw new IllegalArgumentException("sequence: expected as many token type ids as input ids ("
                        + inputIds.length + "), found " + tokenTypeIds.length);
            }
        }

        public int length() {
            return inputIds.length;
        }
    }

    /** Rows per LayerNorm task: enough work per hand-off, enough tasks to keep every thread busy. */
    private static final int LAYER_NORM_ROWS = 16;

    private final BertConfig config;
    private final BertWeights weights;
    private final Kernels kernels;
    private final Activation hiddenAct;

    public BertModel(BertConfig config, BertWeights weights, Kernels kernels) {
        this.config = config;
        this.weights = weights;
        this.kernels = kernels;
        this.hiddenAct = activationOf(config.hiddenAct());
    }

    public BertConfig config() {
        return config;
    }

    public Kernels kernels() {
        return kernels;
    }

    static Activation activationOf(String hiddenAct) {
        return switch (hiddenAct) {
            case "gelu" -> Activation.GELU;
            case "gelu_new", "gelu_pytorch_tanh", "gelu_fast" -> Activation.GELU_TANH;
            case "relu" -> Activation.RELU;
            default -> throw new IllegalArgumentException("config 'hidden_act': expected gelu, gelu_new, "
                    + "gelu_pytorch_tanh or relu, found '" + hiddenAct + "'");
        };
    }

    /**
     * Runs the encoder over a batch; the last hidden state of sequence s is rows
     * [ws.offset(s), ws.offset(s) + T_s) of {@link Workspace#hidden()}, [N, H].
     */
    public void forward(List<Sequence> batch, Workspace ws, WorkerPool pool) {
        forward(batch, ws, pool, null);
    }

    /** Sees the hidden states [N, H] after the embeddings (layer -1) and after each layer. */
    @FunctionalInterface
    public interface LayerObserver {
        void after(int layer, float[] hidden, int tokens);
    }

    /** As {@link #forward(List, Workspace, WorkerPool)}, reporting each layer's output to observer. */
    public void forward(List<Sequence> batch, Workspace ws, WorkerPool pool, LayerObserver observer) {
        ws.prepare(batch, pool.threads());
        embed(batch, ws, pool);
        if (observer != null) {
            observer.after(-1, ws.hidden(), ws.tokens());
        }
        List<BertWeights.Layer> layers = weights.layers();
        for (int i = 0; i < layers.size(); i++) {
            layer(layers.get(i), ws, pool);
            if (observer != null) {
                observer.after(i, ws.hidden(), ws.tokens());
            }
        }
    }

    /** {@code BertEmbeddings}: word + position + token type, then LayerNorm. x [N, H]. */
    private void embed(List<Sequence> batch, Workspace ws, WorkerPool pool) {
        int H = config.hiddenSize();
        BertWeights.Embeddings e = weights.embeddings();
        float[] x = ws.hidden();
        for (int s = 0; s < batch.size(); s++) {
            checkIds(s, batch.get(s));
        }
        pool.parallelFor(batch.size(), s -> {
            Sequence sequence = batch.get(s);
            for (int t = 0, row = ws.offset(s); t < sequence.length(); t++, row++) {
                System.arraycopy(e.wordEmbeddings(), sequence.inputIds()[t] * H, x, row * H, H);
                kernels.axpy(1f, e.positionEmbeddings(), t * H, x, row * H, H);
                kernels.axpy(1f, e.tokenTypeEmbeddings(), sequence.tokenTypeIds()[t] * H, x, row * H, H);
            }
        });
        layerNorm(pool, x, null, ws.tokens(), e.layerNormWeight(), e.layerNormBias(), x);
    }

    private void checkIds(int s, Sequence sequence) {
        for (int t = 0; t < sequence.length(); t++) {
            int id = sequence.inputIds()[t];
            int type = sequence.tokenTypeIds()[t];
            if (id < 0 || id >= config.vocabSize()) {
                throw new IllegalArgumentException("sequence " + s + ": input id " + id + " at position " + t
                        + ": expected 0.." + (config.vocabSize() - 1) + " (vocab_size)");
            }
            if (type < 0 || type >= config.typeVocabSize()) {
                throw new IllegalArgumentException("sequence " + s + ": token type id " + type + " at position " + t
                        + ": expected 0.." + (config.typeVocabSize() - 1) + " (type_vocab_size)");
            }
        }
    }

    /** out[N, H] = LayerNorm(x + residual), rows split over the pool. */
    private void layerNorm(WorkerPool pool, float[] x, float[] residual, int N, float[] gamma, float[] beta,
                           float[] out) {
        int H = config.hiddenSize();
        float eps = (float) config.layerNormEps();
        pool.parallelFor((N + LAYER_NORM_ROWS - 1) / LAYER_NORM_ROWS, task -> {
            int first = task * LAYER_NORM_ROWS;
            kernels.addLayerNorm(x, residual, first, Math.min(LAYER_NORM_ROWS, N - first), H, gamma, beta, eps, out);
        });
    }

    /** {@code BertLayer}: self-attention, add & norm, feed-forward, add & norm. */
    private void layer(BertWeights.Layer layer, Workspace ws, WorkerPool pool) {
        int N = ws.tokens();
        float[] x = ws.hidden();
        kernels.linear(pool, x, N, layer.queryKeyValue(), Activation.NONE, ws.queryKeyValue()); // [N,H]·[H,3H] -> [N,3H]
        attention(ws, pool);                                                                    // -> context [N,H]
        kernels.linear(pool, ws.context(), N, layer.attentionOutputDense(), Activation.NONE, ws.projected()); // [N,H]·[H,H]
        layerNorm(pool, ws.projected(), x, N, layer.attentionOutputLayerNormWeight(),
                layer.attentionOutputLayerNormBias(), x);
        kernels.linear(pool, x, N, layer.intermediateDense(), hiddenAct, ws.intermediate());     // [N,H]·[H,I] -> [N,I]
        kernels.linear(pool, ws.intermediate(), N, layer.outputDense(), Activation.NONE, ws.projected()); // [N,I]·[I,H]
        layerNorm(pool, ws.projected(), x, N, layer.outputLayerNormWeight(), layer.outputLayerNormBias(), x);
    }

    /**
     * Bidirectional multi-head attention, one task per (sequence, head): each head reads its
     * d columns of q, k and v from the fused [N, 3H] projection and writes its d columns of
     * the context [N, H].
     */
    private void attention(Workspace ws, WorkerPool pool) {
        int H = config.hiddenSize();
        int heads = config.numAttentionHeads();
        int d = H / heads;
        float scale = (float) (1.0 / Math.sqrt(d));
        float[] qkv = ws.queryKeyValue();
        float[] context = ws.context();
        int sequences = ws.sequences();
        pool.parallelFor(sequences * heads, (task, worker) -> {
            int s = task / heads;
            int head = task % heads;
            int base = ws.offset(s) * 3 * H + head * d;
            kernels.attention(qkv, base, qkv, base + H, qkv, base + 2 * H, 3 * H,
                    ws.length(s), d, scale, context, ws.offset(s) * H + head * d, H, ws.scores(worker));
        });
    }

    /**
     * Activation buffers of one batch, reused across batches and grown only when a batch has
     * more tokens than any before it, so the hot path does not allocate.
     */
    public static final class Workspace {
        private final BertModel model;
        private final int tokenBudget;
        private float[] hidden = new float[0];        // [N, H]
        private float[] queryKeyValue = new float[0]; // [N, 3H]
        private float[] context = new float[0];       // [N, H]
        private float[] projected = new float[0];     // [N, H]
        private float[] intermediate = new float[0];  // [N, I]
        private float[][] scores = new float[0][];    // [threads][scratch]: attention scratch per worker
        private int[] offsets = new int[1];           // [sequences + 1], row where each sequence starts
        private int sequences;

        /** Buffers sized to each batch, growing to each larger one. */
        public Workspace(BertModel model) {
            this(model, 0);
        }

        /**
         * Buffers for passes of at most tokenBudget tokens: a pass of N tokens sizes them for the
         * next power of two at or above N, and for the whole budget once N is past half of it, so
         * they grow a few times at most, and never again after the first large pass.
         *
         * <p>Why: passes cut by a budget vary by a few tokens, and growing to each new largest one
         * allocated the [N, I] buffers again and again; each such array is hundreds of MB at a
         * 16,384-token budget, and ParallelGC copied every one out of the young generation
         * (measured: 1.2 s of pauses in a 3,000-sentence `jembed embed` of 8.8 s).
         *
         * @throws IllegalArgumentException if the budget is negative or its buffers cannot fit a Java array
         */
        public Workspace(BertModel model, int tokenBudget) {
            if (tokenBudget < 0) {
                throw new IllegalArgumentException("workspace: expected a token budget >= 0, found " + tokenBudget);
            }
            checkCapacity(model.config, tokenBudget);
            this.model = model;
            this.tokenBudget = tokenBudget;
        }

        /**
         * Checks that a batch of {@code tokens} tokens fits this model's activation buffers, each
         * one Java array: the widest is [N, max(3H, I)].
         *
         * @throws IllegalArgumentException naming the most tokens that fit
         */
        public static void checkCapacity(BertConfig config, long tokens) {
            long widest = Math.max(3L * config.hiddenSize(), config.intermediateSize());
            long most = MAX_ARRAY / widest;
            if (tokens > most) {
                throw new IllegalArgumentException("batch of " + tokens + " tokens: expected at most " + most
                        + " for this model (its [tokens, " + widest + "] activation buffer must fit one Java array);"
                        + " use a smaller token budget");
            }
        }

        /** The longest array the JVM allocates. */
        private static final long MAX_ARRAY = Integer.MAX_VALUE - 8;

        void prepare(List<Sequence> batch, int threads) {
            BertConfig config = model.config;
            int maxPositions = config.maxPositionEmbeddings();
            int count = batch.size();
            long total = 0;
            int maxLength = 0;
            for (int s = 0; s < count; s++) {
                int T = batch.get(s).length();
                if (T == 0 || T > maxPositions) {
                    throw new IllegalArgumentException("sequence " + s + ": expected 1.." + maxPositions
                            + " tokens (max_position_embeddings), found " + T);
                }
                total += T;
                maxLength = Math.max(maxLength, T);
            }
            checkCapacity(config, total);
            sequences = count;
            if (offsets.length < sequences + 1) {
                offsets = new int[sequences + 1];
            }
            for (int s = 0; s < sequences; s++) {
                offsets[s + 1] = offsets[s] + batch.get(s).length();
            }
            int N = offsets[sequences];
            int H = config.hiddenSize();
            if (hidden.length < N * H) {
                // At most max(N, tokenBudget), both checked against the array limit already.
                int capacity = 2L * N > tokenBudget ? Math.max(N, tokenBudget) : (int) Long.highestOneBit(2L * N - 1);
                hidden = new float[capacity * H];
                queryKeyValue = new float[capacity * 3 * H];
                context = new float[capacity * H];
                projected = new float[capacity * H];
                intermediate = new float[capacity * config.intermediateSize()];
            }
            int scratch = model.kernels.attentionScratchSize(maxLength, H / config.numAttentionHeads());
            if (scores.length < threads || scores[0].length < scratch) {
                int width = Math.max(scratch, scores.length > 0 ? scores[0].length : 0);
                scores = new float[Math.max(threads, scores.length)][width];
            }
        }

        public float[] hidden() {
            return hidden;
        }

        /** Tokens the buffers hold now. */
        int capacity() {
            return hidden.length / model.config.hiddenSize();
        }

        float[] queryKeyValue() {
            return queryKeyValue;
        }

        float[] context() {
            return context;
        }

        float[] projected() {
            return projected;
        }

        float[] intermediate() {
            return intermediate;
        }

        float[] scores(int worker) {
            return scores[worker];
        }

        /** Total tokens N in the current batch. */
        public int tokens() {
            return offsets[sequences];
        }

        public int sequences() {
            return sequences;
        }

        /** First row of sequence s in {@link #hidden()}. */
        public int offset(int s) {
            return offsets[s];
        }

        /** Tokens T of sequence s. */
        public int length(int s) {
            return offsets[s + 1] - offsets[s];
        }
    }
}
