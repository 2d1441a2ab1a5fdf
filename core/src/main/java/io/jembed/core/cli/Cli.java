package io.jembed.core.cli;

import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import io.jembed.core.model.ModelCatalog;

/**
 * What every command shares: the output streams, whether stderr is a terminal (for progress
 * lines), and how the model directory is chosen ({@code --model}, then {@code JEMBED_MODEL},
 * then the default model; a catalogue name is set up on first use).
 */
public final class Cli {

    private final PrintStream out;
    private final PrintStream err;
    private final boolean verbose;
    private final boolean stderrIsTerminal;

    public Cli(PrintStream out, PrintStream err, boolean verbose, boolean stderrIsTerminal) {
        this.out = out;
        this.err = err;
        this.verbose = verbose;
        this.stderrIsTerminal = stderrIsTerminal;
    }

    static Cli system(boolean verbose) {
        PrintStream out = new PrintStream(new java.io.FileOutputStream(java.io.FileDescriptor.out), false,
                StandardCharsets.UTF_8);
        PrintStream err = new PrintStream(new java.io.FileOutputStream(java.io.FileDescriptor.err), true,
                StandardCharsets.UTF_8);
        // The launcher knows whether stderr is a terminal (it filters stderr, so the JVM cannot tell).
        String tty = System.getProperty("jembed.stderrTty");
        boolean terminal = tty != null ? Boolean.parseBoolean(tty)
                : System.console() != null && System.console().isTerminal();
        return new Cli(out, err, verbose, terminal);
    }

    public PrintStream out() {
        return out;
    }

    public PrintStream err() {
        return err;
    }

    public boolean verbose() {
        return verbose;
    }

    /** True when progress lines (rewritten with \r) may be shown on stderr. */
    public boolean progressOnStderr() {
        return stderrIsTerminal;
    }

    /**
     * The model directory for this run: {@code --model NAME|DIR}, else {@code $JEMBED_MODEL}, else
     * the default model. A directory is taken as it is; a catalogue name is set up (fetched and
     * imported) the first time it is needed.
     */
    public Path modelDir(Args args) {
        return modelDir(args, ModelCatalog.DEFAULT_NAME);
    }

    /** As {@link #modelDir(Args)}, with another model than the default when neither option nor variable names one. */
    public Path modelDir(Args args, String fallback) {
        var given = args.option("model");
        if (given.isPresent()) {
            return resolveModel(given.get(), "--model");
        }
        String env = System.getenv("JEMBED_MODEL");
        if (env != null && !env.isBlank()) {
            return resolveModel(env, "JEMBED_MODEL");
        }
        return resolveModel(fallback, fallback.equals(ModelCatalog.DEFAULT_NAME) ? "the default" : "the index manifest");
    }

    /** A model directory for a catalogue name or a directory path; source names where the value came from. */
    Path resolveModel(String value, String source) {
        Path path;
        try {
            path = Path.of(value);
        } catch (java.nio.file.InvalidPathException e) {
            path = null;
        }
        if (path != null && Files.isDirectory(path)) {
            return path;
        }
        var entry = ModelCatalog.find(value);
        if (entry.isEmpty()) {
            throw new CliException("model '" + value + "' (from " + source + "): expected a catalogue model ("
                    + String.join(", ", ModelCatalog.names()) + ") or a model directory, found neither"
                    + (path != null && Files.exists(path) ? " (" + value + " is a file)" : ""));
        }
        Path dir = ModelCatalog.defaultDir(entry.get());
        try {
            return ModelSetup.ensure(entry.get(), dir, err);
        } catch (java.io.IOException e) {
            throw new CliException("could not set up " + entry.get().name() + " in " + dir + ": " + Main.describe(e), e);
        }
    }
}
