package io.jembed.tokenizer;

import java.util.List;

/**
 * Encodings padded to one length, as the model's inputs: row-major [size, sequenceLength] arrays
 * of input ids, type ids and attention mask (1 for real tokens, 0 for padding on the right).
 */
public final class Batch {

    private final List<Encoding> encodings;
    private final int sequenceLength;
    private final int[] inputIds;
    private final int[] typeIds;
    private final int[] attentionMask;

    Batch(List<Encoding> encodings, int sequenceLength, int padId, int padTypeId) {
        this.encodings = List.copyOf(encodings);
        this.sequenceLength = sequenceLength;
        int size = encodings.size();
        inputIds = new int[size * sequenceLength];
        typeIds = new int[size * sequenceLength];
        attentionMask = new int[size * sequenceLength];
        for (int row = 0; row < size; row++) {
            Encoding encoding = encodings.get(row);
            int base = row * sequenceLength;
            for (int t = 0; t < sequenceLength; t++) {
                boolean real = t < encoding.length();
                inputIds[base + t] = real ? encoding.id(t) : padId;
                typeIds[base + t] = real ? encoding.typeId(t) : padTypeId;
                attentionMask[base + t] = real ? 1 : 0;
            }
        }
    }

    /** Number of rows. */
    public int size() {
        return encodings.size();
    }

    /** Tokens per row, padding included. */
    public int sequenceLength() {
        return sequenceLength;
    }

    /** [size, sequenceLength] row-major; a copy. */
    public int[] inputIds() {
        return inputIds.clone();
    }

    /** [size, sequenceLength] row-major; a copy. */
    public int[] typeIds() {
        return typeIds.clone();
    }

    /** [size, sequenceLength] row-major; a copy. */
    public int[] attentionMask() {
        return attentionMask.clone();
    }

    /** The unpadded encoding of a row (its offsets and tokens). */
    public Encoding encoding(int row) {
        return encodings.get(row);
    }

    /** Real (unpadded) tokens in a row. */
    public int length(int row) {
        return encodings.get(row).length();
    }
}
