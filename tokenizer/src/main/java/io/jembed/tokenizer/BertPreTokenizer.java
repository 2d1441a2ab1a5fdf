package io.jembed.tokenizer;

import java.util.ArrayList;
import java.util.List;

/**
 * Hugging Face's BertPreTokenizer ({@code pre_tokenizers/bert.rs}) over normalized code points:
 * white space (Rust's {@code char::is_whitespace}) ends a word and is dropped; every punctuation
 * code point (ASCII 33-47, 58-64, 91-96, 123-126, and the reference's P* table, Pi and Pf included)
 * is a word of its own. Everything else, symbols such as € or emoji included, stays in the word.
 */
final class BertPreTokenizer implements BertNormalizer.Sink {

    /** The next stage: receives each complete word. */
    interface WordSink {
        /** @return false once no more words are needed */
        boolean accept(Word word);
    }

    private static final byte LETTER = 0;
    private static final byte SPACE = 1;
    private static final byte PUNCTUATION = 2;
    private static final byte[] ASCII = new byte[0x80];

    static {
        for (int c = 0; c < 0x80; c++) {
            ASCII[c] = classify(c);
        }
    }

    private final Word word;
    private final WordSink next;

    BertPreTokenizer(Word word, WordSink next) {
        this.word = word;
        this.next = next;
    }

    @Override
    public boolean accept(int codePoint, int start, int end) {
        byte kind = codePoint < 0x80 ? ASCII[codePoint] : classify(codePoint);
        if (kind == LETTER) {
            word.append(codePoint, start, end);
            return true;
        }
        if (!finish()) {
            return false;
        }
        if (kind == SPACE) {
            return true;
        }
        word.append(codePoint, start, end);
        return finish();
    }

    /** Ends the current word, if any (at the end of a text segment). */
    boolean finish() {
        if (word.isEmpty()) {
            return true;
        }
        boolean more = next.accept(word);
        word.clear();
        return more;
    }

    /** Forgets a word left over from a run that stopped early. */
    void reset() {
        word.clear();
    }

    /** The pre-tokens of an already normalized text; for inspection and tests. */
    static List<String> split(String normalized) {
        List<String> words = new ArrayList<>();
        BertPreTokenizer splitter = new BertPreTokenizer(new Word(Integer.MAX_VALUE), w -> words.add(w.toString()));
        normalized.codePoints().forEach(c -> splitter.accept(c, 0, 0));
        splitter.finish();
        return words;
    }

    private static byte classify(int codePoint) {
        int flags = UnicodeClasses.flags(codePoint);
        if ((flags & UnicodeClasses.WHITESPACE) != 0) {
            return SPACE;
        }
        return (flags & UnicodeClasses.PUNCTUATION) != 0 ? PUNCTUATION : LETTER;
    }
}
