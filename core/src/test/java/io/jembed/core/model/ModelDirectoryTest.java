package io.jembed.core.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.jembed.core.Embedder;
import io.jembed.core.pooling.PoolingMode;
import io.jembed.tokenizer.Encoding;

/**
 * {@link ModelDirectory}: one read of a model directory, each cross-file check with a message that
 * names the file and the field, prompts as sentence-transformers picks them, do_lower_case and
 * include_prompt honoured. On the tiny random BERT (vocab_size 50, hidden 32, 40 positions).
 */
class ModelDirectoryTest {

    /** A cased vocabulary: "Hello" and "hello" are different tokens, so lowercasing shows. */
    static final List<String> VOCAB = List.of("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "hello", "Hello", "world",
            "World", "query", "passage", ":", "the", "cat", "sat", "on", "mat", "a", "dog", "ran", "represent", "this");

    static TinyBert tiny;

    @BeforeAll
    static void model() {
        tiny = new TinyBert(7);
    }

    /** A complete directory: weights, config, cased vocab.txt, sentence-transformers files. */
    static Path write(Path dir) throws IOException {
        tiny.write(dir, "");
        Files.write(dir.resolve("vocab.txt"), VOCAB);
        Files.writeString(dir.resolve("tokenizer_config.json"), "{\"do_lower_case\": false}");
        Files.writeString(dir.resolve("modules.json"), """
                [{"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
                 {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
                 {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"}]""");
        Files.createDirectories(dir.resolve("1_Pooling"));
        writePooling(dir, 32, true);
        Files.writeString(dir.resolve("sentence_bert_config.json"), "{\"max_seq_length\": 24, \"do_lower_case\": false}");
        Files.writeString(dir.resolve("config_sentence_transformers.json"),
                "{\"prompts\": {\"query\": \"query : \", \"document\": \"passage : \"}, \"default_prompt_name\": null}");
        return dir;
    }

    static void writePooling(Path dir, int dimension, boolean includePrompt) throws IOException {
        Files.writeString(dir.resolve("1_Pooling/config.json"), """
                {"word_embedding_dimension": %d, "pooling_mode_cls_token": false, "pooling_mode_mean_tokens": true,
                 "include_prompt": %s}""".formatted(dimension, includePrompt));
    }

    private static ModelDirectoryException refused(Path dir) {
        return assertThrows(ModelDirectoryException.class, () -> ModelDirectory.read(dir));
    }

    @Test
    void readsEveryFileOnce(@TempDir Path dir) throws IOException {
        ModelDirectory model = ModelDirectory.read(write(dir));
        assertEquals(32, model.dimension());
        assertEquals(24, model.maxSeqLength());
        assertEquals(List.of(PoolingMode.MEAN), model.pooling().modes());
        assertTrue(model.pooling().normalize());
        assertFalse(model.doLowerCase());
        assertEquals(Map.of("query", "query : ", "document", "passage : "), model.prompts().prompts());
        assertEquals(dir.resolve("vocab.txt"), model.tokenizerFile());
        assertEquals(64, model.weightsSha256().length());
        assertEquals(ModelDirectory.sha256(dir.resolve("model.safetensors")), model.weightsSha256());
    }

    @Test
    void plainEncoderDirectoryReadsAsSentenceTransformersBuildsIt(@TempDir Path dir) throws IOException {
        tiny.write(dir, "");
        Files.write(dir.resolve("vocab.txt"), VOCAB);
        ModelDirectory model = ModelDirectory.read(dir);
        assertEquals(List.of(PoolingMode.MEAN), model.pooling().modes());
        assertFalse(model.pooling().normalize());
        assertEquals(TinyBert.CONFIG.maxPositionEmbeddings(), model.maxSeqLength());
        assertTrue(model.prompts().isEmpty());
    }

    @Test
    void poolingDimensionMustBeTheHiddenSize(@TempDir Path dir) throws IOException {
        write(dir);
        writePooling(dir, 48, true);
        ModelDirectoryException e = refused(dir);
        assertEquals(dir.resolve("1_Pooling/config.json"), e.file());
        assertEquals("word_embedding_dimension", e.field());
        assertTrue(e.getMessage().startsWith("word_embedding_dimension: expected 32 (hidden_size in config.json), "
                + "found 48 in "), e.getMessage());
        assertTrue(e.getMessage().endsWith("1_Pooling/config.json"), e.getMessage());
    }

    @Test
    void vocabularyMayNotExceedVocabSize(@TempDir Path dir) throws IOException {
        write(dir);
        List<String> big = new ArrayList<>(VOCAB);
        for (int i = 0; big.size() < 60; i++) {
            big.add("word" + i);
        }
        Files.write(dir.resolve("vocab.txt"), big);
        ModelDirectoryException e = refused(dir);
        assertEquals(dir.resolve("vocab.txt"), e.file());
        assertEquals("vocabulary", e.field());
        assertTrue(e.getMessage().contains("expected at most 50 tokens (vocab_size in config.json), found 60 in "),
                e.getMessage());
    }

    @Test
    void includePromptMustBeABoolean(@TempDir Path dir) throws IOException {
        write(dir);
        Files.writeString(dir.resolve("1_Pooling/config.json"),
                "{\"word_embedding_dimension\": 32, \"pooling_mode_mean_tokens\": true, \"include_prompt\": \"no\"}");
        IOException e = assertThrows(IOException.class, () -> ModelDirectory.read(dir));
        assertTrue(e.getMessage().contains("include_prompt: expected true or false, found \"no\""), e.getMessage());
        assertTrue(e.getMessage().contains("1_Pooling/config.json"), e.getMessage());
    }

    @Test
    void includePromptFalseLeavesThePromptTokensOutOfThePooling(@TempDir Path dir) throws IOException {
        write(dir);
        writePooling(dir, 32, false);
        ModelDirectory model = ModelDirectory.read(dir);
        assertFalse(model.pooling().includePrompt());
        Prompt query = model.prompts().queryPrompt();
        // "query : " alone is [CLS] query : [SEP]: three tokens before the text's own, [CLS] included.
        assertEquals(3, model.promptTokensExcluded(query));
        try (Embedder embedder = Embedder.builder(model).threads(1).build()) {
            String text = "the cat sat on the mat";
            float[] pooled = embedder.embed(text, query);
            float[][] tokens = embedder.embedTokens("query : " + text);
            float[] mean = new float[32];
            for (int t = 3; t < tokens.length; t++) {
                for (int j = 0; j < 32; j++) {
                    mean[j] += tokens[t][j];
                }
            }
            double norm = 0;
            for (int j = 0; j < 32; j++) {
                mean[j] /= tokens.length - 3;
                norm += (double) mean[j] * mean[j];
            }
            for (int j = 0; j < 32; j++) {
                mean[j] = (float) (mean[j] / Math.sqrt(norm));
            }
            assertArrayEquals(mean, pooled, 1e-6f);
            float[] included = Embedder.builder(ModelDirectory.read(write(dir))).threads(1).build().embed(text, query);
            assertFalse(java.util.Arrays.equals(included, pooled), "include_prompt made no difference");
        }
    }

    @Test
    void badPromptsAreRefusedNamingFileAndField(@TempDir Path dir) throws IOException {
        write(dir);
        Path file = dir.resolve("config_sentence_transformers.json");
        Files.writeString(file, "{\"prompts\": [\"query: \"]}");
        ModelDirectoryException array = refused(dir);
        assertEquals(file, array.file());
        assertEquals("prompts", array.field());
        assertTrue(array.getMessage().startsWith("prompts: expected an object of name: text, found array"),
                array.getMessage());

        Files.writeString(file, "{\"prompts\": {\"query\": 3}}");
        ModelDirectoryException number = refused(dir);
        assertEquals("prompts.query", number.field());
        assertTrue(number.getMessage().contains("expected a string, found 3 in " + file), number.getMessage());

        Files.writeString(file, "{\"prompts\": {\"query\": \"q: \"}, \"default_prompt_name\": \"passage\"}");
        ModelDirectoryException missingDefault = refused(dir);
        assertEquals("default_prompt_name", missingDefault.field());
        assertTrue(missingDefault.getMessage().contains("expected null or one of [query], found \"passage\""),
                missingDefault.getMessage());

        Files.writeString(file, "{\"prompts\": {\"query\": ");
        ModelDirectoryException syntax = refused(dir);
        assertEquals(file, syntax.file());
        assertTrue(syntax.getMessage().startsWith("expected well-formed JSON, found a syntax error"), syntax.getMessage());
    }

    @Test
    void missingTokenizerIsNamed(@TempDir Path dir) throws IOException {
        write(dir);
        Files.delete(dir.resolve("vocab.txt"));
        ModelDirectoryException e = refused(dir);
        assertEquals(dir, e.file());
        assertEquals("tokenizer", e.field());
        assertTrue(e.getMessage().startsWith("tokenizer: expected tokenizer.json or vocab.txt, found neither in "),
                e.getMessage());
    }

    @Test
    void maxSeqLengthMayNotExceedThePositions(@TempDir Path dir) throws IOException {
        write(dir);
        Files.writeString(dir.resolve("sentence_bert_config.json"), "{\"max_seq_length\": 512}");
        ModelDirectoryException e = refused(dir);
        assertEquals(dir.resolve("sentence_bert_config.json"), e.file());
        assertEquals("max_seq_length", e.field());
        assertTrue(e.getMessage().contains("expected at most 40 (max_position_embeddings in config.json), found 512"),
                e.getMessage());
        Files.writeString(dir.resolve("sentence_bert_config.json"), "{\"do_lower_case\": 1}");
        assertEquals("do_lower_case", refused(dir).field());
    }

    @Test
    void weightLayoutsJembedCannotReadAreRefusedWithWhatToDo(@TempDir Path dir) throws IOException {
        write(dir);
        Files.delete(dir.resolve("model.safetensors"));
        Files.writeString(dir.resolve("pytorch_model.bin"), "pickle");
        assertTrue(refused(dir).getMessage().contains("found pytorch_model.bin only"));
        Files.writeString(dir.resolve("model.safetensors.index.json"), "{}");
        assertTrue(refused(dir).getMessage().contains("found sharded safetensors (model.safetensors.index.json)"));
        Files.delete(dir.resolve("model.safetensors.index.json"));
        Files.delete(dir.resolve("pytorch_model.bin"));
        Files.createDirectories(dir.resolve("onnx"));
        Files.writeString(dir.resolve("onnx/model.onnx"), "graph");
        assertTrue(refused(dir).getMessage().contains("found only the ONNX export onnx/model.onnx; import it with "
                + "'jembed model import"));
        Files.delete(dir.resolve("onnx/model.onnx"));
        ModelDirectoryException none = refused(dir);
        assertEquals("model.safetensors", none.field());
    }

    @Test
    void bertPrefixedCheckpointLoadsAsIs(@TempDir Path dir) throws IOException {
        write(dir);
        tiny.write(dir, "bert.");
        try (Embedder embedder = Embedder.builder(ModelDirectory.read(dir)).threads(1).build()) {
            assertEquals(32, embedder.embed("hello world").length);
        }
    }

    @Test
    void doLowerCaseLowercasesPromptAndTextBeforeTokenizing(@TempDir Path dir) throws IOException {
        write(dir);
        ModelDirectory cased = ModelDirectory.read(dir);
        Files.writeString(dir.resolve("sentence_bert_config.json"), "{\"max_seq_length\": 24, \"do_lower_case\": true}");
        ModelDirectory lowered = ModelDirectory.read(dir);
        assertTrue(lowered.doLowerCase());
        Prompt prompt = Prompt.text("Hello ");
        assertEquals("hello world", lowered.input(prompt, "World"));
        assertEquals("Hello World", cased.input(prompt, "World"));
        Encoding casedIds = cased.tokenizer().encode(cased.input(prompt, "World"));
        Encoding loweredIds = lowered.tokenizer().encode(lowered.input(prompt, "World"));
        assertArrayEquals(new int[] {2, 6, 8, 3}, casedIds.ids());
        assertArrayEquals(new int[] {2, 5, 7, 3}, loweredIds.ids());
    }

    @Test
    void promptsArePickedAsSentenceTransformersPicksThem() {
        Prompts e5 = new Prompts(Map.of("query", "query: ", "passage", "passage: "), null);
        assertEquals("query: ", e5.queryPrompt().text());
        assertEquals("passage: ", e5.documentPrompt().text());
        assertEquals(Prompt.NONE, e5.defaultPrompt());
        Prompts withDefault = new Prompts(Map.of("classification", "c: ", "corpus", "doc: "), "classification");
        assertEquals("c: ", withDefault.defaultPrompt().text());
        assertEquals("c: ", withDefault.queryPrompt().text(), "no query prompt: encode_query falls back to the default");
        assertEquals("doc: ", withDefault.documentPrompt().text());
        assertEquals(new Prompt("classification", "c: "), withDefault.resolve(Prompt.named("classification")));
        assertEquals("x", withDefault.resolve(Prompt.text("x")).text());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> withDefault.resolve(Prompt.named("query")));
        assertTrue(e.getMessage().matches("prompt name 'query': expected one of the model's prompts \\[(classification, corpus|corpus, classification)\\], found no such prompt"), e.getMessage());
        assertEquals(Prompt.NONE, Prompts.NONE.queryPrompt());
    }

    @Test
    void promptCountsAgainstTheMaxLength(@TempDir Path dir) throws IOException {
        write(dir);
        try (Embedder embedder = Embedder.builder(ModelDirectory.read(dir)).threads(1).maxLength(6).build()) {
            List<Encoding> plain = embedder.tokenize(List.of("the cat sat on the mat"), Prompt.NONE);
            List<Encoding> prompted = embedder.tokenize(List.of("the cat sat on the mat"), Prompt.named("query"));
            // [CLS] the cat sat on [SEP] vs [CLS] query : the cat [SEP]: the prompt is prepended, then truncated.
            assertArrayEquals(new int[] {2, 12, 13, 14, 15, 3}, plain.get(0).ids());
            assertArrayEquals(new int[] {2, 9, 11, 12, 13, 3}, prompted.get(0).ids());
        }
    }
}
