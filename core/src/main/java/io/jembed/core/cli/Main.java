package io.jembed.core.cli;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code jembed <command> [options]}: dispatches to a {@link Command} and turns failures into
 * one-paragraph messages and exit codes (stack traces only with {@code --verbose}).
 */
public final class Main {

    /** Every command, in the order {@code --help} lists them. */
    static List<Command> commands() {
        return List.of(
                new DemoCommand(),
                new EmbedCommand(),
                new TokenizeCommand(),
                new SimilarityCommand(),
                new IndexCommand(),
                new DeleteCommand(),
                new CompactCommand(),
                new SearchCommand(),
                new ServeCommand(),
                new ModelCommand());
    }

    private Main() {
    }

    public static void main(String[] argv) {
        int code = run(argv);
        System.out.flush();
        System.exit(code);
    }

    /** Runs the CLI and returns its exit code; never exits the JVM (tests call this). */
    public static int run(String[] argv) {
        boolean verbose = Arrays.asList(argv).contains("--verbose");
        String[] words = Arrays.stream(argv).filter(w -> !w.equals("--verbose")).toArray(String[]::new);
        Cli cli = Cli.system(verbose);
        configureLogging(verbose);
        try {
            return run(words, cli);
        } finally {
            cli.out().flush();
            cli.err().flush();
        }
    }

    /** Runs one command line against the given streams (tests capture them); never exits the JVM. */
    public static int run(String[] words, Cli cli) {
        Map<String, Command> byName = new LinkedHashMap<>();
        for (Command command : commands()) {
            byName.put(command.name(), command);
        }
        if (words.length == 0 || words[0].equals("--help") || words[0].equals("-h") || words[0].equals("help")) {
            if (words.length >= 2 && byName.containsKey(words[1])) {
                cli.out().println(byName.get(words[1]).usage());
            } else {
                cli.out().print(overview(byName));
            }
            return words.length == 0 ? CliException.USAGE : 0;
        }
        if (words[0].equals("--version") || words[0].equals("version")) {
            cli.out().println("jembed " + version());
            return 0;
        }
        Command command = byName.get(words[0]);
        if (command == null) {
            cli.err().println("jembed: unknown command '" + words[0] + "'. Commands: "
                    + String.join(", ", byName.keySet()) + ". See 'jembed --help'.");
            return CliException.USAGE;
        }
        String[] rest = Arrays.copyOfRange(words, 1, words.length);
        if (Arrays.asList(rest).contains("--help") || Arrays.asList(rest).contains("-h")) {
            cli.out().println(command.usage());
            return 0;
        }
        try {
            Args args = Args.parse(command.name(), rest, command.switches(), command.options());
            return command.run(args, cli);
        } catch (CliException e) {
            report(cli, command, e.getMessage(), e);
            return e.exitCode();
        } catch (OutOfMemoryError e) {
            report(cli, command, "out of memory (" + e.getMessage() + "); give the JVM more with "
                    + "JEMBED_JAVA_OPTS=-Xmx8g, or use a smaller --max-batch-tokens", e);
            return CliException.FAILED;
        } catch (Exception e) {
            report(cli, command, describe(e), e);
            return CliException.FAILED;
        } catch (StackOverflowError | LinkageError e) {
            report(cli, command, "internal error: " + describe(e.getCause() != null ? e.getCause() : e), e);
            return CliException.FAILED;
        }
    }

    /**
     * Library log lines (such as the kernel choice) are for --verbose runs; a plain run shows
     * only the command's own output, warnings excepted.
     */
    private static void configureLogging(boolean verbose) {
        System.setProperty("java.util.logging.SimpleFormatter.format", "jembed: %5$s%6$s%n");
        java.util.logging.Logger root = java.util.logging.Logger.getLogger("");
        root.setLevel(verbose ? java.util.logging.Level.INFO : java.util.logging.Level.WARNING);
        for (java.util.logging.Handler handler : root.getHandlers()) {
            handler.setFormatter(new java.util.logging.SimpleFormatter());
            handler.setLevel(root.getLevel());
        }
    }

    /** A message for an unexpected exception: its own text, and its cause's when that adds something. */
    static String describe(Throwable e) {
        String message = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        if (e instanceof java.nio.file.NoSuchFileException) {
            message = "no such file: " + e.getMessage();
        } else if (e instanceof java.nio.file.AccessDeniedException) {
            message = "permission denied: " + e.getMessage();
        } else if (e instanceof java.io.UncheckedIOException u && u.getCause() != null) {
            return describe(u.getCause());
        }
        Throwable cause = e.getCause();
        if (cause != null && cause.getMessage() != null && !message.contains(cause.getMessage())) {
            message += " (" + cause.getMessage() + ")";
        }
        return message;
    }

    /** Prints "jembed <command>: <message>", the one paragraph a user sees. */
    private static void report(Cli cli, Command command, String message, Throwable e) {
        String prefix = command.name() + ": ";
        cli.err().println("jembed " + (message.startsWith(prefix) ? message : prefix + message));
        if (cli.verbose()) {
            e.printStackTrace(cli.err());
        } else if (!(e instanceof CliException c && c.getCause() == null)) {
            cli.err().println("(run with --verbose for the stack trace)");
        }
    }

    private static String overview(Map<String, Command> byName) {
        StringBuilder text = new StringBuilder();
        text.append("jembed ").append(version()).append(" - text embeddings and semantic search in pure Java\n\n");
        text.append("usage: jembed <command> [options]     (jembed <command> --help for its options)\n\ncommands:\n");
        for (Command command : byName.values()) {
            text.append(String.format("  %-12s %s%n", command.name(), command.summary()));
        }
        text.append(String.format("  %-12s %s%n", "test", "the test suite, what CI runs (./jembed test; the launcher runs it with Maven)"));
        text.append(String.format("  %-12s %s%n", "bench", "benchmarks: ./jembed bench e2e (the race against ONNX Runtime) or a JMH name"));
        text.append("""

                global options:
                  --model DIR   a model directory (safetensors + config.json + tokenizer.json);
                                default: $JEMBED_MODEL, else all-MiniLM-L6-v2 prepared on first use
                  --verbose     show stack traces on errors
                  --version     print the version
                """);
        return text.toString();
    }

    static String version() {
        String version = Main.class.getPackage().getImplementationVersion();
        return version == null ? "0.1.0-SNAPSHOT" : version;
    }
}
