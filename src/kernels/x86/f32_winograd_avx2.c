/* Winograd F(4x4, 3x3) transforms, AVX2: the 16 tiles of a call as two
 * vectors of 8, one lane a tile. As the AVX-512 kernels (same file name
 * there), the additions and multiplications of the portable body
 * (f32_winograd_tmpl.h) in its order, so the same bits, with the data moved
 * by hand where the compiler left it scalar:
 *   - input: a patch row is read with masked loads (0 outside the image) and
 *     its 4 column phases of 8 tiles taken by a 4x4 transpose in each 128-bit
 *     lane and one lane permute; phases 4 and 5 are phases 0 and 1 one tile
 *     on. Stacked short tile rows are stored to their lanes in turn;
 *   - output: a row's 4 columns of 8 tiles interleaved into 32 floats by
 *     unpacks, shuffles and 128-bit lane swaps, stored whole where they fit.
 * Compiled with -mavx2 -mfma (no FMA is used: the body has none). */
#include <immintrin.h>
#include <stdint.h>
#include <string.h>

#include "f32_winograd.h"

#define WT EMBER_WINO_TILES /* 16: two vectors */

/* Lanes [lo, hi) of a load of 8 floats as a maskload mask. */
static inline __m256i lanes(ptrdiff_t lo, ptrdiff_t hi) {
    const __m256i i = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    const __m256i ge = _mm256_cmpgt_epi32(i, _mm256_set1_epi32((int)(lo - 1)));
    const __m256i lt = _mm256_cmpgt_epi32(_mm256_set1_epi32((int)hi), i);
    return _mm256_and_si256(ge, lt);
}

/* s[q] for q in [q0, q0 + 8), 0 outside [lo, hi): only those addresses read. */
static inline __m256 load8(const float* s, ptrdiff_t q0, ptrdiff_t lo, ptrdiff_t hi) {
    if (q0 >= lo && q0 + 8 <= hi) return _mm256_loadu_ps(s + q0);
    if (q0 + 8 <= lo || q0 >= hi) return _mm256_setzero_ps();
    return _mm256_maskload_ps(s + q0, lanes(lo - q0, hi - q0));
}

/* The 6 column phases of 8 tiles (tile j's patch at s + 4 j): ph[f] lane j =
 * s[4 j + f], s[q] read for q in [lo, hi) (q counted from s) and 0 elsewhere. */
static inline void half_phases(const float* s, ptrdiff_t base, ptrdiff_t lo, ptrdiff_t hi,
                               __m256 ph[6]) {
    const __m256 a = load8(s, base, lo, hi), b = load8(s, base + 8, lo, hi);
    const __m256 c = load8(s, base + 16, lo, hi), d = load8(s, base + 24, lo, hi);
    const __m256 e = load8(s, base + 32, lo, hi); /* columns 32, 33: tile 8's phases 0, 1 */
    /* lane k of a: tile k's 4 phases (tiles 0, 1); b: 2, 3; c: 4, 5; d: 6, 7 */
    const __m256 t0 = _mm256_unpacklo_ps(a, b), t1 = _mm256_unpackhi_ps(a, b);
    const __m256 t2 = _mm256_unpacklo_ps(c, d), t3 = _mm256_unpackhi_ps(c, d);
    /* tiles in the order 0 2 4 6 | 1 3 5 7 */
    const __m256 f0 = _mm256_shuffle_ps(t0, t2, 0x44), f1 = _mm256_shuffle_ps(t0, t2, 0xEE);
    const __m256 f2 = _mm256_shuffle_ps(t1, t3, 0x44), f3 = _mm256_shuffle_ps(t1, t3, 0xEE);
    const __m256i order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
    const __m256i next = _mm256_setr_epi32(4, 1, 5, 2, 6, 3, 7, 7); /* tile j + 1, lane 7 replaced */
    ph[0] = _mm256_permutevar8x32_ps(f0, order);
    ph[1] = _mm256_permutevar8x32_ps(f1, order);
    ph[2] = _mm256_permutevar8x32_ps(f2, order);
    ph[3] = _mm256_permutevar8x32_ps(f3, order);
    ph[4] = _mm256_blend_ps(_mm256_permutevar8x32_ps(f0, next),
                            _mm256_permutevar8x32_ps(e, _mm256_set1_epi32(0)), 0x80);
    ph[5] = _mm256_blend_ps(_mm256_permutevar8x32_ps(f1, next),
                            _mm256_permutevar8x32_ps(e, _mm256_set1_epi32(1)), 0x80);
}

/* B^T (or B on the other axis) of 6 vectors, as the portable body writes it. */
static inline void bt6(const __m256 d[6], __m256 t[6]) {
    const __m256 c2 = _mm256_set1_ps(2.0f), c4 = _mm256_set1_ps(4.0f), c5 = _mm256_set1_ps(5.0f),
                 m4 = _mm256_set1_ps(-4.0f);
    t[0] = _mm256_add_ps(_mm256_sub_ps(_mm256_mul_ps(c4, d[0]), _mm256_mul_ps(c5, d[2])), d[4]);
    t[1] = _mm256_add_ps(_mm256_mul_ps(m4, _mm256_add_ps(d[1], d[2])), _mm256_add_ps(d[3], d[4]));
    t[2] = _mm256_add_ps(_mm256_mul_ps(c4, _mm256_sub_ps(d[1], d[2])), _mm256_sub_ps(d[4], d[3]));
    t[3] = _mm256_add_ps(_mm256_mul_ps(c2, _mm256_sub_ps(d[3], d[1])), _mm256_sub_ps(d[4], d[2]));
    t[4] = _mm256_add_ps(_mm256_mul_ps(c2, _mm256_sub_ps(d[1], d[3])), _mm256_sub_ps(d[4], d[2]));
    t[5] = _mm256_add_ps(_mm256_sub_ps(_mm256_mul_ps(c4, d[1]), _mm256_mul_ps(c5, d[3])), d[5]);
}

void ember_f32_wino43_input__avx2(const float* x, size_t ih, size_t iw, ptrdiff_t y0,
                                  ptrdiff_t x0, size_t ntx, size_t rowlen, float* v, size_t vs) {
    /* d[r][f][lane]: patch row r, column phase f, a lane a tile; 16 lanes
     * spare, which a stacked tile row's whole-vector stores may run into */
    float d[6][6][2 * WT] __attribute__((aligned(32)));
    const ptrdiff_t iws = (ptrdiff_t)iw;
    if (ntx > rowlen) memset(d, 0, sizeof d);
    for (size_t lane0 = 0, g = 0; lane0 < ntx; lane0 += rowlen, g++) {
        const size_t n = ntx - lane0 < rowlen ? ntx - lane0 : rowlen;
        const ptrdiff_t width = (ptrdiff_t)(4 * n + 2);
        const ptrdiff_t lo = x0 < 0 ? -x0 : 0, hi = x0 + width <= iws ? width : iws - x0;
        for (int r = 0; r < 6; r++) {
            const ptrdiff_t yy = y0 + (ptrdiff_t)(4 * g) + r;
            const int inside = yy >= 0 && yy < (ptrdiff_t)ih && hi > lo;
            const float* s = inside ? x + (size_t)yy * iw + x0 : NULL;
            __m256 ph[2][6];
            for (int h = 0; h < 2; h++) {
                if (!inside || 32 * h >= hi) {
                    for (int f = 0; f < 6; f++) ph[h][f] = _mm256_setzero_ps();
                } else {
                    half_phases(s, 32 * h, lo, hi, ph[h]);
                }
            }
            if (ntx <= rowlen) { /* one tile row: lanes 0 .. n - 1 */
                for (int f = 0; f < 6; f++) {
                    _mm256_store_ps(d[r][f], ph[0][f]);
                    _mm256_store_ps(d[r][f] + 8, ph[1][f]);
                }
            } else { /* tile j of this row to lane lane0 + j: whole vectors, whose
                      * lanes past n the next tile row (or nothing) overwrites */
                for (int f = 0; f < 6; f++) {
                    _mm256_storeu_ps(d[r][f] + lane0, ph[0][f]);
                    if (n > 8) _mm256_storeu_ps(d[r][f] + lane0 + 8, ph[1][f]);
                }
            }
        }
    }
    /* rows t = B^T d, then columns V = t B, a half of the tiles at a time */
    for (int h = 0; h < 2; h++) {
        if (8 * (size_t)h >= ntx) break;
        __m256 t[6][6]; /* [k][phase] */
        for (int f = 0; f < 6; f++) {
            __m256 col[6], tk[6];
            for (int r = 0; r < 6; r++) col[r] = _mm256_load_ps(d[r][f] + 8 * h);
            bt6(col, tk);
            for (int k = 0; k < 6; k++) t[k][f] = tk[k];
        }
        const size_t cnt = ntx - 8 * (size_t)h < 8 ? ntx - 8 * (size_t)h : 8;
        for (int k = 0; k < 6; k++) {
            __m256 o[6];
            bt6(t[k], o);
            for (int l = 0; l < 6; l++) {
                float* dst = v + (size_t)(6 * k + l) * vs + 8 * (size_t)h;
                if (cnt == 8) {
                    _mm256_storeu_ps(dst, o[l]);
                } else {
                    float tmp[8] __attribute__((aligned(32)));
                    _mm256_store_ps(tmp, o[l]);
                    memcpy(dst, tmp, cnt * sizeof(float));
                }
            }
        }
    }
}

/* A^T of 6 vectors (rows of the output tile), as the portable body writes it. */
static inline void at6(const __m256 a[6], __m256 r[4]) {
    const __m256 c2 = _mm256_set1_ps(2.0f), c4 = _mm256_set1_ps(4.0f), c8 = _mm256_set1_ps(8.0f);
    const __m256 p12 = _mm256_add_ps(a[1], a[2]), n12 = _mm256_sub_ps(a[1], a[2]),
                 p34 = _mm256_add_ps(a[3], a[4]), n34 = _mm256_sub_ps(a[3], a[4]);
    r[0] = _mm256_add_ps(_mm256_add_ps(a[0], p12), p34);
    r[1] = _mm256_add_ps(n12, _mm256_mul_ps(c2, n34));
    r[2] = _mm256_add_ps(p12, _mm256_mul_ps(c4, p34));
    r[3] = _mm256_add_ps(_mm256_add_ps(n12, _mm256_mul_ps(c8, n34)), a[5]);
}

void ember_f32_wino43_output__avx2(const float* m, size_t ms, size_t ntx, size_t rowlen,
                                   float bias, const ember_f32_gemm_epilogue* ep, float* y,
                                   size_t oh, size_t ow, size_t y0, size_t x0) {
    const __m256 vb = _mm256_set1_ps(bias);
    const __m256 vlo = _mm256_set1_ps(ep ? ep->lo : 0.0f), vhi = _mm256_set1_ps(ep ? ep->hi : 0.0f);
    const size_t n0 = ntx < rowlen ? ntx : rowlen;
    const int whole = n0 == WT && 4 * WT <= ow - x0;
    float line[4][4 * WT] __attribute__((aligned(32))); /* output row i of every tile */
    for (int h = 0; h < 2; h++) {
        /* rows: r[i][l] = A^T M, column l of the tiles */
        __m256 r[4][6];
        for (int l = 0; l < 6; l++) {
            const float* m0 = m + (size_t)l * ms + 8 * (size_t)h;
            const size_t s6 = 6 * ms;
            __m256 a[6], ri[4];
            for (int k = 0; k < 6; k++) a[k] = _mm256_loadu_ps(m0 + (size_t)k * s6);
            at6(a, ri);
            for (int i = 0; i < 4; i++) r[i][l] = ri[i];
        }
        /* columns: Y = r A + bias, interleaved into each row's 32 floats */
        for (int i = 0; i < 4; i++) {
            __m256 o[4];
            at6(r[i], o);
            for (int c = 0; c < 4; c++) {
                o[c] = _mm256_add_ps(o[c], vb);
                if (ep) { /* the GEMM epilogue's clamp: max(lo, v) is v for a NaN v */
                    o[c] = _mm256_min_ps(vhi, _mm256_max_ps(vlo, o[c]));
                    if (ep->zero_plus) o[c] = _mm256_add_ps(o[c], _mm256_setzero_ps());
                }
            }
            const __m256 t0 = _mm256_unpacklo_ps(o[0], o[1]), t1 = _mm256_unpackhi_ps(o[0], o[1]);
            const __m256 t2 = _mm256_unpacklo_ps(o[2], o[3]), t3 = _mm256_unpackhi_ps(o[2], o[3]);
            /* u_k: tile k | tile k + 4, 4 columns each */
            const __m256 u0 = _mm256_shuffle_ps(t0, t2, 0x44), u1 = _mm256_shuffle_ps(t0, t2, 0xEE);
            const __m256 u2 = _mm256_shuffle_ps(t1, t3, 0x44), u3 = _mm256_shuffle_ps(t1, t3, 0xEE);
            if (whole && y0 + (size_t)i >= oh) continue;
            /* a whole run of 16 tiles straight to its output row, else to line */
            float* dst = whole ? y + (y0 + (size_t)i) * ow + x0 + 32 * h : line[i] + 32 * h;
            _mm256_storeu_ps(dst, _mm256_permute2f128_ps(u0, u1, 0x20));
            _mm256_storeu_ps(dst + 8, _mm256_permute2f128_ps(u2, u3, 0x20));
            _mm256_storeu_ps(dst + 16, _mm256_permute2f128_ps(u0, u1, 0x31));
            _mm256_storeu_ps(dst + 24, _mm256_permute2f128_ps(u2, u3, 0x31));
        }
    }
    if (whole) return;
    /* row i of the tiles of tile row g goes to output row y0 + 4 g + i */
    for (int i = 0; i < 4; i++) {
        for (size_t lane0 = 0, g = 0; lane0 < ntx; lane0 += rowlen, g++) {
            const size_t yy = y0 + 4 * g + (size_t)i;
            if (yy >= oh) break;
            const size_t n = ntx - lane0 < rowlen ? ntx - lane0 : rowlen;
            const size_t nx = ow - x0 < 4 * n ? ow - x0 : 4 * n;
            memcpy(y + yy * ow + x0, line[i] + 4 * lane0, nx * sizeof(float));
        }
    }
}
