package io.jembed.core.model;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * An exclusive lock between processes on a file that exists only while the lock is held, so that
 * writing a model directory, whether it succeeds or fails, leaves no lock file beside it.
 *
 * <p>Deleting a lock file is safe only if a process that opened the file before it was deleted,
 * and is granted the lock on it afterwards, notices: otherwise it goes ahead holding a file no
 * longer at the path while a third process locks a new file there. So the holder, still holding
 * the lock, deletes the file and then writes one byte into it. A lock file at the path is always
 * empty; a process granted a non-empty one closes it and opens the path again. The size is read
 * through the locked channel: opening the path again to compare would release the lock, as POSIX
 * drops a process's locks on a file when it closes any descriptor of it. Deleting first and
 * marking second, a holder killed between the two leaves nothing at the path (marking first would
 * leave a marked file there that every later process refuses); the cost is that a process already
 * waiting on the deleted file then takes it for the lock and may overlap once with the next one,
 * which {@link ModelImport}'s staging directory and atomic renames keep from tearing the model
 * directory.
 *
 * <p>Within one JVM the lock is not reentrant: a second acquire of the same path while the first is
 * held throws {@link java.nio.channels.OverlappingFileLockException}, as {@link FileChannel#lock()} does.
 */
final class LockFile implements AutoCloseable {

    /**
     * Deleted files granted in a row before giving up. Each needs another process to release the
     * lock in the moment between this one opening the file and waiting on it, so a real run sees
     * one or two; many in a row mean a non-empty file at the path that is not a lock file.
     */
    static final int MAX_ATTEMPTS = 100;

    private final Path path;
    private final FileChannel channel;

    private LockFile(Path path, FileChannel channel) {
        this.path = path;
        this.channel = channel;
    }

    /** Creates the file at path if absent and waits until this process holds its lock. */
    static LockFile acquire(Path path) throws IOException {
        for (int attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
            FileChannel channel = FileChannel.open(path, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
            boolean held = false;
            try {
                channel.lock();
                if (channel.size() == 0) {
                    held = true;
                    return new LockFile(path, channel);
                }
            } finally {
                if (!held) {
                    channel.close();
                }
            }
        }
        throw new IOException("lock file " + path + ": expected an empty file, found a non-empty one "
                + MAX_ATTEMPTS + " times; remove it if no jembed is running");
    }

    /** Deletes the file, marks it deleted for processes waiting on it, and releases the lock. */
    @Override
    public void close() throws IOException {
        try (channel) {
            Files.deleteIfExists(path);
            channel.write(ByteBuffer.wrap(new byte[] {1}), 0);
        }
    }
}
