/* Winograd F(4x4, 3x3) transforms, AVX-512F: 16 tiles a vector, one lane a
 * tile. The same additions and multiplications in the same order as the
 * portable body (f32_winograd_tmpl.h, which the other paths compile; the
 * build contracts nothing into FMAs), so the same bits. What differs is the
 * data movement, which the compiler left scalar there (a profile of
 * squeezenet1_1 had the two transforms at 40 % of its Winograd time):
 *   - input: a patch row is read with masked loads (0 outside the image, so
 *     no edge copy) and split into the 6 column phases of the 16 tiles by
 *     two-source permutes; phases 4 and 5 are phases 0 and 1 one tile on;
 *   - output: the 4 columns of each output row are interleaved into the
 *     row's 64 floats by unpacks and 128-bit lane shuffles, stored whole
 *     (masked at the right edge).
 * Stacked short tile rows (rowlen < 16) take the same steps a tile row at a
 * time, moved to that row's lanes. Compiled with -mavx512f -mavx512bw
 * -mavx512vl -mfma. */
#include <immintrin.h>
#include <stdint.h>

#include "f32_winograd.h"

#define WT EMBER_WINO_TILES

/* Lanes [lo, hi) set, clipped to [0, 16). */
static inline __mmask16 lane_range(ptrdiff_t lo, ptrdiff_t hi) {
    if (lo < 0) lo = 0;
    if (hi > WT) hi = WT;
    if (hi <= lo) return 0;
    return (__mmask16)(((1u << (hi - lo)) - 1u) << lo);
}

/* a's lanes 1..15, then b's lane 0 (the vector one tile on) */
static inline __m512 next_tile(__m512 a, __m512 b) {
    return _mm512_castsi512_ps(
        _mm512_alignr_epi32(_mm512_castps_si512(b), _mm512_castps_si512(a), 1));
}

/* The 6 column phases of 16 tiles in one patch row: lane j of ph[f] is
 * s[4 j + f], where s[q] is read for q in [lo, hi) and is 0 elsewhere (only
 * those addresses are touched). */
static inline __attribute__((always_inline)) void row_phases(const float* s, ptrdiff_t lo,
                                                             ptrdiff_t hi, __m512 ph[6]) {
    __m512 z[5];
    for (int q = 0; q < 5; q++) {
        const __mmask16 k = lane_range(lo - 16 * q, hi - 16 * q);
        z[q] = _mm512_maskz_loadu_ps(k, s + 16 * q);
    }
    const __m512i stride4 =
        _mm512_set_epi32(60, 56, 52, 48, 44, 40, 36, 32, 28, 24, 20, 16, 12, 8, 4, 0);
    for (int f = 0; f < 4; f++) {
        /* tiles 0-7 read s[0..31] = z0:z1, tiles 8-15 s[32..63] = z2:z3 (the
         * permute takes the index's low 5 bits) */
        const __m512i idx = _mm512_add_epi32(stride4, _mm512_set1_epi32(f));
        const __m512 lo8 = _mm512_permutex2var_ps(z[0], idx, z[1]);
        const __m512 hi8 = _mm512_permutex2var_ps(z[2], idx, z[3]);
        ph[f] = _mm512_mask_blend_ps((__mmask16)0xFF00, lo8, hi8);
    }
    /* s[4 j + 4] is phase 0 of tile j + 1: lane 15 is s[64]; s[4 j + 5] likewise, s[65] */
    ph[4] = next_tile(ph[0], z[4]);
    ph[5] = next_tile(ph[1], next_tile(z[4], z[4]));
}

void ember_f32_wino43_input__avx512(const float* x, size_t ih, size_t iw, ptrdiff_t y0,
                                    ptrdiff_t x0, size_t ntx, size_t rowlen, float* v, size_t vs) {
    __m512 d[6][6]; /* [patch row][column phase], a lane a tile */
    const ptrdiff_t iws = (ptrdiff_t)iw;
    const __m512i lane = _mm512_set_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0);
    if (ntx > rowlen)
        for (int r = 0; r < 6; r++)
            for (int f = 0; f < 6; f++) d[r][f] = _mm512_setzero_ps();
    for (size_t lane0 = 0, g = 0; lane0 < ntx; lane0 += rowlen, g++) {
        const size_t n = ntx - lane0 < rowlen ? ntx - lane0 : rowlen;
        /* the columns of x's rows these tiles read: s[q] = row[x0 + q] */
        const ptrdiff_t width = (ptrdiff_t)(4 * n + 2);
        const ptrdiff_t lo = x0 < 0 ? -x0 : 0, hi = x0 + width <= iws ? width : iws - x0;
        const __mmask16 mine = lane_range((ptrdiff_t)lane0, (ptrdiff_t)(lane0 + n));
        const __m512i shift = _mm512_and_si512(_mm512_sub_epi32(lane, _mm512_set1_epi32((int)lane0)),
                                               _mm512_set1_epi32(WT - 1));
        for (int r = 0; r < 6; r++) {
            const ptrdiff_t yy = y0 + (ptrdiff_t)(4 * g) + r;
            __m512 ph[6];
            if (yy < 0 || yy >= (ptrdiff_t)ih || hi <= lo) {
                for (int f = 0; f < 6; f++) ph[f] = _mm512_setzero_ps();
            } else {
                row_phases(x + (size_t)yy * iw + x0, lo, hi, ph);
            }
            if (ntx <= rowlen) { /* one tile row: its lanes are 0 .. n - 1 */
                for (int f = 0; f < 6; f++) d[r][f] = ph[f];
            } else { /* tile j of this row to lane lane0 + j */
                for (int f = 0; f < 6; f++)
                    d[r][f] = _mm512_mask_mov_ps(d[r][f], mine, _mm512_permutexvar_ps(shift, ph[f]));
            }
        }
    }
    /* rows: t = B^T d, a column phase at a time */
    __m512 t[6][6];
    const __m512 c2 = _mm512_set1_ps(2.0f), c4 = _mm512_set1_ps(4.0f), c5 = _mm512_set1_ps(5.0f),
                 m4 = _mm512_set1_ps(-4.0f);
    for (int f = 0; f < 6; f++) {
        const __m512 d0 = d[0][f], d1 = d[1][f], d2 = d[2][f], d3 = d[3][f], d4 = d[4][f],
                     d5 = d[5][f];
        t[0][f] = _mm512_add_ps(_mm512_sub_ps(_mm512_mul_ps(c4, d0), _mm512_mul_ps(c5, d2)), d4);
        t[1][f] = _mm512_add_ps(_mm512_mul_ps(m4, _mm512_add_ps(d1, d2)), _mm512_add_ps(d3, d4));
        t[2][f] = _mm512_add_ps(_mm512_mul_ps(c4, _mm512_sub_ps(d1, d2)), _mm512_sub_ps(d4, d3));
        t[3][f] = _mm512_add_ps(_mm512_mul_ps(c2, _mm512_sub_ps(d3, d1)), _mm512_sub_ps(d4, d2));
        t[4][f] = _mm512_add_ps(_mm512_mul_ps(c2, _mm512_sub_ps(d1, d3)), _mm512_sub_ps(d4, d2));
        t[5][f] = _mm512_add_ps(_mm512_sub_ps(_mm512_mul_ps(c4, d1), _mm512_mul_ps(c5, d3)), d5);
    }
    /* columns: V = t B; element 6 k + l of every tile */
    const __mmask16 keep = lane_range(0, (ptrdiff_t)ntx);
    for (int k = 0; k < 6; k++) {
        const __m512 a0 = t[k][0], a1 = t[k][1], a2 = t[k][2], a3 = t[k][3], a4 = t[k][4],
                     a5 = t[k][5];
        __m512 o[6];
        o[0] = _mm512_add_ps(_mm512_sub_ps(_mm512_mul_ps(c4, a0), _mm512_mul_ps(c5, a2)), a4);
        o[1] = _mm512_add_ps(_mm512_mul_ps(m4, _mm512_add_ps(a1, a2)), _mm512_add_ps(a3, a4));
        o[2] = _mm512_add_ps(_mm512_mul_ps(c4, _mm512_sub_ps(a1, a2)), _mm512_sub_ps(a4, a3));
        o[3] = _mm512_add_ps(_mm512_mul_ps(c2, _mm512_sub_ps(a3, a1)), _mm512_sub_ps(a4, a2));
        o[4] = _mm512_add_ps(_mm512_mul_ps(c2, _mm512_sub_ps(a1, a3)), _mm512_sub_ps(a4, a2));
        o[5] = _mm512_add_ps(_mm512_sub_ps(_mm512_mul_ps(c4, a1), _mm512_mul_ps(c5, a3)), a5);
        for (int l = 0; l < 6; l++) {
            float* dst = v + (size_t)(6 * k + l) * vs;
            if (ntx == WT) _mm512_storeu_ps(dst, o[l]);
            else _mm512_mask_storeu_ps(dst, keep, o[l]);
        }
    }
}

/* The row of 16 tiles' 4-column outputs o[c] (lane j: tile j) as 64 floats
 * in image order: out[q] lanes 4 i + c = o[c][4 q + i]. */
static inline __attribute__((always_inline)) void interleave4(const __m512 o[4], __m512 out[4]) {
    const __m512 t0 = _mm512_unpacklo_ps(o[0], o[1]); /* lane k: o0[4k] o1[4k] o0[4k+1] o1[4k+1] */
    const __m512 t1 = _mm512_unpackhi_ps(o[0], o[1]); /*         o0[4k+2] o1[4k+2] o0[4k+3] o1[4k+3] */
    const __m512 t2 = _mm512_unpacklo_ps(o[2], o[3]);
    const __m512 t3 = _mm512_unpackhi_ps(o[2], o[3]);
    /* u_i, 128-bit lane k: tile 4 k + i's four columns */
    const __m512 u0 = _mm512_shuffle_ps(t0, t2, 0x44), u1 = _mm512_shuffle_ps(t0, t2, 0xEE);
    const __m512 u2 = _mm512_shuffle_ps(t1, t3, 0x44), u3 = _mm512_shuffle_ps(t1, t3, 0xEE);
    /* out[q] = 128-bit lane q of u0, u1, u2, u3 */
    const __m512 v0 = _mm512_shuffle_f32x4(u0, u1, 0x44), v1 = _mm512_shuffle_f32x4(u2, u3, 0x44);
    const __m512 v2 = _mm512_shuffle_f32x4(u0, u1, 0xEE), v3 = _mm512_shuffle_f32x4(u2, u3, 0xEE);
    out[0] = _mm512_shuffle_f32x4(v0, v1, 0x88);
    out[1] = _mm512_shuffle_f32x4(v0, v1, 0xDD);
    out[2] = _mm512_shuffle_f32x4(v2, v3, 0x88);
    out[3] = _mm512_shuffle_f32x4(v2, v3, 0xDD);
}

/* Floats [at, at + 16) of the 64 in line[0..3] (at a multiple of 4; past the
 * 64th, 0). */
static inline __m512 line16(const __m512 line[4], size_t at) {
    const size_t q = at / 16;
    const __m512i lo = _mm512_castps_si512(line[q]);
    const __m512i hi = q + 1 < 4 ? _mm512_castps_si512(line[q + 1]) : _mm512_setzero_si512();
    switch (at % 16) {
    case 4: return _mm512_castsi512_ps(_mm512_alignr_epi32(hi, lo, 4));
    case 8: return _mm512_castsi512_ps(_mm512_alignr_epi32(hi, lo, 8));
    case 12: return _mm512_castsi512_ps(_mm512_alignr_epi32(hi, lo, 12));
    default: return line[q];
    }
}

void ember_f32_wino43_output__avx512(const float* m, size_t ms, size_t ntx, size_t rowlen,
                                     float bias, const ember_f32_gemm_epilogue* ep, float* y,
                                     size_t oh, size_t ow, size_t y0, size_t x0) {
    /* rows: r = A^T M, r[i][l] for output row i and tile column l */
    __m512 r[4][6];
    const __m512 c2 = _mm512_set1_ps(2.0f), c4 = _mm512_set1_ps(4.0f), c8 = _mm512_set1_ps(8.0f);
    for (int l = 0; l < 6; l++) {
        const float* m0 = m + (size_t)l * ms;
        const size_t s6 = 6 * ms;
        const __m512 a0 = _mm512_loadu_ps(m0), a1 = _mm512_loadu_ps(m0 + s6),
                     a2 = _mm512_loadu_ps(m0 + 2 * s6), a3 = _mm512_loadu_ps(m0 + 3 * s6),
                     a4 = _mm512_loadu_ps(m0 + 4 * s6), a5 = _mm512_loadu_ps(m0 + 5 * s6);
        const __m512 p12 = _mm512_add_ps(a1, a2), n12 = _mm512_sub_ps(a1, a2),
                     p34 = _mm512_add_ps(a3, a4), n34 = _mm512_sub_ps(a3, a4);
        r[0][l] = _mm512_add_ps(_mm512_add_ps(a0, p12), p34);
        r[1][l] = _mm512_add_ps(n12, _mm512_mul_ps(c2, n34));
        r[2][l] = _mm512_add_ps(p12, _mm512_mul_ps(c4, p34));
        r[3][l] = _mm512_add_ps(_mm512_add_ps(n12, _mm512_mul_ps(c8, n34)), a5);
    }
    /* columns: Y = r A + bias; row i of the tiles of tile row g goes to output
     * row y0 + 4 g + i */
    const __m512 vb = _mm512_set1_ps(bias);
    const __m512 vlo = _mm512_set1_ps(ep ? ep->lo : 0.0f), vhi = _mm512_set1_ps(ep ? ep->hi : 0.0f);
    const size_t n0 = ntx < rowlen ? ntx : rowlen;
    const int whole = n0 == WT && 4 * WT <= ow - x0;
    for (int i = 0; i < 4; i++) {
        const __m512 a0 = r[i][0], a1 = r[i][1], a2 = r[i][2], a3 = r[i][3], a4 = r[i][4],
                     a5 = r[i][5];
        const __m512 p12 = _mm512_add_ps(a1, a2), n12 = _mm512_sub_ps(a1, a2),
                     p34 = _mm512_add_ps(a3, a4), n34 = _mm512_sub_ps(a3, a4);
        __m512 o[4], line[4];
        o[0] = _mm512_add_ps(_mm512_add_ps(_mm512_add_ps(a0, p12), p34), vb);
        o[1] = _mm512_add_ps(_mm512_add_ps(n12, _mm512_mul_ps(c2, n34)), vb);
        o[2] = _mm512_add_ps(_mm512_add_ps(p12, _mm512_mul_ps(c4, p34)), vb);
        o[3] = _mm512_add_ps(_mm512_add_ps(_mm512_add_ps(n12, _mm512_mul_ps(c8, n34)), a5), vb);
        if (ep) /* the GEMM epilogue's clamp: max(lo, v) is v for a NaN v */
            for (int c = 0; c < 4; c++) {
                o[c] = _mm512_min_ps(vhi, _mm512_max_ps(vlo, o[c]));
                if (ep->zero_plus) o[c] = _mm512_add_ps(o[c], _mm512_setzero_ps());
            }
        interleave4(o, line);
        if (whole) {
            if (y0 + (size_t)i < oh) {
                float* yr = y + (y0 + (size_t)i) * ow + x0;
                for (int q = 0; q < 4; q++) _mm512_storeu_ps(yr + 16 * q, line[q]);
            }
            continue;
        }
        /* straight from the registers (a copy through a buffer stalled on
         * store forwarding), the last vector masked at the right edge */
        if (ntx <= rowlen) { /* one tile row */
            if (y0 + (size_t)i >= oh) continue;
            const size_t nx = ow - x0 < 4 * ntx ? ow - x0 : 4 * ntx;
            float* yr = y + (y0 + (size_t)i) * ow + x0;
            for (size_t q = 0; q < 4 && 16 * q < nx; q++) {
                if (16 * q + 16 <= nx) _mm512_storeu_ps(yr + 16 * q, line[q]);
                else _mm512_mask_storeu_ps(yr + 16 * q, lane_range(0, (ptrdiff_t)(nx - 16 * q)),
                                           line[q]);
            }
            continue;
        }
        for (size_t lane0 = 0, g = 0; lane0 < ntx; lane0 += rowlen, g++) { /* stacked rows */
            const size_t yy = y0 + 4 * g + (size_t)i;
            if (yy >= oh) break;
            const size_t n = ntx - lane0 < rowlen ? ntx - lane0 : rowlen;
            const size_t nx = ow - x0 < 4 * n ? ow - x0 : 4 * n;
            float* yr = y + yy * ow + x0;
            for (size_t q = 0; q < nx; q += 16) {
                const __m512 v = line16(line, 4 * lane0 + q);
                if (q + 16 <= nx) _mm512_storeu_ps(yr + q, v);
                else _mm512_mask_storeu_ps(yr + q, lane_range(0, (ptrdiff_t)(nx - q)), v);
            }
        }
    }
}
