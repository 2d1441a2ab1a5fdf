package io.jembed.core.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.jembed.core.kernels.Kernels;
import io.jembed.core.kernels.KernelsProvider;
import io.jembed.core.kernels.WorkerPool;
import io.jembed.weights.BertConfig;
import io.jembed.weights.SafetensorsReader;
import io.jembed.weights.SafetensorsWriter;

/**
 * The encoder on a tiny random BERT: the scalar path against a textbook double-precision
 * forward written here, the vector path against the scalar one layer by layer, batching
 * against one-at-a-time, and attention that looks both ways.
 */
class BertModelTest {

    /** Scalar float32 against the double reference: 2 layers of float rounding on values near 1. */
    static final double SCALAR_VS_DOUBLE = 2e-5;
    /** Vector against scalar: only the summation order differs (FMA, several accumulators). */
    static final double VECTOR_VS_SCALAR = 2e-5;

    static TinyBert tiny;
    static Path weightsFile;

    @TempDir
    static Path dir;

    @BeforeAll
    static void writeModel() throws IOException {
        tiny = new TinyBert(42);
        weightsFile = tiny.write(dir, "");
    }

    static BertModel load(Path file, Kernels kernels) throws IOException {
        try (SafetensorsReader reader = SafetensorsReader.open(file)) {
            return new BertModel(TinyBert.CONFIG, BertWeights.load(reader, TinyBert.CONFIG, kernels), kernels);
        }
    }

    static BertModel.Sequence sequence(int... ids) {
        return new BertModel.Sequence(ids, new int[ids.length]);
    }

    /** Runs the model and returns each layer's hidden states (index 0 = embeddings), [N*H] each. */
    static List<float[]> layers(BertModel model, List<BertModel.Sequence> batch, int threads) {
        List<float[]> out = new ArrayList<>();
        try (WorkerPool pool = WorkerPool.create(threads)) {
            BertModel.Workspace ws = new BertModel.Workspace(model);
            model.forward(batch, ws, pool, (layer, hidden, tokens) ->
                    out.add(java.util.Arrays.copyOf(hidden, tokens * model.config().hiddenSize())));
        }
        return out;
    }

    @Test
    void scalarPathEqualsTextbookForward() throws IOException {
        BertModel model = load(weightsFile, KernelsProvider.scalar());
        int[] ids = {2, 17, 5, 33, 8, 41, 3};
        List<float[]> layers = layers(model, List.of(sequence(ids)), 1);
        double[][] expected = Reference.forward(tiny, ids);
        float[] actual = layers.get(layers.size() - 1);
        int H = TinyBert.CONFIG.hiddenSize();
        for (int t = 0; t < ids.length; t++) {
            for (int j = 0; j < H; j++) {
                double diff = Math.abs(actual[t * H + j] - expected[t][j]);
                if (diff > SCALAR_VS_DOUBLE) {
                    fail("token " + t + " feature " + j + ": scalar " + actual[t * H + j] + ", reference "
                            + expected[t][j] + " (|diff| " + diff + " > " + SCALAR_VS_DOUBLE + ")");
                }
            }
        }
    }

    @Test
    void vectorPathEqualsScalarLayerByLayer() throws IOException {
        BertModel scalar = load(weightsFile, KernelsProvider.scalar());
        BertModel vector = load(weightsFile, KernelsProvider.vector());
        List<BertModel.Sequence> batch = List.of(sequence(2, 9, 3), sequence(2, 17, 5, 33, 8, 41, 12, 19, 22, 3),
                sequence(2, 3), sequence(randomIds(7, 37)));
        List<float[]> expected = layers(scalar, batch, 1);
        List<float[]> actual = layers(vector, batch, 2);
        assertEquals(expected.size(), actual.size());
        for (int layer = 0; layer < expected.size(); layer++) {
            assertClose("layer " + (layer - 1), expected.get(layer), actual.get(layer), VECTOR_VS_SCALAR);
        }
    }

    @Test
    void workspaceGrowsToTheBudgetOncePastHalfOfIt() throws IOException {
        BertModel model = load(weightsFile, KernelsProvider.get());
        BertModel.Workspace ws = new BertModel.Workspace(model, 100);
        int[] capacities = new int[5];
        int[] passes = {3, 20, 60, 99, 70};
        try (WorkerPool pool = WorkerPool.create(1)) {
            for (int i = 0; i < passes.length; i++) {
                model.forward(batchOf(i, passes[i]), ws, pool);
                capacities[i] = ws.capacity();
            }
        }
        // 3 -> 4 and 20 -> 32 (powers of two), 60 > 100 / 2 -> the budget, which then holds 99 and 70.
        assertEquals(List.of(4, 32, 100, 100, 100), java.util.Arrays.stream(capacities).boxed().toList());
        float[] before = ws.hidden();
        try (WorkerPool pool = WorkerPool.create(1)) {
            model.forward(batchOf(9, 100), ws, pool);
        }
        assertTrue(before == ws.hidden(), "a pass within the budget re-allocated the buffers");

        BertModel.Workspace exact = new BertModel.Workspace(model);
        try (WorkerPool pool = WorkerPool.create(1)) {
            model.forward(List.of(sequence(randomIds(1, 37))), exact, pool);
        }
        assertEquals(37, exact.capacity(), "without a budget the buffers fit the batch");
    }

    /** A batch of tokens tokens in sequences of at most 40 (the tiny model's max positions). */
    private static List<BertModel.Sequence> batchOf(long seed, int tokens) {
        List<BertModel.Sequence> batch = new ArrayList<>();
        for (int left = tokens; left > 0; left -= 40) {
            batch.add(sequence(randomIds(seed + left, Math.min(40, left))));
        }
        return batch;
    }

    @Test
    void raggedBatchEqualsOneAtATime() throws IOException {
        BertModel model = load(weightsFile, KernelsProvider.get());
        List<BertModel.Sequence> batch = List.of(sequence(randomIds(1, 12)), sequence(2, 3),
                sequence(randomIds(2, 40)), sequence(randomIds(3, 5)));
        List<float[]> together = layers(model, batch, 2);
        float[] all = together.get(together.size() - 1);
        int H = TinyBert.CONFIG.hiddenSize();
        int row = 0;
        for (BertModel.Sequence s : batch) {
            List<float[]> alone = layers(model, List.of(s), 2);
            float[] one = alone.get(alone.size() - 1);
            float[] slice = java.util.Arrays.copyOfRange(all, row * H, (row + s.length()) * H);
            // Same kernels, same rows: a sequence's numbers may not depend on its batch, to the bit.
            assertClose("sequence of " + s.length() + " tokens", one, slice, 0);
            row += s.length();
        }
    }

    @Test
    void attentionIsBidirectional() throws IOException {
        BertModel model = load(weightsFile, KernelsProvider.get());
        List<float[]> a = layers(model, List.of(sequence(2, 10, 11, 12, 3)), 1);
        List<float[]> b = layers(model, List.of(sequence(2, 10, 11, 13, 3)), 1);
        float[] first = a.get(a.size() - 1);
        float[] changed = b.get(b.size() - 1);
        int H = TinyBert.CONFIG.hiddenSize();
        double firstTokenChange = 0;
        for (int j = 0; j < H; j++) {
            firstTokenChange = Math.max(firstTokenChange, Math.abs(first[j] - changed[j]));
        }
        // Changing token 3 must reach token 0: a causal mask would leave it bit-identical.
        assertTrue(firstTokenChange > 1e-3, "first token's output moved by only " + firstTokenChange);
    }

    @Test
    void bertPrefixedCheckpointLoads(@TempDir Path prefixed) throws IOException {
        Path file = tiny.write(prefixed, "bert.");
        List<float[]> expected = layers(load(weightsFile, KernelsProvider.scalar()), List.of(sequence(2, 7, 3)), 1);
        List<float[]> actual = layers(load(file, KernelsProvider.scalar()), List.of(sequence(2, 7, 3)), 1);
        assertClose("bert.-prefixed", expected.get(expected.size() - 1), actual.get(actual.size() - 1), 0);
    }

    @Test
    void missingTensorIsNamed(@TempDir Path broken) throws IOException {
        SafetensorsWriter writer = new SafetensorsWriter();
        tiny.tensors.forEach((name, data) -> {
            if (!name.equals("encoder.layer.1.attention.self.key.bias")) {
                writer.add(name, data, tiny.shapes.get(name));
            }
        });
        writer.write(broken.resolve("model.safetensors"));
        Exception e = assertThrows(Exception.class, () -> load(broken.resolve("model.safetensors"), KernelsProvider.scalar()));
        assertTrue(e.getMessage().contains("encoder.layer.1.attention.self.key.bias"), e.getMessage());
    }

    @Test
    void misShapedTensorIsNamedWithBothShapes(@TempDir Path broken) throws IOException {
        SafetensorsWriter writer = new SafetensorsWriter();
        tiny.tensors.forEach((name, data) -> {
            if (name.equals("encoder.layer.0.intermediate.dense.weight")) {
                writer.add(name, data, 32, 64);
            } else {
                writer.add(name, data, tiny.shapes.get(name));
            }
        });
        writer.write(broken.resolve("model.safetensors"));
        Exception e = assertThrows(Exception.class, () -> load(broken.resolve("model.safetensors"), KernelsProvider.scalar()));
        String message = e.getMessage();
        assertTrue(message.contains("encoder.layer.0.intermediate.dense.weight"), message);
        assertTrue(message.contains("[64, 32]") && message.contains("[32, 64]"), message);
    }

    @Test
    void outOfVocabularyIdIsRejected() throws IOException {
        BertModel model = load(weightsFile, KernelsProvider.scalar());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> layers(model, List.of(sequence(2, 50, 3)), 1));
        assertTrue(e.getMessage().contains("50"), e.getMessage());
    }

    static int[] randomIds(long seed, int length) {
        java.util.SplittableRandom random = new java.util.SplittableRandom(seed);
        int[] ids = new int[length];
        for (int i = 0; i < length; i++) {
            ids[i] = random.nextInt(TinyBert.CONFIG.vocabSize());
        }
        return ids;
    }

    static void assertClose(String where, float[] expected, float[] actual, double tolerance) {
        assertEquals(expected.length, actual.length, where + ": length");
        int H = TinyBert.CONFIG.hiddenSize();
        for (int i = 0; i < expected.length; i++) {
            double diff = Math.abs(expected[i] - actual[i]);
            if (!(diff <= tolerance)) {
                fail(where + ", token " + (i / H) + " feature " + (i % H) + ": expected " + expected[i]
                        + ", found " + actual[i] + " (|diff| " + diff + " > " + tolerance + ")");
            }
        }
    }

    /** BERT written as the paper and Hugging Face's modeling_bert.py describe it, in double. */
    static final class Reference {
        static double[][] forward(TinyBert w, int[] ids) {
            BertConfig c = TinyBert.CONFIG;
            int T = ids.length, H = c.hiddenSize(), I = c.intermediateSize(), heads = c.numAttentionHeads(), d = H / heads;
            double[][] x = new double[T][H];
            for (int t = 0; t < T; t++) {
                for (int j = 0; j < H; j++) {
                    x[t][j] = w.get("embeddings.word_embeddings.weight")[ids[t] * H + j]
                            + w.get("embeddings.position_embeddings.weight")[t * H + j]
                            + w.get("embeddings.token_type_embeddings.weight")[j];
                }
            }
            x = layerNorm(x, w.get("embeddings.LayerNorm.weight"), w.get("embeddings.LayerNorm.bias"), c.layerNormEps());
            for (int l = 0; l < c.numHiddenLayers(); l++) {
                String p = "encoder.layer." + l + ".";
                double[][] q = linear(x, w.get(p + "attention.self.query.weight"), w.get(p + "attention.self.query.bias"), H);
                double[][] k = linear(x, w.get(p + "attention.self.key.weight"), w.get(p + "attention.self.key.bias"), H);
                double[][] v = linear(x, w.get(p + "attention.self.value.weight"), w.get(p + "attention.self.value.bias"), H);
                double[][] context = new double[T][H];
                for (int h = 0; h < heads; h++) {
                    for (int i = 0; i < T; i++) {
                        double[] scores = new double[T];
                        double max = Double.NEGATIVE_INFINITY;
                        for (int j = 0; j < T; j++) {
                            double s = 0;
                            for (int e = 0; e < d; e++) {
                                s += q[i][h * d + e] * k[j][h * d + e];
                            }
                            scores[j] = s / Math.sqrt(d);
                            max = Math.max(max, scores[j]);
                        }
                        double sum = 0;
                        for (int j = 0; j < T; j++) {
                            scores[j] = Math.exp(scores[j] - max);
                            sum += scores[j];
                        }
                        for (int j = 0; j < T; j++) {
                            for (int e = 0; e < d; e++) {
                                context[i][h * d + e] += scores[j] / sum * v[j][h * d + e];
                            }
                        }
                    }
                }
                double[][] attention = linear(context, w.get(p + "attention.output.dense.weight"),
                        w.get(p + "attention.output.dense.bias"), H);
                x = layerNorm(add(attention, x), w.get(p + "attention.output.LayerNorm.weight"),
                        w.get(p + "attention.output.LayerNorm.bias"), c.layerNormEps());
                double[][] intermediate = linear(x, w.get(p + "intermediate.dense.weight"), w.get(p + "intermediate.dense.bias"), I);
                for (double[] row : intermediate) {
                    for (int j = 0; j < I; j++) {
                        row[j] = 0.5 * row[j] * (1 + erf(row[j] / Math.sqrt(2)));
                    }
                }
                double[][] output = linear(intermediate, w.get(p + "output.dense.weight"), w.get(p + "output.dense.bias"), H);
                x = layerNorm(add(output, x), w.get(p + "output.LayerNorm.weight"), w.get(p + "output.LayerNorm.bias"),
                        c.layerNormEps());
            }
            return x;
        }

        /** y = x·Wᵀ + b with W [out, in]. */
        static double[][] linear(double[][] x, float[] weight, float[] bias, int out) {
            int in = x[0].length;
            double[][] y = new double[x.length][out];
            for (int t = 0; t < x.length; t++) {
                for (int o = 0; o < out; o++) {
                    double s = bias[o];
                    for (int i = 0; i < in; i++) {
                        s += x[t][i] * weight[o * in + i];
                    }
                    y[t][o] = s;
                }
            }
            return y;
        }

        static double[][] add(double[][] a, double[][] b) {
            double[][] y = new double[a.length][a[0].length];
            for (int t = 0; t < a.length; t++) {
                for (int j = 0; j < a[0].length; j++) {
                    y[t][j] = a[t][j] + b[t][j];
                }
            }
            return y;
        }

        static double[][] layerNorm(double[][] x, float[] gamma, float[] beta, double eps) {
            double[][] y = new double[x.length][x[0].length];
            int n = x[0].length;
            for (int t = 0; t < x.length; t++) {
                double mean = 0;
                for (double v : x[t]) {
                    mean += v;
                }
                mean /= n;
                double var = 0;
                for (double v : x[t]) {
                    var += (v - mean) * (v - mean);
                }
                var /= n;
                for (int j = 0; j < n; j++) {
                    y[t][j] = (x[t][j] - mean) / Math.sqrt(var + eps) * gamma[j] + beta[j];
                }
            }
            return y;
        }

        /** erf by its Maclaurin series (|x| < 3) or continued fraction tail; ~1e-15 here. */
        static double erf(double x) {
            double ax = Math.abs(x);
            double r;
            if (ax < 3) {
                double term = ax, sum = ax;
                for (int n = 1; n < 200; n++) {
                    term *= -ax * ax / n;
                    sum += term / (2 * n + 1);
                }
                r = 2 / Math.sqrt(Math.PI) * sum;
            } else {
                double f = 0;
                for (int n = 60; n >= 1; n--) {
                    f = n / 2.0 / (ax + f);
                }
                r = 1 - Math.exp(-ax * ax) / Math.sqrt(Math.PI) / (ax + f);
            }
            return Math.copySign(r, x);
        }
    }
}
