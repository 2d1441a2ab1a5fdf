package io.jembed.core.search;

import java.util.ArrayList;
import java.util.List;

import io.jembed.core.index.Manifest;
import io.jembed.tokenizer.Encoding;
import io.jembed.tokenizer.WordPieceTokenizer;

/**
 * Cuts a text into overlapping windows of at most {@code tokens} WordPiece tokens, each starting
 * {@code tokens - overlap} tokens after the previous one, and returns their character spans. A
 * window never starts or ends inside a word: a start on a continuation piece ("##ing") moves back
 * to its word's first piece and an end before one moves back to the end of the previous word, so
 * each window's text, tokenized again, gives the window's own tokens (a single word longer than a
 * window is the exception: it is cut where the window ends). A text of at most {@code tokens} tokens
 * is one window, the whole text, so its vector is the one it gets unchunked.
 */
final class Chunker {

    private final WordPieceTokenizer tokenizer;
    private final Manifest.Chunking chunking;

    Chunker(WordPieceTokenizer tokenizer, Manifest.Chunking chunking) {
        this.tokenizer = tokenizer;
        this.chunking = chunking;
    }

    /** Spans of the windows of {@code text}, as (start, end) char pairs, at least one window. */
    int[] spans(String text) {
        Encoding encoding = tokenizer.encodeWithoutSpecialTokens(text);
        int n = encoding.length();
        int size = chunking.tokens();
        if (n <= size) {
            return new int[] {0, text.length()};
        }
        int step = size - chunking.overlap();
        List<int[]> windows = new ArrayList<>();
        int start = 0;
        while (true) {
            int end = Math.min(n, start + size);
            if (end < n) {
                int cut = end;
                while (cut > start + 1 && isContinuation(encoding, cut)) {
                    cut--;
                }
                end = cut;
            }
            windows.add(new int[] {encoding.offsetStart(start), encoding.offsetEnd(end - 1)});
            if (end >= n) {
                break;
            }
            // The next window starts step tokens on, or overlap tokens before this window's end
            // when the end moved back to a word boundary, at a word's first piece: back to it if
            // that keeps the window moving, else on to the next word.
            int next = Math.max(start + 1, Math.min(start + step, end - chunking.overlap()));
            int back = next;
            while (back > start && isContinuation(encoding, back)) {
                back--;
            }
            if (back > start) {
                next = back;
            } else {
                while (next < end && isContinuation(encoding, next)) {
                    next++;
                }
            }
            start = next;
        }
        int[] spans = new int[2 * windows.size()];
        for (int i = 0; i < windows.size(); i++) {
            spans[2 * i] = windows.get(i)[0];
            spans[2 * i + 1] = windows.get(i)[1];
        }
        return spans;
    }

    private static boolean isContinuation(Encoding encoding, int index) {
        return encoding.token(index).startsWith("##");
    }
}
