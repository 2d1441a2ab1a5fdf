package io.jembed.core.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link LockFile}: the file exists only while the lock is held, and a process granted the lock on
 * a file another process deleted meanwhile notices and locks the file now at the path.
 */
class LockFileTest {

    @TempDir
    Path dir;

    @Test
    void theFileExistsOnlyWhileHeld() throws IOException {
        Path path = dir.resolve(".model.lock");
        try (LockFile _ = LockFile.acquire(path)) {
            assertEquals(0, Files.size(path));
        }
        assertEquals(List.of(), entries(dir));
    }

    /** An empty lock file left by an older jembed or a killed one is taken, then removed. */
    @Test
    void aLeftoverEmptyLockFileIsTakenAndRemoved() throws IOException {
        Path path = Files.createFile(dir.resolve(".model.lock"));
        try (LockFile _ = LockFile.acquire(path)) {
            assertTrue(Files.exists(path));
        }
        assertEquals(List.of(), entries(dir));
    }

    @Test
    void aNonEmptyFileAtThePathIsRefused() throws IOException {
        Path path = Files.writeString(dir.resolve(".model.lock"), "not a lock");
        IOException e = assertThrows(IOException.class, () -> LockFile.acquire(path));
        assertEquals("lock file " + path + ": expected an empty file, found a non-empty one " + LockFile.MAX_ATTEMPTS
                + " times; remove it if no jembed is running", e.getMessage());
        assertEquals("not a lock", Files.readString(path));
    }

    /**
     * The race that deleting lock files opens: this process opens the file while another holds it;
     * that one deletes it and lets go; this one is granted the lock on the deleted file and must not
     * take it for the lock at the path.
     */
    @Test
    void aWaiterGrantedADeletedFileLocksTheOneAtThePath() throws Exception {
        Path fds = Path.of("/proc/self/fd");
        Assumptions.assumeTrue(Files.isDirectory(fds), "needs /proc/self/fd to see when the waiter has opened the file");
        Path path = dir.resolve(".model.lock").toAbsolutePath();
        Process holder = probe("hold", path);
        try {
            BufferedReader holderOut = new BufferedReader(new InputStreamReader(holder.getInputStream(),
                    StandardCharsets.UTF_8));
            assertEquals("held", holderOut.readLine());
            CompletableFuture<LockFile> waiter = CompletableFuture.supplyAsync(() -> {
                try {
                    return LockFile.acquire(path);
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (!opened(fds, path)) {
                assertTrue(System.nanoTime() < deadline, "the waiter did not open " + path);
                Thread.sleep(5);
            }
            assertFalse(waiter.isDone(), "the waiter was granted the lock while the holder held it");
            PrintStream holderIn = new PrintStream(holder.getOutputStream(), true, StandardCharsets.UTF_8);
            holderIn.println("release");
            assertEquals("released", holderOut.readLine());

            try (LockFile _ = waiter.get(30, TimeUnit.SECONDS)) {
                assertTrue(Files.exists(path), "the waiter holds a file that is no longer at " + path);
                assertEquals("busy", output(probe("try", path)), "the file at " + path + " is not locked");
            }
            assertEquals(List.of(), entries(dir));
        } finally {
            holder.destroy();
            holder.waitFor(10, TimeUnit.SECONDS);
        }
    }

    private static boolean opened(Path fds, Path path) throws IOException {
        try (Stream<Path> links = Files.list(fds)) {
            for (Path link : links.toList()) {
                try {
                    if (Files.readSymbolicLink(link).equals(path)) {
                        return true;
                    }
                } catch (IOException e) {
                    // The descriptor closed between the listing and the read.
                }
            }
        }
        return false;
    }

    private static Process probe(String mode, Path path) throws IOException {
        return new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-cp",
                System.getProperty("java.class.path"), LockFileProbe.class.getName(), mode, path.toString())
                .redirectError(ProcessBuilder.Redirect.INHERIT).start();
    }

    private static String output(Process process) throws Exception {
        String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        assertTrue(process.waitFor(30, TimeUnit.SECONDS), "probe did not finish");
        assertEquals(0, process.exitValue(), out);
        return out;
    }

    private static List<String> entries(Path dir) throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            return files.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }
}
