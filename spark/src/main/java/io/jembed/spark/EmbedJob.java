package io.jembed.spark;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import com.fasterxml.jackson.databind.ObjectMapper;

import org.apache.hadoop.fs.FileSystem;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StringType;
import org.apache.spark.sql.types.StructField;

import io.jembed.core.index.Embeddings;

/**
 * The embedding job for {@code spark-submit} (or {@code ./jembed spark}): reads a corpus (JSON Lines
 * or Parquet), embeds its text column on the executors and writes Parquet (or JSON Lines) rows of
 * {@code id, text, embedding} and the corpus's other columns, plus {@value Embeddings#DESCRIPTION_FILE}
 * naming the model, its weights' sha256, dimension, pooling and prompt, which {@code jembed index
 * --from-embeddings} checks.
 *
 * <pre>
 * spark-submit --class io.jembed.spark.EmbedJob jembed-spark.jar --input corpus.jsonl --output out \
 *     [--format jsonl|parquet] [--model NAME|DIR] [--text-field F[,F...]] [--id-field F] [--prompt-name N]
 * </pre>
 *
 * <p>The output appears only when the job succeeds: a failed job removes what it wrote, and the
 * description is written last.
 */
public final class EmbedJob {

    static final String USAGE = """
            usage: EmbedJob --input PATH --output PATH [options]

            Embeds the text column of a JSON Lines or Parquet corpus on the cluster and writes one row per
            input row: id, text, embedding (array<float>) and the input's other columns, with _jembed.json
            beside them (model, sha256 of its weights, dimension, pooling, prompt) for
            'jembed index --from-embeddings PATH'. A row whose text is null gets a null embedding.

            options:
              --input PATH         the corpus: a file or directory (required)
              --format F           jsonl (default) or parquet: how the input is stored
              --output PATH        a new directory (required; refused if it exists)
              --output-format F    parquet (default) or jsonl
              --model NAME|DIR     a catalogue model (set up on the driver if needed), a model directory on
                                   every host, or the name of one shipped with --archives
                                   (default: $JEMBED_MODEL, else all-MiniLM-L6-v2)
              --text-field F[,F]   the text column (default text); several are joined with a space, as
                                   jembed index --text-field title,text joins them
              --id-field F         the id column (default id), a string or integer; written as id
              --prompt-name N      one of the model's prompts (query, document, ...)
              --prompt TEXT        a literal prompt ("" for none); default: the model's default prompt
              --truncate MODE      right (default): cut texts past the max length; error: fail the job
              --max-length N       tokens per text incl. [CLS]/[SEP] (default: the model's)
              --max-batch-tokens N most tokens per forward pass (default 16384)
              --threads N          compute threads per executor (default: the executor's cores)
              --partitions N       partitions to embed in (default: at least the cluster's default
                                   parallelism, so every executor has work)
            """;

    private static final Set<String> OPTIONS = Set.of("input", "format", "output", "output-format", "model", "text-field",
            "id-field", "prompt-name", "prompt", "truncate", "max-length", "max-batch-tokens", "threads", "partitions");

    /** A usage error: exit 2. */
    static final class UsageException extends IllegalArgumentException {
        private static final long serialVersionUID = 1L;

        UsageException(String message) {
            super(message);
        }
    }

    private EmbedJob() {
    }

    public static void main(String[] argv) {
        int code = run(argv, System.out, System.err);
        if (code != 0) {
            System.exit(code);
        }
    }

    /** Runs the job in the active (or a new) SparkSession; 0, 1 on failure, 2 on a usage error. */
    static int run(String[] argv, PrintStream out, PrintStream err) {
        Map<String, String> args;
        try {
            args = parse(argv);
        } catch (UsageException e) {
            err.println("EmbedJob: " + e.getMessage());
            err.println("(EmbedJob --help lists the options)");
            return 2;
        }
        if (args.containsKey("help")) {
            out.print(USAGE);
            return 0;
        }
        try {
            Summary summary = run(args, SparkSession.builder().appName("jembed EmbedJob").getOrCreate());
            err.println(summary.line());
            return 0;
        } catch (UsageException e) {
            err.println("EmbedJob: " + e.getMessage());
            return 2;
        } catch (Exception | LinkageError e) {
            err.println("EmbedJob: " + message(e));
            return 1;
        }
    }

    /** The first cause that says what went wrong (a task's exception arrives wrapped by Spark). */
    static String message(Throwable e) {
        Throwable cause = e;
        while (cause.getCause() != null && cause.getCause() != cause
                && (cause instanceof org.apache.spark.SparkException || cause.getMessage() == null
                || cause.getClass().getName().startsWith("org.apache.spark"))) {
            cause = cause.getCause();
        }
        String text = cause.getMessage() != null ? cause.getMessage() : cause.getClass().getSimpleName();
        return text.lines().findFirst().orElse(text);
    }

    static Map<String, String> parse(String[] argv) {
        Map<String, String> args = new LinkedHashMap<>();
        for (int i = 0; i < argv.length; i++) {
            String word = argv[i];
            if (word.equals("--help") || word.equals("-h")) {
                args.put("help", "");
                continue;
            }
            if (!word.startsWith("--")) {
                throw new UsageException("expected an option (--input, --output, ...), found '" + word + "'");
            }
            String name = word.substring(2);
            String value = null;
            int eq = name.indexOf('=');
            if (eq >= 0) {
                value = name.substring(eq + 1);
                name = name.substring(0, eq);
            }
            if (!OPTIONS.contains(name)) {
                throw new UsageException("unknown option --" + name);
            }
            if (value == null) {
                if (i + 1 >= argv.length) {
                    throw new UsageException("option --" + name + " needs a value");
                }
                value = argv[++i];
            }
            if (args.put(name, value) != null) {
                throw new UsageException("option --" + name + " given twice");
            }
        }
        if (!args.containsKey("help")) {
            for (String required : List.of("input", "output")) {
                if (!args.containsKey(required)) {
                    throw new UsageException("--" + required + " is required");
                }
            }
        }
        return args;
    }

    /** What a run wrote. */
    record Summary(String output, long rows, long truncated, long tokens, long noText, double seconds, String model) {
        String line() {
            return String.format("EmbedJob: embedded %,d rows (%,d tokens) with %s in %.1f s (%,.0f rows/s) into %s%s%s",
                    rows, tokens, model, seconds, rows / Math.max(seconds, 1e-9), output,
                    truncated > 0 ? String.format("; %,d texts were truncated at the max length", truncated) : "",
                    noText > 0 ? String.format("; %,d rows had no text and no embedding", noText) : "");
        }
    }

    static Summary run(Map<String, String> args, SparkSession spark) throws IOException {
        String input = args.get("input");
        String output = args.get("output");
        String format = choice(args, "format", "jsonl", "jsonl", "parquet");
        String outputFormat = choice(args, "output-format", "parquet", "parquet", "jsonl");
        String truncate = choice(args, "truncate", "right", "right", "error");
        List<String> textFields = List.of(args.getOrDefault("text-field", "text").split(",", -1));
        if (textFields.stream().anyMatch(String::isBlank)) {
            throw new UsageException("--text-field: expected column names separated by commas, found '"
                    + args.get("text-field") + "'");
        }
        String idField = args.getOrDefault("id-field", "id");
        if (args.containsKey("prompt-name") && args.containsKey("prompt")) {
            throw new UsageException("--prompt-name and --prompt exclude each other; give one");
        }
        String envModel = System.getenv("JEMBED_MODEL");
        String modelName = args.getOrDefault("model", envModel != null && !envModel.isBlank() ? envModel
                : io.jembed.core.model.ModelCatalog.DEFAULT_NAME);
        JembedSpark.Options options = JembedSpark.Options.model(modelName)
                .maxBatchTokens(integer(args, "max-batch-tokens", io.jembed.core.Embedder.DEFAULT_MAX_BATCH_TOKENS, 2))
                .threads(integer(args, "threads", 0, 1))
                .maxLength(integer(args, "max-length", 0, 2));
        if (args.containsKey("prompt-name")) {
            options = options.promptName(args.get("prompt-name"));
        } else if (args.containsKey("prompt")) {
            options = options.prompt(args.get("prompt"));
        }
        if (truncate.equals("error")) {
            options = options.refuseTruncation();
        }
        int partitions = integer(args, "partitions", 0, 1);

        org.apache.hadoop.fs.Path outPath = new org.apache.hadoop.fs.Path(output);
        FileSystem fs = outPath.getFileSystem(spark.sparkContext().hadoopConfiguration());
        if (fs.exists(outPath)) {
            throw new UsageException("--output " + output + " exists; expected a new path (the job never overwrites)");
        }
        org.apache.hadoop.fs.Path inPath = new org.apache.hadoop.fs.Path(input);
        if (!inPath.getFileSystem(spark.sparkContext().hadoopConfiguration()).exists(inPath)) {
            throw new UsageException("--input " + input + ": no such file or directory");
        }
        Dataset<Row> corpus = format.equals("parquet") ? spark.read().parquet(input)
                : spark.read().option("mode", "FAILFAST").json(input);
        Dataset<Row> shaped = shape(corpus, input, idField, textFields);
        int wanted = partitions > 0 ? partitions : Math.max(shaped.rdd().getNumPartitions(),
                spark.sparkContext().defaultParallelism());
        if (wanted != shaped.rdd().getNumPartitions()) {
            shaped = shaped.repartition(wanted);
        }
        JembedSpark.Resolved resolved = JembedSpark.resolve(options);
        JembedSpark.Counters counters = JembedSpark.Counters.create(spark);
        Dataset<Row> embedded = JembedSpark.embed(shaped, "text", "embedding", options, resolved, counters);
        // id, text, embedding first, then the corpus's other columns as they were.
        List<Column> order = new ArrayList<>(List.of(functions.col("id"), functions.col("text"),
                functions.col("embedding")));
        for (String column : shaped.columns()) {
            if (!column.equals("id") && !column.equals("text")) {
                order.add(functions.col("`" + column.replace("`", "``") + "`"));
            }
        }
        long start = System.nanoTime();
        try {
            if (outputFormat.equals("parquet")) {
                embedded.select(order.toArray(new Column[0])).write().parquet(output);
            } else {
                embedded.select(order.toArray(new Column[0])).write().json(output);
            }
            double seconds = (System.nanoTime() - start) / 1e9;
            Dataset<Row> written = outputFormat.equals("parquet") ? spark.read().parquet(output)
                    : spark.read().json(output);
            long rows = written.count();
            long noText = rows - written.filter(functions.col("embedding").isNotNull()).count();
            long truncated = Math.min(counters.truncated().value(), rows);
            Embeddings.Description description = new Embeddings.Description(resolved.model().name(),
                    resolved.model().sha256(), resolved.dimension(), resolved.pooling(), resolved.normalize(),
                    resolved.prompt(), resolved.maxLength(), outputFormat, rows, truncated);
            writeDescription(fs, outPath, description);
            return new Summary(output, rows, truncated, counters.tokens().value(), noText, seconds,
                    resolved.model().name());
        } catch (RuntimeException | IOException | Error e) {
            // No half-written output: Spark's committer has removed its temporary files; the rest goes too.
            try {
                fs.delete(outPath, true);
            } catch (IOException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
    }

    /**
     * The corpus as (id, text, other columns): the id column renamed, the text columns joined with a
     * space (empty and null parts skipped, as the CLI joins them), every other column kept.
     */
    static Dataset<Row> shape(Dataset<Row> corpus, String input, String idField, List<String> textFields) {
        Map<String, DataType> types = new LinkedHashMap<>();
        for (StructField field : corpus.schema().fields()) {
            types.put(field.name(), field.dataType());
        }
        if (!types.containsKey(idField)) {
            throw new UsageException(input + ": expected an id column '" + idField + "' (--id-field), found columns "
                    + types.keySet());
        }
        DataType idType = types.get(idField);
        if (!(idType instanceof StringType) && !idType.equals(DataTypes.LongType) && !idType.equals(DataTypes.IntegerType)) {
            throw new UsageException(input + ": id column '" + idField + "': expected strings or integers, found "
                    + idType.simpleString());
        }
        for (String field : textFields) {
            if (!types.containsKey(field)) {
                throw new UsageException(input + ": expected a text column '" + field + "' (--text-field), found columns "
                        + types.keySet());
            }
            if (!(types.get(field) instanceof StringType)) {
                throw new UsageException(input + ": text column '" + field + "': expected strings, found "
                        + types.get(field).simpleString());
            }
        }
        List<Column> columns = new ArrayList<>();
        columns.add(functions.col(quote(idField)).as("id"));
        Column text;
        if (textFields.size() == 1) {
            text = functions.col(quote(textFields.get(0)));
        } else {
            // concat_ws skips nulls; empty parts are made null so they add no space either, and a row
            // with every part null stays null (no text), as the CLI joins them.
            Column[] parts = textFields.stream().map(f -> functions.when(functions.length(functions.col(quote(f))).gt(0),
                    functions.col(quote(f)))).toArray(Column[]::new);
            Column anyPresent = functions.lit(false);
            for (String f : textFields) {
                anyPresent = anyPresent.or(functions.col(quote(f)).isNotNull());
            }
            text = functions.when(anyPresent, functions.concat_ws(" ", parts));
        }
        columns.add(text.as("text"));
        for (String name : types.keySet()) {
            if (name.equals(idField) || textFields.contains(name)) {
                continue;
            }
            if (name.equals("id") || name.equals("text") || name.equals("embedding")) {
                throw new UsageException(input + ": column '" + name + "' would collide with the output's own '" + name
                        + "' column; name it in --id-field or --text-field, or rename it");
            }
            columns.add(functions.col(quote(name)));
        }
        return corpus.select(columns.toArray(new Column[0]));
    }

    private static String quote(String column) {
        return "`" + column.replace("`", "``") + "`";
    }

    private static void writeDescription(FileSystem fs, org.apache.hadoop.fs.Path dir, Embeddings.Description description)
            throws IOException {
        byte[] json = (new ObjectMapper().writerWithDefaultPrettyPrinter().writeValueAsString(description.toJson()) + "\n")
                .getBytes(StandardCharsets.UTF_8);
        try (OutputStream stream = fs.create(new org.apache.hadoop.fs.Path(dir, Embeddings.DESCRIPTION_FILE), false)) {
            stream.write(json);
        }
    }

    private static String choice(Map<String, String> args, String name, String fallback, String... allowed) {
        String value = args.getOrDefault(name, fallback);
        if (!List.of(allowed).contains(value)) {
            throw new UsageException("--" + name + ": expected " + String.join(" or ", allowed) + ", found '" + value + "'");
        }
        return value;
    }

    private static int integer(Map<String, String> args, String name, int fallback, int min) {
        String value = args.get(name);
        if (value == null) {
            return fallback;
        }
        try {
            int n = Integer.parseInt(value.strip());
            if (n < min) {
                throw new UsageException("--" + name + ": expected an integer >= " + min + ", found " + n);
            }
            return n;
        } catch (NumberFormatException e) {
            throw new UsageException("--" + name + ": expected an integer, found '" + value + "'");
        }
    }
}
