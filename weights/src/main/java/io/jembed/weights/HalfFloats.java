package io.jembed.weights;

/**
 * Conversions between F32 and the two 16-bit float formats stored in safetensors files.
 *
 * <p>F16 is IEEE 754 binary16 (the JDK converts it exactly). BF16 is the upper half of an F32:
 * widening is a shift; narrowing rounds to nearest, ties to even, and keeps NaN a NaN.
 */
public final class HalfFloats {

    private HalfFloats() {
    }

    /** IEEE binary16 bits to the equal F32 value (exact). */
    public static float f16ToF32(short bits) {
        return Float.float16ToFloat(bits);
    }

    /** F32 to the nearest IEEE binary16 (ties to even; overflow becomes infinity). */
    public static short f32ToF16(float value) {
        return Float.floatToFloat16(value);
    }

    /** BF16 bits to the equal F32 value (exact). */
    public static float bf16ToF32(short bits) {
        return Float.intBitsToFloat((bits & 0xFFFF) << 16);
    }

    /** F32 to the nearest BF16 (ties to even; NaN stays a quiet NaN with its sign). */
    public static short f32ToBf16(float value) {
        int bits = Float.floatToRawIntBits(value);
        if (Float.isNaN(value)) {
            // Rounding could carry a NaN payload into the exponent and make it infinity.
            return (short) ((bits >>> 16) | 0x0040);
        }
        int lsb = (bits >>> 16) & 1;
        int rounded = bits + 0x7FFF + lsb;
        return (short) (rounded >>> 16);
    }
}
