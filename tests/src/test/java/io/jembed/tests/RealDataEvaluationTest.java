package io.jembed.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.jembed.core.Embedder;
import io.jembed.core.index.FlatIndex;
import io.jembed.core.index.Quantization;
import io.jembed.core.index.Recall;
import io.jembed.core.index.Similarity;
import io.jembed.core.index.VectorIndex;

/**
 * Quality on real data, against what the reference pipeline (ONNX Runtime + Hugging Face
 * tokenizers + mean pooling, cosine, exhaustive search) gives on the same data:
 * SQuAD v1.1 dev retrieval (2,067 paragraphs, 10,570 questions: does the question's own
 * paragraph come back?) and STS Benchmark test (Spearman of cosine against gold).
 * Reads {@code ../shared/data}; see {@link Requirements} for what happens when it is absent.
 */
class RealDataEvaluationTest {

    /** Reference figures; the tolerances are the issue's. */
    static final double SQUAD_RECALL_AT_1 = 0.6251;
    static final double SQUAD_RECALL_AT_3 = 0.8077;
    static final double SQUAD_RECALL_AT_10 = 0.9172;
    static final double SQUAD_MRR_AT_10 = 0.7270;
    static final double SQUAD_TOLERANCE = 0.001;
    static final double STSB_SPEARMAN = 0.8203;
    static final double STSB_TOLERANCE = 0.0005;
    static final double INT8_MIN_RECALL_AT_10 = 0.99;

    static final ObjectMapper JSON = new ObjectMapper();
    static Embedder embedder;
    static float[][] paragraphs;
    static float[][] questions;
    static int[] questionParagraph;

    @BeforeAll
    static void embedSquad() throws IOException {
        Path model = Requirements.defaultModel();
        Path dir = Requirements.sharedData("squad-v1.1-dev");
        embedder = Embedder.builder(model).batchSize(64).build();
        Map<String, Integer> paragraphIndex = new HashMap<>();
        List<String> contexts = new ArrayList<>();
        for (JsonNode line : readJsonl(dir.resolve("paragraphs.jsonl"))) {
            paragraphIndex.put(line.get("pid").asText(), contexts.size());
            contexts.add(line.get("context").asText());
        }
        List<String> questionTexts = new ArrayList<>();
        List<Integer> owners = new ArrayList<>();
        for (JsonNode line : readJsonl(dir.resolve("questions.jsonl"))) {
            questionTexts.add(line.get("question").asText());
            owners.add(paragraphIndex.get(line.get("pid").asText()));
        }
        assertEquals(2067, contexts.size(), "SQuAD v1.1 dev paragraphs");
        assertEquals(10570, questionTexts.size(), "SQuAD v1.1 dev questions");
        long start = System.nanoTime();
        paragraphs = embedder.embed(contexts);
        questions = embedder.embed(questionTexts);
        System.out.printf("SQuAD: embedded %d paragraphs and %d questions in %.1f s%n", contexts.size(),
                questionTexts.size(), (System.nanoTime() - start) / 1e9);
        questionParagraph = owners.stream().mapToInt(Integer::intValue).toArray();
    }

    @AfterAll
    static void close() {
        if (embedder != null) {
            embedder.close();
        }
    }

    static List<JsonNode> readJsonl(Path file) throws IOException {
        List<JsonNode> lines = new ArrayList<>();
        try (BufferedReader reader = Files.newBufferedReader(file)) {
            for (String line; (line = reader.readLine()) != null; ) {
                if (!line.isBlank()) {
                    lines.add(JSON.readTree(line));
                }
            }
        }
        return lines;
    }

    @Test
    void squadRetrievalEqualsTheReference() {
        double[] recall = new double[11];
        double mrr = 0;
        try (FlatIndex index = new FlatIndex(paragraphs[0].length, Quantization.NONE, FlatIndex.defaultThreads())) {
            index.add(paragraphs);
            List<List<VectorIndex.Hit>> results = index.search(questions, 10);
            for (int q = 0; q < questions.length; q++) {
                List<VectorIndex.Hit> hits = results.get(q);
                for (int rank = 0; rank < hits.size(); rank++) {
                    if (hits.get(rank).position() == questionParagraph[q]) {
                        for (int k = rank + 1; k <= 10; k++) {
                            recall[k]++;
                        }
                        mrr += 1.0 / (rank + 1);
                        break;
                    }
                }
            }
        }
        int n = questions.length;
        System.out.printf("SQuAD v1.1 dev (%d questions, %d paragraphs): recall@1 %.4f, recall@3 %.4f, recall@10 %.4f, "
                + "MRR@10 %.4f%n", n, paragraphs.length, recall[1] / n, recall[3] / n, recall[10] / n, mrr / n);
        assertEquals(SQUAD_RECALL_AT_1, recall[1] / n, SQUAD_TOLERANCE, "recall@1");
        assertEquals(SQUAD_RECALL_AT_3, recall[3] / n, SQUAD_TOLERANCE, "recall@3");
        assertEquals(SQUAD_RECALL_AT_10, recall[10] / n, SQUAD_TOLERANCE, "recall@10");
        assertEquals(SQUAD_MRR_AT_10, mrr / n, SQUAD_TOLERANCE, "MRR@10");
    }

    @Test
    void int8IndexKeepsRecallOnRealEmbeddings() {
        double recall = Recall.int8Recall(paragraphs, questions, 10);
        System.out.printf("int8 index on SQuAD embeddings: recall@10 against float32 %.4f%n", recall);
        assertTrue(recall >= INT8_MIN_RECALL_AT_10, "int8 recall@10 " + recall + " < " + INT8_MIN_RECALL_AT_10);
    }

    @Test
    void stsBenchmarkSpearmanEqualsTheReference() throws IOException {
        List<JsonNode> pairs = readJsonl(Requirements.sharedData("stsb/sts-test.jsonl"));
        assertEquals(1379, pairs.size(), "STS-B test pairs");
        List<String> first = new ArrayList<>();
        List<String> second = new ArrayList<>();
        double[] gold = new double[pairs.size()];
        for (int i = 0; i < pairs.size(); i++) {
            first.add(pairs.get(i).get("sentence1").asText());
            second.add(pairs.get(i).get("sentence2").asText());
            gold[i] = pairs.get(i).get("score").asDouble();
        }
        float[][] a = embedder.embed(first);
        float[][] b = embedder.embed(second);
        double[] cosine = new double[pairs.size()];
        for (int i = 0; i < cosine.length; i++) {
            cosine[i] = Similarity.cosine(a[i], b[i]);
        }
        double spearman = spearman(cosine, gold);
        System.out.printf("STS Benchmark test (%d pairs): Spearman(cosine, gold) %.5f%n", pairs.size(), spearman);
        assertEquals(STSB_SPEARMAN, spearman, STSB_TOLERANCE, "Spearman");
    }

    /** Spearman's rho: Pearson correlation of the ranks, tied values sharing their average rank (as scipy). */
    static double spearman(double[] x, double[] y) {
        return pearson(ranks(x), ranks(y));
    }

    static double[] ranks(double[] values) {
        Integer[] order = new Integer[values.length];
        for (int i = 0; i < order.length; i++) {
            order[i] = i;
        }
        Arrays.sort(order, (i, j) -> Double.compare(values[i], values[j]));
        double[] ranks = new double[values.length];
        for (int start = 0; start < order.length; ) {
            int end = start;
            while (end + 1 < order.length && values[order[end + 1]] == values[order[start]]) {
                end++;
            }
            double rank = (start + end) / 2.0 + 1;
            for (int i = start; i <= end; i++) {
                ranks[order[i]] = rank;
            }
            start = end + 1;
        }
        return ranks;
    }

    static double pearson(double[] x, double[] y) {
        double mx = Arrays.stream(x).average().orElse(0);
        double my = Arrays.stream(y).average().orElse(0);
        double sxy = 0, sxx = 0, syy = 0;
        for (int i = 0; i < x.length; i++) {
            sxy += (x[i] - mx) * (y[i] - my);
            sxx += (x[i] - mx) * (x[i] - mx);
            syy += (y[i] - my) * (y[i] - my);
        }
        return sxy / Math.sqrt(sxx * syy);
    }

    @Test
    void spearmanMatchesHandWorkedValues() {
        // Perfect monotone agreement, perfect disagreement, and a tie case worked by hand (scipy gives 0.5).
        assertEquals(1.0, spearman(new double[] {1, 2, 3, 4}, new double[] {10, 20, 30, 40}), 1e-12);
        assertEquals(-1.0, spearman(new double[] {1, 2, 3, 4}, new double[] {4, 3, 2, 1}), 1e-12);
        assertEquals(0.5, spearman(new double[] {1, 2, 3}, new double[] {1, 3, 2}), 1e-12);
        assertEquals(0.8660254037844387, spearman(new double[] {1, 1, 2}, new double[] {1, 2, 3}), 1e-12);
    }
}
