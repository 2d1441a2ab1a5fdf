package io.jembed.weights;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class HalfFloatsTest {

    @Test
    void f16KnownValues() {
        assertEquals(0x3C00, HalfFloats.f32ToF16(1f));
        assertEquals((short) 0xC000, HalfFloats.f32ToF16(-2f));
        assertEquals(0x7BFF, HalfFloats.f32ToF16(65504f));
        assertEquals(0x7C00, HalfFloats.f32ToF16(65520f)); // rounds past the largest finite F16
        assertEquals(0x2E66, HalfFloats.f32ToF16(0.1f));
        assertEquals(0.0999755859375f, HalfFloats.f16ToF32((short) 0x2E66));
        assertEquals(0x1p-24f, HalfFloats.f16ToF32((short) 0x0001));
        assertEquals(Float.POSITIVE_INFINITY, HalfFloats.f16ToF32((short) 0x7C00));
    }

    @Test
    void bf16KnownValues() {
        assertEquals(0x3F80, HalfFloats.f32ToBf16(1f));
        assertEquals((short) 0xC000, HalfFloats.f32ToBf16(-2f));
        assertEquals(0x4049, HalfFloats.f32ToBf16((float) Math.PI));
        assertEquals(3.140625f, HalfFloats.bf16ToF32((short) 0x4049));
        assertEquals(Float.NEGATIVE_INFINITY, HalfFloats.bf16ToF32((short) 0xFF80));
    }

    @Test
    void bf16RoundsToNearestTiesToEven() {
        // 0x3F808000 is exactly halfway between 0x3F80 and 0x3F81: ties go to the even 0x3F80.
        assertEquals(0x3F80, HalfFloats.f32ToBf16(Float.intBitsToFloat(0x3F808000)));
        // 0x3F818000 is halfway between 0x3F81 and 0x3F82: ties go to the even 0x3F82.
        assertEquals(0x3F82, HalfFloats.f32ToBf16(Float.intBitsToFloat(0x3F818000)));
        assertEquals(0x3F81, HalfFloats.f32ToBf16(Float.intBitsToFloat(0x3F808001)));
        // The largest finite F32 rounds up to infinity.
        assertEquals(0x7F80, HalfFloats.f32ToBf16(Float.MAX_VALUE));
    }

    @Test
    void bf16NanStaysNan() {
        // A NaN whose payload is only in the low half would round into infinity without care.
        float lowPayloadNan = Float.intBitsToFloat(0x7F800001);
        assertTrue(Float.isNaN(HalfFloats.bf16ToF32(HalfFloats.f32ToBf16(lowPayloadNan))));
        assertTrue(Float.isNaN(HalfFloats.bf16ToF32(HalfFloats.f32ToBf16(Float.NaN))));
    }

    @Test
    void everyHalfPatternRoundTripsThroughF32() {
        for (int bits = 0; bits <= 0xFFFF; bits++) {
            short half = (short) bits;
            float bf = HalfFloats.bf16ToF32(half);
            if (!Float.isNaN(bf)) {
                assertEquals(half, HalfFloats.f32ToBf16(bf), "bf16 0x" + Integer.toHexString(bits));
            }
            float f = HalfFloats.f16ToF32(half);
            if (!Float.isNaN(f)) {
                assertEquals(half, HalfFloats.f32ToF16(f), "f16 0x" + Integer.toHexString(bits));
            }
        }
    }
}
