package io.jembed.weights.onnx;

import java.io.IOException;

/**
 * An ONNX file that is malformed, or that the importer cannot turn into Hugging Face named
 * weights. The message follows the project template: what failed, which tensor, expected, found,
 * in which source.
 */
public final class OnnxFormatException extends IOException {

    private static final long serialVersionUID = 1L;

    /** Why the file was rejected. */
    public enum Reason {
        /** The bytes are not a well-formed protobuf message (truncated, bad varint, bad wire type). */
        MALFORMED_PROTOBUF,
        /** The ModelProto has no graph. */
        MISSING_GRAPH,
        /** A tensor's data lives in an external file, which the importer does not read. */
        EXTERNAL_DATA,
        /** A tensor's data type is not one the operation supports (for example int8 weights). */
        UNSUPPORTED_DTYPE,
        /** A tensor's data length does not match its dims and data type. */
        INVALID_TENSOR,
        /** An initializer cannot be given a Hugging Face name from the graph. */
        UNMAPPABLE_INITIALIZER,
        /** Two initializers map to the same Hugging Face name. */
        DUPLICATE_NAME,
        /** A tensor the caller needs is not there. */
        MISSING_TENSOR,
        /** A config.json value cannot be recovered from the graph's tensors and constants. */
        CANNOT_INFER_CONFIG
    }

    private final Reason reason;
    private final String tensorName;
    private final String source;

    /**
     * @param tensorName the initializer or tensor concerned, or null
     * @param source     file or source name shown in the message
     * @param detail     "expected ..., found ..."
     */
    public OnnxFormatException(Reason reason, String tensorName, String source, String detail) {
        super((tensorName == null ? "onnx" : "tensor '" + tensorName + "'") + ": " + detail + " in " + source);
        this.reason = reason;
        this.tensorName = tensorName;
        this.source = source;
    }

    /** The failed check. */
    public Reason reason() {
        return reason;
    }

    /** The tensor concerned, or null. */
    public String tensorName() {
        return tensorName;
    }

    /** File or source name. */
    public String source() {
        return source;
    }
}
