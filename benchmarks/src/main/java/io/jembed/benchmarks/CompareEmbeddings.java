package io.jembed.benchmarks;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * Checks that two {@code {"id": ..., "embedding": [...]}} JSONL files (jembed embed's and
 * {@link OrtFileEmbed}'s) say the same thing: the same number of lines, the same ids in the same order,
 * vectors of one length, and every pair of vectors at cosine &gt;= {@value #DEFAULT_MIN_COSINE}. Prints one
 * line of agreement (the smallest cosine and where, the largest element difference) and exits 0, or says
 * where they first disagree and exits 1.
 *
 * <pre>
 * java -cp benchmarks/target/benchmarks.jar io.jembed.benchmarks.CompareEmbeddings --first A.jsonl --second B.jsonl
 *     [--min-cosine 0.9999]
 * </pre>
 */
public final class CompareEmbeddings {

    /**
     * Two float32 engines summing in different orders differ by rounding, which keeps the cosine within
     * about 1e-6 of 1; under 0.9999 is a different computation (tokens, truncation, pooling), not rounding.
     */
    static final double DEFAULT_MIN_COSINE = 0.9999;

    static final String TOOL = "CompareEmbeddings";
    static final List<String> FLAGS = List.of("--first", "--second", "--min-cosine");
    static final String USAGE = "usage: CompareEmbeddings --first FILE --second FILE [--min-cosine C="
        + DEFAULT_MIN_COSINE + "]";

    private CompareEmbeddings() {}

    public static void main(String[] args) throws Exception {
        ToolArgs.run(TOOL, USAGE, FLAGS, args, CompareEmbeddings::run);
    }

    static int run(ToolArgs args) throws IOException {
        Path firstFile = args.requiredPath("--first");
        Path secondFile = args.requiredPath("--second");
        double minCosine = args.decimal("--min-cosine", DEFAULT_MIN_COSINE);
        if (!(minCosine >= -1 && minCosine <= 1)) {
            throw new IllegalArgumentException("argument --min-cosine: expected a number in [-1, 1], found " + minCosine);
        }
        try (var first = JsonLines.open(firstFile); var second = JsonLines.open(secondFile)) {
            long lines = 0;
            int dimension = -1;
            long below = 0;
            String firstBelow = null;
            double worstCosine = 1;
            String worstWhere = "none";
            double maxAbsDiff = 0;
            while (true) {
                JsonLines.Line a = first.next();
                JsonLines.Line b = second.next();
                if (a == null || b == null) {
                    if (a != b) {
                        Path shorter = a == null ? firstFile : secondFile;
                        Path longer = a == null ? secondFile : firstFile;
                        return disagree("line count: expected equal, found " + lines + " in " + shorter
                            + " and more in " + longer);
                    }
                    break;
                }
                lines++;
                JsonNode idA = a.object().get("id");
                JsonNode idB = b.object().get("id");
                if (idA == null || !idA.equals(idB)) {
                    return disagree("id: expected equal, found " + idA + " at " + first.where() + " and " + idB
                        + " at " + second.where());
                }
                float[] u = vector(first, a);
                float[] v = vector(second, b);
                if (dimension < 0) {
                    dimension = u.length;
                }
                if (u.length != dimension || v.length != dimension) {
                    return disagree("vector length: expected " + dimension + ", found " + u.length + " at "
                        + first.where() + " and " + v.length + " at " + second.where());
                }
                double dot = 0;
                double normU = 0;
                double normV = 0;
                for (int k = 0; k < dimension; k++) {
                    dot += (double) u[k] * v[k];
                    normU += (double) u[k] * u[k];
                    normV += (double) v[k] * v[k];
                    maxAbsDiff = Math.max(maxAbsDiff, Math.abs(u[k] - v[k]));
                }
                double cosine = dot / Math.sqrt(normU * normV);
                String where = "line " + lines + ", id " + idA;
                // Written so that NaN (a zero vector) counts as below.
                if (!(cosine >= minCosine)) {
                    below++;
                    if (firstBelow == null) {
                        firstBelow = where;
                    }
                }
                if (!(cosine >= worstCosine)) {
                    worstCosine = cosine;
                    worstWhere = where;
                }
            }
            String summary = String.format(Locale.ROOT, "%d lines, ids in the same order, dimension %d, min cosine"
                + " 1 - %.1e (%s), max |difference| %.1e", lines, dimension, 1 - worstCosine, worstWhere, maxAbsDiff);
            if (below > 0) {
                return disagree("cosine: expected >= " + minCosine + " on every line, found " + below + " of " + lines
                    + " below (the first at " + firstBelow + "); " + summary);
            }
            System.out.println("agree: " + summary + " (" + firstFile + " vs " + secondFile + ")");
            return 0;
        }
    }

    /** The line's "embedding" as floats, as both engines wrote them. */
    private static float[] vector(JsonLines file, JsonLines.Line line) throws IOException {
        JsonNode embedding = line.object().get("embedding");
        if (embedding == null || !embedding.isArray() || embedding.isEmpty()) {
            throw new IOException(file.where() + ": expected a non-empty array 'embedding', found "
                + (embedding == null ? "none" : embedding.isArray() ? "an empty array" : embedding.getNodeType()));
        }
        float[] vector = new float[embedding.size()];
        for (int k = 0; k < vector.length; k++) {
            JsonNode element = embedding.get(k);
            if (!element.isNumber()) {
                throw new IOException(file.where() + ": expected numbers in 'embedding', found "
                    + element.getNodeType() + " at index " + k);
            }
            vector[k] = element.floatValue();
        }
        return vector;
    }

    private static int disagree(String message) {
        System.out.println("disagree: " + message);
        return 1;
    }
}
