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
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import io.jembed.core.kernels.Kernels;
import io.jembed.core.kernels.Kernels.Activation;
import io.jembed.core.kernels.KernelsProvider;
import io.jembed.core.kernels.PackedLinear;
import io.jembed.core.kernels.WorkerPool;

/**
 * One Linear layer {@code y[T, out] = x[T, in] · Wᵀ + b} at all-MiniLM-L6-v2's shapes: attention
 * output (384x384), intermediate (384x1536) and output (1536x384), for a short query (T = 8), a
 * sentence batch (64) and a long batch (512).
 *
 * <p>The {@code gflop} counter is the score to read: each call adds 2·T·in·out / 10^9, and JMH
 * reports it per second, so its "ops/s" are GFLOP/s. (The primary score is calls per second.)
 *
 * <pre>
 * java -jar benchmarks/target/benchmarks.jar LinearBenchmark -p impl=vector -p threads=1
 * </pre>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector"})
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
public class LinearBenchmark {

    /** T, rows of x. */
    @Param({"8", "64", "512"})
    public int tokens;

    /** {@code in x out} of the layer. */
    @Param({"384x384", "384x1536", "1536x384"})
    public String shape;

    @Param({"vector", "scalar"})
    public String impl;

    @Param({"1", "2"})
    public int threads;

    private Kernels kernels;
    private WorkerPool pool;
    private PackedLinear layer;
    private float[] x;
    private float[] y;
    private double gigaflopPerCall;

    @Setup
    public void setUp() {
        String[] dims = shape.split("x");
        int in = Integer.parseInt(dims[0]);
        int out = Integer.parseInt(dims[1]);
        kernels = impl.equals("scalar") ? KernelsProvider.scalar() : KernelsProvider.vector();
        pool = WorkerPool.create(threads);
        SplittableRandom random = new SplittableRandom(42);
        float[] weight = new float[out * in];
        float[] bias = new float[out];
        x = new float[tokens * in];
        y = new float[tokens * out];
        fill(random, weight, 0.05);
        fill(random, bias, 0.05);
        fill(random, x, 1);
        layer = kernels.pack(weight, bias, out, in);
        gigaflopPerCall = 2.0 * tokens * in * out / 1e9;
    }

    @TearDown
    public void tearDown() {
        pool.close();
    }

    private static void fill(SplittableRandom random, float[] values, double bound) {
        for (int i = 0; i < values.length; i++) {
            values[i] = (float) random.nextDouble(-bound, bound);
        }
    }

    @Benchmark
    public float[] linear(GflopCounter work) {
        kernels.linear(pool, x, tokens, layer, Activation.NONE, y);
        work.gflop += gigaflopPerCall;
        return y;
    }
}
