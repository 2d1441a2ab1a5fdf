package io.jembed.core.pooling;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PoolingConfigTest {

    static final String MODULES = """
            [
              {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
              {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
              {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"}
            ]""";

    /** all-MiniLM-L6-v2's 1_Pooling/config.json. */
    static final String MINILM_POOLING = """
            {
              "word_embedding_dimension": 384,
              "pooling_mode_cls_token": false,
              "pooling_mode_mean_tokens": true,
              "pooling_mode_max_tokens": false,
              "pooling_mode_mean_sqrt_len_tokens": false
            }""";

    @TempDir
    Path dir;

    void write(String modules, String pooling) throws IOException {
        if (modules != null) {
            Files.writeString(dir.resolve("modules.json"), modules);
        }
        if (pooling != null) {
            Files.createDirectories(dir.resolve("1_Pooling"));
            Files.writeString(dir.resolve("1_Pooling/config.json"), pooling);
        }
    }

    @Test
    void miniLmDirectoryIsMeanThenNormalize() throws IOException {
        write(MODULES, MINILM_POOLING);
        PoolingConfig config = PoolingConfig.read(dir);
        assertEquals(List.of(PoolingMode.MEAN), config.modes());
        assertTrue(config.normalize());
        assertTrue(config.includePrompt());
        assertEquals(384, config.wordEmbeddingDimension());
        assertEquals(384, config.outputDimension(384));
    }

    @Test
    void withoutNormalizeModuleVectorsAreNotNormalized() throws IOException {
        write("""
                [{"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
                 {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"}]""",
                "{\"word_embedding_dimension\": 768, \"pooling_mode_cls_token\": true, "
                        + "\"pooling_mode_mean_tokens\": false, \"include_prompt\": false}");
        PoolingConfig config = PoolingConfig.read(dir);
        assertEquals(List.of(PoolingMode.CLS), config.modes());
        assertFalse(config.normalize());
        assertFalse(config.includePrompt());
    }

    @Test
    void plainEncoderDirectoryIsMeanWithoutNormalizeAsSentenceTransformersBuildsIt() throws IOException {
        write(null, "{\"pooling_mode_cls_token\": true, \"pooling_mode_mean_tokens\": false}");
        PoolingConfig config = PoolingConfig.read(dir);
        assertEquals(List.of(PoolingMode.MEAN), config.modes());
        assertFalse(config.normalize());
        assertEquals(0, config.wordEmbeddingDimension());
    }

    @Test
    void absentKeysTakeTheConstructorDefaults() throws IOException {
        write(MODULES, "{\"pooling_mode_max_tokens\": true}");
        assertEquals(List.of(PoolingMode.MAX, PoolingMode.MEAN), PoolingConfig.read(dir).modes());
    }

    @Test
    void poolingModeStringReplacesTheBooleans() throws IOException {
        write(MODULES, "{\"pooling_mode\": \"lasttoken\", \"pooling_mode_mean_tokens\": true}");
        assertEquals(List.of(PoolingMode.LAST_TOKEN), PoolingConfig.read(dir).modes());
    }

    @Test
    void aModuleJembedDoesNotRunIsRefused() throws IOException {
        write("""
                [{"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
                 {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
                 {"idx": 2, "name": "2", "path": "2_Dense", "type": "sentence_transformers.models.Dense"}]""",
                MINILM_POOLING);
        PoolingConfigException e = assertThrows(PoolingConfigException.class, () -> PoolingConfig.read(dir));
        assertEquals("module 2: expected type sentence_transformers.models.Transformer, Pooling or Normalize, "
                + "found 'sentence_transformers.models.Dense' in " + dir.resolve("modules.json"), e.getMessage());
    }

    @Test
    void allModesOffIsRefused() throws IOException {
        write(MODULES, "{\"pooling_mode_mean_tokens\": false}");
        PoolingConfigException e = assertThrows(PoolingConfigException.class, () -> PoolingConfig.read(dir));
        assertEquals("pooling modes: expected at least one pooling_mode_* true, found all false in "
                + dir.resolve("1_Pooling/config.json"), e.getMessage());
    }

    @Test
    void unknownModeKeyAndWrongTypesAreRefused() throws IOException {
        write(MODULES, "{\"pooling_mode_attention\": true}");
        PoolingConfigException unknown = assertThrows(PoolingConfigException.class, () -> PoolingConfig.read(dir));
        assertTrue(unknown.getMessage().startsWith("pooling_mode_attention: expected a known pooling_mode_* key"),
                unknown.getMessage());
        write(MODULES, "{\"pooling_mode_mean_tokens\": \"yes\"}");
        PoolingConfigException type = assertThrows(PoolingConfigException.class, () -> PoolingConfig.read(dir));
        assertEquals("pooling_mode_mean_tokens: expected true or false, found \"yes\" in "
                + dir.resolve("1_Pooling/config.json"), type.getMessage());
    }

    @Test
    void malformedJsonAndMissingPoolingConfigAreRefused() throws IOException {
        write("[{\"type\": ", null);
        PoolingConfigException syntax = assertThrows(PoolingConfigException.class, () -> PoolingConfig.read(dir));
        assertTrue(syntax.getMessage().startsWith("JSON: expected a well-formed document, found a syntax error"),
                syntax.getMessage());
        write(MODULES, null);
        PoolingConfigException missing = assertThrows(PoolingConfigException.class, () -> PoolingConfig.read(dir));
        assertEquals("Pooling module: expected its config at " + dir.resolve("1_Pooling/config.json")
                + ", found no such file in " + dir.resolve("modules.json"), missing.getMessage());
    }

    @Test
    void describeAndParseRoundTrip() {
        PoolingConfig config = PoolingConfig.parse("mean+cls", false);
        assertEquals("cls+mean", config.describe());
        assertEquals(config, PoolingConfig.parse(config.describe(), false));
        assertEquals(PoolingMode.WEIGHTED_MEAN, PoolingMode.fromName("weighted-mean"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> PoolingMode.fromName("avg"));
        assertEquals("pooling mode: expected one of cls, max, mean, mean_sqrt_len_tokens, weightedmean, lasttoken, "
                + "found 'avg'", e.getMessage());
        assertEquals(PoolingConfig.of(PoolingMode.MAX, true), PoolingConfig.MEAN_NORMALIZED.withMode(PoolingMode.MAX));
    }
}
