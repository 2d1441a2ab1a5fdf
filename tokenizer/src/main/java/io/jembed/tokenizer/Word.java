package io.jembed.tokenizer;

import java.util.Arrays;

/**
 * The pre-token being collected: its normalized UTF-16 chars, each with the span [start, end) of
 * the original code point it came from. Buffering stops after {@code maxCodePoints} code points
 * (WordPiece turns a longer word into one [UNK] anyway), so a 10 MB word without spaces costs no
 * more memory than a 101-char one; only its code point count and end keep growing.
 */
final class Word {

    char[] chars = new char[32];
    int[] starts = new int[32];
    int[] ends = new int[32];
    /** Buffered UTF-16 chars. */
    int length;
    /** All code points of the word, buffered or not. */
    int codePoints;
    /** Original start of the first code point. */
    int start;
    /** Original end of the last code point. */
    int end;

    private final int maxCodePoints;

    Word(int maxCodePoints) {
        this.maxCodePoints = maxCodePoints;
    }

    boolean isEmpty() {
        return codePoints == 0;
    }

    void clear() {
        length = 0;
        codePoints = 0;
    }

    void append(int codePoint, int start, int end) {
        if (codePoints == 0) {
            this.start = start;
        }
        this.end = end;
        if (codePoints++ >= maxCodePoints) {
            return;
        }
        if (length + 2 > chars.length) {
            int capacity = 2 * chars.length;
            chars = Arrays.copyOf(chars, capacity);
            starts = Arrays.copyOf(starts, capacity);
            ends = Arrays.copyOf(ends, capacity);
        }
        if (codePoint < Character.MIN_SUPPLEMENTARY_CODE_POINT) {
            chars[length] = (char) codePoint;
            starts[length] = start;
            ends[length] = end;
            length++;
        } else {
            chars[length] = Character.highSurrogate(codePoint);
            chars[length + 1] = Character.lowSurrogate(codePoint);
            starts[length] = start;
            starts[length + 1] = start;
            ends[length] = end;
            ends[length + 1] = end;
            length += 2;
        }
    }

    @Override
    public String toString() {
        return new String(chars, 0, length);
    }
}
