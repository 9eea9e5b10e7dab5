/* F32 GEMM micro-kernel, 6x16 register tile, AVX2 + FMA: 12 ymm accumulators,
 * two B vectors and one broadcast of A a step. Compiled with -mavx2 -mfma. */
#include <immintrin.h>

#include "f32_gemm.h"

#define MR 6
#define NR 16

/* The body, shared by the plain and the epilogue entry (ep NULL: none). */
static inline __attribute__((always_inline)) void ukernel(size_t m, size_t n, size_t kc,
                                                          const float* a, const float* b,
                                                          float beta, float* c, size_t ldc,
                                                          const ember_f32_gemm_epilogue* ep) {
    __m256 c00 = _mm256_setzero_ps(), c01 = _mm256_setzero_ps();
    __m256 c10 = _mm256_setzero_ps(), c11 = _mm256_setzero_ps();
    __m256 c20 = _mm256_setzero_ps(), c21 = _mm256_setzero_ps();
    __m256 c30 = _mm256_setzero_ps(), c31 = _mm256_setzero_ps();
    __m256 c40 = _mm256_setzero_ps(), c41 = _mm256_setzero_ps();
    __m256 c50 = _mm256_setzero_ps(), c51 = _mm256_setzero_ps();
    if (beta != 0.0f) /* C is read at the end: start fetching it now */
        for (size_t i = 0; i < m; i++) {
            _mm_prefetch((const char*)(c + i * ldc), _MM_HINT_T0);
            _mm_prefetch((const char*)(c + i * ldc + n - 1), _MM_HINT_T0);
        }
    for (size_t p = 0; p < kc; p++, a += MR, b += NR) {
        const __m256 b0 = _mm256_loadu_ps(b), b1 = _mm256_loadu_ps(b + 8);
        __m256 av = _mm256_broadcast_ss(a + 0);
        c00 = _mm256_fmadd_ps(av, b0, c00);
        c01 = _mm256_fmadd_ps(av, b1, c01);
        av = _mm256_broadcast_ss(a + 1);
        c10 = _mm256_fmadd_ps(av, b0, c10);
        c11 = _mm256_fmadd_ps(av, b1, c11);
        av = _mm256_broadcast_ss(a + 2);
        c20 = _mm256_fmadd_ps(av, b0, c20);
        c21 = _mm256_fmadd_ps(av, b1, c21);
        av = _mm256_broadcast_ss(a + 3);
        c30 = _mm256_fmadd_ps(av, b0, c30);
        c31 = _mm256_fmadd_ps(av, b1, c31);
        av = _mm256_broadcast_ss(a + 4);
        c40 = _mm256_fmadd_ps(av, b0, c40);
        c41 = _mm256_fmadd_ps(av, b1, c41);
        av = _mm256_broadcast_ss(a + 5);
        c50 = _mm256_fmadd_ps(av, b0, c50);
        c51 = _mm256_fmadd_ps(av, b1, c51);
    }
    __m256 acc[MR][2] = {{c00, c01}, {c10, c11}, {c20, c21}, {c30, c31}, {c40, c41}, {c50, c51}};
    if (m == MR && n == NR) {
        const __m256 vb = _mm256_set1_ps(beta);
        for (size_t i = 0; i < MR; i++, c += ldc) {
            __m256 r0 = acc[i][0], r1 = acc[i][1];
            if (beta == 1.0f) {
                r0 = _mm256_add_ps(r0, _mm256_loadu_ps(c));
                r1 = _mm256_add_ps(r1, _mm256_loadu_ps(c + 8));
            } else if (beta != 0.0f) {
                r0 = _mm256_fmadd_ps(vb, _mm256_loadu_ps(c), r0);
                r1 = _mm256_fmadd_ps(vb, _mm256_loadu_ps(c + 8), r1);
            }
            if (ep) {
                if (ep->bias) {
                    const __m256 bi = _mm256_set1_ps(ep->bias[i]);
                    r0 = _mm256_add_ps(r0, bi);
                    r1 = _mm256_add_ps(r1, bi);
                }
                /* max(lo, r) returns r when r is NaN, as the reference's r < lo ? lo : r */
                const __m256 lo = _mm256_set1_ps(ep->lo), hi = _mm256_set1_ps(ep->hi);
                r0 = _mm256_min_ps(hi, _mm256_max_ps(lo, r0));
                r1 = _mm256_min_ps(hi, _mm256_max_ps(lo, r1));
                if (ep->zero_plus) {
                    r0 = _mm256_add_ps(r0, _mm256_setzero_ps());
                    r1 = _mm256_add_ps(r1, _mm256_setzero_ps());
                }
            }
            _mm256_storeu_ps(c, r0);
            _mm256_storeu_ps(c + 8, r1);
        }
        return;
    }
    /* Partial tile: spill the accumulators and write the m x n corner. */
    float tile[MR][NR];
    for (size_t i = 0; i < MR; i++) {
        _mm256_storeu_ps(tile[i], acc[i][0]);
        _mm256_storeu_ps(tile[i] + 8, acc[i][1]);
    }
    for (size_t i = 0; i < m; i++, c += ldc) {
        if (beta == 0.0f) {
            for (size_t j = 0; j < n; j++) c[j] = tile[i][j];
        } else if (beta == 1.0f) {
            for (size_t j = 0; j < n; j++) c[j] += tile[i][j];
        } else {
            for (size_t j = 0; j < n; j++) c[j] = beta * c[j] + tile[i][j];
        }
        if (ep) ember_f32_gemm_epilogue_row(ep, i, c, n);
    }
}

void ember_f32_gemm_ukernel_6x16__avx2(size_t m, size_t n, size_t kc, const float* a,
                                       const float* b, float beta, float* c, size_t ldc) {
    ukernel(m, n, kc, a, b, beta, c, ldc, NULL);
}

void ember_f32_gemm_ukernel_ep_6x16__avx2(size_t m, size_t n, size_t kc, const float* a,
                                          const float* b, float beta, float* c, size_t ldc,
                                          const ember_f32_gemm_epilogue* ep) {
    ukernel(m, n, kc, a, b, beta, c, ldc, ep);
}
