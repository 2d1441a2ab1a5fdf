package io.jembed.core.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

import com.fasterxml.jackson.databind.node.ObjectNode;

import io.jembed.core.Embedder;
import io.jembed.core.index.Document;
import io.jembed.core.index.IndexStore;
import io.jembed.core.index.Manifest;
import io.jembed.core.index.Quantization;
import io.jembed.core.model.ModelCatalog;
import io.jembed.core.model.Prompt;
import io.jembed.core.search.SemanticSearch;

/**
 * {@code jembed index --input corpus.jsonl --output DIR}: embeds a corpus into an index
 * directory (vectors as safetensors, documents as JSONL, a manifest). The directory is written
 * only when every document is in, atomically, so a failed run leaves any old index untouched.
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
        return Set.of("append");
    }

    @Override
    public Set<String> options() {
        return Args.names(Set.of("input", "output", "quantize"), TextInput.Options.names(true), PromptOptions.NAMES,
                ModelOptions.NAMES);
    }

    @Override
    public String usage() {
        return """
                usage: jembed index --input FILE|- --output DIR [options]

                Embeds every {"id": ..., "text": ..., <other fields>} line of the corpus and writes an
                index directory: manifest.json, the vectors (safetensors) and the documents (JSONL,
                other fields kept). Ids are JSON strings or integers (the line number when absent).
                A progress line (docs/s, ETA) goes to stderr on a terminal, and a summary at the end.

                options:
                  --input FILE       the corpus, JSONL; '-' for stdin (required)
                  --format jsonl|txt jsonl (default), or txt: one document per line, id = line number
                  --output DIR       the index directory (required); must not hold an index unless --append
                  --append           add the corpus to the index already in DIR (same model required)
                  --id-field NAME    JSON field holding the id (default id)
                  --text-field NAME  JSON field holding the text (default text)
                  --quantize MODE    none (default) or int8: int8 vectors scanned first, top candidates
                                     re-scored exactly (the float32 vectors are kept for that: the
                                     index grows by a quarter, the scan reads a quarter as much)
                  --on-error MODE    fail (default): stop at a malformed line; skip: report it and go on
                """ + PromptOptions.USAGE + """

                  (default: the model's document prompt, as sentence-transformers' encode_document:
                  e5's "passage: ", none for bge and all-MiniLM-L6-v2; recorded in the manifest, and
                  --append keeps it)
                """ + ModelOptions.USAGE + """

                  (with --append, the default model is the catalogue model the index was built with)""";
    }

    @Override
    public int run(Args args, Cli cli) throws Exception {
        args.noPositionals();
        String input = args.required("input");
        Path output = Path.of(args.required("output"));
        boolean append = args.flag("append");
        TextInput.Options reading = TextInput.Options.read(args, true);
        Quantization quantization = args.choice("quantize", Quantization.class, Quantization.NONE);
        boolean quantizeGiven = args.option("quantize").isPresent();
        if (append && !IndexStore.isIndex(output)) {
            throw new CliException("index: --append needs an existing index in " + output + ", found "
                    + (Files.exists(output) ? "no manifest.json there" : "nothing"));
        }
        if (!append && IndexStore.isIndex(output)) {
            Manifest existing = IndexStore.readManifest(output);
            throw new CliException("index: " + output + " already holds an index of " + existing.count()
                    + " documents; use --append to add to it, or choose another --output");
        }
        if (!append && Files.isRegularFile(output)) {
            throw new CliException("index: --output " + output + " is a file; expected a directory path");
        }
        Path parent = output.toAbsolutePath().getParent();
        if (!append && parent != null && !Files.isDirectory(parent)) {
            // As embed does: a typo in a path should not grow a tree of directories.
            throw new CliException("index: output directory " + parent + " does not exist");
        }
        var promptOption = PromptOptions.read(args);
        String fallbackModel = ModelCatalog.DEFAULT_NAME;
        if (append) {
            fallbackModel = ModelCatalog.find(IndexStore.readManifest(output).spec().model())
                    .map(ModelCatalog.Entry::name).orElse(ModelCatalog.DEFAULT_NAME);
        }
        try (Embedder embedder = ModelOptions.load(args, cli, fallbackModel)) {
            args.finish();
            SemanticSearch search;
            if (append) {
                search = SemanticSearch.open(embedder, output);
                if (quantizeGiven && search.store().quantization() != quantization) {
                    search.close();
                    throw new CliException("index: " + output + " stores " + name(search.store().quantization())
                            + " vectors; --append cannot change that to " + name(quantization));
                }
                if (promptOption.isPresent()) {
                    Prompt given = PromptOptions.resolve(args, embedder.prompts(), promptOption.get());
                    if (!given.text().equals(search.documentPrompt().text())) {
                        search.close();
                        throw new CliException("index: " + output + " holds documents embedded with prompt "
                                + search.documentPrompt().describe() + "; --append cannot add documents under "
                                + given.describe() + " (their vectors would not compare); drop the prompt option, "
                                + "or build a new index");
                    }
                }
            } else {
                Prompt prompt = PromptOptions.resolve(args, embedder.prompts(),
                        promptOption.orElse(embedder.prompts().documentPrompt()));
                search = SemanticSearch.create(embedder, quantization, prompt);
            }
            try (search) {
                int before = search.size();
                long start = System.nanoTime();
                int added = add(search, input, reading, cli);
                if (added == 0) {
                    throw new CliException("index: " + (input.equals("-") ? "stdin" : input)
                            + " holds no documents; nothing written");
                }
                long embedNanos = System.nanoTime() - start;
                Manifest manifest = search.save(output);
                cli.err().println("jembed: indexed " + String.format("%,d", added) + " documents in "
                        + String.format("%.1f", embedNanos / 1e9) + " s (" + Progress.rate(added, embedNanos)
                        + " docs/s); " + output + " now holds " + String.format("%,d", manifest.count())
                        + " documents" + (before > 0 ? " (" + String.format("%,d", before) + " before)" : "")
                        + ", " + manifest.spec().dimension() + "-d " + name(quantization(search)) + " vectors, "
                        + manifest.spec().describeModel() + (search.documentPrompt().isEmpty() ? ""
                        : ", document prompt " + search.documentPrompt().describe()));
            }
        }
        return 0;
    }

    private static Quantization quantization(SemanticSearch search) {
        return search.store().quantization();
    }

    private static String name(Quantization quantization) {
        return quantization == Quantization.NONE ? "float32" : quantization.name().toLowerCase();
    }

    /** Streams the corpus into the index in batches; returns how many documents were added. */
    private static int add(SemanticSearch search, String input, TextInput.Options reading, Cli cli)
            throws Exception {
        int batchSize = ModelOptions.readBatch(search.embedder());
        Progress progress = new Progress(cli, "docs", Progress.countLines(input, cli.progressOnStderr()));
        int[] added = {0};
        try (TextInput in = TextInput.open(input, reading, cli.err())) {
            // The reader parses the next batch while this thread embeds one; the index is not
            // thread-safe for writes, so adding stays on this thread.
            BatchPipeline.run(in, batchSize, batch -> {
                List<Document> documents = new ArrayList<>(batch.size());
                for (TextInput.Record record : batch) {
                    Document document = document(record, reading, in, cli);
                    if (document != null) {
                        documents.add(document);
                    }
                }
                if (!documents.isEmpty()) {
                    search.index(documents);
                    added[0] += documents.size();
                }
                return documents.size();
            }, (batch, count) -> progress.add(count));
            in.requireSomeRead(added[0]);
            progress.finish();
            if (in.skipped() > 0) {
                cli.err().println("jembed: skipped " + in.skipped() + " malformed lines of " + in.source());
            }
        }
        return added[0];
    }

    /** The record as a document (id and text taken out, other fields kept), or null if skipped. */
    private static Document document(TextInput.Record record, TextInput.Options reading, TextInput in, Cli cli) {
        // Plain text (--format txt) has no other fields: the id is the line number.
        ObjectNode fields = record.record() == null ? com.fasterxml.jackson.databind.node.JsonNodeFactory.instance.objectNode()
                : record.record().deepCopy();
        fields.remove(reading.idField());
        fields.remove(reading.textField());
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
