package io.jembed.benchmarks;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.stream.Stream;

import io.jembed.core.index.Document;
import io.jembed.core.index.EmbeddingSpec;
import io.jembed.core.index.IndexStore;
import io.jembed.core.index.Manifest;
import io.jembed.core.index.Quantization;
import io.jembed.core.kernels.WorkerPool;

/**
 * The hnsw index type against flat, same run, same vectors (the HNSW issue's table):
 *
 * <pre>
 * java -cp benchmarks.jar io.jembed.benchmarks.HnswBenchmark --dir DIR [--vectors 1000000] [--dim 384]
 *     [--queries 1000] [--ef 50,100,200] [--quantize none,int8] [--hnsw-m 16] [--hnsw-ef-construction 100]
 * java -cp benchmarks.jar io.jembed.benchmarks.HnswBenchmark --from-index FLAT --output DIR [--quantize none]
 *     [--hnsw-m 16] [--hnsw-ef-construction 100]
 * </pre>
 *
 * The first form makes --vectors clustered unit vectors (1,000 directions, each vector one of them
 * plus noise, cosine ~0.7 to its centre, as embeddings of one topic are) and --queries more drawn the
 * same way, then builds a flat index and an hnsw index of each --quantize (time: add + save, which
 * builds the graph), and reports per index: bytes on disk, resident memory the searches added
 * (before opening and after the timed queries: mapped file pages resident plus heap in use), recall@10
 * against flat's exact top 10, single-query latency p50/p99 (one query per call, after 100 warm-up
 * queries) and queries/s (all queries in one call), each on pools of 1 and 2 threads, at each --ef.
 *
 * The second form copies a flat index built by {@code jembed index} (whole documents) into an
 * hnsw index with the same documents, vectors and model, without embedding anything, so the real
 * data's figures (benchmarks/hnsw.sh) compare the two types on the very same vectors.
 */
public final class HnswBenchmark {

    static final String TOOL = "HnswBenchmark";
    static final List<String> FLAGS = List.of("--dir", "--vectors", "--dim", "--queries", "--ef", "--quantize",
            "--hnsw-m", "--hnsw-ef-construction", "--from-index", "--output");
    static final String USAGE = """
        usage: HnswBenchmark --dir DIR [--vectors 1000000] [--dim 384] [--queries 1000] [--ef 50,100,200]
                             [--quantize none,int8] [--hnsw-m 16] [--hnsw-ef-construction 100]
               HnswBenchmark --from-index FLAT --output DIR [--quantize none] [--hnsw-m 16]
                             [--hnsw-ef-construction 100]""";
    static final int K = 10;
    static final int WARM_UP = 100;

    private HnswBenchmark() {}

    public static void main(String[] args) throws Exception {
        ToolArgs.run(TOOL, USAGE, FLAGS, args, HnswBenchmark::run);
    }

    static int run(ToolArgs args) throws Exception {
        Map<String, String> settings = new LinkedHashMap<>();
        settings.put("m", String.valueOf(args.integer("--hnsw-m", 16, 2)));
        settings.put("ef_construction", String.valueOf(args.integer("--hnsw-ef-construction", 100, 1)));
        if (args.present("--from-index")) {
            settings.put("quantize", args.string("--quantize", "none"));
            return convert(args.requiredPath("--from-index"), args.requiredPath("--output"), settings);
        }
        Path dir = args.requiredPath("--dir");
        int n = args.integer("--vectors", 1_000_000, 1);
        int dim = args.integer("--dim", 384, 2);
        int queryCount = args.integer("--queries", 1_000, 1);
        int[] efs = Arrays.stream(args.string("--ef", "50,100,200").split(",")).mapToInt(Integer::parseInt).toArray();
        List<String> quantizations = List.of(args.string("--quantize", "none,int8").split(","));
        EmbeddingSpec spec = new EmbeddingSpec("synthetic", "0".repeat(64), dim, "mean", true);
        System.out.printf("%s: %s, %,d clustered %d-d unit vectors, %,d queries, k = %d, hnsw %s%n", TOOL,
                System.getProperty("java.vm.version"), n, dim, queryCount, K, settings);
        clear(dir);
        float[][] queries = Clustered.queries(queryCount, dim);

        Path flatDir = dir.resolve("flat");
        double flatBuild = build(spec, flatDir, n, dim, null);
        List<Set<Integer>> truth = new ArrayList<>();
        try (IndexStore flat = IndexStore.open(flatDir, spec, 2)) {
            for (List<IndexStore.Match> matches : flat.search(queries, K)) {
                Set<Integer> ids = new HashSet<>();
                matches.forEach(m -> ids.add(m.position()));
                truth.add(ids);
            }
        }
        System.out.printf("%-22s %9s %10s %10s %8s %6s %9s %9s %9s%n", "index", "build s", "disk MB", "RAM+ MB",
                "recall", "thr", "p50 ms", "p99 ms", "q/s");
        measure("flat", spec, flatDir, flatBuild, queries, truth, 0);
        for (String quantize : quantizations) {
            Map<String, String> typeSettings = new LinkedHashMap<>(settings);
            typeSettings.put("quantize", quantize);
            Path hnswDir = dir.resolve("hnsw-" + quantize);
            double seconds = build(spec, hnswDir, n, dim, typeSettings);
            for (int ef : efs) {
                measure("hnsw " + quantize + " ef " + ef, spec, hnswDir, seconds, queries, truth, ef);
            }
            deleteTree(hnswDir);
        }
        clear(dir);
        return 0;
    }

    /** The clustered vectors: a fixed seed, so flat and every hnsw index hold the same ones. */
    static final class Clustered {
        static final int CENTRES = 1_000;

        static float[][] centres(int dim) {
            Random random = new Random(7);
            float[][] centres = new float[CENTRES][];
            for (int c = 0; c < CENTRES; c++) {
                centres[c] = unit(gaussian(random, dim, 1));
            }
            return centres;
        }

        /** Vector i of the corpus: its centre plus noise whose norm is about that of the centre. */
        static float[][] block(float[][] centres, long seed, int count, int dim) {
            Random random = new Random(seed);
            float[][] out = new float[count][];
            for (int i = 0; i < count; i++) {
                float[] v = gaussian(random, dim, 1 / Math.sqrt(dim));
                float[] centre = centres[random.nextInt(CENTRES)];
                for (int d = 0; d < dim; d++) {
                    v[d] += centre[d];
                }
                out[i] = unit(v);
            }
            return out;
        }

        static float[][] queries(int count, int dim) {
            return block(centres(dim), -1, count, dim);
        }
    }

    private static float[] gaussian(Random random, int dim, double sigma) {
        float[] v = new float[dim];
        for (int d = 0; d < dim; d++) {
            v[d] = (float) (random.nextGaussian() * sigma);
        }
        return v;
    }

    private static float[] unit(float[] v) {
        double norm = 0;
        for (float x : v) {
            norm += (double) x * x;
        }
        for (int d = 0; d < v.length; d++) {
            v[d] = (float) (v[d] / Math.sqrt(norm));
        }
        return v;
    }

    /** Adds the n vectors (in blocks of 100,000) and saves; returns the seconds of both. */
    private static double build(EmbeddingSpec spec, Path dir, int n, int dim, Map<String, String> hnsw)
            throws IOException {
        float[][] centres = Clustered.centres(dim);
        long start = System.nanoTime();
        try (WorkerPool pool = WorkerPool.create(2);
             IndexStore store = hnsw == null ? IndexStore.create(spec, Quantization.NONE, pool)
                     : IndexStore.create(spec, Quantization.NONE, "hnsw", hnsw, pool)) {
            int block = 100_000;
            for (int from = 0; from < n; from += block) {
                int count = Math.min(block, n - from);
                List<Document> documents = new ArrayList<>(count);
                for (int i = 0; i < count; i++) {
                    documents.add(Document.of("v" + (from + i), "vector " + (from + i)));
                }
                store.add(documents, Clustered.block(centres, from, count, dim));
            }
            store.save(dir);
        }
        return (System.nanoTime() - start) / 1e9;
    }

    private static void measure(String name, EmbeddingSpec spec, Path dir, double buildSeconds, float[][] queries,
                                List<Set<Integer>> truth, int ef) throws IOException {
        long disk = treeBytes(dir);
        for (int threads : new int[] {1, 2}) {
            long rssBefore = rss();
            try (IndexStore store = IndexStore.open(dir, spec, threads)) {
                IndexStore.SearchOptions options = new IndexStore.SearchOptions(null, ef);
                for (int q = 0; q < Math.min(WARM_UP, queries.length); q++) {
                    store.search(new float[][] {queries[q]}, K, options);
                }
                long[] nanos = new long[queries.length];
                double recall = 0;
                for (int q = 0; q < queries.length; q++) {
                    long start = System.nanoTime();
                    List<IndexStore.Match> matches = store.search(new float[][] {queries[q]}, K, options).get(0);
                    nanos[q] = System.nanoTime() - start;
                    int found = 0;
                    for (IndexStore.Match match : matches) {
                        found += truth.get(q).contains(match.position()) ? 1 : 0;
                    }
                    recall += (double) found / truth.get(q).size();
                }
                long rssAfter = rss();
                long start = System.nanoTime();
                store.search(queries, K, options);
                double qps = queries.length / ((System.nanoTime() - start) / 1e9);
                Arrays.sort(nanos);
                System.out.printf("%-22s %9.1f %10.1f %10.1f %8.4f %6d %9.3f %9.3f %9.1f%n", name, buildSeconds,
                        disk / 1e6, (rssAfter - rssBefore) / 1e6, recall / queries.length, threads,
                        nanos[nanos.length / 2] / 1e6, nanos[(int) Math.min(nanos.length - 1, nanos.length * 0.99)] / 1e6,
                        qps);
            }
        }
    }

    /**
     * Memory the open index holds, in bytes: the file pages of this process that are resident
     * (RssFile: the mapped index files a search touched) plus the heap in use after a collection.
     * Not VmRSS: a collection after a build gives heap pages back to the OS at its own pace, which
     * made VmRSS differences negative.
     */
    private static long rss() {
        System.gc();
        Runtime runtime = Runtime.getRuntime();
        return rssFile() + runtime.totalMemory() - runtime.freeMemory();
    }

    /** RssFile of this process in bytes (Linux), 0 where there is no /proc. */
    private static long rssFile() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("RssFile:")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
                }
            }
        } catch (IOException | NumberFormatException e) {
            return 0;
        }
        return 0;
    }

    /** Copies a flat index of whole documents into an hnsw index: same documents, vectors and model. */
    private static int convert(Path from, Path to, Map<String, String> settings) throws IOException {
        Manifest manifest = IndexStore.readManifest(from);
        if (manifest.chunking() != null) {
            throw new IllegalArgumentException("--from-index: expected an index of whole documents, found one in "
                    + "windows (" + manifest.chunking() + ")");
        }
        long start = System.nanoTime();
        try (WorkerPool pool = WorkerPool.create(2);
             IndexStore flat = IndexStore.open(from, manifest.spec(), pool);
             IndexStore hnsw = IndexStore.create(manifest.spec(), Quantization.NONE, "hnsw", settings, pool)) {
            if (flat.rows() != flat.size()) {
                throw new IllegalArgumentException("--from-index: expected no deleted documents (compact it first), "
                        + "found " + (flat.rows() - flat.size()));
            }
            int block = 10_000;
            for (int p = 0; p < flat.size(); p += block) {
                int count = Math.min(block, flat.size() - p);
                List<Document> documents = new ArrayList<>(count);
                float[][] vectors = new float[count][];
                for (int i = 0; i < count; i++) {
                    documents.add(flat.document(p + i));
                    vectors[i] = flat.vector(p + i);
                }
                hnsw.add(documents, vectors);
            }
            hnsw.save(to);
            System.out.printf("%s: copied %,d documents of %s into an hnsw index %s at %s in %.1f s%n", TOOL,
                    hnsw.size(), from, hnsw.indexParameters(), to, (System.nanoTime() - start) / 1e9);
        }
        return 0;
    }

    private static long treeBytes(Path dir) throws IOException {
        try (Stream<Path> walk = Files.walk(dir)) {
            long sum = 0;
            for (Path p : walk.filter(Files::isRegularFile).toList()) {
                sum += Files.size(p);
            }
            return sum;
        }
    }

    static void deleteTree(Path dir) throws IOException {
        if (Files.exists(dir)) {
            try (Stream<Path> walk = Files.walk(dir)) {
                for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                    Files.delete(p);
                }
            }
        }
    }

    private static void clear(Path dir) throws IOException {
        deleteTree(dir);
        Files.createDirectories(dir);
    }
}
