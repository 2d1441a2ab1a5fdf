package io.jembed.tokenizer;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.OptionalInt;
import java.util.stream.IntStream;

/**
 * A BERT WordPiece tokenizer that produces the same ids and offsets as Hugging Face tokenizers:
 * added (special) tokens matched in the raw text, then {@link BertNormalizer}, BertPreTokenizer,
 * WordPiece, and the template post-processor with truncation before special tokens are added.
 *
 * <p>Offsets are UTF-16 char indices into the original string (what {@link String#substring}
 * takes); special tokens have (0, 0). Unpaired surrogates are read as U+FFFD, which is what the
 * reference sees for them: clean_text drops them, so the text around one joins up as if it were
 * not there. {@code null} text is a caller error ({@link IllegalArgumentException}); empty or
 * whitespace-only text gives just the special tokens.
 *
 * <p>Thread-safe: each thread gets its own scratch buffers. {@link #encodeBatch} tokenizes in
 * parallel on the common fork-join pool.
 */
public final class WordPieceTokenizer {

    private static final TemplateProcessing NO_SPECIAL_TOKENS = TemplateProcessing.none();

    private final Vocabulary vocabulary;
    private final AddedTokens addedTokens;
    private final BertNormalizer normalizer;
    private final WordPiece model;
    private final int maxInputCharsPerWord;
    private final TemplateProcessing postProcessor;
    private final WordPieceDecoder decoder;
    private final boolean[] special;
    private final int padId;
    private final int padTypeId;
    private final OptionalInt configuredMaxLength;
    private final ThreadLocal<Pipeline> pipelines;

    WordPieceTokenizer(Vocabulary vocabulary, AddedTokens addedTokens, BertNormalizer normalizer, WordPiece model,
            int maxInputCharsPerWord, TemplateProcessing postProcessor, WordPieceDecoder decoder, int padId,
            int padTypeId, OptionalInt configuredMaxLength) {
        this.vocabulary = vocabulary;
        this.addedTokens = addedTokens;
        this.normalizer = normalizer;
        this.model = model;
        this.maxInputCharsPerWord = maxInputCharsPerWord;
        this.postProcessor = postProcessor;
        this.decoder = decoder;
        this.padId = padId;
        this.padTypeId = padTypeId;
        this.configuredMaxLength = configuredMaxLength;
        this.special = new boolean[vocabulary.size()];
        for (AddedTokens.AddedToken token : addedTokens.tokens()) {
            special[token.id()] = token.special();
        }
        this.pipelines = ThreadLocal.withInitial(
                () -> new Pipeline(this.addedTokens, this.normalizer, this.model, this.maxInputCharsPerWord));
    }

    /**
     * Loads a Hugging Face tokenizer.json with a BertNormalizer (or none), BertPreTokenizer,
     * WordPiece model, TemplateProcessing or BertProcessing (or no) post-processor and WordPiece
     * (or no) decoder. Any other component type is rejected, naming it.
     */
    public static WordPieceTokenizer fromTokenizerJson(Path file) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            return fromTokenizerJson(in, file.toString());
        }
    }

    /** As {@link #fromTokenizerJson(Path)}, from a stream; source names it in error messages. */
    public static WordPieceTokenizer fromTokenizerJson(InputStream in, String source) throws IOException {
        return TokenizerJson.read(in, source);
    }

    /**
     * Loads a plain vocab.txt (one token per line, the line number is the id) as BERT's
     * tokenizer: clean_text, CJK spacing, accents stripped and lowercase when doLowerCase, "##"
     * continuation, 100 chars per word, [CLS] A [SEP] with [PAD], [UNK], [CLS], [SEP], [MASK]
     * (those present) matched as special tokens.
     */
    public static WordPieceTokenizer fromVocabTxt(Path file, boolean doLowerCase) throws IOException {
        return TokenizerJson.readVocabTxt(file, doLowerCase);
    }

    /**
     * Loads dir/tokenizer.json, or else dir/vocab.txt with do_lower_case from
     * dir/tokenizer_config.json (true when absent, as for BERT).
     */
    public static WordPieceTokenizer fromModelDir(Path dir) throws IOException {
        Path json = dir.resolve("tokenizer.json");
        if (Files.isRegularFile(json)) {
            return fromTokenizerJson(json);
        }
        Path vocab = dir.resolve("vocab.txt");
        if (Files.isRegularFile(vocab)) {
            return fromVocabTxt(vocab, TokenizerJson.readDoLowerCase(dir.resolve("tokenizer_config.json")));
        }
        throw new NoSuchFileException(json.toString(), null, "expected tokenizer.json or vocab.txt in " + dir);
    }

    /** Tokenizes text without truncation: [CLS] tokens [SEP]. */
    public Encoding encode(String text) {
        return encode(text, Integer.MAX_VALUE);
    }

    /**
     * Tokenizes text and keeps the first maxLength - 2 tokens before adding [CLS] and [SEP], so
     * the result has at most maxLength tokens. Stops reading the text once enough tokens are found.
     *
     * @throws IllegalArgumentException if text is null or maxLength is below the special token count
     */
    public Encoding encode(String text, int maxLength) {
        return encode(text, maxLength, TruncationDirection.RIGHT);
    }

    /**
     * Tokenizes text and, when it has more than maxLength - 2 tokens, keeps the first (RIGHT) or
     * the last (LEFT) maxLength - 2 before adding [CLS] and [SEP]; {@link Encoding#truncated()}
     * tells whether any were dropped. RIGHT reads the text only up to one token past the limit,
     * enough to know it was cut; LEFT has to read all of it.
     *
     * @throws IllegalArgumentException if text is null or maxLength is below the special token count
     */
    public Encoding encode(String text, int maxLength, TruncationDirection direction) {
        requireText(text, "text");
        if (direction == null) {
            throw new IllegalArgumentException("truncation direction: expected RIGHT or LEFT, found null");
        }
        int added = postProcessor.addedTokens(false);
        requireMaxLength(maxLength, added);
        int limit = maxLength - added;
        int read = direction == TruncationDirection.LEFT || limit == Integer.MAX_VALUE ? Integer.MAX_VALUE : limit + 1;
        TokenList tokens = pipelines.get().first(text, read);
        int keep = Math.min(tokens.size, limit);
        int from = direction == TruncationDirection.LEFT ? tokens.size - keep : 0;
        return postProcessor.apply(tokens, from, keep, null, 0, vocabulary, keep < tokens.size);
    }

    /**
     * The text's tokens alone, without the special tokens the post-processor adds (HF's
     * {@code add_special_tokens=False}), no truncation; special tokens written in the text stay.
     */
    public Encoding encodeWithoutSpecialTokens(String text) {
        requireText(text, "text");
        TokenList tokens = pipelines.get().first(text, Integer.MAX_VALUE);
        return NO_SPECIAL_TOKENS.apply(tokens, 0, tokens.size, null, 0, vocabulary, false);
    }

    /**
     * An encoding of token ids given as they are (no special tokens added: the ids are what the
     * encoder sees), cut to maxLength from the given side; offsets are 0 as there is no text.
     *
     * @throws IllegalArgumentException if ids is empty or an id is not in the vocabulary
     */
    public Encoding encodeIds(int[] ids, int maxLength, TruncationDirection direction) {
        if (ids == null || ids.length == 0) {
            throw new IllegalArgumentException("token ids: expected at least one, found none");
        }
        if (maxLength < 1) {
            throw new IllegalArgumentException("max length: expected >= 1, found " + maxLength);
        }
        for (int i = 0; i < ids.length; i++) {
            if (ids[i] < 0 || ids[i] >= vocabulary.size()) {
                throw new IllegalArgumentException("token id " + i + ": expected 0 to " + (vocabulary.size() - 1)
                        + " (the vocabulary), found " + ids[i]);
            }
        }
        int keep = Math.min(ids.length, maxLength);
        int from = direction == TruncationDirection.LEFT ? ids.length - keep : 0;
        TokenList tokens = new TokenList();
        tokens.reset(Integer.MAX_VALUE);
        for (int i = from; i < from + keep; i++) {
            tokens.add(ids[i], 0, 0);
        }
        return NO_SPECIAL_TOKENS.apply(tokens, 0, keep, null, 0, vocabulary, keep < ids.length);
    }

    /** Tokenizes a pair without truncation: [CLS] first [SEP] second [SEP], type ids 0 then 1. */
    public Encoding encodePair(String first, String second) {
        return encodePair(first, second, Integer.MAX_VALUE);
    }

    /**
     * Tokenizes a pair and truncates it longest-first to maxLength tokens, special tokens
     * included (see {@link TemplateProcessing#longestFirst}). Offsets of the second text's tokens
     * index into the second text.
     */
    public Encoding encodePair(String first, String second, int maxLength) {
        requireText(first, "first");
        requireText(second, "second");
        int added = postProcessor.addedTokens(true);
        requireMaxLength(maxLength, added);
        Pipeline pipeline = pipelines.get();
        // Whole sequences: which one is longer decides who keeps the odd token, so no early stop.
        TokenList a = pipeline.first(first, Integer.MAX_VALUE);
        TokenList b = pipeline.second(second, Integer.MAX_VALUE);
        int[] keep = TemplateProcessing.longestFirst(a.size, b.size, maxLength - added);
        return postProcessor.apply(a, 0, keep[0], b, keep[1], vocabulary, keep[0] < a.size || keep[1] < b.size);
    }

    /** {@link #encode(String)} of each text, in parallel; results in input order. */
    public List<Encoding> encodeBatch(List<String> texts) {
        return encodeBatch(texts, Integer.MAX_VALUE);
    }

    /** {@link #encode(String, int)} of each text, in parallel; results in input order. */
    public List<Encoding> encodeBatch(List<String> texts, int maxLength) {
        if (texts == null) {
            throw new IllegalArgumentException("texts: expected a list of strings, found null");
        }
        for (int i = 0; i < texts.size(); i++) {
            requireText(texts.get(i), "texts[" + i + "]");
        }
        requireMaxLength(maxLength, postProcessor.addedTokens(false));
        if (texts.size() < 2) {
            return texts.stream().map(text -> encode(text, maxLength)).toList();
        }
        return IntStream.range(0, texts.size()).parallel().mapToObj(i -> encode(texts.get(i), maxLength)).toList();
    }

    /** Pads the encodings on the right to the longest one. */
    public Batch pad(List<Encoding> encodings) {
        if (encodings == null) {
            throw new IllegalArgumentException("encodings: expected a list, found null");
        }
        int longest = 0;
        for (Encoding encoding : encodings) {
            longest = Math.max(longest, encoding.length());
        }
        return new Batch(encodings, longest, padId, padTypeId);
    }

    /**
     * Pads the encodings on the right to a fixed length.
     *
     * @throws IllegalArgumentException if an encoding is longer (truncate it first)
     */
    public Batch pad(List<Encoding> encodings, int length) {
        if (encodings == null) {
            throw new IllegalArgumentException("encodings: expected a list, found null");
        }
        for (int i = 0; i < encodings.size(); i++) {
            if (encodings.get(i).length() > length) {
                throw new IllegalArgumentException("encodings[" + i + "]: expected at most " + length
                        + " tokens (the padding length), found " + encodings.get(i).length()
                        + "; truncate with encode(text, " + length + ")");
            }
        }
        return new Batch(encodings, length, padId, padTypeId);
    }

    /** The text of token ids, special tokens skipped (the reference's default). */
    public String decode(int[] ids) {
        return decode(ids, true);
    }

    /**
     * The text of token ids, joined by the WordPiece decoder: "##" pieces glued to the previous
     * token, others after a space, then the cleanup of spaces before punctuation and
     * contractions. Not the inverse of encode: case, accents and spacing are lost.
     *
     * @throws IllegalArgumentException for an id without a token
     */
    public String decode(int[] ids, boolean skipSpecialTokens) {
        if (ids == null) {
            throw new IllegalArgumentException("ids: expected an array of token ids, found null");
        }
        List<String> tokens = new ArrayList<>(ids.length);
        for (int i = 0; i < ids.length; i++) {
            String token = vocabulary.token(ids[i]);
            if (token == null) {
                throw new IllegalArgumentException("ids[" + i + "]: expected a token id in [0, " + vocabulary.size()
                        + "), found " + ids[i]);
            }
            if (!(skipSpecialTokens && special[ids[i]])) {
                tokens.add(token);
            }
        }
        return decoder.decode(tokens);
    }

    /** One more than the highest token id (30522 for BERT base uncased). */
    public int vocabSize() {
        return vocabulary.size();
    }

    /** The id of a token ("[CLS]", "##ing"), or -1 if it is not in the vocabulary. */
    public int tokenId(String token) {
        return vocabulary.id(token);
    }

    /**
     * The token of an id.
     *
     * @throws IllegalArgumentException for an id without a token
     */
    public String token(int id) {
        String token = vocabulary.token(id);
        if (token == null) {
            throw new IllegalArgumentException("id: expected a token id in [0, " + vocabulary.size() + "), found " + id);
        }
        return token;
    }

    /** Whether an id is a special token (skipped by {@link #decode(int[])}). */
    public boolean isSpecial(int id) {
        return id >= 0 && id < special.length && special[id];
    }

    /**
     * truncation.max_length of tokenizer.json, if it sets one. Not applied by itself: callers pass
     * the model's length (sentence-transformers' max_seq_length, 256 for all-MiniLM-L6-v2, where
     * tokenizer.json says 128) to {@link #encode(String, int)}.
     */
    public OptionalInt configuredMaxLength() {
        return configuredMaxLength;
    }

    /** The id used for padding ([PAD], 0 for BERT). */
    public int padId() {
        return padId;
    }

    public BertNormalizer normalizer() {
        return normalizer;
    }

    /** Words longer than this many code points become one unknown token. */
    public int maxInputCharsPerWord() {
        return maxInputCharsPerWord;
    }

    private static void requireText(String text, String name) {
        if (text == null) {
            throw new IllegalArgumentException(name + ": expected a string, found null");
        }
    }

    private static void requireMaxLength(int maxLength, int added) {
        if (maxLength < added) {
            throw new IllegalArgumentException("maxLength: expected at least " + added
                    + " (room for the special tokens), found " + maxLength);
        }
    }

    @Override
    public String toString() {
        return "WordPieceTokenizer[vocab=" + vocabulary.size() + ", " + normalizer + ", special="
                + Arrays.toString(addedTokens.tokens().stream().map(AddedTokens.AddedToken::content).toArray()) + "]";
    }
}
