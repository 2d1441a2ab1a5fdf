package io.jembed.core.model;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * The other process of {@link LockFileTest}: {@code hold PATH} takes the lock, says "held", and
 * releases it when a line arrives on stdin; {@code try PATH} says whether the file at PATH is locked.
 */
public final class LockFileProbe {

    private LockFileProbe() {
    }

    public static void main(String[] args) throws Exception {
        Path path = Path.of(args[1]);
        if (args[0].equals("hold")) {
            try (LockFile _ = LockFile.acquire(path)) {
                System.out.println("held");
                System.out.flush();
                new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8)).readLine();
            }
            System.out.println("released");
        } else {
            try (FileChannel channel = FileChannel.open(path, StandardOpenOption.WRITE);
                 FileLock lock = channel.tryLock()) {
                System.out.println(lock == null ? "busy" : "free");
            }
        }
    }
}
