/* The GEMM's A packing (ember_f32_pack_a_fn) for panels of up to 16 rows with
 * contiguous rows, AVX-512F: 16 columns of up to 16 rows transposed in
 * registers a step, each of the tile's columns stored as one panel step (mr
 * floats). A MatMul's activations are packed on every run (a transformer's
 * products spent 4 % of its time in the portable packing); other layouts and
 * wider panels take the portable code. The same one multiplication by alpha
 * per element as the portable code: the same bytes. Compiled with -mavx512f
 * -mavx512bw -mavx512vl -mfma. */
#include <immintrin.h>

#include "dispatch.h"
#include "f32_gemm.h"
#include "f32_tr16_avx512.h"

/* A whole panel of 12 rows, 16 steps at a time, no scaling (alpha 1: every
 * MatMul's activations): the rows past 12 are constant zeros, so the
 * transpose's operations on them fold away, and the multiply is skipped.
 * The same bytes as the general loop below. */
static void panel12(size_t kc, const float* ap, size_t rs, float* dst) {
    const __mmask16 out = (__mmask16)0x0FFF;
    __m512 r[16];
    size_t p = 0;
    for (; p + 16 <= kc; p += 16) {
#pragma GCC unroll 16
        for (size_t i = 0; i < 16; i++)
            r[i] = i < 12 ? _mm512_loadu_ps(ap + i * rs + p) : _mm512_setzero_ps();
        tr16(r);
#pragma GCC unroll 16
        for (size_t k = 0; k < 16; k++) _mm512_mask_storeu_ps(dst + (p + k) * 12, out, r[k]);
    }
    if (p < kc) {
        const size_t n = kc - p;
        const __mmask16 in = (__mmask16)((1u << n) - 1u);
#pragma GCC unroll 16
        for (size_t i = 0; i < 16; i++)
            r[i] = i < 12 ? _mm512_maskz_loadu_ps(in, ap + i * rs + p) : _mm512_setzero_ps();
        tr16(r);
        for (size_t k = 0; k < n; k++) _mm512_mask_storeu_ps(dst + (p + k) * 12, out, r[k]);
    }
}

void ember_f32_gemm_pack_a__avx512(size_t mr, size_t m, size_t kc, float alpha, const float* a,
                                   size_t rs, size_t cs, float* dst) {
    if (cs != 1 || mr > 16) {
        ember_f32_gemm_pack_a__scalar(mr, m, kc, alpha, a, rs, cs, dst);
        return;
    }
    const __m512 va = _mm512_set1_ps(alpha);
    const __mmask16 out = (__mmask16)((1u << mr) - 1u);
    __m512 r[16];
    for (size_t i0 = 0; i0 < m; i0 += mr, dst += kc * mr) {
        const size_t rows = m - i0 < mr ? m - i0 : mr;
        const float* ap = a + i0 * rs;
        if (mr == 12 && rows == 12 && alpha == 1.0f) {
            panel12(kc, ap, rs, dst);
            continue;
        }
        for (size_t p = 0; p < kc; p += 16) {
            const size_t n = kc - p < 16 ? kc - p : 16;
            const __mmask16 in = (__mmask16)((1u << n) - 1u);
#pragma GCC unroll 16
            for (size_t i = 0; i < 16; i++)
                r[i] = i < rows ? _mm512_mul_ps(va, _mm512_maskz_loadu_ps(in, ap + i * rs + p))
                                : _mm512_setzero_ps();
            tr16(r);
            for (size_t k = 0; k < n; k++) _mm512_mask_storeu_ps(dst + (p + k) * mr, out, r[k]);
        }
    }
}
