/* F32 GEMM micro-kernel, 6x16 register tile, AVX2 + FMA: 12 ymm accumulators,
 * two B vectors and one broadcast of A a step. Compiled with -mavx2 -mfma. */
#include <immintrin.h>
#include <stdint.h>
#include <string.h>

#include "f32_gemm.h"
#include "f32_vec_avx2.h"
#include "f32_vact_tmpl.h"

#define MR 6
#define NR 16

/* ep's pass on row i of the tile, the two vectors of its 16 columns: the
 * column bias (cb: its 16 values), the bias, clamp, then the activation act
 * (ep->act, a constant where it is inlined) with the elementwise kernels'
 * formulas (f32_vact_tmpl.h), so the fused tile equals the unfused passes bit
 * for bit. */
static inline __attribute__((always_inline)) void epilogue(const ember_f32_gemm_epilogue* ep,
                                                           ember_f32_gemm_act act, size_t i,
                                                           const __m256 cb[2], __m256* r0,
                                                           __m256* r1) {
    if (ep->col_bias) {
        *r0 = _mm256_add_ps(*r0, cb[0]);
        *r1 = _mm256_add_ps(*r1, cb[1]);
    }
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
    case EMBER_GEMM_ACT_GELU:
        *r0 = v_gelu(*r0);
        *r1 = v_gelu(*r1);
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
    /* the column bias of the tile's n columns, through a buffer for a partial
     * tile (nothing past n is read) */
    __m256 cb[2] = {_mm256_setzero_ps(), _mm256_setzero_ps()};
    if (ep && ep->col_bias) {
        float cbuf[NR] = {0};
        memcpy(cbuf, ep->col_bias, n * sizeof(float));
        cb[0] = _mm256_loadu_ps(cbuf);
        cb[1] = _mm256_loadu_ps(cbuf + 8);
    }
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
            if (ep) epilogue(ep, act, i, cb, &r0, &r1);
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
        if (ep) epilogue(ep, act, i, cb, &r0, &r1);
        _mm256_storeu_ps(row, r0);
        _mm256_storeu_ps(row + 8, r1);
        memcpy(c, row, n * sizeof(float));
    }
}

/* The k loop on the first R rows of the tile (R = 2, 4 or 6: a partial tile
 * computes only the rows it stores), NV whole vectors of B (columns 0-7,
 * 8-15), and NC single columns after them (column 8 * NV + j, one lane a row,
 * left in t[j]): a narrow remainder costs its share of the FMAs, not the
 * whole tile's. Every C element is the same chain of FMAs over p in the same
 * order whichever way it is computed, so the results are the same bits. R, NV
 * and NC are constants where it is inlined; the accumulators are a local
 * array whose address is never taken, so that they stay in registers. */
static inline __attribute__((always_inline)) void kloop(const size_t R, const size_t NV,
                                                        const size_t NC, size_t kc,
                                                        const float* a, const float* b,
                                                        const int32_t* boff,
                                                        __m256 acc[MR][2], float t[4][8]) {
    __m256 c0 = _mm256_setzero_ps(), c1 = c0, c2 = c0, c3 = c0;
    __m256 r[MR][2];
#pragma GCC unroll 6
    for (size_t i = 0; i < R; i++) r[i][0] = r[i][1] = c0;
    const __m256i six = _mm256_setr_epi32(-1, -1, -1, -1, -1, -1, 0, 0);
    for (size_t p = 0; p < kc; p++, a += MR) {
        const float* bp = boff ? b + boff[p] : b + p * NR;
        if (boff) /* B rows in place: one stream a step, more than the hardware
                   * prefetchers follow; fetch four tiles ahead */
            _mm_prefetch((const char*)(bp + 4 * NR), _MM_HINT_T0);
        if (NV > 0) {
            const __m256 b0 = _mm256_loadu_ps(bp);
            const __m256 b1 = NV > 1 ? _mm256_loadu_ps(bp + 8) : b0;
#pragma GCC unroll 6
            for (size_t i = 0; i < R; i++) {
                const __m256 av = _mm256_broadcast_ss(a + i);
                r[i][0] = _mm256_fmadd_ps(av, b0, r[i][0]);
                if (NV > 1) r[i][1] = _mm256_fmadd_ps(av, b1, r[i][1]);
            }
        }
        if (NC > 0) {
            const __m256 ac = _mm256_maskload_ps(a, six); /* the panel's 6 rows, no read past */
            const float* bc = bp + 8 * NV;
            c0 = _mm256_fmadd_ps(ac, _mm256_broadcast_ss(bc), c0);
            if (NC > 1) c1 = _mm256_fmadd_ps(ac, _mm256_broadcast_ss(bc + 1), c1);
            if (NC > 2) c2 = _mm256_fmadd_ps(ac, _mm256_broadcast_ss(bc + 2), c2);
            if (NC > 3) c3 = _mm256_fmadd_ps(ac, _mm256_broadcast_ss(bc + 3), c3);
        }
    }
#pragma GCC unroll 6
    for (size_t i = 0; i < R; i++) {
        acc[i][0] = r[i][0];
        acc[i][1] = r[i][1];
    }
    if (NC > 0) _mm256_storeu_ps(t[0], c0);
    if (NC > 1) _mm256_storeu_ps(t[1], c1);
    if (NC > 2) _mm256_storeu_ps(t[2], c2);
    if (NC > 3) _mm256_storeu_ps(t[3], c3);
}

/* The loop for rows m and columns n, with its shape chosen at run time. */
static inline __attribute__((always_inline)) void kloop_for(size_t m, size_t n, size_t kc,
                                                            const float* a, const float* b,
                                                            const int32_t* boff,
                                                            __m256 acc[MR][2]) {
    const size_t r = m <= 2 ? 2 : m <= 4 ? 4 : 6;
    float t[4][8];
    size_t nc = 0, v = 0; /* single columns, and the accumulator they go back to */
    if (n > 12) {
        if (r == 2) kloop(2, 2, 0, kc, a, b, boff, acc, t);
        else if (r == 4) kloop(4, 2, 0, kc, a, b, boff, acc, t);
        else kloop(6, 2, 0, kc, a, b, boff, acc, t);
    } else if (n > 8) {
        nc = n - 8;
        v = 1;
        switch (nc) {
        case 1: kloop(6, 1, 1, kc, a, b, boff, acc, t); break;
        case 2: kloop(6, 1, 2, kc, a, b, boff, acc, t); break;
        case 3: kloop(6, 1, 3, kc, a, b, boff, acc, t); break;
        default: kloop(6, 1, 4, kc, a, b, boff, acc, t); break;
        }
    } else if (n > 4) {
        if (r == 2) kloop(2, 1, 0, kc, a, b, boff, acc, t);
        else if (r == 4) kloop(4, 1, 0, kc, a, b, boff, acc, t);
        else kloop(6, 1, 0, kc, a, b, boff, acc, t);
    } else {
        nc = n;
        switch (nc) {
        case 1: kloop(6, 0, 1, kc, a, b, boff, acc, t); break;
        case 2: kloop(6, 0, 2, kc, a, b, boff, acc, t); break;
        case 3: kloop(6, 0, 3, kc, a, b, boff, acc, t); break;
        default: kloop(6, 0, 4, kc, a, b, boff, acc, t); break;
        }
    }
    /* the single columns back into the row accumulators: lane j of row i */
    for (size_t i = 0; nc && i < m; i++) {
        float row[8] = {0};
        for (size_t j = 0; j < nc; j++) row[j] = t[j][i];
        acc[i][v] = _mm256_loadu_ps(row);
    }
}

/* The body, shared by the plain, the epilogue and the rows entry (ep NULL:
 * none; boff NULL: B is a packed panel, else step p of B is at b + boff[p]). */
static inline __attribute__((always_inline)) void ukernel(size_t m, size_t n, size_t kc,
                                                          const float* a, const float* b,
                                                          const int32_t* boff, float beta,
                                                          float* c, size_t ldc,
                                                          const ember_f32_gemm_epilogue* ep) {
    __m256 acc[MR][2];
    for (size_t i = 0; i < MR; i++) acc[i][0] = acc[i][1] = _mm256_setzero_ps();
    if (beta != 0.0f) /* C is read at the end: start fetching it now */
        for (size_t i = 0; i < m; i++) {
            _mm_prefetch((const char*)(c + i * ldc), _MM_HINT_T0);
            _mm_prefetch((const char*)(c + i * ldc + n - 1), _MM_HINT_T0);
        }
    kloop_for(m, n, kc, a, b, boff, acc);
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
    case EMBER_GEMM_ACT_GELU:
        store_rows(acc, m, n, beta, c, ldc, ep, EMBER_GEMM_ACT_GELU);
        break;
    default: store_rows(acc, m, n, beta, c, ldc, ep, EMBER_GEMM_ACT_NONE); break;
    }
}

void ember_f32_gemm_ukernel_6x16__avx2(size_t m, size_t n, size_t kc, const float* a,
                                       const float* b, float beta, float* c, size_t ldc) {
    ukernel(m, n, kc, a, b, NULL, beta, c, ldc, NULL);
}

void ember_f32_gemm_ukernel_ep_6x16__avx2(size_t m, size_t n, size_t kc, const float* a,
                                          const float* b, float beta, float* c, size_t ldc,
                                          const ember_f32_gemm_epilogue* ep) {
    ukernel(m, n, kc, a, b, NULL, beta, c, ldc, ep);
}

void ember_f32_gemm_ukernel_rows_6x16__avx2(size_t m, size_t n, size_t kc, const float* a,
                                        const float* b, const int32_t* boff, float beta,
                                        float* c, size_t ldc, const ember_f32_gemm_epilogue* ep) {
    ukernel(m, n, kc, a, b, boff, beta, c, ldc, ep);
}
