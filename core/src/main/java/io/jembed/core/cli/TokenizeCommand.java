package io.jembed.core.cli;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;

import com.fasterxml.jackson.core.JsonGenerator;

import io.jembed.core.model.ModelDirectory;
import io.jembed.core.model.Prompt;
import io.jembed.tokenizer.Encoding;
import io.jembed.tokenizer.WordPieceTokenizer;

/**
 * {@code jembed tokenize --input in.jsonl --output out.jsonl}: one output line
 * {@code {"id": <same>, "input_ids": [...], "tokens": [...], "offsets": [[start, end], ...]}} per
 * input text, in input order, [CLS] and [SEP] included, truncated at the model's max length. Streams
 * in batches, so memory stays constant whatever the input size; only the tokenizer is loaded.
 */
final class TokenizeCommand implements Command {

    /** Texts tokenized (in parallel) per batch. */
    private static final int BATCH_SIZE = 1024;

    /** Units of the offsets written. */
    enum Offsets { CHARS, CODEPOINTS }

    @Override
    public String name() {
        return "tokenize";
    }

    @Override
    public String summary() {
        return "tokenize texts from JSONL into ids, tokens and offsets";
    }

    @Override
    public Set<String> options() {
        // The tokenizer alone: --model and --max-length, not the encoder's threads and batches.
        return Args.names(Set.of("input", "output", "offsets", "model", "max-length"), TextInput.Options.names(true),
                PromptOptions.NAMES);
    }

    @Override
    public String usage() {
        return """
                usage: jembed tokenize --input FILE|- --output FILE|- [options]

                Reads {"id": <any JSON value>, "text": "..."} lines (or plain text with --format txt,
                one text per line, id = line number) and writes one line per text, in input order:
                {"id": <same>, "input_ids": [...], "tokens": [...], "offsets": [[start, end], ...]}.
                [CLS] and [SEP] are included (offsets [0, 0]); text longer than the max length is
                truncated before they are added. Offsets index the input text in UTF-16 chars (Java and
                JavaScript string indices); --offsets codepoints gives Python string indices instead.
                '-' means stdin/stdout. The output file appears only when the run succeeds.

                options:
                  --input FILE       input, '-' for stdin (required)
                  --output FILE      output, '-' for stdout (required)
                  --format F         jsonl (default) or txt
                  --id-field NAME    JSON field holding the id (default id)
                  --text-field NAME  JSON field holding the text (default text)
                  --on-error MODE    fail (default): stop at a malformed line; skip: report it and go on
                  --offsets UNIT     chars (default, UTF-16) or codepoints
                  --max-length N     tokens per text incl. [CLS]/[SEP] (default: the model's
                                     max_seq_length, 256 for all-MiniLM-L6-v2)
                  --model NAME|DIR   a catalogue model or a model directory with tokenizer.json or
                                     vocab.txt (default: $JEMBED_MODEL, else all-MiniLM-L6-v2)
                """ + PromptOptions.USAGE + """

                  (default: the model's default prompt, none for the catalogue's models). With a
                  prompt, or a model whose do_lower_case is true, offsets index the string the
                  tokenizer saw: prompt + text, lowercased.""";
    }

    @Override
    public int run(Args args, Cli cli) throws Exception {
        args.noPositionals();
        String input = args.required("input");
        String output = args.required("output");
        TextOutput.refuseOverwritingInput("tokenize", input, output);
        TextInput.Options reading = TextInput.Options.read(args, true);
        Offsets offsets = args.choice("offsets", Offsets.class, Offsets.CHARS);
        int maxLengthOption = args.intValue("max-length", 0, 2, Integer.MAX_VALUE);
        var promptOption = PromptOptions.read(args);
        Path modelDir = cli.modelDir(args);
        args.finish();
        ModelDirectory.TokenizerView model = ModelDirectory.readTokenizer(modelDir);
        WordPieceTokenizer tokenizer = model.tokenizer();
        Prompt prompt = PromptOptions.resolve(args, model.prompts(), promptOption.orElse(model.prompts().defaultPrompt()));
        int maxLength = maxLengthOption > 0 ? maxLengthOption : model.maxSeqLength();

        long start = System.nanoTime();
        try (TextInput in = TextInput.open(input, reading, cli.err());
             TextOutput out = TextOutput.open(output, cli.out());
             JsonGenerator json = out.jsonLines()) {
            long[] tokens = {0};
            long written = in.forEachBatch(BATCH_SIZE, batch -> {
                List<String> inputs = new java.util.ArrayList<>(batch.size());
                for (String text : TextInput.texts(batch)) {
                    inputs.add(model.input(prompt, text));
                }
                List<Encoding> encodings = tokenizer.encodeBatch(inputs, maxLength);
                for (int i = 0; i < encodings.size(); i++) {
                    write(json, batch.get(i), inputs.get(i), encodings.get(i), offsets);
                    tokens[0] += encodings.get(i).length();
                }
            });
            in.requireSomeRead(written);
            json.flush();
            out.commit();
            long nanos = System.nanoTime() - start;
            cli.err().println("jembed: tokenized " + String.format("%,d", written) + " texts (" + String.format("%,d", tokens[0])
                    + " tokens, max length " + maxLength + ") in " + String.format("%.1f", nanos / 1e9) + " s"
                    + (in.skipped() > 0 ? ", skipped " + in.skipped() + " bad lines" : "")
                    + (output.equals("-") ? "" : " -> " + output));
        }
        return 0;
    }

    private static void write(JsonGenerator json, TextInput.Record record, String input, Encoding encoding, Offsets unit)
            throws IOException {
        json.writeStartObject();
        json.writeFieldName("id");
        json.writeTree(record.id());
        json.writeFieldName("input_ids");
        json.writeStartArray();
        for (int i = 0; i < encoding.length(); i++) {
            json.writeNumber(encoding.id(i));
        }
        json.writeEndArray();
        json.writeFieldName("tokens");
        json.writeStartArray();
        for (int i = 0; i < encoding.length(); i++) {
            json.writeString(encoding.token(i));
        }
        json.writeEndArray();
        int[] codePointIndex = unit == Offsets.CODEPOINTS ? codePointIndex(input) : null;
        json.writeFieldName("offsets");
        json.writeStartArray();
        for (int i = 0; i < encoding.length(); i++) {
            int from = encoding.offsetStart(i);
            int to = encoding.offsetEnd(i);
            json.writeStartArray();
            json.writeNumber(codePointIndex == null ? from : codePointIndex[from]);
            json.writeNumber(codePointIndex == null ? to : codePointIndex[to]);
            json.writeEndArray();
        }
        json.writeEndArray();
        json.writeEndObject();
        json.writeRaw('\n');
    }

    /** index[c] = code points before UTF-16 index c (offsets never split a surrogate pair). */
    private static int[] codePointIndex(String text) {
        int[] index = new int[text.length() + 1];
        int codePoints = 0;
        for (int i = 0; i < text.length(); i++) {
            index[i] = codePoints;
            if (!(Character.isLowSurrogate(text.charAt(i)) && i > 0 && Character.isHighSurrogate(text.charAt(i - 1)))) {
                codePoints++;
            }
        }
        index[text.length()] = codePoints;
        return index;
    }
}
