package io.jembed.core.search;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import io.jembed.core.EmbedRequest;
import io.jembed.core.EmbedResult;
import io.jembed.core.Embedder;
import io.jembed.core.index.Document;
import io.jembed.core.index.EmbeddingSpec;
import io.jembed.core.index.IndexStore;
import io.jembed.core.index.Manifest;
import io.jembed.core.index.Quantization;
import io.jembed.core.model.Prompt;

/**
 * Semantic search over a corpus: documents are embedded with an {@link Embedder} and kept in a
 * flat cosine index; a question is embedded with the same model and answered with the most
 * similar documents. What {@code datasets} + FAISS {@code IndexFlatIP} + a sentence-transformers
 * model do in Python.
 *
 * <p>Prompts follow sentence-transformers' {@code encode_document} / {@code encode_query}: documents
 * are embedded with the model's document prompt (e5's {@code "passage: "}) and questions with its
 * query prompt (e5's {@code "query: "}, bge's instruction), unless told otherwise. The index records
 * both the model's prompts and the document prompt it used, so a reopened index embeds new
 * documents and questions the same way.
 *
 * <pre>{@code
 * try (Embedder embedder = Embedder.load(modelDir);
 *      SemanticSearch search = SemanticSearch.create(embedder)) {
 *     search.index(List.of(Document.of("1", "The Nile flows north into the Mediterranean.")));
 *     for (SemanticSearch.Hit hit : search.search("Which way does the Nile flow?", 3)) {
 *         System.out.println(hit.score() + "  " + hit.text());
 *     }
 *     search.save(Path.of("my-index"));
 * }
 * }</pre>
 */
public final class SemanticSearch implements AutoCloseable {

    /**
     * One answer: the document's id, its cosine similarity to the question, its text and other
     * fields, and in a chunked index the window that scored best (null otherwise).
     */
    public record Hit(JsonNode id, float score, String text, ObjectNode fields, IndexStore.Chunk chunk) {
    }

    private final Embedder embedder;
    private final IndexStore store;

    private SemanticSearch(Embedder embedder, IndexStore store) {
        this.embedder = embedder;
        this.store = store;
    }

    /** An empty in-memory index for the embedder's model, documents under the model's document prompt. */
    public static SemanticSearch create(Embedder embedder) throws IOException {
        return create(embedder, Quantization.NONE);
    }

    /** An empty in-memory index, optionally with int8 storage (exact re-scoring of the top candidates). */
    public static SemanticSearch create(Embedder embedder, Quantization quantization) throws IOException {
        return create(embedder, quantization, embedder.prompts().documentPrompt());
    }

    /** An empty in-memory index whose documents are embedded under documentPrompt (named or literal). */
    public static SemanticSearch create(Embedder embedder, Quantization quantization, Prompt documentPrompt)
            throws IOException {
        return new SemanticSearch(embedder, IndexStore.create(spec(embedder, embedder.resolve(documentPrompt)),
                quantization, embedder.computePool()));
    }

    /**
     * An empty in-memory index of an index type: "flat" (exact), or "hnsw" (Lucene's graph, with the
     * jembed-lucene module on the class path) with its settings ({@code m}, {@code ef_construction},
     * {@code quantize}, {@code ef}; missing ones take their defaults). An hnsw graph is built when
     * a segment is saved; documents added since are searched exactly.
     *
     * @throws IllegalArgumentException for a type there is not, or a bad setting
     */
    public static SemanticSearch create(Embedder embedder, String indexType, Map<String, String> parameters,
                                        Prompt documentPrompt) throws IOException {
        return new SemanticSearch(embedder, IndexStore.create(spec(embedder, embedder.resolve(documentPrompt)),
                Quantization.NONE, indexType, parameters, embedder.computePool()));
    }

    /**
     * Opens a saved index directory, refusing it if it was built with another model, dimension,
     * pooling or prompts than the embedder's. New documents take the index's document prompt.
     */
    public static SemanticSearch open(Embedder embedder, Path indexDir) throws IOException {
        return new SemanticSearch(embedder, IndexStore.open(indexDir,
                spec(embedder, embedder.prompts().documentPrompt()), embedder.computePool()));
    }

    /** What an index built with this embedder records: model name and checksum, dimension, pooling, prompts. */
    public static EmbeddingSpec spec(Embedder embedder) throws IOException {
        return spec(embedder, embedder.prompts().documentPrompt());
    }

    private static EmbeddingSpec spec(Embedder embedder, Prompt documentPrompt) throws IOException {
        return EmbeddingSpec.of(embedder.modelName(), embedder.weightsChecksum(), embedder.dimension(),
                embedder.pooling(), embedder.prompts(), documentPrompt);
    }

    /** The prompt documents are embedded with (recorded in the manifest). */
    public Prompt documentPrompt() {
        return store.spec().documentPrompt();
    }

    /** The prompt questions are embedded with unless a search names another. */
    public Prompt queryPrompt() {
        return store.spec().queryPrompt();
    }

    /**
     * Embeds the documents (in batches, under the document prompt) and adds them; returns the new
     * size. Ids are keys: an id already in the index, or given twice, is refused before anything is
     * added ({@link IndexStore.DuplicateIdException}); {@link #upsert} replaces instead.
     */
    public int index(List<Document> corpus) {
        return add(corpus, IndexStore.Duplicates.REFUSE);
    }

    /** Embeds and adds the documents, each replacing the document of the same id if there is one; returns the new size. */
    public int upsert(List<Document> corpus) {
        return add(corpus, IndexStore.Duplicates.REPLACE);
    }

    private int add(List<Document> corpus, IndexStore.Duplicates duplicates) {
        index(corpus, EmbedRequest.of(List.of()), duplicates, null);
        return store.size();
    }

    /**
     * What one {@link #index(List, EmbedRequest, IndexStore.Duplicates, Manifest.Chunking)} call
     * added.
     *
     * @param documents documents added
     * @param rows      vectors added: one per document, or one per window when chunked
     * @param truncated texts (documents, or windows) longer than the max length, cut to it
     */
    public record Indexed(int documents, int rows, int truncated) {
    }

    /**
     * Embeds and adds documents, whole or in windows: the request says how texts past the max
     * length are treated (cut, or refused with {@link io.jembed.core.InputTooLongException}; its
     * prompt is replaced by the index's document prompt), {@code duplicates} what an id already in
     * the index does, and {@code chunking} (null for whole documents) how each document is cut into
     * overlapping windows, stored under its id with their spans. Nothing is added when it throws.
     *
     * @throws IllegalArgumentException if a window would not fit the model ({@link #maxChunkTokens()})
     */
    public Indexed index(List<Document> corpus, EmbedRequest request, IndexStore.Duplicates duplicates,
                         Manifest.Chunking chunking) {
        Objects.requireNonNull(corpus, "corpus");
        Objects.requireNonNull(request, "request");
        List<String> texts = new ArrayList<>(corpus.size());
        if (chunking == null) {
            for (Document document : corpus) {
                texts.add(document.text());
            }
            EmbedResult result = embedder.embed(request.withTexts(texts).prompt(documentPrompt()));
            store.add(corpus, result.vectors(), duplicates);
            return new Indexed(corpus.size(), corpus.size(), result.truncatedCount());
        }
        if (chunking.tokens() > maxChunkTokens()) {
            throw new IllegalArgumentException("chunk tokens: expected at most " + maxChunkTokens() + " (the max "
                    + "length " + embedder.maxLength() + " minus [CLS], [SEP] and the document prompt's tokens), found "
                    + chunking.tokens());
        }
        Chunker chunker = new Chunker(embedder.tokenizer(), chunking);
        int[] rowsPerDocument = new int[corpus.size()];
        List<int[]> spansPerDocument = new ArrayList<>(corpus.size());
        int rows = 0;
        for (int i = 0; i < corpus.size(); i++) {
            int[] spans = chunker.spans(corpus.get(i).text());
            spansPerDocument.add(spans);
            rowsPerDocument[i] = spans.length / 2;
            rows += rowsPerDocument[i];
        }
        int[] spans = new int[2 * rows];
        int row = 0;
        for (int i = 0; i < corpus.size(); i++) {
            String text = corpus.get(i).text();
            int[] windows = spansPerDocument.get(i);
            System.arraycopy(windows, 0, spans, 2 * row, windows.length);
            for (int w = 0; w < windows.length; w += 2, row++) {
                texts.add(text.substring(windows[w], windows[w + 1]));
            }
        }
        EmbedResult result = embedder.embed(request.withTexts(texts).prompt(documentPrompt()));
        store.addChunked(corpus, rowsPerDocument, result.vectors(), spans, chunking, duplicates);
        return new Indexed(corpus.size(), rows, result.truncatedCount());
    }

    /** The most tokens a window may have: the max length less [CLS], [SEP] and the document prompt. */
    public int maxChunkTokens() {
        int promptTokens = documentPrompt().isEmpty() ? 0
                : embedder.tokenizer().encodeWithoutSpecialTokens(documentPrompt().text()).length();
        return embedder.maxLength() - 2 - promptTokens;
    }

    /**
     * Removes the documents with these ids (an integer id 7 is "7"); returns how many were removed.
     * Searches stop returning them at once; {@link #save} makes it durable.
     */
    public int delete(java.util.Collection<String> ids) {
        return store.delete(ids, null);
    }

    /** Rewrites the index directory as one segment without deleted documents (see {@link IndexStore#compact()}). */
    public Manifest compact() throws IOException {
        return store.compact();
    }

    /** The k documents most similar to the question (under the query prompt), best first (fewer if the index is smaller). */
    public List<Hit> search(String question, int k) {
        return search(question, k, queryPrompt());
    }

    /** {@link #search(String, int)} with the question embedded under another prompt. */
    public List<Hit> search(String question, int k, Prompt queryPrompt) {
        checkK(k);
        return hits(store.search(embedder.embed(question, queryPrompt), k));
    }

    /**
     * The k documents most similar to a query vector already embedded (a server embeds its
     * questions in shared batches), best first.
     */
    public List<Hit> search(float[] query, int k) {
        checkK(k);
        return hits(store.search(query, k));
    }

    /**
     * {@link #search(String, int)} keeping to the documents a filter passes, and with an
     * approximate index's effort ({@link IndexStore.SearchOptions}).
     */
    public List<Hit> search(String question, int k, IndexStore.SearchOptions options) {
        checkK(k);
        return hits(store.search(new float[][] {embedder.embed(question, queryPrompt())}, k, options).get(0));
    }

    /** {@link #search(List, int, Prompt)} with a filter and an approximate index's effort. */
    public List<List<Hit>> search(List<String> questions, int k, Prompt queryPrompt, IndexStore.SearchOptions options) {
        checkK(k);
        float[][] queries = embedder.embed(questions, queryPrompt);
        List<List<Hit>> results = new ArrayList<>(questions.size());
        for (List<IndexStore.Match> matches : store.search(queries, k, options)) {
            results.add(hits(matches));
        }
        return results;
    }

    /** {@link #search(float[], int)} with a filter and an approximate index's effort. */
    public List<Hit> search(float[] query, int k, IndexStore.SearchOptions options) {
        checkK(k);
        return hits(store.search(new float[][] {query}, k, options).get(0));
    }

    /** {@link #search(String, int)} for many questions, scanned together. */
    public List<List<Hit>> search(List<String> questions, int k) {
        return search(questions, k, queryPrompt());
    }

    /** {@link #search(List, int)} with the questions embedded under another prompt. */
    public List<List<Hit>> search(List<String> questions, int k, Prompt queryPrompt) {
        return search(questions, k, queryPrompt, IndexStore.SearchOptions.DEFAULT);
    }

    private static int checkK(int k) {
        if (k < 1) {
            throw new IllegalArgumentException("k: expected at least 1, found " + k);
        }
        return k;
    }

    private static List<Hit> hits(List<IndexStore.Match> matches) {
        List<Hit> hits = new ArrayList<>(matches.size());
        for (IndexStore.Match match : matches) {
            Document document = match.document();
            hits.add(new Hit(document.id(), match.score(), document.text(), document.fields(), match.chunk()));
        }
        return hits;
    }

    /** Documents in the index. */
    public int size() {
        return store.size();
    }

    /** Writes the index directory atomically (see {@link IndexStore#save(Path)}). */
    public Manifest save(Path dir) throws IOException {
        return store.save(dir);
    }

    public Embedder embedder() {
        return embedder;
    }

    public IndexStore store() {
        return store;
    }

    /** Closes the index (unmapping its files); the embedder stays open, it belongs to the caller. */
    @Override
    public void close() {
        store.close();
    }
}
