package io.jembed.weights;

import java.io.IOException;

/**
 * A safetensors file that is malformed, or that lacks a tensor of the name, type or shape a
 * caller needs.
 *
 * <p>It is an {@link IOException} because a bad file is an input problem the caller reports to the
 * user, like a missing file. The message follows the project template: what failed, which tensor,
 * expected, found, and the file name, for example
 * {@code tensor 'encoder.layer.3.attention.self.query.weight': expected F32 [384, 384], found F16
 * [384, 768] in model.safetensors}.
 */
public final class SafetensorsFormatException extends IOException {

    private static final long serialVersionUID = 1L;

    /** Why the file was rejected; one value per check, each with its own test. */
    public enum Reason {
        /** Shorter than the 8-byte header length prefix. */
        FILE_TOO_SMALL,
        /** Header length above the 100,000,000-byte limit of the reference implementation. */
        HEADER_TOO_LARGE,
        /** Header length points past the end of the file. */
        HEADER_PAST_EOF,
        /** Header bytes are not valid UTF-8. */
        INVALID_UTF8,
        /** Header is not well-formed JSON (or has content after the object). */
        INVALID_JSON,
        /** Header JSON is not an object. */
        NOT_AN_OBJECT,
        /** The same key appears twice in the header. */
        DUPLICATE_NAME,
        /** A tensor entry is not an object or lacks dtype, shape or data_offsets. */
        INVALID_ENTRY,
        /** dtype is not a known safetensors type. */
        UNKNOWN_DTYPE,
        /** shape is not an array of non-negative integers. */
        INVALID_SHAPE,
        /** The element count or byte length of a shape does not fit in 64 bits. */
        SHAPE_OVERFLOW,
        /** data_offsets is not [begin, end] with 0 &lt;= begin &lt;= end. */
        INVALID_OFFSETS,
        /** end - begin differs from element count x dtype size. */
        SIZE_MISMATCH,
        /** Sorted by offset, a tensor starts after the previous one ends (or the first after 0). */
        GAP,
        /** Sorted by offset, a tensor starts before the previous one ends. */
        OVERLAP,
        /** The file continues after the last tensor's data. */
        TRAILING_BYTES,
        /** The last tensor's data ends past the end of the file. */
        DATA_PAST_EOF,
        /** {@code __metadata__} is not an object of string values. */
        INVALID_METADATA,
        /** A caller asked for a tensor the file does not hold. */
        MISSING_TENSOR,
        /** A tensor has a dtype other than the one the caller needs. */
        DTYPE_MISMATCH,
        /** A tensor has a shape other than the one the caller needs. */
        SHAPE_MISMATCH
    }

    private final Reason reason;
    private final String tensorName;
    private final String file;

    /**
     * @param reason     the failed check
     * @param tensorName the tensor concerned, or null if the failure is not about one tensor
     * @param file       the file (or source) name as shown in messages
     * @param detail     "expected ..., found ..." for this failure
     */
    public SafetensorsFormatException(Reason reason, String tensorName, String file, String detail) {
        super(message(reason, tensorName, file, detail));
        this.reason = reason;
        this.tensorName = tensorName;
        this.file = file;
    }

    SafetensorsFormatException(Reason reason, String tensorName, String file, String detail, Throwable cause) {
        this(reason, tensorName, file, detail);
        initCause(cause);
    }

    private static String message(Reason reason, String tensorName, String file, String detail) {
        String subject = tensorName == null ? "safetensors file" : "tensor '" + tensorName + "'";
        return subject + ": " + detail + " in " + file;
    }

    /** The failed check. */
    public Reason reason() {
        return reason;
    }

    /** The tensor concerned, or null when the failure is about the file as a whole. */
    public String tensorName() {
        return tensorName;
    }

    /** The file name (or source name for in-memory data) the failure was found in. */
    public String file() {
        return file;
    }
}
