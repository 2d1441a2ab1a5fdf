package io.jembed.core.cli;

import java.io.PrintStream;
import java.util.Arrays;
import java.util.List;
import java.util.Set;

import io.jembed.core.Embedder;
import io.jembed.core.index.Similarity;

/** {@code jembed similarity "s1" "s2" ...}: the labelled cosine matrix of the sentences. */
final class SimilarityCommand implements Command {

    @Override
    public String name() {
        return "similarity";
    }

    @Override
    public String summary() {
        return "cosine similarity matrix of sentences";
    }

    @Override
    public Set<String> options() {
        return ModelOptions.NAMES;
    }

    @Override
    public String usage() {
        return """
                usage: jembed similarity [options] "sentence 1" "sentence 2" ...

                Embeds the sentences and prints their cosine similarity matrix (4 decimals),
                rows and columns labelled S1, S2, ... after the list of sentences.

                options:
                """ + ModelOptions.USAGE;
    }

    @Override
    public int run(Args args, Cli cli) throws Exception {
        List<String> sentences = args.positionals();
        if (sentences.size() < 2) {
            throw CliException.usage("similarity: expected at least two sentences, found " + sentences.size());
        }
        try (Embedder embedder = ModelOptions.load(args, cli)) {
            args.finish();
            float[][] vectors = embedder.embed(sentences);
            print(cli.out(), sentences, Similarity.cosineMatrix(Arrays.asList(vectors)));
        }
        return 0;
    }

    /** Prints the sentences with their labels, then the matrix. */
    static void print(PrintStream out, List<String> sentences, float[][] matrix) {
        for (int i = 0; i < sentences.size(); i++) {
            out.printf("S%-3d %s%n", i + 1, sentences.get(i));
        }
        out.println();
        StringBuilder header = new StringBuilder("      ");
        for (int j = 0; j < sentences.size(); j++) {
            header.append(String.format("%8s", "S" + (j + 1)));
        }
        out.println(header);
        for (int i = 0; i < sentences.size(); i++) {
            StringBuilder row = new StringBuilder(String.format("%-6s", "S" + (i + 1)));
            for (int j = 0; j < sentences.size(); j++) {
                row.append(String.format("%8.4f", matrix[i][j]));
            }
            out.println(row);
        }
    }
}
