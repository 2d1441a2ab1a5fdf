package io.jembed.core.server;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

import io.jembed.core.Embedder;

/**
 * Dynamic batching: the prepared texts of concurrent requests wait here, and one thread takes
 * them, oldest first, into forward passes of up to the token budget, so requests that arrive
 * together share a pass (TEI's queue and batching task). A text's vector is the same bits
 * whatever shares its pass (the encoder sums in a fixed order per text), so the server returns
 * the CLI's vectors.
 *
 * <p>Vectors come back pooled but not normalised; the caller normalises as its request asks.
 * Memory is bounded by the callers: each request is admitted by the server's concurrency limit
 * and holds at most max-client-batch-size texts of at most max-length tokens.
 */
final class BatchQueue implements AutoCloseable {

    /**
     * A request's vectors in input order (pooled, not normalised), with how long its first text
     * waited for a pass and how long from then until its last text was pooled.
     */
    record Pooled(float[][] vectors, long queueNanos, long inferenceNanos) {
    }

    /** One request's texts; done completes when the last of them is pooled. */
    private static final class Job {
        final List<Embedder.Prepared> texts;
        final float[][] vectors;
        final CompletableFuture<Pooled> done = new CompletableFuture<>();
        final long enqueued = System.nanoTime();
        long started;   // first pass that took one of its texts
        int remaining;

        Job(List<Embedder.Prepared> texts) {
            this.texts = texts;
            this.vectors = new float[texts.size()][];
            this.remaining = texts.size();
        }
    }

    private record Item(Job job, int index) {
        int tokens() {
            return job.texts.get(index).tokens();
        }
    }

    private final Embedder embedder;
    private final int maxBatchTokens;
    private final ServerMetrics metrics;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition notEmpty = lock.newCondition();
    private final ArrayDeque<Item> items = new ArrayDeque<>();
    private final Thread worker;
    private boolean closed;

    BatchQueue(Embedder embedder, ServerMetrics metrics) {
        this(embedder, metrics, true);
    }

    /** startNow false: texts queue until {@link #start()} (tests gather a batch that way). */
    BatchQueue(Embedder embedder, ServerMetrics metrics, boolean startNow) {
        this.embedder = embedder;
        this.maxBatchTokens = embedder.maxBatchTokens();
        this.metrics = metrics;
        this.worker = Thread.ofPlatform().name("jembed-batcher").daemon().unstarted(this::run);
        if (startNow) {
            worker.start();
        }
    }

    void start() {
        worker.start();
    }

    /**
     * Queues a request's texts; the future gives their vectors in order (not normalised), or the
     * encoder's failure.
     */
    CompletableFuture<Pooled> submit(List<Embedder.Prepared> texts) {
        Job job = new Job(texts);
        if (texts.isEmpty()) {
            job.done.complete(new Pooled(job.vectors, 0, 0));
            return job.done;
        }
        lock.lock();
        try {
            if (closed) {
                throw new IllegalStateException("the server is shutting down");
            }
            for (int i = 0; i < texts.size(); i++) {
                items.add(new Item(job, i));
            }
            notEmpty.signal();
        } finally {
            lock.unlock();
        }
        return job.done;
    }

    /** Texts waiting for a forward pass (te_queue_size). */
    int size() {
        lock.lock();
        try {
            return items.size();
        } finally {
            lock.unlock();
        }
    }

    private void run() {
        while (true) {
            List<Item> batch = next();
            if (batch == null) {
                return;
            }
            if (batch.isEmpty()) {
                continue;
            }
            long start = System.nanoTime();
            List<Embedder.Prepared> texts = new ArrayList<>(batch.size());
            long tokens = 0;
            for (Item item : batch) {
                texts.add(item.job.texts.get(item.index));
                tokens += item.tokens();
                if (item.job.started == 0) {
                    item.job.started = start;
                }
            }
            metrics.batchSize.observe(batch.size());
            metrics.batchTokens.observe(tokens);
            float[][] vectors;
            try {
                vectors = embedder.encode(texts, false);
            } catch (RuntimeException | Error e) {
                for (Item item : batch) {
                    item.job.done.completeExceptionally(e);
                }
                continue;
            }
            long end = System.nanoTime();
            for (int i = 0; i < batch.size(); i++) {
                Job job = batch.get(i).job;
                job.vectors[batch.get(i).index] = vectors[i];
                if (--job.remaining == 0) {
                    job.done.complete(new Pooled(job.vectors, job.started - job.enqueued, end - job.started));
                }
            }
        }
    }

    /** The oldest texts that fit the token budget together (at least one); null once closed and drained. */
    private List<Item> next() {
        lock.lock();
        try {
            while (items.isEmpty()) {
                if (closed) {
                    return null;
                }
                notEmpty.awaitUninterruptibly();
            }
            List<Item> batch = new ArrayList<>();
            long tokens = 0;
            while (!items.isEmpty() && (batch.isEmpty() || tokens + items.peek().tokens() <= maxBatchTokens)) {
                Item item = items.poll();
                if (item.job.done.isDone()) {
                    continue; // failed in an earlier pass
                }
                batch.add(item);
                tokens += item.tokens();
            }
            return batch;
        } finally {
            lock.unlock();
        }
    }

    /** Finishes the texts already queued, then stops the batching thread. */
    @Override
    public void close() {
        lock.lock();
        try {
            closed = true;
            notEmpty.signalAll();
        } finally {
            lock.unlock();
        }
        try {
            worker.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
