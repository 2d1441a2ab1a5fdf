package io.jembed.tests;

import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;

import io.jembed.core.model.ModelCatalog;

/**
 * What the real-model and real-data tests need from outside the repository. Outside CI a
 * missing requirement skips the test with a message saying how to get it; in CI
 * ({@code CI=true}) it fails, so nothing is silently skipped there.
 */
public final class Requirements {

    private Requirements() {
    }

    static boolean inCi() {
        return "true".equalsIgnoreCase(System.getenv("CI"));
    }

    /** Skips (outside CI) or fails (in CI) with the message. */
    public static void missing(String what, String howToGetIt) {
        String message = "missing " + what + "; " + howToGetIt;
        if (inCi()) {
            Assertions.fail(message + " (CI=true: real-model and real-data tests may not skip)");
        }
        Assumptions.abort(message);
    }

    /** The prepared default model directory ($JEMBED_MODEL, else the default location). */
    public static Path defaultModel() {
        String env = System.getenv("JEMBED_MODEL");
        Path dir = env != null && !env.isBlank() ? Path.of(env) : ModelCatalog.defaultDir(ModelCatalog.defaultEntry());
        if (!ModelCatalog.isPrepared(dir)) {
            missing("the default model in " + dir, "run './jembed model setup' (the README's test command does it)");
        }
        return dir;
    }

    /** A catalogue model's prepared directory, in its default location. */
    public static Path catalogueModel(String name) {
        ModelCatalog.Entry entry = ModelCatalog.find(name).orElseThrow();
        Path dir = ModelCatalog.defaultDir(entry);
        if (!ModelCatalog.isPrepared(dir)) {
            missing("the catalogue model " + name + " in " + dir, "run './jembed model setup " + name
                    + "' (the README's test command sets up every catalogue model)");
        }
        return dir;
    }

    /** The langchain4j jar of a catalogue model, in the local Maven repository. */
    public static Path catalogueArtifact(String name) {
        ModelCatalog.Entry entry = ModelCatalog.find(name).orElseThrow();
        String[] gav = entry.artifact().split(":");
        String local = System.getProperty("maven.repo.local");
        Path repo = local != null ? Path.of(local) : Path.of(System.getProperty("user.home"), ".m2", "repository");
        Path jar = repo.resolve(gav[0].replace('.', '/')).resolve(gav[1]).resolve(gav[2])
                .resolve(gav[1] + "-" + gav[2] + ".jar");
        if (!Files.isRegularFile(jar)) {
            missing(entry.artifact() + " at " + jar, "run './jembed model setup " + name + "', which fetches it");
        }
        return jar;
    }

    /** The langchain4j jar holding the default model's ONNX export, in the local Maven repository. */
    public static Path defaultModelArtifact() {
        return catalogueArtifact(ModelCatalog.DEFAULT_NAME);
    }

    /** A file or directory under the shared evaluation data ({@code ../shared/data} beside the repo). */
    public static Path sharedData(String relative) {
        String root = System.getProperty("jembed.sharedData");
        Path base = root != null ? Path.of(root) : Path.of("..", "shared", "data");
        Path path = base.resolve(relative).normalize();
        if (!Files.exists(path)) {
            missing("evaluation data " + path, "the tests read ../shared/data beside the repository checkout");
        }
        return path;
    }
}
