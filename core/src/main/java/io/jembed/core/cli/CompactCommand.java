package io.jembed.core.cli;

import java.nio.file.Path;
import java.util.Set;

import io.jembed.core.index.IndexStore;
import io.jembed.core.index.Manifest;

/**
 * {@code jembed compact --index DIR}: rewrites an index as one segment of its live documents,
 * dropping deleted and replaced ones (their vectors stay in the files until then). No model is
 * loaded; the new files are committed by the manifest's atomic rename, and the old ones removed.
 */
final class CompactCommand implements Command {

    @Override
    public String name() {
        return "compact";
    }

    @Override
    public String summary() {
        return "merge an index's segments, dropping deleted documents";
    }

    @Override
    public Set<String> options() {
        return Set.of("index", "threads");
    }

    @Override
    public String usage() {
        return """
                usage: jembed compact --index DIR

                Rewrites the index as one segment holding only its live documents: each index append or
                upsert adds a segment, and deleted or replaced documents keep their vectors on disk
                until compacted. Searches give the same results before and after. Safe to interrupt:
                the previous state stays until the new manifest is in place.

                options:
                  --index DIR        the index directory (required)
                  --threads N        threads for opening the index (default: all cores)""";
    }

    @Override
    public int run(Args args, Cli cli) throws Exception {
        args.noPositionals();
        Path dir = Path.of(args.required("index"));
        int threads = args.intValue("threads", Runtime.getRuntime().availableProcessors(), 1, 1024);
        args.finish();
        DeleteCommand.requireIndex("compact", dir);
        Manifest before = IndexStore.readManifest(dir);
        long beforeBytes = bytes(dir, before);
        try (IndexStore store = IndexStore.open(dir, threads)) {
            long start = System.nanoTime();
            Manifest after = store.compact();
            cli.err().println(String.format("jembed: compacted %s in %.2f s: %,d segments with %,d documents "
                            + "(%,d deleted) and %,d bytes became %,d segment with %,d documents and %,d bytes",
                    dir, (System.nanoTime() - start) / 1e9, before.segments().size(), before.count() + before.deleted(),
                    before.deleted(), beforeBytes, after.segments().size(), after.count(), bytes(dir, after)));
        }
        return 0;
    }

    private static long bytes(Path dir, Manifest manifest) {
        long bytes = 0;
        for (Manifest.Segment segment : manifest.segments()) {
            bytes += IndexInfo.bytes(dir, segment);
        }
        return bytes;
    }
}
