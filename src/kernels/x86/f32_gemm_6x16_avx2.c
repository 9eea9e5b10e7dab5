/* F32 GEMM micro-kernel, 6x16 register tile, AVX2 + FMA: 12 ymm accumulators,
 * two B vectors and one broadcast of A a step. Compiled with -mavx2 -mfma. */
#include <immintrin.h>
#include <string.h>

#include "f32_gemm.h"
#include "f32_vec_avx2.h"
#include "f32_vact_tmpl.h"

#define MR 6
#define NR 16

/* ep's pass on row i of the tile, the two vectors of its 16 columns: bias,
 * clamp, then the activation act (ep->act, a constant where it is inlined)
 * with the elementwise kernels' formulas (f32_vact_tmpl.h), so the fused tile
 * equals the unfused passes bit for bit. */
static inline __attribute__((always_inline)) void epilogue(const ember_f32_gemm_epilogue* ep,
                                                           ember_f32_gemm_act act, size_t i,
                                                           __m256* r0, __m256* r1) {
    if (ep->bias) {
        const __m256 bi = _mm256_set1_ps(ep->bias[i]);
        *r0 = _mm256_add_ps(*r0, bi);
        *r1 = _mm256_add_ps(*r1, bi);
    }
    /* max(lo, r) returns r when r is NaN, as the reference's r < lo ? lo : r */
    const __m256 lo = _mm256_set1_ps(ep->lo), hi = _mm256_set1_ps(ep->hi);
    *r0 = _mm256_min_ps(hi, _mm256_max_ps(lo, *r0));
    *r1 = _mm256_min_ps(hi, _mm256_max_ps(lo, *r1));
    if (ep->zero_plus) {
        *r0 = _mm256_add_ps(*r0, _mm256_setzero_ps());
        *r1 = _mm256_add_ps(*r1, _mm256_setzero_ps());
    }
    switch (act) {
    case EMBER_GEMM_ACT_SIGMOID:
        *r0 = v_sigmoid(*r0);
        *r1 = v_sigmoid(*r1);
        break;
    case EMBER_GEMM_ACT_HARD_SWISH:
        *r0 = v_hswish(*r0);
        *r1 = v_hswish(*r1);
        break;
    case EMBER_GEMM_ACT_SILU:
        *r0 = v_silu(*r0);
        *r1 = v_silu(*r1);
        break;
    default: break;
    }
}

/* Rows i < m, columns j < n of the tile: beta, then ep's pass (ep NULL: none)
 * with the activation act (a constant where it is inlined). */
static inline __attribute__((always_inline)) void store_rows(
    __m256 acc[MR][2], size_t m, size_t n, float beta, float* c, size_t ldc,
    const ember_f32_gemm_epilogue* ep, ember_f32_gemm_act act) {
    const __m256 vb = _mm256_set1_ps(beta);
    if (m == MR && n == NR) {
        for (size_t i = 0; i < MR; i++, c += ldc) {
            __m256 r0 = acc[i][0], r1 = acc[i][1];
            if (beta == 1.0f) {
                r0 = _mm256_add_ps(r0, _mm256_loadu_ps(c));
                r1 = _mm256_add_ps(r1, _mm256_loadu_ps(c + 8));
            } else if (beta != 0.0f) {
                r0 = _mm256_fmadd_ps(vb, _mm256_loadu_ps(c), r0);
                r1 = _mm256_fmadd_ps(vb, _mm256_loadu_ps(c + 8), r1);
            }
            if (ep) epilogue(ep, act, i, &r0, &r1);
            _mm256_storeu_ps(c, r0);
            _mm256_storeu_ps(c + 8, r1);
        }
        return;
    }
    /* Partial tile: the same arithmetic on each row in registers, through a
     * row buffer for the n columns of C (nothing outside the m x n corner is
     * read or written), so partial tiles get the values whole ones would. */
    for (size_t i = 0; i < m; i++, c += ldc) {
        float row[NR] = {0};
        __m256 r0 = acc[i][0], r1 = acc[i][1];
        if (beta != 0.0f) {
            memcpy(row, c, n * sizeof(float));
            if (beta == 1.0f) {
                r0 = _mm256_add_ps(r0, _mm256_loadu_ps(row));
                r1 = _mm256_add_ps(r1, _mm256_loadu_ps(row + 8));
            } else {
                r0 = _mm256_fmadd_ps(vb, _mm256_loadu_ps(row), r0);
                r1 = _mm256_fmadd_ps(vb, _mm256_loadu_ps(row + 8), r1);
            }
        }
        if (ep) epilogue(ep, act, i, &r0, &r1);
        _mm256_storeu_ps(row, r0);
        _mm256_storeu_ps(row + 8, r1);
        memcpy(c, row, n * sizeof(float));
    }
}

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
    /* one copy of the row loops an activation, so no row tests which */
    if (!ep) {
        store_rows(acc, m, n, beta, c, ldc, NULL, EMBER_GEMM_ACT_NONE);
        return;
    }
    switch (ep->act) {
    case EMBER_GEMM_ACT_SIGMOID:
        store_rows(acc, m, n, beta, c, ldc, ep, EMBER_GEMM_ACT_SIGMOID);
        break;
    case EMBER_GEMM_ACT_HARD_SWISH:
        store_rows(acc, m, n, beta, c, ldc, ep, EMBER_GEMM_ACT_HARD_SWISH);
        break;
    case EMBER_GEMM_ACT_SILU:
        store_rows(acc, m, n, beta, c, ldc, ep, EMBER_GEMM_ACT_SILU);
        break;
    default: store_rows(acc, m, n, beta, c, ldc, ep, EMBER_GEMM_ACT_NONE); break;
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
