package io.jembed.benchmarks;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import org.apache.lucene.codecs.KnnVectorsFormat;
import org.apache.lucene.codecs.lucene104.Lucene104Codec;
import org.apache.lucene.codecs.lucene99.Lucene99HnswVectorsFormat;
import org.apache.lucene.document.Document;
import org.apache.lucene.document.KnnFloatVectorField;
import org.apache.lucene.document.StoredField;
import org.apache.lucene.index.DirectoryReader;
import org.apache.lucene.index.IndexWriter;
import org.apache.lucene.index.IndexWriterConfig;
import org.apache.lucene.index.SerialMergeScheduler;
import org.apache.lucene.index.VectorSimilarityFunction;
import org.apache.lucene.search.IndexSearcher;
import org.apache.lucene.search.KnnFloatVectorQuery;
import org.apache.lucene.search.ScoreDoc;
import org.apache.lucene.store.FSDirectory;

/**
 * DOT_PRODUCT against COSINE for the hnsw type's graph (the HNSW issue's "measure"): the same unit
 * vectors into two Lucene indexes that differ only in the similarity, each built by one thread and
 * merged into one graph (m 16, ef_construction 100, as the type's defaults), then the same queries:
 * build seconds, recall@10 against the exact top 10, single-query p50/p99 at numCandidates 100.
 *
 * <pre>
 * java -cp benchmarks.jar io.jembed.benchmarks.HnswSimilarityBenchmark --dir DIR [--vectors 200000]
 *     [--queries 1000]
 * </pre>
 *
 * <p>On unit vectors the two give the same ordering (COSINE divides by norms of 1), so what can
 * differ is the cost of a comparison, and through float rounding the graph Lucene builds.
 */
public final class HnswSimilarityBenchmark {

    static final String TOOL = "HnswSimilarityBenchmark";
    static final String USAGE = """
            usage: HnswSimilarityBenchmark --dir DIR [--vectors 200000] [--queries 1000]
            """;

    private HnswSimilarityBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        ToolArgs.run(TOOL, USAGE, List.of("--dir", "--vectors", "--queries"), args, HnswSimilarityBenchmark::run);
    }

    static int run(ToolArgs args) throws Exception {
        Path dir = args.requiredPath("--dir");
        int n = args.integer("--vectors", 200_000, 1);
        int queryCount = args.integer("--queries", 1_000, 1);
        int dim = 384;
        float[][] centres = HnswBenchmark.Clustered.centres(dim);
        float[][] vectors = HnswBenchmark.Clustered.block(centres, 0, n, dim);
        float[][] queries = HnswBenchmark.Clustered.queries(queryCount, dim);
        List<Set<Integer>> truth = exact(vectors, queries, 10);
        System.out.printf("%s: %s, %,d clustered %d-d unit vectors, %,d queries, k = 10, m 16, ef_construction 100, "
                + "numCandidates 100%n", TOOL, System.getProperty("java.vm.version"), n, dim, queryCount);
        System.out.printf("%-12s %9s %8s %9s %9s%n", "similarity", "build s", "recall", "p50 ms", "p99 ms");
        for (VectorSimilarityFunction similarity : List.of(VectorSimilarityFunction.DOT_PRODUCT,
                VectorSimilarityFunction.COSINE)) {
            Path index = dir.resolve(similarity.name().toLowerCase());
            HnswBenchmark.deleteTree(index);
            Files.createDirectories(index);
            long start = System.nanoTime();
            KnnVectorsFormat format = new Lucene99HnswVectorsFormat(16, 100);
            IndexWriterConfig config = new IndexWriterConfig().setCodec(new Lucene104Codec() {
                @Override
                public KnnVectorsFormat getKnnVectorsFormatForField(String field) {
                    return format;
                }
            }).setRAMBufferSizeMB(1024).setMergeScheduler(new SerialMergeScheduler());
            try (FSDirectory fs = FSDirectory.open(index); IndexWriter writer = new IndexWriter(fs, config)) {
                for (int i = 0; i < n; i++) {
                    Document document = new Document();
                    document.add(new KnnFloatVectorField("v", vectors[i], similarity));
                    document.add(new StoredField("row", i));
                    writer.addDocument(document);
                }
                writer.forceMerge(1);
                writer.commit();
            }
            double build = (System.nanoTime() - start) / 1e9;
            try (FSDirectory fs = FSDirectory.open(index); DirectoryReader reader = DirectoryReader.open(fs)) {
                IndexSearcher searcher = new IndexSearcher(reader);
                int[] rows = new int[reader.maxDoc()];
                for (int doc = 0; doc < rows.length; doc++) {
                    rows[doc] = reader.storedFields().document(doc).getField("row").numericValue().intValue();
                }
                for (int q = 0; q < Math.min(100, queries.length); q++) {
                    searcher.search(new KnnFloatVectorQuery("v", queries[q], 100), 10);
                }
                long[] nanos = new long[queries.length];
                double recall = 0;
                for (int q = 0; q < queries.length; q++) {
                    long t = System.nanoTime();
                    ScoreDoc[] hits = searcher.search(new KnnFloatVectorQuery("v", queries[q], 100), 10).scoreDocs;
                    nanos[q] = System.nanoTime() - t;
                    int found = 0;
                    for (ScoreDoc hit : hits) {
                        found += truth.get(q).contains(rows[hit.doc]) ? 1 : 0;
                    }
                    recall += found / 10.0;
                }
                Arrays.sort(nanos);
                System.out.printf("%-12s %9.1f %8.4f %9.3f %9.3f%n", similarity.name(), build, recall / queries.length,
                        nanos[nanos.length / 2] / 1e6, nanos[(int) (nanos.length * 0.99)] / 1e6);
            }
            HnswBenchmark.deleteTree(index);
        }
        return 0;
    }

    /** The exact top k rows of each query by dot product (ties to the lower row). */
    static List<Set<Integer>> exact(float[][] vectors, float[][] queries, int k) {
        List<Set<Integer>> truth = new ArrayList<>(java.util.Collections.nCopies(queries.length, null));
        java.util.stream.IntStream.range(0, queries.length).parallel().forEach(q -> {
            float[] query = queries[q];
            int[] best = new int[k];
            float[] scores = new float[k];
            Arrays.fill(scores, Float.NEGATIVE_INFINITY);
            for (int row = 0; row < vectors.length; row++) {
                float s = 0;
                for (int d = 0; d < query.length; d++) {
                    s += query[d] * vectors[row][d];
                }
                if (s > scores[k - 1]) {
                    int at = k - 1;
                    while (at > 0 && s > scores[at - 1]) {
                        scores[at] = scores[at - 1];
                        best[at] = best[at - 1];
                        at--;
                    }
                    scores[at] = s;
                    best[at] = row;
                }
            }
            Set<Integer> set = new HashSet<>();
            for (int row : best) {
                set.add(row);
            }
            truth.set(q, set);
        });
        return truth;
    }
}
