package io.jembed.benchmarks;

import java.io.IOException;
import java.nio.file.FileSystemException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The command line of the small file-in, file-out benchmark tools ({@link OrtFileEmbed}, {@link WriteCorpus},
 * {@link CompareEmbeddings}): {@code --flag value} pairs checked against the tool's flags, and one exit
 * convention so a script can tell a mistake in its own arguments (2, message and usage) from a bad input
 * file or a failed check (1, message), neither with a stack trace.
 */
final class ToolArgs {

    /** A tool's body; returns the process exit code. */
    @FunctionalInterface
    interface Body {
        int run(ToolArgs flags) throws Exception;
    }

    private final String tool;
    private final Map<String, String> values;

    private ToolArgs(String tool, Map<String, String> values) {
        this.tool = tool;
        this.values = values;
    }

    /**
     * Parses args against {@code flags}, runs body and exits with its code. IllegalArgumentException is a
     * mistake in the arguments, IOException a bad or missing file: both are reported as one line.
     */
    static void run(String tool, String usage, List<String> flags, String[] args, Body body) throws Exception {
        run(tool, usage, flags, List.of(), args, body);
    }

    /** As {@link #run(String, String, List, String[], Body)}, with {@code switches}: flags that take no value. */
    static void run(String tool, String usage, List<String> flags, List<String> switches, String[] args, Body body)
            throws Exception {
        int exitCode;
        try {
            ToolArgs parsed = parse(tool, flags, switches, args);
            if (parsed == null) {
                System.out.println(usage);
                exitCode = 0;
            } else {
                exitCode = body.run(parsed);
            }
        } catch (IllegalArgumentException e) {
            System.err.println(tool + ": " + e.getMessage());
            System.err.println(usage);
            exitCode = 2;
        } catch (IOException e) {
            // The JDK's file errors carry only the path when the OS gives no reason; their type is the reason.
            boolean pathOnly = e instanceof FileSystemException files && files.getReason() == null;
            System.err.println(tool + ": " + (pathOnly ? e.getClass().getSimpleName() + " " : "") + e.getMessage());
            exitCode = 1;
        }
        System.exit(exitCode);
    }

    /** The flags given, or null when --help asks for the usage only. */
    private static ToolArgs parse(String tool, List<String> flags, List<String> switches, String[] args) {
        var values = new LinkedHashMap<String, String>();
        for (int i = 0; i < args.length; i++) {
            String flag = args[i];
            if (flag.equals("--help") || flag.equals("-h")) {
                return null;
            }
            if (switches.contains(flag)) {
                if (values.put(flag, "true") != null) {
                    throw new IllegalArgumentException("argument " + flag + ": expected once, found twice");
                }
                continue;
            }
            if (!flags.contains(flag)) {
                var known = new java.util.ArrayList<>(flags);
                known.addAll(switches);
                throw new IllegalArgumentException("argument '" + flag + "': expected one of " + String.join(", ", known));
            }
            if (i + 1 >= args.length) {
                throw new IllegalArgumentException("argument " + flag + ": expected a value, found the end of the arguments");
            }
            if (values.put(flag, args[++i]) != null) {
                throw new IllegalArgumentException("argument " + flag + ": expected once, found twice");
            }
        }
        return new ToolArgs(tool, values);
    }

    /** Whether a value-less switch was given. */
    boolean present(String flag) {
        return values.containsKey(flag);
    }

    String string(String flag, String fallback) {
        return values.getOrDefault(flag, fallback);
    }

    String required(String flag) {
        String value = values.get(flag);
        if (value == null) {
            throw new IllegalArgumentException("argument " + flag + ": expected a value, found none (it is required)");
        }
        return value;
    }

    Path requiredPath(String flag) {
        return Path.of(required(flag));
    }

    int requiredInteger(String flag, int minimum) {
        required(flag);
        return integer(flag, minimum, minimum);
    }

    int integer(String flag, int fallback, int minimum) {
        String value = values.get(flag);
        if (value == null) {
            return fallback;
        }
        int parsed;
        try {
            parsed = Integer.parseInt(value);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("argument " + flag + ": expected an integer, found '" + value + "'");
        }
        if (parsed < minimum) {
            throw new IllegalArgumentException("argument " + flag + ": expected >= " + minimum + ", found " + parsed);
        }
        return parsed;
    }

    long longInteger(String flag, long fallback) {
        String value = values.get(flag);
        try {
            return value == null ? fallback : Long.parseLong(value);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("argument " + flag + ": expected an integer, found '" + value + "'");
        }
    }

    double decimal(String flag, double fallback) {
        String value = values.get(flag);
        try {
            return value == null ? fallback : Double.parseDouble(value);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("argument " + flag + ": expected a number, found '" + value + "'");
        }
    }

    /** A line on stderr under the tool's name, for the summaries a script logs. */
    void note(String message) {
        System.err.println(tool + ": " + message);
    }
}
