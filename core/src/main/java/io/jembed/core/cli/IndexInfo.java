package io.jembed.core.cli;

import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import io.jembed.core.index.IndexStore;
import io.jembed.core.index.Manifest;

/**
 * {@code jembed index info DIR [--json]}: what an index directory holds, from its manifest and the
 * sizes of its files, without loading the model or mapping the vectors.
 */
final class IndexInfo {

    private IndexInfo() {
    }

    static int run(Args args, Cli cli) throws IOException {
        List<String> positionals = args.positionals();
        if (positionals.size() != 2) {
            throw CliException.usage("index info: expected one index directory (jembed index info DIR), found "
                    + (positionals.size() == 1 ? "none" : (positionals.size() - 1) + " arguments"));
        }
        boolean json = args.flag("json");
        args.finish();
        Path dir = Path.of(positionals.get(1));
        DeleteCommand.requireIndex("index info", dir);
        Manifest manifest = IndexStore.readManifest(dir);
        PrintStream out = cli.out();
        if (json) {
            ObjectNode root = manifest.toJson();
            root.put("directory", dir.toAbsolutePath().toString());
            ArrayNode segments = (ArrayNode) root.get("segments");
            long total = 0;
            for (int i = 0; i < manifest.segments().size(); i++) {
                Manifest.Segment segment = manifest.segments().get(i);
                long indexBytes = segment.indexFiles() == null ? 0 : treeBytes(dir.resolve(segment.indexFiles()));
                ((ObjectNode) segments.get(i)).put("index_files_bytes", indexBytes);
                total += bytes(dir, segment);
            }
            root.put("bytes", total);
            out.println(new ObjectMapper().writerWithDefaultPrettyPrinter().writeValueAsString(root));
            out.flush();
            return 0;
        }
        out.printf("index       %s (generation %d)%n", dir.toAbsolutePath(), manifest.generation());
        out.printf("type        %s%s%n", manifest.indexType(), manifest.indexParameters().isEmpty() ? ""
                : "  " + String.join(" ", manifest.indexParameters().entrySet().stream()
                .map(e -> e.getKey() + "=" + e.getValue()).toList()));
        out.printf("model       %s, %d-d, %s pooling%n", manifest.spec().describeModel(), manifest.spec().dimension(),
                manifest.spec().describePooling());
        out.printf("prompt      %s%n", manifest.spec().documentPrompt().isEmpty() ? "none"
                : manifest.spec().documentPrompt().describe());
        out.printf("vectors     %s%n", manifest.quantization() == io.jembed.core.index.Quantization.NONE ? "float32"
                : "float32 and int8 (scanned first)");
        out.printf("chunking    %s%n", manifest.chunking() == null ? "none (whole documents)"
                : manifest.chunking().tokens() + " tokens, overlap " + manifest.chunking().overlap());
        out.printf("documents   %,d live, %,d deleted%s; %,d rows%n", manifest.count(), manifest.deleted(),
                manifest.deleted() > 0 ? " (jembed compact removes them)" : "", manifest.rows());
        out.printf("segments    %d%n", manifest.segments().size());
        long total = 0;
        for (Manifest.Segment segment : manifest.segments()) {
            long indexBytes = segment.indexFiles() == null ? 0 : treeBytes(dir.resolve(segment.indexFiles()));
            out.printf("  %-11s %,d documents (%,d deleted), %,d rows; vectors %s, documents %s%s%n",
                    "segment " + segment.id(), segment.documents(), segment.deleted(), segment.rows(),
                    size(segment.vectorsBytes()), size(segment.documentsBytes()),
                    segment.indexFiles() == null ? "" : ", " + manifest.indexType() + " " + size(indexBytes));
            total += bytes(dir, segment);
        }
        out.printf("on disk     %s%n", size(total));
        out.flush();
        return 0;
    }

    /** A segment's bytes on disk: vectors, documents, deletions and the index type's files. */
    static long bytes(Path dir, Manifest.Segment segment) {
        return segment.vectorsBytes() + segment.documentsBytes() + segment.deletionsBytes()
                + (segment.indexFiles() == null ? 0 : treeBytes(dir.resolve(segment.indexFiles())));
    }

    private static long treeBytes(Path root) {
        try (Stream<Path> files = Files.walk(root)) {
            return files.filter(Files::isRegularFile).mapToLong(file -> {
                try {
                    return Files.size(file);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }).sum();
        } catch (IOException e) {
            throw new UncheckedIOException("index files " + root + ": cannot read their sizes", e);
        }
    }

    static String size(long bytes) {
        if (bytes < 10_000) {
            return String.format("%,d B", bytes);
        }
        if (bytes < 10_000_000) {
            return String.format("%.1f kB", bytes / 1e3);
        }
        if (bytes < 10_000_000_000L) {
            return String.format("%.1f MB", bytes / 1e6);
        }
        return String.format("%.2f GB", bytes / 1e9);
    }
}
