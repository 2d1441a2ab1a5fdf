package io.jembed.weights;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BertConfigTest {

    /** sentence-transformers/all-MiniLM-L6-v2 config.json as published. */
    static final String ALL_MINILM_CONFIG = """
            {
              "_name_or_path": "nreimers/MiniLM-L6-H384-uncased",
              "architectures": [
                "BertModel"
              ],
              "attention_probs_dropout_prob": 0.1,
              "gradient_checkpointing": false,
              "hidden_act": "gelu",
              "hidden_dropout_prob": 0.1,
              "hidden_size": 384,
              "initializer_range": 0.02,
              "intermediate_size": 1536,
              "layer_norm_eps": 1e-12,
              "max_position_embeddings": 512,
              "model_type": "bert",
              "num_attention_heads": 12,
              "num_hidden_layers": 6,
              "pad_token_id": 0,
              "position_embedding_type": "absolute",
              "transformers_version": "4.8.2",
              "type_vocab_size": 2,
              "use_cache": true,
              "vocab_size": 30522
            }
            """;

    static final BertConfig ALL_MINILM = new BertConfig(30522, 384, 6, 12, 1536, "gelu", 512, 2, 1e-12);

    @TempDir
    Path dir;

    @Test
    void readsAllMiniLmConfig() throws Exception {
        Path file = dir.resolve("config.json");
        Files.writeString(file, ALL_MINILM_CONFIG);
        BertConfig config = BertConfig.read(file);
        assertEquals(ALL_MINILM, config);
        assertEquals(30522, config.vocabSize());
        assertEquals(384, config.hiddenSize());
        assertEquals(6, config.numHiddenLayers());
        assertEquals(12, config.numAttentionHeads());
        assertEquals(1536, config.intermediateSize());
        assertEquals(512, config.maxPositionEmbeddings());
        assertEquals(2, config.typeVocabSize());
        assertEquals(1e-12, config.layerNormEps());
        assertEquals("gelu", config.hiddenAct());
        assertEquals(32, config.headSize());
    }

    @Test
    void writeThenReadIsIdentityAndLooksLikeHf() throws Exception {
        Path file = dir.resolve("config.json");
        ALL_MINILM.write(file);
        assertEquals(ALL_MINILM, BertConfig.read(file));
        String json = Files.readString(file);
        assertTrue(json.contains("\"model_type\": \"bert\""), json);
        assertTrue(json.contains("\"architectures\": [\n    \"BertModel\"\n  ]"), json);
        assertTrue(json.contains("\"hidden_size\": 384,"), json);
        assertTrue(json.contains("\"pad_token_id\": 0,"), json);
        assertTrue(json.contains("\"position_embedding_type\": \"absolute\","), json);
    }

    @Test
    void optionalFieldsTakeHfDefaults() throws Exception {
        String minimal = """
                {"vocab_size": 100, "hidden_size": 8, "num_hidden_layers": 1, "num_attention_heads": 2,
                 "intermediate_size": 16, "max_position_embeddings": 32, "type_vocab_size": 2}
                """;
        assertEquals(new BertConfig(100, 8, 1, 2, 16, "gelu", 32, 2, 1e-12, 0, "absolute"),
                BertConfig.fromJson(minimal, "config.json"));
    }

    @Test
    void missingFieldNamesFileAndField() {
        String json = ALL_MINILM_CONFIG.replace("\"num_attention_heads\": 12,", "");
        ConfigFormatException e = assertThrows(ConfigFormatException.class,
                () -> BertConfig.fromJson(json, "/models/minilm/config.json"));
        assertEquals("num_attention_heads", e.field());
        assertEquals("/models/minilm/config.json", e.file());
        assertEquals("config field \"num_attention_heads\": expected an integer, found no such field in "
                + "/models/minilm/config.json", e.getMessage());
    }

    @Test
    void wrongTypeNamesTheField() {
        String json = ALL_MINILM_CONFIG.replace("\"hidden_size\": 384", "\"hidden_size\": \"384\"");
        ConfigFormatException e = assertThrows(ConfigFormatException.class, () -> BertConfig.fromJson(json, "config.json"));
        assertEquals("config field \"hidden_size\": expected a 32-bit integer, found \"384\" in config.json", e.getMessage());
    }

    @Test
    void malformedJsonNamesTheFile() throws Exception {
        Path file = dir.resolve("config.json");
        Files.writeString(file, "{\"vocab_size\": 30522,");
        ConfigFormatException e = assertThrows(ConfigFormatException.class, () -> BertConfig.read(file));
        assertEquals(null, e.field());
        assertTrue(e.getMessage().startsWith("config: expected well-formed JSON, found "), e.getMessage());
        assertTrue(e.getMessage().endsWith(" in " + file), e.getMessage());
    }

    @Test
    void otherModelTypesAreRejected() {
        String json = ALL_MINILM_CONFIG.replace("\"model_type\": \"bert\"", "\"model_type\": \"roberta\"");
        ConfigFormatException e = assertThrows(ConfigFormatException.class, () -> BertConfig.fromJson(json, "config.json"));
        assertEquals("config field \"model_type\": expected \"bert\", found \"roberta\" in config.json", e.getMessage());
    }

    @Test
    void invalidValuesFromFileNameTheField() {
        String json = ALL_MINILM_CONFIG.replace("\"num_attention_heads\": 12", "\"num_attention_heads\": 5");
        ConfigFormatException e = assertThrows(ConfigFormatException.class, () -> BertConfig.fromJson(json, "config.json"));
        assertEquals("num_attention_heads", e.field());
        assertEquals("config field \"num_attention_heads\": expected a divisor of hidden_size 384, found 5 in config.json",
                e.getMessage());
    }

    @Test
    void constructorValidates() {
        assertEquals("hidden_size: expected a positive integer, found 0", assertThrows(IllegalArgumentException.class,
                () -> new BertConfig(30522, 0, 6, 12, 1536, "gelu", 512, 2, 1e-12)).getMessage());
        assertEquals("num_attention_heads: expected a divisor of hidden_size 384, found 7",
                assertThrows(IllegalArgumentException.class,
                        () -> new BertConfig(30522, 384, 6, 7, 1536, "gelu", 512, 2, 1e-12)).getMessage());
        assertEquals("hidden_act: expected one of [gelu, gelu_new, gelu_pytorch_tanh, relu], found \"swish\"",
                assertThrows(IllegalArgumentException.class,
                        () -> new BertConfig(30522, 384, 6, 12, 1536, "swish", 512, 2, 1e-12)).getMessage());
        assertEquals("layer_norm_eps: expected a finite value > 0, found 0.0", assertThrows(IllegalArgumentException.class,
                () -> new BertConfig(30522, 384, 6, 12, 1536, "gelu", 512, 2, 0.0)).getMessage());
        assertThrows(IllegalArgumentException.class, () -> new BertConfig(30522, 384, 6, 12, 1536, "gelu", 512, 2, Double.NaN));
        assertThrows(IllegalArgumentException.class, () -> new BertConfig(30522, 384, 6, 12, 1536, "gelu", 512, 2, 1e-12,
                30522, "absolute"));
        assertThrows(IllegalArgumentException.class, () -> new BertConfig(30522, 384, 6, 12, 1536, "gelu", 512, 2, 1e-12,
                0, "relative_key"));
        for (String act : BertConfig.ACTIVATIONS) {
            assertEquals(act, new BertConfig(30522, 384, 6, 12, 1536, act, 512, 2, 1e-12).hiddenAct());
        }
    }
}
