package io.jembed.spark;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.Optional;

import org.apache.spark.SparkEnv;
import org.apache.spark.SparkFiles;

import io.jembed.core.cli.Cli;
import io.jembed.core.cli.Main;
import io.jembed.core.model.ModelCatalog;
import io.jembed.core.model.ModelDirectory;

/**
 * The model a job names, as the driver found it: the option's value, which every executor resolves
 * again in its own file system, and the sha256 of the driver's weights, which each executor's copy
 * must match, so that one job never mixes vectors of two models.
 *
 * <p>A value resolves, in order, to a directory at that path; a directory of that name among the
 * job's files ({@code spark-submit --archives model.tgz#NAME}, {@link SparkFiles}); a catalogue
 * model already set up in {@code ~/.cache/jembed/models/NAME}. Only the driver sets a catalogue model
 * up (from Maven Central); an executor on another host needs it there already, or one of the others.
 */
record ModelRef(String value, String name, String sha256) implements Serializable {

    /**
     * Reads the model value names on the driver, setting a catalogue model up if it is not yet; the
     * reference to send to executors is {@link #of}.
     */
    static ModelDirectory readOnDriver(String value) {
        Optional<Path> found = find(value);
        if (found.isEmpty()) {
            Optional<ModelCatalog.Entry> entry = ModelCatalog.find(value);
            if (entry.isEmpty()) {
                throw new IllegalArgumentException("model '" + value + "': expected a model directory, a directory "
                        + "shipped with --archives, or a catalogue model (" + String.join(", ", ModelCatalog.names())
                        + "), found none of them");
            }
            setUp(entry.get());
            found = find(value);
        }
        Path dir = found.orElseThrow();
        try {
            return ModelDirectory.read(dir);
        } catch (IOException e) {
            throw new UncheckedIOException("model '" + value + "' in " + dir + ": " + e.getMessage(), e);
        }
    }

    /** The reference executors resolve value by, checked against this directory's weights. */
    static ModelRef of(String value, ModelDirectory directory) {
        try {
            return new ModelRef(value, directory.name(), directory.weightsSha256());
        } catch (IOException e) {
            throw new UncheckedIOException("model '" + value + "' in " + directory.dir() + ": " + e.getMessage(), e);
        }
    }

    /** The model directory this value names here (driver or executor), checked against the driver's weights. */
    Path dir() {
        Path dir = find(value).orElseThrow(() -> new IllegalStateException("model '" + value + "': expected it on "
                + host() + " as a directory, a file shipped with --archives, or a catalogue model set up in "
                + ModelCatalog.cacheRoot() + " (jembed model setup " + value + "), found none; an executor on another"
                + " host needs the model too: put it on shared storage and pass its path, or ship it with --archives"));
        return dir;
    }

    /** The model directory here, read and checked against the driver's weights. */
    ModelDirectory read() {
        Path dir = dir();
        try {
            ModelDirectory directory = ModelDirectory.read(dir);
            String here = directory.weightsSha256();
            if (!here.equals(sha256)) {
                throw new IllegalStateException("model '" + value + "' on " + host() + " (" + dir + "): expected the "
                        + "driver's weights (sha256 " + sha256 + "), found sha256 " + here + "; every executor must "
                        + "have the same model");
            }
            return directory;
        } catch (IOException e) {
            throw new UncheckedIOException("model '" + value + "' in " + dir + " on " + host() + ": " + e.getMessage(), e);
        }
    }

    private static Optional<Path> find(String value) {
        try {
            Path path = Path.of(value);
            if (Files.isDirectory(path)) {
                return Optional.of(path);
            }
        } catch (InvalidPathException e) {
            // Not a path: a job file's or a catalogue name.
        }
        if (SparkEnv.get() != null && !value.contains("/")) {
            try {
                Path shipped = Path.of(SparkFiles.get(value));
                if (Files.isDirectory(shipped)) {
                    return Optional.of(shipped);
                }
            } catch (RuntimeException e) {
                // No job files here.
            }
        }
        return ModelCatalog.find(value).map(ModelCatalog::defaultDir).filter(ModelCatalog::isPrepared);
    }

    /** jembed model setup NAME, in this JVM, its notices on stderr. */
    private static void setUp(ModelCatalog.Entry entry) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = Main.run(new String[] {"model", "setup", entry.name()},
                new Cli(new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8),
                        false, false));
        System.err.print(err.toString(StandardCharsets.UTF_8));
        if (code != 0) {
            throw new IllegalStateException("model '" + entry.name() + "': set-up failed (exit " + code + "): "
                    + err.toString(StandardCharsets.UTF_8).strip());
        }
    }

    static String host() {
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (IOException e) {
            return "this host";
        }
    }
}
