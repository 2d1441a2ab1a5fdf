package io.jembed.core.model;

import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;

import io.jembed.weights.BertConfig;
import io.jembed.weights.SafetensorsWriter;

/**
 * A small random BERT (2 layers, hidden 32, 4 heads) written as a real safetensors file, for
 * tests that need a model but not the real one. Values are seeded and of the magnitudes a
 * trained model has (LayerNorm gains near 1), so every layer does real work.
 */
final class TinyBert {

    static final BertConfig CONFIG = new BertConfig(50, 32, 2, 4, 64, "gelu", 40, 2, 1e-12, 0, "absolute");

    final Map<String, float[]> tensors = new LinkedHashMap<>();
    final Map<String, long[]> shapes = new LinkedHashMap<>();

    TinyBert(long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        int V = CONFIG.vocabSize(), H = CONFIG.hiddenSize(), I = CONFIG.intermediateSize();
        put("embeddings.word_embeddings.weight", random, 0.5f, 0f, V, H);
        put("embeddings.position_embeddings.weight", random, 0.2f, 0f, CONFIG.maxPositionEmbeddings(), H);
        put("embeddings.token_type_embeddings.weight", random, 0.2f, 0f, CONFIG.typeVocabSize(), H);
        put("embeddings.LayerNorm.weight", random, 0.1f, 1f, H);
        put("embeddings.LayerNorm.bias", random, 0.1f, 0f, H);
        for (int l = 0; l < CONFIG.numHiddenLayers(); l++) {
            String p = "encoder.layer." + l + ".";
            for (String name : new String[] {"query", "key", "value"}) {
                put(p + "attention.self." + name + ".weight", random, 0.3f, 0f, H, H);
                put(p + "attention.self." + name + ".bias", random, 0.1f, 0f, H);
            }
            put(p + "attention.output.dense.weight", random, 0.2f, 0f, H, H);
            put(p + "attention.output.dense.bias", random, 0.1f, 0f, H);
            put(p + "attention.output.LayerNorm.weight", random, 0.1f, 1f, H);
            put(p + "attention.output.LayerNorm.bias", random, 0.1f, 0f, H);
            put(p + "intermediate.dense.weight", random, 0.2f, 0f, I, H);
            put(p + "intermediate.dense.bias", random, 0.1f, 0f, I);
            put(p + "output.dense.weight", random, 0.1f, 0f, H, I);
            put(p + "output.dense.bias", random, 0.1f, 0f, H);
            put(p + "output.LayerNorm.weight", random, 0.1f, 1f, H);
            put(p + "output.LayerNorm.bias", random, 0.1f, 0f, H);
        }
    }

    private void put(String name, SplittableRandom random, float scale, float center, long... shape) {
        long count = 1;
        for (long d : shape) {
            count *= d;
        }
        float[] data = new float[(int) count];
        for (int i = 0; i < data.length; i++) {
            data[i] = center + scale * (float) (random.nextDouble() * 2 - 1);
        }
        tensors.put(name, data);
        shapes.put(name, shape);
    }

    float[] get(String name) {
        return tensors.get(name);
    }

    /** Writes model.safetensors (names under prefix) and config.json into dir. */
    Path write(Path dir, String prefix) throws IOException {
        SafetensorsWriter writer = new SafetensorsWriter();
        tensors.forEach((name, data) -> writer.add(prefix + name, data, shapes.get(name)));
        Path file = dir.resolve("model.safetensors");
        writer.write(file);
        CONFIG.write(dir.resolve("config.json"));
        return file;
    }
}
