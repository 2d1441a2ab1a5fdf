package io.jembed.core.index;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.NoSuchElementException;
import java.util.ServiceLoader;
import java.util.stream.Stream;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

import io.jembed.core.model.Prompt;

/**
 * Vectors embedded elsewhere (a Spark job) and kept beside their documents, so an index can be built
 * from them without embedding anything again.
 *
 * <p>The layout is Spark's output directory: data files ({@code part-*.parquet}, or JSON Lines
 * {@code part-*.json}/{@code *.jsonl}) whose rows are {@code {id, text, embedding, <other
 * fields>}}, and beside them {@value #DESCRIPTION_FILE}, the {@link Description} of what made the
 * vectors. A single JSON Lines file is read too, its description at {@code FILE._jembed.json}. Files
 * whose names start with {@code _} or {@code .} are not data (Spark's {@code _SUCCESS}, checksums).
 *
 * <p>JSON Lines are read here; Parquet by a {@link Format} found through {@link ServiceLoader}
 * (the jembed-spark module has one), so core depends on no Parquet library.
 */
public final class Embeddings {

    /** Embeddings that cannot be read: a description or row missing, malformed or of the wrong shape, with where. */
    public static final class FormatException extends RuntimeException {
        private static final long serialVersionUID = 1L;

        public FormatException(String message) {
            super(message);
        }
    }

    /** The description's file name inside an embeddings directory. */
    public static final String DESCRIPTION_FILE = "_jembed.json";
    /** What {@link Description#toJson()} writes under "format". */
    static final String FORMAT = "jembed-embeddings";
    static final int VERSION = 1;

    private static final ObjectMapper JSON = new ObjectMapper();

    private Embeddings() {
    }

    /**
     * What made a directory's vectors, written by the job that embedded them and checked by the index
     * that takes them: the same fields as an index's {@link EmbeddingSpec} (model and the sha256 of
     * its weights, dimension, pooling), the document prompt, and counts.
     *
     * @param dataFormat "parquet" or "jsonl": how the rows are stored
     * @param rows       rows written
     * @param truncated  texts that lost tokens to maxLength
     */
    public record Description(String model, String modelSha256, int dimension, String pooling, boolean normalize,
                              Prompt prompt, int maxLength, String dataFormat, long rows, long truncated) {

        public Description {
            // EmbeddingSpec's checks are the index's: a description that passes them can be compared with one.
            new EmbeddingSpec(model, modelSha256, dimension, pooling, normalize);
            if (prompt == null || !prompt.isResolved()) {
                throw new IllegalArgumentException("prompt: expected the prompt's text, found "
                        + (prompt == null ? "none" : prompt.describe()));
            }
            if (maxLength < 2) {
                throw new IllegalArgumentException("max_length: expected >= 2, found " + maxLength);
            }
            if (!dataFormat.equals("parquet") && !dataFormat.equals("jsonl")) {
                throw new IllegalArgumentException("data_format: expected parquet or jsonl, found '" + dataFormat + "'");
            }
            if (rows < 0 || truncated < 0 || truncated > rows) {
                throw new IllegalArgumentException("rows " + rows + ", truncated " + truncated
                        + ": expected 0 <= truncated <= rows");
            }
        }

        /** The description of vectors an index with this spec would take as its own. */
        public static Description of(EmbeddingSpec spec, int maxLength, String dataFormat, long rows, long truncated) {
            return new Description(spec.model(), spec.modelSha256(), spec.dimension(), spec.pooling(), spec.normalize(),
                    spec.documentPrompt(), maxLength, dataFormat, rows, truncated);
        }

        /**
         * Why an index of this spec cannot take these vectors (null when it can): another model, or the
         * same model under another pooling, dimension or document prompt gives vectors that do not compare.
         */
        public String mismatch(EmbeddingSpec index) {
            if (!modelSha256.equals(index.modelSha256())) {
                return "the vectors are of model " + model + " (sha256 " + modelSha256.substring(0, 12)
                        + "…), the index's model is " + index.describeModel();
            }
            if (dimension != index.dimension()) {
                return "the vectors have " + dimension + " dimensions, the index " + index.dimension();
            }
            EmbeddingSpec mine = new EmbeddingSpec(model, modelSha256, dimension, pooling, normalize);
            if (!mine.describePooling().equals(index.describePooling())) {
                return "the vectors were pooled " + mine.describePooling() + ", the index's " + index.describePooling();
            }
            if (!prompt.text().equals(index.documentPrompt().text())) {
                return "the documents were embedded with prompt " + prompt.describe() + ", the index's document prompt "
                        + "is " + index.documentPrompt().describe();
            }
            return null;
        }

        public ObjectNode toJson() {
            ObjectNode json = JsonNodeFactory.instance.objectNode();
            json.put("format", FORMAT);
            json.put("version", VERSION);
            json.put("model", model);
            json.put("model_sha256", modelSha256);
            json.put("dimension", dimension);
            json.put("pooling", pooling);
            json.put("normalize", normalize);
            ObjectNode promptJson = json.putObject("prompt");
            if (prompt.name() != null) {
                promptJson.put("name", prompt.name());
            }
            promptJson.put("text", prompt.text());
            json.put("max_length", maxLength);
            json.put("data_format", dataFormat);
            json.put("rows", rows);
            json.put("truncated", truncated);
            return json;
        }

        /**
         * @throws IllegalArgumentException naming the field that is missing or wrong
         */
        public static Description fromJson(JsonNode json) {
            if (json == null || !json.isObject()) {
                throw new IllegalArgumentException("expected a JSON object");
            }
            String format = text(json, "format");
            if (!FORMAT.equals(format)) {
                throw new IllegalArgumentException("format: expected \"" + FORMAT + "\", found " + json.get("format"));
            }
            long version = number(json, "version");
            if (version != VERSION) {
                throw new IllegalArgumentException("version: expected " + VERSION + " (this jembed's), found " + version);
            }
            JsonNode promptJson = json.get("prompt");
            if (promptJson == null || !promptJson.isObject()) {
                throw new IllegalArgumentException("prompt: expected an object {\"name\", \"text\"}, found "
                        + (promptJson == null ? "nothing" : promptJson.getNodeType().toString().toLowerCase(Locale.ROOT)));
            }
            JsonNode name = promptJson.get("name");
            Prompt prompt = new Prompt(name == null || name.isNull() ? null : name.asText(), text(promptJson, "text"));
            JsonNode normalize = json.get("normalize");
            if (normalize == null || !normalize.isBoolean()) {
                throw new IllegalArgumentException("normalize: expected true or false, found " + normalize);
            }
            return new Description(text(json, "model"), text(json, "model_sha256"), (int) number(json, "dimension"),
                    text(json, "pooling"), normalize.booleanValue(), prompt, (int) number(json, "max_length"),
                    text(json, "data_format"), number(json, "rows"), number(json, "truncated"));
        }

        private static String text(JsonNode json, String field) {
            JsonNode value = json.get(field);
            if (value == null || !value.isTextual()) {
                throw new IllegalArgumentException(field + ": expected a string, found " + (value == null ? "nothing" : value));
            }
            return value.textValue();
        }

        private static long number(JsonNode json, String field) {
            JsonNode value = json.get(field);
            if (value == null || !value.isIntegralNumber() || !value.canConvertToLong()) {
                throw new IllegalArgumentException(field + ": expected an integer, found " + (value == null ? "nothing" : value));
            }
            return value.longValue();
        }
    }

    /** Where a path's description is: inside a directory, or beside a single JSON Lines file. */
    public static Path descriptionPath(Path path) {
        return Files.isDirectory(path) ? path.resolve(DESCRIPTION_FILE)
                : path.resolveSibling(path.getFileName() + "." + DESCRIPTION_FILE);
    }

    /**
     * Reads the description of an embeddings directory or file.
     *
     * @throws FormatException when it is missing or malformed, naming the file
     */
    public static Description readDescription(Path path) throws IOException {
        Path file = descriptionPath(path);
        if (!Files.isRegularFile(file)) {
            throw new FormatException(file + ": expected the description of the vectors in " + path
                    + " (written by the job that embedded them, e.g. io.jembed.spark.EmbedJob), found nothing");
        }
        try {
            return Description.fromJson(JSON.readTree(file.toFile()));
        } catch (JsonProcessingException e) {
            throw new FormatException(file + ": expected JSON, found " + e.getOriginalMessage());
        } catch (IllegalArgumentException e) {
            throw new FormatException(file + ": " + e.getMessage());
        }
    }

    /** Writes a description into (or beside) path, replacing one there by an atomic rename. */
    public static void writeDescription(Path path, Description description) throws IOException {
        Path file = descriptionPath(path);
        Path tmp = file.resolveSibling("." + file.getFileName() + ".tmp");
        try {
            Files.writeString(tmp, JSON.writerWithDefaultPrettyPrinter().writeValueAsString(description.toJson()) + "\n",
                    StandardCharsets.UTF_8);
            Files.move(tmp, file, java.nio.file.StandardCopyOption.ATOMIC_MOVE,
                    java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    /**
     * A way to read rows from files core cannot parse itself (Parquet), found by {@link ServiceLoader}:
     * each row as one JSON object, as Spark's {@code toJSON} gives it.
     */
    public interface Format {
        /** The {@link Description#dataFormat()} it reads, e.g. "parquet". */
        String name();

        /** The rows of every data file of dir, in file-name order, each a JSON object's text. */
        CloseableIterator<String> rows(Path dir) throws IOException;
    }

    /** An iterator that holds files or a session open until closed. */
    public interface CloseableIterator<T> extends Iterator<T>, AutoCloseable {
        @Override
        void close() throws IOException;
    }

    /**
     * One row: its document (id, text, and every other field) and its vector.
     *
     * @param where "FILE line N" or "DIR row N", for messages
     */
    public record Row(String where, Document document, float[] embedding) {
    }

    /**
     * Opens the rows of an embeddings directory or JSON Lines file, checked as they are read: every row
     * has a string or integer id, a string text and an embedding of description.dimension() finite
     * floats.
     */
    public static CloseableIterator<Row> open(Path path, Description description) throws IOException {
        CloseableIterator<String> lines;
        String source;
        if (description.dataFormat().equals("jsonl")) {
            List<Path> files = dataFiles(path, ".json", ".jsonl");
            lines = new JsonLines(files);
            source = null;
        } else {
            Format format = format(description.dataFormat(), path);
            if (dataFiles(path, ".parquet").isEmpty()) {
                throw new FormatException(path + ": expected " + description.dataFormat()
                        + " files (part-*.parquet) as " + DESCRIPTION_FILE + " says, found none");
            }
            lines = format.rows(path);
            source = path.toString();
        }
        return new RowIterator(lines, source, description.dimension());
    }

    private static Format format(String name, Path path) {
        for (Format format : ServiceLoader.load(Format.class, Embeddings.class.getClassLoader())) {
            if (format.name().equals(name)) {
                return format;
            }
        }
        throw new FormatException(path + " holds " + name + " files; reading them needs the jembed-spark module "
                + "on the class path (the ./jembed launcher adds it for --from-embeddings), or write the embeddings "
                + "as JSON Lines (EmbedJob --output-format jsonl)");
    }

    /** A directory's data files with one of the suffixes, by name; a file is its own data. */
    static List<Path> dataFiles(Path path, String... suffixes) throws IOException {
        if (!Files.isDirectory(path)) {
            if (!Files.isRegularFile(path)) {
                throw new FormatException(path + ": expected an embeddings directory or JSON Lines file, found nothing");
            }
            return List.of(path);
        }
        List<Path> files = new ArrayList<>();
        try (Stream<Path> listing = Files.list(path)) {
            listing.filter(Files::isRegularFile).filter(p -> {
                String name = p.getFileName().toString();
                if (name.startsWith("_") || name.startsWith(".")) {
                    return false;
                }
                for (String suffix : suffixes) {
                    if (name.endsWith(suffix)) {
                        return true;
                    }
                }
                return false;
            }).sorted().forEach(files::add);
        }
        return files;
    }

    /** Lines of several files in order, each with "FILE line N". */
    private static final class JsonLines implements CloseableIterator<String> {
        private final Iterator<Path> files;
        private BufferedReader reader;
        private Path file;
        private long line;
        private String next;

        JsonLines(List<Path> files) {
            this.files = files.iterator();
        }

        String where() {
            return file + " line " + line;
        }

        @Override
        public boolean hasNext() {
            try {
                while (next == null) {
                    if (reader == null) {
                        if (!files.hasNext()) {
                            return false;
                        }
                        file = files.next();
                        line = 0;
                        reader = Files.newBufferedReader(file, StandardCharsets.UTF_8);
                    }
                    String read = reader.readLine();
                    if (read == null) {
                        reader.close();
                        reader = null;
                    } else {
                        line++;
                        if (!read.isBlank()) {
                            next = read;
                        }
                    }
                }
                return true;
            } catch (IOException e) {
                throw new UncheckedIOException(file + " line " + line + ": " + e.getMessage(), e);
            }
        }

        @Override
        public String next() {
            if (!hasNext()) {
                throw new NoSuchElementException();
            }
            String line = next;
            next = null;
            return line;
        }

        @Override
        public void close() throws IOException {
            if (reader != null) {
                reader.close();
            }
        }
    }

    /** Parses and checks rows; an embedding's numbers are read from their text, so the floats are exact. */
    private static final class RowIterator implements CloseableIterator<Row> {
        private final CloseableIterator<String> lines;
        private final String source;
        private final int dimension;
        private long row;

        RowIterator(CloseableIterator<String> lines, String source, int dimension) {
            this.lines = lines;
            this.source = source;
            this.dimension = dimension;
        }

        @Override
        public boolean hasNext() {
            return lines.hasNext();
        }

        @Override
        public Row next() {
            String text = lines.next();
            row++;
            String where = source == null ? ((JsonLines) lines).where() : source + " row " + row;
            try {
                return parse(where, text, dimension);
            } catch (JsonProcessingException e) {
                throw new FormatException(where + ": expected a JSON object {\"id\", \"text\", \"embedding\"}, found "
                        + "invalid JSON (" + e.getOriginalMessage() + ")");
            } catch (IOException e) {
                throw new UncheckedIOException(where + ": " + e.getMessage(), e);
            } catch (IllegalArgumentException e) {
                throw new FormatException(where + ": " + e.getMessage());
            }
        }

        @Override
        public void close() throws IOException {
            lines.close();
        }
    }

    static Row parse(String where, String line, int dimension) throws IOException {
        ObjectNode fields = JsonNodeFactory.instance.objectNode();
        JsonNode id = null;
        String text = null;
        float[] embedding = null;
        try (JsonParser parser = JSON.createParser(line)) {
            if (parser.nextToken() != JsonToken.START_OBJECT) {
                throw new IllegalArgumentException("expected a JSON object {\"id\", \"text\", \"embedding\"}, found "
                        + parser.currentToken());
            }
            while (parser.nextToken() == JsonToken.FIELD_NAME) {
                String name = parser.currentName();
                JsonToken value = parser.nextToken();
                switch (name) {
                    case "embedding" -> embedding = embedding(parser, dimension);
                    case "id" -> id = JSON.readTree(parser);
                    case "text" -> {
                        if (value != JsonToken.VALUE_STRING) {
                            throw new IllegalArgumentException("\"text\": expected a string, found " + value);
                        }
                        text = parser.getText();
                    }
                    default -> fields.set(name, JSON.readTree(parser));
                }
            }
        }
        if (id == null || id.isNull()) {
            throw new IllegalArgumentException("expected an \"id\" (a string or integer), found none");
        }
        if (text == null) {
            throw new IllegalArgumentException("expected a \"text\" string, found none");
        }
        if (embedding == null) {
            throw new IllegalArgumentException("expected an \"embedding\" of " + dimension + " numbers, found none");
        }
        return new Row(where, new Document(id, text, fields), embedding);
    }

    private static float[] embedding(JsonParser parser, int dimension) throws IOException {
        if (parser.currentToken() != JsonToken.START_ARRAY) {
            throw new IllegalArgumentException("\"embedding\": expected an array of " + dimension + " numbers, found "
                    + parser.currentToken());
        }
        float[] vector = new float[dimension];
        int n = 0;
        for (JsonToken token = parser.nextToken(); token != JsonToken.END_ARRAY; token = parser.nextToken()) {
            if (token != JsonToken.VALUE_NUMBER_FLOAT && token != JsonToken.VALUE_NUMBER_INT) {
                throw new IllegalArgumentException("\"embedding\" element " + n + ": expected a number, found " + token);
            }
            if (n == dimension) {
                throw new IllegalArgumentException("\"embedding\": expected " + dimension + " numbers, found more");
            }
            // From the decimal text straight to float: through double could round twice.
            float v = Float.parseFloat(parser.getText());
            if (!Float.isFinite(v)) {
                throw new IllegalArgumentException("\"embedding\" element " + n + ": expected a finite float, found "
                        + parser.getText());
            }
            vector[n++] = v;
        }
        if (n != dimension) {
            throw new IllegalArgumentException("\"embedding\": expected " + dimension + " numbers, found " + n);
        }
        return vector;
    }
}
