package io.jembed.benchmarks;

import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import io.jembed.core.kernels.Kernels;
import io.jembed.core.kernels.KernelsProvider;

/**
 * One attention head of all-MiniLM-L6-v2 (d = 64) on one thread, q, k and v read from a fused
 * [T, 3H] projection as the encoder lays them out.
 *
 * <p>The {@code gflop} counter counts the two matmuls, 4·T²·d / 10^9 per call (softmax's exps
 * not included); its "ops/s" are GFLOP/s.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector"})
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
public class AttentionBenchmark {

    private static final int HIDDEN = 384;
    private static final int HEAD_SIZE = 64;

    /** T, tokens of the sequence. */
    @Param({"8", "64", "256"})
    public int tokens;

    @Param({"vector", "scalar"})
    public String impl;

    private Kernels kernels;
    private float[] queryKeyValue;
    private float[] context;
    private float[] scratch;
    private float scale;
    private double gigaflopPerCall;

    @Setup
    public void setUp() {
        kernels = impl.equals("scalar") ? KernelsProvider.scalar() : KernelsProvider.vector();
        SplittableRandom random = new SplittableRandom(42);
        queryKeyValue = new float[tokens * 3 * HIDDEN];
        for (int i = 0; i < queryKeyValue.length; i++) {
            queryKeyValue[i] = (float) random.nextDouble(-2, 2);
        }
        context = new float[tokens * HIDDEN];
        scratch = new float[kernels.attentionScratchSize(tokens, HEAD_SIZE)];
        scale = (float) (1 / Math.sqrt(HEAD_SIZE));
        gigaflopPerCall = 4.0 * tokens * tokens * HEAD_SIZE / 1e9;
    }

    @Benchmark
    public float[] head(GflopCounter work) {
        // Head 0: q, k and v at column offsets 0, H and 2H of each [3H] row.
        kernels.attention(queryKeyValue, 0, queryKeyValue, HIDDEN, queryKeyValue, 2 * HIDDEN, 3 * HIDDEN,
                tokens, HEAD_SIZE, scale, context, 0, HIDDEN, scratch);
        work.gflop += gigaflopPerCall;
        return context;
    }
}
