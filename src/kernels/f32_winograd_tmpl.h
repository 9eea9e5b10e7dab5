/* Body of the Winograd F(4x4, 3x3) transform kernels (see f32_winograd.h and
 * ember_f32_wino_input_fn in dispatch.h), in plain C that the compiler
 * vectorises across EMBER_WINO_TILES tiles with the flags of the file that
 * includes it. That file defines
 *   WINO_IN_FN, WINO_OUT_FN   the names of the two kernels.
 *
 * The tiles of a call are rows of rowlen tiles stacked (one partial row when
 * ntx <= rowlen), so that small images still fill the vectors. Input: the 6
 * rows of each tile row are gathered with their columns split into 6 phases
 * (d[r][ph][j] = column 4 j + ph of tile j's patch, 0 outside the image), so
 * every step after the gather is a contiguous vector operation across tiles. */
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "f32_winograd.h"

#define WT_ EMBER_WINO_TILES

void WINO_IN_FN(const float* x, size_t ih, size_t iw, ptrdiff_t y0, ptrdiff_t x0, size_t ntx,
                size_t rowlen, float* v, size_t vs) {
    float d[6][6 * WT_];
    if (ntx < WT_) memset(d, 0, sizeof d); /* lanes past ntx: computed, never stored */
    const ptrdiff_t iws = (ptrdiff_t)iw;
    float line[4 * WT_ + 2];
    for (size_t lane0 = 0, g = 0; lane0 < ntx; lane0 += rowlen, g++) {
        const size_t n = ntx - lane0 < rowlen ? ntx - lane0 : rowlen;
        const ptrdiff_t width = (ptrdiff_t)(4 * n + 2); /* the columns these tiles read */
        const bool inside = x0 >= 0 && x0 + width <= iws;
        const ptrdiff_t lo = x0 < 0 ? -x0 : 0, hi = x0 + width <= iws ? width : iws - x0;
        for (int r = 0; r < 6; r++) {
            const ptrdiff_t yy = y0 + (ptrdiff_t)(4 * g) + r;
            float* dr = d[r];
            if (yy < 0 || yy >= (ptrdiff_t)ih) {
                for (int ph = 0; ph < 6; ph++)
                    for (size_t j = 0; j < n; j++) dr[ph * WT_ + lane0 + j] = 0.0f;
                continue;
            }
            const float* row = x + (size_t)yy * iw;
            const float* s = row + x0;
            if (!inside) { /* an edge: the columns in the image into a zeroed line */
                memset(line, 0, sizeof line);
                if (hi > lo) memcpy(line + lo, row + x0 + lo, (size_t)(hi - lo) * sizeof(float));
                s = line;
            }
            if (n == WT_)
                for (int j = 0; j < WT_; j++)
                    for (int ph = 0; ph < 6; ph++) dr[ph * WT_ + j] = s[4 * j + ph];
            else
                for (size_t j = 0; j < n; j++)
                    for (int ph = 0; ph < 6; ph++) dr[ph * WT_ + lane0 + j] = s[4 * j + ph];
        }
    }
    /* rows: t = B^T d, across the 6 phases of every tile */
    float t[6][6 * WT_];
    for (int q = 0; q < 6 * WT_; q++) {
        const float d0 = d[0][q], d1 = d[1][q], d2 = d[2][q], d3 = d[3][q], d4 = d[4][q],
                    d5 = d[5][q];
        t[0][q] = 4.0f * d0 - 5.0f * d2 + d4;
        t[1][q] = -4.0f * (d1 + d2) + (d3 + d4);
        t[2][q] = 4.0f * (d1 - d2) + (d4 - d3);
        t[3][q] = 2.0f * (d3 - d1) + (d4 - d2);
        t[4][q] = 2.0f * (d1 - d3) + (d4 - d2);
        t[5][q] = 4.0f * d1 - 5.0f * d3 + d5;
    }
    /* columns: V = t B, column c of tile j at phase c */
    for (int k = 0; k < 6; k++) {
        const float* tk = t[k];
        float o[6][WT_];
        for (int j = 0; j < WT_; j++) {
            const float c0 = tk[j], c1 = tk[WT_ + j], c2 = tk[2 * WT_ + j], c3 = tk[3 * WT_ + j],
                        c4 = tk[4 * WT_ + j], c5 = tk[5 * WT_ + j];
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

void WINO_OUT_FN(const float* m, size_t ms, size_t ntx, size_t rowlen, float bias,
                 const ember_f32_gemm_epilogue* ep, float* y, size_t oh, size_t ow, size_t y0,
                 size_t x0) {
    const float lo = ep ? ep->lo : 0.0f, hi = ep ? ep->hi : 0.0f;
    const int zp = ep && ep->zero_plus;
    /* all EMBER_WINO_TILES tiles are read (the caller keeps them readable);
     * those past ntx are computed and dropped */
    float r[4][6][WT_]; /* rows: r = A^T M */
    for (int l = 0; l < 6; l++) {
        const float* m0 = m + (size_t)l * ms;
        const size_t s6 = 6 * ms;
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
    /* columns: Y = r A, plus bias; row i of the tiles of row group g goes to
     * output row y0 + 4 g + i */
    const size_t n0 = ntx < rowlen ? ntx : rowlen;
    for (int i = 0; i < 4; i++) {
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
        float line[4 * WT_];
        for (int j = 0; j < WT_; j++)
            for (int c = 0; c < 4; c++) line[4 * j + c] = o[c][j];
        if (ep) /* the GEMM epilogue's clamp (ember_f32_gemm_epilogue_row) */
            for (int q = 0; q < 4 * WT_; q++) {
                float v = line[q] < lo ? lo : line[q];
                v = v > hi ? hi : v;
                line[q] = zp ? v + 0.0f : v;
            }
        if (n0 == WT_ && 4 * WT_ <= ow - x0 && y0 + (size_t)i < oh) { /* one full row */
            memcpy(y + (y0 + (size_t)i) * ow + x0, line, sizeof line);
            continue;
        }
        for (size_t lane0 = 0, g = 0; lane0 < ntx; lane0 += rowlen, g++) {
            const size_t yy = y0 + 4 * g + (size_t)i;
            if (yy >= oh) break;
            const size_t n = ntx - lane0 < rowlen ? ntx - lane0 : rowlen;
            const size_t nx = ow - x0 < 4 * n ? ow - x0 : 4 * n;
            float* yr = y + yy * ow + x0;
            for (size_t q = 0; q < nx; q++) yr[q] = line[4 * lane0 + q];
        }
    }
}

#undef WT_
