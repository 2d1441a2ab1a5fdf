/**
 * Semantic search building blocks: cosine {@link io.jembed.core.index.Similarity}, the rows of an
 * index ({@link io.jembed.core.index.VectorStore}) and the index types that search them
 * ({@link io.jembed.core.index.VectorIndex}: the exact {@link io.jembed.core.index.FlatIndex} today),
 * and {@link io.jembed.core.index.IndexStore}, which keeps documents beside the vectors, treats
 * their ids as keys, and persists both as segments of an index directory.
 *
 * <h2>Index directory layout (format_version 3)</h2>
 * <pre>
 * my-index/
 *   manifest.json              the model, the index type, and the list of segments (see Manifest)
 *   vectors.S.safetensors      segment S's rows and tables (see SegmentData):
 *                                "vectors" F32 [rows, dim] unit length; int8 codes and scales (int8 only);
 *                                "document_offsets" I64 [documents + 1]; "id_hashes" I64 [documents];
 *                                "document_rows", "row_spans" (chunked only)
 *                              __metadata__ {"format": "jembed-index"}
 *   documents.S.jsonl          line d (from 0) is document d of segment S: {"id": ..., "text": ..., other fields}
 *   deletions.S.G.bin          which of segment S's documents are deleted, as of generation G (a bitset)
 *   .lock                      held while a save runs (a second concurrent save is refused)
 * </pre>
 * A segment is numbered by the generation that wrote it; it is never changed after, only its
 * deletion set is replaced by a new file. {@code --append} and {@code --upsert} add one segment;
 * a delete writes one bitset file per segment it touched; {@code compact} writes one segment of the
 * live documents and drops the others. Opening maps the files and reads the tables: no pass over
 * the documents, whose lines are read when a search returns them.
 *
 * <h2>Why a crash never damages the index</h2>
 * A save writes generation G's new files beside the current ones: a segment's documents file,
 * then its vectors file, each forced to disk; the new deletion files, forced; then
 * {@code .manifest.json.tmp}, forced; then renames it over manifest.json (atomic), forces the
 * directory, and only then deletes the files the new manifest no longer names. Readers go through
 * manifest.json only, so before the rename they see generation G-1, complete, and after it
 * generation G, complete. Files of an interrupted save are unreferenced: the failed save deletes
 * them, and after a crash the next save does. Data files are never modified in place, which is also
 * what makes memory-mapping them safe while another process writes. A writer that opened
 * generation G-1 and finds G on commit is refused, so two writers never lose each other's changes.
 *
 * <h2>Compatibility</h2>
 * An index is opened for a given {@link io.jembed.core.index.EmbeddingSpec} and refused with
 * {@link io.jembed.core.index.IndexFormatException} when the model's weights (sha256), the
 * dimension, or the pooling and normalisation differ, since its vectors would not be comparable
 * with the query's. Directories of format versions 1 and 2 (one generation's vectors and documents)
 * open as one segment; their first write turns them into version 3 without rewriting that segment.
 */
package io.jembed.core.index;
