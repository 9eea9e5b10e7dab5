/* F32 1x1 convolution on channel-blocked activations (NCHW16c), AVX-512F,
 * and with the same tiles a direct convolution into that layout (stems: the
 * input read from f32_conv_rows.h's padded copy through its step offsets):
 * a register tile of 12 positions x 32 output channels (two output blocks),
 * 24 zmm accumulators; each step loads two weight vectors and broadcasts one
 * input value per position (16 floats apart in the blocked layout, so the 12
 * positions of a step touch 12 cache lines that the next 15 steps reuse).
 * Contract and bit-exactness: ember_f32_conv1x1_blocked_fn (dispatch.h).
 * Compiled with -mavx512f -mavx512bw -mavx512vl -mfma. */
#include <immintrin.h>
#include <math.h>

#include "f32_conv1x1_blocked.h"
#include "f32_vec_avx512.h"
#include "f32_vact_tmpl.h"

#define L 16
#define P 12

/* One step of R positions: input value i at xp[i * xs]; NZ whole weight
 * vectors, then NH (0 or 1) half vector of 8 channels (an output block with
 * at most 8 channels: 256-bit FMAs there, which on cores that split 512-bit
 * operations in two cost half as much, instead of a 512-bit one whose upper
 * half is discarded), kept in the low half of r[i][NZ] (one array, so that
 * the compiler keeps it all in registers). Each lane is the same FMA either
 * way. */
static inline __attribute__((always_inline)) void step(const int R, const int NZ, const int NH,
                                                       const float* xp, const size_t xs,
                                                       const float* wp, __m512 r[P][2]) {
    const __m512 w0 = NZ > 0 ? _mm512_loadu_ps(wp) : _mm512_setzero_ps();
    const __m512 w1 = NZ > 1 ? _mm512_loadu_ps(wp + L) : w0;
    const __m256 wh = NH ? _mm256_loadu_ps(wp + NZ * L) : _mm256_setzero_ps();
#pragma GCC unroll 12
    for (int i = 0; i < R; i++) {
        if (NZ > 0) {
            const __m512 xv = _mm512_set1_ps(xp[(size_t)i * xs]);
            r[i][0] = _mm512_fmadd_ps(w0, xv, r[i][0]);
            if (NZ > 1) r[i][1] = _mm512_fmadd_ps(w1, xv, r[i][1]);
        }
        if (NH) {
            const __m256 hv = _mm256_fmadd_ps(wh, _mm256_set1_ps(xp[(size_t)i * xs]),
                                              _mm512_castps512_ps256(r[i][NZ]));
            r[i][NZ] = _mm512_castps256_ps512(hv);
        }
    }
}

/* The chain of steps [p0, p1) of R positions and NZ + NH weight vectors
 * (w: the panel), from zero, into acc[i][0 .. NZ + NH) (a half vector widened,
 * its upper lanes 0). The input: blocked (boff NULL: x the first position's,
 * n positions a block), or step p of position i at x[boff[p] + i] (a direct
 * convolution's padded copy, f32_conv_rows.h). */
static inline __attribute__((always_inline)) void chain(const int R, const int NZ, const int NH,
                                                        size_t p0, size_t p1, size_t n,
                                                        const float* x, const int32_t* boff,
                                                        const float* w, __m512 acc[P][2]) {
    __m512 r[P][2];
#pragma GCC unroll 12
    for (int i = 0; i < R; i++) r[i][0] = r[i][1] = _mm512_setzero_ps();
    if (boff) {
        for (size_t p = p0; p < p1; p++) step(R, NZ, NH, x + boff[p], 1, w + p * 2 * L, r);
    } else {
        size_t p = p0;
        while (p < p1) {
            /* the steps left in this input block */
            const size_t blk = p / L, end = (blk + 1) * L < p1 ? (blk + 1) * L : p1;
            const float* xb = x + blk * n * L;
            for (; p < end; p++) step(R, NZ, NH, xb + p % L, L, w + p * 2 * L, r);
        }
    }
#pragma GCC unroll 12
    for (int i = 0; i < R; i++) {
        acc[i][0] = r[i][0];
        acc[i][1] = r[i][1];
        if (NH) acc[i][NZ] = _mm512_maskz_mov_ps((__mmask16)0x00FF, r[i][NZ]);
    }
}

/* One tile: R positions from x / y, NV = NZ + NH output blocks (v0 / v1 the
 * valid lanes of the first / second; NH: the last has at most 8); rs: NULL,
 * or the residual at y's place (ep->resid). */
static inline __attribute__((always_inline)) void tile(const int R, const int NZ, const int NH,
                                                       size_t k, size_t kc, size_t n, const float* x,
                                                       const int32_t* boff, size_t ny,
                                                       const float* w, float* y, const float* rs,
                                                       __mmask16 v0,
                                                       __mmask16 v1, __m512 b0, __m512 b1,
                                                       const ember_f32_gemm_epilogue* ep) {
    const int NV = NZ + NH;
    __m512 acc[P][2], tot[P][2];
    chain(R, NZ, NH, 0, kc < k ? kc : k, n, x, boff, w, tot);
    for (size_t p0 = kc; p0 < k; p0 += kc) { /* later K blocks: the GEMM's C += block */
        chain(R, NZ, NH, p0, p0 + kc < k ? p0 + kc : k, n, x, boff, w, acc);
#pragma GCC unroll 12
        for (int i = 0; i < R; i++) {
            tot[i][0] = _mm512_add_ps(acc[i][0], tot[i][0]);
            if (NV > 1) tot[i][1] = _mm512_add_ps(acc[i][1], tot[i][1]);
        }
    }
    const __m512 lo = _mm512_set1_ps(ep ? ep->lo : 0.0f), hi = _mm512_set1_ps(ep ? ep->hi : 0.0f);
    const __m512 zero = _mm512_setzero_ps();
    const ember_f32_gemm_act act = ep ? ep->act : EMBER_GEMM_ACT_NONE;
    const int clamp = ep && (ep->lo != -INFINITY || ep->hi != INFINITY);
#pragma GCC unroll 12
    for (int i = 0; i < R; i++) {
        __m512 r0 = tot[i][0], r1 = tot[i][1];
        if (ep) {
            if (ep->bias) {
                r0 = _mm512_add_ps(r0, b0);
                if (NV > 1) r1 = _mm512_add_ps(r1, b1);
            }
            if (rs) {
                r0 = _mm512_add_ps(r0, _mm512_maskz_loadu_ps(v0, rs + (size_t)i * L));
                if (NV > 1)
                    r1 = _mm512_add_ps(r1, _mm512_maskz_loadu_ps(v1, rs + ny * L + (size_t)i * L));
            }
            if (clamp) { /* max(-inf, r) and min(inf, r) are r, NaN included */
                r0 = _mm512_min_ps(hi, _mm512_max_ps(lo, r0));
                if (NV > 1) r1 = _mm512_min_ps(hi, _mm512_max_ps(lo, r1));
            }
            if (ep->zero_plus) {
                r0 = _mm512_add_ps(r0, zero);
                if (NV > 1) r1 = _mm512_add_ps(r1, zero);
            }
            r0 = v_gemm_act(act, r0);
            if (NV > 1) r1 = v_gemm_act(act, r1);
        }
        /* lanes past m are written 0: the padded channels stay finite */
        _mm512_storeu_ps(y + (size_t)i * L, _mm512_maskz_mov_ps(v0, r0));
        if (NV > 1) _mm512_storeu_ps(y + ny * L + (size_t)i * L, _mm512_maskz_mov_ps(v1, r1));
    }
}

static inline __attribute__((always_inline)) void tile_any(int R, int NV, size_t k, size_t kc,
                                                           size_t n, const float* x,
                                                           const int32_t* boff, size_t ny,
                                                           const float* w, float* y,
                                                           const float* rs, __mmask16 v0,
                                                           __mmask16 v1,
                                                           __m512 b0, __m512 b1,
                                                           const ember_f32_gemm_epilogue* ep) {
#define T(r)                                                                            \
    case r:                                                                             \
        if (NV > 1) tile(r, 2, 0, k, kc, n, x, boff, ny, w, y, rs, v0, v1, b0, b1, ep); \
        else tile(r, 1, 0, k, kc, n, x, boff, ny, w, y, rs, v0, v1, b0, b1, ep);        \
        break;
    switch (R) {
        T(1) T(2) T(3) T(4) T(5) T(6) T(7) T(8) T(9) T(10) T(11)
    default: break;
    }
#undef T
}

/* The whole tiles of a panel whose last block has at most 8 channels (nv
 * blocks), from position j0; returns where they stop. Its own function: the
 * half-vector tiles inlined beside the others made the compiler spill the
 * accumulators of every tile. */
static __attribute__((noinline)) size_t tiles_half(int nv, size_t k, size_t kc, size_t n,
                                                   const float* x, const int32_t* boff, size_t xs,
                                                   size_t ny, const float* wq, float* yq,
                                                   const float* rq, __mmask16 v0, __mmask16 v1,
                                                   __m512 b0, __m512 b1,
                                                   const ember_f32_gemm_epilogue* ep, size_t j0,
                                                   size_t j1) {
    size_t j = j0;
    if (nv == 2)
        for (; j + P <= j1; j += P)
            tile(P, 1, 1, k, kc, n, x + j * xs, boff, ny, wq, yq + j * L, rq ? rq + j * L : NULL,
                 v0, v1, b0, b1, ep);
    else
        for (; j + P <= j1; j += P)
            tile(P, 0, 1, k, kc, n, x + j * xs, boff, ny, wq, yq + j * L, rq ? rq + j * L : NULL,
                 v0, v1, b0, b1, ep);
    return j;
}

static __mmask16 lanes(size_t m, size_t c0) {
    if (c0 >= m) return 0;
    return m - c0 >= L ? (__mmask16)0xFFFF : (__mmask16)((1u << (m - c0)) - 1u);
}

/* Panels [q0, q1), positions [j0, j1): x positions at x + j * xs (boff
 * NULL: blocked, n positions a block) or x + boff[p] + j, y's blocks ny
 * positions apart. */
static inline __attribute__((always_inline)) void panels(size_t m, size_t k, size_t kc,
                                                         size_t n, const float* x,
                                                         const int32_t* boff, size_t xs,
                                                         size_t ny, const float* w, float* y,
                                                         const ember_f32_gemm_epilogue* ep,
                                                         size_t j0, size_t j1, size_t q0,
                                                         size_t q1) {
    for (size_t q = q0; q < q1; q++) {
        const size_t c0 = q * 2 * L;
        const int nv = m - c0 > L ? 2 : 1;
        const int half = m - c0 - (size_t)(nv - 1) * L <= L / 2; /* the last block's channels */
        const __mmask16 v0 = lanes(m, c0), v1 = lanes(m, c0 + L);
        const __m512 b0 = ep && ep->bias ? _mm512_maskz_loadu_ps(v0, ep->bias + c0) : _mm512_setzero_ps();
        const __m512 b1 = ep && ep->bias && v1 ? _mm512_maskz_loadu_ps(v1, ep->bias + c0 + L)
                                               : _mm512_setzero_ps();
        const float* wq = w + q * k * 2 * L;
        float* yq = y + (c0 / L) * ny * L;
        const float* rq = ep && ep->resid ? ep->resid + (c0 / L) * ny * L : NULL;
        size_t j = j0;
        if (half)
            j = tiles_half(nv, k, kc, n, x, boff, xs, ny, wq, yq, rq, v0, v1, b0, b1, ep, j0, j1);
        else if (nv == 2)
            for (; j + P <= j1; j += P)
                tile(P, 2, 0, k, kc, n, x + j * xs, boff, ny, wq, yq + j * L,
                     rq ? rq + j * L : NULL, v0, v1, b0, b1, ep);
        else
            for (; j + P <= j1; j += P)
                tile(P, 1, 0, k, kc, n, x + j * xs, boff, ny, wq, yq + j * L,
                     rq ? rq + j * L : NULL, v0, v1, b0, b1, ep);
        if (j < j1)
            tile_any((int)(j1 - j), nv, k, kc, n, x + j * xs, boff, ny, wq, yq + j * L,
                     rq ? rq + j * L : NULL, v0, v1, b0, b1, ep);
    }
}

/* GELU, which the tiles do not apply (f32_vact_tmpl.h, v_gemm_act): a pass
 * of its own over what they wrote (the panels' blocks, positions [j0, j1);
 * the padded lanes are 0, and gelu(0) = 0). No convolution is given GELU
 * today; this keeps the contract of ember_f32_gemm_act whole. */
static __attribute__((noinline)) void gelu_pass(size_t m, size_t ny, float* y, size_t j0,
                                                size_t j1, size_t q0, size_t q1) {
    for (size_t q = q0; q < q1; q++)
        for (size_t c = q * 2 * L; c < (q + 1) * 2 * L && c < m; c += L)
            for (size_t j = j0; j < j1; j++) {
                float* p = y + (c / L) * ny * L + j * L;
                _mm512_storeu_ps(p, v_gelu(_mm512_loadu_ps(p)));
            }
}

/* panels() for an epilogue with GELU, which goes to gelu_pass. A function of
 * its own: a second copy of panels() inlined beside the first made the
 * compiler spill the tiles' accumulators in both (mobilenet_v2 1.7x slower). */
static __attribute__((noinline)) void panels_gelu(size_t m, size_t k, size_t kc, size_t n,
                                                  const float* x, const int32_t* boff, size_t xs,
                                                  size_t ny, const float* w, float* y,
                                                  const ember_f32_gemm_epilogue* ep, size_t j0,
                                                  size_t j1, size_t q0, size_t q1) {
    ember_f32_gemm_epilogue e = *ep;
    e.act = EMBER_GEMM_ACT_NONE;
    panels(m, k, kc, n, x, boff, xs, ny, w, y, &e, j0, j1, q0, q1);
    gelu_pass(m, ny, y, j0, j1, q0, q1);
}

/* panels(), or panels_gelu() for an epilogue with GELU: the one branch every
 * entry takes (panels() is inlined here only once). */
static inline __attribute__((always_inline)) void run(size_t m, size_t k, size_t kc, size_t n,
                                                      const float* x, const int32_t* boff,
                                                      size_t xs, size_t ny, const float* w,
                                                      float* y, const ember_f32_gemm_epilogue* ep,
                                                      size_t j0, size_t j1, size_t q0, size_t q1) {
    if (ep && ep->act == EMBER_GEMM_ACT_GELU)
        panels_gelu(m, k, kc, n, x, boff, xs, ny, w, y, ep, j0, j1, q0, q1);
    else
        panels(m, k, kc, n, x, boff, xs, ny, w, y, ep, j0, j1, q0, q1);
}

void ember_f32_conv1x1_blocked__avx512(size_t m, size_t k, size_t n, size_t kc, const float* x,
                                       const float* w, float* y,
                                       const ember_f32_gemm_epilogue* ep, size_t j0, size_t j1,
                                       size_t q0, size_t q1) {
    run(m, k, kc ? kc : k, n, x, NULL, L, n, w, y, ep, j0, j1, q0, q1);
}

void ember_f32_conv1x1_blocked_band__avx512(size_t m, size_t k, size_t n, size_t kc,
                                            const float* x, const float* w, float* y, size_t ny,
                                            const ember_f32_gemm_epilogue* ep, size_t count,
                                            size_t q0, size_t q1) {
    run(m, k, kc ? kc : k, n, x, NULL, L, ny, w, y, ep, 0, count, q0, q1);
}

void ember_f32_conv_rows_blocked__avx512(size_t m, size_t k, const float* x, const int32_t* boff,
                                         size_t count, size_t ny, const float* w, float* y,
                                         const ember_f32_gemm_epilogue* ep) {
    run(m, k, k, 0, x, boff, 1, ny, w, y, ep, 0, count, 0, (m + 2 * L - 1) / (2 * L));
}
