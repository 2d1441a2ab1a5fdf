package io.jembed.core.pooling;

import java.io.IOException;
import java.nio.file.Path;

/**
 * A model directory's {@code modules.json} or {@code 1_Pooling/config.json} that cannot be used:
 * malformed JSON, a field of the wrong type, no pooling mode enabled, or a module jembed does not
 * run. The message follows the project template: what failed, expected, found, which file.
 */
public final class PoolingConfigException extends IOException {

    private static final long serialVersionUID = 1L;

    private final transient Path file;

    public PoolingConfigException(Path file, String detail) {
        super(detail + " in " + file);
        this.file = file;
    }

    public PoolingConfigException(Path file, String detail, Throwable cause) {
        super(detail + " in " + file, cause);
        this.file = file;
    }

    /** The file that was rejected. */
    public Path file() {
        return file;
    }
}
