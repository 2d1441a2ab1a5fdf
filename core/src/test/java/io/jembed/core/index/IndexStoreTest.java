package io.jembed.core.index;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.IntNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import io.jembed.weights.SafetensorsReader;

class IndexStoreTest {

    static final int DIM = 16;
    static final EmbeddingSpec SPEC = new EmbeddingSpec("test-model", "a".repeat(64), DIM, "mean", true);
    static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path temp;

    final Random random = new Random(11);

    @AfterEach
    void resetHook() {
        IndexStore.saveHook = step -> { };
    }

    float[][] vectors(int n) {
        return FlatIndexTest.gaussian(random, n, DIM);
    }

    static List<Document> documents(int from, int n) {
        List<Document> documents = new ArrayList<>();
        for (int i = from; i < from + n; i++) {
            ObjectNode fields = JSON.createObjectNode().put("topic", "topic " + i % 3);
            fields.putArray("tags").add("t" + i);
            String text = "Passage " + i + ": café, naïve, 東京, emoji 🙂,\nsecond line \"quoted\"";
            documents.add(i % 2 == 0 ? new Document(IntNode.valueOf(i), text, fields)
                    : new Document(JSON.getNodeFactory().textNode("doc-" + i), text, fields));
        }
        return documents;
    }

    IndexStore store(Quantization quantization, int n) {
        IndexStore store = IndexStore.create(SPEC, quantization, 2);
        store.add(documents(0, n), vectors(n));
        return store;
    }

    static void assertSameSearch(IndexStore expected, IndexStore found, float[][] queries, String where) {
        List<List<IndexStore.Match>> e = expected.search(queries, 7);
        List<List<IndexStore.Match>> f = found.search(queries, 7);
        assertEquals(e, f, where);
    }

    @ParameterizedTest
    @EnumSource(Quantization.class)
    void saveThenOpenRoundTrips(Quantization quantization) throws IOException {
        Path dir = temp.resolve("index");
        try (IndexStore memory = store(quantization, 50)) {
            Manifest manifest = memory.save(dir);
            assertEquals(new Manifest(3, SPEC, "flat", java.util.Map.of(), quantization, null, 1,
                    List.of(new Manifest.Segment(1, 50, 50, 1, "vectors.1.safetensors",
                            Files.size(dir.resolve("vectors.1.safetensors")), "documents.1.jsonl",
                            Files.size(dir.resolve("documents.1.jsonl")), 0, null, 0, null))), manifest);
            assertEquals(manifest, IndexStore.readManifest(dir));
            try (IndexStore opened = IndexStore.open(dir, SPEC, 2)) {
                assertEquals(50, opened.size());
                assertEquals(quantization, opened.quantization());
                for (int p = 0; p < 50; p++) {
                    assertEquals(memory.document(p), opened.document(p), "document " + p);
                }
                assertSameSearch(memory, opened, vectors(5), "in memory vs opened");
            }
        }
        try (SafetensorsReader file = SafetensorsReader.open(dir.resolve("vectors.1.safetensors"))) {
            assertEquals(quantization == Quantization.INT8
                    ? List.of("document_offsets", "id_hashes", "vectors", "vectors_int8_scale", "vectors_int8")
                    : List.of("document_offsets", "id_hashes", "vectors"), file.names());
            assertEquals("jembed-index", file.metadata().get("format"));
        }
        List<String> lines = Files.readAllLines(dir.resolve("documents.1.jsonl"), StandardCharsets.UTF_8);
        assertEquals(50, lines.size());
        assertEquals("{\"id\":0,\"text\":\"Passage 0: café, naïve, 東京, emoji 🙂,\\nsecond line \\\"quoted\\\"\","
                + "\"fields\":{\"topic\":\"topic 0\",\"tags\":[\"t0\"]}}", lines.get(0));
    }

    @Test
    void appendWritesANewGenerationWithOldAndNewDocuments() throws IOException {
        Path dir = temp.resolve("index");
        float[][] first = vectors(30);
        float[][] second = vectors(20);
        try (IndexStore store = IndexStore.create(SPEC, Quantization.NONE, 1)) {
            store.add(documents(0, 30), first);
            store.save(dir);
        }
        try (IndexStore opened = IndexStore.open(dir, SPEC, 1)) {
            assertEquals(30, opened.add(documents(30, 20), second));
            Manifest manifest = opened.save(dir);
            assertEquals(2, manifest.generation());
            assertEquals(50, manifest.count());
        }
        try (Stream<Path> files = Files.list(dir)) {
            assertEquals(List.of(".lock", "documents.1.jsonl", "documents.2.jsonl", "manifest.json",
                    "vectors.1.safetensors", "vectors.2.safetensors"),
                    files.map(p -> p.getFileName().toString()).sorted().toList(), "segment 1 kept, segment 2 added");
        }
        try (IndexStore all = IndexStore.create(SPEC, Quantization.NONE, 1);
             IndexStore appended = IndexStore.open(dir, SPEC, 1)) {
            all.add(documents(0, 30), first);
            all.add(documents(30, 20), second);
            assertEquals(50, appended.size());
            assertEquals(all.document(42), appended.document(42));
            assertSameSearch(all, appended, vectors(6), "built at once vs appended");
        }
    }

    @Test
    void anEmptyStoreSavesAndOpens() throws IOException {
        Path dir = temp.resolve("empty");
        try (IndexStore store = IndexStore.create(SPEC, Quantization.INT8, 1)) {
            store.save(dir);
        }
        try (IndexStore opened = IndexStore.open(dir, SPEC, 1)) {
            assertEquals(0, opened.size());
            assertEquals(List.of(), opened.search(new float[DIM], 3));
        }
    }

    @Test
    void anIndexOfAnotherModelDimensionOrPoolingIsRefused() throws IOException {
        Path dir = temp.resolve("index");
        try (IndexStore store = store(Quantization.NONE, 5)) {
            store.save(dir);
        }
        EmbeddingSpec otherModel = new EmbeddingSpec("other-model", "b".repeat(64), DIM, "mean", true);
        IndexFormatException model = assertThrows(IndexFormatException.class, () -> IndexStore.open(dir, otherModel, 1));
        assertEquals(IndexFormatException.Reason.MODEL_MISMATCH, model.reason());
        assertEquals("index model: expected other-model (sha256 bbbbbbbbbbbb…), found test-model (sha256 "
                + "aaaaaaaaaaaa…); use the model the index was built with, or rebuild the index in " + dir,
                model.getMessage());
        IndexFormatException dimension = assertThrows(IndexFormatException.class, () -> IndexStore.open(dir,
                new EmbeddingSpec("test-model", "a".repeat(64), 384, "mean", true), 1));
        assertEquals("index dimension: expected 384, found 16 in " + dir, dimension.getMessage());
        IndexFormatException pooling = assertThrows(IndexFormatException.class, () -> IndexStore.open(dir,
                new EmbeddingSpec("test-model", "a".repeat(64), DIM, "cls", true), 1));
        assertEquals("index pooling: expected cls+normalize, found mean+normalize; use the pooling the index was "
                + "built with, or rebuild the index in " + dir, pooling.getMessage());
        try (IndexStore other = IndexStore.create(otherModel, Quantization.NONE, 1)) {
            other.add(documents(0, 1), vectors(1));
            assertEquals(IndexFormatException.Reason.MODEL_MISMATCH,
                    assertThrows(IndexFormatException.class, () -> other.save(dir)).reason());
        }
        assertEquals(5, IndexStore.readManifest(dir).count(), "the refused save changed nothing");
    }

    @ParameterizedTest
    @ValueSource(strings = {"vectors-written", "documents-written", "manifest-temp-written"})
    void aCrashDuringAppendLeavesTheOldIndexIntact(String step) throws IOException {
        Path dir = temp.resolve("index");
        try (IndexStore store = store(Quantization.INT8, 40)) {
            store.save(dir);
        }
        byte[] manifestBefore = Files.readAllBytes(dir.resolve("manifest.json"));
        IndexStore.saveHook = reached -> {
            if (reached.equals(step)) {
                throw new IOException("simulated crash at " + reached);
            }
        };
        try (IndexStore opened = IndexStore.open(dir, SPEC, 1)) {
            opened.add(documents(40, 10), vectors(10));
            IOException crash = assertThrows(IOException.class, () -> opened.save(dir));
            assertEquals("simulated crash at " + step, crash.getMessage());
        }
        IndexStore.saveHook = reached -> { };
        assertArrayEquals(manifestBefore, Files.readAllBytes(dir.resolve("manifest.json")));
        try (Stream<Path> files = Files.list(dir)) {
            assertEquals(List.of(".lock", "documents.1.jsonl", "manifest.json", "vectors.1.safetensors"),
                    files.map(p -> p.getFileName().toString()).sorted().toList(), "the failed save removed its files");
        }
        try (IndexStore reopened = IndexStore.open(dir, SPEC, 1);
             IndexStore original = store(Quantization.INT8, 0)) {
            assertEquals(40, reopened.size());
            random.setSeed(11);
            original.add(documents(0, 40), vectors(40));
            assertSameSearch(original, reopened, vectors(4), "old index after crash at " + step);
        }
    }

    @Test
    void leftoversOfAKilledSaveAreIgnoredThenCleanedUp() throws IOException {
        Path dir = temp.resolve("index");
        try (IndexStore store = store(Quantization.NONE, 12)) {
            store.save(dir);
        }
        // What a process killed mid-save leaves: a torn next generation and a torn manifest.
        Files.write(dir.resolve("vectors.2.safetensors"), new byte[] {1, 2, 3});
        Files.writeString(dir.resolve("documents.2.jsonl"), "{\"id\": 1, \"te");
        Files.writeString(dir.resolve(".manifest.json.tmp"), "{\"format\": \"jemb");
        try (IndexStore opened = IndexStore.open(dir, SPEC, 1)) {
            assertEquals(12, opened.size());
            opened.add(documents(12, 3), vectors(3));
            assertEquals(2, opened.save(dir).generation());
        }
        try (Stream<Path> files = Files.list(dir)) {
            // The torn files of generation 2 were replaced by segment 2's.
            assertEquals(List.of(".lock", "documents.1.jsonl", "documents.2.jsonl", "manifest.json",
                    "vectors.1.safetensors", "vectors.2.safetensors"),
                    files.map(p -> p.getFileName().toString()).sorted().toList());
        }
        try (IndexStore opened = IndexStore.open(dir, SPEC, 1)) {
            assertEquals(15, opened.size());
            assertEquals("doc-13", opened.document(13).idText());
        }
    }

    @Test
    void aCrashAfterTheRenameKeepsTheNewIndex() throws IOException {
        Path dir = temp.resolve("index");
        try (IndexStore store = store(Quantization.NONE, 8)) {
            store.save(dir);
            store.add(documents(8, 2), vectors(2));
            IndexStore.saveHook = reached -> {
                if (reached.equals("committed")) {
                    throw new IOException("simulated crash after commit");
                }
            };
            assertThrows(IOException.class, () -> store.save(dir));
        }
        IndexStore.saveHook = reached -> { };
        try (IndexStore opened = IndexStore.open(dir, SPEC, 1)) {
            assertEquals(10, opened.size());
        }
    }

    @Test
    void aTruncatedOrDamagedVectorsFileIsRefused() throws IOException {
        Path dir = temp.resolve("index");
        try (IndexStore store = store(Quantization.NONE, 10)) {
            store.save(dir);
        }
        Path vectors = dir.resolve("vectors.1.safetensors");
        byte[] bytes = Files.readAllBytes(vectors);
        Files.write(vectors, java.util.Arrays.copyOf(bytes, bytes.length - 100));
        IndexFormatException truncated = assertThrows(IndexFormatException.class, () -> IndexStore.open(dir, SPEC, 1));
        assertEquals(IndexFormatException.Reason.TRUNCATED, truncated.reason());
        assertEquals("vectors.1.safetensors: expected " + bytes.length + " bytes (as manifest.json records), found "
                + (bytes.length - 100) + " (truncated) in " + dir, truncated.getMessage());
        byte[] damaged = bytes.clone();
        damaged[0] = (byte) 0xff;
        Files.write(vectors, damaged);
        IndexFormatException header = assertThrows(IndexFormatException.class, () -> IndexStore.open(dir, SPEC, 1));
        assertEquals(IndexFormatException.Reason.BAD_VECTORS, header.reason());
        assertTrue(header.getMessage().contains("in vectors.1.safetensors in " + dir), header.getMessage());
        Files.delete(vectors);
        IndexFormatException missing = assertThrows(IndexFormatException.class, () -> IndexStore.open(dir, SPEC, 1));
        assertEquals("vectors.1.safetensors: expected the file manifest.json names, found none in " + dir,
                missing.getMessage());
    }

    @Test
    void documentsThatDoNotMatchTheManifestAreRefused() throws IOException {
        Path dir = temp.resolve("index");
        try (IndexStore store = store(Quantization.NONE, 3)) {
            store.save(dir);
        }
        Path documents = dir.resolve("documents.1.jsonl");
        byte[] bytes = Files.readAllBytes(documents);
        byte[] joined = bytes.clone();
        int firstNewline = 0;
        while (bytes[firstNewline] != '\n') {
            firstNewline++;
        }
        joined[firstNewline] = ' ';
        Files.write(documents, joined);
        try (IndexStore opened = IndexStore.open(dir, SPEC, 1)) {
            // The offsets table is trusted at open (no pass over the file) and checked per line when read.
            UncheckedIOException e = assertThrows(UncheckedIOException.class, () -> opened.document(0));
            assertEquals(IndexFormatException.Reason.BAD_DOCUMENTS, ((IndexFormatException) e.getCause()).reason());
            assertTrue(e.getCause().getMessage().startsWith("documents.1.jsonl line 1: expected a JSON document "
                    + "with 'id' and 'text', found a line ending at byte "), e.getCause().getMessage());
        }
        byte[] garbled = bytes.clone();
        garbled[1] = 'x';
        Files.write(documents, garbled);
        try (IndexStore opened = IndexStore.open(dir, SPEC, 1)) {
            UncheckedIOException e = assertThrows(UncheckedIOException.class, () -> opened.document(0));
            IndexFormatException cause = (IndexFormatException) e.getCause();
            assertEquals(IndexFormatException.Reason.BAD_DOCUMENTS, cause.reason());
            assertTrue(cause.getMessage().startsWith("documents.1.jsonl line 1: expected a JSON document with 'id' "
                    + "and 'text', found "), cause.getMessage());
            assertEquals("doc-1", opened.document(1).idText());
        }
    }

    @Test
    void whatIsNotAnIndexIsRefusedAndLeftAlone() throws IOException {
        Path nothing = temp.resolve("nothing");
        assertEquals("index directory: expected a directory, found nothing in " + nothing,
                assertThrows(IndexFormatException.class, () -> IndexStore.open(nothing, SPEC, 1)).getMessage());
        Path file = Files.writeString(temp.resolve("file.txt"), "hello");
        assertEquals("index directory: expected a directory, found a file in " + file,
                assertThrows(IndexFormatException.class, () -> IndexStore.open(file, SPEC, 1)).getMessage());
        Path other = Files.createDirectories(temp.resolve("photos"));
        Files.writeString(other.resolve("cat.jpg"), "meow");
        IndexFormatException notIndex = assertThrows(IndexFormatException.class, () -> IndexStore.open(other, SPEC, 1));
        assertEquals(IndexFormatException.Reason.NOT_AN_INDEX, notIndex.reason());
        assertEquals("index directory: expected manifest.json, found none (not a jembed index) in " + other,
                notIndex.getMessage());
        try (IndexStore store = store(Quantization.NONE, 2)) {
            IndexFormatException refused = assertThrows(IndexFormatException.class, () -> store.save(other));
            assertEquals("index directory: expected an empty directory or an index, found other files (cat.jpg); "
                    + "refusing to write into it in " + other, refused.getMessage());
            assertEquals(IndexFormatException.Reason.NOT_AN_INDEX,
                    assertThrows(IndexFormatException.class, () -> store.save(file)).reason());
        }
        try (Stream<Path> files = Files.list(other)) {
            assertEquals(List.of("cat.jpg"), files.map(p -> p.getFileName().toString()).toList(), "nothing written");
        }
        assertEquals("hello", Files.readString(file));
    }

    /** Copies an index directory written by an earlier jembed (test resources) into the temp directory. */
    Path fixture(String name) throws IOException {
        Path dir = Files.createDirectories(temp.resolve(name));
        for (String file : List.of("manifest.json", "vectors.1.safetensors", "documents.1.jsonl")) {
            try (var in = IndexStoreTest.class.getResourceAsStream(name + "/" + file)) {
                Files.copy(in, dir.resolve(file));
            }
        }
        return dir;
    }

    @ParameterizedTest
    @ValueSource(strings = {"v1-none", "v2-none", "v2-int8"})
    void indexesOfEarlierFormatVersionsOpenSearchAndTakeWrites(String name) throws IOException {
        // Written by jembed's version 1 and 2 code: 6 documents, vectors from Random(11), as store(q, 6) makes.
        Path dir = fixture(name);
        Quantization quantization = name.endsWith("int8") ? Quantization.INT8 : Quantization.NONE;
        Manifest manifest = IndexStore.readManifest(dir);
        assertEquals(name.startsWith("v1") ? 1 : 2, manifest.formatVersion());
        assertEquals(6, manifest.count());
        float[][] queries;
        try (IndexStore original = store(quantization, 6);
             IndexStore opened = IndexStore.open(dir, SPEC, 1)) {
            queries = vectors(4);
            assertEquals(6, opened.size());
            for (int p = 0; p < 6; p++) {
                assertEquals(original.document(p), opened.document(p), "document " + p);
            }
            assertSameSearch(original, opened, queries, name + " as written by the earlier jembed");
            // Writes: an append, a delete and an upsert, committed as version 3 beside the old segment.
            opened.add(documents(6, 2), vectors(2));
            assertEquals(1, opened.delete(List.of("doc-1"), null));
            opened.add(documents(2, 1), vectors(1), IndexStore.Duplicates.REPLACE);
            opened.save(dir);
        }
        Manifest after = IndexStore.readManifest(dir);
        assertEquals(3, after.formatVersion());
        assertEquals(List.of(1L, 2L), after.segments().stream().map(Manifest.Segment::id).toList());
        assertEquals(2, after.segments().get(0).deleted(), "doc-1 deleted, document 2 replaced");
        try (IndexStore reopened = IndexStore.open(dir, SPEC, 1)) {
            assertEquals(7, reopened.size());
            for (List<IndexStore.Match> matches : reopened.search(queries, 10)) {
                assertEquals(7, matches.size());
                for (IndexStore.Match match : matches) {
                    assertTrue(!match.document().idText().equals("doc-1"), "a deleted document is never returned");
                    if (match.document().idText().equals("2")) {
                        assertEquals(8, match.position(), "document 2 is the replacement, last in segment 2");
                    }
                }
            }
            reopened.compact();
            assertEquals(7, reopened.size());
        }
        assertEquals(List.of(3L), IndexStore.readManifest(dir).segments().stream().map(Manifest.Segment::id).toList());
    }

    @Test
    void promptsAreRecordedAndAnIndexRefusesAModelWithOtherPrompts() throws IOException {
        var ordered = new java.util.LinkedHashMap<String, String>();
        ordered.put("query", "query: ");
        ordered.put("document", "passage: ");
        var e5 = new io.jembed.core.model.Prompts(ordered, null);
        EmbeddingSpec prompted = new EmbeddingSpec("test-model", "a".repeat(64), DIM, "mean", true, e5,
                new io.jembed.core.model.Prompt("document", "passage: "));
        Path dir = temp.resolve("index");
        try (IndexStore store = IndexStore.create(prompted, Quantization.NONE, 1)) {
            store.add(documents(0, 3), vectors(3));
            store.save(dir);
        }
        Manifest manifest = IndexStore.readManifest(dir);
        assertEquals(e5, manifest.spec().prompts());
        assertEquals("passage: ", manifest.spec().documentPrompt().text());
        assertEquals("query: ", manifest.spec().queryPrompt().text());
        IndexFormatException e = assertThrows(IndexFormatException.class, () -> IndexStore.open(dir, SPEC, 1));
        assertEquals(IndexFormatException.Reason.PROMPTS_MISMATCH, e.reason());
        assertEquals("index prompts: expected no prompts (the model's config_sentence_transformers.json), found "
                + "{query=query: , document=passage: } in manifest.json; use the model directory the index was built "
                + "with, or rebuild the index in " + dir, e.getMessage());
    }

    @Test
    void badManifestsAreRefusedWithTheirField() throws IOException {
        Path dir = temp.resolve("index");
        try (IndexStore store = store(Quantization.NONE, 2)) {
            store.save(dir);
        }
        Path manifest = dir.resolve("manifest.json");
        ObjectNode json = (ObjectNode) JSON.readTree(manifest.toFile());
        Files.writeString(manifest, json.deepCopy().put("format_version", 4).toString());
        IndexFormatException version = assertThrows(IndexFormatException.class, () -> IndexStore.open(dir, SPEC, 1));
        assertEquals(IndexFormatException.Reason.UNSUPPORTED_VERSION, version.reason());
        assertEquals("manifest.json format_version: expected 1 to 3, found 4 (written by a newer jembed) in " + dir,
                version.getMessage());
        Files.writeString(manifest, json.deepCopy().put("prompts", "query: ").toString());
        IndexFormatException prompts = assertThrows(IndexFormatException.class, () -> IndexStore.open(dir, SPEC, 1));
        assertEquals("manifest.json field 'prompts': expected an object of name: text, found \"query: \" in " + dir,
                prompts.getMessage());
        Files.writeString(manifest, json.deepCopy().set("document_prompt", JSON.createObjectNode().put("name", 3))
                .toString());
        assertEquals(IndexFormatException.Reason.BAD_MANIFEST,
                assertThrows(IndexFormatException.class, () -> IndexStore.open(dir, SPEC, 1)).reason());
        ObjectNode escaping = json.deepCopy();
        ((ObjectNode) escaping.get("segments").get(0)).put("vectors_file", "../secret");
        Files.writeString(manifest, escaping.toString());
        assertEquals("manifest segment 1 vectors_file: expected a file name inside the index directory, found "
                + "'../secret' in " + dir, assertThrows(IndexFormatException.class,
                () -> IndexStore.open(dir, SPEC, 1)).getMessage());
        Files.writeString(manifest, json.deepCopy().put("count", -1).toString());
        assertEquals("manifest.json field 'count': expected an integer in [0, 2147483647], found -1 in " + dir,
                assertThrows(IndexFormatException.class, () -> IndexStore.open(dir, SPEC, 1)).getMessage());
        Files.writeString(manifest, json.deepCopy().put("count", 5).toString());
        assertEquals("manifest.json field 'count': expected 2 (the segments' documents minus their deleted), found 5 in "
                + dir, assertThrows(IndexFormatException.class, () -> IndexStore.open(dir, SPEC, 1)).getMessage());
        Files.writeString(manifest, json.deepCopy().put("index_type", "hnsw").toString());
        IndexFormatException noHnsw = assertThrows(IndexFormatException.class, () -> IndexStore.open(dir, SPEC, 1));
        assertEquals(IndexFormatException.Reason.UNSUPPORTED_VERSION, noHnsw.reason());
        // Core alone has no hnsw: the message says where it comes from.
        assertEquals("manifest.json index_type: expected flat, found \"hnsw\" (an index type this jembed does not "
                + "have: it comes with the jembed-lucene module) in " + dir, noHnsw.getMessage());
        Files.writeString(manifest, json.deepCopy().put("index_parameters", 5).toString());
        assertEquals("manifest.json field 'index_parameters': expected an object of name: value, found 5 in " + dir,
                assertThrows(IndexFormatException.class, () -> IndexStore.open(dir, SPEC, 1)).getMessage());
        ObjectNode badFiles = json.deepCopy();
        ((ObjectNode) badFiles.get("segments").get(0)).put("index_files", "../graph");
        Files.writeString(manifest, badFiles.toString());
        assertEquals("manifest segment 1 index_files: expected a file name inside the index directory, found "
                + "'../graph' in " + dir, assertThrows(IndexFormatException.class,
                () -> IndexStore.open(dir, SPEC, 1)).getMessage());
        Files.writeString(manifest, "{\"format\": \"jembed-index\", ");
        assertEquals(IndexFormatException.Reason.BAD_MANIFEST,
                assertThrows(IndexFormatException.class, () -> IndexStore.open(dir, SPEC, 1)).reason());
    }

    @Test
    void aSecondConcurrentSaveIsRefused() throws IOException {
        Path dir = temp.resolve("index");
        try (IndexStore store = store(Quantization.NONE, 2)) {
            store.save(dir);
            try (FileChannel channel = FileChannel.open(dir.resolve(".lock"), StandardOpenOption.WRITE);
                 FileLock held = channel.lock()) {
                IndexFormatException locked = assertThrows(IndexFormatException.class, () -> store.save(dir));
                assertEquals(IndexFormatException.Reason.LOCKED, locked.reason());
                assertTrue(held.isValid());
            }
            assertEquals(2, store.save(dir).generation(), "saves again once the lock is free");
        }
    }

    @Test
    void addChecksCountsAndKeepsTheStoreUnchangedOnError() {
        try (IndexStore store = store(Quantization.NONE, 3)) {
            assertEquals("add: expected one vector per document (2), found 1", assertThrows(
                    IllegalArgumentException.class, () -> store.add(documents(3, 2), vectors(1))).getMessage());
            assertEquals("vector 1: expected dimension 16, found 3", assertThrows(IllegalArgumentException.class,
                    () -> store.add(documents(3, 2), new float[][] {new float[DIM], new float[3]})).getMessage());
            assertEquals(3, store.size());
            assertFalse(store.search(vectors(1)[0], 10).isEmpty());
            assertEquals(3, store.search(vectors(1)[0], 10).size(), "k above the size is clamped");
        }
    }

    @Test
    void documentsComeFromJsonLinesAndGoBack() throws IOException {
        Document document = Document.fromJson(JSON.readTree("{\"text\": \"hi\", \"lang\": \"en\", \"id\": 7}"));
        assertEquals("7", document.idText());
        assertEquals("{\"id\":7,\"text\":\"hi\",\"fields\":{\"lang\":\"en\"}}", document.toJson().toString());
        assertEquals(document, Document.fromStoredLine(document.toJson(), true));
        // A field may be named as jembed's own keys: it is kept under "fields".
        Document beir = new Document(JSON.getNodeFactory().textNode("d1"), "A title",
                (ObjectNode) JSON.readTree("{\"text\": \"the abstract\", \"id\": 3}"));
        assertEquals("{\"id\":\"d1\",\"text\":\"A title\",\"fields\":{\"text\":\"the abstract\",\"id\":3}}",
                beir.toJson().toString());
        assertEquals(beir, Document.fromStoredLine(beir.toJson(), true));
        assertEquals("document 7 field 'text': expected a string, found no such field", assertThrows(
                IllegalArgumentException.class, () -> Document.fromJson(JSON.readTree("{\"id\": 7}"))).getMessage());
        assertEquals("document field 'id': expected a string or integer, found OBJECT {}", assertThrows(
                IllegalArgumentException.class, () -> Document.fromJson(JSON.readTree("{\"id\": {}, \"text\": \"\"}")))
                .getMessage());
        assertEquals("document \"x\" text: expected valid Unicode, found an unpaired surrogate at index 1", assertThrows(
                IllegalArgumentException.class, () -> Document.of("x", "a\ud800b")).getMessage());
    }
}
