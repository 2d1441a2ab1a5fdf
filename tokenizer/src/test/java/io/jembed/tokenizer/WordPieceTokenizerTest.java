package io.jembed.tokenizer;

import static io.jembed.tokenizer.TestTokenizers.id;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import org.junit.jupiter.api.Test;

class WordPieceTokenizerTest {

    private static final WordPieceTokenizer BERT = TestTokenizers.bert();
    private static final int CLS = id("[CLS]");
    private static final int SEP = id("[SEP]");
    private static final int UNK = id("[UNK]");

    @Test
    void wrapsTokensInClsAndSepWithOffsetsIntoTheOriginal() {
        Encoding encoding = BERT.encode("Hello, world!");
        assertArrayEquals(new int[] {CLS, id("hello"), id(","), id("world"), id("!"), SEP}, encoding.ids());
        assertArrayEquals(new String[] {"[CLS]", "hello", ",", "world", "!", "[SEP]"}, encoding.tokens());
        assertArrayEquals(new int[] {0, 0, 5, 7, 12, 0}, encoding.offsetStarts());
        assertArrayEquals(new int[] {0, 5, 6, 12, 13, 0}, encoding.offsetEnds());
        assertArrayEquals(new int[] {0, 0, 0, 0, 0, 0}, encoding.typeIds());
        assertArrayEquals(new int[] {1, 1, 1, 1, 1, 1}, encoding.attentionMask());
    }

    @Test
    void withoutSpecialTokensIsTheTextsTokensAlone() {
        Encoding encoding = BERT.encodeWithoutSpecialTokens("Hello, world!");
        assertArrayEquals(new int[] {id("hello"), id(","), id("world"), id("!")}, encoding.ids());
        assertArrayEquals(new int[] {0, 5, 7, 12}, encoding.offsetStarts());
        assertFalse(encoding.truncated());
        assertEquals(0, BERT.encodeWithoutSpecialTokens("").length());
    }

    @Test
    void idsAreEncodedAsGivenAndCutFromEitherSide() {
        int[] ids = {CLS, id("hello"), id("world"), SEP};
        Encoding all = BERT.encodeIds(ids, 8, TruncationDirection.RIGHT);
        assertArrayEquals(ids, all.ids());
        assertEquals(BERT.encode("hello world").length(), all.length());
        assertFalse(all.truncated());
        Encoding right = BERT.encodeIds(ids, 3, TruncationDirection.RIGHT);
        assertArrayEquals(new int[] {CLS, id("hello"), id("world")}, right.ids());
        assertTrue(right.truncated());
        assertArrayEquals(new int[] {id("hello"), id("world"), SEP}, BERT.encodeIds(ids, 3, TruncationDirection.LEFT).ids());
        IllegalArgumentException outside = assertThrows(IllegalArgumentException.class,
                () -> BERT.encodeIds(new int[] {CLS, BERT.vocabSize()}, 8, TruncationDirection.RIGHT));
        assertEquals("token id 1: expected 0 to " + (BERT.vocabSize() - 1) + " (the vocabulary), found " + BERT.vocabSize(),
                outside.getMessage());
        assertThrows(IllegalArgumentException.class, () -> BERT.encodeIds(new int[0], 8, TruncationDirection.RIGHT));
    }

    @Test
    void greedyLongestMatchFirstWithContinuationPrefix() {
        assertTokens("unaffable", "un", "##aff", "##able");
        assertTokens("playing", "play", "##ing");
        assertTokens("abc", "a", "##b", "##c");
        assertTokens("5€", "5€");
    }

    @Test
    void aWordWithAnUnmatchedPieceIsOneUnknownTokenSpanningTheWord() {
        Encoding encoding = BERT.encode("a unaffablez b");
        assertArrayEquals(new int[] {CLS, id("a"), UNK, id("b"), SEP}, encoding.ids());
        assertEquals(2, encoding.offsetStart(2));
        assertEquals(12, encoding.offsetEnd(2));
    }

    @Test
    void wordsOfMoreThan100CodePointsAreUnknownCountingCodePointsNotChars() {
        String hundred = "😀".repeat(100);
        Encoding fits = BERT.encode(hundred);
        assertEquals(102, fits.length());
        assertEquals(id("##😀"), fits.id(100));
        assertEquals(198, fits.offsetStart(100));
        assertEquals(200, fits.offsetEnd(100));
        Encoding tooLong = BERT.encode(hundred + "😀");
        assertArrayEquals(new int[] {CLS, UNK, SEP}, tooLong.ids());
        assertEquals(202, tooLong.offsetEnd(1));
        assertEquals(102, BERT.encode("x".repeat(100)).length());
        assertArrayEquals(new int[] {CLS, UNK, SEP}, BERT.encode("x".repeat(101)).ids());
    }

    @Test
    void offsetsSliceTheOriginalTextThroughNormalization() {
        String text = "Naïve  CAFÉ, ΣΑΣ! 中文 «5€» \u00A0a\u200Bb İ";
        Encoding encoding = BERT.encode(text);
        List<String> slices = new ArrayList<>();
        for (int i = 1; i < encoding.length() - 1; i++) {
            slices.add(text.substring(encoding.offsetStart(i), encoding.offsetEnd(i)));
        }
        assertEquals(List.of("Naïve", "CAFÉ", ",", "Σ", "Α", "Σ", "!", "中", "文", "«", "5€", "»", "a", "b", "İ"),
                slices);
        assertArrayEquals(new String[] {"[CLS]", "naive", "cafe", ",", "σ", "##α", "##σ", "!", "中", "文", "«", "5€", "»",
            "a", "##b", "i", "[SEP]"}, encoding.tokens());
    }

    @Test
    void specialTokensInTheTextAreMatchedBeforeNormalizationCaseSensitively() {
        Encoding encoding = BERT.encode("a[MASK]b [mask]");
        assertArrayEquals(new int[] {CLS, id("a"), id("[MASK]"), id("b"), id("["), UNK, id("]"), SEP}, encoding.ids());
        assertEquals(1, encoding.offsetStart(2));
        assertEquals(7, encoding.offsetEnd(2));
    }

    @Test
    void emptyAndWhitespaceOnlyTextGiveJustTheSpecialTokens() {
        assertArrayEquals(new int[] {CLS, SEP}, BERT.encode("").ids());
        assertArrayEquals(new int[] {CLS, SEP}, BERT.encode(" \t\n\u00A0\u3000\u200B").ids());
    }

    @Test
    void unpairedSurrogatesAreDroppedAndJoinTheirNeighbours() {
        Encoding encoding = BERT.encode("x\uD800x a\uDC00");
        assertArrayEquals(new int[] {CLS, id("x"), id("##x"), id("a"), SEP}, encoding.ids());
        assertEquals(2, encoding.offsetStart(2));
        assertEquals(3, encoding.offsetEnd(2));
    }

    @Test
    void nullIsACallerError() {
        assertThrows(IllegalArgumentException.class, () -> BERT.encode(null));
        assertThrows(IllegalArgumentException.class, () -> BERT.encode(null, 10));
        assertThrows(IllegalArgumentException.class, () -> BERT.encodePair("a", null));
        List<String> withNull = new ArrayList<>(List.of("a"));
        withNull.add(null);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> BERT.encodeBatch(withNull, 8));
        assertTrue(e.getMessage().startsWith("texts[1]"), e.getMessage());
    }

    @Test
    void truncationKeepsTheFirstTokensBeforeAddingSpecialTokens() {
        assertArrayEquals(new int[] {CLS, id("a"), id("b"), id("c"), SEP}, BERT.encode("a b c a b c", 5).ids());
        assertArrayEquals(new int[] {CLS, id("un"), id("##aff"), SEP}, BERT.encode("unaffable", 4).ids());
        assertArrayEquals(new int[] {CLS, SEP}, BERT.encode("a b c", 2).ids());
        assertThrows(IllegalArgumentException.class, () -> BERT.encode("a", 1));
        assertThrows(IllegalArgumentException.class, () -> BERT.encodePair("a", "b", 2));
    }

    @Test
    void truncatedSaysWhetherTokensWereDroppedAtEachLength() {
        // "a b c" is 3 tokens, 5 with [CLS] and [SEP]: cut below 5, whole at 5 and above.
        assertTrue(BERT.encode("a b c", 4).truncated());
        assertFalse(BERT.encode("a b c", 5).truncated());
        assertFalse(BERT.encode("a b c", 6).truncated());
        assertFalse(BERT.encode("a b c").truncated());
        assertTrue(BERT.encode("a b c", 4, TruncationDirection.LEFT).truncated());
        assertFalse(BERT.encode("a b c", 5, TruncationDirection.LEFT).truncated());
        assertTrue(BERT.encodePair("a b", "c d", 5).truncated());
        assertFalse(BERT.encodePair("a b", "c d", 7).truncated());
    }

    @Test
    void leftTruncationKeepsTheLastTokensWithTheirOffsets() {
        String text = "unaffable hello world";
        Encoding whole = BERT.encode(text);
        Encoding left = BERT.encode(text, 5, TruncationDirection.LEFT);
        int n = whole.length();
        // [CLS] + the last 3 tokens of the whole text + [SEP], offsets into the same string.
        assertArrayEquals(new int[] {CLS, whole.id(n - 4), whole.id(n - 3), whole.id(n - 2), SEP}, left.ids());
        assertEquals(whole.offsetStart(n - 4), left.offsetStart(1));
        assertEquals(whole.offsetEnd(n - 2), left.offsetEnd(3));
        assertEquals("world", text.substring(left.offsetStart(3), left.offsetEnd(3)));
        assertArrayEquals(BERT.encode(text, 5).ids(), BERT.encode(text, 5, TruncationDirection.RIGHT).ids());
        assertThrows(IllegalArgumentException.class, () -> BERT.encode(text, 5, null));
    }

    @Test
    void pairsGetTypeIdsAndOffsetsIntoTheirOwnText() {
        Encoding encoding = BERT.encodePair("hello world", "a bc");
        assertArrayEquals(new int[] {CLS, id("hello"), id("world"), SEP, id("a"), id("b"), id("##c"), SEP}, encoding.ids());
        assertArrayEquals(new int[] {0, 0, 0, 0, 1, 1, 1, 1}, encoding.typeIds());
        assertArrayEquals(new int[] {0, 0, 6, 0, 0, 2, 3, 0}, encoding.offsetStarts());
    }

    @Test
    void pairTruncationIsLongestFirst() {
        // 2 + 6 tokens with room for 5: the shorter keeps 2, the longer gets 3.
        Encoding encoding = BERT.encodePair("a b", "a b c a b c", 8);
        assertArrayEquals(new int[] {CLS, id("a"), id("b"), SEP, id("a"), id("b"), id("c"), SEP}, encoding.ids());
        // 6 + 6 with room for 5: both halved, the odd token to the second on a tie.
        Encoding halves = BERT.encodePair("a b c a b c", "c b a c b a", 8);
        assertArrayEquals(new int[] {CLS, id("a"), id("b"), SEP, id("c"), id("b"), id("a"), SEP}, halves.ids());
    }

    @Test
    void longestFirstMatchesTheReferenceArithmetic() {
        int[][] cases = { // first, second, max -> keep first, keep second
            {3, 10, 8, 3, 5}, {10, 3, 8, 5, 3}, {6, 10, 8, 4, 4}, {10, 6, 8, 4, 4}, {5, 5, 8, 4, 4}, {1, 100, 8, 1, 7},
            {100, 50, 5, 3, 2}, {50, 100, 5, 2, 3}, {4, 4, 7, 3, 4}, {2, 2, 8, 2, 2}, {9, 0, 8, 8, 0}, {0, 0, 0, 0, 0},
        };
        for (int[] c : cases) {
            assertArrayEquals(new int[] {c[3], c[4]}, TemplateProcessing.longestFirst(c[0], c[1], c[2]),
                    "longestFirst(" + c[0] + ", " + c[1] + ", " + c[2] + ")");
        }
    }

    @Test
    void padsToTheLongestOrAFixedLengthWithAnAttentionMask() {
        List<Encoding> encodings = List.of(BERT.encode("a"), BERT.encode("a b c"));
        Batch batch = BERT.pad(encodings);
        assertEquals(2, batch.size());
        assertEquals(5, batch.sequenceLength());
        int pad = id("[PAD]");
        assertArrayEquals(new int[] {CLS, id("a"), SEP, pad, pad, CLS, id("a"), id("b"), id("c"), SEP}, batch.inputIds());
        assertArrayEquals(new int[] {1, 1, 1, 0, 0, 1, 1, 1, 1, 1}, batch.attentionMask());
        assertArrayEquals(new int[10], batch.typeIds());
        Batch fixed = BERT.pad(encodings, 7);
        assertEquals(14, fixed.inputIds().length);
        assertEquals(3, fixed.length(0));
        assertThrows(IllegalArgumentException.class, () -> BERT.pad(encodings, 4));
    }

    @Test
    void batchEncodingInParallelEqualsOneByOne() {
        Random random = new Random(42);
        List<String> texts = new ArrayList<>();
        String[] words = {"hello", "World", "unaffable", "CAFÉ", "中文", "5€", "!", "[MASK]", "x\uD800", "😀"};
        for (int i = 0; i < 2000; i++) {
            StringBuilder text = new StringBuilder();
            for (int w = random.nextInt(40); w > 0; w--) {
                text.append(words[random.nextInt(words.length)]).append(random.nextBoolean() ? " " : "");
            }
            texts.add(text.toString());
        }
        List<Encoding> batch = BERT.encodeBatch(texts, 16);
        assertEquals(texts.size(), batch.size());
        for (int i = 0; i < texts.size(); i++) {
            Encoding single = BERT.encode(texts.get(i), 16);
            assertArrayEquals(single.ids(), batch.get(i).ids(), texts.get(i));
            assertArrayEquals(single.offsetStarts(), batch.get(i).offsetStarts(), texts.get(i));
            assertArrayEquals(single.offsetEnds(), batch.get(i).offsetEnds(), texts.get(i));
        }
    }

    @Test
    void decodeJoinsPiecesAndCleansUpSpacesBeforePunctuation() {
        assertEquals("hello, world!", BERT.decode(BERT.encode("Hello , world !").ids()));
        assertEquals("[CLS] hello, world! [SEP]", BERT.decode(BERT.encode("Hello, world!").ids(), false));
        assertEquals("unaffable playing", BERT.decode(BERT.encode("unaffable playing").ids()));
        // Cleanup works within one token, so BERT's split contractions stay apart, as in the reference.
        assertEquals("don ' t it ' s", BERT.decode(new int[] {id("don"), id("'"), id("t"), id("it"), id("'"), id("s")}));
        assertThrows(IllegalArgumentException.class, () -> BERT.decode(new int[] {TestTokenizers.VOCAB.size()}));
    }

    @Test
    void vocabularyQueries() {
        assertEquals(TestTokenizers.VOCAB.size(), BERT.vocabSize());
        assertEquals(id("##aff"), BERT.tokenId("##aff"));
        assertEquals(-1, BERT.tokenId("nope"));
        assertEquals("##aff", BERT.token(id("##aff")));
        assertTrue(BERT.isSpecial(CLS));
        assertEquals(128, BERT.configuredMaxLength().orElseThrow());
        assertEquals(0, BERT.padId());
    }

    private static void assertTokens(String text, String... tokens) {
        String[] expected = new String[tokens.length + 2];
        expected[0] = "[CLS]";
        System.arraycopy(tokens, 0, expected, 1, tokens.length);
        expected[tokens.length + 1] = "[SEP]";
        assertArrayEquals(expected, BERT.encode(text).tokens(), text);
    }
}
