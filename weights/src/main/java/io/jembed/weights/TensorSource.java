package io.jembed.weights;

import java.io.IOException;

/**
 * Produces one tensor's bytes while {@link SafetensorsWriter} writes the file, so data that is not
 * in one array (rows in chunks, a computation) is streamed without a contiguous copy.
 *
 * <p>The source must write exactly the tensor's byte length (element count x dtype size); the
 * writer fails the whole write otherwise. It may be called once per write.
 */
@FunctionalInterface
public interface TensorSource {

    /** Writes the tensor's elements in row-major order. */
    void writeTo(TensorOutput out) throws IOException;
}
