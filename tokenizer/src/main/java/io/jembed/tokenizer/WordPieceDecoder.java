package io.jembed.tokenizer;

import java.util.List;

/**
 * The reference's WordPiece decoder ({@code decoders/wordpiece.rs}): every token but the first
 * loses its "##" prefix or gains a leading space, then (with {@code cleanup}) each token has the
 * spaces before punctuation and English contractions removed, as BERT's original detokenizer did.
 * Without a decoder in tokenizer.json, tokens are joined with spaces.
 */
final class WordPieceDecoder {

    /** The cleanup rewrites, applied in this order to each token. */
    private static final String[][] CLEANUP = {
        {" .", "."}, {" ?", "?"}, {" !", "!"}, {" ,", ","}, {" ' ", "'"}, {" n't", "n't"}, {" 'm", "'m"},
        {" do not", " don't"}, {" 's", "'s"}, {" 've", "'ve"}, {" 're", "'re"},
    };

    private final String prefix;
    private final boolean cleanup;
    private final boolean joinWithSpaces;

    private WordPieceDecoder(String prefix, boolean cleanup, boolean joinWithSpaces) {
        this.prefix = prefix;
        this.cleanup = cleanup;
        this.joinWithSpaces = joinWithSpaces;
    }

    static WordPieceDecoder wordPiece(String prefix, boolean cleanup) {
        return new WordPieceDecoder(prefix, cleanup, false);
    }

    /** tokenizer.json without a decoder. */
    static WordPieceDecoder joinWithSpaces() {
        return new WordPieceDecoder("", false, true);
    }

    String decode(List<String> tokens) {
        if (joinWithSpaces) {
            return String.join(" ", tokens);
        }
        StringBuilder text = new StringBuilder();
        for (int i = 0; i < tokens.size(); i++) {
            String token = tokens.get(i);
            if (i != 0) {
                token = token.startsWith(prefix) ? token.substring(prefix.length()) : " " + token;
            }
            if (cleanup) {
                for (String[] rewrite : CLEANUP) {
                    token = token.replace(rewrite[0], rewrite[1]);
                }
            }
            text.append(token);
        }
        return text.toString();
    }
}
