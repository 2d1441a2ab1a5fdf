package io.jembed.core.cli;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

import io.jembed.core.index.IndexStore;
import io.jembed.core.index.Manifest;

/**
 * {@code jembed delete --index DIR ID... | --ids FILE}: removes documents by id. No model is
 * loaded: the change is a new deletion set per touched segment and a new manifest, committed
 * atomically like any save; the vectors stay on disk until {@code jembed compact}.
 */
final class DeleteCommand implements Command {

    @Override
    public String name() {
        return "delete";
    }

    @Override
    public String summary() {
        return "remove documents from an index by id";
    }

    @Override
    public Set<String> options() {
        return Set.of("index", "ids", "threads");
    }

    @Override
    public String usage() {
        return """
                usage: jembed delete --index DIR ID...
                       jembed delete --index DIR --ids FILE|-

                Removes the documents with these ids (an integer id 7 and "7" are the same key). Ids
                not in the index are reported and skipped; the exit code is 0 when the ids given are
                no longer in the index. Searches stop returning the documents; their vectors stay in
                the files until 'jembed compact --index DIR' rewrites the index without them.

                options:
                  --index DIR        the index directory (required)
                  --ids FILE         ids, one per line ('-' for stdin; blank lines skipped), besides or
                                     instead of ids on the command line
                  --threads N        threads for opening the index (default: all cores)""";
    }

    @Override
    public int run(Args args, Cli cli) throws Exception {
        Path dir = Path.of(args.required("index"));
        Optional<String> idsFile = args.option("ids");
        int threads = args.intValue("threads", Runtime.getRuntime().availableProcessors(), 1, 1024);
        args.finish();
        Set<String> ids = new LinkedHashSet<>(args.positionals());
        if (idsFile.isPresent()) {
            ids.addAll(readIds(idsFile.get()));
        }
        if (ids.isEmpty()) {
            throw CliException.usage("delete: expected ids to delete, as arguments or with --ids FILE, found none");
        }
        requireIndex("delete", dir);
        List<String> missing = new ArrayList<>();
        try (IndexStore store = IndexStore.open(dir, threads)) {
            int before = store.size();
            int deleted = store.delete(ids, missing);
            if (deleted > 0) {
                Manifest manifest = store.save(dir);
                cli.err().println(String.format("jembed: deleted %,d documents from %s: %,d left (%,d before)",
                        deleted, dir, manifest.count(), before));
            } else {
                cli.err().println("jembed: deleted nothing from " + dir + "; it is unchanged");
            }
        }
        if (!missing.isEmpty()) {
            cli.err().println(String.format("jembed: %,d ids not in the index: %s", missing.size(),
                    abbreviate(missing)));
        }
        return 0;
    }

    /** Fails, naming what is there instead, unless {@code dir} holds an index. */
    static void requireIndex(String command, Path dir) {
        if (!IndexStore.isIndex(dir)) {
            throw new CliException(command + ": --index " + dir + ": expected an index directory (with "
                    + IndexStore.MANIFEST_FILE + "), found " + (Files.isDirectory(dir) ? "a directory without one"
                    : Files.exists(dir) ? "a file" : "nothing"));
        }
    }

    private static List<String> readIds(String file) throws IOException {
        List<String> ids = new ArrayList<>();
        try (BufferedReader reader = file.equals("-")
                ? new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8))
                : Files.newBufferedReader(Path.of(file), StandardCharsets.UTF_8)) {
            for (String line = reader.readLine(); line != null; line = reader.readLine()) {
                String id = line.strip();
                if (!id.isEmpty()) {
                    ids.add(id);
                }
            }
        } catch (NoSuchFileException e) {
            throw new CliException("delete: --ids " + file + ": no such file");
        }
        return ids;
    }

    private static String abbreviate(List<String> ids) {
        int shown = Math.min(ids.size(), 10);
        return String.join(", ", ids.subList(0, shown)) + (ids.size() > shown ? ", ..." : "");
    }
}
