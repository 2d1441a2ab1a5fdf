package io.jembed.core.search;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.jembed.core.index.Manifest;
import io.jembed.tokenizer.WordPieceTokenizer;

/** Windows of a text: bounded in tokens, overlapping as asked, covering it all, never inside a word. */
class ChunkerTest {

    @TempDir
    static Path dir;
    static WordPieceTokenizer tokenizer;

    @BeforeAll
    static void vocabulary() throws IOException {
        Path vocab = Files.writeString(dir.resolve("vocab.txt"), String.join("\n", "[PAD]", "[UNK]", "[CLS]", "[SEP]",
                "[MASK]", "the", "quick", "brown", "fox", "jump", "##s", "##ing", "over", "lazy", "dog", ".", ",") + "\n");
        tokenizer = WordPieceTokenizer.fromVocabTxt(vocab, true);
    }

    static int tokens(String text) {
        return tokenizer.encodeWithoutSpecialTokens(text).length();
    }

    @Test
    void aTextThatFitsIsOneWindowTheWholeText() {
        String text = "The quick brown fox jumps."; // 7 tokens: jumps is jump ##s
        assertArrayEquals(new int[] {0, text.length()}, new Chunker(tokenizer, new Manifest.Chunking(7, 3)).spans(text));
        assertArrayEquals(new int[] {0, 0}, new Chunker(tokenizer, new Manifest.Chunking(6, 3)).spans(""));
    }

    @Test
    void windowsAreBoundedOverlapAndCoverTheText() {
        String sentence = "the quick brown fox jumps over the lazy dog, jumping. ";
        String text = sentence.repeat(12).strip();
        int total = tokens(text);
        for (int size : new int[] {4, 7, 16, 50}) {
            for (int overlap : new int[] {0, 1, size / 2, size - 1}) {
                int[] spans = new Chunker(tokenizer, new Manifest.Chunking(size, overlap)).spans(text);
                String where = "windows of " + size + " overlapping " + overlap;
                assertEquals(0, spans[0], where);
                assertEquals(text.length(), spans[spans.length - 1], where + ": the last window ends the text");
                int covered = 0;
                for (int w = 0; w < spans.length; w += 2) {
                    String window = text.substring(spans[w], spans[w + 1]);
                    assertTrue(tokens(window) <= size, where + ": '" + window + "' has " + tokens(window) + " tokens");
                    assertFalse(window.startsWith("s") || window.startsWith("ing"), where + ": starts inside a word: " + window);
                    assertFalse(spans[w + 1] < text.length() && Character.isLetter(text.charAt(spans[w + 1]))
                            && Character.isLetter(text.charAt(spans[w + 1] - 1)), where + ": ends inside a word: " + window);
                    if (w > 0) {
                        assertTrue(spans[w] > spans[w - 2], where + ": windows move forward");
                        assertTrue(spans[w] <= spans[w - 1] + 1, where + ": no gap between windows");
                        if (overlap > 0) {
                            assertTrue(spans[w] < spans[w - 1], where + ": consecutive windows share tokens");
                        }
                    }
                    covered += tokens(window);
                }
                assertTrue(covered >= total, where + ": every token is in a window");
                if (overlap == 0) {
                    assertTrue(covered <= total + spans.length, where + ": without overlap, windows barely share");
                }
            }
        }
    }
}
