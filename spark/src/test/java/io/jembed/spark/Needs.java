package io.jembed.spark;

import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;

import io.jembed.core.model.ModelCatalog;

/**
 * What these tests need from outside the repository (a set-up model, the shared data): outside CI a
 * missing one skips the test saying how to get it; in CI ({@code CI=true}) it fails.
 */
final class Needs {

    private Needs() {
    }

    static void missing(String what, String howToGetIt) {
        String message = "missing " + what + "; " + howToGetIt;
        if ("true".equalsIgnoreCase(System.getenv("CI"))) {
            Assertions.fail(message + " (CI=true: real-model and real-data tests may not skip)");
        }
        Assumptions.abort(message);
    }

    static Path catalogueModel(String name) {
        Path dir = ModelCatalog.defaultDir(ModelCatalog.find(name).orElseThrow());
        if (!ModelCatalog.isPrepared(dir)) {
            missing("the catalogue model " + name + " in " + dir, "run './jembed model setup " + name + "'");
        }
        return dir;
    }

    static Path sharedData(String relative) {
        String root = System.getProperty("jembed.sharedData");
        Path path = (root != null ? Path.of(root) : Path.of("..", "shared", "data")).resolve(relative).normalize();
        if (!Files.exists(path)) {
            missing("evaluation data " + path, "the tests read ../shared/data beside the repository checkout");
        }
        return path;
    }
}
