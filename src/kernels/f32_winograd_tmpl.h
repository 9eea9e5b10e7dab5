/* Body of the Winograd F(4x4, 3x3) transform kernels (see f32_winograd.h), in
 * plain C that the compiler vectorises across EMBER_WINO_TILES tiles with the
 * flags of the file that includes it. That file defines
 *   WINO_IN_FN, WINO_OUT_FN   the names of the two kernels.
 *
 * Input: the 6 input rows of the tile row are first copied with their columns
 * split into 4 phases (d[r][ph][j] = row[x0 + 4 j + ph], 0 outside the image),
 * so that column c of tile j is phase c % 4, element j + c / 4: every step
 * after the copy is a contiguous vector operation across tiles. */
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "f32_winograd.h"

#define WT_ EMBER_WINO_TILES
#define WP_ (EMBER_WINO_TILES + 1)

void WINO_IN_FN(const float* x, size_t ih, size_t iw, ptrdiff_t y0, ptrdiff_t x0, size_t ntx,
                float* v, size_t vs) {
    float d[6][4 * WP_];
    const ptrdiff_t iws = (ptrdiff_t)iw;
    const bool inside = x0 >= 0 && x0 + 4 * WP_ <= iws;
    for (int r = 0; r < 6; r++) {
        const ptrdiff_t yy = y0 + r;
        float* dr = d[r];
        if (yy < 0 || yy >= (ptrdiff_t)ih) {
            memset(dr, 0, sizeof d[r]);
            continue;
        }
        const float* row = x + (size_t)yy * iw;
        if (inside) {
            const float* s = row + x0;
            for (int j = 0; j < WP_; j++)
                for (int ph = 0; ph < 4; ph++) dr[ph * WP_ + j] = s[4 * j + ph];
        } else {
            for (int j = 0; j < WP_; j++)
                for (int ph = 0; ph < 4; ph++) {
                    const ptrdiff_t xx = x0 + 4 * j + ph;
                    dr[ph * WP_ + j] = xx >= 0 && xx < iws ? row[xx] : 0.0f;
                }
        }
    }
    /* rows: t = B^T d, across all 4 * WP_ phase-split columns */
    float t[6][4 * WP_];
    for (int q = 0; q < 4 * WP_; q++) {
        const float d0 = d[0][q], d1 = d[1][q], d2 = d[2][q], d3 = d[3][q], d4 = d[4][q],
                    d5 = d[5][q];
        t[0][q] = 4.0f * d0 - 5.0f * d2 + d4;
        t[1][q] = -4.0f * (d1 + d2) + (d3 + d4);
        t[2][q] = 4.0f * (d1 - d2) + (d4 - d3);
        t[3][q] = 2.0f * (d3 - d1) + (d4 - d2);
        t[4][q] = 2.0f * (d1 - d3) + (d4 - d2);
        t[5][q] = 4.0f * d1 - 5.0f * d3 + d5;
    }
    /* columns: V = t B, tile j's column c at phase c % 4, element j + c / 4 */
    for (int k = 0; k < 6; k++) {
        const float* tk = t[k];
        float o[6][WT_];
        for (int j = 0; j < WT_; j++) {
            const float c0 = tk[j], c1 = tk[WP_ + j], c2 = tk[2 * WP_ + j], c3 = tk[3 * WP_ + j],
                        c4 = tk[j + 1], c5 = tk[WP_ + j + 1];
            o[0][j] = 4.0f * c0 - 5.0f * c2 + c4;
            o[1][j] = -4.0f * (c1 + c2) + (c3 + c4);
            o[2][j] = 4.0f * (c1 - c2) + (c4 - c3);
            o[3][j] = 2.0f * (c3 - c1) + (c4 - c2);
            o[4][j] = 2.0f * (c1 - c3) + (c4 - c2);
            o[5][j] = 4.0f * c1 - 5.0f * c3 + c5;
        }
        for (int l = 0; l < 6; l++) {
            float* dst = v + (size_t)(6 * k + l) * vs;
            if (ntx == WT_)
                for (int j = 0; j < WT_; j++) dst[j] = o[l][j];
            else
                for (size_t j = 0; j < ntx; j++) dst[j] = o[l][j];
        }
    }
}

void WINO_OUT_FN(const float* m, size_t ms, size_t ntx, float bias, float* y, size_t oh,
                 size_t ow, size_t y0, size_t x0) {
    float mm[36][WT_];
    const float* src = m;
    size_t ss = ms;
    if (ntx < WT_) { /* a partial tile row: zero the missing tiles */
        for (int p = 0; p < 36; p++)
            for (int j = 0; j < WT_; j++) mm[p][j] = (size_t)j < ntx ? m[(size_t)p * ms + j] : 0.0f;
        src = mm[0];
        ss = WT_;
    }
    /* rows: r = A^T M */
    float r[4][6][WT_];
    for (int l = 0; l < 6; l++) {
        const float* m0 = src + (size_t)l * ss;
        const size_t s6 = 6 * ss;
        for (int j = 0; j < WT_; j++) {
            const float a0 = m0[j], a1 = m0[s6 + j], a2 = m0[2 * s6 + j], a3 = m0[3 * s6 + j],
                        a4 = m0[4 * s6 + j], a5 = m0[5 * s6 + j];
            const float p12 = a1 + a2, n12 = a1 - a2, p34 = a3 + a4, n34 = a3 - a4;
            r[0][l][j] = a0 + p12 + p34;
            r[1][l][j] = n12 + 2.0f * n34;
            r[2][l][j] = p12 + 4.0f * p34;
            r[3][l][j] = n12 + 8.0f * n34 + a5;
        }
    }
    /* columns: Y = r A, plus bias; row i of the tile row goes to output row y0 + i */
    const size_t nx = ow - x0 < 4 * ntx ? ow - x0 : 4 * ntx;
    for (int i = 0; i < 4 && y0 + (size_t)i < oh; i++) {
        float o[4][WT_];
        for (int j = 0; j < WT_; j++) {
            const float a0 = r[i][0][j], a1 = r[i][1][j], a2 = r[i][2][j], a3 = r[i][3][j],
                        a4 = r[i][4][j], a5 = r[i][5][j];
            const float p12 = a1 + a2, n12 = a1 - a2, p34 = a3 + a4, n34 = a3 - a4;
            o[0][j] = a0 + p12 + p34 + bias;
            o[1][j] = n12 + 2.0f * n34 + bias;
            o[2][j] = p12 + 4.0f * p34 + bias;
            o[3][j] = n12 + 8.0f * n34 + a5 + bias;
        }
        float* yr = y + (y0 + (size_t)i) * ow + x0;
        if (nx == 4 * WT_)
            for (int j = 0; j < WT_; j++)
                for (int c = 0; c < 4; c++) yr[4 * j + c] = o[c][j];
        else
            for (size_t q = 0; q < nx; q++) yr[q] = o[q & 3][q >> 2];
    }
}

#undef WT_
#undef WP_
