package io.jembed.core.cli;

import java.io.InputStream;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;

import com.fasterxml.jackson.databind.node.ObjectNode;

import io.jembed.core.Embedder;
import io.jembed.core.index.Document;
import io.jembed.core.index.Similarity;
import io.jembed.core.search.SemanticSearch;

/**
 * {@code jembed demo}: the README's first command. The similarity matrix of three sentences,
 * then an index of the bundled demo corpus (passages the team wrote) and a few questions
 * answered with their top-3 passages.
 */
final class DemoCommand implements Command {

    static final List<String> SENTENCES = List.of("I took my dog for a walk", "I took my cat for a walk",
            "Today is going to rain");
    static final String CORPUS = "/io/jembed/demo/corpus.jsonl";
    static final String QUESTIONS = "/io/jembed/demo/questions.jsonl";

    @Override
    public String name() {
        return "demo";
    }

    @Override
    public String summary() {
        return "similarity of three sentences, then semantic search over a bundled corpus";
    }

    @Override
    public Set<String> options() {
        return ModelOptions.NAMES;
    }

    @Override
    public String usage() {
        return """
                usage: jembed demo [options]

                Shows what jembed does on the default model (or --model DIR): the cosine similarity
                matrix of three sentences, then an in-memory index of the bundled demo corpus
                (%s) and the top-3 passages for each bundled question.

                options:
                """.formatted(CORPUS.substring(1)) + ModelOptions.USAGE;
    }

    @Override
    public int run(Args args, Cli cli) throws Exception {
        args.noPositionals();
        PrintStream out = cli.out();
        long loadStart = System.nanoTime();
        try (Embedder embedder = ModelOptions.load(args, cli)) {
            args.finish();
            out.printf("Model %s: %d-d vectors, %s pooling, %d layers, kernels %s, %d threads (loaded in %.2f s)%n%n",
                    embedder.modelName(), embedder.dimension(), embedder.pooling().describe(),
                    embedder.config().numHiddenLayers(), embedder.kernels().name(), embedder.threads(),
                    (System.nanoTime() - loadStart) / 1e9);

            out.println("1. Sentence similarity (cosine)");
            out.println();
            SimilarityCommand.print(out, SENTENCES, Similarity.cosineMatrix(Arrays.asList(embedder.embed(SENTENCES))));
            out.println();

            List<Document> corpus = documents(CORPUS);
            List<TextInput.Record> questions = records(QUESTIONS);
            try (SemanticSearch search = SemanticSearch.create(embedder)) {
                long start = System.nanoTime();
                search.index(corpus);
                double seconds = (System.nanoTime() - start) / 1e9;
                out.printf("2. Semantic search: indexed %d passages in %.2f s (%.0f passages/s)%n",
                        search.size(), seconds, search.size() / seconds);
                int top1 = 0;
                for (TextInput.Record question : questions) {
                    List<SemanticSearch.Hit> hits = search.search(question.text(), 3);
                    String answer = question.record().path("answer").asText(null);
                    boolean right = answer != null && SearchCommand.idText(hits.get(0)).equals(answer);
                    top1 += right ? 1 : 0;
                    out.println();
                    out.println("Q: " + question.text());
                    SearchCommand.print(out, hits);
                }
                out.println();
                out.printf("The passage written to answer the question ranked first for %d of %d questions.%n",
                        top1, questions.size());
                out.println("Try your own: ./jembed index --input corpus.jsonl --output my-index, then "
                        + "./jembed search --index my-index \"your question\"");
            }
        }
        return 0;
    }

    static List<TextInput.Record> records(String resource) throws Exception {
        List<TextInput.Record> records = new ArrayList<>();
        try (InputStream in = DemoCommand.class.getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalStateException("resource " + resource + " is missing from the jar");
            }
            TextInput input = TextInput.of(in, resource,
                    new TextInput.Options(TextInput.Format.JSONL, "id", "text", TextInput.OnError.FAIL), System.err);
            while (input.hasNext()) {
                records.add(input.next());
            }
        }
        return records;
    }

    static List<Document> documents(String resource) throws Exception {
        List<Document> documents = new ArrayList<>();
        for (TextInput.Record record : records(resource)) {
            ObjectNode fields = record.record().deepCopy();
            fields.remove("id");
            fields.remove("text");
            documents.add(new Document(record.id(), record.text(), fields));
        }
        return documents;
    }
}
