package io.jembed.core.kernels;

import java.lang.System.Logger.Level;
import java.util.Locale;

/**
 * Picks the {@link Kernels} implementation once per JVM: {@link VectorKernels} when the
 * {@code jdk.incubator.vector} module is present and its vectors are at least 128 bits wide,
 * else {@link ScalarKernels}. The system property {@value #PROPERTY} ({@code scalar} or
 * {@code vector}) forces the choice. The choice is logged once through {@link System.Logger}: at
 * INFO, or at WARNING when the scalar kernels were not asked for (the CLI shows warnings without
 * --verbose: the scalar kernels give the same vectors ~45x slower, which a user should know).
 */
public final class KernelsProvider {

    /** System property forcing the implementation: {@code scalar} or {@code vector}. */
    public static final String PROPERTY = "jembed.kernels";

    private static final String VECTOR_MODULE = "jdk.incubator.vector";

    private static volatile Kernels chosen;

    private KernelsProvider() {
    }

    /**
     * The implementation chosen for this JVM.
     *
     * @throws IllegalArgumentException if {@value #PROPERTY} holds neither {@code scalar} nor {@code vector}
     * @throws IllegalStateException    if {@value #PROPERTY} is {@code vector} and the module is absent
     */
    public static Kernels get() {
        Kernels kernels = chosen;
        if (kernels == null) {
            synchronized (KernelsProvider.class) {
                kernels = chosen;
                if (kernels == null) {
                    kernels = choose();
                    chosen = kernels;
                }
            }
        }
        return kernels;
    }

    /** The scalar implementation, whatever this JVM supports. */
    public static Kernels scalar() {
        return ScalarKernels.INSTANCE;
    }

    /**
     * The Vector API implementation.
     *
     * @throws IllegalStateException if the JVM was started without the {@code jdk.incubator.vector} module
     */
    public static Kernels vector() {
        if (!vectorModulePresent()) {
            throw new IllegalStateException("vector kernels: expected module " + VECTOR_MODULE
                    + " in the boot layer, found it absent; start the JVM with --add-modules " + VECTOR_MODULE);
        }
        // Touched only after the check: loading VectorKernels links the incubator classes.
        return VectorKernels.INSTANCE;
    }

    static boolean vectorModulePresent() {
        return ModuleLayer.boot().findModule(VECTOR_MODULE).isPresent();
    }

    private static Kernels choose() {
        String forced = System.getProperty(PROPERTY, "").trim().toLowerCase(Locale.ROOT);
        Kernels kernels;
        String reason;
        Level level = Level.INFO;
        switch (forced) {
            case "scalar" -> {
                kernels = scalar();
                reason = "forced by -D" + PROPERTY + "=scalar";
            }
            case "vector" -> {
                kernels = vector();
                reason = "forced by -D" + PROPERTY + "=vector";
            }
            case "" -> {
                if (!vectorModulePresent()) {
                    kernels = scalar();
                    level = Level.WARNING;
                    reason = "module " + VECTOR_MODULE + " absent; start the JVM with --add-modules "
                            + VECTOR_MODULE + " for the vector kernels, ~45x faster";
                } else if (VectorKernels.vectorBits() < 128) {
                    kernels = scalar();
                    level = Level.WARNING;
                    reason = "preferred vectors are only " + VectorKernels.vectorBits() + " bits; ~45x slower than "
                            + "the vector kernels";
                } else {
                    kernels = vector();
                    reason = "module " + VECTOR_MODULE + " present";
                }
            }
            default -> throw new IllegalArgumentException("system property " + PROPERTY
                    + ": expected 'scalar' or 'vector', found '" + forced + "'");
        }
        System.getLogger(KernelsProvider.class.getName())
                .log(level, "kernels: " + kernels.name() + " (" + reason + ")");
        return kernels;
    }
}
