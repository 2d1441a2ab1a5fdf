package io.jembed.tokenizer;

import static io.jembed.tokenizer.TestTokenizers.id;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TokenizerLoadingTest {

    private static final String BERT_NORMALIZER =
            "{\"type\":\"BertNormalizer\",\"clean_text\":true,\"handle_chinese_chars\":true,\"strip_accents\":null,\"lowercase\":true}";
    private static final String BERT_PRE_TOKENIZER = "{\"type\":\"BertPreTokenizer\"}";

    @TempDir
    Path dir;

    @Test
    void unsupportedComponentTypesAreRejectedByName() {
        assertRejected(TestTokenizers.tokenizerJson("{\"type\":\"Sequence\",\"normalizers\":[]}", BERT_PRE_TOKENIZER,
                "WordPiece", ""), "normalizer.type", "\"Sequence\"");
        assertRejected(TestTokenizers.tokenizerJson(BERT_NORMALIZER, "{\"type\":\"Whitespace\"}", "WordPiece", ""),
                "pre_tokenizer.type", "\"Whitespace\"");
        assertRejected(TestTokenizers.tokenizerJson(BERT_NORMALIZER, BERT_PRE_TOKENIZER, "BPE", ""), "model.type",
                "\"BPE\"");
        assertRejected(TestTokenizers.bertJson().replace("\"type\":\"TemplateProcessing\"", "\"type\":\"RobertaProcessing\""),
                "post_processor.type", "\"RobertaProcessing\"");
        assertRejected(TestTokenizers.bertJson().replace("{\"type\":\"WordPiece\",\"prefix\"", "{\"type\":\"Metaspace\",\"prefix\""),
                "decoder.type", "\"Metaspace\"");
    }

    @Test
    void missingSpecialTokensAreRejectedByName() {
        assertRejected(TestTokenizers.bertJson().replace("\"unk_token\":\"[UNK]\"", "\"unk_token\":\"[NOPE]\""),
                "model.unk_token", "[NOPE]");
        assertRejected(TestTokenizers.bertJson().replace("\"tokens\":[\"[CLS]\"]", "\"tokens\":[\"[BOS]\"]"),
                "post_processor.special_tokens[\"[CLS]\"]", "[BOS]");
        assertRejected(TestTokenizers.bertJson().replace("\"ids\":[3]", "\"ids\":[7]"),
                "post_processor.special_tokens[\"[SEP]\"]", "found 7");
    }

    @Test
    void unsupportedOptionsAreRejected() {
        assertRejected(TestTokenizers.bertJson().replace("\"direction\":\"Right\"", "\"direction\":\"Left\""),
                "truncation.direction", "\"Left\"");
        assertRejected(TestTokenizers.bertJson().replace("\"lstrip\":false", "\"lstrip\":true"), "added_tokens[0].lstrip",
                "[PAD]");
        assertRejected(TestTokenizers.bertJson().replace("\"hello\":5", "\"hello\":6"), "model.vocab", "id 6");
        assertRejected("[1, 2]", "tokenizer.json", "expected an object");
        assertRejected("{\"model\": ", "tokenizer.json", "expected JSON");
    }

    @Test
    void aMissingNormalizerMeansNoNormalization() throws IOException {
        WordPieceTokenizer raw = TestTokenizers.load(TestTokenizers.tokenizerJson("null", BERT_PRE_TOKENIZER, "WordPiece", ""));
        assertEquals(new BertNormalizer(false, false, false, false), raw.normalizer());
        assertArrayEquals(new int[] {id("[CLS]"), id("[UNK]"), id("hello"), id("[SEP]")}, raw.encode("Hello hello").ids());
    }

    @Test
    void vocabTxtLoadsAsBertWithTheSameIdsAsTokenizerJson() throws IOException {
        Path vocab = writeVocab(TestTokenizers.VOCAB);
        WordPieceTokenizer fromTxt = WordPieceTokenizer.fromVocabTxt(vocab, true);
        WordPieceTokenizer fromJson = TestTokenizers.bert();
        for (String text : List.of("Hello, world! unaffable", "CAFÉ [MASK] 中文", "", "a\u00A0b")) {
            Encoding a = fromTxt.encode(text);
            Encoding b = fromJson.encode(text);
            assertArrayEquals(b.ids(), a.ids(), text);
            assertArrayEquals(b.offsetStarts(), a.offsetStarts(), text);
            assertArrayEquals(b.offsetEnds(), a.offsetEnds(), text);
        }
        assertEquals("hello, world!", fromTxt.decode(fromTxt.encode("Hello, world!").ids()));
    }

    @Test
    void vocabTxtWithoutClsIsRejectedByName() throws IOException {
        List<String> tokens = new ArrayList<>(TestTokenizers.VOCAB);
        tokens.set(id("[CLS]"), "[BOS]");
        TokenizerFormatException e = assertThrows(TokenizerFormatException.class,
                () -> WordPieceTokenizer.fromVocabTxt(writeVocab(tokens), true));
        assertTrue(e.getMessage().contains("[CLS]"), e.getMessage());
    }

    @Test
    void modelDirPrefersTokenizerJsonAndElseReadsDoLowerCase() throws IOException {
        writeVocab(TestTokenizers.VOCAB);
        Files.writeString(dir.resolve("tokenizer_config.json"), "{\"do_lower_case\": false}");
        WordPieceTokenizer cased = WordPieceTokenizer.fromModelDir(dir);
        assertArrayEquals(new int[] {id("[CLS]"), id("[UNK]"), id("[SEP]")}, cased.encode("Hello").ids());
        Files.writeString(dir.resolve("tokenizer.json"), TestTokenizers.bertJson());
        WordPieceTokenizer uncased = WordPieceTokenizer.fromModelDir(dir);
        assertArrayEquals(new int[] {id("[CLS]"), id("hello"), id("[SEP]")}, uncased.encode("Hello").ids());
        assertThrows(NoSuchFileException.class, () -> WordPieceTokenizer.fromModelDir(dir.resolve("missing")));
    }

    private Path writeVocab(List<String> tokens) throws IOException {
        Path vocab = dir.resolve("vocab.txt");
        Files.write(vocab, tokens, StandardCharsets.UTF_8);
        return vocab;
    }

    private static void assertRejected(String json, String field, String mentioned) {
        TokenizerFormatException e = assertThrows(TokenizerFormatException.class, () -> TestTokenizers.load(json));
        assertEquals(field, e.field(), e.getMessage());
        assertTrue(e.getMessage().contains(mentioned), e.getMessage());
        assertTrue(e.getMessage().endsWith("in test tokenizer.json"), e.getMessage());
    }
}
