/* F32 matrix-vector kernels, AVX-512F (see ember_f32_gemv_n_fn / _t_fn in
 * dispatch.h). Both stream the matrix once, in its storage order.
 *
 * gemv_n (y = x B, B rows contiguous; also one packed B panel, ldb = nr): a
 * block of up to 64 columns (4 vectors) accumulates over K with the steps
 * unrolled by 4 into separate accumulators (up to 16 independent FMA chains),
 * summed at the end; ragged column tails use masked loads and stores.
 * gemv_t (y = A x, A rows contiguous): 4 rows at a time, 2 accumulators each,
 * horizontal sums at the end; the K tail is masked.
 * Compiled with -mavx512f -mavx512bw -mavx512vl -mfma. */
#include <immintrin.h>

#include "f32_gemm.h"

#define U 4

static inline __attribute__((always_inline)) void gemv_n_block(size_t nv, __mmask16 mlast, size_t k,
                                                               const float* x, const float* b,
                                                               size_t ldb, float beta, float* y) {
    __m512 acc[U][4];
    for (size_t u = 0; u < U; u++)
        for (size_t v = 0; v < 4; v++) acc[u][v] = _mm512_setzero_ps();
    size_t p = 0;
    for (; p + U <= k; p += U)
        for (size_t u = 0; u < U; u++) {
            const __m512 xv = _mm512_set1_ps(x[p + u]);
            const float* row = b + (p + u) * ldb;
            for (size_t v = 0; v < nv; v++)
                acc[u][v] = _mm512_fmadd_ps(
                    xv, _mm512_maskz_loadu_ps(v + 1 == nv ? mlast : (__mmask16)0xFFFF, row + 16 * v),
                    acc[u][v]);
        }
    for (; p < k; p++) {
        const __m512 xv = _mm512_set1_ps(x[p]);
        const float* row = b + p * ldb;
        for (size_t v = 0; v < nv; v++)
            acc[0][v] = _mm512_fmadd_ps(
                xv, _mm512_maskz_loadu_ps(v + 1 == nv ? mlast : (__mmask16)0xFFFF, row + 16 * v),
                acc[0][v]);
    }
    const __m512 vb = _mm512_set1_ps(beta);
    for (size_t v = 0; v < nv; v++) {
        const __mmask16 mk = v + 1 == nv ? mlast : (__mmask16)0xFFFF;
        __m512 r = _mm512_add_ps(_mm512_add_ps(acc[0][v], acc[1][v]), _mm512_add_ps(acc[2][v], acc[3][v]));
        if (beta == 1.0f)
            r = _mm512_add_ps(r, _mm512_maskz_loadu_ps(mk, y + 16 * v));
        else if (beta != 0.0f)
            r = _mm512_fmadd_ps(vb, _mm512_maskz_loadu_ps(mk, y + 16 * v), r);
        _mm512_mask_storeu_ps(y + 16 * v, mk, r);
    }
}

void ember_f32_gemv_n__avx512(size_t n, size_t k, const float* x, const float* b, size_t ldb,
                              float beta, float* y) {
    size_t j = 0;
    for (; j + 64 <= n; j += 64) gemv_n_block(4, 0xFFFF, k, x, b + j, ldb, beta, y + j);
    const size_t r = n - j;
    if (r == 0) return;
    const __mmask16 ml = r % 16 ? (__mmask16)((1u << (r % 16)) - 1u) : (__mmask16)0xFFFF;
    switch ((r + 15) / 16) {
    case 1: gemv_n_block(1, ml, k, x, b + j, ldb, beta, y + j); break;
    case 2: gemv_n_block(2, ml, k, x, b + j, ldb, beta, y + j); break;
    case 3: gemv_n_block(3, ml, k, x, b + j, ldb, beta, y + j); break;
    default: gemv_n_block(4, ml, k, x, b + j, ldb, beta, y + j); break;
    }
}

static float finish(float acc, float beta, const float* y) {
    if (beta == 0.0f) return acc;
    if (beta == 1.0f) return *y + acc;
    return beta * *y + acc;
}

static inline __attribute__((always_inline)) void gemv_t_rows(size_t rows, size_t k, const float* a,
                                                              size_t lda, const float* x, float beta,
                                                              float* y) {
    __m512 acc[4][2];
    for (size_t i = 0; i < 4; i++) acc[i][0] = acc[i][1] = _mm512_setzero_ps();
    size_t p = 0;
    for (; p + 32 <= k; p += 32) {
        const __m512 x0 = _mm512_loadu_ps(x + p), x1 = _mm512_loadu_ps(x + p + 16);
        for (size_t i = 0; i < rows; i++) {
            acc[i][0] = _mm512_fmadd_ps(_mm512_loadu_ps(a + i * lda + p), x0, acc[i][0]);
            acc[i][1] = _mm512_fmadd_ps(_mm512_loadu_ps(a + i * lda + p + 16), x1, acc[i][1]);
        }
    }
    for (; p < k; p += 16) {
        const size_t r = k - p;
        const __mmask16 mk = r >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << r) - 1u);
        const __m512 x0 = _mm512_maskz_loadu_ps(mk, x + p);
        for (size_t i = 0; i < rows; i++)
            acc[i][0] = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(mk, a + i * lda + p), x0, acc[i][0]);
    }
    for (size_t i = 0; i < rows; i++)
        y[i] = finish(_mm512_reduce_add_ps(_mm512_add_ps(acc[i][0], acc[i][1])), beta, y + i);
}

void ember_f32_gemv_t__avx512(size_t m, size_t k, const float* a, size_t lda, const float* x,
                              float beta, float* y) {
    size_t i = 0;
    for (; i + 4 <= m; i += 4) gemv_t_rows(4, k, a + i * lda, lda, x, beta, y + i);
    for (; i < m; i++) gemv_t_rows(1, k, a + i * lda, lda, x, beta, y + i);
}
