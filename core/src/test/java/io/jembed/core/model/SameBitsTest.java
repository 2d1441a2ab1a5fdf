package io.jembed.core.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import io.jembed.core.Embedder;

/**
 * A text's vector is the same bits on a cold JVM (interpreter only, or C1 only) as on a warm one
 * where C2 has compiled the kernels, alone or in a batch, on 1 or 2 threads: every sum in the
 * encoder runs in an order the interpreter, C1 and C2 all follow ({@code VectorWidth.sumLanes}). The
 * scalar kernels, the oracle and the fallback without the Vector API, are held to the same.
 */
class SameBitsTest {

    @TempDir
    static Path dir;
    /** The warm JVM's lines per kernels, "vector" and "scalar". */
    static final Map<String, List<String>> warm = new HashMap<>();

    @BeforeAll
    static void warmUp() throws IOException {
        ModelDirectoryTest.model();
        ModelDirectoryTest.write(dir);
        for (String kernels : List.of("vector", "scalar")) {
            try (Embedder embedder = SameBitsProbe.builder(dir, kernels).threads(2).build()) {
                // Enough calls for C2 to compile the kernels (tier 4 after ~10^4 invocations and loops).
                for (int round = 0; round < 3000; round++) {
                    embedder.embed(SameBitsProbe.TEXTS);
                }
                List<String> lines = SameBitsProbe.lines(embedder);
                warm.put(kernels, lines);
                for (int i = 0; i < SameBitsProbe.TEXTS.size(); i++) {
                    assertEquals(lines.get(i).substring(lines.get(i).indexOf(':')),
                            lines.get(i + SameBitsProbe.TEXTS.size()).substring(lines.get(i).indexOf(':')),
                            kernels + ": text " + i + ": alone and in a batch differ");
                }
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"-Xint 1 vector", "-Xint 2 vector", "-XX:TieredStopAtLevel=1 1 vector",
            "-XX:TieredStopAtLevel=1 2 vector", "-Xint 1 scalar", "-XX:TieredStopAtLevel=1 2 scalar"})
    void coldJvmGivesTheWarmJvmsBits(String mode) throws IOException, InterruptedException {
        String[] parts = mode.split(" ");
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.add("--add-modules=jdk.incubator.vector");
        command.add(parts[0]);
        command.add("-cp");
        command.add(System.getProperty("java.class.path"));
        command.add(SameBitsProbe.class.getName());
        command.add(dir.toString());
        command.add(parts[1]);
        command.add(parts[2]);
        Process process = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.DISCARD).start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(process.waitFor(5, TimeUnit.MINUTES), "child JVM (" + mode + ") did not finish");
        assertEquals(0, process.exitValue(), "child JVM (" + mode + ") failed:\n" + output);
        List<String> cold = output.lines().toList();
        List<String> reference = warm.get(parts[2]);
        assertEquals(reference.size(), cold.size(), output);
        for (int i = 0; i < reference.size(); i++) {
            assertEquals(reference.get(i), cold.get(i), mode + ": line " + i + " differs from the warm JVM's");
        }
    }
}
