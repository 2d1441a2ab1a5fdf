package io.jembed.core.cli;

/**
 * A failure the user can fix, reported as one paragraph without a stack trace.
 * Exit code 2 is a usage mistake (bad flag, missing argument); 1 is bad input or a failed run.
 */
public final class CliException extends RuntimeException {

    public static final int USAGE = 2;
    public static final int FAILED = 1;

    private final int exitCode;

    public CliException(String message) {
        this(message, FAILED);
    }

    public CliException(String message, int exitCode) {
        super(message);
        this.exitCode = exitCode;
    }

    public CliException(String message, Throwable cause) {
        super(message, cause);
        this.exitCode = FAILED;
    }

    public static CliException usage(String message) {
        return new CliException(message, USAGE);
    }

    public int exitCode() {
        return exitCode;
    }
}
