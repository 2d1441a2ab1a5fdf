package io.jembed.core.server;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.jembed.core.Embedder;
import io.jembed.core.model.TinyModelDirectory;

/**
 * Clients that misbehave: one that disconnects mid-request, one that sends its body a byte at a
 * time, thousands of idle connections; and stopping while a request is in flight, in process and
 * by SIGTERM to {@code jembed serve}. Each time the server keeps answering the others.
 */
class EmbeddingServerFaultTest {

    @TempDir
    static Path dir;

    static final ObjectMapper JSON = new ObjectMapper();
    static Path modelDir;
    static Embedder embedder;
    static EmbeddingServer server;

    @BeforeAll
    static void start() throws IOException {
        modelDir = TinyModelDirectory.write(Files.createDirectories(dir.resolve("model")));
        embedder = Embedder.builder(modelDir).threads(2).build();
        server = EmbeddingServer.start(embedder, null, ServerOptions.builder().port(0).build());
    }

    @AfterAll
    static void stop() {
        server.close();
        embedder.close();
    }

    static final String BODY = "{\"inputs\": \"the cat sat on the mat\"}";

    static String head(int port, int contentLength) {
        return "POST /embed HTTP/1.1\r\nHost: 127.0.0.1:" + port + "\r\nContent-Type: application/json\r\n"
                + "Content-Length: " + contentLength + "\r\nConnection: close\r\n\r\n";
    }

    /** Reads an HTTP/1.1 answer to the end (Connection: close): status and body. */
    static String[] answer(InputStream in) throws IOException {
        String all = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        int status = Integer.parseInt(all.substring(9, 12));
        return new String[] {Integer.toString(status), all.substring(all.indexOf("\r\n\r\n") + 4)};
    }

    static void assertServes(EmbeddingServer to) throws IOException {
        try (Socket socket = new Socket()) {
            socket.connect(to.address(), 5000);
            socket.setSoTimeout(30_000);
            socket.getOutputStream().write((head(to.address().getPort(), BODY.length()) + BODY).getBytes(StandardCharsets.UTF_8));
            String[] reply = answer(socket.getInputStream());
            assertEquals("200", reply[0], reply[1]);
            assertArrayEquals(embedder.embed("the cat sat on the mat"), floats(JSON.readTree(reply[1]).get(0)));
        }
    }

    static float[] floats(JsonNode array) {
        float[] out = new float[array.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = array.get(i).floatValue();
        }
        return out;
    }

    @Test
    void aClientThatDisconnectsMidRequestHarmsNoOne() throws Exception {
        for (int i = 0; i < 20; i++) {
            try (Socket socket = new Socket()) {
                socket.connect(server.address(), 5000);
                OutputStream out = socket.getOutputStream();
                out.write((head(server.address().getPort(), 1000) + BODY.substring(0, 10)).getBytes(StandardCharsets.UTF_8));
                out.flush();
            } // closed with 990 bytes of the body unsent
            try (Socket socket = new Socket()) {
                socket.connect(server.address(), 5000);
                socket.getOutputStream().write(head(server.address().getPort(), BODY.length()).getBytes(StandardCharsets.UTF_8));
            } // closed before any of the body
        }
        assertServes(server);
    }

    @Test
    void aSlowClientSendingItsBodyByteByByteIsAnsweredAndDelaysNoOne() throws Exception {
        try (Socket slow = new Socket()) {
            slow.connect(server.address(), 5000);
            slow.setSoTimeout(30_000);
            OutputStream out = slow.getOutputStream();
            byte[] request = (head(server.address().getPort(), BODY.length()) + BODY).getBytes(StandardCharsets.UTF_8);
            for (int i = 0; i < request.length; i++) {
                out.write(request[i]);
                out.flush();
                Thread.sleep(5);
                if (i == request.length / 2) {
                    assertServes(server); // others are answered while it dawdles
                }
            }
            String[] reply = answer(slow.getInputStream());
            assertEquals("200", reply[0], reply[1]);
            assertArrayEquals(embedder.embed("the cat sat on the mat"), floats(JSON.readTree(reply[1]).get(0)));
        }
    }

    static long openFileLimit() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/limits"))) {
                if (line.startsWith("Max open files")) {
                    return Long.parseLong(line.substring(26).trim().split("\\s+")[0]);
                }
            }
        } catch (IOException | RuntimeException e) {
            // not Linux: assume the common default
        }
        return 1024;
    }

    @Test
    void closingFinishesTheRequestInFlightThenRefusesConnections() throws Exception {
        EmbeddingServer stopping = EmbeddingServer.start(embedder, null, ServerOptions.builder().port(0).build());
        InetSocketAddress address = stopping.address();
        try (Socket inFlight = new Socket()) {
            inFlight.connect(address, 5000);
            inFlight.setSoTimeout(30_000);
            OutputStream out = inFlight.getOutputStream();
            out.write((head(address.getPort(), BODY.length()) + BODY.substring(0, 5)).getBytes(StandardCharsets.UTF_8));
            out.flush();
            Thread.sleep(200); // the exchange has begun
            CompletableFuture<Void> closed = CompletableFuture.runAsync(stopping::close);
            Thread.sleep(300);
            out.write(BODY.substring(5).getBytes(StandardCharsets.UTF_8));
            out.flush();
            String[] reply = answer(inFlight.getInputStream());
            assertEquals("200", reply[0], reply[1]);
            closed.get(40, TimeUnit.SECONDS);
        }
        assertThrows(IOException.class, () -> {
            try (Socket late = new Socket()) {
                late.connect(address, 2000);
            }
        });
    }

    /** {@code jembed serve} on the tiny model in a child JVM, and the port it printed. */
    record Child(Process process, int port, BufferedReader err, StringBuilder seen) {
        static Child start() throws IOException {
            List<String> command = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "--add-modules=jdk.incubator.vector", "-cp", System.getProperty("java.class.path"),
                    "io.jembed.core.cli.Main", "serve", "--model", modelDir.toString(), "--port", "0", "--threads", "1");
            Process process = new ProcessBuilder(command).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            BufferedReader err = new BufferedReader(new InputStreamReader(process.getErrorStream(), StandardCharsets.UTF_8));
            int port = -1;
            Pattern listening = Pattern.compile("on http://127\\.0\\.0\\.1:(\\d+)/");
            StringBuilder seen = new StringBuilder();
            for (String line; port < 0 && (line = err.readLine()) != null; ) {
                seen.append(line).append('\n');
                Matcher m = listening.matcher(line);
                if (m.find()) {
                    port = Integer.parseInt(m.group(1));
                }
            }
            if (port < 0) {
                process.destroyForcibly();
                throw new AssertionError("no listening line from jembed serve in:\n" + seen);
            }
            return new Child(process, port, err, seen);
        }

        InetSocketAddress address() {
            return new InetSocketAddress("127.0.0.1", port);
        }
    }

    /**
     * 10,000 idle connections (half of them stopped mid-header) to {@code jembed serve} in its own
     * JVM, so each process spends one descriptor per connection; fewer if the limit is lower.
     */
    @Test
    void tenThousandIdleConnectionsDoNotStopTheServer() throws Exception {
        int connections = (int) Math.min(10_000, Math.max(100, openFileLimit() - 1_000));
        Child child = Child.start();
        List<Socket> idle = new ArrayList<>(connections);
        try {
            for (int i = 0; i < connections; i++) {
                Socket socket = new Socket();
                socket.connect(child.address(), 5000);
                if (i % 2 == 0) {
                    socket.getOutputStream().write("POST /embed HTTP/1.1\r\nHost: x\r\n".getBytes(StandardCharsets.UTF_8));
                }
                idle.add(socket);
            }
            long start = System.nanoTime();
            try (Socket socket = new Socket()) {
                socket.connect(child.address(), 5000);
                socket.setSoTimeout(30_000);
                socket.getOutputStream().write((head(child.port(), BODY.length()) + BODY).getBytes(StandardCharsets.UTF_8));
                String[] reply = answer(socket.getInputStream());
                assertEquals("200", reply[0], reply[1]);
                assertArrayEquals(embedder.embed("the cat sat on the mat"), floats(JSON.readTree(reply[1]).get(0)));
            }
            long millis = (System.nanoTime() - start) / 1_000_000;
            assertTrue(millis < 10_000, "answered in " + millis + " ms beside " + connections + " idle connections");
            System.out.println("EmbeddingServerFaultTest: answered in " + millis + " ms beside " + connections
                    + " idle connections (half of them mid-header)");
        } finally {
            for (Socket socket : idle) {
                socket.close();
            }
            child.process().destroyForcibly();
        }
    }

    /** jembed serve in a child JVM: SIGTERM finishes the request in flight, then the process exits. */
    @Test
    void sigtermStopsJembedServeAfterTheRequestInFlight() throws Exception {
        Child child = Child.start();
        Process process = child.process();
        int port = child.port();
        try {
            try (Socket inFlight = new Socket("127.0.0.1", port)) {
                inFlight.setSoTimeout(30_000);
                OutputStream out = inFlight.getOutputStream();
                out.write((head(port, BODY.length()) + BODY.substring(0, 5)).getBytes(StandardCharsets.UTF_8));
                out.flush();
                Thread.sleep(300);
                process.toHandle().destroy(); // SIGTERM (Process.destroy would also close our end of stderr)
                Thread.sleep(300);
                out.write(BODY.substring(5).getBytes(StandardCharsets.UTF_8));
                out.flush();
                String[] reply = answer(inFlight.getInputStream());
                assertEquals("200", reply[0], reply[1]);
                assertArrayEquals(embedder.embed("the cat sat on the mat"), floats(JSON.readTree(reply[1]).get(0)));
            }
            assertTrue(process.waitFor(60, TimeUnit.SECONDS), "jembed serve did not exit after SIGTERM");
            String rest = child.seen() + String.join("\n", child.err().lines().toList());
            assertTrue(rest.contains("stopping; finishing requests in flight"), rest);
            assertTrue(rest.contains("stopped after"), rest);
            assertEquals(143, process.exitValue(), "128 + SIGTERM, after the shutdown hook ran:\n" + rest);
        } finally {
            process.destroyForcibly();
        }
    }
}
