package io.jembed.spark;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.Objects;

import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StringType;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.util.LongAccumulator;

import io.jembed.core.EmbedRequest;
import io.jembed.core.EmbedResult;
import io.jembed.core.Embedder;
import io.jembed.core.InputTooLongException;
import io.jembed.core.model.Prompt;

/**
 * Embeds a text column of a Spark Dataset with jembed's encoder: pure Java, so the executors need
 * only this module's jar (and the JVM flags of the Vector API), no native engine.
 *
 * <pre>{@code
 * Dataset<Row> withVectors = JembedSpark.embed(df, "text", "embedding",
 *         JembedSpark.Options.model("all-MiniLM-L6-v2").promptName("document"));
 * }</pre>
 *
 * <p>Each partition is embedded in batches of rows ({@link Options#rowsPerCall}), which the encoder
 * cuts into forward passes by its token budget. The model is loaded once per executor JVM and shared
 * by that executor's tasks ({@link ExecutorModels}); its compute pool is as wide as the executor's
 * cores, and the tasks take turns on it, so an executor never runs more compute threads than it has
 * cores. Vectors are the bits {@code jembed embed} writes for the same texts: the encoder's sums run in
 * a fixed order, whatever the batch, thread count or JIT state. A null text gets a null vector.
 */
public final class JembedSpark {

    private JembedSpark() {
    }

    /**
     * How to embed: the model (a catalogue name, set up where the job runs, or a model directory on
     * every executor, or the name of one shipped with {@code --archives}), the prompt, the token budget
     * per forward pass, threads per executor and truncation. Immutable and serializable; every option
     * returns a copy.
     */
    public static final class Options implements Serializable {
        private static final long serialVersionUID = 1L;

        final String model;
        final String promptName;
        final String prompt;
        final int maxBatchTokens;
        final int threads;
        final int maxLength;
        final boolean refuseTruncation;
        final int rowsPerCall;

        private Options(String model, String promptName, String prompt, int maxBatchTokens, int threads, int maxLength,
                        boolean refuseTruncation, int rowsPerCall) {
            this.model = model;
            this.promptName = promptName;
            this.prompt = prompt;
            this.maxBatchTokens = maxBatchTokens;
            this.threads = threads;
            this.maxLength = maxLength;
            this.refuseTruncation = refuseTruncation;
            this.rowsPerCall = rowsPerCall;
        }

        /** Defaults: the model's default prompt, 16,384 tokens per pass, the executor's cores, truncation at the right. */
        public static Options model(String model) {
            if (model == null || model.isBlank()) {
                throw new IllegalArgumentException("model: expected a catalogue name or a model directory, found "
                        + (model == null ? "null" : "\"" + model + "\""));
            }
            return new Options(model, null, null, Embedder.DEFAULT_MAX_BATCH_TOKENS, 0, 0, false, 1024);
        }

        /** One of the model's prompts by name ("query", "document"); excludes {@link #prompt}. */
        public Options promptName(String name) {
            if (name == null || name.isEmpty()) {
                throw new IllegalArgumentException("prompt name: expected a name, found " + (name == null ? "null" : "\"\""));
            }
            return new Options(model, name, null, maxBatchTokens, threads, maxLength, refuseTruncation, rowsPerCall);
        }

        /** A literal prompt prepended to every text ("" for none); excludes {@link #promptName}. */
        public Options prompt(String text) {
            return new Options(model, null, Objects.requireNonNull(text, "prompt"), maxBatchTokens, threads, maxLength,
                    refuseTruncation, rowsPerCall);
        }

        /** Most tokens per forward pass (default 16,384, as TEI): bounds each executor's activation memory. */
        public Options maxBatchTokens(int tokens) {
            if (tokens < 2) {
                throw new IllegalArgumentException("max batch tokens: expected >= 2, found " + tokens);
            }
            return new Options(model, promptName, prompt, tokens, threads, maxLength, refuseTruncation, rowsPerCall);
        }

        /** Compute threads per executor JVM (default 0: the executor's cores). */
        public Options threads(int threads) {
            if (threads < 0) {
                throw new IllegalArgumentException("threads: expected >= 0 (0: the executor's cores), found " + threads);
            }
            return new Options(model, promptName, prompt, maxBatchTokens, threads, maxLength, refuseTruncation, rowsPerCall);
        }

        /** Tokens per text, [CLS] and [SEP] included (default 0: the model's max_seq_length). */
        public Options maxLength(int maxLength) {
            if (maxLength != 0 && maxLength < 2) {
                throw new IllegalArgumentException("max length: expected >= 2 (or 0: the model's), found " + maxLength);
            }
            return new Options(model, promptName, prompt, maxBatchTokens, threads, maxLength, refuseTruncation, rowsPerCall);
        }

        /** Fail the task on a text past the max length instead of cutting it. */
        public Options refuseTruncation() {
            return new Options(model, promptName, prompt, maxBatchTokens, threads, maxLength, true, rowsPerCall);
        }

        /** Rows of a partition given to the encoder per call (default 1,024). */
        public Options rowsPerCall(int rows) {
            if (rows < 1) {
                throw new IllegalArgumentException("rows per call: expected >= 1, found " + rows);
            }
            return new Options(model, promptName, prompt, maxBatchTokens, threads, maxLength, refuseTruncation, rows);
        }

        public String modelName() {
            return model;
        }
    }

    /** What the driver learned of the model: what to check on executors and to record beside the output. */
    record Resolved(ModelRef model, Prompt prompt, int maxLength, int dimension, String pooling, boolean normalize) {
    }

    /**
     * df with one more column, {@code outputColumn} of {@code array<float>}: the vector of
     * {@code textColumn}'s text (null for a null text). Lazy, as any transformation.
     *
     * @throws IllegalArgumentException if the text column is missing or not a string, the output
     *                                  column exists, or the model or prompt cannot be resolved
     */
    public static Dataset<Row> embed(Dataset<Row> df, String textColumn, String outputColumn, Options options) {
        return embed(df, textColumn, outputColumn, options, null, null);
    }

    /** As the public embed, with the model already resolved (EmbedJob records it) and counters to read after. */
    static Dataset<Row> embed(Dataset<Row> df, String textColumn, String outputColumn, Options options,
                              Resolved resolved, Counters counters) {
        Objects.requireNonNull(options, "options");
        StructType schema = df.schema();
        int textIndex = columnIndex(schema, textColumn);
        if (!(schema.fields()[textIndex].dataType() instanceof StringType)) {
            throw new IllegalArgumentException("text column '" + textColumn + "': expected a string column, found "
                    + schema.fields()[textIndex].dataType().simpleString());
        }
        if (Arrays.asList(schema.fieldNames()).contains(outputColumn)) {
            throw new IllegalArgumentException("output column '" + outputColumn + "': expected a new column name, found "
                    + "one already in " + Arrays.toString(schema.fieldNames()));
        }
        Resolved model = resolved != null ? resolved : resolve(options);
        StructType output = schema.add(new StructField(outputColumn,
                DataTypes.createArrayType(DataTypes.FloatType, false), true, org.apache.spark.sql.types.Metadata.empty()));
        Counters live = counters != null ? counters : Counters.create(df.sparkSession());
        return df.mapPartitions(new EmbedPartition(options, model.model(), model.prompt().text(), textIndex, live),
                Encoders.row(output));
    }

    /**
     * Resolves the model and prompt on the driver (a catalogue model is set up here first), reading the
     * model directory only, so a bad option fails before any task starts.
     */
    static Resolved resolve(Options options) {
        io.jembed.core.model.ModelDirectory directory = ModelRef.readOnDriver(options.model);
        ModelRef model = ModelRef.of(options.model, directory);
        Prompt prompt;
        try {
            if (options.promptName != null) {
                prompt = directory.prompts().resolve(Prompt.named(options.promptName));
            } else if (options.prompt != null) {
                prompt = Prompt.text(options.prompt);
            } else {
                prompt = directory.prompts().defaultPrompt();
            }
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("model " + model.name() + ": " + e.getMessage(), e);
        }
        int maxLength = options.maxLength > 0 ? options.maxLength : directory.maxSeqLength();
        if (maxLength > directory.config().maxPositionEmbeddings()) {
            throw new IllegalArgumentException("max length " + maxLength + ": expected at most "
                    + directory.config().maxPositionEmbeddings() + " (max_position_embeddings of " + model.name() + ")");
        }
        return new Resolved(model, prompt, maxLength, directory.dimension(), directory.pooling().describe(),
                directory.pooling().normalize());
    }

    private static int columnIndex(StructType schema, String column) {
        for (int i = 0; i < schema.fields().length; i++) {
            if (schema.fields()[i].name().equals(column)) {
                return i;
            }
        }
        throw new IllegalArgumentException("text column '" + column + "': expected one of "
                + Arrays.toString(schema.fieldNames()) + ", found no such column");
    }

    /** Rows, texts truncated and tokens, summed over the tasks (a retried task counts again). */
    record Counters(LongAccumulator rows, LongAccumulator truncated, LongAccumulator tokens) implements Serializable {
        static Counters create(SparkSession spark) {
            return new Counters(spark.sparkContext().longAccumulator("jembed rows"),
                    spark.sparkContext().longAccumulator("jembed truncated"),
                    spark.sparkContext().longAccumulator("jembed tokens"));
        }
    }

    /** One partition: rows in calls of rowsPerCall, each row out with its vector appended. */
    private static final class EmbedPartition implements MapPartitionsFunction<Row, Row> {
        private static final long serialVersionUID = 1L;

        private final Options options;
        private final ModelRef model;
        private final String promptText;
        private final int textIndex;
        private final Counters counters;

        EmbedPartition(Options options, ModelRef model, String promptText, int textIndex, Counters counters) {
            this.options = options;
            this.model = model;
            this.promptText = promptText;
            this.textIndex = textIndex;
            this.counters = counters;
        }

        @Override
        public Iterator<Row> call(Iterator<Row> rows) {
            Embedder embedder = ExecutorModels.get(model, options, ExecutorModels.executorCores());
            EmbedRequest base = EmbedRequest.of(List.of()).prompt(Prompt.text(promptText));
            EmbedRequest request = options.refuseTruncation ? base.refuseTruncation() : base;
            return new Iterator<>() {
                private final List<Row> out = new ArrayList<>();
                private int next;

                @Override
                public boolean hasNext() {
                    if (next < out.size()) {
                        return true;
                    }
                    out.clear();
                    next = 0;
                    List<Row> batch = new ArrayList<>(options.rowsPerCall);
                    while (batch.size() < options.rowsPerCall && rows.hasNext()) {
                        batch.add(rows.next());
                    }
                    if (batch.isEmpty()) {
                        return false;
                    }
                    embedBatch(embedder, request, batch, out);
                    return true;
                }

                @Override
                public Row next() {
                    if (!hasNext()) {
                        throw new NoSuchElementException();
                    }
                    return out.get(next++);
                }
            };
        }

        private void embedBatch(Embedder embedder, EmbedRequest request, List<Row> batch, List<Row> out) {
            List<String> texts = new ArrayList<>(batch.size());
            for (Row row : batch) {
                if (!row.isNullAt(textIndex)) {
                    texts.add(row.getString(textIndex));
                }
            }
            EmbedResult result;
            try {
                result = embedder.embed(request.withTexts(texts));
            } catch (InputTooLongException e) {
                throw new IllegalArgumentException("text column: expected at most " + e.maxLength() + " tokens per text"
                        + " ([CLS] and [SEP] included), found " + e.tokens() + " in the text \"" + abbreviate(texts.get(e.index()))
                        + "\" (truncation refused)");
            }
            int t = 0;
            for (Row row : batch) {
                Object[] values = new Object[row.length() + 1];
                for (int i = 0; i < row.length(); i++) {
                    values[i] = row.get(i);
                }
                if (!row.isNullAt(textIndex)) {
                    values[row.length()] = result.vector(t++);
                }
                out.add(RowFactory.create(values));
            }
            counters.rows().add(batch.size());
            counters.truncated().add(result.truncatedCount());
            counters.tokens().add(result.totalTokens());
        }

        private static String abbreviate(String text) {
            return text.length() <= 60 ? text : text.substring(0, 57) + "...";
        }
    }
}
