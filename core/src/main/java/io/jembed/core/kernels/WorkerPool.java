package io.jembed.core.kernels;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.IntConsumer;

/**
 * A fixed set of threads that run the tasks of one {@link #parallelFor} at a time.
 *
 * <p>The encoder calls {@code parallelFor} about ten times per layer, some calls lasting only
 * tens of microseconds (a Linear layer over an 8-token query), so the hand-off must cost
 * microseconds: the caller publishes a job with one volatile write, every participant (the
 * caller included) claims task indices from the job's atomic counter, and the caller spins until
 * the last task is done. Idle workers poll for a while after their last job ({@link
 * #IDLE_SPIN_NANOS}, then yielding the core until {@link #IDLE_YIELD_NANOS}), so the next call of
 * the same forward pass finds them awake, and then park, so an idle pool costs no CPU.
 *
 * <p>Calls from several threads take turns (the pool runs one job at a time, each using every
 * thread). A {@code parallelFor} issued from inside a task runs inline on the calling thread.
 */
public final class WorkerPool implements AutoCloseable {

    /** A task that also learns which participant runs it, to pick per-worker scratch buffers. */
    @FunctionalInterface
    public interface TaskBody {
        /**
         * @param task   index in [0, tasks)
         * @param worker index in [0, {@link #threads()}) of the thread running it; no two tasks
         *               run at the same time with the same worker index
         */
        void run(int task, int worker);
    }

    /** How long an idle worker polls for the next job, then how long it yields before it parks. */
    static final long IDLE_SPIN_NANOS = 50_000;
    static final long IDLE_YIELD_NANOS = 200_000;

    /**
     * How long the caller polls for its job's last tasks, then how long it yields before it
     * parks. Short: when the machine is oversubscribed the thread running the last task may be
     * waiting for this very core.
     */
    private static final long DONE_SPIN_NANOS = 20_000;
    private static final long DONE_YIELD_NANOS = 200_000;

    /** Published between jobs so the pool does not keep a finished job's body reachable. */
    private static final Job IDLE = new Job(0, null, null, null);

    private final int threads;
    private final Worker[] workers;                        // [threads - 1]; the caller is worker 0
    private final ReentrantLock callerLock = new ReentrantLock();
    private volatile Job job;
    private volatile boolean closed;

    private WorkerPool(int threads) {
        this.threads = threads;
        this.workers = new Worker[threads - 1];
        for (int i = 0; i < workers.length; i++) {
            workers[i] = new Worker(this, i + 1);
        }
        for (Worker worker : workers) {
            worker.start();
        }
    }

    /** A pool of {@code threads} participants: the caller and {@code threads - 1} daemon threads. */
    public static WorkerPool create(int threads) {
        if (threads < 1) {
            throw new IllegalArgumentException("worker pool: expected threads >= 1, found " + threads);
        }
        return new WorkerPool(threads);
    }

    /** A pool as wide as the machine, {@link Runtime#availableProcessors()}. */
    public static WorkerPool create() {
        return create(Runtime.getRuntime().availableProcessors());
    }

    /** Participants in each {@code parallelFor}, the calling thread included. */
    public int threads() {
        return threads;
    }

    /**
     * Runs {@code body.accept(i)} once for every i in [0, tasks) and returns when all have run.
     * The first exception a task throws is rethrown here once every started task has finished;
     * tasks not yet started when it was thrown are skipped.
     */
    public void parallelFor(int tasks, IntConsumer body) {
        run(tasks, body, null);
    }

    /** As {@link #parallelFor(int, IntConsumer)}, telling each task which worker runs it. */
    public void parallelFor(int tasks, TaskBody body) {
        run(tasks, null, body);
    }

    /** Stops the worker threads; later {@code parallelFor} calls fail. */
    @Override
    public void close() {
        closed = true;
        for (Worker worker : workers) {
            LockSupport.unpark(worker);
        }
        for (Worker worker : workers) {
            if (worker != Thread.currentThread()) {
                try {
                    worker.join();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
        }
    }

    private void run(int tasks, IntConsumer consumer, TaskBody body) {
        if (tasks < 0) {
            throw new IllegalArgumentException("parallelFor: expected tasks >= 0, found " + tasks);
        }
        if (closed) {
            throw new IllegalStateException("parallelFor: worker pool is closed");
        }
        if (tasks == 0) {
            return;
        }
        if (Thread.currentThread() instanceof Worker worker && worker.pool == this) {
            runInline(tasks, consumer, body, worker.index);
            return;
        }
        if (threads == 1 || tasks == 1 || callerLock.isHeldByCurrentThread()) {
            runInline(tasks, consumer, body, 0);
            return;
        }
        callerLock.lock();
        try {
            Job current = new Job(tasks, consumer, body, Thread.currentThread());
            job = current;
            for (Worker worker : workers) {
                if (worker.parked) {
                    LockSupport.unpark(worker);
                }
            }
            current.work(0);
            current.awaitDone();
            job = IDLE; // drop the finished job's references to the caller's arrays
            Throwable failure = current.failure;
            if (failure instanceof RuntimeException e) {
                throw e;
            }
            if (failure instanceof Error e) {
                throw e;
            }
            if (failure != null) {
                throw new RuntimeException("parallelFor: a task failed", failure);
            }
        } finally {
            callerLock.unlock();
        }
    }

    private static void runInline(int tasks, IntConsumer consumer, TaskBody body, int worker) {
        for (int i = 0; i < tasks; i++) {
            if (consumer != null) {
                consumer.accept(i);
            } else {
                body.run(i, worker);
            }
        }
    }

    /** One parallelFor: its tasks, the counter they are claimed from and the count finished. */
    private static final class Job {
        final int tasks;
        final IntConsumer consumer;
        final TaskBody body;
        final Thread caller;
        final AtomicInteger next = new AtomicInteger();
        final AtomicInteger done = new AtomicInteger();
        volatile Throwable failure;
        volatile boolean callerParked;

        Job(int tasks, IntConsumer consumer, TaskBody body, Thread caller) {
            this.tasks = tasks;
            this.consumer = consumer;
            this.body = body;
            this.caller = caller;
        }

        /** Claims and runs tasks until none is left; a stale worker finds none and returns. */
        void work(int worker) {
            int finished = 0;
            for (int i = next.getAndIncrement(); i < tasks; i = next.getAndIncrement()) {
                if (failure == null) {
                    try {
                        if (consumer != null) {
                            consumer.accept(i);
                        } else {
                            body.run(i, worker);
                        }
                    } catch (Throwable t) {
                        if (failure == null) {
                            failure = t;
                        }
                    }
                }
                finished++;
            }
            if (finished > 0 && done.addAndGet(finished) == tasks && Thread.currentThread() != caller
                    && callerParked) {
                LockSupport.unpark(caller);
            }
        }

        void awaitDone() {
            long start = System.nanoTime();
            while (done.get() < tasks) {
                long waited = System.nanoTime() - start;
                if (waited < DONE_SPIN_NANOS) {
                    Thread.onSpinWait();
                    continue;
                }
                if (waited < DONE_YIELD_NANOS) {
                    Thread.yield();
                    continue;
                }
                callerParked = true;
                if (done.get() < tasks) {
                    LockSupport.park(this);
                }
                callerParked = false;
            }
        }
    }

    private static final class Worker extends Thread {
        final WorkerPool pool;
        final int index;
        volatile boolean parked;

        Worker(WorkerPool pool, int index) {
            super("jembed-worker-" + index);
            this.pool = pool;
            this.index = index;
            setDaemon(true);
        }

        @Override
        public void run() {
            Job seen = null;
            while (true) {
                Job next = awaitJob(seen);
                if (next == null) {
                    return;
                }
                seen = next;
                next.work(index);
            }
        }

        /** The next job after {@code seen}, or null once the pool is closed. */
        private Job awaitJob(Job seen) {
            long start = System.nanoTime();
            while (true) {
                Job current = pool.job;
                if (current != seen) {
                    return current;
                }
                if (pool.closed) {
                    return null;
                }
                long waited = System.nanoTime() - start;
                if (waited < IDLE_SPIN_NANOS) {
                    Thread.onSpinWait();
                    continue;
                }
                if (waited < IDLE_YIELD_NANOS) {
                    Thread.yield();
                    continue;
                }
                // Publish "parked" before the last look at the job: the caller writes the job
                // before reading this flag, so one of the two sees the other's write.
                parked = true;
                if (pool.job == seen && !pool.closed) {
                    LockSupport.park(pool);
                }
                parked = false;
            }
        }
    }
}
