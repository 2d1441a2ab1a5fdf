package io.jembed.core.cli;

import com.fasterxml.jackson.core.JsonGenerator;

import io.jembed.core.Embedder;
import io.jembed.core.model.Prompt;

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
        TextInput.Options reading = TextInput.Options.read(args, true);
        var promptOption = PromptOptions.read(args);
        try (Embedder embedder = ModelOptions.load(args, cli)) {
            args.finish();
            Prompt prompt = PromptOptions.resolve(args, embedder.prompts(),
                    promptOption.orElse(embedder.prompts().defaultPrompt()));
            int batchSize = ModelOptions.readBatch(embedder);
            Progress progress = new Progress(cli, "texts", Progress.countLines(input, cli.progressOnStderr()));
            long start = System.nanoTime();
            try (TextInput in = TextInput.open(input, reading, cli.err());
                 TextOutput out = TextOutput.open(output, cli.out());
                 JsonGenerator json = out.jsonLines()) {
                long written = in.forEachBatch(batchSize, batch -> {
                    float[][] vectors = embedder.embed(TextInput.texts(batch), prompt);
                    for (int i = 0; i < vectors.length; i++) {
                        write(json, batch.get(i), vectors[i]);
                    }
                    progress.add(batch.size());
                });
                json.flush();
                out.commit();
                progress.finish();
                long nanos = System.nanoTime() - start;
                cli.err().println(Progress.summary("embedded", written, "texts", nanos, in.skipped(), output));
            }
        }
        return 0;
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
