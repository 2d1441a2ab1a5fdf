package io.jembed.benchmarks;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;

/**
 * Writes a benchmark corpus as the input of {@code jembed embed} and {@link OrtFileEmbed}: one
 * {@code {"id": N, "text": "..."}} line per text, ids 1..N (the line numbers, as jembed would default them).
 * The texts are {@link SentenceGenerator}'s sentences for the seed, or the first N {@link SquadParagraphs},
 * the same texts {@link EndToEndBenchmark} embeds for the same flags.
 *
 * <pre>
 * java -cp benchmarks/target/benchmarks.jar io.jembed.benchmarks.WriteCorpus --texts N --output FILE
 *     [--corpus sentences|squad] [--seed 42] [--squad FILE]
 * </pre>
 */
public final class WriteCorpus {

    static final String TOOL = "WriteCorpus";
    static final List<String> FLAGS = List.of("--corpus", "--texts", "--output", "--seed", "--squad");
    static final String USAGE = """
        usage: WriteCorpus --texts N --output FILE [--corpus sentences|squad]
               [--seed S=%d (sentences)] [--squad FILE=%s, else %s]"""
        .formatted(SentenceGenerator.DEFAULT_SEED, SquadParagraphs.RELATIVE_FILE, SquadParagraphs.FALLBACK_FILE);

    private WriteCorpus() {}

    public static void main(String[] args) throws Exception {
        ToolArgs.run(TOOL, USAGE, FLAGS, args, WriteCorpus::run);
    }

    static int run(ToolArgs args) throws Exception {
        String corpus = args.string("--corpus", "sentences");
        int count = args.requiredInteger("--texts", 1);
        Path output = args.requiredPath("--output");
        List<String> texts = switch (corpus) {
            case "sentences" -> SentenceGenerator.generate(count, args.longInteger("--seed", SentenceGenerator.DEFAULT_SEED));
            case "squad" -> squad(Path.of(args.string("--squad", SquadParagraphs.defaultFile().toString())), count);
            default -> throw new IllegalArgumentException("argument --corpus: expected sentences or squad, found '"
                + corpus + "'");
        };
        JsonLines.writeAtomically(output, json -> {
            for (int i = 0; i < texts.size(); i++) {
                json.writeStartObject();
                json.writeNumberField("id", i + 1);
                json.writeStringField("text", texts.get(i));
                json.writeEndObject();
                json.writeRaw('\n');
            }
        });
        args.note("wrote " + texts.size() + (corpus.equals("squad") ? " SQuAD paragraphs" : " generated sentences")
            + " to " + output);
        return 0;
    }

    private static List<String> squad(Path file, int count) throws IOException {
        if (!Files.isRegularFile(file)) {
            throw new NoSuchFileException(file.toAbsolutePath().toString(), null,
                "expected SQuAD v1.1 dev paragraphs.jsonl, found no file (pass --squad FILE)");
        }
        List<String> paragraphs = SquadParagraphs.first(file, count);
        if (paragraphs.size() < count) {
            throw new IllegalArgumentException("argument --texts: expected at most " + paragraphs.size()
                + " (the paragraphs in " + file + "), found " + count);
        }
        return paragraphs;
    }
}
