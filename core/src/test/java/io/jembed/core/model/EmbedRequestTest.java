package io.jembed.core.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.jembed.core.EmbedRequest;
import io.jembed.core.EmbedResult;
import io.jembed.core.Embedder;
import io.jembed.core.InputTooLongException;
import io.jembed.tokenizer.TruncationDirection;

/**
 * The request API: token counts and truncation per text, refusing instead of truncating, left
 * truncation, forward passes cut by the token budget without changing any vector's bits, and
 * memory bounded by the budget. On the tiny random BERT whose max_seq_length is 24.
 */
class EmbedRequestTest {

    @TempDir
    static Path dir;

    @BeforeAll
    static void model() throws IOException {
        ModelDirectoryTest.model();
        ModelDirectoryTest.write(dir);
    }

    /** n word tokens: with [CLS] and [SEP], n + 2 tokens. */
    static String words(int n) {
        List<String> words = new ArrayList<>();
        String[] cycle = {"the", "cat", "sat", "on", "a", "mat"};
        for (int i = 0; i < n; i++) {
            words.add(cycle[i % cycle.length]);
        }
        return String.join(" ", words);
    }

    @Test
    void tokenCountAndTruncatedAreRightAroundTheMaxLength() throws IOException {
        try (Embedder embedder = Embedder.builder(dir).threads(2).build()) {
            assertEquals(24, embedder.maxLength());
            EmbedResult result = embedder.embed(EmbedRequest.of(List.of(words(21), words(22), words(23), words(40), "")));
            assertArrayEquals(new int[] {23, 24, 24, 24, 2},
                    new int[] {result.tokens(0), result.tokens(1), result.tokens(2), result.tokens(3), result.tokens(4)});
            assertFalse(result.truncated(0));
            assertFalse(result.truncated(1));
            assertTrue(result.truncated(2));
            assertTrue(result.truncated(3));
            assertFalse(result.truncated(4));
            assertEquals(2, result.truncatedCount());
            assertEquals(23 + 24 + 24 + 24 + 2, result.totalTokens());
            // A cut text is the vector of its first 22 word tokens.
            assertArrayEquals(embedder.embed(words(22)), result.vector(2));
            // The prompt's tokens count: "query : " is 2 tokens.
            EmbedResult query = embedder.embed(EmbedRequest.of(words(20)).prompt(Prompt.named("query")));
            assertEquals(24, query.tokens(0));
            assertFalse(query.truncated(0));
        }
    }

    @Test
    void refusingTruncationNamesTheFirstTextTooLongAndEncodesNothing() throws IOException {
        try (Embedder embedder = Embedder.builder(dir).threads(2).build()) {
            EmbedRequest request = EmbedRequest.of(List.of(words(3), words(23), words(30))).refuseTruncation();
            InputTooLongException e = assertThrows(InputTooLongException.class, () -> embedder.embed(request));
            assertEquals(1, e.index());
            assertEquals(25, e.tokens());
            assertEquals(24, e.maxLength());
            assertEquals("text 1: expected at most 24 tokens (the max length, [CLS] and [SEP] included), found 25;"
                    + " shorten it or allow truncation", e.getMessage());
            EmbedResult fits = embedder.embed(EmbedRequest.of(List.of(words(3), words(22))).refuseTruncation());
            assertEquals(24, fits.tokens(1));
        }
    }

    @Test
    void leftTruncationKeepsTheEndOfTheText() throws IOException {
        try (Embedder embedder = Embedder.builder(dir).threads(2).build()) {
            // 30 words, the last 22 of which are "on a mat the cat sat" repeated from word 8 on.
            String text = words(30);
            EmbedResult left = embedder.embed(EmbedRequest.of(text).truncate(TruncationDirection.LEFT));
            assertTrue(left.truncated(0));
            assertEquals(24, left.tokens(0));
            String end = String.join(" ", List.of(text.split(" ")).subList(8, 30));
            assertArrayEquals(embedder.embed(end), left.vector(0));
        }
    }

    @Test
    void theTokenBudgetCutsPassesWithoutChangingAnyBits() throws IOException {
        List<String> texts = new ArrayList<>();
        for (int i = 0; i < 300; i++) {
            texts.add(words(1 + (i * 7) % 30));
        }
        float[][] reference;
        try (Embedder oneAtATime = Embedder.builder(dir).threads(1).batchSize(1).build()) {
            reference = oneAtATime.embed(texts);
        }
        for (int budget : new int[] {24, 25, 100, 1000, 16_384}) {
            try (Embedder embedder = Embedder.builder(dir).threads(2).maxBatchTokens(budget).build()) {
                float[][] vectors = embedder.embed(texts);
                for (int i = 0; i < texts.size(); i++) {
                    assertArrayEquals(reference[i], vectors[i], "budget " + budget + ", text " + i);
                }
            }
        }
    }

    @Test
    void aBudgetBelowTheMaxLengthOrPastArrayCapacityIsRefusedAtBuild() {
        IllegalArgumentException small = assertThrows(IllegalArgumentException.class,
                () -> Embedder.builder(dir).maxBatchTokens(23).build());
        assertEquals("max batch tokens 23: expected at least the max length (24), so that every text fits in a "
                + "forward pass", small.getMessage());
        IllegalArgumentException huge = assertThrows(IllegalArgumentException.class,
                () -> Embedder.builder(dir).maxBatchTokens(Integer.MAX_VALUE).build());
        // tiny: hidden 32, intermediate 64 -> widest buffer [N, 96].
        assertTrue(huge.getMessage().startsWith("batch of 2147483647 tokens: expected at most 22369621 for this model"),
                huge.getMessage());
    }

    @Test
    void nullTextsAreNamedByIndex() {
        List<String> texts = new ArrayList<>(List.of("a", "b"));
        texts.add(null);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> EmbedRequest.of(texts));
        assertEquals("texts: expected no null text, found one at index 2", e.getMessage());
    }

    @Test
    void concurrentCallersGetTheBitsOfASingleCaller() throws Exception {
        List<String> texts = new ArrayList<>();
        for (int i = 0; i < 64; i++) {
            texts.add(words(1 + i % 23));
        }
        try (Embedder embedder = Embedder.builder(dir).threads(2).maxBatchTokens(64).build()) {
            float[][] reference = embedder.embed(texts);
            List<Throwable> failures = Collections.synchronizedList(new ArrayList<>());
            List<Thread> threads = new ArrayList<>();
            for (int t = 0; t < 6; t++) {
                Thread thread = new Thread(() -> {
                    try {
                        for (int round = 0; round < 20; round++) {
                            float[][] vectors = embedder.embed(texts);
                            for (int i = 0; i < texts.size(); i++) {
                                assertArrayEquals(reference[i], vectors[i], "text " + i);
                            }
                        }
                    } catch (Throwable e) {
                        failures.add(e);
                    }
                });
                threads.add(thread);
                thread.start();
            }
            for (Thread thread : threads) {
                thread.join(TimeUnit.MINUTES.toMillis(2));
            }
            assertEquals(List.of(), failures);
        }
    }

    /**
     * 200,000 tokens in one call in a child JVM whose heap (48 MB) holds the budget's activations
     * (16,384 tokens of the tiny model are ~16 MB) but not the whole call's (~200 MB).
     */
    @Test
    void twoHundredThousandTokensInOneCallRunInBoundedMemory() throws IOException, InterruptedException {
        List<String> command = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--add-modules=jdk.incubator.vector", "-Xmx48m", "-cp", System.getProperty("java.class.path"),
                BigRequestProbe.class.getName(), dir.toString());
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(process.waitFor(5, TimeUnit.MINUTES), "child JVM did not finish");
        assertEquals(0, process.exitValue(), output);
        assertTrue(output.contains("texts 8334 tokens 200016 truncated 0"), output);
    }

    /** What a server does: prepare texts of several requests, pool them in one call, normalise as asked. */
    @Test
    void preparedTextsOfDifferentPromptsPooledTogetherKeepTheirBits() throws IOException {
        try (Embedder embedder = Embedder.builder(dir).threads(2).build()) {
            List<Embedder.Prepared> mixed = new ArrayList<>();
            mixed.addAll(embedder.prepare(List.of(words(3), words(30)), Prompt.NONE, TruncationDirection.RIGHT));
            mixed.addAll(embedder.prepare(List.of(words(5)), Prompt.named("query"), TruncationDirection.LEFT));
            assertFalse(mixed.get(0).truncated());
            assertTrue(mixed.get(1).truncated());
            assertEquals(24, mixed.get(1).tokens());
            float[][] vectors = embedder.encode(mixed, true);
            assertArrayEquals(embedder.embed(words(3)), vectors[0]);
            assertArrayEquals(embedder.embed(words(30)), vectors[1]);
            assertArrayEquals(embedder.embed(EmbedRequest.of(List.of(words(5))).prompt(Prompt.named("query"))
                    .truncate(TruncationDirection.LEFT)).vector(0), vectors[2]);
            float[] raw = embedder.encode(mixed.subList(0, 1), false)[0];
            io.jembed.core.pooling.Pooling.normalize(raw, 0, raw.length);
            assertArrayEquals(vectors[0], raw, "normalising the raw vector gives the embedder's bits");
            assertThrows(IllegalArgumentException.class,
                    () -> embedder.prepare(List.of("x"), Prompt.named("nope"), TruncationDirection.RIGHT));
        }
    }
}
