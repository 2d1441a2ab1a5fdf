package io.jembed.core.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The one float species the vector kernels are compiled for, fixed per JVM: a constant, so C2
 * turns every Vector API call into machine vectors. The JVM's preferred width unless the system
 * property {@value #PROPERTY} forces 128, 256 or 512 bits (for tests at other widths; the index
 * kernels read the same property).
 */
final class VectorWidth {

    static final String PROPERTY = "jembed.vectorBits";

    static final VectorSpecies<Float> SPECIES = choose(System.getProperty(PROPERTY));

    private VectorWidth() {
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
