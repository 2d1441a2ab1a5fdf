package io.jembed.core.model;

import java.nio.file.Path;
import java.util.List;

import io.jembed.core.Embedder;
import io.jembed.core.kernels.KernelsProvider;

/**
 * Child-JVM half of {@link SameBitsTest}: embeds {@link #TEXTS} on the tiny model directory named by
 * args[0] with the given thread count and kernels (args[1], args[2]), alone and as one batch, and prints every float's bits in hex,
 * one text per line, so the parent can compare them bit for bit with its own warm JVM's.
 */
public final class SameBitsProbe {

    static final List<String> TEXTS = List.of("the cat sat on the mat", "hello world", "a dog ran",
            "represent this world : the cat sat on a mat the dog ran on the mat hello", "", "query : hello");

    private SameBitsProbe() {
    }

    public static void main(String[] args) throws Exception {
        int threads = Integer.parseInt(args[1]);
        try (Embedder embedder = builder(Path.of(args[0]), args[2]).threads(threads).build()) {
            for (String line : lines(embedder)) {
                System.out.println(line);
            }
        }
    }

    /** An embedder on the given kernels, "vector" or "scalar" (the oracle, which must be as stable). */
    static Embedder.Builder builder(Path dir, String kernels) {
        Embedder.Builder builder = Embedder.builder(dir);
        return kernels.equals("scalar") ? builder.kernels(KernelsProvider.scalar()) : builder.kernels(KernelsProvider.vector());
    }

    /** "alone i: hex..." for each text one at a time, then "batch i: hex..." for the texts as one batch. */
    static List<String> lines(Embedder embedder) {
        List<String> lines = new java.util.ArrayList<>();
        for (int i = 0; i < TEXTS.size(); i++) {
            lines.add("alone " + i + ": " + hex(embedder.embed(TEXTS.get(i))));
        }
        float[][] batch = embedder.embed(TEXTS);
        for (int i = 0; i < TEXTS.size(); i++) {
            lines.add("batch " + i + ": " + hex(batch[i]));
        }
        return lines;
    }

    static String hex(float[] vector) {
        StringBuilder text = new StringBuilder();
        for (float v : vector) {
            text.append(String.format("%08x", Float.floatToRawIntBits(v)));
        }
        return text.toString();
    }
}
