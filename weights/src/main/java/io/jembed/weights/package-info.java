/**
 * Model files, independent of the model code: {@link io.jembed.weights.SafetensorsReader} (memory
 * mapped, whole header validated before any tensor is visible), {@link io.jembed.weights.SafetensorsWriter}
 * (streaming, atomic), and {@link io.jembed.weights.BertConfig} for {@code config.json}.
 *
 * <p>Errors: a bad file is a {@link io.jembed.weights.SafetensorsFormatException} or
 * {@link io.jembed.weights.ConfigFormatException} (both {@link java.io.IOException}s) whose message
 * reads "what failed, which tensor or field, expected, found, in which file"; a caller mistake is an
 * {@link java.lang.IllegalArgumentException}.
 */
package io.jembed.weights;
