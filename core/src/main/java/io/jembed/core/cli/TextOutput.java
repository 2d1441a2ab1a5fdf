package io.jembed.core.cli;

import java.io.BufferedOutputStream;
import java.io.Closeable;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

import com.fasterxml.jackson.core.JsonEncoding;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.util.MinimalPrettyPrinter;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * Where a command writes its results: standard output for "-", else a file that appears only
 * when the command succeeds (written to a temporary sibling, synced, then renamed), so a failed
 * or interrupted run never leaves a half-written output in place of an old one.
 */
public final class TextOutput implements Closeable {

    /** A factory with a codec, so generators can write JsonNode trees (ids are any JSON value). */
    private static final JsonFactory JSON = new ObjectMapper().getFactory();

    private final Path target;
    private final Path temporary;
    private final FileOutputStream file;
    private final OutputStream stream;
    private boolean committed;

    /** Deletes the temporary file if the JVM is stopped (Ctrl-C, SIGTERM) before commit or close. */
    private final Thread cleanup;

    private TextOutput(Path target, Path temporary, FileOutputStream file, OutputStream stream) {
        this.target = target;
        this.temporary = temporary;
        this.file = file;
        this.stream = stream;
        if (temporary != null) {
            this.cleanup = new Thread(() -> {
                try {
                    Files.deleteIfExists(temporary);
                } catch (IOException e) {
                    // the JVM is going away; nothing else to do
                }
            }, "jembed-output-cleanup");
            Runtime.getRuntime().addShutdownHook(cleanup);
        } else {
            this.cleanup = null;
        }
    }

    /**
     * Standard output that notices a closed reader: PrintStream swallows the broken pipe, so
     * {@code jembed embed ... | head} would embed everything for no one and exit 0.
     */
    private static final class Checked extends OutputStream {
        private final java.io.PrintStream out;

        Checked(java.io.PrintStream out) {
            this.out = out;
        }

        @Override
        public void write(int b) throws IOException {
            out.write(b);
            check();
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            out.write(b, off, len);
            check();
        }

        @Override
        public void flush() throws IOException {
            out.flush();
            check();
        }

        private void check() throws IOException {
            if (out.checkError()) {
                throw new IOException("standard output was closed (broken pipe), so nothing more is written");
            }
        }
    }

    private void forgetCleanup() {
        if (cleanup != null) {
            try {
                Runtime.getRuntime().removeShutdownHook(cleanup);
            } catch (IllegalStateException e) {
                // shutting down already: the hook deletes the temporary file
            }
        }
    }

    public static TextOutput open(String pathOrDash, java.io.PrintStream stdout) throws IOException {
        if (pathOrDash.equals("-")) {
            return new TextOutput(null, null, null, new BufferedOutputStream(new Checked(stdout), 1 << 16) {
                @Override
                public void close() throws IOException {
                    flush();
                }
            });
        }
        Path target = Path.of(pathOrDash).toAbsolutePath();
        if (Files.isDirectory(target)) {
            throw new CliException("output " + target + " is a directory; expected a file path");
        }
        Path parent = target.getParent();
        if (!Files.isDirectory(parent)) {
            throw new CliException("output directory " + parent + " does not exist");
        }
        Path temporary = createTemporary(parent, target.getFileName().toString());
        FileOutputStream file = new FileOutputStream(temporary.toFile());
        return new TextOutput(target, temporary, file, new BufferedOutputStream(file, 1 << 16));
    }

    /**
     * A new hidden file beside the target, created with the default permissions (0666 less the
     * umask, as any file the user makes): Files.createTempFile would make it 0600, and the rename
     * would hand the user an output only they can read.
     */
    private static Path createTemporary(Path parent, String name) throws IOException {
        java.util.concurrent.ThreadLocalRandom random = java.util.concurrent.ThreadLocalRandom.current();
        while (true) {
            Path candidate = parent.resolve("." + name + "." + Long.toUnsignedString(random.nextLong(), 36) + ".tmp");
            try {
                return Files.createFile(candidate);
            } catch (java.nio.file.FileAlreadyExistsException e) {
                // another name
            }
        }
    }

    /**
     * Refuses an output that is the input file: the output replaces its target only once complete,
     * so writing over the input would lose the input (a usage error, exit 2).
     */
    static void refuseOverwritingInput(String command, String input, String output) throws IOException {
        if (input.equals("-") || output.equals("-")) {
            return;
        }
        Path in = Path.of(input).toAbsolutePath().normalize();
        Path out = Path.of(output).toAbsolutePath().normalize();
        if (in.equals(out) || (Files.exists(in) && Files.exists(out) && Files.isSameFile(in, out))) {
            throw CliException.usage(command + ": --output " + output + " is the --input file; expected another path "
                    + "(writing there would replace the input)");
        }
    }

    public OutputStream stream() {
        return stream;
    }

    /**
     * A JSON generator over this output for JSON Lines: the caller writes one value, then
     * {@code writeRaw('\n')}; no separator is added between values. Closing it leaves the
     * output open.
     */
    public JsonGenerator jsonLines() throws IOException {
        JsonGenerator json = JSON.createGenerator(stream, JsonEncoding.UTF8);
        json.configure(JsonGenerator.Feature.AUTO_CLOSE_TARGET, false);
        json.setPrettyPrinter(new MinimalPrettyPrinter(""));
        return json;
    }

    /** Makes the output visible: flush, sync and rename over the target. */
    public void commit() throws IOException {
        stream.flush();
        if (file != null) {
            file.getFD().sync();
            stream.close();
            Files.move(temporary, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            forgetCleanup();
        }
        committed = true;
    }

    /** Without a {@link #commit()}, discards what was written (the target keeps its old content). */
    @Override
    public void close() throws IOException {
        if (committed) {
            return;
        }
        if (file == null) {
            stream.flush();
            return;
        }
        stream.close();
        Files.deleteIfExists(temporary);
        forgetCleanup();
    }
}
