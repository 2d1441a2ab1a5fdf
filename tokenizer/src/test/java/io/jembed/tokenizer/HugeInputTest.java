package io.jembed.tokenizer;

import static io.jembed.tokenizer.TestTokenizers.id;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import java.time.Duration;

import org.junit.jupiter.api.Test;

/**
 * Ten-megabyte strings: linear time, memory bounded by the output. The timeouts are an order of
 * magnitude above the expected time on a loaded 2-core machine (the work is about 0.2 s), low
 * enough to catch anything quadratic, which would take hours.
 */
class HugeInputTest {

    private static final WordPieceTokenizer BERT = TestTokenizers.bert();
    private static final int MEGABYTES_10 = 10 * 1024 * 1024;
    private static final Duration LIMIT = Duration.ofSeconds(30);

    @Test
    void tenMegabytesOfWordsTokenizeCompletelyInLinearTime() {
        String text = "hello world ".repeat(MEGABYTES_10 / 12);
        Encoding encoding = assertTimeoutPreemptively(LIMIT, () -> BERT.encode(text));
        assertEquals(2 + 2 * (MEGABYTES_10 / 12), encoding.length());
        int last = encoding.length() - 2;
        assertEquals(text.length() - 6, encoding.offsetStart(last));
        assertEquals(id("world"), encoding.id(last));
    }

    @Test
    void truncationStopsReadingEarly() {
        String text = "unaffable ".repeat(MEGABYTES_10 / 10);
        Encoding encoding = assertTimeoutPreemptively(Duration.ofSeconds(5), () -> BERT.encode(text, 256));
        assertEquals(256, encoding.length());
        assertEquals(id("un"), encoding.id(253));
    }

    @Test
    void aTenMegabyteWordIsOneUnknownToken() {
        String text = "x".repeat(MEGABYTES_10);
        Encoding encoding = assertTimeoutPreemptively(LIMIT, () -> BERT.encode(text));
        assertArrayEquals(new int[] {id("[CLS]"), id("[UNK]"), id("[SEP]")}, encoding.ids());
        assertEquals(MEGABYTES_10, encoding.offsetEnd(1));
    }

    @Test
    void tenMegabytesOfCombiningMarksStayLinear() {
        // One run of marks that canonical ordering must sort: alternating classes 230 and 220.
        String text = "a" + "\u0301\u0316".repeat(MEGABYTES_10 / 4) + " b";
        Encoding encoding = assertTimeoutPreemptively(LIMIT, () -> BERT.encode(text));
        assertArrayEquals(new int[] {id("[CLS]"), id("a"), id("b"), id("[SEP]")}, encoding.ids());
        assertEquals(1, encoding.offsetEnd(1));
    }
}
