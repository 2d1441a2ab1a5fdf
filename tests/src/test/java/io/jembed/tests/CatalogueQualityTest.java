package io.jembed.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.jembed.core.Embedder;
import io.jembed.core.index.Document;
import io.jembed.core.index.Similarity;
import io.jembed.core.search.SemanticSearch;

/**
 * Retrieval and similarity quality of the catalogue models through jembed's own index and search,
 * with the prompts applied automatically (documents by the model's document prompt, questions by its
 * query prompt), against the reference pipeline's figures (ONNX Runtime + Hugging Face tokenizers,
 * computed by tests/generator's ReferenceQuality into fixtures/models/reference-quality.json):
 * BEIR SciFact test nDCG@10 and STS Benchmark test Spearman.
 */
class CatalogueQualityTest {

    /**
     * The reference and jembed rank with float32 vectors that differ by ~1e-6, so a near-tie between
     * two documents can swap; that moves nDCG@10 by at most a few 1e-4 over 300 queries.
     */
    static final double NDCG_TOLERANCE = 0.001;
    /** Cosines that differ by ~1e-7 change no rank among 1,379 pairs but the rare near-tie. */
    static final double SPEARMAN_TOLERANCE = 0.0005;

    static final ObjectMapper JSON = new ObjectMapper();
    static JsonNode reference;

    @BeforeAll
    static void readReference() throws IOException {
        try (InputStream in = CatalogueQualityTest.class.getResourceAsStream("/fixtures/models/reference-quality.json")) {
            assertNotNull(in, "fixtures/models/reference-quality.json is missing (made by tests/generator ReferenceQuality)");
            reference = JSON.readTree(in);
        }
    }

    static double referenceFigure(String dataset, String model) {
        return ReferenceFigures.value(reference, dataset, model);
    }

    @ParameterizedTest
    @ValueSource(strings = {"bge-small-en-v1.5", "e5-small-v2", "all-MiniLM-L6-v2"})
    void sciFactNdcgAt10EqualsTheReference(String model) throws IOException {
        List<JsonNode> corpus = RealDataEvaluationTest.readJsonl(Requirements.sharedData("beir-scifact/corpus.jsonl"));
        Map<String, String> queries = new LinkedHashMap<>();
        for (JsonNode query : RealDataEvaluationTest.readJsonl(Requirements.sharedData("beir-scifact/queries.jsonl"))) {
            queries.put(query.get("_id").asText(), query.get("text").asText());
        }
        Map<String, Set<String>> relevant = new LinkedHashMap<>();
        List<String> qrels = Files.readAllLines(Requirements.sharedData("beir-scifact/qrels/test.tsv"));
        for (String line : qrels.subList(1, qrels.size())) {
            String[] cells = line.split("\t");
            if (Integer.parseInt(cells[2].trim()) > 0) {
                relevant.computeIfAbsent(cells[0], k -> new HashSet<>()).add(cells[1]);
            }
        }
        assertEquals(5183, corpus.size(), "SciFact documents");
        assertEquals(300, relevant.size(), "SciFact test queries");

        List<Document> documents = new ArrayList<>(corpus.size());
        for (JsonNode doc : corpus) {
            // As BEIR and MTEB join them.
            String text = (doc.get("title").asText() + " " + doc.get("text").asText()).strip();
            documents.add(Document.of(doc.get("_id").asText(), text));
        }
        List<String> ids = new ArrayList<>(relevant.keySet());
        List<String> questions = new ArrayList<>();
        for (String id : ids) {
            questions.add(queries.get(id));
        }
        long start = System.nanoTime();
        double ndcg = 0;
        try (Embedder embedder = Embedder.load(Requirements.catalogueModel(model));
             SemanticSearch search = SemanticSearch.create(embedder)) {
            search.index(documents);
            List<List<SemanticSearch.Hit>> results = search.search(questions, 10);
            for (int q = 0; q < ids.size(); q++) {
                Set<String> gold = relevant.get(ids.get(q));
                double dcg = 0;
                for (int rank = 0; rank < results.get(q).size(); rank++) {
                    if (gold.contains(results.get(q).get(rank).id().asText())) {
                        dcg += 1 / log2(rank + 2);
                    }
                }
                double ideal = 0;
                for (int rank = 0; rank < Math.min(10, gold.size()); rank++) {
                    ideal += 1 / log2(rank + 2);
                }
                ndcg += dcg / ideal;
            }
            ndcg /= ids.size();
            System.out.printf("SciFact test, %s (document prompt %s, query prompt %s): nDCG@10 %.5f, reference %.5f "
                    + "(%.0f s)%n", model, search.documentPrompt().describe(), search.queryPrompt().describe(), ndcg,
                    referenceFigure("scifact", model), (System.nanoTime() - start) / 1e9);
        }
        assertEquals(referenceFigure("scifact", model), ndcg, NDCG_TOLERANCE, model + " SciFact nDCG@10");
    }

    private static double log2(double x) {
        return Math.log(x) / Math.log(2);
    }

    @ParameterizedTest
    @ValueSource(strings = {"all-MiniLM-L6-v2", "bge-small-en-v1.5", "e5-small-v2", "bge-small-zh-v1.5"})
    void stsBenchmarkSpearmanEqualsTheReference(String model) throws IOException {
        List<String> first = new ArrayList<>();
        List<String> second = new ArrayList<>();
        List<Double> gold = new ArrayList<>();
        if (model.equals("bge-small-zh-v1.5")) {
            for (List<String> row : csv(Requirements.sharedData("stsb-multi-mt/stsb-zh-test.csv"))) {
                first.add(row.get(0));
                second.add(row.get(1));
                gold.add(Double.parseDouble(row.get(2)));
            }
        } else {
            for (JsonNode pair : RealDataEvaluationTest.readJsonl(Requirements.sharedData("stsb/sts-test.jsonl"))) {
                first.add(pair.get("sentence1").asText());
                second.add(pair.get("sentence2").asText());
                gold.add(pair.get("score").asDouble());
            }
        }
        assertEquals(1379, first.size(), "STS-B test pairs");
        double spearman;
        try (Embedder embedder = Embedder.load(Requirements.catalogueModel(model))) {
            float[][] a = embedder.embed(first);
            float[][] b = embedder.embed(second);
            double[] cosine = new double[a.length];
            double[] scores = new double[a.length];
            for (int i = 0; i < a.length; i++) {
                cosine[i] = Similarity.cosine(a[i], b[i]);
                scores[i] = gold.get(i);
            }
            spearman = RealDataEvaluationTest.spearman(cosine, scores);
        }
        System.out.printf("STS-B test, %s: Spearman %.5f, reference %.5f%n", model, spearman,
                referenceFigure("stsb", model));
        assertEquals(referenceFigure("stsb", model), spearman, SPEARMAN_TOLERANCE, model + " STS-B Spearman");
    }

    /** RFC 4180 rows: comma-separated, '"'-quoted fields with "" for a quote, no header. */
    static List<List<String>> csv(Path file) throws IOException {
        String text = Files.readString(file, StandardCharsets.UTF_8);
        List<List<String>> rows = new ArrayList<>();
        List<String> row = new ArrayList<>();
        StringBuilder field = new StringBuilder();
        boolean quoted = false;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (quoted) {
                if (c == '"' && i + 1 < text.length() && text.charAt(i + 1) == '"') {
                    field.append('"');
                    i++;
                } else if (c == '"') {
                    quoted = false;
                } else {
                    field.append(c);
                }
            } else if (c == '"') {
                quoted = true;
            } else if (c == ',') {
                row.add(field.toString());
                field.setLength(0);
            } else if (c == '\n' || c == '\r') {
                if (c == '\r' && i + 1 < text.length() && text.charAt(i + 1) == '\n') {
                    i++;
                }
                row.add(field.toString());
                field.setLength(0);
                rows.add(row);
                row = new ArrayList<>();
            } else {
                field.append(c);
            }
        }
        if (!field.isEmpty() || !row.isEmpty()) {
            row.add(field.toString());
            rows.add(row);
        }
        return rows;
    }

    @Test
    void csvReaderHandlesQuotesCommasAndNewlines() {
        Map<String, List<List<String>>> cases = new HashMap<>();
        cases.put("a,b,1.0\n\"x, y\",\"say \"\"hi\"\"\",2\n", List.of(List.of("a", "b", "1.0"),
                List.of("x, y", "say \"hi\"", "2")));
        cases.put("\"multi\nline\",b,3", List.of(List.of("multi\nline", "b", "3")));
        cases.forEach((text, expected) -> {
            try {
                Path file = Files.createTempFile("csv", ".csv");
                Files.writeString(file, text);
                assertEquals(expected, csv(file));
                Files.delete(file);
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
    }
}
