package io.jembed.core.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

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
}
