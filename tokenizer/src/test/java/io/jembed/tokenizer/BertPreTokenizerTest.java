package io.jembed.tokenizer;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;

import org.junit.jupiter.api.Test;

class BertPreTokenizerTest {

    @Test
    void splitsOnWhitespaceAndIsolatesPunctuation() {
        assertEquals(List.of("hello", ",", "world", "!"), BertPreTokenizer.split("hello, world!"));
        assertEquals(List.of("a", "b"), BertPreTokenizer.split("  a \t\n b  "));
    }

    @Test
    void asciiSymbolsCountAsPunctuation() {
        assertEquals(List.of("$", "+", "<", "=", ">", "^", "`", "|", "~", "a"), BertPreTokenizer.split("$+<=>^`|~a"));
    }

    @Test
    void unicodePunctuationIncludingInitialAndFinalQuotesIsIsolated() {
        assertEquals(List.of("«", "x", "»", "‘", "y", "’", "—", "z", "¿"), BertPreTokenizer.split("«x»‘y’—z¿"));
    }

    @Test
    void symbolsAndEmojiStayAttached() {
        assertEquals(List.of("5€", "😀x", "a©b"), BertPreTokenizer.split("5€ 😀x a©b"));
    }

    @Test
    void canadianSyllabicsChiSignIsPunctuationAsInUnicode8() {
        // U+166D became So in Unicode 12; the reference's tables still call it Po.
        assertEquals(List.of("a", "\u166D", "b"), BertPreTokenizer.split("a\u166Db"));
    }
}
