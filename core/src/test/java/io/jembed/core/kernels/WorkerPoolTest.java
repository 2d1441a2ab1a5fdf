package io.jembed.core.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

@Timeout(value = 60, unit = TimeUnit.SECONDS)
class WorkerPoolTest {

    @ParameterizedTest
    @ValueSource(ints = {1, 2, 3})
    void everyTaskRunsExactlyOnce(int threads) {
        try (WorkerPool pool = WorkerPool.create(threads)) {
            assertEquals(threads, pool.threads());
            // Many short jobs back to back: the hand-off between jobs is where races would be.
            for (int round = 0; round < 2000; round++) {
                int tasks = round % 37;
                AtomicIntegerArray runs = new AtomicIntegerArray(tasks);
                pool.parallelFor(tasks, runs::incrementAndGet);
                for (int i = 0; i < tasks; i++) {
                    assertEquals(1, runs.get(i), "round " + round + ": task " + i + " of " + tasks);
                }
            }
            AtomicIntegerArray runs = new AtomicIntegerArray(100_000);
            pool.parallelFor(runs.length(), runs::incrementAndGet);
            for (int i = 0; i < runs.length(); i++) {
                assertEquals(1, runs.get(i), "task " + i + " of 100000");
            }
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 3})
    void workerIndicesAreInRangeAndNeverShared(int threads) {
        try (WorkerPool pool = WorkerPool.create(threads)) {
            AtomicIntegerArray busy = new AtomicIntegerArray(threads);
            AtomicInteger clashes = new AtomicInteger();
            AtomicInteger outOfRange = new AtomicInteger();
            for (int round = 0; round < 200; round++) {
                pool.parallelFor(64, (task, worker) -> {
                    if (worker < 0 || worker >= threads) {
                        outOfRange.incrementAndGet();
                        return;
                    }
                    if (!busy.compareAndSet(worker, 0, 1)) {
                        clashes.incrementAndGet();
                    }
                    Thread.onSpinWait();
                    busy.set(worker, 0);
                });
            }
            assertEquals(0, outOfRange.get(), "tasks given a worker index outside [0, " + threads + ")");
            assertEquals(0, clashes.get(), "tasks running at once with the same worker index");
        }
    }

    @Test
    void callerParticipatesAndWorkersAreNamedDaemons() {
        try (WorkerPool pool = WorkerPool.create(3)) {
            Set<Thread> seen = ConcurrentHashMap.newKeySet();
            for (int round = 0; round < 100 && seen.size() < 3; round++) {
                pool.parallelFor(300, task -> {
                    seen.add(Thread.currentThread());
                    for (int i = 0; i < 10_000; i++) {
                        Thread.onSpinWait();
                    }
                });
            }
            assertTrue(seen.contains(Thread.currentThread()), "the caller ran no task");
            for (Thread thread : seen) {
                if (thread != Thread.currentThread()) {
                    assertTrue(thread.isDaemon(), thread.getName() + " is not a daemon");
                    assertTrue(thread.getName().matches("jembed-worker-[12]"), thread.getName());
                }
            }
        }
    }

    @Test
    void onePoolRunsInlineOnTheCaller() {
        try (WorkerPool pool = WorkerPool.create(1)) {
            Thread caller = Thread.currentThread();
            pool.parallelFor(10, (task, worker) -> {
                assertSame(caller, Thread.currentThread());
                assertEquals(0, worker);
            });
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 3})
    void exceptionReachesTheCallerAndThePoolStaysUsable(int threads) {
        try (WorkerPool pool = WorkerPool.create(threads)) {
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> pool.parallelFor(50, task -> {
                if (task == 17) {
                    throw new IllegalStateException("task 17 failed");
                }
            }));
            assertEquals("task 17 failed", e.getMessage());
            AssertionError error = assertThrows(AssertionError.class,
                    () -> pool.parallelFor(50, (task, worker) -> {
                        throw new AssertionError("every task fails");
                    }));
            assertEquals("every task fails", error.getMessage());

            AtomicInteger count = new AtomicInteger();
            pool.parallelFor(1000, task -> count.incrementAndGet());
            assertEquals(1000, count.get());
        }
    }

    @Test
    void nestedCallRunsInline() {
        try (WorkerPool pool = WorkerPool.create(3)) {
            AtomicIntegerArray runs = new AtomicIntegerArray(20 * 30);
            pool.parallelFor(20, outer -> pool.parallelFor(30, inner -> runs.incrementAndGet(outer * 30 + inner)));
            for (int i = 0; i < runs.length(); i++) {
                assertEquals(1, runs.get(i), "task " + i);
            }
        }
    }

    @Test
    void concurrentCallersTakeTurns() throws InterruptedException {
        try (WorkerPool pool = WorkerPool.create(2)) {
            AtomicIntegerArray runs = new AtomicIntegerArray(4 * 500);
            Thread[] callers = new Thread[4];
            for (int c = 0; c < callers.length; c++) {
                int caller = c;
                callers[c] = new Thread(() -> {
                    for (int round = 0; round < 50; round++) {
                        int base = caller * 500 + round * 10;
                        pool.parallelFor(10, task -> runs.incrementAndGet(base + task));
                    }
                });
                callers[c].start();
            }
            for (Thread caller : callers) {
                caller.join();
            }
            for (int i = 0; i < runs.length(); i++) {
                assertEquals(1, runs.get(i), "caller " + i / 500 + ", round " + i % 500 / 10 + ", task " + i % 10);
            }
        }
    }

    @Test
    void closedPoolRefusesWork() throws InterruptedException {
        WorkerPool pool = WorkerPool.create(3);
        pool.parallelFor(10, task -> { });
        pool.close();
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> pool.parallelFor(2, task -> { }));
        assertEquals("parallelFor: worker pool is closed", e.getMessage());
        for (Thread thread : Thread.getAllStackTraces().keySet()) {
            if (thread.getName().startsWith("jembed-worker-")) {
                thread.join(100); // other tests' pools may still be closing
            }
        }
    }

    @Test
    void rejectsBadArguments() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> WorkerPool.create(0));
        assertEquals("worker pool: expected threads >= 1, found 0", e.getMessage());
        try (WorkerPool pool = WorkerPool.create(2)) {
            IllegalArgumentException negative = assertThrows(IllegalArgumentException.class,
                    () -> pool.parallelFor(-1, task -> { }));
            assertEquals("parallelFor: expected tasks >= 0, found -1", negative.getMessage());
        }
    }
}
