package io.jembed.core.cli;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.Set;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.IntNode;
import com.fasterxml.jackson.databind.node.LongNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * Reads the texts a command works on, streaming, one record at a time: JSONL lines
 * {@code {"id": <any JSON value>, "text": "..."}} (field names configurable), or plain text with
 * one text per line whose id is its line number. Every line is decoded as strict UTF-8, so bad
 * bytes are reported with their line number instead of being replaced silently. A bad line is
 * either fatal or reported and skipped, per {@link OnError}; blank lines are ignored.
 */
public final class TextInput implements Closeable {

    /** What to do with a line that cannot be read. */
    public enum OnError { FAIL, SKIP }

    /** Input formats: JSONL objects, or one text per line. */
    public enum Format { JSONL, TXT }

    /**
     * How a command reads its texts: {@code --format} (where the command offers it),
     * {@code --id-field}, {@code --text-field} and {@code --on-error}.
     *
     * @param textField  one field, or several separated by commas ("title,text"), whose strings are
     *                   joined with a space, as BEIR and MTEB join a title and a text
     * @param idRequired whether a line without the id field is an error (an --id-field was named);
     *                   otherwise such a line's id is its line number
     */
    public record Options(Format format, String idField, String textField, OnError onError, boolean idRequired) {

        public Options(Format format, String idField, String textField, OnError onError) {
            this(format, idField, textField, onError, false);
        }

        /** The options {@link #read(Args, boolean)} reads, for a command's {@link Command#options()}. */
        static Set<String> names(boolean withFormat) {
            return withFormat ? Set.of("format", "id-field", "text-field", "on-error")
                    : Set.of("id-field", "text-field", "on-error");
        }

        /** Reads the options from args; {@code withFormat} false means JSONL only. */
        static Options read(Args args, boolean withFormat) {
            Format format = withFormat ? args.choice("format", Format.class, Format.JSONL) : Format.JSONL;
            java.util.Optional<String> idField = args.option("id-field");
            String textField = args.string("text-field", "text");
            for (String name : textField.split(",", -1)) {
                if (name.isBlank()) {
                    throw CliException.usage(args.command() + ": --text-field expects field names separated by commas, "
                            + "found '" + textField + "'");
                }
            }
            return new Options(format, idField.orElse("id"), textField,
                    args.choice("on-error", OnError.class, OnError.FAIL), idField.isPresent());
        }

        /** The text fields, in joining order. */
        public List<String> textFields() {
            return List.of(textField.split(","));
        }
    }

    /**
     * One input record.
     *
     * @param line   1-based line number in the input
     * @param id     the record's id, any JSON value (the line number for plain text)
     * @param text   the text to work on
     * @param record the whole JSON object (null for plain text), for commands that keep extra fields
     */
    public record Record(long line, JsonNode id, String text, ObjectNode record) {
    }

    private static final ObjectMapper JSON = new ObjectMapper();

    /** Said with a line that is not a JSON object: the usual cause is a JSON array or a pretty-printed file. */
    private static final String JSON_LINES_HINT = "; the input must be JSON Lines, one object per line"
            + " (a JSON array or a pretty-printed file is not; jq -c '.[]' turns an array into lines)";

    private final InputStream in;
    private final String source;
    private final Format format;
    private final String idField;
    private final String textField;
    private final List<String> textFields;
    private final boolean idRequired;
    private final OnError onError;
    private final PrintStream warnings;
    private final ByteArrayOutputStream lineBytes = new ByteArrayOutputStream(256);
    private long lineNumber;
    private long skipped;
    private Record next;
    private boolean done;

    private TextInput(InputStream in, String source, Options options, PrintStream warnings) {
        this.in = new BufferedInputStream(in, 1 << 16);
        this.source = source;
        this.format = options.format();
        this.idField = options.idField();
        this.textField = options.textField();
        this.textFields = options.textFields();
        this.idRequired = options.idRequired();
        this.onError = options.onError();
        this.warnings = warnings;
    }

    /**
     * Opens a file, or standard input for "-".
     *
     * @param warnings where skipped lines are reported
     */
    public static TextInput open(String pathOrDash, Options options, PrintStream warnings) throws IOException {
        if (pathOrDash.equals("-")) {
            return of(System.in, "<stdin>", options, warnings);
        }
        Path path = Path.of(pathOrDash);
        if (Files.isDirectory(path)) {
            throw new CliException("input " + path + " is a directory; expected a " + describe(options.format()) + " file");
        }
        try {
            return of(Files.newInputStream(path), path.toString(), options, warnings);
        } catch (NoSuchFileException e) {
            throw new CliException("input file " + path + " does not exist");
        }
    }

    /** Reads from a stream (stdin, bundled resources). */
    public static TextInput of(InputStream in, String source, Options options, PrintStream warnings) {
        return new TextInput(in, source, options, warnings);
    }

    private static String describe(Format format) {
        return format == Format.JSONL ? "JSONL" : "plain text";
    }

    public boolean hasNext() throws IOException {
        while (next == null && !done) {
            if (!readLine()) {
                done = true;
                break;
            }
            next = parse();
        }
        return next != null;
    }

    public Record next() throws IOException {
        if (!hasNext()) {
            throw new NoSuchElementException("no more records in " + source);
        }
        Record record = next;
        next = null;
        return record;
    }

    /** Receives consecutive batches of records; the list is reused, so keep what you need from it. */
    @FunctionalInterface
    public interface BatchConsumer {
        void accept(List<Record> batch) throws Exception;
    }

    /**
     * Reads the rest of the input in batches of up to {@code size} records, in order, handing
     * each to {@code action}; returns how many records were read.
     */
    public long forEachBatch(int size, BatchConsumer action) throws Exception {
        List<Record> batch = new ArrayList<>(size);
        long count = 0;
        while (hasNext()) {
            batch.add(next());
            if (batch.size() == size) {
                action.accept(batch);
                count += batch.size();
                batch.clear();
            }
        }
        if (!batch.isEmpty()) {
            action.accept(batch);
            count += batch.size();
        }
        return count;
    }

    /** The texts of records, in order. */
    public static List<String> texts(List<Record> records) {
        List<String> texts = new ArrayList<>(records.size());
        for (Record record : records) {
            texts.add(record.text());
        }
        return texts;
    }

    /**
     * Fails when every line that was not blank was skipped: with --on-error skip, a file of only
     * bad lines is a mistake, not an empty result (exit 1, no output written).
     */
    public void requireSomeRead(long read) {
        if (read == 0 && skipped > 0) {
            throw new CliException("every line of " + source + " was skipped (" + skipped + " bad "
                    + (skipped == 1 ? "line" : "lines") + "); expected " + describe(format) + " records, nothing written");
        }
    }

    /** Lines reported and skipped so far (with {@link OnError#SKIP}). */
    public long skipped() {
        return skipped;
    }

    public String source() {
        return source;
    }

    private boolean readLine() throws IOException {
        lineBytes.reset();
        int b = in.read();
        if (b < 0) {
            return false;
        }
        lineNumber++;
        while (b >= 0 && b != '\n') {
            lineBytes.write(b);
            b = in.read();
        }
        return true;
    }

    /** The current line as a record, null for a blank or skipped line. */
    private Record parse() {
        String line;
        try {
            byte[] bytes = lineBytes.toByteArray();
            int length = bytes.length > 0 && bytes[bytes.length - 1] == '\r' ? bytes.length - 1 : bytes.length;
            line = StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes, 0, length)).toString();
        } catch (CharacterCodingException e) {
            return bad("is not valid UTF-8 (" + e.getMessage() + ")");
        }
        if (lineNumber == 1 && !line.isEmpty() && line.charAt(0) == '\uFEFF') {
            line = line.substring(1);
        }
        if (format == Format.TXT) {
            if (line.isBlank()) {
                return null;
            }
            return new Record(lineNumber, LongNode.valueOf(lineNumber), line, null);
        }
        if (line.isBlank()) {
            return null;
        }
        JsonNode node;
        try {
            node = JSON.readTree(line);
        } catch (JsonProcessingException e) {
            String problem = e.getOriginalMessage().replaceAll(" \\(code \\d+\\)", "").replaceAll("\\s+", " ");
            int column = e.getLocation() == null ? -1 : e.getLocation().getColumnNr();
            return bad("is not valid JSON (" + problem + (column > 0 ? ", column " + column : "") + ")" + JSON_LINES_HINT);
        }
        if (!(node instanceof ObjectNode object)) {
            return bad("is not a JSON object; expected {\"" + idField + "\": ..., \"" + textField + "\": \"...\"}"
                    + (node.isArray() ? JSON_LINES_HINT : ""));
        }
        String text = text(object);
        if (text == null) {
            return null;
        }
        JsonNode id = object.get(idField);
        if (id == null && idRequired) {
            return bad("has no \"" + idField + "\" field (named by --id-field)" + fieldsHint(object, "--id-field"));
        }
        if (id == null) {
            id = lineNumber <= Integer.MAX_VALUE ? IntNode.valueOf((int) lineNumber) : LongNode.valueOf(lineNumber);
        }
        return new Record(lineNumber, id, text, object);
    }

    /** The text of a line: its text field, or its text fields' strings joined; null when reported bad. */
    private String text(ObjectNode object) {
        if (textFields.size() == 1) {
            JsonNode text = object.get(textField);
            if (text == null) {
                bad("has no \"" + textField + "\" field" + fieldsHint(object, "--text-field"));
                return null;
            }
            if (text.isNull()) {
                bad("has \"" + textField + "\": null; expected a string");
                return null;
            }
            if (!text.isTextual()) {
                bad("has a \"" + textField + "\" that is " + text.getNodeType().toString().toLowerCase()
                        + ", expected a string");
                return null;
            }
            return text.textValue();
        }
        // Several fields: each a string, or absent or null (a BEIR document without a title); not all missing.
        StringBuilder joined = new StringBuilder();
        boolean any = false;
        for (String field : textFields) {
            JsonNode part = object.get(field);
            if (part == null || part.isNull()) {
                continue;
            }
            if (!part.isTextual()) {
                bad("has a \"" + field + "\" that is " + part.getNodeType().toString().toLowerCase()
                        + ", expected a string (it is one of the --text-field fields)");
                return null;
            }
            any = true;
            if (!part.textValue().isEmpty()) {
                joined.append(joined.isEmpty() ? "" : " ").append(part.textValue());
            }
        }
        if (!any) {
            bad("has none of the text fields \"" + String.join("\", \"", textFields) + "\""
                    + fieldsHint(object, "--text-field"));
            return null;
        }
        return joined.toString();
    }

    private static String fieldsHint(ObjectNode object, String option) {
        if (object.isEmpty()) {
            return "";
        }
        StringBuilder names = new StringBuilder(" (fields found: ");
        var it = object.fieldNames();
        for (int i = 0; it.hasNext() && i < 8; i++) {
            names.append(i == 0 ? "" : ", ").append(it.next());
        }
        return names.append("; choose one with ").append(option).append(")").toString();
    }

    private Record bad(String problem) {
        String message = source + " line " + lineNumber + " " + problem;
        if (onError == OnError.FAIL) {
            throw new CliException(message + " (use --on-error skip to report and skip such lines)");
        }
        skipped++;
        warnings.println("jembed: skipped " + message);
        return null;
    }

    @Override
    public void close() throws IOException {
        if (in != System.in) {
            in.close();
        }
    }
}
