package io.jembed.tokenizer;

import java.util.Arrays;

/**
 * One tokenized text (or pair of texts): token ids with their type ids and offsets, special
 * tokens included, not padded (see {@link Batch}).
 *
 * <p>Offsets are UTF-16 char indices into the original string, so
 * {@code text.substring(offsetStart(i), offsetEnd(i))} is the text token i came from (for a pair,
 * the string of the token's type id). Special tokens have (0, 0). A token from part of an expanded
 * character (such as one of the jamo an NFD-decomposed Hangul syllable becomes) spans that whole
 * character.
 *
 * <p>Array accessors return copies; the indexed accessors do not allocate.
 */
public final class Encoding {

    private final int[] ids;
    private final int[] typeIds;
    private final int[] offsetStarts;
    private final int[] offsetEnds;
    private final Vocabulary vocabulary;
    private final boolean truncated;

    Encoding(int[] ids, int[] typeIds, int[] offsetStarts, int[] offsetEnds, Vocabulary vocabulary,
             boolean truncated) {
        this.ids = ids;
        this.typeIds = typeIds;
        this.offsetStarts = offsetStarts;
        this.offsetEnds = offsetEnds;
        this.vocabulary = vocabulary;
        this.truncated = truncated;
    }

    /** Whether tokens of the text were dropped to fit the max length it was encoded with. */
    public boolean truncated() {
        return truncated;
    }

    /** Number of tokens, special tokens included. */
    public int length() {
        return ids.length;
    }

    public int[] ids() {
        return ids.clone();
    }

    public int id(int index) {
        return ids[index];
    }

    /** Token strings, "##" continuation prefix included (the strings of {@link #ids()}). */
    public String[] tokens() {
        String[] tokens = new String[ids.length];
        for (int i = 0; i < ids.length; i++) {
            tokens[i] = vocabulary.token(ids[i]);
        }
        return tokens;
    }

    public String token(int index) {
        return vocabulary.token(ids[index]);
    }

    /** Segment ids: 0 for the first text and its special tokens, 1 for the second of a pair. */
    public int[] typeIds() {
        return typeIds.clone();
    }

    public int typeId(int index) {
        return typeIds[index];
    }

    /** All ones: an unpadded encoding attends to every token. */
    public int[] attentionMask() {
        int[] mask = new int[ids.length];
        Arrays.fill(mask, 1);
        return mask;
    }

    /** Start of each token in its original string, in UTF-16 chars. */
    public int[] offsetStarts() {
        return offsetStarts.clone();
    }

    /** End (exclusive) of each token in its original string, in UTF-16 chars. */
    public int[] offsetEnds() {
        return offsetEnds.clone();
    }

    public int offsetStart(int index) {
        return offsetStarts[index];
    }

    public int offsetEnd(int index) {
        return offsetEnds[index];
    }

    @Override
    public String toString() {
        StringBuilder text = new StringBuilder("Encoding[");
        for (int i = 0; i < ids.length; i++) {
            text.append(i == 0 ? "" : " ").append(token(i)).append('/').append(ids[i])
                    .append('(').append(offsetStarts[i]).append(',').append(offsetEnds[i]).append(')');
        }
        return text.append(']').toString();
    }
}
