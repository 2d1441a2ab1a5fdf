package io.jembed.tests;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

import io.jembed.core.cli.Cli;
import io.jembed.core.cli.Main;

/** One in-process run of the CLI with its exit code and what it printed on stdout and stderr. */
record CliRun(int code, String out, String err) {

    static CliRun run(String... words) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = Main.run(words, new Cli(new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8), false, false));
        return new CliRun(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    /** {@link #run} with {@code --model DIR} appended, as the end-to-end tests run every command. */
    static CliRun withModel(java.nio.file.Path model, String... words) {
        String[] all = java.util.Arrays.copyOf(words, words.length + 2);
        all[words.length] = "--model";
        all[words.length + 1] = model.toString();
        return run(all);
    }
}
