package io.jembed.benchmarks;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;

import io.jembed.core.index.Document;
import io.jembed.core.index.EmbeddingSpec;
import io.jembed.core.index.IndexStore;
import io.jembed.core.index.Quantization;

/**
 * What an index directory costs to change and to open, apart from embedding: the index issue's
 * "append 1,000 documents to an index of 100,000 (time, bytes written)" and "open time of a
 * 1M-document index". Vectors are random unit vectors (the model's time is not what is measured);
 * documents are {@link SentenceGenerator} sentences, so the documents file has realistic lines.
 *
 * <pre>
 * java -cp benchmarks.jar io.jembed.benchmarks.IndexWriteBenchmark --dir DIR
 *     [--documents 100000] [--append 1000] [--open-documents 1000000] [--dim 384] [--rounds 3]
 * </pre>
 *
 * Per round: build an index of --documents (not timed), then time open + add --append + save, and
 * count the bytes of every file the save created or changed (the manifest included). Then build
 * one of --open-documents and time opening it (files just written, so in the page cache: this is
 * the open's own work, not the disk's) followed by one search. DIR is emptied before and after.
 */
public final class IndexWriteBenchmark {

    static final String TOOL = "IndexWriteBenchmark";
    static final List<String> FLAGS = List.of("--dir", "--documents", "--append", "--open-documents", "--dim",
            "--rounds");
    static final String USAGE = """
        usage: IndexWriteBenchmark --dir DIR [--documents 100000] [--append 1000]
               [--open-documents 1000000] [--dim 384] [--rounds 3]""";

    private IndexWriteBenchmark() {}

    public static void main(String[] args) throws Exception {
        ToolArgs.run(TOOL, USAGE, FLAGS, args, IndexWriteBenchmark::run);
    }

    static int run(ToolArgs args) throws Exception {
        Path dir = args.requiredPath("--dir");
        int documents = args.integer("--documents", 100_000, 1);
        int append = args.integer("--append", 1_000, 1);
        int openDocuments = args.integer("--open-documents", 1_000_000, 0);
        int dim = args.integer("--dim", 384, 1);
        int rounds = args.integer("--rounds", 3, 1);
        EmbeddingSpec spec = new EmbeddingSpec("synthetic", "0".repeat(64), dim, "mean", true);
        Random random = new Random(42);
        List<String> texts = SentenceGenerator.generate(Math.max(documents, append), 42);
        System.out.printf("%s: %s, %d-d vectors, %d rounds%n", TOOL, System.getProperty("java.vm.version"), dim, rounds);
        for (int round = 1; round <= rounds; round++) {
            clear(dir);
            Path index = dir.resolve("append");
            try (IndexStore store = IndexStore.create(spec, Quantization.NONE, 1)) {
                add(store, texts, 0, documents, dim, random);
                store.save(index);
            }
            Map<String, Long> before = files(index);
            long start = System.nanoTime();
            try (IndexStore store = IndexStore.open(index, spec, 1)) {
                add(store, texts, documents, append, dim, random);
                store.save(index);
            }
            long nanos = System.nanoTime() - start;
            long written = 0;
            for (Map.Entry<String, Long> file : files(index).entrySet()) {
                if (!file.getValue().equals(before.get(file.getKey())) || file.getKey().equals(IndexStore.MANIFEST_FILE)) {
                    written += file.getValue();
                }
            }
            long total = files(index).values().stream().mapToLong(Long::longValue).sum();
            System.out.printf("round %d: append %,d to %,d documents: %.3f s, %,d bytes written (index %,d bytes)%n",
                    round, append, documents, nanos / 1e9, written, total);
        }
        if (openDocuments > 0) {
            clear(dir);
            Path index = dir.resolve("open");
            try (IndexStore store = IndexStore.create(spec, Quantization.NONE, 1)) {
                for (int from = 0; from < openDocuments; from += 100_000) {
                    add(store, texts, from, Math.min(100_000, openDocuments - from), dim, random);
                }
                store.save(index);
            }
            long total = files(index).values().stream().mapToLong(Long::longValue).sum();
            for (int round = 1; round <= rounds; round++) {
                long start = System.nanoTime();
                try (IndexStore store = IndexStore.open(index, spec, 2)) {
                    long opened = System.nanoTime();
                    store.search(unit(random, dim), 10);
                    long searched = System.nanoTime();
                    System.out.printf("round %d: open %,d documents (%,d bytes): %.3f s, then one search %.3f s%n",
                            round, store.size(), total, (opened - start) / 1e9, (searched - opened) / 1e9);
                }
            }
        }
        clear(dir);
        return 0;
    }

    /** Adds documents from, from + n (text i mod the generated texts) with random unit vectors. */
    private static void add(IndexStore store, List<String> texts, int from, int n, int dim, Random random) {
        List<Document> batch = new ArrayList<>(n);
        float[][] vectors = new float[n][];
        for (int i = 0; i < n; i++) {
            batch.add(Document.of("doc-" + (from + i), texts.get((from + i) % texts.size())));
            vectors[i] = unit(random, dim);
        }
        store.add(batch, vectors);
    }

    private static float[] unit(Random random, int dim) {
        float[] v = new float[dim];
        double norm = 0;
        for (int i = 0; i < dim; i++) {
            v[i] = (float) random.nextGaussian();
            norm += (double) v[i] * v[i];
        }
        for (int i = 0; i < dim; i++) {
            v[i] = (float) (v[i] / Math.sqrt(norm));
        }
        return v;
    }

    /** Name to size of each file in the directory. */
    private static Map<String, Long> files(Path dir) throws IOException {
        Map<String, Long> sizes = new HashMap<>();
        try (Stream<Path> list = Files.list(dir)) {
            for (Path file : list.toList()) {
                sizes.put(file.getFileName().toString(), Files.size(file));
            }
        }
        return sizes;
    }

    private static void clear(Path dir) throws IOException {
        if (Files.exists(dir)) {
            try (Stream<Path> walk = Files.walk(dir)) {
                for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                    if (!p.equals(dir)) {
                        Files.delete(p);
                    }
                }
            }
        }
        Files.createDirectories(dir);
    }
}
