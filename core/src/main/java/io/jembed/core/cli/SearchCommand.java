package io.jembed.core.cli;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.jembed.core.Embedder;
import io.jembed.core.index.IndexStore;
import io.jembed.core.index.Manifest;
import io.jembed.core.model.ModelCatalog;
import io.jembed.core.model.Prompt;
import io.jembed.core.search.SemanticSearch;

/**
 * {@code jembed search --index DIR "question"}: the k most similar documents, as a readable list
 * or JSON; or {@code --queries q.jsonl --output hits.jsonl} for a batch of questions.
 */
final class SearchCommand implements Command {

    static final int TEXT_WIDTH = 100;

    /** Keys of a --json hit that a stored field of the same name may not overwrite. */
    static final Set<String> RESERVED_KEYS = Set.of("id", "score", "text", "fields", "chunk");

    @Override
    public String name() {
        return "search";
    }

    @Override
    public String summary() {
        return "answer questions from an index: top-k documents with scores";
    }

    @Override
    public Set<String> switches() {
        return Set.of("json");
    }

    @Override
    public Set<String> options() {
        return Args.names(Set.of("index", "k", "queries", "output", "filter", "ef"), TextInput.Options.names(false), PromptOptions.NAMES,
                ModelOptions.NAMES);
    }

    @Override
    public String usage() {
        return """
                usage: jembed search --index DIR [-k 3] [--json] [--output FILE] "question"
                       jembed search --index DIR [-k 3] --queries FILE|- --output FILE|-

                One question: prints rank, score (cosine, 4 decimals), id and the text (shortened),
                or with --json one object {"query": ..., "hits": [{"id", "score", "text", ...fields,
                "fields": {every stored field}}]} (a field named id, score, text or fields only
                under "fields"); --output FILE writes either to a file instead of stdout.
                A batch: reads {"id": ..., "text": "question"} lines and writes one line per question,
                in order: {"id": <same>, "hits": [{"id": <doc id>, "score": <float>}, ...]}.

                options:
                  --index DIR        the index directory (required)
                  -k, --k N          how many documents per question (default 3; at most the index size)
                  --json             machine-readable output for a single question (not with --queries)
                  --queries FILE     questions as JSONL ('-' for stdin)
                  --output FILE      where results go ('-' for stdout; default '-')
                  --id-field NAME    JSON field of a question's id (default id)
                  --text-field NAME  JSON field of a question's text (default text)
                  --on-error MODE    fail (default) or skip malformed question lines
                  --filter F=V       only documents whose stored field F has the value V (a string, or a
                                     number's or boolean's JSON text; for an array field, any element);
                                     repeat for more: different fields must all match, values of the
                                     same field are alternatives (--filter lang=en --filter lang=de)
                  --ef N             hnsw indexes: candidates examined per question (default the index's,
                                     100; at least k); more finds more of the exact top k, slower.
                                     Flat indexes are exact and ignore it (with a note)
                """ + PromptOptions.USAGE + """

                  (default: the query prompt of the model the index was built with, as
                  sentence-transformers' encode_query: e5's "query: ", bge's instruction)
                """ + ModelOptions.USAGE + """

                  (default model: the catalogue model the index was built with, else as above)""";
    }

    @Override
    public int run(Args args, Cli cli) throws Exception {
        Path indexDir = Path.of(args.required("index"));
        int k = args.intValue(new String[] {"k"}, 3, 1, Integer.MAX_VALUE);
        boolean json = args.flag("json");
        var queries = args.option("queries");
        String output = args.string("output", "-");
        TextInput.Options reading = TextInput.Options.read(args, false);
        if (queries.isEmpty() && args.positionals().size() != 1) {
            throw CliException.usage("search: expected one question (quote it) or --queries FILE, found "
                    + (args.positionals().isEmpty() ? "neither" : args.positionals().size() + " arguments"));
        }
        if (queries.isPresent() && !args.positionals().isEmpty()) {
            throw CliException.usage("search: give either a question or --queries, not both");
        }
        if (queries.isEmpty() && args.positionals().get(0).isBlank()) {
            throw CliException.usage("search: the question is empty; expected some words to search for");
        }
        if (queries.isPresent() && json) {
            throw CliException.usage("search: --json is for one question; --queries already writes JSON lines");
        }
        IndexStore.SearchOptions options = searchOptions(args);
        var promptOption = PromptOptions.read(args);
        Manifest manifest = IndexStore.readManifest(indexDir);
        if (options.candidates() > 0 && manifest.indexType().equals(io.jembed.core.index.FlatIndex.TYPE)) {
            cli.err().println("jembed: --ef ignored: " + indexDir + " is a flat index, whose search is exact");
        }
        int size = manifest.count();
        if (k > size) {
            throw CliException.usage("search: -k " + k + " asks for more documents than " + indexDir + " holds ("
                    + size + ")");
        }
        String indexModel = ModelCatalog.find(manifest.spec().model()).map(ModelCatalog.Entry::name)
                .orElse(ModelCatalog.DEFAULT_NAME);
        try (Embedder embedder = ModelOptions.load(args, cli, indexModel);
             SemanticSearch search = SemanticSearch.open(embedder, indexDir)) {
            args.finish();
            Prompt prompt = PromptOptions.resolve(args, embedder.prompts(), promptOption.orElse(search.queryPrompt()));
            if (queries.isPresent()) {
                batch(search, queries.get(), output, reading, k, prompt, options, cli);
            } else {
                // One question: to stdout, or to --output FILE (written whole, then renamed into place).
                String question = args.positionals().get(0);
                List<SemanticSearch.Hit> hits = search.search(List.of(question), k, prompt, options).get(0);
                if (hits.isEmpty() && options.filter() != null) {
                    cli.err().println("jembed: no document of " + indexDir + " passes --filter " + options.filter());
                }
                try (TextOutput out = TextOutput.open(output, cli.out());
                     PrintStream print = new PrintStream(out.stream(), false, java.nio.charset.StandardCharsets.UTF_8)) {
                    if (json) {
                        printJson(print, question, hits);
                    } else {
                        print(print, hits);
                    }
                    print.flush();
                    out.commit();
                }
            }
        }
        return 0;
    }

    /** --filter and --ef. */
    static IndexStore.SearchOptions searchOptions(Args args) {
        List<String> filters = args.all("filter");
        io.jembed.core.index.DocumentFilter filter = null;
        if (!filters.isEmpty()) {
            try {
                filter = io.jembed.core.index.DocumentFilter.parse(filters);
            } catch (IllegalArgumentException e) {
                throw CliException.usage("search: --" + e.getMessage());
            }
        }
        return new IndexStore.SearchOptions(filter, args.intValue("ef", 0, 1, 100_000));
    }

    /** rank, score, id, shortened text: one line per hit. */
    static void print(PrintStream out, List<SemanticSearch.Hit> hits) {
        int idWidth = 2;
        for (SemanticSearch.Hit hit : hits) {
            idWidth = Math.max(idWidth, idText(hit).length());
        }
        for (int i = 0; i < hits.size(); i++) {
            SemanticSearch.Hit hit = hits.get(i);
            // A chunked index is ranked by windows: show the window that matched, not the document's start.
            String text = hit.chunk() == null ? hit.text()
                    : (hit.chunk().start() > 0 ? "…" : "") + hit.chunk().text();
            out.printf("%3d  %.4f  %-" + idWidth + "s  %s%n", i + 1, hit.score(), idText(hit), shorten(text, TEXT_WIDTH));
        }
    }

    static String idText(SemanticSearch.Hit hit) {
        return hit.id().isTextual() ? hit.id().textValue() : hit.id().toString();
    }

    /** The text on one line, cut at a word boundary near width characters. */
    static String shorten(String text, int width) {
        String flat = text.replaceAll("\\s+", " ").strip();
        if (flat.codePointCount(0, flat.length()) <= width) {
            return flat;
        }
        int end = flat.offsetByCodePoints(0, width - 1);
        int space = flat.lastIndexOf(' ', end);
        if (space > width / 2) {
            end = space;
        }
        return flat.substring(0, end) + "…";
    }

    private static void printJson(PrintStream out, String question, List<SemanticSearch.Hit> hits) throws Exception {
        ObjectMapper mapper = new ObjectMapper();
        var root = mapper.createObjectNode();
        root.put("query", question);
        var array = root.putArray("hits");
        for (SemanticSearch.Hit hit : hits) {
            var node = array.addObject();
            node.set("id", hit.id());
            node.put("score", hit.score());
            node.put("text", hit.text());
            // Stored fields sit beside id/score/text as before, except those names (a document's own
            // "score" must not hide the similarity); all of them are also under "fields".
            hit.fields().properties().forEach(e -> {
                if (!RESERVED_KEYS.contains(e.getKey())) {
                    node.set(e.getKey(), e.getValue());
                }
            });
            node.set("fields", hit.fields());
            if (hit.chunk() != null) {
                var chunk = node.putObject("chunk");
                chunk.put("start", hit.chunk().start());
                chunk.put("end", hit.chunk().end());
                chunk.put("text", hit.chunk().text());
            }
        }
        out.println(mapper.writeValueAsString(root));
    }

    private static void batch(SemanticSearch search, String queries, String output, TextInput.Options reading, int k,
                              Prompt prompt, IndexStore.SearchOptions options, Cli cli) throws Exception {
        int batchSize = ModelOptions.readBatch(search.embedder());
        long start = System.nanoTime();
        Progress progress = new Progress(cli, "queries", Progress.countLines(queries, cli.progressOnStderr()));
        try (TextInput in = TextInput.open(queries, reading, cli.err());
             TextOutput out = TextOutput.open(output, cli.out());
             JsonGenerator json = out.jsonLines()) {
            long answered = in.forEachBatch(batchSize, batch -> {
                List<List<SemanticSearch.Hit>> results = search.search(TextInput.texts(batch), k, prompt, options);
                for (int i = 0; i < batch.size(); i++) {
                    json.writeStartObject();
                    json.writeFieldName("id");
                    json.writeTree(batch.get(i).id());
                    json.writeArrayFieldStart("hits");
                    for (SemanticSearch.Hit hit : results.get(i)) {
                        json.writeStartObject();
                        json.writeFieldName("id");
                        json.writeTree(hit.id());
                        json.writeNumberField("score", hit.score());
                        if (hit.chunk() != null) {
                            // The window's span only: its text is the document's substring, and batch
                            // outputs are kept small.
                            json.writeObjectFieldStart("chunk");
                            json.writeNumberField("start", hit.chunk().start());
                            json.writeNumberField("end", hit.chunk().end());
                            json.writeEndObject();
                        }
                        json.writeEndObject();
                    }
                    json.writeEndArray();
                    json.writeEndObject();
                    json.writeRaw('\n');
                }
                progress.add(batch.size());
            });
            json.flush();
            out.commit();
            progress.finish();
            long nanos = System.nanoTime() - start;
            cli.err().println(Progress.summary("answered", answered, "queries", nanos, in.skipped(), output));
        }
    }
}
