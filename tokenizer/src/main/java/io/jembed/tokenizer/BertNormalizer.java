package io.jembed.tokenizer;

import java.util.Arrays;

/**
 * Hugging Face's BertNormalizer ({@code normalizers/bert.rs}), with the tokenizer.json field names.
 * In order:
 *
 * <ol>
 * <li>{@code clean_text}: drop U+0000, U+FFFD and every "other" code point (Cc, Cf, Co) except tab,
 * newline and carriage return, then map every White_Space code point to a space (so NBSP, U+2028
 * and U+3000 become spaces, while U+0085 and U+000B, being Cc, are dropped);</li>
 * <li>{@code handle_chinese_chars}: a space on each side of a CJK ideograph;</li>
 * <li>{@code strip_accents}: NFD, then drop nonspacing marks (Mn);</li>
 * <li>{@code lowercase}: each code point on its own, as Rust's {@code char::to_lowercase}.</li>
 * </ol>
 *
 * Every normalized code point carries the UTF-16 span [start, end) of the original code point it
 * came from; a code point that expands (é to e + U+0301, İ to i + U+0307) gives each part the same
 * span. NFD's canonical reordering follows the reference's alignment rule, which is positional:
 * the first part of each original code point takes the next original span in text order, and the
 * other parts the span taken last. After "a" + U+0301 + U+1D165 is reordered to
 * "a" + U+1D165 + U+0301, U+1D165 therefore spans the acute's original position.
 *
 * @param cleanText          clean_text
 * @param handleChineseChars handle_chinese_chars
 * @param stripAccents       strip_accents (tokenizer.json may leave it null: it then follows lowercase)
 * @param lowercase          lowercase
 */
public record BertNormalizer(boolean cleanText, boolean handleChineseChars, boolean stripAccents, boolean lowercase) {

    /** Normalized output of a text, one code point at a time. */
    interface Sink {
        /**
         * One normalized code point and the original span it came from.
         *
         * @return false once the sink needs no more input (the caller stops early)
         */
        boolean accept(int codePoint, int start, int end);
    }

    /**
     * Scratch space for a run of combining marks awaiting canonical reordering; one per thread.
     * Each mark is the first part of its original code point's decomposition (it takes the next
     * original span) or a later part (it takes the span taken last).
     */
    static final class MarkRun {
        private int[] codePoints = new int[8];
        private boolean[] laterPart = new boolean[8];
        private int[] order = new int[8];
        /** Spans of the original code points whose first part is in the run, in text order. */
        private int[] originalStarts = new int[8];
        private int[] originalEnds = new int[8];
        private int originals;
        /** The span taken last before the run: that of the code point its first mark came from. */
        private int previousStart;
        private int previousEnd;
        private int count;

        void add(int codePoint, boolean isLaterPart, int start, int end) {
            if (count == codePoints.length) {
                int capacity = 2 * count;
                codePoints = Arrays.copyOf(codePoints, capacity);
                laterPart = Arrays.copyOf(laterPart, capacity);
                order = Arrays.copyOf(order, capacity);
                originalStarts = Arrays.copyOf(originalStarts, capacity);
                originalEnds = Arrays.copyOf(originalEnds, capacity);
            }
            if (count == 0) {
                previousStart = start;
                previousEnd = end;
            }
            codePoints[count] = codePoint;
            laterPart[count] = isLaterPart;
            count++;
            if (!isLaterPart) {
                originalStarts[originals] = start;
                originalEnds[originals] = end;
                originals++;
            }
        }

        void clear() {
            count = 0;
            originals = 0;
        }

        /** Drops buffers grown by a freak text (a megabyte of marks) so the thread does not keep them. */
        void trim() {
            if (codePoints.length > TRIM_CAPACITY) {
                codePoints = new int[8];
                laterPart = new boolean[8];
                order = new int[8];
                originalStarts = new int[8];
                originalEnds = new int[8];
            }
            clear();
        }
    }

    private static final int DROP = -1;
    private static final int TRIM_CAPACITY = 1 << 16;
    /**
     * Lowercase is Rust's {@code char::to_lowercase}: the full mapping of each code point without
     * context. It equals the JDK's {@code Character.toLowerCase(int)} except for U+0130, the one
     * unconditional multi-character lowercase mapping, which becomes "i" + U+0307. A final capital
     * sigma becomes σ, never ς (String.toLowerCase would apply the final-sigma rule).
     */
    private static final int DOTTED_CAPITAL_I = 0x130;
    private static final int COMBINING_DOT_ABOVE = 0x307;

    /** The normalizer as tokenizer.json states it: a null {@code stripAccents} follows lowercase. */
    public static BertNormalizer of(boolean cleanText, boolean handleChineseChars, Boolean stripAccents,
            boolean lowercase) {
        return new BertNormalizer(cleanText, handleChineseChars, stripAccents == null ? lowercase : stripAccents,
                lowercase);
    }

    /** The normalized text (without offsets); for inspection and tests. */
    public String normalize(String text) {
        if (text == null) {
            throw new IllegalArgumentException("text: expected a string, found null");
        }
        StringBuilder out = new StringBuilder(text.length());
        normalize(text, 0, text.length(), (codePoint, start, end) -> {
            out.appendCodePoint(codePoint);
            return true;
        }, new MarkRun());
        return out.toString();
    }

    /**
     * Normalizes text[from, to) into the sink.
     *
     * @return false if the sink asked to stop
     */
    boolean normalize(CharSequence text, int from, int to, Sink sink, MarkRun marks) {
        int[] ascii = asciiMap();
        int i = from;
        while (i < to) {
            char ch = text.charAt(i);
            if (ch < 0x80) {
                int mapped = ascii[ch];
                if (mapped != DROP) {
                    if (marks.count != 0 && !flush(marks, sink)) {
                        return false;
                    }
                    if (!sink.accept(mapped, i, i + 1)) {
                        return false;
                    }
                }
                i++;
                continue;
            }
            int codePoint;
            int next;
            if (Character.isHighSurrogate(ch) && i + 1 < to && Character.isLowSurrogate(text.charAt(i + 1))) {
                codePoint = Character.toCodePoint(ch, text.charAt(i + 1));
                next = i + 2;
            } else {
                // An unpaired surrogate is what the reference sees as U+FFFD: clean_text drops it.
                codePoint = Character.isSurrogate(ch) ? 0xFFFD : ch;
                next = i + 1;
            }
            if (!normalizeCodePoint(codePoint, i, next, sink, marks)) {
                return false;
            }
            i = next;
        }
        return marks.count == 0 || flush(marks, sink);
    }

    private boolean normalizeCodePoint(int codePoint, int start, int end, Sink sink, MarkRun marks) {
        int c = codePoint;
        if (cleanText) {
            if (c == 0 || c == 0xFFFD || (UnicodeClasses.flags(c) & UnicodeClasses.OTHER) != 0) {
                return true;
            }
            if (UnicodeClasses.isWhitespace(c)) {
                c = ' ';
            }
        }
        if (handleChineseChars && UnicodeClasses.isCjkIdeograph(c)) {
            return flush(marks, sink)
                    && sink.accept(' ', start, end)
                    && decompose(c, start, end, sink, marks)
                    && flush(marks, sink)
                    && sink.accept(' ', start, end);
        }
        return decompose(c, start, end, sink, marks);
    }

    private boolean decompose(int c, int start, int end, Sink sink, MarkRun marks) {
        if (!stripAccents) {
            return emit(c, start, end, sink);
        }
        int[] parts = UnicodeClasses.decomposition(c);
        if (parts == null) {
            return decomposed(c, false, start, end, sink, marks);
        }
        for (int k = 0; k < parts.length; k++) {
            if (!decomposed(parts[k], k > 0, start, end, sink, marks)) {
                return false;
            }
        }
        return true;
    }

    /** Combining marks wait in the run (NFD may reorder them); anything else ends the run first. */
    private boolean decomposed(int c, boolean laterPart, int start, int end, Sink sink, MarkRun marks) {
        if ((UnicodeClasses.flags(c) & UnicodeClasses.COMBINING_MARK) != 0) {
            marks.add(c, laterPart, start, end);
            return true;
        }
        return flush(marks, sink) && emit(c, start, end, sink);
    }

    private boolean flush(MarkRun marks, Sink sink) {
        int count = marks.count;
        if (count == 0) {
            return true;
        }
        if (count == 1) {
            marks.order[0] = 0;
        } else {
            UnicodeClasses.canonicalOrder(marks.codePoints, count, marks.order);
        }
        int start = marks.previousStart;
        int end = marks.previousEnd;
        int original = 0;
        marks.clear();
        for (int k = 0; k < count; k++) {
            int i = marks.order[k];
            if (!marks.laterPart[i]) {
                start = marks.originalStarts[original];
                end = marks.originalEnds[original];
                original++;
            }
            if (!emit(marks.codePoints[i], start, end, sink)) {
                return false;
            }
        }
        return true;
    }

    /** The last two steps on one decomposed code point: drop Mn (when stripping), lowercase. */
    private boolean emit(int c, int start, int end, Sink sink) {
        if (stripAccents && (UnicodeClasses.flags(c) & UnicodeClasses.NONSPACING_MARK) != 0) {
            return true;
        }
        if (!lowercase || c < 'A') {
            return sink.accept(c, start, end);
        }
        if (c <= 'Z') {
            return sink.accept(c + ('a' - 'A'), start, end);
        }
        if (c < 0x80) {
            return sink.accept(c, start, end);
        }
        if (c == DOTTED_CAPITAL_I) {
            return sink.accept('i', start, end) && sink.accept(COMBINING_DOT_ABOVE, start, end);
        }
        return sink.accept(Character.toLowerCase(c), start, end);
    }

    /** What each ASCII char becomes under this configuration, or DROP. */
    private int[] asciiMap() {
        int k = (cleanText ? 1 : 0) | (lowercase ? 2 : 0);
        return ASCII_MAPS[k];
    }

    private static final int[][] ASCII_MAPS = new int[4][];

    static {
        for (int k = 0; k < 4; k++) {
            boolean clean = (k & 1) != 0;
            boolean lower = (k & 2) != 0;
            int[] map = new int[0x80];
            for (int c = 0; c < 0x80; c++) {
                int mapped = c;
                if (clean && (c == 0 || (UnicodeClasses.flags(c) & UnicodeClasses.OTHER) != 0)) {
                    mapped = DROP;
                } else if (clean && UnicodeClasses.isWhitespace(c)) {
                    mapped = ' ';
                } else if (lower && c >= 'A' && c <= 'Z') {
                    mapped = c + ('a' - 'A');
                }
                map[c] = mapped;
            }
            ASCII_MAPS[k] = map;
        }
    }
}
