package io.jembed.core.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The vector kernels at widths other than this machine's, each in a child JVM (the species is a
 * per-JVM constant, {@link VectorWidth}): every comparison of {@link KernelComparisons} at 128 and
 * 256 bits, where panels are 8 and 16 columns wide and the tails fall elsewhere.
 */
class ForcedWidthTest {

    @ParameterizedTest
    @ValueSource(ints = {128, 256, 512})
    void vectorMatchesScalarAtWidth(int bits) throws IOException, InterruptedException {
        if (bits == VectorWidth.SPECIES.vectorBitSize()) {
            return; // VectorKernelsTest covers this JVM's own width
        }
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.add("--add-modules=jdk.incubator.vector");
        command.add("-D" + VectorWidth.PROPERTY + "=" + bits);
        String arch = System.getProperty("os.arch");
        if (bits == 256 && (arch.equals("amd64") || arch.equals("x86_64"))) {
            // An AVX2 machine: 16 vector registers, so the 6 x 2 tile's register pressure is real.
            command.add("-XX:UseAVX=2");
        }
        command.add("-cp");
        command.add(System.getProperty("java.class.path"));
        command.add(KernelComparisons.class.getName());
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(process.waitFor(5, TimeUnit.MINUTES), "child JVM at " + bits + " bits did not finish");
        assertEquals(0, process.exitValue(), "child JVM at " + bits + " bits failed:\n" + output);
        assertTrue(output.contains("kernel comparisons at vector(" + bits + "-bit): "), output);
    }
}
