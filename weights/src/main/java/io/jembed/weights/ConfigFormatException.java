package io.jembed.weights;

import java.io.IOException;

/**
 * A {@code config.json} that is not valid JSON, lacks a field, or holds a value
 * {@link BertConfig} rejects. The message names the field and the file, following the template
 * what failed, expected, found, where.
 */
public final class ConfigFormatException extends IOException {

    private static final long serialVersionUID = 1L;

    private final String file;
    private final String field;

    /**
     * @param file   the file name or path shown in the message
     * @param field  the JSON field concerned, or null if the file as a whole is bad
     * @param detail "expected ..., found ..."
     */
    public ConfigFormatException(String file, String field, String detail, Throwable cause) {
        super((field == null ? "config" : "config field \"" + field + "\"") + ": " + detail + " in " + file, cause);
        this.file = file;
        this.field = field;
    }

    /** The file the failure was found in. */
    public String file() {
        return file;
    }

    /** The JSON field concerned, or null. */
    public String field() {
        return field;
    }
}
