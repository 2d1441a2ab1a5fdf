package io.jembed.spark;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import org.apache.spark.SparkConf;
import org.apache.spark.SparkEnv;

import io.jembed.core.Embedder;

/**
 * The models loaded in this JVM, one per (model, threads, token budget, max length), shared by every
 * task the executor runs: loading one takes a second and its weights' memory, so a task must not.
 * They live as long as the executor (their pool threads are daemons).
 */
final class ExecutorModels {

    private record Key(String sha256, String dir, int threads, int maxBatchTokens, int maxLength) {
    }

    private static final Map<Key, Embedder> MODELS = new ConcurrentHashMap<>();

    private ExecutorModels() {
    }

    /** The model for these options with this many threads unless options.threads says otherwise. */
    static Embedder get(ModelRef model, JembedSpark.Options options, int defaultThreads) {
        int threads = options.threads > 0 ? options.threads : defaultThreads;
        // The directory is resolved and checked once per JVM and key, not per task.
        Key key = new Key(model.sha256(), model.value(), threads, options.maxBatchTokens, options.maxLength);
        return MODELS.computeIfAbsent(key, k -> load(model, options, threads));
    }

    private static Embedder load(ModelRef model, JembedSpark.Options options, int threads) {
        try {
            Embedder.Builder builder = Embedder.builder(model.read()).threads(threads)
                    .maxBatchTokens(options.maxBatchTokens);
            if (options.maxLength > 0) {
                builder.maxLength(options.maxLength);
            }
            return builder.build();
        } catch (IOException e) {
            throw new UncheckedIOException("model '" + model.value() + "' on " + ModelRef.host() + ": " + e.getMessage(), e);
        }
    }

    /**
     * Cores of this executor: spark.executor.cores when set; in local mode local[N]'s N (the driver is
     * the executor); else the processors the JVM sees, with a warning (see below).
     */
    static int executorCores() {
        SparkEnv env = SparkEnv.get();
        int processors = Runtime.getRuntime().availableProcessors();
        if (env == null) {
            return processors;
        }
        SparkConf conf = env.conf();
        if (conf.contains("spark.executor.cores")) {
            return Math.max(1, conf.getInt("spark.executor.cores", processors));
        }
        String master = conf.get("spark.master", "");
        java.util.regex.Matcher local = java.util.regex.Pattern.compile("local\\[(\\d+|\\*)").matcher(master);
        if (local.lookingAt()) {
            return local.group(1).equals("*") ? processors : Math.max(1, Integer.parseInt(local.group(1)));
        }
        if (master.equals("local")) {
            return 1;
        }
        // A standalone executor takes all its worker's cores unless spark.executor.cores says, and
        // nothing tells this JVM how many that is: several workers on one host would each take
        // every processor. Said once, in the executor's log.
        if (WARNED.compareAndSet(false, true)) {
            System.getLogger(ExecutorModels.class.getName()).log(System.Logger.Level.WARNING,
                    "spark.executor.cores is not set: jembed computes on all " + processors + " processors this "
                            + "executor JVM sees; set spark.executor.cores (or JembedSpark.Options.threads, EmbedJob "
                            + "--threads) when executors share a host, or they compete for its cores");
        }
        return processors;
    }

    private static final java.util.concurrent.atomic.AtomicBoolean WARNED = new java.util.concurrent.atomic.AtomicBoolean();
}
