package io.jembed.benchmarks;

import com.fasterxml.jackson.core.JsonEncoding;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.util.MinimalPrettyPrinter;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedReader;
import java.io.FileOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * JSONL as the file tools read and write it. Reading is line by line with the line number in every error;
 * writing goes the way {@code jembed embed} writes (one compact object per line, fsync, then an atomic
 * rename over the target), so the ONNX Runtime side of the whole-process race pays the same output costs.
 */
final class JsonLines implements AutoCloseable {

    static final ObjectMapper JSON = new ObjectMapper();

    /** One non-blank line: its 1-based number in the file and its object. */
    record Line(long number, ObjectNode object) {}

    /** Writes a file's lines through the generator, ending each with {@code json.writeRaw('\n')}. */
    @FunctionalInterface
    interface Body {
        void write(JsonGenerator json) throws IOException;
    }

    private final Path file;
    private final BufferedReader reader;
    private long lineNumber;

    private JsonLines(Path file, BufferedReader reader) {
        this.file = file;
        this.reader = reader;
    }

    /** Opens a file for reading; strict UTF-8, so bad bytes fail instead of turning into U+FFFD. */
    static JsonLines open(Path file) throws IOException {
        if (!Files.isRegularFile(file)) {
            throw new NoSuchFileException(file.toString(), null, "expected a JSONL file, found none");
        }
        return new JsonLines(file, Files.newBufferedReader(file, StandardCharsets.UTF_8));
    }

    /** The next non-blank line as an object, or null at the end of the file. */
    Line next() throws IOException {
        String line;
        do {
            line = reader.readLine();
            if (line == null) {
                return null;
            }
            lineNumber++;
            if (lineNumber == 1 && line.startsWith("\uFEFF")) {
                line = line.substring(1);
            }
        } while (line.isBlank());
        JsonNode node;
        try {
            node = JSON.readTree(line);
        } catch (JsonProcessingException e) {
            throw new IOException(where() + ": expected a JSON object, found invalid JSON (" + e.getOriginalMessage() + ")");
        }
        if (!(node instanceof ObjectNode object)) {
            throw new IOException(where() + ": expected a JSON object, found " + node.getNodeType());
        }
        return new Line(lineNumber, object);
    }

    /** "FILE line N", for errors about the line just read. */
    String where() {
        return file + " line " + lineNumber;
    }

    @Override
    public void close() throws IOException {
        reader.close();
    }

    /**
     * Writes {@code target} through {@code body}; the target appears only once everything is written and
     * synced, as jembed's output does, so a failed run leaves no half-written file behind.
     */
    static void writeAtomically(Path target, Body body) throws IOException {
        Path directory = target.toAbsolutePath().getParent();
        if (directory == null || !Files.isDirectory(directory)) {
            throw new NoSuchFileException(target.toString(), null, "output directory: expected a directory, found none");
        }
        Path temporary = Files.createTempFile(directory, "." + target.getFileName(), ".partial");
        try {
            try (var stream = new FileOutputStream(temporary.toFile());
                 JsonGenerator json = JSON.createGenerator(stream, JsonEncoding.UTF8)) {
                json.configure(JsonGenerator.Feature.AUTO_CLOSE_TARGET, false);
                json.setPrettyPrinter(new MinimalPrettyPrinter(""));
                body.write(json);
                json.flush();
                stream.getFD().sync();
            }
            Files.move(temporary, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } finally {
            Files.deleteIfExists(temporary);
        }
    }
}
