/* F32 matrix-vector kernels, AVX2 + FMA (see ember_f32_gemv_n_fn / _t_fn in
 * dispatch.h). Both stream the matrix once, in its storage order.
 *
 * gemv_n (y = x B, B rows contiguous; also one packed B panel, ldb = nr): a
 * block of up to 32 columns (4 vectors) accumulates over K with the steps
 * unrolled into separate accumulators (8 independent FMA chains), summed at
 * the end; ragged column tails use maskload / maskstore.
 * gemv_t (y = A x, A rows contiguous): 4 rows at a time, 2 accumulators each,
 * horizontal sums at the end; the K tail is masked.
 * Compiled with -mavx2 -mfma. */
#include <immintrin.h>

#include "f32_gemm.h"

static inline __m256i tail_mask(size_t r) { /* lanes < r on (r may exceed 8) */
    const __m256i iota = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    return _mm256_cmpgt_epi32(_mm256_set1_epi32((int)(r < 8 ? r : 8)), iota);
}

static inline __attribute__((always_inline)) __m256 load(const float* p, int masked, __m256i mk) {
    return masked ? _mm256_maskload_ps(p, mk) : _mm256_loadu_ps(p);
}

/* nv vectors of columns (the last one masked when masked), u steps unrolled. */
static inline __attribute__((always_inline)) void gemv_n_block(size_t nv, size_t u, int masked,
                                                               __m256i mk, size_t k, const float* x,
                                                               const float* b, size_t ldb,
                                                               float beta, float* y) {
    __m256 acc[4][4];
    for (size_t s = 0; s < 4; s++)
        for (size_t v = 0; v < 4; v++) acc[s][v] = _mm256_setzero_ps();
    size_t p = 0;
    for (; p + u <= k; p += u)
        for (size_t s = 0; s < u; s++) {
            const __m256 xv = _mm256_broadcast_ss(x + p + s);
            const float* row = b + (p + s) * ldb;
            for (size_t v = 0; v < nv; v++)
                acc[s][v] = _mm256_fmadd_ps(xv, load(row + 8 * v, masked && v + 1 == nv, mk), acc[s][v]);
        }
    for (; p < k; p++) {
        const __m256 xv = _mm256_broadcast_ss(x + p);
        const float* row = b + p * ldb;
        for (size_t v = 0; v < nv; v++)
            acc[0][v] = _mm256_fmadd_ps(xv, load(row + 8 * v, masked && v + 1 == nv, mk), acc[0][v]);
    }
    const __m256 vb = _mm256_set1_ps(beta);
    for (size_t v = 0; v < nv; v++) {
        const int mv = masked && v + 1 == nv;
        __m256 r = acc[0][v];
        for (size_t s = 1; s < u; s++) r = _mm256_add_ps(r, acc[s][v]);
        if (beta == 1.0f)
            r = _mm256_add_ps(r, load(y + 8 * v, mv, mk));
        else if (beta != 0.0f)
            r = _mm256_fmadd_ps(vb, load(y + 8 * v, mv, mk), r);
        if (mv)
            _mm256_maskstore_ps(y + 8 * v, mk, r);
        else
            _mm256_storeu_ps(y + 8 * v, r);
    }
}

void ember_f32_gemv_n__avx2(size_t n, size_t k, const float* x, const float* b, size_t ldb,
                            float beta, float* y) {
    const __m256i all = _mm256_set1_epi32(-1);
    size_t j = 0;
    for (; j + 32 <= n; j += 32) gemv_n_block(4, 2, 0, all, k, x, b + j, ldb, beta, y + j);
    for (; j + 16 <= n; j += 16) gemv_n_block(2, 4, 0, all, k, x, b + j, ldb, beta, y + j);
    const size_t r = n - j;
    if (r == 0) return;
    const __m256i mk = tail_mask(r % 8 ? r % 8 : 8);
    if (r > 8)
        gemv_n_block(2, 4, 1, mk, k, x, b + j, ldb, beta, y + j);
    else
        gemv_n_block(1, 4, 1, mk, k, x, b + j, ldb, beta, y + j);
}

static float hsum(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

static float finish(float acc, float beta, const float* y) {
    if (beta == 0.0f) return acc;
    if (beta == 1.0f) return *y + acc;
    return beta * *y + acc;
}

static inline __attribute__((always_inline)) void gemv_t_rows(size_t rows, size_t k, const float* a,
                                                              size_t lda, const float* x, float beta,
                                                              float* y) {
    __m256 acc[4][2];
    for (size_t i = 0; i < 4; i++) acc[i][0] = acc[i][1] = _mm256_setzero_ps();
    size_t p = 0;
    for (; p + 16 <= k; p += 16) {
        const __m256 x0 = _mm256_loadu_ps(x + p), x1 = _mm256_loadu_ps(x + p + 8);
        for (size_t i = 0; i < rows; i++) {
            acc[i][0] = _mm256_fmadd_ps(_mm256_loadu_ps(a + i * lda + p), x0, acc[i][0]);
            acc[i][1] = _mm256_fmadd_ps(_mm256_loadu_ps(a + i * lda + p + 8), x1, acc[i][1]);
        }
    }
    for (; p < k; p += 8) {
        const __m256i mk = tail_mask(k - p);
        const __m256 x0 = _mm256_maskload_ps(x + p, mk);
        for (size_t i = 0; i < rows; i++)
            acc[i][0] = _mm256_fmadd_ps(_mm256_maskload_ps(a + i * lda + p, mk), x0, acc[i][0]);
    }
    for (size_t i = 0; i < rows; i++)
        y[i] = finish(hsum(_mm256_add_ps(acc[i][0], acc[i][1])), beta, y + i);
}

void ember_f32_gemv_t__avx2(size_t m, size_t k, const float* a, size_t lda, const float* x,
                            float beta, float* y) {
    size_t i = 0;
    for (; i + 4 <= m; i += 4) gemv_t_rows(4, k, a + i * lda, lda, x, beta, y + i);
    for (; i < m; i++) gemv_t_rows(1, k, a + i * lda, lda, x, beta, y + i);
}
