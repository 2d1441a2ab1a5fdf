package io.jembed.core.index;

/** How a {@link FlatIndex} stores its vectors for the scan. */
public enum Quantization {
    /** fp32 only: the scan computes exact cosine scores. */
    NONE,
    /**
     * fp32 plus an int8 copy, one scale per vector ({@code code = round(x / scale)}, {@code scale =
     * max|x| / 127}). The scan reads the int8 copy, a quarter of the bytes, and the best candidates
     * are re-scored exactly from fp32, so returned scores are exact; only which vectors reach the
     * re-scoring is approximate ({@link Recall#int8Recall} measures it).
     */
    INT8
}
