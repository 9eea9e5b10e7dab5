/* F32 GEMM micro-kernel, 12x32 register tile, AVX-512F: 24 zmm accumulators
 * (enough independent FMAs to cover the latency of two FMA ports), two B
 * vectors and one broadcast of A a step. Partial tiles use masked loads and
 * stores. Compiled with -mavx512f -mavx512bw -mavx512vl -mfma. */
#include <immintrin.h>
#include <math.h>
#include <stdint.h>

#include "f32_gemm.h"
#include "f32_vec_avx512.h"
#include "f32_vact_tmpl.h"

#ifndef LATE_PF_MIN
#define LATE_PF_MIN ((size_t)-1)
#endif
#define MR 12
#define NR 32
#ifndef EMBER_GEMM_PREFETCH_C_MIN_KC
#define EMBER_GEMM_PREFETCH_C_MIN_KC 128
#endif
#define EMBER_GEMM_PREFETCH_C_STEPS 64 /* at most EMBER_GEMM_PREFETCH_C_MIN_KC */
#define L1_BYTES 32768

/* Rows i < m of the tile: beta, then ep's pass (ep NULL: none) with the
 * activation act (a constant where it is inlined), stored through the column
 * masks k0 / k1 (columns 0-15 / 16-31). */
static inline __attribute__((always_inline)) void store_rows(
    __m512 acc[MR][2], size_t m, __mmask16 k0, __mmask16 k1, float beta, float* c,
    size_t ldc, const ember_f32_gemm_epilogue* ep, ember_f32_gemm_act act) {
    const __m512 vb = _mm512_set1_ps(beta);
    const __m512 lo = _mm512_set1_ps(ep ? ep->lo : 0.0f), hi = _mm512_set1_ps(ep ? ep->hi : 0.0f);
    const __m512 zero = _mm512_setzero_ps();
    /* the column bias of the tile's columns (lanes past n: 0, never stored) */
    const __m512 cb0 = ep && ep->col_bias ? _mm512_maskz_loadu_ps(k0, ep->col_bias) : zero;
    const __m512 cb1 = ep && ep->col_bias && k1 ? _mm512_maskz_loadu_ps(k1, ep->col_bias + 16)
                                                : zero;
    /* ep's fields read once (the stores to C could alias them for the
     * compiler); a clamp to (-inf, inf) changes nothing, NaN included */
    const float* bias = ep ? ep->bias : NULL;
    const int col = ep && ep->col_bias, zero_plus = ep && ep->zero_plus;
    const int clamp = ep && (ep->lo != -INFINITY || ep->hi != INFINITY);
    for (size_t i = 0; i < m; i++, c += ldc) {
        __m512 r0 = acc[i][0], r1 = acc[i][1];
        if (beta == 1.0f) {
            r0 = _mm512_add_ps(r0, _mm512_maskz_loadu_ps(k0, c));
            if (k1) r1 = _mm512_add_ps(r1, _mm512_maskz_loadu_ps(k1, c + 16));
        } else if (beta != 0.0f) {
            r0 = _mm512_fmadd_ps(vb, _mm512_maskz_loadu_ps(k0, c), r0);
            if (k1) r1 = _mm512_fmadd_ps(vb, _mm512_maskz_loadu_ps(k1, c + 16), r1);
        }
        if (ep) {
            if (col) {
                r0 = _mm512_add_ps(r0, cb0);
                r1 = _mm512_add_ps(r1, cb1);
            }
            if (bias) {
                const __m512 bi = _mm512_set1_ps(bias[i]);
                r0 = _mm512_add_ps(r0, bi);
                r1 = _mm512_add_ps(r1, bi);
            }
            /* max(lo, r) returns r when r is NaN, as the reference's r < lo ? lo : r */
            if (clamp) {
                r0 = _mm512_min_ps(hi, _mm512_max_ps(lo, r0));
                r1 = _mm512_min_ps(hi, _mm512_max_ps(lo, r1));
            }
            if (zero_plus) {
                r0 = _mm512_add_ps(r0, zero);
                r1 = _mm512_add_ps(r1, zero);
            }
            r0 = v_gemm_act_all(act, r0);
            r1 = v_gemm_act_all(act, r1); /* lanes past n are computed and not stored */
        }
        _mm512_mask_storeu_ps(c, k0, r0);
        if (k1) _mm512_mask_storeu_ps(c + 16, k1, r1); /* no address past a 16-wide C */
    }
}

/* The k loop on the first R rows of the tile (R = 4, 8 or 12: a partial tile
 * computes only the rows it stores), NV whole vectors of B (columns 0-15,
 * 16-31), and NC single columns after them (column 16 * NV + j, one lane a
 * row, left in t[j]): a 16-wide remainder or up to four columns cost their
 * share of the FMAs, not the whole tile's. Every C element is the same chain
 * of FMAs over p in the same order whichever way it is computed, so the
 * results are the same bits. R, NV and NC are constants where it is inlined;
 * the single columns stay in named registers (an array indexed at run time
 * would live in memory, and its FMA chain would wait on store forwarding).
 * At step pf_at the lines of C's pm x pn tile at pc are fetched for writing. */
static inline __attribute__((always_inline)) void kloop(const size_t R, const size_t NV,
                                                        const size_t NC, size_t kc,
                                                        const float* a, const float* b,
                                                        const int32_t* boff,
                                                        __m512 acc[MR][2], float t[4][16],
                                                        const float* pc, size_t ldc, size_t pm,
                                                        size_t pn, size_t pf_at) {
    __m512 c0 = _mm512_setzero_ps(), c1 = c0, c2 = c0, c3 = c0;
    /* a local copy whose address is never taken, so that it stays in
     * registers: acc itself is indexed at run time by the caller */
    __m512 r[MR][2];
#pragma GCC unroll 12
    for (size_t i = 0; i < R; i++) r[i][0] = r[i][1] = c0;
    for (size_t p = 0; p < kc; p++, a += MR) {
        const float* bp = boff ? b + boff[p] : b + p * NR;
        if (__builtin_expect(p == pf_at, 0)) /* C, for writing (see ukernel) */
            for (size_t i = 0; i < pm; i++) {
                _mm_prefetch((const char*)(pc + i * ldc), _MM_HINT_ET0);
                _mm_prefetch((const char*)(pc + i * ldc + pn - 1), _MM_HINT_ET0);
            }
        if (boff) { /* B rows in place: one stream a step, more than the
                     * hardware prefetchers follow; fetch two tiles ahead */
            _mm_prefetch((const char*)(bp + 4 * NR), _MM_HINT_T0);
            _mm_prefetch((const char*)(bp + 4 * NR + 16), _MM_HINT_T0);
        }
        if (NV > 0) {
            const __m512 b0 = _mm512_loadu_ps(bp);
            const __m512 b1 = NV > 1 ? _mm512_loadu_ps(bp + 16) : b0;
#pragma GCC unroll 12
            for (size_t i = 0; i < R; i++) {
                const __m512 av = _mm512_set1_ps(a[i]);
                r[i][0] = _mm512_fmadd_ps(av, b0, r[i][0]);
                if (NV > 1) r[i][1] = _mm512_fmadd_ps(av, b1, r[i][1]);
            }
        }
        if (NC > 0) {
            const __m512 ac = _mm512_maskz_loadu_ps((__mmask16)0x0FFF, a);
            const float* bc = bp + 16 * NV;
            c0 = _mm512_fmadd_ps(ac, _mm512_set1_ps(bc[0]), c0);
            if (NC > 1) c1 = _mm512_fmadd_ps(ac, _mm512_set1_ps(bc[1]), c1);
            if (NC > 2) c2 = _mm512_fmadd_ps(ac, _mm512_set1_ps(bc[2]), c2);
            if (NC > 3) c3 = _mm512_fmadd_ps(ac, _mm512_set1_ps(bc[3]), c3);
        }
    }
#pragma GCC unroll 12
    for (size_t i = 0; i < R; i++) {
        acc[i][0] = r[i][0];
        acc[i][1] = r[i][1];
    }
    if (NC > 0) _mm512_storeu_ps(t[0], c0);
    if (NC > 1) _mm512_storeu_ps(t[1], c1);
    if (NC > 2) _mm512_storeu_ps(t[2], c2);
    if (NC > 3) _mm512_storeu_ps(t[3], c3);
}

/* The loop for rows m and columns n, with its shape chosen at run time. */
static inline __attribute__((always_inline)) void kloop_for(size_t m, size_t n, size_t kc,
                                                            const float* a, const float* b,
                                                            const int32_t* boff,
                                                            __m512 acc[MR][2], const float* pc,
                                                            size_t ldc, size_t pf_at) {
    const size_t r = m <= 4 ? 4 : m <= 8 ? 8 : 12;
    float t[4][16];
    size_t nc = 0, v = 0; /* single columns, and the accumulator they go back to */
    if (n > 20) {
        if (r == 4) kloop(4, 2, 0, kc, a, b, boff, acc, t, pc, ldc, m, n, pf_at);
        else if (r == 8) kloop(8, 2, 0, kc, a, b, boff, acc, t, pc, ldc, m, n, pf_at);
        else kloop(12, 2, 0, kc, a, b, boff, acc, t, pc, ldc, m, n, pf_at);
    } else if (n > 16) {
        nc = n - 16;
        v = 1;
        switch (nc) {
        case 1: kloop(12, 1, 1, kc, a, b, boff, acc, t, pc, ldc, m, n, pf_at); break;
        case 2: kloop(12, 1, 2, kc, a, b, boff, acc, t, pc, ldc, m, n, pf_at); break;
        case 3: kloop(12, 1, 3, kc, a, b, boff, acc, t, pc, ldc, m, n, pf_at); break;
        default: kloop(12, 1, 4, kc, a, b, boff, acc, t, pc, ldc, m, n, pf_at); break;
        }
    } else if (n > 4) {
        if (r == 4) kloop(4, 1, 0, kc, a, b, boff, acc, t, pc, ldc, m, n, pf_at);
        else if (r == 8) kloop(8, 1, 0, kc, a, b, boff, acc, t, pc, ldc, m, n, pf_at);
        else kloop(12, 1, 0, kc, a, b, boff, acc, t, pc, ldc, m, n, pf_at);
    } else {
        nc = n;
        switch (nc) {
        case 1: kloop(12, 0, 1, kc, a, b, boff, acc, t, pc, ldc, m, n, pf_at); break;
        case 2: kloop(12, 0, 2, kc, a, b, boff, acc, t, pc, ldc, m, n, pf_at); break;
        case 3: kloop(12, 0, 3, kc, a, b, boff, acc, t, pc, ldc, m, n, pf_at); break;
        default: kloop(12, 0, 4, kc, a, b, boff, acc, t, pc, ldc, m, n, pf_at); break;
        }
    }
    /* the single columns back into the row accumulators: lane j of row i */
    for (size_t i = 0; nc && i < m; i++) {
        float row[16] = {0};
        for (size_t j = 0; j < nc; j++) row[j] = t[j][i];
        acc[i][v] = _mm512_loadu_ps(row);
    }
}

/* The body, shared by the plain, the epilogue and the rows entry (ep NULL:
 * none; boff NULL: B is a packed panel, else step p of B is at b + boff[p]). */
static inline __attribute__((always_inline)) void ukernel(size_t m, size_t n, size_t kc,
                                                          const float* a, const float* b,
                                                          const int32_t* boff, float beta,
                                                          float* c, size_t ldc,
                                                          const ember_f32_gemm_epilogue* ep) {
    __m512 acc[MR][2];
    for (size_t i = 0; i < MR; i++) acc[i][0] = acc[i][1] = _mm512_setzero_ps();
    /* C is written (and with beta, read) at the end: fetch it for writing
     * EMBER_GEMM_PREFETCH_C_STEPS steps before the k loop ends, so that its
     * misses overlap the last steps. Fetched at the start, the lines were gone
     * again by the end: a long k loop streams more A and B through L1 than L1
     * holds (128 x 256 x 1024 with B and C from L3: 642 -> 625 us). A short
     * k loop leaves no time to hide the misses, and the 24 prefetches then
     * cost more than they save (squeezenet1_1's K = 16..64 products: 1.5 %
     * slower at 2 threads); with beta they are issued at the start */
    const bool pf = kc >= EMBER_GEMM_PREFETCH_C_MIN_KC;
    const bool late = pf && !boff && kc * (MR + (n > 16 ? 32 : 16)) * sizeof(float) > L1_BYTES;
    if ((pf && !late) || beta != 0.0f)
        for (size_t i = 0; i < m; i++) {
            _mm_prefetch((const char*)(c + i * ldc), _MM_HINT_ET0);
            _mm_prefetch((const char*)(c + i * ldc + n - 1), _MM_HINT_ET0);
        }
    const size_t pf_at = late ? kc - EMBER_GEMM_PREFETCH_C_STEPS : SIZE_MAX;
    kloop_for(m, n, kc, a, b, boff, acc, c, ldc, pf_at);
    const __mmask16 k0 = n >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << n) - 1u);
    const __mmask16 k1 = n >= 32 ? (__mmask16)0xFFFF
                         : n <= 16 ? (__mmask16)0 : (__mmask16)((1u << (n - 16)) - 1u);
    /* one copy of the row loop an activation, so no row tests which */
    if (!ep) {
        store_rows(acc, m, k0, k1, beta, c, ldc, NULL, EMBER_GEMM_ACT_NONE);
        return;
    }
    switch (ep->act) {
    case EMBER_GEMM_ACT_SIGMOID:
        store_rows(acc, m, k0, k1, beta, c, ldc, ep, EMBER_GEMM_ACT_SIGMOID);
        break;
    case EMBER_GEMM_ACT_HARD_SWISH:
        store_rows(acc, m, k0, k1, beta, c, ldc, ep, EMBER_GEMM_ACT_HARD_SWISH);
        break;
    case EMBER_GEMM_ACT_SILU:
        store_rows(acc, m, k0, k1, beta, c, ldc, ep, EMBER_GEMM_ACT_SILU);
        break;
    case EMBER_GEMM_ACT_GELU:
        store_rows(acc, m, k0, k1, beta, c, ldc, ep, EMBER_GEMM_ACT_GELU);
        break;
    default: store_rows(acc, m, k0, k1, beta, c, ldc, ep, EMBER_GEMM_ACT_NONE); break;
    }
}

void ember_f32_gemm_ukernel_12x32__avx512(size_t m, size_t n, size_t kc, const float* a,
                                          const float* b, float beta, float* c, size_t ldc) {
    ukernel(m, n, kc, a, b, NULL, beta, c, ldc, NULL);
}

void ember_f32_gemm_ukernel_ep_12x32__avx512(size_t m, size_t n, size_t kc, const float* a,
                                             const float* b, float beta, float* c, size_t ldc,
                                             const ember_f32_gemm_epilogue* ep) {
    ukernel(m, n, kc, a, b, NULL, beta, c, ldc, ep);
}

void ember_f32_gemm_ukernel_rows_12x32__avx512(size_t m, size_t n, size_t kc, const float* a,
                                        const float* b, const int32_t* boff, float beta,
                                        float* c, size_t ldc, const ember_f32_gemm_epilogue* ep) {
    ukernel(m, n, kc, a, b, boff, beta, c, ldc, ep);
}
