/* The GEMM's B packing (ember_f32_pack_b_fn) for panels of 8 or 16 columns,
 * AVX2, as the AVX-512 one (f32_gemm_pack_b_avx512.c): rows contiguous by
 * whole-vector copies (masked loads at a partial panel, zeros past n),
 * columns contiguous (B^T) by 8 x 8 register transposes; other strides to the
 * portable code. A copy: the same bytes. Compiled with -mavx2 -mfma. */
#include <immintrin.h>

#include "dispatch.h"
#include "f32_gemm.h"
#include "f32_tr8_avx2.h"

/* Lanes [0, n) of 8 as a maskload mask. */
static inline __m256i first(size_t n) {
    const __m256i i = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    return _mm256_cmpgt_epi32(_mm256_set1_epi32((int)(n < 8 ? n : 8)), i);
}

/* 8 floats from p, lanes past n 0 (only p[0 .. n) read) */
static inline __m256 load_n(const float* p, size_t n) {
    return n >= 8 ? _mm256_loadu_ps(p) : n ? _mm256_maskload_ps(p, first(n)) : _mm256_setzero_ps();
}

/* Columns contiguous: column j at b + j * cs. 8 columns by 8 steps a tile
 * (nr a multiple of 8; columns past cols 0). */
static void pack_transposed(size_t nr, size_t cols, size_t kc, const float* b, size_t cs,
                            float* dst) {
    __m256 r[8];
    for (size_t j0 = 0; j0 < nr; j0 += 8) {
        const size_t nj = cols > j0 ? (cols - j0 < 8 ? cols - j0 : 8) : 0;
        for (size_t p = 0; p < kc; p += 8) {
            const size_t np = kc - p < 8 ? kc - p : 8;
            for (size_t j = 0; j < 8; j++)
                r[j] = j < nj ? load_n(b + (j0 + j) * cs + p, np) : _mm256_setzero_ps();
            tr8(r);
            for (size_t k = 0; k < np; k++) _mm256_storeu_ps(dst + (p + k) * nr + j0, r[k]);
        }
    }
}

void ember_f32_gemm_pack_b__avx2(size_t nr, size_t n, size_t kc, const float* b, size_t rs,
                                 size_t cs, float* dst) {
    if (nr > 16 || nr % 8 != 0 || (cs != 1 && rs != 1)) {
        ember_f32_gemm_pack_b__scalar(nr, n, kc, b, rs, cs, dst);
        return;
    }
    for (size_t j0 = 0; j0 < n; j0 += nr, dst += kc * nr) {
        const size_t cols = n - j0 < nr ? n - j0 : nr;
        if (cs != 1) {
            pack_transposed(nr, cols, kc, b + j0 * cs, cs, dst);
            continue;
        }
        const float* src = b + j0;
        if (cols == nr) {
            for (size_t p = 0; p < kc; p++, src += rs)
                for (size_t j = 0; j < nr; j += 8)
                    _mm256_storeu_ps(dst + p * nr + j, _mm256_loadu_ps(src + j));
            continue;
        }
        for (size_t p = 0; p < kc; p++, src += rs) /* columns past n: 0 */
            for (size_t j = 0; j < nr; j += 8)
                _mm256_storeu_ps(dst + p * nr + j, load_n(src + j, cols > j ? cols - j : 0));
    }
}
