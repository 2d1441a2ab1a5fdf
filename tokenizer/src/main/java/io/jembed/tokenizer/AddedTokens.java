package io.jembed.tokenizer;

import java.util.List;

/**
 * Tokens matched in the raw text before normalization (tokenizer.json {@code added_tokens} with
 * {@code normalized: false}: [CLS], [SEP], [MASK], [PAD], [UNK] for BERT). As in the reference's
 * AddedVocabulary, the leftmost match wins and, among matches at one position, the longest; a
 * match becomes one token and splits the text into segments normalized separately.
 */
final class AddedTokens {

    /** One added token. */
    record AddedToken(int id, String content, boolean special) {
    }

    private final List<AddedToken> tokens;
    /** Whether some token starts with this char; one bit per BMP char. */
    private final long[] firstChars = new long[0x10000 / 64];

    AddedTokens(List<AddedToken> tokens) {
        this.tokens = List.copyOf(tokens);
        for (AddedToken token : tokens) {
            char c = token.content().charAt(0);
            firstChars[c >>> 6] |= 1L << c;
        }
    }

    List<AddedToken> tokens() {
        return tokens;
    }

    boolean isEmpty() {
        return tokens.isEmpty();
    }

    /** The first position in text[from, to) where a token matches, or to. */
    int find(CharSequence text, int from, int to) {
        for (int i = from; i < to; i++) {
            char c = text.charAt(i);
            if ((firstChars[c >>> 6] & (1L << c)) != 0 && longestAt(text, i, to) != null) {
                return i;
            }
        }
        return to;
    }

    /** The longest token matching text at i (within to), or null. */
    AddedToken longestAt(CharSequence text, int i, int to) {
        AddedToken best = null;
        for (AddedToken token : tokens) {
            String content = token.content();
            int length = content.length();
            if (i + length <= to && (best == null || length > best.content().length())
                    && regionMatches(text, i, content)) {
                best = token;
            }
        }
        return best;
    }

    private static boolean regionMatches(CharSequence text, int i, String content) {
        for (int k = 0; k < content.length(); k++) {
            if (text.charAt(i + k) != content.charAt(k)) {
                return false;
            }
        }
        return true;
    }
}
