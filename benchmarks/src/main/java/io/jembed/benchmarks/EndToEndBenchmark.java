package io.jembed.benchmarks;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.jembed.core.model.ModelCatalog;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.ToIntFunction;

/**
 * End-to-end throughput: text in, normalised sentence embedding out, jembed against ONNX Runtime on the
 * same texts in the same JVM. A plain harness rather than JMH because each measurement is a whole pass
 * over the corpus (seconds, not nanoseconds) and the interesting output is a side-by-side table, not a
 * per-method score.
 *
 * <p>The model is a catalogue entry ({@link ModelCatalog}): it names jembed's model directory, the
 * langchain4j jar and entries ONNX Runtime loads, the pooling (cls or mean) and max_seq_length, so both
 * engines truncate at the same length and pool the same way. Texts are embedded with no prompt on both
 * sides. The corpus is either generated sentences ({@link SentenceGenerator}, short, none truncated) or
 * the first SQuAD dev paragraphs ({@link SquadParagraphs}, long enough that attention's T^2 and the
 * truncation length show).
 *
 * <p>Every round runs every mode once, one after another, so load from other processes on a shared
 * machine hits all modes alike; the report gives the median round and the spread (min .. max).
 *
 * <pre>
 * java --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED \
 *     -cp benchmarks/target/benchmarks.jar io.jembed.benchmarks.EndToEndBenchmark \
 *     [--catalogue-model all-MiniLM-L6-v2] [--corpus sentences|squad] [--texts 1000 (500 for squad)]
 *     [--seed 42] [--squad FILE] [--threads 2] [--rounds 5] [--warmup 1] [--batch-sizes 32,128]
 *     [--ort-batch 32] [--query-repeats 50] [--model DIR] [--onnx-jar JAR] [--only jembed|ort] [--json FILE]
 * </pre>
 */
public final class EndToEndBenchmark {

    /** Ten words, the length of a typical search query. */
    static final String QUERY = "how do I keep my sourdough starter alive through winter";
    private static final int QUERY_WARMUP = 5;

    /**
     * Where the texts come from, and how many unless --texts says: half as many paragraphs as sentences,
     * a paragraph being about five generated sentences' worth of tokens.
     */
    enum Corpus {
        /** {@link SentenceGenerator}'s sentences for --seed. */
        SENTENCES("sentences", "generated sentences", SentenceGenerator.DEFAULT_COUNT),
        /** The first N contexts of {@link SquadParagraphs}. */
        SQUAD("squad", "SQuAD v1.1 dev paragraphs", 500);

        final String flagValue;
        final String description;
        final int defaultCount;

        Corpus(String flagValue, String description, int defaultCount) {
            this.flagValue = flagValue;
            this.description = description;
            this.defaultCount = defaultCount;
        }

        static Corpus parse(String value) {
            for (Corpus corpus : values()) {
                if (corpus.flagValue.equals(value)) {
                    return corpus;
                }
            }
            throw new IllegalArgumentException("argument --corpus: expected sentences or squad, found '" + value + "'");
        }
    }

    /** Parsed command line; see the class comment for the flags and defaults. */
    record Options(ModelCatalog.Entry model, Corpus corpus, int texts, long seed, Path squadFile, int threads,
                   int rounds, int warmup, List<Integer> jembedBatchSizes, int ortBatchSize, int queryRepeats,
                   Path modelDirectory, Path onnxJar, String only, Path json) {

        Options {
            requireAtLeast("--texts", texts, 1);
            requireAtLeast("--threads", threads, 1);
            requireAtLeast("--rounds", rounds, 1);
            requireAtLeast("--warmup", warmup, 0);
            requireAtLeast("--ort-batch", ortBatchSize, 1);
            requireAtLeast("--query-repeats", queryRepeats, 1);
            for (int batchSize : jembedBatchSizes) {
                requireAtLeast("--batch-sizes", batchSize, 1);
            }
            if (only != null && !only.equals("jembed") && !only.equals("ort")) {
                throw new IllegalArgumentException("argument --only: expected jembed or ort, found '" + only + "'");
            }
            if (runs("ort") && !Files.isRegularFile(onnxJar)) {
                throw new IllegalArgumentException("argument --onnx-jar: expected " + model.artifact() + "'s jar, found"
                    + " no file at " + onnxJar + " (run './jembed model setup " + model.name() + "')");
            }
            if (runs("jembed") && !ModelCatalog.isPrepared(modelDirectory)) {
                throw new IllegalArgumentException("argument --model: expected a prepared model directory, found "
                    + modelDirectory + " without " + ModelCatalog.missingFiles(modelDirectory)
                    + " (run './jembed model setup " + model.name() + "')");
            }
            if (corpus == Corpus.SQUAD && !Files.isRegularFile(squadFile)) {
                throw new IllegalArgumentException("argument --squad: expected SQuAD paragraphs.jsonl, found no file"
                    + " at " + squadFile.toAbsolutePath());
            }
        }

        boolean runs(String engine) {
            return only == null || only.equals(engine);
        }

        static Options parse(String[] args) {
            ModelCatalog.Entry model = ModelCatalog.defaultEntry();
            Corpus corpus = Corpus.SENTENCES;
            Integer texts = null;
            long seed = SentenceGenerator.DEFAULT_SEED;
            Path squad = null;
            int threads = 2;
            int rounds = 5;
            int warmup = 1;
            List<Integer> batchSizes = List.of(32, 128);
            int ortBatch = 32;
            int queryRepeats = 50;
            Path modelDirectory = null;
            Path jar = null;
            String only = null;
            Path json = null;
            for (int i = 0; i < args.length; i++) {
                String flag = args[i];
                if (flag.equals("--help") || flag.equals("-h")) {
                    throw new IllegalArgumentException(usage());
                }
                if (i + 1 >= args.length) {
                    throw new IllegalArgumentException("argument " + flag + ": expected a value, found the end of"
                        + " the arguments\n" + usage());
                }
                String value = args[++i];
                switch (flag) {
                    case "--catalogue-model" -> model = ModelCatalog.find(value).orElseThrow(() ->
                        new IllegalArgumentException("argument --catalogue-model: expected one of "
                            + String.join(", ", ModelCatalog.names()) + ", found '" + value + "'"));
                    case "--corpus" -> corpus = Corpus.parse(value);
                    case "--texts", "--sentences" -> texts = parseInt(flag, value);
                    case "--seed" -> seed = parseLong(flag, value);
                    case "--squad" -> squad = Path.of(value);
                    case "--threads" -> threads = parseInt(flag, value);
                    case "--rounds" -> rounds = parseInt(flag, value);
                    case "--warmup" -> warmup = parseInt(flag, value);
                    case "--batch-sizes" -> {
                        var sizes = new ArrayList<Integer>();
                        for (String size : value.split(",")) {
                            sizes.add(parseInt(flag, size.strip()));
                        }
                        batchSizes = List.copyOf(sizes);
                    }
                    case "--ort-batch" -> ortBatch = parseInt(flag, value);
                    case "--query-repeats" -> queryRepeats = parseInt(flag, value);
                    case "--model" -> modelDirectory = Path.of(value);
                    case "--onnx-jar" -> jar = Path.of(value);
                    case "--only" -> only = value;
                    case "--json" -> json = Path.of(value);
                    default -> throw new IllegalArgumentException("argument '" + flag + "': expected one of the"
                        + " flags below\n" + usage());
                }
            }
            return new Options(model, corpus, texts != null ? texts : corpus.defaultCount, seed,
                squad != null ? squad : SquadParagraphs.defaultFile(), threads, rounds, warmup, batchSizes, ortBatch,
                queryRepeats, modelDirectory != null ? modelDirectory : ModelCatalog.defaultDir(model),
                jar != null ? jar : OrtPeer.localJar(model), only, json);
        }

        static String usage() {
            return """
                usage: EndToEndBenchmark [--catalogue-model NAME=%s (one of %s)]
                       [--corpus sentences|squad] [--texts N=1000 sentences, 500 paragraphs] (alias --sentences)
                       [--seed S=42 (sentences)] [--squad FILE=%s, else %s]
                       [--threads T=2] [--rounds R=5] [--warmup W=1] [--batch-sizes 32,128] [--ort-batch 32]
                       [--query-repeats 50] [--model DIR=~/.cache/jembed/models/NAME]
                       [--onnx-jar JAR=NAME's langchain4j jar in ~/.m2] [--only jembed|ort] [--json FILE]"""
                .formatted(ModelCatalog.DEFAULT_NAME, String.join(", ", ModelCatalog.names()),
                    SquadParagraphs.RELATIVE_FILE, SquadParagraphs.FALLBACK_FILE);
        }

        private static void requireAtLeast(String flag, long value, long minimum) {
            if (value < minimum) {
                throw new IllegalArgumentException("argument " + flag + ": expected >= " + minimum + ", found " + value);
            }
        }

        private static int parseInt(String flag, String value) {
            try {
                return Integer.parseInt(value);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("argument " + flag + ": expected an integer, found '" + value + "'", e);
            }
        }

        private static long parseLong(String flag, String value) {
            try {
                return Long.parseLong(value);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("argument " + flag + ": expected an integer, found '" + value + "'", e);
            }
        }
    }

    /** Embeds a whole list of texts in one mode's way. */
    @FunctionalInterface
    interface Workload {
        float[][] embed(List<String> texts) throws Exception;
    }

    /** Embeds one text; used for the single-query latency. */
    @FunctionalInterface
    interface SingleText {
        float[] embed(String text) throws Exception;
    }

    /** One row of the table: a way of embedding the corpus, and what its timed rounds measured. */
    static final class Mode {
        final String name;
        final String engine;
        final Workload workload;
        final List<Double> seconds = new ArrayList<>();
        float[][] lastEmbeddings;

        Mode(String name, String engine, Workload workload) {
            this.name = name;
            this.engine = engine;
            this.workload = workload;
        }
    }

    /** Median and 90th percentile of one engine's single-query latency, in milliseconds. */
    record Latency(String engine, double medianMillis, double p90Millis) {}

    /** How far a mode's embeddings are from the reference mode's. */
    record Agreement(String reference, double maxAbsDiff, double minCosine) {}

    private EndToEndBenchmark() {}

    public static void main(String[] args) throws Exception {
        Options options;
        List<String> texts;
        try {
            options = Options.parse(args);
            texts = corpus(options);
        } catch (IllegalArgumentException e) {
            System.err.println(e.getMessage());
            System.exit(2);
            return;
        }
        run(options, texts);
    }

    /** The texts of --corpus, --texts of them. */
    static List<String> corpus(Options options) throws IOException {
        return switch (options.corpus()) {
            case SENTENCES -> SentenceGenerator.generate(options.texts(), options.seed());
            case SQUAD -> {
                List<String> paragraphs = SquadParagraphs.first(options.squadFile(), options.texts());
                if (paragraphs.size() < options.texts()) {
                    throw new IllegalArgumentException("argument --texts: expected at most " + paragraphs.size()
                        + " (the paragraphs in " + options.squadFile() + "), found " + options.texts());
                }
                yield paragraphs;
            }
        };
    }

    static void run(Options options, List<String> texts) throws Exception {
        var modes = new ArrayList<Mode>();
        var singles = new LinkedHashMap<String, SingleText>();
        var closeables = new ArrayList<AutoCloseable>();
        var notes = new ArrayList<String>();
        try {
            int[] ortTokens = null;
            int[] jembedTokens = null;
            int ortHidden = 0;
            int jembedDimension = 0;
            if (options.runs("ort")) {
                OrtPeer ort = OrtPeer.open(options.onnxJar(), options.model(), options.threads());
                closeables.add(ort);
                modes.add(new Mode("ort single", "ort", all -> embedEach(all, ort::embed)));
                modes.add(new Mode("ort batch " + options.ortBatchSize() + " sorted", "ort",
                    all -> ort.embedSorted(all, options.ortBatchSize())));
                singles.put("ort", ort::embed);
                ortTokens = countTokens(texts, ort::tokenCount);
                ortHidden = ort.hiddenSize();
                notes.add(ort.describe());
            }
            if (options.runs("jembed")) {
                int maxBatch = options.jembedBatchSizes().stream().mapToInt(Integer::intValue).max().orElse(1);
                var jembed = new EndToEndJembed(options.modelDirectory(), options.threads(), maxBatch,
                    options.model().maxSeqLength());
                closeables.add(jembed);
                requireSamePooling(options, jembed);
                modes.add(new Mode("jembed single", "jembed", all -> embedEach(all, jembed::embed)));
                for (int batchSize : options.jembedBatchSizes()) {
                    modes.add(new Mode("jembed batch " + batchSize, "jembed", all -> jembed.embed(all, batchSize)));
                }
                singles.put("jembed", jembed::embed);
                jembedTokens = countTokens(texts, jembed::tokenCount);
                jembedDimension = jembed.dimension();
                notes.add(jembed.describe());
            }
            if (ortTokens != null && jembedTokens != null) {
                if (ortHidden != jembedDimension) {
                    throw new IllegalArgumentException("vector length: expected jembed's (" + jembedDimension + ", "
                        + options.modelDirectory() + ") to equal ONNX Runtime's (" + ortHidden + ", "
                        + options.onnxJar() + "), found them different; --model and --onnx-jar name different models");
                }
                int mismatches = 0;
                for (int i = 0; i < texts.size(); i++) {
                    mismatches += ortTokens[i] == jembedTokens[i] ? 0 : 1;
                }
                notes.add("token counts jembed vs DJL: " + mismatches + " of " + texts.size() + " texts differ");
            }
            int[] tokenCounts = ortTokens != null ? ortTokens : jembedTokens;
            int maxLength = options.model().maxSeqLength();
            long truncated = Arrays.stream(tokenCounts).filter(count -> count >= maxLength).count();
            notes.add("truncation at " + maxLength + " tokens ([CLS]/[SEP] included): " + truncated + " of "
                + texts.size() + " texts reach it; no prompt on either side");

            for (int round = 0; round < options.warmup(); round++) {
                for (Mode mode : modes) {
                    mode.workload.embed(texts);
                }
            }
            for (int round = 0; round < options.rounds(); round++) {
                for (Mode mode : modes) {
                    long start = System.nanoTime();
                    float[][] embeddings = mode.workload.embed(texts);
                    mode.seconds.add((System.nanoTime() - start) / 1e9);
                    mode.lastEmbeddings = embeddings;
                }
            }
            var latencies = new ArrayList<Latency>();
            for (var single : singles.entrySet()) {
                latencies.add(queryLatency(single.getKey(), single.getValue(), options.queryRepeats()));
            }
            var agreements = new LinkedHashMap<Mode, Agreement>();
            Mode reference = modes.getFirst();
            for (Mode mode : modes) {
                agreements.put(mode, agreement(reference, mode));
            }
            long totalTokens = Arrays.stream(tokenCounts).asLongStream().sum();
            Map<String, Long> memory = memoryKiB();
            printTable(options, texts.size(), totalTokens, notes, modes, agreements, latencies, memory);
            if (options.json() != null) {
                writeJson(options, texts.size(), totalTokens, notes, modes, agreements, latencies, memory);
            }
        } finally {
            for (AutoCloseable closeable : closeables.reversed()) {
                closeable.close();
            }
        }
    }

    /** --model may name any directory; it must pool as the catalogue entry ONNX Runtime's side follows. */
    private static void requireSamePooling(Options options, EndToEndJembed jembed) {
        var pooling = jembed.pooling();
        String expected = options.model().pooling().shortName();
        if (!pooling.describe().equals(expected) || !pooling.normalize()) {
            throw new IllegalArgumentException("argument --model: expected a model directory with normalised "
                + expected + " pooling as catalogue model " + options.model().name() + " has, found "
                + (pooling.normalize() ? "normalised " : "unnormalised ") + pooling.describe() + " in "
                + options.modelDirectory());
        }
    }

    private static float[][] embedEach(List<String> texts, SingleText single) throws Exception {
        float[][] embeddings = new float[texts.size()][];
        for (int i = 0; i < embeddings.length; i++) {
            embeddings[i] = single.embed(texts.get(i));
        }
        return embeddings;
    }

    private static int[] countTokens(List<String> texts, ToIntFunction<String> tokenCount) {
        int[] counts = new int[texts.size()];
        for (int i = 0; i < counts.length; i++) {
            counts[i] = tokenCount.applyAsInt(texts.get(i));
        }
        return counts;
    }

    private static Latency queryLatency(String engine, SingleText single, int repeats) throws Exception {
        for (int i = 0; i < QUERY_WARMUP; i++) {
            single.embed(QUERY);
        }
        double[] millis = new double[repeats];
        for (int i = 0; i < repeats; i++) {
            long start = System.nanoTime();
            single.embed(QUERY);
            millis[i] = (System.nanoTime() - start) / 1e6;
        }
        Arrays.sort(millis);
        return new Latency(engine, percentile(millis, 0.5), percentile(millis, 0.9));
    }

    /** Max |a - b| over all elements, and the smallest per-text cosine, against the reference mode. */
    private static Agreement agreement(Mode reference, Mode mode) {
        double maxAbsDiff = 0;
        double minCosine = 1;
        for (int i = 0; i < reference.lastEmbeddings.length; i++) {
            float[] a = reference.lastEmbeddings[i];
            float[] b = mode.lastEmbeddings[i];
            double dot = 0;
            double normA = 0;
            double normB = 0;
            for (int k = 0; k < a.length; k++) {
                maxAbsDiff = Math.max(maxAbsDiff, Math.abs(a[k] - b[k]));
                dot += (double) a[k] * b[k];
                normA += (double) a[k] * a[k];
                normB += (double) b[k] * b[k];
            }
            minCosine = Math.min(minCosine, dot / Math.sqrt(normA * normB));
        }
        return new Agreement(reference.name, maxAbsDiff, minCosine);
    }

    private static double median(List<Double> values) {
        double[] sorted = values.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        return percentile(sorted, 0.5);
    }

    /** Linear interpolation between closest ranks of an ascending array. */
    private static double percentile(double[] sorted, double q) {
        double position = q * (sorted.length - 1);
        int lower = (int) Math.floor(position);
        int upper = (int) Math.ceil(position);
        return sorted[lower] + (sorted[upper] - sorted[lower]) * (position - lower);
    }

    /** VmHWM (peak resident set) and VmRSS from /proc/self/status, in KiB; empty where /proc is absent. */
    private static Map<String, Long> memoryKiB() throws IOException {
        var memory = new LinkedHashMap<String, Long>();
        Path status = Path.of("/proc/self/status");
        if (!Files.isReadable(status)) {
            return memory;
        }
        for (String line : Files.readAllLines(status)) {
            if (line.startsWith("VmHWM:") || line.startsWith("VmRSS:")) {
                String[] parts = line.split("\\s+");
                memory.put(parts[0].substring(0, parts[0].length() - 1), Long.parseLong(parts[1]));
            }
        }
        return memory;
    }

    /** "generated sentences (seed 42)" or "SQuAD v1.1 dev paragraphs (the first 500 of FILE)". */
    private static String describeCorpus(Options options, int texts) {
        return options.corpus().description + switch (options.corpus()) {
            case SENTENCES -> " (seed " + options.seed() + ")";
            case SQUAD -> " (the first " + texts + " of " + options.squadFile() + ")";
        };
    }

    private static void printTable(Options options, int texts, long totalTokens, List<String> notes, List<Mode> modes,
            Map<Mode, Agreement> agreements, List<Latency> latencies, Map<String, Long> memory) {
        var out = System.out;
        out.printf(Locale.ROOT, "End-to-end embedding, %s on %s: %d texts, %d real tokens"
                + " (%.1f per text, [CLS]/[SEP] included, padding excluded)%n",
            options.model().name(), describeCorpus(options, texts), texts, totalTokens, (double) totalTokens / texts);
        out.printf(Locale.ROOT, "threads %d, %d warm-up + %d timed rounds per mode, modes interleaved;"
                + " Java %s, %d CPUs%n",
            options.threads(), options.warmup(), options.rounds(), Runtime.version(),
            Runtime.getRuntime().availableProcessors());
        for (String note : notes) {
            out.println(note);
        }
        out.println();
        out.printf(Locale.ROOT, "%-22s %12s %23s %12s %12s %11s%n",
            "mode", "texts/s", "[min .. max]", "tokens/s", "max |diff|", "min cos");
        for (Mode mode : modes) {
            double medianSeconds = median(mode.seconds);
            double fastest = mode.seconds.stream().mapToDouble(Double::doubleValue).min().orElseThrow();
            double slowest = mode.seconds.stream().mapToDouble(Double::doubleValue).max().orElseThrow();
            Agreement agreement = agreements.get(mode);
            out.printf(Locale.ROOT, "%-22s %12.1f %23s %12.0f %12.2e %11.7f%n",
                mode.name, texts / medianSeconds,
                String.format(Locale.ROOT, "[%.1f .. %.1f]", texts / slowest, texts / fastest),
                totalTokens / medianSeconds, agreement.maxAbsDiff(), agreement.minCosine());
        }
        out.printf(Locale.ROOT, "(max |diff| and min cos: each mode's embeddings against '%s')%n%n",
            modes.getFirst().name);
        for (Latency latency : latencies) {
            out.printf(Locale.ROOT, "10-word query latency, %-6s: median %.2f ms, p90 %.2f ms (%d calls)%n",
                latency.engine(), latency.medianMillis(), latency.p90Millis(), options.queryRepeats());
        }
        if (!memory.isEmpty()) {
            out.printf(Locale.ROOT, "%npeak RSS (VmHWM) %.0f MiB, RSS at end %.0f MiB — %s%n",
                memory.get("VmHWM") / 1024.0, memory.get("VmRSS") / 1024.0,
                options.only() == null ? "both engines share this process; use --only jembed|ort to measure one"
                    : "only " + options.only() + " loaded");
        }
    }

    private static void writeJson(Options options, int texts, long totalTokens, List<String> notes, List<Mode> modes,
            Map<Mode, Agreement> agreements, List<Latency> latencies, Map<String, Long> memory) throws IOException {
        var root = new LinkedHashMap<String, Object>();
        var config = new LinkedHashMap<String, Object>();
        config.put("model", options.model().name());
        config.put("hub_id", options.model().hubId());
        config.put("pooling", options.model().pooling().shortName());
        config.put("max_length", options.model().maxSeqLength());
        config.put("model_directory", options.modelDirectory().toString());
        config.put("onnx_jar", options.onnxJar().toString());
        config.put("corpus", options.corpus().flagValue);
        config.put("corpus_description", describeCorpus(options, texts));
        config.put("texts", texts);
        switch (options.corpus()) {
            case SENTENCES -> config.put("seed", options.seed());
            case SQUAD -> config.put("squad_file", options.squadFile().toString());
        }
        config.put("threads", options.threads());
        config.put("warmup_rounds", options.warmup());
        config.put("rounds", options.rounds());
        config.put("only", options.only() == null ? "both" : options.only());
        config.put("java", Runtime.version().toString());
        config.put("cpus", Runtime.getRuntime().availableProcessors());
        root.put("config", config);
        root.put("notes", notes);
        root.put("real_tokens", totalTokens);
        var rows = new ArrayList<Map<String, Object>>();
        for (Mode mode : modes) {
            double medianSeconds = median(mode.seconds);
            var row = new LinkedHashMap<String, Object>();
            row.put("mode", mode.name);
            row.put("engine", mode.engine);
            row.put("seconds_per_round", mode.seconds);
            row.put("texts_per_second_median", texts / medianSeconds);
            row.put("tokens_per_second_median", totalTokens / medianSeconds);
            row.put("max_abs_diff", agreements.get(mode).maxAbsDiff());
            row.put("min_cosine", agreements.get(mode).minCosine());
            row.put("compared_with", agreements.get(mode).reference());
            rows.add(row);
        }
        root.put("modes", rows);
        var latencyRows = new ArrayList<Map<String, Object>>();
        for (Latency latency : latencies) {
            var row = new LinkedHashMap<String, Object>();
            row.put("engine", latency.engine());
            row.put("query", QUERY);
            row.put("median_ms", latency.medianMillis());
            row.put("p90_ms", latency.p90Millis());
            row.put("calls", options.queryRepeats());
            latencyRows.add(row);
        }
        root.put("query_latency", latencyRows);
        root.put("memory_kib", memory);
        new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValue(options.json().toFile(), root);
    }
}
