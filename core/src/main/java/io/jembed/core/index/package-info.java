/**
 * Semantic search building blocks: cosine {@link io.jembed.core.index.Similarity}, the exact
 * {@link io.jembed.core.index.FlatIndex}, and {@link io.jembed.core.index.IndexStore}, which keeps
 * documents beside the vectors and persists both in an index directory.
 *
 * <h2>Index directory layout (format_version 1)</h2>
 * <pre>
 * my-index/
 *   manifest.json            which model made the vectors, how many, and which files hold them
 *   vectors.N.safetensors    "vectors"            F32 [count, dim]  L2-normalised, position order
 *                            "vectors_int8"       I8  [count, dim]  (quantization "int8" only)
 *                            "vectors_int8_scale" F32 [count]       (quantization "int8" only)
 *                            __metadata__ {"format": "jembed-index"}
 *   documents.N.jsonl        line p (from 0) is document p: {"id": ..., "text": ..., other fields}
 *   .lock                    held while a save runs (a second concurrent save is refused)
 * </pre>
 * N is the manifest's {@code generation}. {@link io.jembed.core.index.Manifest} lists the fields of
 * manifest.json; it records each data file's exact size, so a truncated or replaced file is
 * refused before it is mapped.
 *
 * <h2>Why a crash never damages the index</h2>
 * A save writes generation N+1 beside generation N: the vectors file, then the documents file, each
 * forced to disk; then {@code .manifest.json.tmp}, forced; then renames it over manifest.json
 * (atomic), forces the directory, and only then deletes generation N. Readers go through
 * manifest.json only, so before the rename they see generation N, complete, and after it
 * generation N+1, complete. Files of an interrupted save are unreferenced: the failed save
 * deletes them, and after a crash the next save does. Data files are never modified in place,
 * which is also what makes memory-mapping them safe while another process appends.
 *
 * <h2>Compatibility</h2>
 * An index is opened for a given {@link io.jembed.core.index.EmbeddingSpec} and refused with
 * {@link io.jembed.core.index.IndexFormatException} when the model's weights (sha256), the
 * dimension, or the pooling and normalisation differ, since its vectors would not be comparable
 * with the query's.
 */
package io.jembed.core.index;
