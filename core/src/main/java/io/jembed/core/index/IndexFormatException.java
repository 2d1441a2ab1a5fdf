package io.jembed.core.index;

import java.io.IOException;
import java.nio.file.Path;

/**
 * An index directory that cannot be used: not an index, damaged, written by a newer jembed, or
 * built with another model. The message follows the project template (what failed, expected,
 * found, which directory) and says what to do when there is something to do.
 */
public final class IndexFormatException extends IOException {

    private static final long serialVersionUID = 1L;

    /** Why the directory was refused; one value per check. */
    public enum Reason {
        /** No such directory, a file in its place, no manifest.json, or a non-empty directory to write into. */
        NOT_AN_INDEX,
        /** The index was built with other prompts than the model now has, or appended to under another document prompt. */
        PROMPTS_MISMATCH,
        /** manifest.json is not valid JSON or lacks a field or has a bad value. */
        BAD_MANIFEST,
        /** manifest.json has a format_version this jembed does not read. */
        UNSUPPORTED_VERSION,
        /** A file the manifest names does not exist. */
        MISSING_FILE,
        /** A file the manifest names does not have the size the manifest records. */
        TRUNCATED,
        /** The vectors file is not valid safetensors or lacks a tensor of the expected type and shape. */
        BAD_VECTORS,
        /** The documents file's lines are not the manifest's count of JSON documents. */
        BAD_DOCUMENTS,
        /** Built with a model whose weights differ (sha256). */
        MODEL_MISMATCH,
        /** Vectors of another dimension. */
        DIMENSION_MISMATCH,
        /** Another pooling or normalisation. */
        POOLING_MISMATCH,
        /** Another writer holds the directory's lock. */
        LOCKED,
        /** Another writer committed to the directory after this one opened it. */
        CHANGED,
        /** The deletions file of a segment does not match the manifest's count of deleted documents. */
        BAD_DELETIONS
    }

    private final Reason reason;
    private final transient Path directory;

    /**
     * @param detail "what: expected ..., found ..." (the directory is appended)
     */
    public IndexFormatException(Reason reason, Path directory, String detail) {
        super(detail + " in " + directory);
        this.reason = reason;
        this.directory = directory;
    }

    public IndexFormatException(Reason reason, Path directory, String detail, Throwable cause) {
        this(reason, directory, detail);
        initCause(cause);
    }

    public Reason reason() {
        return reason;
    }

    /** The index directory concerned. */
    public Path directory() {
        return directory;
    }
}
