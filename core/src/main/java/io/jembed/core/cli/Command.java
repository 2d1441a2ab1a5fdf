package io.jembed.core.cli;

/**
 * One CLI sub-command ({@code jembed <name> ...}). Implementations parse their own options from
 * {@link Args}, write results to {@link Cli#out()} and messages to {@link Cli#err()}, and report
 * caller mistakes as {@link CliException}.
 */
public interface Command {

    /** The word on the command line, e.g. "embed". */
    String name();

    /** One line for the command list of {@code jembed --help}. */
    String summary();

    /** The full usage text shown by {@code jembed <name> --help}. */
    String usage();

    /** Options of this command that take no value (without dashes), e.g. "append". */
    default java.util.Set<String> switches() {
        return java.util.Set.of();
    }

    /**
     * Options of this command that take a value (without dashes, short aliases such as "k"
     * included): every name its run reads, and the ones {@link #usage()} lists. No default, so a
     * new command cannot forget them and have every option refused.
     */
    java.util.Set<String> options();

    /**
     * Runs the command.
     *
     * @return the process exit code (0 on success)
     */
    int run(Args args, Cli cli) throws Exception;
}
