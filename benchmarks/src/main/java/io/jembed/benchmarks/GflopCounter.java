package io.jembed.benchmarks;

import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * Floating-point work done by a kernel benchmark, in GFLOP; JMH reports it per second as the
 * secondary result {@code :gflop}, i.e. GFLOP/s.
 */
@State(Scope.Thread)
@AuxCounters(AuxCounters.Type.OPERATIONS)
public class GflopCounter {
    public double gflop;

    @Setup(Level.Iteration)
    public void reset() {
        gflop = 0;
    }
}
