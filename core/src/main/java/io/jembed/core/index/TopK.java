package io.jembed.core.index;

import java.util.ArrayList;
import java.util.List;

/**
 * The best {@code capacity} (position, score) pairs offered so far: a min-heap whose root is the
 * worst kept pair. "Better" is a strict total order, higher score first and then lower position,
 * so the kept set and its sorted order do not depend on the order of offers: splitting a scan
 * over threads and merging gives the same result as one sequential scan. Public for index types
 * outside this package, which must rank as flat does.
 */
public final class TopK {

    private final int capacity;
    private final int[] positions;
    private final float[] scores;
    private int size;

    public TopK(int capacity) {
        this.capacity = capacity;
        this.positions = new int[capacity];
        this.scores = new float[capacity];
    }

    /** Whether (score a, position a) ranks before (score b, position b). */
    static boolean better(float scoreA, int positionA, float scoreB, int positionB) {
        return scoreA > scoreB || (scoreA == scoreB && positionA < positionB);
    }

    public void offer(int position, float score) {
        if (size < capacity) {
            positions[size] = position;
            scores[size] = score;
            siftUp(size++);
        } else if (capacity > 0 && score >= scores[0] && better(score, position, scores[0], positions[0])) {
            positions[0] = position;
            scores[0] = score;
            siftDown(0);
        }
    }

    void addAll(TopK other) {
        for (int i = 0; i < other.size; i++) {
            offer(other.positions[i], other.scores[i]);
        }
    }

    int size() {
        return size;
    }

    int position(int i) {
        return positions[i];
    }

    /** The kept pairs, best first. */
    public List<VectorIndex.Hit> sorted() {
        List<VectorIndex.Hit> hits = new ArrayList<>(size);
        for (int i = 0; i < size; i++) {
            hits.add(new VectorIndex.Hit(positions[i], scores[i]));
        }
        hits.sort((a, b) -> better(a.score(), a.position(), b.score(), b.position()) ? -1
                : better(b.score(), b.position(), a.score(), a.position()) ? 1 : 0);
        return hits;
    }

    private void siftUp(int i) {
        int position = positions[i];
        float score = scores[i];
        while (i > 0) {
            int parent = (i - 1) >>> 1;
            if (!better(scores[parent], positions[parent], score, position)) {
                break;
            }
            positions[i] = positions[parent];
            scores[i] = scores[parent];
            i = parent;
        }
        positions[i] = position;
        scores[i] = score;
    }

    private void siftDown(int i) {
        int position = positions[i];
        float score = scores[i];
        while (true) {
            int child = 2 * i + 1;
            if (child >= size) {
                break;
            }
            if (child + 1 < size && better(scores[child], positions[child], scores[child + 1], positions[child + 1])) {
                child++;
            }
            if (!better(score, position, scores[child], positions[child])) {
                break;
            }
            positions[i] = positions[child];
            scores[i] = scores[child];
            i = child;
        }
        positions[i] = position;
        scores[i] = score;
    }
}
