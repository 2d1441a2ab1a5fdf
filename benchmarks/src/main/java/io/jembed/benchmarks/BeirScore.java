package io.jembed.benchmarks;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * Scores {@code jembed search --queries} output against BEIR relevance judgments, so the retrieval
 * figures in the README come from jembed's own CLI end to end.
 *
 * <pre>
 * BeirScore --qrels qrels/test.tsv --queries queries.jsonl --select-queries OUT.jsonl   # the judged queries
 * BeirScore --qrels qrels/test.tsv --run hits.jsonl [--k 10]                            # nDCG@k, recall@k
 * BeirScore --reference exact.jsonl --run approx.jsonl [--k 10]     # recall@k of one run against another's top k
 * BeirScore --squad-qrels questions.jsonl --output qrels.tsv        # SQuAD: each question's own paragraph
 * </pre>
 *
 * nDCG@k as BEIR computes it with pytrec_eval: gain = relevance grade, discount log2(rank + 1),
 * ideal ranking from the judged documents; a judged query with no output line scores 0. BEIR's
 * default of skipping a hit whose id equals the query id is not applied (SciFact's query and
 * document ids are different series). Recall@k: judged-relevant documents among the top k over all
 * judged-relevant ones.
 */
public final class BeirScore {

    static final String USAGE = """
            usage: BeirScore --qrels TSV --queries JSONL --select-queries OUT
                   BeirScore --qrels TSV --run HITS.jsonl [--k 10]
                   BeirScore --reference HITS.jsonl --run HITS.jsonl [--k 10]
                   BeirScore --squad-qrels QUESTIONS.jsonl --output TSV""";

    private BeirScore() {
    }

    public static void main(String[] args) throws Exception {
        ToolArgs.run("BeirScore", USAGE, List.of("--qrels", "--queries", "--select-queries", "--run", "--k", "--reference",
                        "--squad-qrels", "--output"),
                args, flags -> {
                    if (flags.present("--squad-qrels")) {
                        squadQrels(flags.requiredPath("--squad-qrels"), flags.requiredPath("--output"));
                        return 0;
                    }
                    int k = flags.integer("--k", 10, 1);
                    if (flags.present("--reference")) {
                        // Another run's top k as the relevant set: recall@k is the overlap of the two.
                        Map<String, Map<String, Integer>> top = new LinkedHashMap<>();
                        run(flags.requiredPath("--reference")).forEach((query, ids) -> {
                            Map<String, Integer> relevant = new HashMap<>();
                            ids.stream().limit(k).forEach(id -> relevant.put(id, 1));
                            top.put(query, relevant);
                        });
                        double[] scores = score(top, run(flags.requiredPath("--run")), k);
                        System.out.printf("queries %d  recall@%d %.4f%n", top.size(), k, scores[1]);
                        return 0;
                    }
                    Map<String, Map<String, Integer>> qrels = qrels(flags.requiredPath("--qrels"));
                    if (flags.present("--queries")) {
                        select(flags.requiredPath("--queries"), qrels, flags.requiredPath("--select-queries"));
                        return 0;
                    }
                    double[] scores = score(qrels, run(flags.requiredPath("--run")), k);
                    System.out.printf("queries %d  nDCG@%d %.4f  recall@%d %.4f%n", qrels.size(), k, scores[0], k,
                            scores[1]);
                    return 0;
                });
    }

    /** query id -> (document id -> grade), grades above 0 only, from BEIR's "query-id corpus-id score" TSV. */
    static Map<String, Map<String, Integer>> qrels(Path tsv) throws IOException {
        Map<String, Map<String, Integer>> qrels = new LinkedHashMap<>();
        List<String> lines = Files.readAllLines(tsv, StandardCharsets.UTF_8);
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i).strip();
            if (line.isEmpty() || (i == 0 && line.startsWith("query-id"))) {
                continue;
            }
            String[] columns = line.split("\t");
            if (columns.length != 3) {
                throw new IOException(tsv + " line " + (i + 1) + ": expected query-id, corpus-id, score separated by "
                        + "tabs, found '" + line + "'");
            }
            int grade = Integer.parseInt(columns[2].strip());
            if (grade > 0) {
                qrels.computeIfAbsent(columns[0], q -> new HashMap<>()).put(columns[1], grade);
            }
        }
        return qrels;
    }

    /** SQuAD's questions as qrels: question qid relevant (grade 1) to its paragraph pid. */
    static void squadQrels(Path questions, Path output) throws IOException {
        List<String[]> pairs = new ArrayList<>();
        try (JsonLines in = JsonLines.open(questions)) {
            for (JsonLines.Line line = in.next(); line != null; line = in.next()) {
                JsonNode qid = line.object().get("qid");
                JsonNode pid = line.object().get("pid");
                if (qid == null || pid == null) {
                    throw new IOException(in.where() + ": expected \"qid\" and \"pid\" fields, found "
                            + line.object().properties().stream().map(Map.Entry::getKey).toList());
                }
                pairs.add(new String[] {id(qid), id(pid)});
            }
        }
        StringBuilder tsv = new StringBuilder("query-id\tcorpus-id\tscore\n");
        for (String[] pair : pairs) {
            tsv.append(pair[0]).append('\t').append(pair[1]).append("\t1\n");
        }
        Files.writeString(output, tsv, StandardCharsets.UTF_8);
    }

    /** Writes the queries that have judgments, in the queries file's order. */
    static void select(Path queries, Map<String, Map<String, Integer>> qrels, Path output) throws IOException {
        List<JsonNode> kept = new ArrayList<>();
        try (JsonLines in = JsonLines.open(queries)) {
            for (JsonLines.Line line = in.next(); line != null; line = in.next()) {
                if (qrels.containsKey(id(line.object().get("_id")))) {
                    kept.add(line.object());
                }
            }
        }
        JsonLines.writeAtomically(output, json -> {
            for (JsonNode query : kept) {
                json.writeTree(query);
                json.writeRaw('\n');
            }
        });
        System.err.println("BeirScore: " + kept.size() + " of the " + qrels.size() + " judged queries written to " + output);
    }

    /** query id -> document ids, best first, from search --queries output. */
    static Map<String, List<String>> run(Path hits) throws IOException {
        Map<String, List<String>> run = new HashMap<>();
        try (JsonLines in = JsonLines.open(hits)) {
            for (JsonLines.Line line = in.next(); line != null; line = in.next()) {
                List<String> ids = new ArrayList<>();
                for (JsonNode hit : line.object().path("hits")) {
                    ids.add(id(hit.get("id")));
                }
                run.put(id(line.object().get("id")), ids);
            }
        }
        return run;
    }

    /** Mean nDCG@k and recall@k over the judged queries. */
    static double[] score(Map<String, Map<String, Integer>> qrels, Map<String, List<String>> run, int k) {
        double ndcg = 0;
        double recall = 0;
        for (Map.Entry<String, Map<String, Integer>> query : qrels.entrySet()) {
            Map<String, Integer> judged = query.getValue();
            List<String> ranked = run.getOrDefault(query.getKey(), List.of());
            double dcg = 0;
            int found = 0;
            for (int rank = 0; rank < Math.min(k, ranked.size()); rank++) {
                Integer grade = judged.get(ranked.get(rank));
                if (grade != null) {
                    dcg += grade / log2(rank + 2);
                    found++;
                }
            }
            List<Integer> ideal = new ArrayList<>(judged.values());
            ideal.sort((a, b) -> b - a);
            double idcg = 0;
            for (int rank = 0; rank < Math.min(k, ideal.size()); rank++) {
                idcg += ideal.get(rank) / log2(rank + 2);
            }
            ndcg += dcg / idcg;
            recall += (double) found / judged.size();
        }
        return new double[] {ndcg / qrels.size(), recall / qrels.size()};
    }

    private static double log2(double x) {
        return Math.log(x) / Math.log(2);
    }

    private static String id(JsonNode id) {
        return id == null ? "" : id.isTextual() ? id.textValue() : id.toString();
    }
}
