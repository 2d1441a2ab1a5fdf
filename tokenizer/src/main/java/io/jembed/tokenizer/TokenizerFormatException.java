package io.jembed.tokenizer;

import java.io.IOException;

/**
 * A tokenizer file (tokenizer.json, vocab.txt, tokenizer_config.json) that is malformed, or that
 * asks for a component or option this tokenizer does not implement.
 *
 * <p>It is an {@link IOException} because a bad file is an input problem the caller reports to the
 * user, like a missing file. The message follows the project template: what failed, which field,
 * expected, found, and the file, for example
 * {@code normalizer.type: expected BertNormalizer, found "Sequence" in /models/x/tokenizer.json}.
 */
public final class TokenizerFormatException extends IOException {

    private static final long serialVersionUID = 1L;

    private final String field;
    private final String source;

    /**
     * @param field  the JSON path or item concerned, e.g. "model.vocab" or "special token [CLS]"
     * @param source the file (or source name) as shown in messages
     * @param detail "expected ..., found ..." for this failure
     */
    public TokenizerFormatException(String field, String source, String detail) {
        super(field + ": " + detail + " in " + source);
        this.field = field;
        this.source = source;
    }

    /** The JSON path or item concerned. */
    public String field() {
        return field;
    }

    /** The file (or source name) the failure was found in. */
    public String source() {
        return source;
    }
}
