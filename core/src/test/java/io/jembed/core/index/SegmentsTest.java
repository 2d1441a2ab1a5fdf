package io.jembed.core.index;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Segments, ids as keys, deletions, chunked documents and compaction. The oracle throughout is a
 * brute-force model: a map from id to (text, vector) that every write also applies, searched by
 * scoring every live vector.
 */
class SegmentsTest {

    static final int DIM = 16;
    static final EmbeddingSpec SPEC = IndexStoreTest.SPEC;

    @TempDir
    Path temp;

    final Random random = new Random(23);

    @AfterEach
    void resetHook() {
        IndexStore.saveHook = step -> { };
    }

    /** What the index should hold: id -> vector, in insertion order of the live documents. */
    final Map<String, float[]> model = new java.util.LinkedHashMap<>();

    List<Document> docs(String... ids) {
        List<Document> list = new ArrayList<>();
        for (String id : ids) {
            list.add(Document.of(id, "text of " + id));
        }
        return list;
    }

    float[][] vectorsFor(List<Document> documents, boolean upsert) {
        float[][] vectors = FlatIndexTest.gaussian(random, documents.size(), DIM);
        for (int i = 0; i < documents.size(); i++) {
            String id = documents.get(i).idText();
            if (upsert) {
                model.remove(id);
            }
            model.put(id, vectors[i]);
        }
        return vectors;
    }

    /** The ids a brute-force scan of the model ranks first for a query. */
    List<String> expectedIds(float[] query, int k) {
        List<Map.Entry<String, float[]>> entries = new ArrayList<>(model.entrySet());
        float[] q = FlatIndexTest.normalized(query);
        Map<String, Float> scores = new HashMap<>();
        for (Map.Entry<String, float[]> entry : entries) {
            float[] v = FlatIndexTest.normalized(entry.getValue());
            double dot = 0;
            for (int i = 0; i < DIM; i++) {
                dot += (double) q[i] * v[i];
            }
            scores.put(entry.getKey(), (float) dot);
        }
        return entries.stream().map(Map.Entry::getKey)
                .sorted((a, b) -> Float.compare(scores.get(b), scores.get(a))).limit(k).toList();
    }

    void assertSearchMatchesModel(IndexStore store, String where) {
        assertEquals(model.size(), store.size(), where + ": live documents");
        for (float[] query : FlatIndexTest.gaussian(new Random(99), 12, DIM)) {
            List<String> found = store.search(query, 5).stream().map(m -> m.document().idText()).toList();
            assertEquals(expectedIds(query, 5), found, where);
        }
    }

    static List<String> files(Path dir) throws IOException {
        try (Stream<Path> list = Files.list(dir)) {
            return list.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    @Test
    void appendWritesOneNewSegmentAndLeavesTheOthersUntouched() throws IOException {
        Path dir = temp.resolve("index");
        try (IndexStore store = IndexStore.create(SPEC, Quantization.NONE, 1)) {
            List<Document> first = docs("a", "b", "c");
            store.add(first, vectorsFor(first, false));
            store.save(dir);
        }
        byte[] segmentOne = Files.readAllBytes(dir.resolve("vectors.1.safetensors"));
        for (int round = 2; round <= 4; round++) {
            try (IndexStore store = IndexStore.open(dir, SPEC, 1)) {
                List<Document> more = docs("r" + round + "a", "r" + round + "b");
                store.add(more, vectorsFor(more, false));
                Manifest manifest = store.save(dir);
                assertEquals(round, manifest.segments().size());
                assertEquals(round, manifest.generation());
                assertSearchMatchesModel(store, "after commit " + round + ", in the same store");
            }
        }
        assertArrayEquals(segmentOne, Files.readAllBytes(dir.resolve("vectors.1.safetensors")), "never rewritten");
        try (IndexStore store = IndexStore.open(dir, SPEC, 1)) {
            assertSearchMatchesModel(store, "reopened");
        }
    }

    @Test
    void duplicateIdsAreRefusedWithNothingAdded() throws IOException {
        Path dir = temp.resolve("index");
        try (IndexStore store = IndexStore.create(SPEC, Quantization.NONE, 1)) {
            List<Document> first = docs("a", "b");
            store.add(first, vectorsFor(first, false));
            IndexStore.DuplicateIdException inCall = assertThrows(IndexStore.DuplicateIdException.class,
                    () -> store.add(docs("x", "y", "x"), FlatIndexTest.gaussian(random, 3, DIM)));
            assertEquals("document id \"x\": given twice (also at 1 of the 3 documents added together)",
                    inCall.getMessage());
            assertEquals(2, inCall.index());
            store.save(dir);
        }
        try (IndexStore store = IndexStore.open(dir, SPEC, 1)) {
            IndexStore.DuplicateIdException again = assertThrows(IndexStore.DuplicateIdException.class,
                    () -> store.add(docs("z", "b"), FlatIndexTest.gaussian(random, 2, DIM)));
            assertEquals("document id \"b\": already in the index (position 1)", again.getMessage());
            assertEquals(2, store.size(), "the refused call added nothing, not even z");
            assertFalse(store.contains("z"));
            // An integer id and a string id of the same text are the same key.
            assertThrows(IndexStore.DuplicateIdException.class, () -> store.add(List.of(new Document(
                    com.fasterxml.jackson.databind.node.IntNode.valueOf(7), "seven", null), Document.of("7", "7")),
                    FlatIndexTest.gaussian(random, 2, DIM)));
            assertSearchMatchesModel(store, "after refusals");
        }
    }

    @ParameterizedTest
    @EnumSource(Quantization.class)
    void upsertReplacesAndDeleteRemovesInMemoryOnDiskAndAfterCompaction(Quantization quantization) throws IOException {
        Path dir = temp.resolve("index");
        try (IndexStore store = IndexStore.create(SPEC, quantization, 2)) {
            List<Document> first = new ArrayList<>();
            for (int i = 0; i < 300; i++) {
                first.add(Document.of("d" + i, "text " + i));
            }
            store.add(first, vectorsFor(first, false));
            store.save(dir);
        }
        try (IndexStore store = IndexStore.open(dir, SPEC, 2)) {
            List<Document> changed = docs("d5", "d17", "new1", "d5");
            float[][] vectors = vectorsFor(changed, true);
            store.add(changed, vectors, IndexStore.Duplicates.REPLACE);
            assertSearchMatchesModel(store, "upsert in memory (d5 twice: the last wins)");
            List<String> missing = new ArrayList<>();
            assertEquals(3, store.delete(List.of("d1", "d17", "new1", "nope"), missing));
            model.remove("d1");
            model.remove("d17");
            model.remove("new1");
            assertEquals(List.of("nope"), missing);
            assertSearchMatchesModel(store, "delete in memory, of old, replaced and new documents");
            Manifest manifest = store.save(dir);
            assertEquals(List.of(1L, 2L), manifest.segments().stream().map(Manifest.Segment::id).toList());
            assertEquals(3, manifest.segments().get(0).deleted(), "d1, d5 and d17 of segment 1");
            assertEquals("deletions.1.2.bin", manifest.segments().get(0).deletionsFile());
            assertEquals(1, manifest.segments().get(1).documents(), "only the live d5 was written");
            assertSearchMatchesModel(store, "after the commit");
        }
        try (IndexStore store = IndexStore.open(dir, SPEC, 2)) {
            assertSearchMatchesModel(store, "reopened");
            assertEquals(1, store.delete(List.of("d2"), null));
            model.remove("d2");
            store.save(dir);
            assertTrue(files(dir).contains("deletions.1.3.bin"));
            assertFalse(files(dir).contains("deletions.1.2.bin"), "the replaced deletions file is removed");
            Manifest compacted = store.compact();
            assertEquals(List.of(4L), compacted.segments().stream().map(Manifest.Segment::id).toList());
            assertEquals(0, compacted.deleted());
            assertEquals(model.size(), compacted.count());
            assertEquals(List.of(".lock", "documents.4.jsonl", "manifest.json", "vectors.4.safetensors"), files(dir));
            assertSearchMatchesModel(store, "compacted, same store");
        }
        try (IndexStore store = IndexStore.open(dir, SPEC, 2)) {
            assertSearchMatchesModel(store, "compacted, reopened");
            assertTrue(store.contains("d5"));
            assertFalse(store.contains("d17"));
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"documents-written", "vectors-written", "deletions-written", "manifest-temp-written"})
    void aCrashDuringAnUpsertDeleteOrCompactionLeavesThePreviousCommit(String step) throws IOException {
        Path dir = temp.resolve("index");
        try (IndexStore store = IndexStore.create(SPEC, Quantization.INT8, 1)) {
            List<Document> first = docs("a", "b", "c", "d", "e");
            store.add(first, vectorsFor(first, false));
            store.save(dir);
        }
        List<String> before = files(dir);
        byte[] manifest = Files.readAllBytes(dir.resolve("manifest.json"));
        IndexStore.saveHook = reached -> {
            if (reached.equals(step)) {
                throw new IOException("simulated crash at " + reached);
            }
        };
        for (String operation : List.of("upsert", "delete", "compact")) {
            // An upsert writes every kind of file; a delete no segment; a compaction no deletions.
            boolean reached = switch (operation) {
                case "upsert" -> true;
                case "delete" -> step.equals("deletions-written") || step.equals("manifest-temp-written");
                default -> !step.equals("deletions-written");
            };
            if (!reached) {
                continue;
            }
            try (IndexStore store = IndexStore.open(dir, SPEC, 1)) {
                switch (operation) {
                    case "upsert" -> store.add(docs("b", "f"), FlatIndexTest.gaussian(random, 2, DIM),
                            IndexStore.Duplicates.REPLACE);
                    case "delete" -> store.delete(List.of("c"), null);
                    default -> store.delete(List.of("a"), null);
                }
                IOException crash = assertThrows(IOException.class,
                        operation.equals("compact") ? store::compact : () -> store.save(dir));
                assertEquals("simulated crash at " + step, crash.getMessage());
            }
            assertArrayEquals(manifest, Files.readAllBytes(dir.resolve("manifest.json")), operation + " at " + step);
            assertEquals(before, files(dir), operation + " at " + step + ": its files were removed");
            try (IndexStore store = IndexStore.open(dir, SPEC, 1)) {
                assertSearchMatchesModel(store, operation + " crashed at " + step);
            }
        }
    }

    @Test
    void aWriterThatOpenedAnEarlierGenerationIsRefused() throws IOException {
        Path dir = temp.resolve("index");
        try (IndexStore store = IndexStore.create(SPEC, Quantization.NONE, 1)) {
            List<Document> first = docs("a", "b");
            store.add(first, vectorsFor(first, false));
            store.save(dir);
        }
        try (IndexStore slow = IndexStore.open(dir, SPEC, 1);
             IndexStore fast = IndexStore.open(dir, SPEC, 1)) {
            List<Document> c = docs("c");
            fast.add(c, vectorsFor(c, false));
            fast.save(dir);
            slow.delete(List.of("a"), null);
            IndexFormatException changed = assertThrows(IndexFormatException.class, () -> slow.save(dir));
            assertEquals(IndexFormatException.Reason.CHANGED, changed.reason());
            assertEquals("index generation: expected 1 (as this index was opened), found 2; another writer committed "
                    + "meanwhile: open the index again and repeat the change in " + dir, changed.getMessage());
        }
        try (IndexStore store = IndexStore.open(dir, SPEC, 1)) {
            assertSearchMatchesModel(store, "the refused writer changed nothing");
        }
    }

    @Test
    void chunkedDocumentsRankByTheirBestWindowAndKeepItsSpan() throws IOException {
        Path dir = temp.resolve("index");
        Manifest.Chunking chunking = new Manifest.Chunking(8, 2);
        // Three documents of 3, 1 and 2 windows; the query equals window 2 of "long".
        List<Document> documents = List.of(Document.of("long", "aaaa bbbb cccc"), Document.of("short", "dddd"),
                Document.of("mid", "eeee ffff"));
        int[] rowsPerDocument = {3, 1, 2};
        int[] spans = {0, 4, 5, 9, 10, 14, 0, 4, 0, 4, 5, 9};
        float[][] vectors = FlatIndexTest.gaussian(random, 6, DIM);
        try (IndexStore store = IndexStore.create(SPEC, Quantization.NONE, 1)) {
            store.addChunked(documents, rowsPerDocument, vectors, spans, chunking, IndexStore.Duplicates.REFUSE);
            check(store, vectors, "in memory");
            store.save(dir);
            check(store, vectors, "saved");
            assertEquals(chunking, IndexStore.readManifest(dir).chunking());
            assertEquals(6, IndexStore.readManifest(dir).rows());
            assertEquals(3, IndexStore.readManifest(dir).segments().get(0).maxRowsPerDocument());
            IllegalArgumentException whole = assertThrows(IllegalArgumentException.class,
                    () -> store.add(docs("x"), FlatIndexTest.gaussian(random, 1, DIM)));
            assertEquals("add: the index holds documents in windows of 8 tokens overlapping by 2; expected the same "
                    + "for new documents, found whole documents", whole.getMessage());
        }
        try (IndexStore store = IndexStore.open(dir, SPEC, 1)) {
            check(store, vectors, "reopened");
            assertEquals(1, store.delete(List.of("long"), null));
            List<IndexStore.Match> rest = store.search(vectors[2], 10);
            assertEquals(List.of("mid", "short").stream().sorted().toList(),
                    rest.stream().map(m -> m.document().idText()).sorted().toList(), "all windows of long are gone");
            store.compact();
            assertEquals(3, IndexStore.readManifest(dir).rows());
            List<IndexStore.Match> compacted = store.search(vectors[5], 1);
            assertEquals(new IndexStore.Chunk(5, 9, "ffff"), compacted.get(0).chunk());
        }
    }

    private static void check(IndexStore store, float[][] vectors, String where) {
        List<IndexStore.Match> matches = store.search(vectors[2], 3);
        assertEquals(List.of("long", "mid", "short").size(), matches.size(), where + ": one hit per document");
        assertEquals("long", matches.get(0).document().idText(), where);
        assertEquals(new IndexStore.Chunk(10, 14, "cccc"), matches.get(0).chunk(), where);
        assertEquals(3, matches.stream().map(m -> m.document().idText()).distinct().count(), where);
        assertEquals(3, store.size());
        assertEquals(6, store.rows());
    }

    @Test
    void aDeletionsFileThatDisagreesWithTheManifestIsRefused() throws IOException {
        Path dir = temp.resolve("index");
        try (IndexStore store = IndexStore.create(SPEC, Quantization.NONE, 1)) {
            List<Document> first = docs("a", "b", "c");
            store.add(first, vectorsFor(first, false));
            store.save(dir);
            store.delete(List.of("b"), null);
            store.save(dir);
        }
        Files.write(dir.resolve("deletions.1.2.bin"), new byte[] {5});
        IndexFormatException bad = assertThrows(IndexFormatException.class, () -> IndexStore.open(dir, SPEC, 1));
        assertEquals(IndexFormatException.Reason.BAD_DELETIONS, bad.reason());
        assertEquals("deletions.1.2.bin: expected 1 deleted documents among 3, found 2 in " + dir, bad.getMessage());
    }
}
