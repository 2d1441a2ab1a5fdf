package io.jembed.core.cli;

import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

/**
 * read → compute → write, overlapped: a reader thread parses the next batches of the input while
 * the calling thread computes one (the forward pass, on the embedder's pool), and a writer thread
 * formats and writes the batches before it. At most {@link #DEPTH} batches wait at each hand-off,
 * so memory stays bounded whatever the input's size; output keeps input order.
 *
 * <p>The first failure anywhere (a bad line, the model, a full disk) stops all three stages and is
 * rethrown on the calling thread once the other two have ended, so nothing is left running.
 */
final class BatchPipeline {

    /** Batches queued between two stages: one being handed over while the next is prepared. */
    static final int DEPTH = 2;

    @FunctionalInterface
    interface Compute<R> {
        R apply(List<TextInput.Record> batch) throws Exception;
    }

    @FunctionalInterface
    interface Write<R> {
        void accept(List<TextInput.Record> batch, R result) throws Exception;
    }

    private record Computed<R>(List<TextInput.Record> batch, R result) {
    }

    /** Marks the end of a queue. */
    private static final Object END = new Object();

    private final AtomicReference<Throwable> failure = new AtomicReference<>();

    private BatchPipeline() {
    }

    /** Runs the three stages over the rest of {@code in} in batches of {@code batchSize}; returns records read. */
    static <R> long run(TextInput in, int batchSize, Compute<R> compute, Write<R> write) throws Exception {
        return new BatchPipeline().execute(in, batchSize, compute, write);
    }

    @SuppressWarnings("unchecked")
    private <R> long execute(TextInput in, int batchSize, Compute<R> compute, Write<R> write) throws Exception {
        BlockingQueue<Object> read = new ArrayBlockingQueue<>(DEPTH);
        BlockingQueue<Object> computed = new ArrayBlockingQueue<>(DEPTH);
        long[] count = {0};
        Thread reader = Thread.ofPlatform().daemon().name("jembed-reader").start(() -> {
            try {
                count[0] = in.forEachBatch(batchSize, batch -> put(read, List.copyOf(batch)));
            } catch (Throwable e) {
                fail(e);
            } finally {
                put(read, END);
            }
        });
        Thread writer = Thread.ofPlatform().daemon().name("jembed-writer").start(() -> {
            try {
                for (Object item = take(computed); item != END; item = take(computed)) {
                    Computed<R> done = (Computed<R>) item;
                    write.accept(done.batch(), done.result());
                }
            } catch (Throwable e) {
                fail(e);
            }
        });
        try {
            for (Object item = take(read); item != END && failure.get() == null; item = take(read)) {
                List<TextInput.Record> batch = (List<TextInput.Record>) item;
                put(computed, new Computed<>(batch, compute.apply(batch)));
            }
        } catch (Throwable e) {
            fail(e);
        } finally {
            put(computed, END);
            join(writer);
            join(reader);
        }
        Throwable first = failure.get();
        if (first instanceof Exception e) {
            throw e;
        }
        if (first instanceof Error e) {
            throw e;
        }
        return count[0];
    }

    private void fail(Throwable e) {
        failure.compareAndSet(null, e);
    }

    /** Hands over item unless the pipeline has failed (then the item is dropped: nobody will take it). */
    private void put(BlockingQueue<Object> queue, Object item) {
        try {
            while (!queue.offer(item, 10, TimeUnit.MILLISECONDS)) {
                if (failure.get() != null) {
                    if (item == END) {
                        queue.clear(); // the consumer may still wait for the end; make room for it
                        continue;
                    }
                    return;
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            fail(e);
        }
    }

    /** The next item, or END once the pipeline has failed. */
    private Object take(BlockingQueue<Object> queue) throws InterruptedException {
        while (true) {
            Object item = queue.poll(10, TimeUnit.MILLISECONDS);
            if (item != null) {
                return item;
            }
            if (failure.get() != null) {
                return END;
            }
        }
    }

    private static void join(Thread thread) throws InterruptedException {
        thread.join();
    }
}
