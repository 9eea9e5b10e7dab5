/* IEEE binary16 <-> binary32 by bit manipulation: exact on every host, no
 * dependence on the FPU's rounding mode or on _Float16 support. */
#include <string.h>

#include "generic/elementwise_ref.h"

static inline uint32_t f32_bits(float x) {
    uint32_t u;
    memcpy(&u, &x, sizeof u);
    return u;
}

static inline float f32_from_bits(uint32_t u) {
    float x;
    memcpy(&x, &u, sizeof x);
    return x;
}

uint16_t ember_f32_to_f16(float x) {
    const uint32_t u = f32_bits(x);
    const uint16_t sign = (uint16_t)((u >> 16) & 0x8000u);
    const uint32_t ax = u & 0x7FFFFFFFu;

    if (ax >= 0x7F800000u) { /* inf or NaN */
        if (ax == 0x7F800000u) return sign | 0x7C00u;
        return (uint16_t)(sign | 0x7E00u | ((ax >> 13) & 0x3FFu)); /* quiet NaN, top payload */
    }
    if (ax >= 0x477FF000u) return sign | 0x7C00u; /* >= 65520 rounds to inf */
    if (ax >= 0x38800000u) {                      /* normal binary16 (>= 2^-14) */
        uint32_t r = (ax - 0x38000000u) >> 13;    /* rebias 127 -> 15, keep 10 bits */
        const uint32_t rem = ax & 0x1FFFu;
        if (rem > 0x1000u || (rem == 0x1000u && (r & 1u))) r++; /* may carry into exponent */
        return (uint16_t)(sign | r);
    }
    /* Subnormal binary16 or zero: units of 2^-24. x = mant * 2^(e - 150), so
     * x / 2^-24 = mant >> (126 - e). */
    const uint32_t e = ax >> 23;
    if (e < 102) return sign; /* below 2^-25 (f32 subnormals included): rounds to 0 */
    const uint32_t mant = (ax & 0x7FFFFFu) | 0x800000u;
    const uint32_t shift = 126 - e; /* 14 .. 24 */
    uint32_t r = mant >> shift;
    const uint32_t rem = mant & ((1u << shift) - 1u);
    const uint32_t half = 1u << (shift - 1);
    if (rem > half || (rem == half && (r & 1u))) r++;
    return (uint16_t)(sign | r);
}

float ember_f16_to_f32(uint16_t h) {
    const uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    const uint32_t e = (h >> 10) & 0x1Fu;
    const uint32_t m = h & 0x3FFu;
    if (e == 0) {
        if (m == 0) return f32_from_bits(sign);
        /* m * 2^-24 is exact in binary32 */
        return f32_from_bits(sign | f32_bits((float)m * 0x1p-24f));
    }
    if (e == 31) {
        if (m == 0) return f32_from_bits(sign | 0x7F800000u);
        return f32_from_bits(sign | 0x7FC00000u | (m << 13));
    }
    return f32_from_bits(sign | ((e + 112u) << 23) | (m << 13));
}

void ember_f32_to_f16_ref(size_t n, const float* x, uint16_t* y) {
    for (size_t i = 0; i < n; i++) y[i] = ember_f32_to_f16(x[i]);
}

void ember_f16_to_f32_ref(size_t n, const uint16_t* x, float* y) {
    for (size_t i = 0; i < n; i++) y[i] = ember_f16_to_f32(x[i]);
}
