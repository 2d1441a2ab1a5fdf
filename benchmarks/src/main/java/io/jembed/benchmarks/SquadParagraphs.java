package io.jembed.benchmarks;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Real paragraphs for throughput runs: the {@code context} of each line of the SQuAD v1.1 dev
 * {@code paragraphs.jsonl} in the shared data beside the repository, in file order so that the first
 * N are the same N on every run. With all-MiniLM-L6-v2's vocabulary all 2,067 average 162 tokens
 * (168 past 256, 9 past 512); the first 500 average 132 (224 past 128, 25 past 256, none past 512).
 */
final class SquadParagraphs {

    /** Beside the repository, as the README's commands use it when run from the repository root. */
    static final Path RELATIVE_FILE = Path.of("..", "shared", "data", "squad-v1.1-dev", "paragraphs.jsonl");
    /** Where the shared data lives on the project's machines, for runs from another directory. */
    static final Path FALLBACK_FILE = Path.of("/work/shared/data/squad-v1.1-dev/paragraphs.jsonl");

    private SquadParagraphs() {}

    /** {@link #RELATIVE_FILE} if it is there, else {@link #FALLBACK_FILE}. */
    static Path defaultFile() {
        boolean fallBack = !Files.isRegularFile(RELATIVE_FILE) && Files.isRegularFile(FALLBACK_FILE);
        return fallBack ? FALLBACK_FILE : RELATIVE_FILE;
    }

    /** The {@code context} of the first {@code limit} lines, or of every line when the file has fewer. */
    static List<String> first(Path file, int limit) throws IOException {
        var mapper = new ObjectMapper();
        var paragraphs = new ArrayList<String>();
        try (var lines = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            String line;
            int number = 0;
            while (paragraphs.size() < limit && (line = lines.readLine()) != null) {
                number++;
                if (line.isBlank()) {
                    continue;
                }
                JsonNode context = mapper.readTree(line).get("context");
                if (context == null || !context.isTextual()) {
                    throw new IOException("SQuAD paragraphs " + file + " line " + number + ": expected a string field"
                        + " 'context', found " + (context == null ? "none" : context.getNodeType()));
                }
                paragraphs.add(context.asText());
            }
        }
        return paragraphs;
    }
}
