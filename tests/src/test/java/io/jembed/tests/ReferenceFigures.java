package io.jembed.tests;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * Looks up one figure of fixtures/models/reference-quality.json (written by tests/generator's
 * ReferenceQuality): its {@code results} array holds one object per (model, task), with
 * {@code task} "sts" (field {@code spearman}) or "retrieval" (SciFact, field {@code ndcg_at_10}).
 */
final class ReferenceFigures {

    private ReferenceFigures() {
    }

    /** dataset "stsb" or "scifact". */
    static double value(JsonNode reference, String dataset, String model) {
        String task = dataset.equals("stsb") ? "sts" : "retrieval";
        String field = dataset.equals("stsb") ? "spearman" : "ndcg_at_10";
        for (JsonNode result : reference.path("results")) {
            if (model.equals(result.path("model").asText()) && task.equals(result.path("task").asText())) {
                JsonNode value = result.get(field);
                if (value == null || !value.isNumber()) {
                    throw new IllegalStateException("reference-quality.json: " + model + " " + task + ": expected a number "
                            + "in '" + field + "', found " + value);
                }
                return value.doubleValue();
            }
        }
        throw new IllegalStateException("reference-quality.json: expected a " + task + " result for " + model
                + ", found none");
    }
}
