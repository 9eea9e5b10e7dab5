/* F32 channel-blocked depthwise convolution, AVX-512F, blocks of 16 channels;
 * the body is x86/f32_dwconv_blocked_tmpl.h. Compiled with -mavx512f -mfma. */
#include <immintrin.h>

#define DWB_L 16
#define DWB_COLS 8
#define DWB_VEC __m512
#define DWB_LOAD(p) _mm512_loadu_ps(p)
#define DWB_STORE(p, v) _mm512_storeu_ps(p, v)
#define DWB_ADD(a, b) _mm512_add_ps(a, b)
#define DWB_MUL(a, b) _mm512_mul_ps(a, b)
#define DWB_ZERO() _mm512_setzero_ps()
#define DWB_FN ember_f32_dwconv_blocked__avx512

#include "f32_dwconv_blocked_tmpl.h"

/* ---- the layout changes around the kernel (ember_f32_dwconv_gather_fn and
 * ember_f32_dwconv_scatter_fn): 16 x 16 tiles transposed in registers ---- */

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

void ember_f32_dwconv_gather__avx512(size_t nb, size_t n, const float* x, size_t stride,
                                     float* xb) {
    __m512 r[16];
    size_t p = 0;
    for (; p + 16 <= n; p += 16) {
        for (size_t l = 0; l < 16; l++)
            r[l] = l < nb ? _mm512_loadu_ps(x + l * stride + p) : _mm512_setzero_ps();
        tr16(r);
        for (int k = 0; k < 16; k++) _mm512_storeu_ps(xb + (p + (size_t)k) * 16, r[k]);
    }
    if (p < n) {
        const size_t m = n - p;
        const __mmask16 mk = (__mmask16)((1u << m) - 1u);
        for (size_t l = 0; l < 16; l++)
            r[l] = l < nb ? _mm512_maskz_loadu_ps(mk, x + l * stride + p) : _mm512_setzero_ps();
        tr16(r);
        for (size_t k = 0; k < m; k++) _mm512_storeu_ps(xb + (p + k) * 16, r[k]);
    }
}

void ember_f32_dwconv_scatter__avx512(size_t nb, size_t n, const float* yb, float* y,
                                      size_t stride) {
    __m512 r[16];
    size_t p = 0;
    for (; p + 16 <= n; p += 16) {
        for (int k = 0; k < 16; k++) r[k] = _mm512_loadu_ps(yb + (p + (size_t)k) * 16);
        tr16(r);
        for (size_t l = 0; l < nb; l++) _mm512_storeu_ps(y + l * stride + p, r[l]);
    }
    if (p < n) {
        const size_t m = n - p;
        const __mmask16 mk = (__mmask16)((1u << m) - 1u);
        for (size_t k = 0; k < 16; k++)
            r[k] = k < m ? _mm512_loadu_ps(yb + (p + k) * 16) : _mm512_setzero_ps();
        tr16(r);
        for (size_t l = 0; l < nb; l++) _mm512_mask_storeu_ps(y + l * stride + p, mk, r[l]);
    }
}
