package io.jembed.core.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.UnaryOperator;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

import io.jembed.core.EmbedRequest;
import io.jembed.core.Embedder;
import io.jembed.core.InputTooLongException;
import io.jembed.core.index.Document;
import io.jembed.core.index.Embeddings;
import io.jembed.core.index.IndexStore;
import io.jembed.core.index.Manifest;
import io.jembed.core.index.Quantization;
import io.jembed.core.model.ModelCatalog;
import io.jembed.core.model.Prompt;
import io.jembed.core.search.SemanticSearch;

/**
 * {@code jembed index --input corpus.jsonl --output DIR}: embeds a corpus into an index
 * directory (a manifest listing segments of vectors and documents). A new index, or the new
 * segment of --append/--upsert, is committed only when every document is in, by the manifest's
 * atomic rename, so a failed run leaves the previous index as it was.
 */
final class IndexCommand implements Command {

    @Override
    public String name() {
        return "index";
    }

    @Override
    public String summary() {
        return "build (or --append to) a search index from a JSONL corpus";
    }

    @Override
    public Set<String> switches() {
        return Set.of("append", "upsert", "json");
    }

    @Override
    public Set<String> options() {
        return Args.names(Set.of("input", "from-embeddings", "output", "quantize", "truncate", "chunk-tokens", "chunk-overlap", "type",
                "hnsw-m", "hnsw-ef-construction"), TextInput.Options.names(true), PromptOptions.NAMES,
                ModelOptions.NAMES);
    }

    @Override
    public String usage() {
        return """
                usage: jembed index --input FILE|- --output DIR [options]
                       jembed index --from-embeddings PATH --output DIR [options]
                       jembed index info DIR [--json]

                Embeds every {"id": ..., "text": ..., <other fields>} line of the corpus and writes an
                index directory: manifest.json and segments of vectors (safetensors) and documents
                (JSONL, the other fields kept under "fields"). Ids are JSON strings or integers (the
                line number when absent) and are keys: an id already in the index, or given twice, is
                refused unless --upsert. A progress line (docs/s, ETA) goes to stderr on a terminal,
                and a summary at the end (with how many texts were truncated, if any).

                options:
                  --input FILE       the corpus, JSONL; '-' for stdin (this or --from-embeddings)
                  --from-embeddings PATH
                                     take documents and their vectors from an embeddings directory
                                     (io.jembed.spark.EmbedJob's output: Parquet or JSON Lines rows of
                                     id, text, embedding and other fields, described by _jembed.json);
                                     nothing is embedded again. Refused unless _jembed.json names the
                                     index's model (--model; default: the model it names), pooling and
                                     document prompt
                  --format jsonl|txt jsonl (default), or txt: one document per line, id = line number
                  --output DIR       the index directory (required); must not hold an index unless
                                     --append or --upsert
                  --append           add the corpus to the index already in DIR as a new segment (same
                                     model required); ids already there are refused
                  --upsert           as --append, but a document whose id is already there replaces it
                                     (and within the corpus the last line of an id wins); creates the
                                     index if DIR holds none
                  --id-field NAME    JSON field holding the id (default id; named explicitly, a line
                                     without it is an error)
                  --text-field NAMES JSON field holding the text (default text), or several separated by
                                     commas, joined with a space (--text-field title,text, as BEIR/MTEB)
                  --truncate MODE    right (default) or left: cut texts past the max length from that
                                     side and report how many; error (or none): refuse them
                  --chunk-tokens N   cut each document into overlapping windows of at most N tokens (N at
                                     most the max length minus [CLS], [SEP] and the prompt's tokens),
                                     each embedded and stored under the document's id with its span;
                                     search ranks documents by their best window. A document of at most
                                     N tokens is one window. --append keeps the index's windows
                  --chunk-overlap M  tokens shared by consecutive windows (default N/2; less than N)
                  --type TYPE        flat (default): exact, every question scans every vector; hnsw:
                                     approximate, Lucene's HNSW graph, for millions of passages (a
                                     question reads a few thousand vectors; see the ef option of search)
                  --hnsw-m N         hnsw: graph neighbours per vector (default 16)
                  --hnsw-ef-construction N
                                     hnsw: candidates kept while building the graph (default 100)
                  --quantize MODE    none (default) or int8: int8 vectors scanned first, top candidates
                                     re-scored exactly (the float32 vectors are kept for that: the
                                     index grows by a quarter, the scan reads a quarter as much).
                                     With --type hnsw: none, int8 or int4, the vectors the graph walks
                                     (Lucene's scalar-quantised format), candidates re-scored exactly
                  --on-error MODE    fail (default): stop at a malformed line; skip: report it and go on

                index info DIR prints the index's type and settings, model, documents, segments and
                sizes on disk (--json: the same as one JSON object).
                """ + PromptOptions.USAGE + """

                  (default: the model's document prompt, as sentence-transformers' encode_document:
                  e5's "passage: ", none for bge and all-MiniLM-L6-v2; recorded in the manifest, and
                  --append keeps it)
                """ + ModelOptions.USAGE + """

                  (with --append, the default model is the catalogue model the index was built with)""";
    }

    @Override
    public int run(Args args, Cli cli) throws Exception {
        if (!args.positionals().isEmpty() && args.positionals().get(0).equals("info")) {
            return IndexInfo.run(args, cli);
        }
        if (args.flag("json")) {
            throw CliException.usage("index: --json is for 'jembed index info DIR'");
        }
        args.noPositionals();
        Optional<String> fromEmbeddings = args.option("from-embeddings");
        if (fromEmbeddings.isPresent()) {
            return fromEmbeddings(args, cli, Path.of(fromEmbeddings.get()));
        }
        String input = args.required("input");
        Path output = Path.of(args.required("output"));
        boolean upsert = args.flag("upsert");
        boolean append = args.flag("append");
        if (append && upsert) {
            throw CliException.usage("index: --append and --upsert exclude each other (--upsert adds too, "
                    + "replacing documents whose id is already there)");
        }
        boolean exists = IndexStore.isIndex(output);
        // --upsert into a directory without an index creates it, so one command keeps a corpus current.
        boolean extend = append || (upsert && exists);
        IndexStore.Duplicates duplicates = upsert ? IndexStore.Duplicates.REPLACE : IndexStore.Duplicates.REFUSE;
        TextInput.Options reading = TextInput.Options.read(args, true);
        // --append and --upsert keep the index's type: its settings may be given without --type.
        String type = args.option("type").orElseGet(() -> extend ? readType(output) : io.jembed.core.index.FlatIndex.TYPE);
        Map<String, String> typeSettings = typeSettings(args, type);
        boolean hnsw = !type.equals(io.jembed.core.index.FlatIndex.TYPE);
        // hnsw's quantisation is the graph's (a setting of its own); the rows stay float32.
        Quantization quantization = hnsw ? Quantization.NONE
                : args.choice("quantize", Quantization.class, Quantization.NONE);
        boolean quantizeGiven = !hnsw && args.option("quantize").isPresent();
        UnaryOperator<EmbedRequest> truncation = EmbedCommand.truncation(args);
        int chunkTokens = args.intValue("chunk-tokens", 0, 1, Integer.MAX_VALUE);
        Optional<String> overlapGiven = args.option("chunk-overlap");
        if (overlapGiven.isPresent() && chunkTokens == 0) {
            throw CliException.usage("index: --chunk-overlap needs --chunk-tokens");
        }
        int chunkOverlap = args.intValue("chunk-overlap", chunkTokens / 2, 0, Integer.MAX_VALUE);
        if (chunkTokens > 0 && chunkOverlap >= chunkTokens) {
            throw CliException.usage("index: --chunk-overlap: expected less than --chunk-tokens " + chunkTokens
                    + ", found " + chunkOverlap);
        }
        checkOutput(output, append, extend, exists);
        var promptOption = PromptOptions.read(args);
        String fallbackModel = extend ? catalogueNameOrDefault(IndexStore.readManifest(output).spec().model())
                : ModelCatalog.DEFAULT_NAME;
        try (Embedder embedder = ModelOptions.load(args, cli, fallbackModel)) {
            args.finish();
            SemanticSearch search;
            if (extend) {
                search = SemanticSearch.open(embedder, output);
                String refusal = refuseTypeChange(search.store(), output, type, typeSettings);
                refusal = refusal != null ? refusal : refuseChange(search, output, quantizeGiven ? quantization : null,
                        promptOption.map(p -> PromptOptions.resolve(args, embedder.prompts(), p)).orElse(null),
                        chunkTokens == 0 ? null : new Manifest.Chunking(chunkTokens, chunkOverlap));
                if (refusal != null) {
                    search.close();
                    throw new CliException(refusal);
                }
            } else {
                Prompt prompt = PromptOptions.resolve(args, embedder.prompts(),
                        promptOption.orElse(embedder.prompts().documentPrompt()));
                search = hnsw ? SemanticSearch.create(embedder, type, typeSettings, prompt)
                        : SemanticSearch.create(embedder, quantization, prompt);
            }
            try (search) {
                Manifest.Chunking chunking = chunkTokens > 0 ? new Manifest.Chunking(chunkTokens, chunkOverlap)
                        : search.store().size() > 0 ? search.store().chunking() : null;
                if (chunking != null && chunking.tokens() > search.maxChunkTokens()) {
                    throw CliException.usage("index: --chunk-tokens: expected at most " + search.maxChunkTokens()
                            + " (the max length " + embedder.maxLength() + " less [CLS], [SEP] and the document "
                            + "prompt's tokens), found " + chunking.tokens());
                }
                int before = search.size();
                long start = System.nanoTime();
                Added added = add(search, input, reading, truncation.apply(EmbedRequest.of(List.of())),
                        duplicates, chunking, output, cli);
                if (added.documents == 0) {
                    throw new CliException("index: " + (input.equals("-") ? "stdin" : input)
                            + " holds no documents; nothing written");
                }
                long embedNanos = System.nanoTime() - start;
                Manifest manifest = search.save(output);
                cli.err().println("jembed: indexed " + String.format("%,d", added.documents) + " documents"
                        + (chunking == null ? "" : String.format(" (%,d windows of at most %d tokens, overlap %d)",
                        added.rows, chunking.tokens(), chunking.overlap()))
                        + " in " + String.format("%.1f", embedNanos / 1e9) + " s ("
                        + Progress.rate(added.documents, embedNanos) + " docs/s); "
                        + holds(output, manifest, before, added.replaced, search) + ", "
                        + manifest.spec().describeModel() + (search.documentPrompt().isEmpty() ? ""
                        : ", document prompt " + search.documentPrompt().describe()));
                if (added.truncated > 0) {
                    cli.err().println(EmbedCommand.truncatedNote(added.truncated, added.documents, embedder.maxLength())
                            .replace("--max-length raises", "--chunk-tokens indexes all of them; --max-length raises"));
                }
            }
        }
        return 0;
    }

    /**
     * {@code index --from-embeddings PATH}: the documents and vectors of an embeddings directory into a
     * new index or (--append/--upsert) a new segment, after checking that its description names the
     * index's model, pooling and document prompt. No text is tokenized or embedded.
     */
    private static int fromEmbeddings(Args args, Cli cli, Path source) throws Exception {
        if (args.option("input").isPresent()) {
            throw CliException.usage("index: --input and --from-embeddings exclude each other (the embeddings hold "
                    + "the documents)");
        }
        for (String option : List.of("format", "id-field", "text-field", "on-error", "truncate", "chunk-tokens",
                "chunk-overlap", "prompt-name", "prompt")) {
            if (args.option(option).isPresent()) {
                throw CliException.usage("index: --" + option + " does not apply to --from-embeddings (its documents are "
                        + "embedded already, as " + Embeddings.DESCRIPTION_FILE + " describes)");
            }
        }
        Path output = Path.of(args.required("output"));
        boolean upsert = args.flag("upsert");
        boolean append = args.flag("append");
        if (append && upsert) {
            throw CliException.usage("index: --append and --upsert exclude each other");
        }
        boolean exists = IndexStore.isIndex(output);
        boolean extend = append || (upsert && exists);
        String type = args.option("type").orElseGet(() -> extend ? readType(output) : io.jembed.core.index.FlatIndex.TYPE);
        Map<String, String> typeSettings = typeSettings(args, type);
        boolean hnsw = !type.equals(io.jembed.core.index.FlatIndex.TYPE);
        Quantization quantization = hnsw ? Quantization.NONE
                : args.choice("quantize", Quantization.class, Quantization.NONE);
        checkOutput(output, append, extend, exists);
        Embeddings.Description description;
        try {
            description = Embeddings.readDescription(source);
        } catch (Embeddings.FormatException e) {
            throw new CliException("index: --from-embeddings " + e.getMessage());
        }
        // The index's model: the manifest's when extending, else the one the vectors name if the catalogue has it.
        String fallbackModel = catalogueNameOrDefault(extend ? IndexStore.readManifest(output).spec().model()
                : description.model());
        IndexStore.Duplicates duplicates = upsert ? IndexStore.Duplicates.REPLACE : IndexStore.Duplicates.REFUSE;
        try (Embedder embedder = ModelOptions.load(args, cli, fallbackModel)) {
            args.finish();
            SemanticSearch search;
            if (extend) {
                search = SemanticSearch.open(embedder, output);
                String refusal = refuseTypeChange(search.store(), output, type, typeSettings);
                if (refusal == null && search.store().size() > 0 && search.store().chunking() != null) {
                    refusal = "index: " + output + " holds documents in windows (--chunk-tokens); embeddings of whole "
                            + "documents cannot join it";
                }
                if (refusal != null) {
                    search.close();
                    throw new CliException(refusal);
                }
            } else {
                Prompt prompt = description.prompt();
                search = hnsw ? SemanticSearch.create(embedder, type, typeSettings, prompt)
                        : SemanticSearch.create(embedder, quantization, prompt);
            }
            try (search) {
                String mismatch = description.mismatch(search.store().spec());
                if (mismatch != null) {
                    throw new CliException("index: --from-embeddings " + source + ": " + mismatch + "; expected vectors "
                            + "the index can compare (embed them with the index's model and prompt, or give --model "
                            + "the model that made them)");
                }
                int before = search.size();
                long start = System.nanoTime();
                Progress progress = new Progress(cli, "docs", description.rows());
                long[] counts = addEmbeddings(search, source, description, duplicates, output, progress);
                progress.finish();
                if (counts[0] == 0) {
                    throw new CliException("index: --from-embeddings " + source + " holds no rows; nothing written");
                }
                long nanos = System.nanoTime() - start;
                Manifest manifest = search.save(output);
                cli.err().println("jembed: indexed " + String.format("%,d", counts[0]) + " documents from "
                        + source + " (embedded by " + description.model() + ", nothing embedded again) in "
                        + String.format("%.1f", nanos / 1e9) + " s; " + holds(output, manifest, before, counts[1], search));
                if (description.truncated() > 0) {
                    cli.err().println(String.format("jembed: %,d of %,d texts were truncated at %d tokens when they were "
                            + "embedded (as %s records)", description.truncated(), description.rows(),
                            description.maxLength(), Embeddings.DESCRIPTION_FILE));
                }
            }
        }
        return 0;
    }

    /** Rows added and documents replaced, in batches; ids are keys as for --input. */
    private static long[] addEmbeddings(SemanticSearch search, Path source, Embeddings.Description description,
                                        IndexStore.Duplicates duplicates, Path output, Progress progress)
            throws java.io.IOException {
        final int batch = 1024;
        long added = 0;
        long replaced = 0;
        Map<String, String> seen = duplicates == IndexStore.Duplicates.REFUSE ? new HashMap<>() : null;
        try (Embeddings.CloseableIterator<Embeddings.Row> rows = Embeddings.open(source, description)) {
            List<Document> documents = new ArrayList<>(batch);
            List<float[]> vectors = new ArrayList<>(batch);
            while (rows.hasNext()) {
                Embeddings.Row row = rows.next();
                String id = row.document().idText();
                if (seen != null) {
                    String earlier = seen.putIfAbsent(id, row.where());
                    if (earlier != null) {
                        throw new CliException("index: " + row.where() + ": document id " + quoted(id)
                                + " appears earlier in the embeddings (" + earlier + "); ids are keys: use --upsert "
                                + "(the last row of an id wins); nothing written");
                    }
                    if (search.store().contains(id)) {
                        throw new CliException("index: " + row.where() + ": document id " + quoted(id)
                                + " is already in the index " + output + "; use --upsert to replace it, or delete it "
                                + "first (jembed delete --index " + output + " ID); nothing written");
                    }
                } else if (search.store().contains(id)) {
                    replaced++;
                }
                documents.add(row.document());
                vectors.add(row.embedding());
                if (documents.size() == batch) {
                    added += addBatch(search, documents, vectors, duplicates, progress);
                }
            }
            added += addBatch(search, documents, vectors, duplicates, progress);
        } catch (Embeddings.FormatException e) {
            throw new CliException("index: --from-embeddings " + e.getMessage() + "; nothing written");
        } catch (java.io.UncheckedIOException e) {
            throw new CliException("index: --from-embeddings " + e.getMessage() + "; nothing written");
        }
        return new long[] {added, replaced};
    }

    /** Adds the batch (if any) and empties it; returns its size. */
    private static int addBatch(SemanticSearch search, List<Document> documents, List<float[]> vectors,
                                IndexStore.Duplicates duplicates, Progress progress) {
        int n = documents.size();
        if (n > 0) {
            search.store().add(documents, vectors.toArray(new float[0][]), duplicates);
            progress.add(n);
            documents.clear();
            vectors.clear();
        }
        return n;
    }

    /** The model a name of the manifest or of an embeddings description defaults to: its catalogue entry, else the default. */
    private static String catalogueNameOrDefault(String model) {
        return ModelCatalog.find(model).map(ModelCatalog.Entry::name).orElse(ModelCatalog.DEFAULT_NAME);
    }

    /** The summary's "DIR now holds N documents (B before, R replaced) in S segments, D-d X vectors[ in an T index P]". */
    private static String holds(Path output, Manifest manifest, int before, long replaced, SemanticSearch search) {
        return output + " now holds " + String.format("%,d", manifest.count()) + " documents"
                + (before > 0 ? " (" + String.format("%,d", before) + " before"
                + (replaced > 0 ? String.format(", %,d replaced", replaced) : "") + ")" : "")
                + " in " + manifest.segments().size() + (manifest.segments().size() == 1 ? " segment" : " segments")
                + ", " + manifest.spec().dimension() + "-d " + name(quantization(search)) + " vectors"
                + (manifest.indexType().equals(io.jembed.core.index.FlatIndex.TYPE) ? ""
                : " in an " + manifest.indexType() + " index " + manifest.indexParameters());
    }

    /** The --output checks both ways of indexing share. */
    private static void checkOutput(Path output, boolean append, boolean extend, boolean exists) throws java.io.IOException {
        if (append && !exists) {
            throw new CliException("index: --append needs an existing index in " + output + ", found "
                    + (Files.exists(output) ? "no manifest.json there" : "nothing")
                    + " (--upsert creates one when there is none)");
        }
        if (!extend && exists) {
            Manifest existing = IndexStore.readManifest(output);
            throw new CliException("index: " + output + " already holds an index of " + existing.count()
                    + " documents; use --append or --upsert to add to it, or choose another --output");
        }
        if (!extend && Files.isRegularFile(output)) {
            throw new CliException("index: --output " + output + " is a file; expected a directory path");
        }
        Path parent = output.toAbsolutePath().getParent();
        if (!extend && parent != null && !Files.isDirectory(parent)) {
            // As embed does: a typo in a path should not grow a tree of directories.
            throw new CliException("index: output directory " + parent + " does not exist");
        }
    }

    /**
     * The index type's settings from --hnsw-m, --hnsw-ef-construction and --quantize, checked by the
     * type itself; only those given (the type fills in the rest when it creates an index).
     */
    private static Map<String, String> typeSettings(Args args, String type) {
        Map<String, String> given = new java.util.LinkedHashMap<>();
        boolean hnsw = !type.equals(io.jembed.core.index.FlatIndex.TYPE);
        args.option("hnsw-m").ifPresent(v -> given.put("m", v));
        args.option("hnsw-ef-construction").ifPresent(v -> given.put("ef_construction", v));
        if (!hnsw && !given.isEmpty()) {
            throw CliException.usage("index: --hnsw-m and --hnsw-ef-construction need --type hnsw");
        }
        if (hnsw) {
            args.option("quantize").ifPresent(v -> given.put("quantize", v));
        } else if (args.option("quantize").map("int4"::equalsIgnoreCase).orElse(false)) {
            throw CliException.usage("index: --quantize int4 needs --type hnsw (flat stores none or int8)");
        }
        io.jembed.core.index.IndexType found;
        try {
            found = io.jembed.core.index.IndexTypes.get(type);
        } catch (IllegalArgumentException e) {
            throw CliException.usage("index: --type: " + e.getMessage());
        }
        try {
            // Checked now, before a model loads; returned as given, since --append compares only those.
            found.parameters(given);
        } catch (IllegalArgumentException e) {
            throw CliException.usage("index: " + e.getMessage().replace("hnsw m:", "--hnsw-m:")
                    .replace("hnsw ef_construction:", "--hnsw-ef-construction:").replace("hnsw quantize:", "--quantize:"));
        }
        return given;
    }

    private static String readType(Path output) {
        try {
            return IndexStore.readManifest(output).indexType();
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** Why an index cannot take documents under another type or other type settings (null if it can). */
    private static String refuseTypeChange(IndexStore store, Path output, String type, Map<String, String> settings) {
        if (!type.equals(store.indexType())) {
            return "index: " + output + " is a " + store.indexType() + " index; --append and --upsert keep its type "
                    + "(found --type " + type + "; build a new index to change it)";
        }
        if (!store.indexType().equals(io.jembed.core.index.FlatIndex.TYPE)) {
            for (Map.Entry<String, String> setting : settings.entrySet()) {
                String held = store.indexParameters().get(setting.getKey());
                if (!setting.getValue().equalsIgnoreCase(held == null ? "" : held)) {
                    return "index: " + output + " has " + store.indexType() + " " + setting.getKey() + " " + held
                            + "; --append and --upsert keep its settings (found " + setting.getValue() + ")";
                }
            }
        }
        return null;
    }

    /** Why an existing index cannot take documents under these settings (null if it can). */
    private static String refuseChange(SemanticSearch search, Path output, Quantization quantization, Prompt prompt,
                                       Manifest.Chunking chunking) {
        if (quantization != null && search.store().quantization() != quantization) {
            return "index: " + output + " stores " + name(search.store().quantization())
                    + " vectors; --append cannot change that to " + name(quantization);
        }
        if (prompt != null && !prompt.text().equals(search.documentPrompt().text())) {
            return "index: " + output + " holds documents embedded with prompt "
                    + search.documentPrompt().describe() + "; --append cannot add documents under "
                    + prompt.describe() + " (their vectors would not compare); drop the prompt option, "
                    + "or build a new index";
        }
        Manifest.Chunking held = search.store().chunking();
        if (chunking != null && search.store().size() > 0 && !chunking.equals(held)) {
            return "index: " + output + " holds " + (held == null ? "whole documents (built without --chunk-tokens)"
                    : "documents in windows of " + held.tokens() + " tokens overlapping by " + held.overlap())
                    + "; expected the same for the new ones, found --chunk-tokens " + chunking.tokens()
                    + " --chunk-overlap " + chunking.overlap() + " (drop them to keep the index's)";
        }
        return null;
    }

    private static Quantization quantization(SemanticSearch search) {
        return search.store().quantization();
    }

    private static String name(Quantization quantization) {
        return quantization == Quantization.NONE ? "float32" : quantization.name().toLowerCase();
    }

    /** What a run added: documents, vectors (windows), texts cut at the max length, documents replaced. */
    private static final class Added {
        int documents;
        int rows;
        long truncated;
        int replaced;
    }

    /** Streams the corpus into the index in batches. */
    private static Added add(SemanticSearch search, String input, TextInput.Options reading, EmbedRequest request,
                             IndexStore.Duplicates duplicates, Manifest.Chunking chunking, Path output, Cli cli)
            throws Exception {
        int batchSize = ModelOptions.readBatch(search.embedder());
        Progress progress = new Progress(cli, "docs", Progress.countLines(input, cli.progressOnStderr()));
        Added added = new Added();
        // Line of each id read so far, so a repeated id names both lines (only when duplicates are refused).
        Map<String, Long> lines = duplicates == IndexStore.Duplicates.REFUSE ? new HashMap<>() : null;
        try (TextInput in = TextInput.open(input, reading, cli.err())) {
            // The reader parses the next batch while this thread embeds one; the index is not
            // thread-safe for writes, so adding stays on this thread.
            BatchPipeline.run(in, batchSize, batch -> {
                List<Document> documents = new ArrayList<>(batch.size());
                List<TextInput.Record> kept = new ArrayList<>(batch.size());
                for (TextInput.Record record : batch) {
                    Document document = document(record, reading, in, cli);
                    if (document != null) {
                        documents.add(document);
                        kept.add(record);
                    }
                }
                if (lines != null) {
                    refuseDuplicates(search, documents, kept, lines, in.source(), output);
                } else {
                    for (Document document : documents) {
                        if (search.store().contains(document.idText())) {
                            added.replaced++;
                        }
                    }
                }
                if (!documents.isEmpty()) {
                    SemanticSearch.Indexed indexed;
                    try {
                        indexed = search.index(documents, request, duplicates, chunking);
                    } catch (InputTooLongException e) {
                        throw new CliException(in.source() + ":" + kept.get(e.index()).line() + ": expected at most "
                                + e.maxLength() + " tokens (--max-length, [CLS] and [SEP] included), found " + e.tokens()
                                + "; --truncate right or left cuts such texts, --chunk-tokens indexes them in windows",
                                CliException.FAILED);
                    }
                    added.documents += indexed.documents();
                    added.rows += indexed.rows();
                    added.truncated += indexed.truncated();
                }
                return documents.size();
            }, (batch, count) -> progress.add(count));
            in.requireSomeRead(added.documents);
            progress.finish();
            if (in.skipped() > 0) {
                cli.err().println("jembed: skipped " + in.skipped() + " malformed lines of " + in.source());
            }
        }
        return added;
    }

    /** Ids are keys: refuses an id met before in this input or already in the index, naming its line. */
    private static void refuseDuplicates(SemanticSearch search, List<Document> documents, List<TextInput.Record> records,
                                         Map<String, Long> lines, String source, Path output) {
        for (int i = 0; i < documents.size(); i++) {
            String id = documents.get(i).idText();
            long line = records.get(i).line();
            Long earlier = lines.putIfAbsent(id, line);
            if (earlier != null) {
                throw new CliException("index: " + source + " line " + line + ": document id " + quoted(id)
                        + " appears earlier in the input (line " + earlier + "); ids are keys: give each document "
                        + "once, or use --upsert (the last line of an id wins); nothing written");
            }
            if (search.store().contains(id)) {
                throw new CliException("index: " + source + " line " + line + ": document id " + quoted(id)
                        + " is already in the index " + output + "; use --upsert to replace it, or delete it first "
                        + "(jembed delete --index " + output + " ID); nothing written");
            }
        }
    }

    private static String quoted(String id) {
        return "\"" + id + "\"";
    }

    /** The record as a document (id and text fields taken out, other fields kept), or null if skipped. */
    private static Document document(TextInput.Record record, TextInput.Options reading, TextInput in, Cli cli) {
        // Plain text (--format txt) has no other fields: the id is the line number.
        ObjectNode fields = record.record() == null ? JsonNodeFactory.instance.objectNode() : record.record().deepCopy();
        fields.remove(reading.idField());
        fields.remove(reading.textFields());
        try {
            return new Document(record.id(), record.text(), fields);
        } catch (IllegalArgumentException e) {
            String message = in.source() + " line " + record.line() + ": " + e.getMessage();
            if (reading.onError() == TextInput.OnError.FAIL) {
                throw new CliException("index: " + message + " (use --on-error skip to report and skip such lines)");
            }
            cli.err().println("jembed: skipped " + message);
            return null;
        }
    }
}
