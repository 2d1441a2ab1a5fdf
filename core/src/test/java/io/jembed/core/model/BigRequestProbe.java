package io.jembed.core.model;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import io.jembed.core.EmbedRequest;
import io.jembed.core.EmbedResult;
import io.jembed.core.Embedder;

/** Child-JVM half of {@link EmbedRequestTest}'s bounded-memory test: one call of 200,016 tokens. */
public final class BigRequestProbe {

    private BigRequestProbe() {
    }

    public static void main(String[] args) throws Exception {
        List<String> texts = new ArrayList<>();
        for (int i = 0; i < 8334; i++) {
            texts.add(EmbedRequestTest.words(22)); // 24 tokens each
        }
        try (Embedder embedder = Embedder.builder(Path.of(args[0])).threads(2).build()) {
            EmbedResult result = embedder.embed(EmbedRequest.of(texts));
            System.out.println("texts " + result.size() + " tokens " + result.totalTokens()
                    + " truncated " + result.truncatedCount());
        }
    }
}
