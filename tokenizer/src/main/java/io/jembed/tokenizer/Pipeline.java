package io.jembed.tokenizer;

/**
 * Runs one text through the stages (added tokens, normalizer, pre-tokenizer, WordPiece) into a
 * token list, streaming: no normalized copy of the text is made, each word is handed to WordPiece
 * as soon as it ends, and the run stops as soon as the list reaches its limit. Holds the scratch
 * buffers, so each thread uses its own.
 */
final class Pipeline implements BertPreTokenizer.WordSink {

    private final AddedTokens addedTokens;
    private final BertNormalizer normalizer;
    private final WordPiece model;
    private final BertNormalizer.MarkRun marks = new BertNormalizer.MarkRun();
    private final BertPreTokenizer preTokenizer;
    private final TokenList first = new TokenList();
    private final TokenList second = new TokenList();
    private TokenList out;

    Pipeline(AddedTokens addedTokens, BertNormalizer normalizer, WordPiece model, int maxInputCharsPerWord) {
        this.addedTokens = addedTokens;
        this.normalizer = normalizer;
        this.model = model;
        this.preTokenizer = new BertPreTokenizer(new Word(maxInputCharsPerWord), this);
    }

    /** Tokenizes into this pipeline's first list (reused by the next call). */
    TokenList first(String text, int limit) {
        return run(text, limit, first);
    }

    /** Tokenizes into this pipeline's second list, for the second text of a pair. */
    TokenList second(String text, int limit) {
        return run(text, limit, second);
    }

    private TokenList run(String text, int limit, TokenList tokens) {
        tokens.reset(limit);
        out = tokens;
        preTokenizer.reset();
        marks.trim();
        if (limit == 0) {
            return tokens;
        }
        int length = text.length();
        if (addedTokens.isEmpty()) {
            segment(text, 0, length);
            return tokens;
        }
        int from = 0;
        while (from < length) {
            int match = addedTokens.find(text, from, length);
            if (!segment(text, from, match) || match == length) {
                break;
            }
            AddedTokens.AddedToken token = addedTokens.longestAt(text, match, length);
            int end = match + token.content().length();
            tokens.add(token.id(), match, end);
            if (tokens.isFull()) {
                break;
            }
            from = end;
        }
        return tokens;
    }

    /** @return false once the list is full */
    private boolean segment(String text, int from, int to) {
        return from == to || normalizer.normalize(text, from, to, preTokenizer, marks) && preTokenizer.finish();
    }

    @Override
    public boolean accept(Word word) {
        return model.tokenize(word, out);
    }
}
