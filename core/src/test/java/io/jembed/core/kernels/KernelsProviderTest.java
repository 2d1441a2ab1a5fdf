package io.jembed.core.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;

class KernelsProviderTest {

    @Test
    void choosesVectorWhenTheModuleIsPresentUnlessForced() {
        // The test JVM runs with --add-modules jdk.incubator.vector (the parent pom's argLine).
        String forced = System.getProperty(KernelsProvider.PROPERTY, "");
        Kernels expected = forced.equals("scalar") ? KernelsProvider.scalar() : KernelsProvider.vector();
        assertSame(expected, KernelsProvider.get());
        assertSame(KernelsProvider.get(), KernelsProvider.get());
    }

    @Test
    void namesSayWhichImplementation() {
        assertEquals("scalar", KernelsProvider.scalar().name());
        assertEquals("vector(" + VectorWidth.SPECIES.vectorBitSize() + "-bit)", KernelsProvider.vector().name());
    }

    @Test
    void rejectsUnknownWidth() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> VectorWidth.choose("384"));
        assertEquals("system property jembed.vectorBits: expected 128, 256 or 512, found '384'", e.getMessage());
    }

    @Test
    void withoutTheModuleFallsBackToScalarAndLogsWhy() throws IOException, InterruptedException {
        String output = runProbe(null);
        assertTrue(output.contains("get: scalar"), output);
        assertTrue(output.contains("kernels: scalar (module jdk.incubator.vector absent; start the JVM with"
                + " --add-modules jdk.incubator.vector"), output);
        assertTrue(output.contains("vector: IllegalStateException: vector kernels: expected module jdk.incubator.vector"
                + " in the boot layer, found it absent; start the JVM with --add-modules jdk.incubator.vector"), output);
    }

    @Test
    void forcingVectorWithoutTheModuleFails() throws IOException, InterruptedException {
        String output = runProbe("vector");
        assertTrue(output.contains("get: IllegalStateException: vector kernels: expected module jdk.incubator.vector"),
                output);
    }

    @Test
    void forcingScalarWorksAndUnknownValuesFail() throws IOException, InterruptedException {
        assertTrue(runProbe("scalar").contains("get: scalar"));
        String output = runProbe("fast");
        assertTrue(output.contains("get: IllegalArgumentException: system property jembed.kernels: expected 'scalar'"
                + " or 'vector', found 'fast'"), output);
    }

    /** Runs {@link Probe} in a JVM without {@code --add-modules jdk.incubator.vector}. */
    private static String runProbe(String forced) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        if (forced != null) {
            command.add("-D" + KernelsProvider.PROPERTY + "=" + forced);
        }
        command.add("-cp");
        command.add(System.getProperty("java.class.path"));
        command.add(Probe.class.getName());
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(process.waitFor(1, TimeUnit.MINUTES), "probe JVM did not finish");
        assertEquals(0, process.exitValue(), output);
        return output;
    }

    /** Prints what {@link KernelsProvider} gives in this JVM, one line per entry point. */
    static final class Probe {
        public static void main(String[] args) {
            try {
                System.out.println("get: " + KernelsProvider.get().name());
            } catch (RuntimeException e) {
                System.out.println("get: " + e.getClass().getSimpleName() + ": " + e.getMessage());
            }
            try {
                System.out.println("vector: " + KernelsProvider.vector().name());
            } catch (RuntimeException e) {
                System.out.println("vector: " + e.getClass().getSimpleName() + ": " + e.getMessage());
            }
        }
    }
}
