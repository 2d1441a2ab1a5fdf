package io.jembed.core.model;

import java.io.IOException;
import java.nio.file.Path;

/**
 * The tiny random BERT model directory of {@link ModelDirectoryTest} (cased vocabulary of 22
 * words, max_seq_length 24, mean pooling, Normalize, prompts "query : " and "passage : "), for
 * tests in other packages.
 */
public final class TinyModelDirectory {

    private TinyModelDirectory() {
    }

    public static synchronized Path write(Path dir) throws IOException {
        if (ModelDirectoryTest.tiny == null) {
            ModelDirectoryTest.model();
        }
        return ModelDirectoryTest.write(dir);
    }
}
