package io.jembed.tokenizer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class BertNormalizerTest {

    private static final BertNormalizer UNCASED = BertNormalizer.of(true, true, null, true);
    private static final BertNormalizer CASED = BertNormalizer.of(true, true, null, false);

    @Test
    void cleanTextDropsNulReplacementCharacterAndOtherCategoryButKeepsTabNewlineReturnAsSpaces() {
        // U+200B, U+00AD, U+FEFF are Cf; U+0085 and U+000B are Cc although Java calls them whitespace.
        assertEquals("abcdefgh", CASED.normalize("a\u0000b\uFFFDc\u200Bd\u00ADe\uFEFFf\u0085g\u000Bh"));
        assertEquals("a b c d", CASED.normalize("a\tb\nc\rd"));
        assertEquals("", CASED.normalize("\uE000\uDB80\uDC00"), "private use, BMP and plane 15");
    }

    @Test
    void cleanTextMapsUnicodeWhiteSpaceThatJavaIsWhitespaceMisses() {
        assertFalse(Character.isWhitespace(0xA0));
        assertEquals("a b c d e f", CASED.normalize("a\u00A0b\u2028c\u3000d\u2009e\u202Ff"));
    }

    @Test
    void chineseCharactersGetASpaceOnEachSideButHangulAndKanaDoNot() {
        assertEquals("ab 中 c", CASED.normalize("ab中c"));
        assertEquals(" \uD840\uDC00 ", CASED.normalize("\uD840\uDC00"), "extension B, U+20000");
        assertEquals("한국어 かな", CASED.normalize("한국어 かな"));
    }

    @Test
    void stripAccentsDecomposesAndDropsNonspacingMarks() {
        assertEquals("angstrom cafe naive tieng viet", UNCASED.normalize("Ångström café naïve Tiếng Việt"));
        assertEquals("cafe\u0301", BertNormalizer.of(true, true, false, true).normalize("cafe\u0301"));
    }

    @Test
    void stripAccentsFollowsLowercaseWhenNull() {
        assertEquals(new BertNormalizer(true, true, true, true), BertNormalizer.of(true, true, null, true));
        assertEquals(new BertNormalizer(true, true, false, false), BertNormalizer.of(true, true, null, false));
    }

    @Test
    void lowercaseIsPerCodePointSoFinalSigmaStaysSigma() {
        assertEquals("οδυσσευσ", UNCASED.normalize("ΟΔΥΣΣΕΥΣ"));
        assertEquals("ὀδυσσεύς", "ὈΔΥΣΣΕΎΣ".toLowerCase(java.util.Locale.ROOT), "what String.toLowerCase does instead");
    }

    @Test
    void dottedCapitalIBecomesIWithCombiningDotUnlessAccentsAreStripped() {
        assertEquals("istanbul", UNCASED.normalize("İstanbul"));
        assertEquals("i\u0307stanbul", BertNormalizer.of(true, true, false, true).normalize("İstanbul"));
    }

    @Test
    void classesFollowTheReferencesUnicode8TablesNotTheJdks() {
        // U+1734 HANUNOO SIGN PAMUDPOD: Mn until Unicode 14, so the reference strips it.
        assertEquals("a", UNCASED.normalize("a\u1734"));
        // U+0890 ARABIC POUND MARK ABOVE: Cf since Unicode 14, unknown to the reference, so kept.
        assertEquals("a\u0890", CASED.normalize("a\u0890"));
        // U+1DF6 (Unicode 10, Mn): unknown to the reference's Mn table, so not stripped.
        assertEquals("a\u1DF6", UNCASED.normalize("a\u1DF6"));
    }

    @Test
    void unpairedSurrogatesAreDroppedLikeTheReplacementCharacter() {
        assertEquals("ab", CASED.normalize("a\uD800b"));
        assertEquals("ab", CASED.normalize("a\uDC00b"));
        assertEquals("a\uFFFDb", new BertNormalizer(false, false, false, false).normalize("a\uD800b"));
    }

    @Test
    void nullTextIsACallerError() {
        assertThrows(IllegalArgumentException.class, () -> CASED.normalize(null));
    }
}
