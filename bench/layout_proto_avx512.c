/* Prototype AVX-512 kernels for bench/layout_bench.c: see layout_proto.h.
 * Compiled with -mavx512f -mfma (bench/meson.build). */
#include "layout_proto.h"

#include <immintrin.h>
#include <string.h>

/* ---- layout conversion ---- */

/* 16 x 16 block: dst row i (ds apart) = src column i (src rows ss apart). */
static inline void tr16(const float* src, size_t ss, float* dst, size_t ds) {
    __m512 r[16], t[16];
    for (int i = 0; i < 16; i++) r[i] = _mm512_loadu_ps(src + (size_t)i * ss);
    for (int i = 0; i < 8; i++) {
        t[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
        t[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
    }
    for (int i = 0; i < 4; i++) {
        r[4 * i + 0] = _mm512_shuffle_ps(t[4 * i], t[4 * i + 2], 0x44);
        r[4 * i + 1] = _mm512_shuffle_ps(t[4 * i], t[4 * i + 2], 0xEE);
        r[4 * i + 2] = _mm512_shuffle_ps(t[4 * i + 1], t[4 * i + 3], 0x44);
        r[4 * i + 3] = _mm512_shuffle_ps(t[4 * i + 1], t[4 * i + 3], 0xEE);
    }
    /* r[4i + q], 128-bit lane j: rows 4i..4i+3 of column 4j + q */
    for (int q = 0; q < 4; q++) {
        t[q] = _mm512_shuffle_f32x4(r[q], r[4 + q], 0x88);
        t[q + 4] = _mm512_shuffle_f32x4(r[q], r[4 + q], 0xDD);
        t[q + 8] = _mm512_shuffle_f32x4(r[8 + q], r[12 + q], 0x88);
        t[q + 12] = _mm512_shuffle_f32x4(r[8 + q], r[12 + q], 0xDD);
    }
    for (int q = 0; q < 4; q++) {
        r[q] = _mm512_shuffle_f32x4(t[q], t[q + 8], 0x88);
        r[q + 8] = _mm512_shuffle_f32x4(t[q], t[q + 8], 0xDD);
        r[q + 4] = _mm512_shuffle_f32x4(t[q + 4], t[q + 12], 0x88);
        r[q + 12] = _mm512_shuffle_f32x4(t[q + 4], t[q + 12], 0xDD);
    }
    for (int i = 0; i < 16; i++) _mm512_storeu_ps(dst + (size_t)i * ds, r[i]);
}

void lp_transpose(size_t rows, size_t cols, const float* src, size_t ss, float* dst, size_t ds) {
    const size_t r16 = rows / 16 * 16, c16 = cols / 16 * 16;
    for (size_t i = 0; i < r16; i += 16) {
        for (size_t j = 0; j < c16; j += 16) tr16(src + i * ss + j, ss, dst + j * ds + i, ds);
        for (size_t j = c16; j < cols; j++)
            for (size_t ii = i; ii < i + 16; ii++) dst[j * ds + ii] = src[ii * ss + j];
    }
    for (size_t i = r16; i < rows; i++)
        for (size_t j = 0; j < cols; j++) dst[j * ds + i] = src[i * ss + j];
}

void lp_nchw_to_nhwc(size_t c, size_t hw, const float* x, float* y) {
    lp_transpose(c, hw, x, hw, y, c);
}

void lp_nhwc_to_nchw(size_t c, size_t hw, const float* x, float* y) {
    lp_transpose(hw, c, x, c, y, hw);
}

void lp_nchw_to_nchw16c(size_t c, size_t hw, const float* x, float* y) {
    for (size_t c0 = 0; c0 < c; c0 += 16) {
        const size_t n = c - c0 < 16 ? c - c0 : 16;
        float* yb = y + c0 * hw;
        if (n < 16) /* zero the padded lanes: the kernels read them */
            for (size_t p = 0; p < hw; p++) memset(yb + p * 16 + n, 0, (16 - n) * sizeof(float));
        lp_transpose(n, hw, x + c0 * hw, hw, yb, 16);
    }
}

void lp_nchw16c_to_nchw(size_t c, size_t hw, const float* x, float* y) {
    for (size_t c0 = 0; c0 < c; c0 += 16) {
        const size_t n = c - c0 < 16 ? c - c0 : 16;
        lp_transpose(hw, n, x + c0 * hw, 16, y + c0 * hw, hw);
    }
}

/* ---- depthwise 3x3 ---- */

static inline __m512 dw_point(const float* xb, size_t ih, size_t iw, size_t xh, size_t xw,
                              long iy0, long ix0, const __m512* wv, __m512 acc) {
    const int inner = iy0 >= 0 && iy0 + 2 < (long)ih && ix0 >= 0 && ix0 + 2 < (long)iw;
    if (inner) {
        const float* p = xb + (size_t)iy0 * xh + (size_t)ix0 * xw;
        for (int ky = 0; ky < 3; ky++)
            for (int kx = 0; kx < 3; kx++)
                acc = _mm512_fmadd_ps(_mm512_loadu_ps(p + ky * xh + kx * xw), wv[ky * 3 + kx],
                                      acc);
        return acc;
    }
    for (int ky = 0; ky < 3; ky++) {
        const long iy = iy0 + ky;
        if (iy < 0 || iy >= (long)ih) continue;
        for (int kx = 0; kx < 3; kx++) {
            const long ix = ix0 + kx;
            if (ix < 0 || ix >= (long)iw) continue;
            acc = _mm512_fmadd_ps(_mm512_loadu_ps(xb + (size_t)iy * xh + (size_t)ix * xw),
                                  wv[ky * 3 + kx], acc);
        }
    }
    return acc;
}

static inline void dw_row(size_t ih, size_t iw, size_t ow, size_t s, const float* xb, size_t xh,
                          size_t xw, const __m512* wv, __m512 b, float* yr, size_t yw, size_t oy) {
    const long iy0 = (long)(oy * s) - 1;
    for (size_t ox = 0; ox < ow; ox++) {
        const __m512 acc = dw_point(xb, ih, iw, xh, xw, iy0, (long)(ox * s) - 1, wv, b);
        _mm512_storeu_ps(yr + ox * yw, acc);
    }
}

void lp_dw3x3(size_t c, size_t ih, size_t iw, size_t oh, size_t ow, size_t s, const float* x,
              size_t xc, size_t xh, size_t xw, const float* w16, const float* bias, float* y,
              size_t yc, size_t yh, size_t yw, int cb_outer) {
    const size_t cbs = c / 16;
    if (cb_outer) {
        for (size_t cb = 0; cb < cbs; cb++) {
            __m512 wv[9];
            for (int t = 0; t < 9; t++) wv[t] = _mm512_loadu_ps(w16 + (cb * 9 + t) * 16);
            const __m512 b = _mm512_loadu_ps(bias + cb * 16);
            for (size_t oy = 0; oy < oh; oy++)
                dw_row(ih, iw, ow, s, x + cb * xc, xh, xw, wv, b, y + cb * yc + oy * yh, yw, oy);
        }
    } else {
        for (size_t oy = 0; oy < oh; oy++)
            for (size_t cb = 0; cb < cbs; cb++) {
                __m512 wv[9];
                for (int t = 0; t < 9; t++) wv[t] = _mm512_loadu_ps(w16 + (cb * 9 + t) * 16);
                const __m512 b = _mm512_loadu_ps(bias + cb * 16);
                dw_row(ih, iw, ow, s, x + cb * xc, xh, xw, wv, b, y + cb * yc + oy * yh, yw, oy);
            }
    }
}

/* ---- pointwise in NCHW16c ---- */

/* P pixels x NB (1 or 2) blocks of 16 output channels; inlined with constants. */
static inline __attribute__((always_inline)) void pw_tile(int P, int NB, size_t kp, size_t hw,
                                                          const float* x, const float* w0,
                                                          float* y) {
    __m512 acc0[12], acc1[12];
    for (int p = 0; p < P; p++) acc0[p] = acc1[p] = _mm512_setzero_ps();
    const float* w1 = w0 + kp * 16;
    for (size_t k0 = 0; k0 < kp; k0 += 16) {
        const float* xb = x + k0 * hw;
        for (int kk = 0; kk < 16; kk++) {
            const __m512 a0 = _mm512_load_ps(w0 + (k0 + kk) * 16);
            const __m512 a1 = NB > 1 ? _mm512_load_ps(w1 + (k0 + kk) * 16) : a0;
            for (int p = 0; p < P; p++) {
                const __m512 xv = _mm512_set1_ps(xb[p * 16 + kk]);
                acc0[p] = _mm512_fmadd_ps(a0, xv, acc0[p]);
                if (NB > 1) acc1[p] = _mm512_fmadd_ps(a1, xv, acc1[p]);
            }
        }
    }
    for (int p = 0; p < P; p++) {
        _mm512_storeu_ps(y + (size_t)p * 16, acc0[p]);
        if (NB > 1) _mm512_storeu_ps(y + hw * 16 + (size_t)p * 16, acc1[p]);
    }
}

#define PW_CASE(P)                                                    \
    case P:                                                           \
        if (nb == 2)                                                  \
            pw_tile(P, 2, kp, hw, x, w, y);                           \
        else                                                          \
            pw_tile(P, 1, kp, hw, x, w, y);                           \
        break;

static void pw_tile_any(size_t p, size_t nb, size_t kp, size_t hw, const float* x,
                        const float* w, float* y) {
    switch (p) {
        PW_CASE(1) PW_CASE(2) PW_CASE(3) PW_CASE(4) PW_CASE(5) PW_CASE(6)
        PW_CASE(7) PW_CASE(8) PW_CASE(9) PW_CASE(10) PW_CASE(11) PW_CASE(12)
        default: break;
    }
}

void lp_pw_nchw16c(size_t mp, size_t kp, size_t hw, const float* x, const float* w16, float* y) {
    const size_t mb = mp / 16;
    for (size_t p0 = 0; p0 < hw; p0 += 12) {
        const size_t p = hw - p0 < 12 ? hw - p0 : 12;
        for (size_t b = 0; b < mb; b += 2) {
            const size_t nb = mb - b < 2 ? mb - b : 2;
            pw_tile_any(p, nb, kp, hw, x + p0 * 16, w16 + b * kp * 16, y + b * hw * 16 + p0 * 16);
        }
    }
}

/* ---- pointwise in NCHW, direct ---- */

/* R output channels (rows) x 2 vectors of pixels (masks m0, m1). */
static inline __attribute__((always_inline)) void pwn_tile(int R, size_t k, size_t hw,
                                                           const float* x, const float* w,
                                                           float* y, __mmask16 m0,
                                                           __mmask16 m1) {
    const int full = m0 == 0xFFFF && m1 == 0xFFFF;
    __m512 acc0[12], acc1[12];
    for (int r = 0; r < R; r++) acc0[r] = acc1[r] = _mm512_setzero_ps();
    for (size_t p = 0; p < k; p++) {
        const __m512 b0 = full ? _mm512_loadu_ps(x + p * hw) : _mm512_maskz_loadu_ps(m0, x + p * hw);
        const __m512 b1 =
            full ? _mm512_loadu_ps(x + p * hw + 16) : _mm512_maskz_loadu_ps(m1, x + p * hw + 16);
        for (int r = 0; r < R; r++) {
            const __m512 a = _mm512_set1_ps(w[p * 12 + (size_t)r]);
            acc0[r] = _mm512_fmadd_ps(a, b0, acc0[r]);
            acc1[r] = _mm512_fmadd_ps(a, b1, acc1[r]);
        }
    }
    for (int r = 0; r < R; r++) {
        if (full) {
            _mm512_storeu_ps(y + (size_t)r * hw, acc0[r]);
            _mm512_storeu_ps(y + (size_t)r * hw + 16, acc1[r]);
        } else {
            _mm512_mask_storeu_ps(y + (size_t)r * hw, m0, acc0[r]);
            _mm512_mask_storeu_ps(y + (size_t)r * hw + 16, m1, acc1[r]);
        }
    }
}

#define PWN_CASE(R)                                    \
    case R:                                            \
        if (m0 == 0xFFFF && m1 == 0xFFFF)              \
            pwn_tile(R, k, hw, x, w, y, 0xFFFF, 0xFFFF); \
        else                                           \
            pwn_tile(R, k, hw, x, w, y, m0, m1);       \
        break;

static void pwn_tile_any(size_t rows, size_t k, size_t hw, const float* x, const float* w,
                         float* y, __mmask16 m0, __mmask16 m1) {
    switch (rows) {
        PWN_CASE(1) PWN_CASE(2) PWN_CASE(3) PWN_CASE(4) PWN_CASE(5) PWN_CASE(6)
        PWN_CASE(7) PWN_CASE(8) PWN_CASE(9) PWN_CASE(10) PWN_CASE(11) PWN_CASE(12)
        default: break;
    }
}

void lp_pw_nchw_direct(size_t m, size_t k, size_t hw, const float* x, const float* w12, float* y) {
    for (size_t p0 = 0; p0 < hw; p0 += 32) {
        const size_t n = hw - p0 < 32 ? hw - p0 : 32;
        const __mmask16 m0 = (__mmask16)(n >= 16 ? 0xFFFFu : (1u << n) - 1u);
        const __mmask16 m1 = (__mmask16)(n >= 32 ? 0xFFFFu : n > 16 ? (1u << (n - 16)) - 1u : 0u);
        for (size_t i = 0; i < m; i += 12) {
            const size_t rows = m - i < 12 ? m - i : 12;
            pwn_tile_any(rows, k, hw, x + p0, w12 + i * k, y + i * hw + p0, m0, m1);
        }
    }
}
