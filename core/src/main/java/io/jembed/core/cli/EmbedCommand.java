package io.jembed.core.cli;

import com.fasterxml.jackson.core.JsonGenerator;

import java.util.List;
import java.util.Set;

import io.jembed.core.EmbedRequest;
import io.jembed.core.EmbedResult;
import io.jembed.core.Embedder;
import io.jembed.core.InputTooLongException;
import io.jembed.core.model.Prompt;
import io.jembed.tokenizer.TruncationDirection;

/**
 * {@code jembed embed --input in.jsonl --output out.jsonl}: one output line
 * {@code {"id": <same>, "embedding": [...]}} per input text, in input order. Streams in batches,
 * so memory stays constant whatever the corpus size.
 */
final class EmbedCommand implements Command {

    @Override
    public String name() {
        return "embed";
    }

    @Override
    public String summary() {
        return "embed texts from JSONL or plain text into JSONL vectors";
    }

    @Override
    public Set<String> options() {
        return Args.names(Set.of("input", "output", "truncate"), TextInput.Options.names(true), PromptOptions.NAMES,
                ModelOptions.NAMES);
    }

    @Override
    public String usage() {
        return """
                usage: jembed embed --input FILE|- --output FILE|- [options]

                Reads {"id": <any JSON value>, "text": "..."} lines (or plain text with --format txt,
                one text per line, id = line number) and writes one line per text, in input order:
                {"id": <same>, "embedding": [...]}. '-' means stdin/stdout. A progress line (texts/s,
                ETA) goes to stderr when it is a terminal. The output file appears only when the run
                succeeds.

                options:
                  --input FILE       input, '-' for stdin (required)
                  --output FILE      output, '-' for stdout (required)
                  --format F         jsonl (default) or txt
                  --id-field NAME    JSON field holding the id (default id)
                  --text-field NAME  JSON field holding the text (default text)
                  --on-error MODE    fail (default): stop at a malformed line; skip: report it and go on
                  --truncate MODE    texts past --max-length: right (default) keeps their start, left
                                     their end, none or error refuses them (exit 1 naming the line);
                                     the count truncated is reported on stderr
                """ + PromptOptions.USAGE + """

                  (default: the model's default prompt, none for the catalogue's models, as
                  sentence-transformers' encode; e5 wants --prompt-name query or document)
                """ + ModelOptions.USAGE;
    }

    @Override
    public int run(Args args, Cli cli) throws Exception {
        args.noPositionals();
        String input = args.required("input");
        String output = args.required("output");
        TextOutput.refuseOverwritingInput("embed", input, output);
        TextInput.Options reading = TextInput.Options.read(args, true);
        var promptOption = PromptOptions.read(args);
        java.util.function.UnaryOperator<EmbedRequest> truncation = truncation(args);
        try (Embedder embedder = ModelOptions.load(args, cli)) {
            args.finish();
            Prompt prompt = PromptOptions.resolve(args, embedder.prompts(),
                    promptOption.orElse(embedder.prompts().defaultPrompt()));
            int batchSize = ModelOptions.readBatch(embedder);
            EmbedRequest request = truncation.apply(EmbedRequest.of(List.of()).prompt(prompt));
            Progress progress = new Progress(cli, "texts", Progress.countLines(input, cli.progressOnStderr()));
            long start = System.nanoTime();
            long[] truncated = {0};
            try (TextInput in = TextInput.open(input, reading, cli.err());
                 TextOutput out = TextOutput.open(output, cli.out());
                 JsonGenerator json = out.jsonLines()) {
                long written = BatchPipeline.run(in, batchSize,
                        batch -> embed(embedder, request.withTexts(TextInput.texts(batch)), batch, in.source()),
                        (batch, result) -> {
                            for (int i = 0; i < result.size(); i++) {
                                write(json, batch.get(i), result.vector(i));
                            }
                            truncated[0] += result.truncatedCount();
                            progress.add(batch.size());
                        });
                in.requireSomeRead(written);
                json.flush();
                out.commit();
                progress.finish();
                long nanos = System.nanoTime() - start;
                cli.err().println(Progress.summary("embedded", written, "texts", nanos, in.skipped(), output));
                if (truncated[0] > 0) {
                    cli.err().println(truncatedNote(truncated[0], written, embedder.maxLength()));
                }
            }
        }
        return 0;
    }

    /** --truncate right|left|none|error: how texts past --max-length are cut, or refused (none = error). */
    static java.util.function.UnaryOperator<EmbedRequest> truncation(Args args) {
        String mode = args.string("truncate", "right");
        return switch (mode) {
            case "right" -> request -> request.truncate(TruncationDirection.RIGHT);
            case "left" -> request -> request.truncate(TruncationDirection.LEFT);
            case "none", "error" -> EmbedRequest::refuseTruncation;
            default -> throw new CliException("--truncate: expected right, left, none or error, found '" + mode + "'",
                    CliException.USAGE);
        };
    }

    /** The request's vectors; a text refused by --truncate none is named by its line. */
    static EmbedResult embed(Embedder embedder, EmbedRequest request, List<TextInput.Record> batch, String source) {
        try {
            return embedder.embed(request);
        } catch (InputTooLongException e) {
            throw new CliException(source + ":" + batch.get(e.index()).line() + ": expected at most " + e.maxLength()
                    + " tokens (--max-length, [CLS] and [SEP] included), found " + e.tokens()
                    + "; --truncate right or left cuts such texts instead", CliException.FAILED);
        }
    }

    /** The stderr line that says how many texts lost tokens, so it never happens silently. */
    static String truncatedNote(long truncated, long of, int maxLength) {
        return String.format("jembed: %,d of %,d texts had more than %d tokens and were truncated"
                + " (--truncate error refuses them; --max-length raises the limit up to the model's)",
                truncated, of, maxLength);
    }

    private static void write(JsonGenerator json, TextInput.Record record, float[] vector) throws java.io.IOException {
        json.writeStartObject();
        json.writeFieldName("id");
        json.writeTree(record.id());
        json.writeFieldName("embedding");
        json.writeStartArray();
        for (float v : vector) {
            json.writeNumber(v);
        }
        json.writeEndArray();
        json.writeEndObject();
        json.writeRaw('\n');
    }
}
