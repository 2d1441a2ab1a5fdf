package io.jembed.core.cli;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A progress line on stderr ("1,024 / 10,000 texts  412 texts/s  ETA 0:21"), rewritten in place
 * at most a few times a second, shown only when stderr is a terminal so that logs and pipes
 * stay clean.
 */
final class Progress {

    private static final long REDRAW_NANOS = 250_000_000L;

    private final PrintStream err;
    private final boolean enabled;
    private final String unit;
    private final long total;
    private final long start = System.nanoTime();
    private long done;
    private long lastDraw;
    private int lastWidth;

    /**
     * @param total the expected count, or -1 when unknown (no ETA then)
     */
    Progress(Cli cli, String unit, long total) {
        this.err = cli.err();
        this.enabled = cli.progressOnStderr();
        this.unit = unit;
        this.total = total;
    }

    /** Counts the non-blank lines of a file (for an ETA), or -1 for stdin or when not worth it. */
    static long countLines(String pathOrDash, boolean enabled) {
        if (!enabled || pathOrDash.equals("-")) {
            return -1;
        }
        long lines = 0;
        boolean content = false;
        byte[] buffer = new byte[1 << 16];
        try (InputStream in = Files.newInputStream(Path.of(pathOrDash))) {
            for (int n; (n = in.read(buffer)) > 0; ) {
                for (int i = 0; i < n; i++) {
                    if (buffer[i] == '\n') {
                        if (content) {
                            lines++;
                        }
                        content = false;
                    } else if (buffer[i] != ' ' && buffer[i] != '\r' && buffer[i] != '\t') {
                        content = true;
                    }
                }
            }
        } catch (IOException e) {
            return -1;
        }
        return content ? lines + 1 : lines;
    }

    /** Counts n more items done and redraws if due. */
    void add(long n) {
        update(done + n);
    }

    void update(long done) {
        this.done = done;
        if (!enabled) {
            return;
        }
        long now = System.nanoTime();
        if (now - lastDraw < REDRAW_NANOS) {
            return;
        }
        lastDraw = now;
        draw(done, now);
    }

    /** Clears the progress line; the caller prints its own summary after it. */
    void finish() {
        if (enabled && lastWidth > 0) {
            err.print("\r" + " ".repeat(lastWidth) + "\r");
            err.flush();
        }
    }

    private void draw(long done, long now) {
        double seconds = (now - start) / 1e9;
        double rate = seconds > 0 ? done / seconds : 0;
        StringBuilder line = new StringBuilder();
        line.append(String.format("  %,d", done));
        if (total > 0) {
            line.append(String.format(" / %,d", total));
        }
        line.append(' ').append(unit).append(String.format("  %,.0f %s/s", rate, unit));
        if (total > 0 && rate > 0 && done < total) {
            long eta = Math.round((total - done) / rate);
            line.append(String.format("  ETA %d:%02d", eta / 60, eta % 60));
        }
        String text = line.toString();
        err.print("\r" + text + " ".repeat(Math.max(0, lastWidth - text.length())));
        err.flush();
        lastWidth = text.length();
    }

    /**
     * The line a streaming command ends with, e.g. "jembed: embedded 1,000 texts in 3.2 s
     * (312.5 texts/s), skipped 2 bad lines -> out.jsonl".
     */
    static String summary(String verb, long count, String unit, long nanos, long skipped, String output) {
        return "jembed: " + verb + " " + String.format("%,d", count) + " " + unit + " in "
                + String.format("%.1f", nanos / 1e9) + " s (" + rate(count, nanos) + " " + unit + "/s)"
                + (skipped > 0 ? ", skipped " + skipped + " bad lines" : "")
                + (output.equals("-") ? "" : " -> " + output);
    }

    static String rate(long count, long nanos) {
        double seconds = nanos / 1e9;
        return String.format("%,.1f", seconds > 0 ? count / seconds : 0.0);
    }
}
