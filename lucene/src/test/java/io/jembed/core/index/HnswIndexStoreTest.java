package io.jembed.core.index;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;

import io.jembed.core.kernels.WorkerPool;

/**
 * The hnsw index type through {@link IndexStore}, beside flat on the same rows: recall, scores equal
 * to flat's, segments, deletes, upserts, filters, compaction and crash safety (an injected failure at
 * each step of a save, and a child JVM killed while it builds a graph).
 */
class HnswIndexStoreTest {

    static final int DIM = 32;
    static final EmbeddingSpec SPEC = new EmbeddingSpec("test-model", "b".repeat(64), DIM, "mean", true);
    static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path temp;

    final WorkerPool pool = WorkerPool.create(2);
    final Random random = new Random(5);

    @AfterEach
    void tearDown() {
        IndexStore.saveHook = step -> { };
        pool.close();
    }

    /** Clustered unit vectors, as embeddings are (a few topics, each a direction plus noise). */
    static float[][] clustered(Random random, int n, int dim) {
        float[][] centres = new float[12][dim];
        Random fixed = new Random(99);
        for (float[] centre : centres) {
            for (int i = 0; i < dim; i++) {
                centre[i] = (float) fixed.nextGaussian();
            }
        }
        float[][] out = new float[n][dim];
        for (int r = 0; r < n; r++) {
            float[] centre = centres[random.nextInt(centres.length)];
            for (int i = 0; i < dim; i++) {
                out[r][i] = centre[i] + 0.9f * (float) random.nextGaussian();
            }
        }
        return out;
    }

    static List<Document> documents(int from, int n) {
        List<Document> documents = new ArrayList<>();
        for (int i = from; i < from + n; i++) {
            ObjectNode fields = JSON.createObjectNode().put("lang", i % 3 == 0 ? "de" : "en").put("year", 2000 + i % 5);
            fields.putArray("tags").add("t" + (i % 7)).add("all");
            documents.add(new Document(TextNode.valueOf("d" + i), "passage " + i, fields));
        }
        return documents;
    }

    IndexStore hnsw(Map<String, String> settings) {
        return IndexStore.create(SPEC, Quantization.NONE, "hnsw", settings, pool);
    }

    IndexStore flat() {
        return IndexStore.create(SPEC, Quantization.NONE, pool);
    }

    static Set<String> ids(List<IndexStore.Match> matches) {
        Set<String> ids = new HashSet<>();
        for (IndexStore.Match match : matches) {
            ids.add(match.document().idText());
        }
        return ids;
    }

    /** Mean recall@k of hnsw's ids against flat's, and every shared hit's score equal to flat's bits. */
    static double recall(IndexStore exact, IndexStore approximate, float[][] queries, int k,
                         IndexStore.SearchOptions options) {
        List<List<IndexStore.Match>> truth = exact.search(queries, k, options);
        List<List<IndexStore.Match>> found = approximate.search(queries, k, options);
        double sum = 0;
        for (int q = 0; q < queries.length; q++) {
            Set<String> expected = ids(truth.get(q));
            java.util.Map<String, Float> scores = new java.util.HashMap<>();
            truth.get(q).forEach(m -> scores.put(m.document().idText(), m.score()));
            int hit = 0;
            for (IndexStore.Match match : found.get(q)) {
                if (expected.contains(match.document().idText())) {
                    hit++;
                    assertEquals(Float.floatToIntBits(scores.get(match.document().idText())),
                            Float.floatToIntBits(match.score()), "query " + q + " " + match.document().idText());
                }
            }
            sum += expected.isEmpty() ? 1 : (double) hit / expected.size();
        }
        return sum / queries.length;
    }

    @Test
    void findsWhatFlatFindsWithFlatsScoresAndReopens() throws IOException {
        int n = 3000;
        float[][] vectors = clustered(random, n, DIM);
        float[][] queries = clustered(random, 60, DIM);
        Path dir = temp.resolve("hnsw");
        try (IndexStore exact = flat(); IndexStore approximate = hnsw(Map.of())) {
            exact.add(documents(0, n), vectors);
            approximate.add(documents(0, n), vectors);
            // Before the save there is no graph: the rows are scanned exactly.
            assertEquals(1.0, recall(exact, approximate, queries, 10, IndexStore.SearchOptions.DEFAULT));
            Manifest manifest = approximate.save(dir);
            assertEquals("hnsw", manifest.indexType());
            assertEquals(Map.of("m", "16", "ef_construction", "100", "quantize", "none", "ef", "100"),
                    manifest.indexParameters());
            assertEquals("index.1", manifest.segments().get(0).indexFiles());
            assertTrue(Files.isDirectory(dir.resolve("index.1")));
            double recall = recall(exact, approximate, queries, 10, IndexStore.SearchOptions.DEFAULT);
            assertTrue(recall >= 0.98, "recall@10 at the default ef: " + recall);
            double wide = recall(exact, approximate, queries, 10, new IndexStore.SearchOptions(null, 1000));
            assertTrue(wide >= recall && wide >= 0.995, "recall@10 at ef 1000: " + wide);
            try (IndexStore opened = IndexStore.open(dir, SPEC, pool)) {
                assertEquals("hnsw", opened.indexType());
                assertEquals(approximate.search(queries, 10), opened.search(queries, 10));
            }
        }
    }

    @Test
    void appendedSegmentsDeletesAndUpsertsAreSearchedAsFlatDoes() throws IOException {
        Path dir = temp.resolve("hnsw");
        float[][] first = clustered(random, 800, DIM);
        float[][] second = clustered(random, 400, DIM);
        float[][] third = clustered(random, 50, DIM);
        float[][] queries = clustered(random, 40, DIM);
        try (IndexStore exact = flat(); IndexStore approximate = hnsw(Map.of("m", "8"))) {
            for (IndexStore store : List.of(exact, approximate)) {
                store.add(documents(0, 800), first);
                store.save(temp.resolve(store == exact ? "flat" : "hnsw"));
                store.add(documents(800, 400), second);
                store.save(temp.resolve(store == exact ? "flat" : "hnsw"));
                // Unsaved: the tail, beside two graphs.
                store.add(documents(1200, 50), third);
                // Every fifth document of the first segment deleted, ten replaced by new vectors.
                List<String> deleted = new ArrayList<>();
                for (int i = 0; i < 800; i += 5) {
                    deleted.add("d" + i);
                }
                assertEquals(160, store.delete(deleted, null));
                store.add(documents(1, 10).stream().map(d -> new Document(TextNode.valueOf("d" + (Integer.parseInt(
                        d.idText().substring(1)) * 3 + 1)), "replaced", d.fields())).toList(),
                        clustered(random, 10, DIM), IndexStore.Duplicates.REPLACE);
            }
            assertEquals(exact.size(), approximate.size());
            double recall = recall(exact, approximate, queries, 10, new IndexStore.SearchOptions(null, 200));
            assertTrue(recall >= 0.98, "recall@10 over two graphs and a tail with deletes: " + recall);
            for (List<IndexStore.Match> matches : approximate.search(queries, 50)) {
                for (IndexStore.Match match : matches) {
                    int number = Integer.parseInt(match.document().idText().substring(1));
                    boolean readded = number % 3 == 1 && number >= 4 && number <= 31;
                    assertFalse(number < 800 && number % 5 == 0 && !readded,
                            "deleted " + match.document().idText() + " returned");
                    if (readded) {
                        assertEquals("replaced", match.document().text(), "old version of " + number + " returned");
                    }
                }
            }
            approximate.save(dir);
            Manifest compacted = approximate.compact();
            assertEquals(1, compacted.segments().size());
            assertEquals(0, compacted.deleted());
            try (Stream<Path> files = Files.list(dir)) {
                assertEquals(List.of("documents." + compacted.generation() + ".jsonl", "index." + compacted.generation(),
                        "manifest.json", "vectors." + compacted.generation() + ".safetensors"),
                        files.map(f -> f.getFileName().toString()).filter(f -> !f.equals(".lock")).sorted().toList(),
                        "only the compacted segment's files stay");
            }
            double after = recall(exact, approximate, queries, 10, new IndexStore.SearchOptions(null, 200));
            assertTrue(after >= 0.98, "recall@10 after compaction: " + after);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"flat", "hnsw"})
    void filtersKeepToTheDocumentsThatPass(String type) throws IOException {
        int n = 2000;
        float[][] vectors = clustered(random, n, DIM);
        float[][] queries = clustered(random, 30, DIM);
        try (IndexStore exact = flat();
             IndexStore store = type.equals("flat") ? flat() : hnsw(Map.of())) {
            exact.add(documents(0, n), vectors);
            store.add(documents(0, n), vectors);
            store.save(temp.resolve(type));
            // Unsaved documents pass or fail the filter as saved ones do.
            float[][] tail = clustered(random, 30, DIM);
            store.add(documents(n, 30), tail);
            exact.add(documents(n, 30), tail);
            for (List<String> expressions : List.of(List.of("lang=de"), List.of("lang=en", "year=2003"),
                    List.of("tags=t3", "tags=t4"), List.of("year=2001", "lang=de", "tags=t6"))) {
                DocumentFilter filter = DocumentFilter.parse(expressions);
                IndexStore.SearchOptions options = new IndexStore.SearchOptions(filter, 0);
                for (List<IndexStore.Match> matches : store.search(queries, 10, options)) {
                    assertEquals(10, matches.size(), expressions + ": enough documents pass");
                    for (IndexStore.Match match : matches) {
                        assertTrue(filter.matches(match.document()), expressions + " returned " + match.document());
                    }
                }
                double recall = recall(exact, store, queries, 10, options);
                assertTrue(recall >= 0.97, type + " " + expressions + " recall@10: " + recall);
            }
            // A value no document has: nothing passes, nothing is returned.
            assertTrue(store.search(queries, 10, new IndexStore.SearchOptions(DocumentFilter.parse(
                    List.of("lang=fr")), 0)).stream().allMatch(List::isEmpty));
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"int8", "int4"})
    void quantisedGraphsAreReScoredExactly(String quantize) throws IOException {
        int n = 3000;
        float[][] vectors = clustered(random, n, DIM);
        float[][] queries = clustered(random, 50, DIM);
        try (IndexStore exact = flat(); IndexStore approximate = hnsw(Map.of("quantize", quantize))) {
            exact.add(documents(0, n), vectors);
            approximate.add(documents(0, n), vectors);
            Manifest manifest = approximate.save(temp.resolve(quantize));
            assertEquals(quantize, manifest.indexParameters().get("quantize"));
            assertEquals(Quantization.NONE, manifest.quantization(), "the rows stay float32 for re-scoring");
            double recall = recall(exact, approximate, queries, 10, new IndexStore.SearchOptions(null, 200));
            assertTrue(recall >= 0.95, quantize + " recall@10 at ef 200: " + recall);
        }
    }

    @Test
    void badSettingsAreRefusedNamingThem() {
        assertEquals("hnsw m: expected an integer in [2, 512], found '1'",
                assertThrows(IllegalArgumentException.class, () -> hnsw(Map.of("m", "1"))).getMessage());
        assertEquals("hnsw quantize: expected none, int8 or int4, found 'int2'",
                assertThrows(IllegalArgumentException.class, () -> hnsw(Map.of("quantize", "int2"))).getMessage());
        assertEquals("hnsw settings: expected m, ef_construction, quantize or ef, found beam",
                assertThrows(IllegalArgumentException.class, () -> hnsw(Map.of("beam", "3"))).getMessage());
        assertEquals("index type: expected flat or hnsw, found 'ivf'", assertThrows(IllegalArgumentException.class,
                () -> IndexStore.create(SPEC, Quantization.NONE, "ivf", Map.of(), pool)).getMessage());
    }

    @ParameterizedTest
    @ValueSource(strings = {"documents-written", "vectors-written", "index-files-written", "manifest-temp-written"})
    void aSaveThatFailsAtAnyStepLeavesThePreviousCommitSearchable(String step) throws IOException {
        Path dir = temp.resolve("hnsw");
        float[][] queries = clustered(random, 10, DIM);
        try (IndexStore store = hnsw(Map.of())) {
            store.add(documents(0, 500), clustered(random, 500, DIM));
            store.save(dir);
            List<List<IndexStore.Match>> before;
            try (IndexStore opened = IndexStore.open(dir, SPEC, pool)) {
                before = opened.search(queries, 5);
            }
            store.add(documents(500, 300), clustered(random, 300, DIM));
            IndexStore.saveHook = reached -> {
                if (reached.equals(step)) {
                    throw new IOException("injected failure at " + step);
                }
            };
            assertEquals("injected failure at " + step,
                    assertThrows(IOException.class, () -> store.save(dir)).getMessage());
            IndexStore.saveHook = reached -> { };
            assertFalse(Files.exists(dir.resolve("index.2")), "the failed save's graph is removed");
            try (IndexStore opened = IndexStore.open(dir, SPEC, pool)) {
                assertEquals(500, opened.size());
                assertEquals(before, opened.search(queries, 5));
            }
            // The same store saves again: the new segment and its graph land.
            Manifest manifest = store.save(dir);
            assertEquals(800, manifest.count());
            assertNotNull(manifest.segments().get(1).indexFiles());
        }
    }

    /** Builds a large graph in a child JVM that the test kills while the graph is being written. */
    public static void main(String[] args) throws IOException {
        Path dir = Path.of(args[0]);
        try (WorkerPool pool = WorkerPool.create(2);
             IndexStore store = IndexStore.open(dir, SPEC, pool)) {
            store.add(documents(1000, 40_000), clustered(new Random(1), 40_000, DIM));
            System.out.println("saving");
            System.out.flush();
            store.save(dir);
        }
    }

    @Test
    void aKilledIndexerLeavesThePreviousCommitSearchable() throws Exception {
        Path dir = temp.resolve("hnsw");
        float[][] queries = clustered(random, 10, DIM);
        List<List<IndexStore.Match>> before;
        try (IndexStore store = hnsw(Map.of())) {
            store.add(documents(0, 1000), clustered(random, 1000, DIM));
            store.save(dir);
            before = store.search(queries, 5);
        }
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        Process child = new ProcessBuilder(java.toString(), "--add-modules=jdk.incubator.vector",
                "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"),
                HnswIndexStoreTest.class.getName(), dir.toString())
                .redirectErrorStream(true).redirectOutput(temp.resolve("child.log").toFile()).start();
        try {
            // Killed once the graph of generation 2 has files on disk (Lucene flushes while it builds).
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
            while (!hasFiles(dir.resolve("index.2")) && child.isAlive() && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            assertTrue(child.isAlive(), "the child was still writing when killed: " + Files.readString(
                    temp.resolve("child.log")));
            assertTrue(hasFiles(dir.resolve("index.2")), "the child reached the graph");
        } finally {
            child.destroyForcibly().waitFor();
        }
        try (IndexStore opened = IndexStore.open(dir, SPEC, pool)) {
            assertEquals(1000, opened.size(), "generation 1, as committed");
            assertEquals(before, opened.search(queries, 5));
            opened.add(documents(5000, 10), clustered(random, 10, DIM));
            // Generation 2 again: the killed one's files are replaced, nothing else stays.
            Manifest manifest = opened.save(dir);
            assertEquals(2, manifest.generation());
            try (Stream<Path> files = Files.list(dir)) {
                assertEquals(List.of("documents.1.jsonl", "documents.2.jsonl", "index.1", "index.2", "manifest.json",
                        "vectors.1.safetensors", "vectors.2.safetensors"), files.map(f -> f.getFileName().toString())
                        .filter(f -> !f.equals(".lock")).sorted().toList());
            }
        }
        try (IndexStore opened = IndexStore.open(dir, SPEC, pool)) {
            assertEquals(1010, opened.size());
            assertEquals(10, opened.search(queries, 10).get(0).size());
        }
    }

    private static boolean hasFiles(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            return false;
        }
        try (Stream<Path> files = Files.list(dir)) {
            return files.anyMatch(f -> f.getFileName().toString().endsWith(".vec")
                    || f.getFileName().toString().endsWith(".fdt"));
        }
    }
}
