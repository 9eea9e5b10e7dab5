/* A 16 x 16 tile of floats transposed in registers, AVX-512F: shared by the
 * layout changes around the blocked kernels and the GEMM's A packing. */
#ifndef EMBER_F32_TR16_AVX512_H
#define EMBER_F32_TR16_AVX512_H

#include <immintrin.h>

/* r[i] row i of a 16 x 16 tile -> r[j] column j. 32-bit then 64-bit
 * interleaves within 128-bit lanes, then two rounds of lane shuffles. */
static inline __attribute__((always_inline)) void tr16(__m512 r[16]) {
    __m512 t[16], u[16];
    for (int i = 0; i < 8; i++) {
        t[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
        t[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
    }
    /* u[4i + k], lane j: rows 4i .. 4i + 3 of column 4j + k */
    for (int i = 0; i < 4; i++) {
        const __m512d a = _mm512_castps_pd(t[4 * i]), b = _mm512_castps_pd(t[4 * i + 1]);
        const __m512d c = _mm512_castps_pd(t[4 * i + 2]), d = _mm512_castps_pd(t[4 * i + 3]);
        u[4 * i] = _mm512_castpd_ps(_mm512_unpacklo_pd(a, c));
        u[4 * i + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(a, c));
        u[4 * i + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(b, d));
        u[4 * i + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(b, d));
    }
    for (int k = 0; k < 4; k++) {
        const __m512 v0 = _mm512_shuffle_f32x4(u[k], u[4 + k], 0x88);
        const __m512 v1 = _mm512_shuffle_f32x4(u[k], u[4 + k], 0xDD);
        const __m512 w0 = _mm512_shuffle_f32x4(u[8 + k], u[12 + k], 0x88);
        const __m512 w1 = _mm512_shuffle_f32x4(u[8 + k], u[12 + k], 0xDD);
        r[k] = _mm512_shuffle_f32x4(v0, w0, 0x88);
        r[4 + k] = _mm512_shuffle_f32x4(v1, w1, 0x88);
        r[8 + k] = _mm512_shuffle_f32x4(v0, w0, 0xDD);
        r[12 + k] = _mm512_shuffle_f32x4(v1, w1, 0xDD);
    }
}

#endif
