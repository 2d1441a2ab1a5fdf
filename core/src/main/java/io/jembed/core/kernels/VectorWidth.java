package io.jembed.core.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * The one float species the vector kernels are compiled for, fixed per JVM: a constant, so C2
 * turns every Vector API call into machine vectors. The JVM's preferred width unless the system
 * property {@value #PROPERTY} forces 128, 256 or 512 bits (for tests at other widths; the index
 * kernels read the same property).
 *
 * <p>It also holds the one lane sum every kernel uses, {@link #sumLanes}: a fixed tree of rotations.
 * {@code reduceLanes(ADD)} is not used anywhere because its order is the implementation's choice and
 * differs between the interpreter, C1 and C2, so a text's vector would change bits as the JVM warms up.
 */
final class VectorWidth {

    static final String PROPERTY = "jembed.vectorBits";

    static final VectorSpecies<Float> SPECIES = choose(System.getProperty(PROPERTY));

    private static final int LANES = SPECIES.length();
    // Lane rotations for the fixed-tree lane sum, by 8, 4, 2 and 1 lanes (null where too wide).
    private static final VectorShuffle<Float> ROTATE_8 = rotation(8);
    private static final VectorShuffle<Float> ROTATE_4 = rotation(4);
    private static final VectorShuffle<Float> ROTATE_2 = rotation(2);
    private static final VectorShuffle<Float> ROTATE_1 = rotation(1);

    private VectorWidth() {
    }

    private static VectorShuffle<Float> rotation(int by) {
        return by < LANES ? VectorShuffle.fromOp(SPECIES, i -> (i + by) % LANES) : null;
    }

    /**
     * Sum of the lanes of v in a fixed tree (halves, then quarters, ...): the same float in the
     * interpreter, in C1 and in C2, whatever the JIT has compiled so far.
     */
    static float sumLanes(FloatVector v) {
        if (LANES > 8) {
            v = v.add(v.rearrange(ROTATE_8));
        }
        if (LANES > 4) {
            v = v.add(v.rearrange(ROTATE_4));
        }
        v = v.add(v.rearrange(ROTATE_2));
        v = v.add(v.rearrange(ROTATE_1));
        return v.lane(0);
    }

    static VectorSpecies<Float> choose(String bits) {
        if (bits == null || bits.isBlank()) {
            return FloatVector.SPECIES_PREFERRED;
        }
        return switch (bits.trim()) {
            case "128" -> FloatVector.SPECIES_128;
            case "256" -> FloatVector.SPECIES_256;
            case "512" -> FloatVector.SPECIES_512;
            default -> throw new IllegalArgumentException("system property " + PROPERTY
                    + ": expected 128, 256 or 512, found '" + bits + "'");
        };
    }
}
