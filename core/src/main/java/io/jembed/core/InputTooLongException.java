package io.jembed.core;

/**
 * A text longer than the model's max length in a request that refuses truncation
 * ({@link EmbedRequest#refuseTruncation()}).
 */
public final class InputTooLongException extends IllegalArgumentException {

    private final int index;
    private final int tokens;
    private final int maxLength;

    InputTooLongException(int index, int tokens, int maxLength) {
        super("text " + index + ": expected at most " + maxLength + " tokens (the max length, [CLS] and [SEP] "
                + "included), found " + tokens + "; shorten it or allow truncation");
        this.index = index;
        this.tokens = tokens;
        this.maxLength = maxLength;
    }

    /** Index of the first text too long, in request order. */
    public int index() {
        return index;
    }

    /** Its token count without truncation. */
    public int tokens() {
        return tokens;
    }

    public int maxLength() {
        return maxLength;
    }
}
