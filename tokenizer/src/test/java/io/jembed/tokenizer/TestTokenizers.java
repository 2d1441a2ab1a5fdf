package io.jembed.tokenizer;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.List;

/** A small BERT vocabulary, as vocab.txt and tokenizer.json, for tests without a model. */
final class TestTokenizers {

    /** Line k is the token with id k. */
    static final List<String> VOCAB = List.of(
            "[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]",
            "hello", "world", ",", "!", ".", "'", "?", "[", "]",
            "un", "##aff", "##able", "a", "b", "c", "##a", "##b", "##c",
            "the", "quick", "brown", "fox", "cafe", "naive", "σ", "##α", "##σ", "i", "play", "##ing",
            "中", "文", "5", "€", "5€", "x", "##x", "don", "t", "s", "it", "##s", "«", "»", "😀", "##😀");

    private TestTokenizers() {
    }

    static int id(String token) {
        int id = VOCAB.indexOf(token);
        if (id < 0) {
            throw new IllegalArgumentException("test vocabulary has no " + token);
        }
        return id;
    }

    /** tokenizer.json text with the given normalizer, pre_tokenizer and model type fields. */
    static String tokenizerJson(String normalizer, String preTokenizer, String modelType, String extra) {
        StringBuilder vocab = new StringBuilder();
        for (int i = 0; i < VOCAB.size(); i++) {
            vocab.append(i == 0 ? "" : ",").append('"').append(VOCAB.get(i).replace("\\", "\\\\")).append("\":").append(i);
        }
        StringBuilder added = new StringBuilder();
        for (int i = 0; i < 5; i++) {
            added.append(i == 0 ? "" : ",").append("{\"id\":").append(i).append(",\"content\":\"").append(VOCAB.get(i))
                    .append("\",\"single_word\":false,\"lstrip\":false,\"rstrip\":false,\"normalized\":false,\"special\":true}");
        }
        return """
                {"version":"1.0","truncation":{"direction":"Right","max_length":128,"strategy":"LongestFirst","stride":0},
                 "padding":null,
                 "added_tokens":[%s],
                 "normalizer":%s,
                 "pre_tokenizer":%s,
                 "post_processor":{"type":"TemplateProcessing",
                   "single":[{"SpecialToken":{"id":"[CLS]","type_id":0}},{"Sequence":{"id":"A","type_id":0}},{"SpecialToken":{"id":"[SEP]","type_id":0}}],
                   "pair":[{"SpecialToken":{"id":"[CLS]","type_id":0}},{"Sequence":{"id":"A","type_id":0}},{"SpecialToken":{"id":"[SEP]","type_id":0}},{"Sequence":{"id":"B","type_id":1}},{"SpecialToken":{"id":"[SEP]","type_id":1}}],
                   "special_tokens":{"[CLS]":{"id":"[CLS]","ids":[2],"tokens":["[CLS]"]},"[SEP]":{"id":"[SEP]","ids":[3],"tokens":["[SEP]"]}}},
                 "decoder":{"type":"WordPiece","prefix":"##","cleanup":true},
                 "model":{"type":"%s","unk_token":"[UNK]","continuing_subword_prefix":"##","max_input_chars_per_word":100,
                   "vocab":{%s}}%s}
                """.formatted(added, normalizer, preTokenizer, modelType, vocab, extra);
    }

    static String bertJson() {
        return tokenizerJson(
                "{\"type\":\"BertNormalizer\",\"clean_text\":true,\"handle_chinese_chars\":true,\"strip_accents\":null,\"lowercase\":true}",
                "{\"type\":\"BertPreTokenizer\"}", "WordPiece", "");
    }

    static WordPieceTokenizer load(String json) throws IOException {
        return WordPieceTokenizer.fromTokenizerJson(new ByteArrayInputStream(json.getBytes(StandardCharsets.UTF_8)),
                "test tokenizer.json");
    }

    /** The uncased BERT tokenizer over {@link #VOCAB}. */
    static WordPieceTokenizer bert() {
        try {
            return load(bertJson());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
