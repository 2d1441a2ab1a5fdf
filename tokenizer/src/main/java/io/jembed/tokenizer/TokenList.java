package io.jembed.tokenizer;

import java.util.Arrays;

/**
 * Growable token ids with their original spans, filled by WordPiece up to a limit: the
 * truncation length of this sequence. Reused across texts by one thread.
 */
final class TokenList {

    int[] ids = new int[64];
    int[] starts = new int[64];
    int[] ends = new int[64];
    int size;
    /** Tokens beyond this are not needed (truncation); tokenization stops once size reaches it. */
    int limit;

    /** Starts a new text; buffers grown past 64k tokens by a huge text are released. */
    void reset(int limit) {
        if (ids.length > 1 << 16) {
            ids = new int[64];
            starts = new int[64];
            ends = new int[64];
        }
        this.size = 0;
        this.limit = limit;
    }

    boolean isFull() {
        return size >= limit;
    }

    void ensureCapacity(int capacity) {
        if (capacity > ids.length) {
            int grown = Math.max(capacity, ids.length + (ids.length >> 1));
            ids = Arrays.copyOf(ids, grown);
            starts = Arrays.copyOf(starts, grown);
            ends = Arrays.copyOf(ends, grown);
        }
    }

    void add(int id, int start, int end) {
        ensureCapacity(size + 1);
        ids[size] = id;
        starts[size] = start;
        ends[size] = end;
        size++;
    }
}
