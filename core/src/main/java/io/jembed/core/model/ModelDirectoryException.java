package io.jembed.core.model;

import java.io.IOException;
import java.nio.file.Path;

/**
 * A model directory jembed cannot use: a missing or malformed file, or files that disagree (a
 * pooling dimension that is not the hidden size, a vocabulary larger than {@code vocab_size}). The
 * message follows the project template: which field, expected, found, in which file.
 */
public final class ModelDirectoryException extends IOException {

    private static final long serialVersionUID = 1L;

    private final transient Path file;
    private final String field;

    /**
     * @param file   the file at fault (or the directory, for a file that is missing)
     * @param field  the field at fault, or null when the whole file is
     * @param detail "expected ..., found ..."
     */
    public ModelDirectoryException(Path file, String field, String detail) {
        this(file, field, detail, null);
    }

    public ModelDirectoryException(Path file, String field, String detail, Throwable cause) {
        super((field == null ? "" : field + ": ") + detail + " in " + file, cause);
        this.file = file;
        this.field = field;
    }

    public Path file() {
        return file;
    }

    /** The field at fault, or null. */
    public String field() {
        return field;
    }
}
