package io.jembed.benchmarks;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

import io.jembed.core.index.FlatIndex;
import io.jembed.core.index.Quantization;
import io.jembed.core.index.VectorIndex;
import io.jembed.core.kernels.IndexKernels;

/**
 * Exact search over random 384-d vectors: one query at a time (latency and queries/s), a batch of
 * 100 queries (queries/s), and, as the yardstick, a streaming read of as many bytes as one fp32
 * scan reads, on as many threads as the scan uses. Every benchmark counts the bytes it reads in the
 * {@code bytes} counter, so JMH reports bytes/s beside ops/s: a single-query scan's bytes/s over
 * {@code streamRead}'s is the fraction of the measured memory bandwidth it reaches (goal >= 70%).
 *
 * <p>int8 scans read a quarter of the fp32 bytes (plus the re-scored candidates' rows, not counted).
 *
 * <pre>
 * java -jar benchmarks/target/benchmarks.jar FlatSearchBenchmark -p size=100000           # smoke
 * java -jar benchmarks/target/benchmarks.jar FlatSearchBenchmark -prof gc                   # full
 * </pre>
 */
@State(Scope.Benchmark)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
        "-Xms2g", "-Xmx2g"})
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 3)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class FlatSearchBenchmark {

    static final int DIM = 384;
    static final int K = 10;
    static final int BATCH = 100;
    /** Vectors added per call while building, so the build never holds the whole corpus on the heap. */
    static final int BUILD_CHUNK = 10_000;
    static final ValueLayout.OfFloat FLOAT_LE = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    @Param({"100000", "1000000"})
    int size;

    @Param({"NONE", "INT8"})
    Quantization quantization;

    /** Threads per search; 0 means FlatIndex.defaultThreads(). */
    @Param({"0"})
    int threads;

    FlatIndex index;
    float[][] queries;
    int next;
    MemorySegment streamBlock;
    Arena arena;
    ExecutorService streamPool;
    int searchThreads;

    /** Bytes read per operation, reported by JMH as a rate (bytes/s) next to ops/s. */
    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.OPERATIONS)
    public static class Bytes {
        public long bytes;

        @Setup(Level.Iteration)
        public void reset() {
            bytes = 0;
        }
    }

    @Setup(Level.Trial)
    public void setUp() {
        searchThreads = threads == 0 ? FlatIndex.defaultThreads() : threads;
        index = new FlatIndex(DIM, quantization, searchThreads);
        SplittableRandom random = new SplittableRandom(42);
        float[][] chunk = new float[BUILD_CHUNK][DIM];
        for (int added = 0; added < size; added += BUILD_CHUNK) {
            int n = Math.min(BUILD_CHUNK, size - added);
            for (int i = 0; i < n; i++) {
                fill(random, chunk[i]);
            }
            index.add(n == BUILD_CHUNK ? chunk : Arrays.copyOf(chunk, n));
        }
        queries = new float[BATCH][DIM];
        for (float[] query : queries) {
            fill(random, query);
        }
        arena = Arena.ofShared();
        streamBlock = arena.allocate(scanBytes(Quantization.NONE), 64);
        for (long i = 0; i < streamBlock.byteSize() / 4; i++) {
            streamBlock.set(FLOAT_LE, 4 * i, (float) random.nextDouble(-1, 1));
        }
        streamPool = Executors.newFixedThreadPool(searchThreads);
    }

    static void fill(SplittableRandom random, float[] vector) {
        for (int i = 0; i < vector.length; i++) {
            vector[i] = (float) random.nextDouble(-1, 1);
        }
    }

    /** Bytes one scan of the whole index reads. */
    long scanBytes(Quantization storage) {
        return (long) size * DIM * (storage == Quantization.INT8 ? 1 : 4);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        index.close();
        streamPool.shutdownNow();
        arena.close();
    }

    @Benchmark
    @BenchmarkMode({Mode.Throughput, Mode.AverageTime})
    @OutputTimeUnit(TimeUnit.MILLISECONDS)
    public List<VectorIndex.Hit> singleQuery(Bytes counter) {
        counter.bytes += scanBytes(quantization);
        return index.search(queries[next++ % BATCH], K);
    }

    @Benchmark
    @OperationsPerInvocation(BATCH)
    public List<List<VectorIndex.Hit>> batch100(Bytes counter) {
        counter.bytes += scanBytes(quantization) * BATCH;
        return index.search(queries, K);
    }

    /** The yardstick: the fp32 scan's bytes, streamed in as many contiguous ranges as search threads. */
    @Benchmark
    public void streamRead(Bytes counter, Blackhole blackhole) throws InterruptedException, ExecutionException {
        long floats = streamBlock.byteSize() / 4;
        List<Future<Double>> parts = new ArrayList<>(searchThreads);
        IndexKernels kernels = IndexKernels.get();
        for (int p = 0; p < searchThreads; p++) {
            long from = floats * p / searchThreads;
            long to = floats * (p + 1) / searchThreads;
            parts.add(streamPool.submit(() -> kernels.sum(streamBlock, 4 * from, to - from)));
        }
        for (Future<Double> part : parts) {
            blackhole.consume(part.get().doubleValue());
        }
        counter.bytes += streamBlock.byteSize();
    }
}
