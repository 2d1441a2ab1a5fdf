package io.jembed.tokenizer;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.text.Normalizer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The character classes of the reference (Hugging Face tokenizers) BertNormalizer and
 * BertPreTokenizer, and the per-code-point Unicode operations they apply.
 *
 * <p>The reference takes "other", "punctuation" and "nonspacing mark" from the unicode_categories
 * crate, whose tables are Unicode 8.0; the JDK knows Unicode 16, where hundreds of later code points
 * are P* or Mn and a few changed category (U+166D was Po, U+1734 was Mn). Using the JDK's categories
 * would split or strip differently on those, so the three classes are read from
 * {@code reference-unicode-classes.txt}, captured from the reference one code point at a time by the
 * fixture generator. So is a fourth, the marks the reference's NFD reorders: its tables (Unicode 9.0)
 * give marks added later a combining class of 0. White space, decompositions and lowercase agree
 * with the JDK on every code point the parity fixtures sweep.
 */
final class UnicodeClasses {

    static final int OTHER = 1;
    static final int PUNCTUATION = 2;
    static final int NONSPACING_MARK = 4;
    /** Rust's {@code char::is_whitespace}: the Unicode White_Space property. */
    static final int WHITESPACE = 8;
    /** A non-zero canonical combining class in the reference's NFD: NFD may reorder it. */
    static final int COMBINING_MARK = 16;

    private static final String RESOURCE = "reference-unicode-classes.txt";

    /** Flags for every BMP code point; supplementary ones use the range tables. */
    private static final byte[] BMP_FLAGS = new byte[0x10000];
    /** Sorted, non-overlapping [first, last] pairs per class, for supplementary code points. */
    private static final int[] OTHER_RANGES;
    private static final int[] PUNCTUATION_RANGES;
    private static final int[] NONSPACING_MARK_RANGES;
    private static final int[] COMBINING_MARK_RANGES;

    /** Lazily filled NFD decompositions, one 256-entry page per 256 code points. */
    private static final Decomposition[][] DECOMPOSITION_PAGES = new Decomposition[0x1100][];
    private static final Decomposition UNCHANGED = new Decomposition(null);

    /** A canonical decomposition; codePoints is null when the code point decomposes to itself. */
    private record Decomposition(int[] codePoints) {
    }

    static {
        int[][] ranges = readRanges();
        OTHER_RANGES = ranges[0];
        PUNCTUATION_RANGES = ranges[1];
        NONSPACING_MARK_RANGES = ranges[2];
        COMBINING_MARK_RANGES = ranges[3];
        mark(OTHER_RANGES, OTHER);
        mark(PUNCTUATION_RANGES, PUNCTUATION);
        mark(NONSPACING_MARK_RANGES, NONSPACING_MARK);
        mark(COMBINING_MARK_RANGES, COMBINING_MARK);
        for (int c : new int[] {0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x20, 0x85, 0xA0, 0x1680, 0x2028, 0x2029, 0x202F,
                0x205F, 0x3000}) {
            BMP_FLAGS[c] |= WHITESPACE;
        }
        for (int c = 0x2000; c <= 0x200A; c++) {
            BMP_FLAGS[c] |= WHITESPACE;
        }
    }

    private UnicodeClasses() {
    }

    /** The class flags of a code point (any combination of the constants above). */
    static int flags(int c) {
        if (c < 0x10000) {
            return BMP_FLAGS[c];
        }
        int flags = 0;
        if (inRanges(OTHER_RANGES, c)) {
            flags |= OTHER;
        }
        if (inRanges(PUNCTUATION_RANGES, c)) {
            flags |= PUNCTUATION;
        }
        if (inRanges(NONSPACING_MARK_RANGES, c)) {
            flags |= NONSPACING_MARK;
        }
        if (inRanges(COMBINING_MARK_RANGES, c)) {
            flags |= COMBINING_MARK;
        }
        return flags;
    }

    static boolean isWhitespace(int c) {
        return c < 0x10000 && (BMP_FLAGS[c] & WHITESPACE) != 0;
    }

    static boolean isPunctuation(int c) {
        return (flags(c) & PUNCTUATION) != 0;
    }

    /**
     * The CJK Unified Ideograph blocks the reference surrounds with spaces (BertNormalizer's
     * {@code is_chinese_char}); Hangul, kana and later extensions are not among them.
     */
    static boolean isCjkIdeograph(int c) {
        return (c >= 0x4E00 && c <= 0x9FFF)
                || (c >= 0x3400 && c <= 0x4DBF)
                || (c >= 0x20000 && c <= 0x2A6DF)
                || (c >= 0x2A700 && c <= 0x2B73F)
                || (c >= 0x2B740 && c <= 0x2B81F)
                || (c >= 0x2B920 && c <= 0x2CEAF)
                || (c >= 0xF900 && c <= 0xFAFF)
                || (c >= 0x2F800 && c <= 0x2FA1F);
    }

    /**
     * The canonical (NFD) decomposition of one code point, or null if it decomposes to itself.
     * Canonical reordering across code points is the caller's job.
     */
    static int[] decomposition(int c) {
        if (c < 0xC0) {
            return null;
        }
        Decomposition[] page = DECOMPOSITION_PAGES[c >>> 8];
        if (page == null) {
            page = new Decomposition[256];
            DECOMPOSITION_PAGES[c >>> 8] = page;
        }
        Decomposition decomposition = page[c & 0xFF];
        if (decomposition == null) {
            // Racing threads compute the same value; the record's final field makes publishing safe.
            String single = Character.toString(c);
            String nfd = Normalizer.normalize(single, Normalizer.Form.NFD);
            decomposition = nfd.equals(single) ? UNCHANGED : new Decomposition(nfd.codePoints().toArray());
            page[c & 0xFF] = decomposition;
        }
        return decomposition.codePoints();
    }

    /**
     * The canonical order of a run of combining marks: order[k] is the index in codePoints[0, count)
     * of the mark that goes k-th, a stable sort by canonical combining class (as the reference's
     * NFD does it: stable, O(n log n), so a long run of marks stays cheap).
     */
    static void canonicalOrder(int[] codePoints, int count, int[] order) {
        int[] ranks = CombiningClassRanks.RANKS;
        if (count <= 16) {
            for (int i = 0; i < count; i++) {
                int rank = rank(ranks, codePoints[i]);
                int k = i;
                while (k > 0 && rank(ranks, codePoints[order[k - 1]]) > rank) {
                    order[k] = order[k - 1];
                    k--;
                }
                order[k] = i;
            }
            return;
        }
        int[] counts = new int[CombiningClassRanks.COUNT + 1];
        for (int i = 0; i < count; i++) {
            counts[rank(ranks, codePoints[i]) + 1]++;
        }
        for (int r = 1; r < counts.length; r++) {
            counts[r] += counts[r - 1];
        }
        for (int i = 0; i < count; i++) {
            order[counts[rank(ranks, codePoints[i])]++] = i;
        }
    }

    private static int rank(int[] ranks, int codePoint) {
        int i = Arrays.binarySearch(ranks, 0, ranks.length / 2, codePoint);
        return ranks[ranks.length / 2 + i];
    }

    /**
     * Every combining mark's rank among the distinct canonical combining classes, computed on first
     * use. The JDK has no public accessor for the class, but its NFD reveals the order: a + b is
     * reordered exactly when class(a) > class(b) > 0. Sorting the marks with that comparison and
     * numbering the groups gives ranks that order like the classes (which never change between
     * Unicode versions, so they are the reference's too).
     */
    private static final class CombiningClassRanks {
        /** Code points (sorted) in the first half, their ranks in the second. */
        static final int[] RANKS;
        static final int COUNT;

        static {
            List<Integer> marks = new ArrayList<>();
            for (int r = 0; r < COMBINING_MARK_RANGES.length; r += 2) {
                for (int c = COMBINING_MARK_RANGES[r]; c <= COMBINING_MARK_RANGES[r + 1]; c++) {
                    marks.add(c);
                }
            }
            List<Integer> byClass = new ArrayList<>(marks);
            byClass.sort(CombiningClassRanks::compare);
            Map<Integer, Integer> rankOf = new HashMap<>();
            int rank = 0;
            for (int i = 0; i < byClass.size(); i++) {
                if (i > 0 && compare(byClass.get(i - 1), byClass.get(i)) != 0) {
                    rank++;
                }
                rankOf.put(byClass.get(i), rank);
            }
            COUNT = rank + 1;
            RANKS = new int[2 * marks.size()];
            for (int i = 0; i < marks.size(); i++) {
                RANKS[i] = marks.get(i);
                RANKS[marks.size() + i] = rankOf.get(marks.get(i));
            }
        }

        private static int compare(int a, int b) {
            if (isReordered(a, b)) {
                return 1;
            }
            return isReordered(b, a) ? -1 : 0;
        }

        private static boolean isReordered(int first, int second) {
            String pair = Character.toString(first) + Character.toString(second);
            return !Normalizer.normalize(pair, Normalizer.Form.NFD).equals(pair);
        }
    }

    private static boolean inRanges(int[] ranges, int c) {
        int lo = 0;
        int hi = ranges.length / 2 - 1;
        while (lo <= hi) {
            int mid = (lo + hi) >>> 1;
            if (c < ranges[2 * mid]) {
                hi = mid - 1;
            } else if (c > ranges[2 * mid + 1]) {
                lo = mid + 1;
            } else {
                return true;
            }
        }
        return false;
    }

    private static void mark(int[] ranges, int flag) {
        for (int r = 0; r < ranges.length; r += 2) {
            for (int c = ranges[r]; c <= Math.min(ranges[r + 1], 0xFFFF); c++) {
                BMP_FLAGS[c] |= (byte) flag;
            }
        }
    }

    private static int[][] readRanges() {
        int[][] ranges = {new int[64], new int[64], new int[64], new int[64]};
        int[] counts = new int[4];
        try (InputStream in = UnicodeClasses.class.getResourceAsStream(RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException("resource " + RESOURCE + ": expected beside "
                        + UnicodeClasses.class.getName() + ", found none (broken jembed-tokenizer jar)");
            }
            BufferedReader reader = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
            String line;
            while ((line = reader.readLine()) != null) {
                if (line.isBlank() || line.startsWith("#")) {
                    continue;
                }
                String[] fields = line.split("[ .]+");
                int k = switch (fields[0]) {
                    case "other" -> 0;
                    case "punctuation" -> 1;
                    case "nonspacing_mark" -> 2;
                    case "combining_mark" -> 3;
                    default -> throw new IllegalStateException("resource " + RESOURCE + ": expected a class name"
                            + " (other, punctuation, nonspacing_mark, combining_mark), found '" + fields[0] + "'");
                };
                if (counts[k] + 2 > ranges[k].length) {
                    ranges[k] = Arrays.copyOf(ranges[k], 2 * ranges[k].length);
                }
                ranges[k][counts[k]++] = Integer.parseInt(fields[1], 16);
                ranges[k][counts[k]++] = Integer.parseInt(fields[2], 16);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("resource " + RESOURCE + ": unreadable", e);
        }
        for (int k = 0; k < ranges.length; k++) {
            ranges[k] = Arrays.copyOf(ranges[k], counts[k]);
        }
        return ranges;
    }
}
