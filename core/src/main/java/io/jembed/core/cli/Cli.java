package io.jembed.core.cli;

import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

import io.jembed.core.model.DefaultModel;

/**
 * What every command shares: the output streams, whether stderr is a terminal (for progress
 * lines), and how the model directory is chosen ({@code --model}, then {@code JEMBED_MODEL},
 * then the default model, prepared on first use).
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
     * The model directory for this run: {@code --model DIR}, else {@code $JEMBED_MODEL}, else the
     * default model, which is prepared (fetched and imported) the first time it is needed.
     */
    public Path modelDir(Args args) {
        var given = args.path("model");
        if (given.isPresent()) {
            return checkModelDir(given.get(), "--model");
        }
        String env = System.getenv("JEMBED_MODEL");
        if (env != null && !env.isBlank()) {
            return checkModelDir(Path.of(env), "JEMBED_MODEL");
        }
        try {
            return DefaultModel.ensure(DefaultModel.defaultDir(), err);
        } catch (java.io.IOException e) {
            throw new CliException("could not prepare the default model in " + DefaultModel.defaultDir()
                    + ": " + e.getMessage(), e);
        }
    }

    private static Path checkModelDir(Path dir, String source) {
        if (!java.nio.file.Files.isDirectory(dir)) {
            throw new CliException("model directory " + dir + " (from " + source + ") does not exist or is not a directory");
        }
        return dir;
    }
}
