/* F32 2-D max pooling, AVX-512F: ember_f32_maxpool2d's separable passes (the
 * window rows reduced into a padded row buffer, then each output reduces its
 * columns of the buffer) on 16 lanes, with masked tails instead of scalar
 * loops (mobile and ImageNet pools have rows of 13 to 112 floats). Strides 1
 * and 2 gather their columns in registers; other strides and dilations take
 * the portable loop. The max lets NaN through exactly as the portable
 * max_nan, ties keep the running value: the same bits. Compiled with
 * -mavx512f -mavx512bw -mavx512vl -mfma. */
#include <immintrin.h>
#include <math.h>
#include <stdint.h>

#include "f32_pool2d.h"

/* max_nan lane for lane: maxps(v, m) is v > m ? v : m (m on ties), then v
 * where v is NaN */
static inline __m512 vmax_nan(__m512 m, __m512 v) {
    return _mm512_mask_mov_ps(_mm512_max_ps(v, m), _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q), v);
}
static inline float max_nan(float m, float v) { return ((v > m) | (v != v)) ? v : m; }

static inline __mmask16 tail(size_t n) {
    return n >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << n) - 1u);
}

/* The vertical pass of one output row i into row (the image row columns at
 * pl .. pl + n; the columns around were set to -inf once); false when the
 * whole row of windows lies in the padding. */
static inline int rows_into(const ember_window* w, size_t i, size_t n, const float* x, float* row) {
    const size_t ih = w->image[1], iw = w->image[2], kh = w->kernel[1], sh = w->stride[1];
    const size_t dh = w->dilation[1], pl = (size_t)w->pad[2];
    const ptrdiff_t r0 = (ptrdiff_t)(i * sh) - w->pad[1];
    size_t u0 = 0, u1 = kh;
    while (u0 < u1 && r0 + (ptrdiff_t)(u0 * dh) < 0) u0++;
    while (u1 > u0 && r0 + (ptrdiff_t)((u1 - 1) * dh) >= (ptrdiff_t)ih) u1--;
    if (u0 == u1) return 0;
    const float* first = x + (size_t)(r0 + (ptrdiff_t)(u0 * dh)) * iw;
    for (size_t q = 0; q < n; q += 16) {
        const __mmask16 k = tail(n - q);
        __m512 m = _mm512_maskz_loadu_ps(k, first + q);
        for (size_t u = u0 + 1; u < u1; u++)
            m = vmax_nan(m, _mm512_maskz_loadu_ps(k, first + (u - u0) * dh * iw + q));
        _mm512_mask_storeu_ps(row + pl + q, k, m);
    }
    return 1;
}

/* The horizontal pass of one output row from its vertical maxima in b. */
static inline void cols_from(const ember_window* w, const float* buf, float* y) {
    const size_t ow = w->out[2], kw = w->kernel[2], sw = w->stride[2], dw = w->dilation[2];
    const __m512i ev = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    if (sw == 1 && dw == 1) {
        for (size_t j = 0; j < ow; j += 16) {
            __m512 m = _mm512_loadu_ps(buf + j);
            for (size_t t = 1; t < kw; t++) m = vmax_nan(m, _mm512_loadu_ps(buf + j + t));
            _mm512_mask_storeu_ps(y + j, tail(ow - j), m);
        }
    } else if (sw == 2 && dw == 1) {
        /* tap t of outputs j .. j + 15: the even lanes of buf[2j + t ..] */
        for (size_t j = 0; j < ow; j += 16) {
            const float* b = buf + 2 * j;
            __m512 m = _mm512_permutex2var_ps(_mm512_loadu_ps(b), ev, _mm512_loadu_ps(b + 16));
            for (size_t t = 1; t < kw; t++)
                m = vmax_nan(m, _mm512_permutex2var_ps(_mm512_loadu_ps(b + t), ev,
                                                       _mm512_loadu_ps(b + t + 16)));
            _mm512_mask_storeu_ps(y + j, tail(ow - j), m);
        }
    } else {
        for (size_t j = 0; j < ow; j++) {
            const float* b = buf + j * sw;
            float m = b[0];
            for (size_t t = 1; t < kw; t++) m = max_nan(m, b[t * dw]);
            y[j] = m;
        }
    }
}

#define STRIP_FLOATS (2 * (EMBER_POOL2D_MAX_ROW + 64))
#define STRIP_ROWS 8

/* buf row r, q < width: the image row columns at pl .. pl + n, -inf around
 * (and 48 floats past width, read by the strided gathers' masked-off lanes).
 * The vertical pass fills a strip of up to 8 rows before the horizontal pass
 * reads them: a load right after the stores it overlaps, at another
 * alignment, cannot be forwarded and waits for them to reach the cache. */
void ember_f32_maxpool2d__avx512(size_t planes, const ember_window* w, const float* x, float* y) {
    float buf[STRIP_FLOATS] __attribute__((aligned(64)));
    const size_t ih = w->image[1], iw = w->image[2], oh = w->out[1], ow = w->out[2];
    const size_t kw = w->kernel[2], sw = w->stride[2], dw = w->dilation[2];
    const size_t pl = (size_t)w->pad[2];
    const size_t width = (ow - 1) * sw + (kw - 1) * dw + 1;
    const size_t lo = pl < width ? pl : width, hi = pl + iw < width ? pl + iw : width;
    const size_t n = hi > lo ? hi - pl : 0; /* image columns the buffer holds */
    const size_t stride = (width + 64 + 15) / 16 * 16;
    size_t rows = STRIP_FLOATS / stride;
    if (rows > STRIP_ROWS) rows = STRIP_ROWS;
    const __m512 ninf = _mm512_set1_ps(-INFINITY);
    for (size_t r = 0; r < rows; r++) {
        float* row = buf + r * stride;
        for (size_t q = 0; q < lo; q++) row[q] = -INFINITY;
        for (size_t q = hi; q < width + 64; q++) row[q] = -INFINITY;
    }
    int live[STRIP_ROWS];
    for (size_t p = 0; p < planes; p++, x += ih * iw) {
        for (size_t i0 = 0; i0 < oh; i0 += rows) {
            const size_t i1 = i0 + rows < oh ? i0 + rows : oh;
            for (size_t i = i0; i < i1; i++) live[i - i0] = rows_into(w, i, n, x, buf + (i - i0) * stride);
            for (size_t i = i0; i < i1; i++, y += ow) {
                if (live[i - i0])
                    cols_from(w, buf + (i - i0) * stride, y);
                else
                    for (size_t j = 0; j < ow; j += 16) _mm512_mask_storeu_ps(y + j, tail(ow - j), ninf);
            }
        }
    }
}

/* The same pool on one channel-blocked plane of 16 lanes (x: ih x iw x 16, y:
 * oh x ow x 16): each lane the portable pool's value by the same operations
 * in the same order (the window's valid rows reduced per column, -inf for a
 * padded column, then the columns in tap order), computed per output. */
void ember_f32_maxpool2d_c16__avx512(const ember_window* w, const float* x, float* y) {
    const size_t ih = w->image[1], iw = w->image[2], oh = w->out[1], ow = w->out[2];
    const size_t kh = w->kernel[1], kw = w->kernel[2], sh = w->stride[1], sw = w->stride[2];
    const size_t dh = w->dilation[1], dw = w->dilation[2];
    const __m512 ninf = _mm512_set1_ps(-INFINITY);
    for (size_t i = 0; i < oh; i++) {
        const ptrdiff_t r0 = (ptrdiff_t)(i * sh) - w->pad[1];
        size_t u0 = 0, u1 = kh;
        while (u0 < u1 && r0 + (ptrdiff_t)(u0 * dh) < 0) u0++;
        while (u1 > u0 && r0 + (ptrdiff_t)((u1 - 1) * dh) >= (ptrdiff_t)ih) u1--;
        float* yr = y + i * ow * 16;
        if (u0 == u1) {
            for (size_t j = 0; j < ow; j++) _mm512_storeu_ps(yr + j * 16, ninf);
            continue;
        }
        const float* first = x + (size_t)(r0 + (ptrdiff_t)(u0 * dh)) * iw * 16;
        for (size_t j = 0; j < ow; j++) {
            __m512 m = ninf;
            for (size_t t = 0; t < kw; t++) {
                const ptrdiff_t c = (ptrdiff_t)(j * sw + t * dw) - w->pad[2];
                __m512 v = ninf;
                if (c >= 0 && c < (ptrdiff_t)iw) {
                    const float* xc = first + (size_t)c * 16;
                    v = _mm512_loadu_ps(xc);
                    for (size_t u = u0 + 1; u < u1; u++)
                        v = vmax_nan(v, _mm512_loadu_ps(xc + (u - u0) * dh * iw * 16));
                }
                m = t == 0 ? v : vmax_nan(m, v);
            }
            _mm512_storeu_ps(yr + j * 16, m);
        }
    }
}
