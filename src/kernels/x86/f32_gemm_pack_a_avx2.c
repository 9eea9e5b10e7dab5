/* The GEMM's A packing (ember_f32_pack_a_fn) for panels of up to 8 rows with
 * contiguous rows, AVX2: 8 columns of up to 8 rows transposed in registers a
 * step, then each of the tile's columns stored as one panel step (mr floats:
 * whole 8-float stores in order, each overwriting the previous one's spare
 * lanes; the steps near the output's end stored exactly). A MatMul's activations are
 * packed on every run: the portable packing was 4 % of the transformer's run
 * on this path. Other layouts and wider panels take the portable code. The
 * same one multiplication by alpha per element: the same bytes. Compiled
 * with -mavx2 -mfma. */
#include <immintrin.h>
#include <string.h>

#include "dispatch.h"
#include "f32_gemm.h"
#include "f32_tr8_avx2.h"

/* Lanes [0, n) of 8 as a maskload mask. */
static inline __m256i first(size_t n) {
    const __m256i i = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    return _mm256_cmpgt_epi32(_mm256_set1_epi32((int)n), i);
}

void ember_f32_gemm_pack_a__avx2(size_t mr, size_t m, size_t kc, float alpha, const float* a,
                                 size_t rs, size_t cs, float* dst) {
    if (cs != 1 || mr > 8) {
        ember_f32_gemm_pack_a__scalar(mr, m, kc, alpha, a, rs, cs, dst);
        return;
    }
    const __m256 va = _mm256_set1_ps(alpha);
    const float* end = dst + (m + mr - 1) / mr * kc * mr; /* the packed panels' end */
    __m256 r[8];
    for (size_t i0 = 0; i0 < m; i0 += mr, dst += kc * mr) {
        const size_t rows = m - i0 < mr ? m - i0 : mr;
        const float* ap = a + i0 * rs;
        for (size_t p = 0; p < kc; p += 8) {
            const size_t n = kc - p < 8 ? kc - p : 8;
            const __m256i in = first(n);
#pragma GCC unroll 8
            for (size_t i = 0; i < 8; i++)
                r[i] = i < rows ? _mm256_mul_ps(va, n == 8 ? _mm256_loadu_ps(ap + i * rs + p)
                                                           : _mm256_maskload_ps(ap + i * rs + p, in))
                                : _mm256_setzero_ps();
            tr8(r);
            /* step p + k at dst + (p + k) mr: 8 floats each, the later steps'
             * (and panels') stores overwriting the spare 8 - mr; near the
             * end of the output, exactly mr */
            for (size_t k = 0; k < n; k++) {
                float* d = dst + (p + k) * mr;
                if (d + 8 <= end) {
                    _mm256_storeu_ps(d, r[k]);
                } else {
                    float tmp[8] __attribute__((aligned(32)));
                    _mm256_store_ps(tmp, r[k]);
                    memcpy(d, tmp, mr * sizeof(float));
                }
            }
        }
    }
}
