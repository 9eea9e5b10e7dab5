/* F32 2-D max pooling, AVX2: the AVX-512 kernel's passes
 * (x86/f32_maxpool2d_avx512.c) on 8 lanes: the window rows reduced into a
 * strip of padded row buffers, then each output reduces its columns of a row
 * buffer; masked loads and stores for the tails, strides 1 and 2 gathered in
 * registers (stride 2: the even lanes of two vectors), other strides and
 * dilations the portable loop. The max lets NaN through exactly as the
 * portable max_nan, ties keep the running value: the same bits. Compiled
 * with -mavx2 -mfma. */
#include <immintrin.h>
#include <math.h>
#include <stdint.h>

#include "f32_pool2d.h"

/* max_nan lane for lane: maxps(v, m) is v > m ? v : m (m on ties), then v
 * where v is NaN */
static inline __m256 vmax_nan(__m256 m, __m256 v) {
    return _mm256_blendv_ps(_mm256_max_ps(v, m), v, _mm256_cmp_ps(v, v, _CMP_UNORD_Q));
}
static inline float max_nan(float m, float v) { return ((v > m) | (v != v)) ? v : m; }

/* Lanes i < n set (all for n >= 8), as maskload / maskstore want them. */
static inline __m256i tail(size_t n) {
    const __m256i idx = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(n >= 8 ? 8 : (int)n), idx);
}

/* The even lanes of a (0..7) then of b: columns 0, 2, .., 14 of the 16 at a. */
static inline __m256 evens(__m256 a, __m256 b) {
    const __m256 s = _mm256_shuffle_ps(a, b, _MM_SHUFFLE(2, 0, 2, 0)); /* a0 a2 b0 b2 | a4 a6 b4 b6 */
    return _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(s), _MM_SHUFFLE(3, 1, 2, 0)));
}

/* Up to 8 outputs at y (n of them): a whole vector, or the row's tail. */
static inline void store_out(float* y, size_t n, __m256 v) {
    if (n >= 8)
        _mm256_storeu_ps(y, v);
    else
        _mm256_maskstore_ps(y, tail(n), v);
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
    size_t q = 0;
    for (; q + 8 <= n; q += 8) {
        __m256 m = _mm256_loadu_ps(first + q);
        for (size_t u = u0 + 1; u < u1; u++)
            m = vmax_nan(m, _mm256_loadu_ps(first + (u - u0) * dh * iw + q));
        _mm256_storeu_ps(row + pl + q, m);
    }
    if (q < n) { /* the last columns: masked loads (no read past the image), and -inf
                  * stored past them, where the row buffer holds -inf anyway (a
                  * masked store is slow on some cores) */
        const __m256i k = tail(n - q);
        __m256 m = _mm256_maskload_ps(first + q, k);
        for (size_t u = u0 + 1; u < u1; u++)
            m = vmax_nan(m, _mm256_maskload_ps(first + (u - u0) * dh * iw + q, k));
        _mm256_storeu_ps(row + pl + q, _mm256_blendv_ps(_mm256_set1_ps(-INFINITY), m,
                                                        _mm256_castsi256_ps(k)));
    }
    return 1;
}

/* The horizontal pass of one output row from its vertical maxima in buf. */
static inline void cols_from(const ember_window* w, const float* buf, float* y) {
    const size_t ow = w->out[2], kw = w->kernel[2], sw = w->stride[2], dw = w->dilation[2];
    if (sw == 1 && dw == 1) {
        for (size_t j = 0; j < ow; j += 8) {
            __m256 m = _mm256_loadu_ps(buf + j);
            for (size_t t = 1; t < kw; t++) m = vmax_nan(m, _mm256_loadu_ps(buf + j + t));
            store_out(y + j, ow - j, m);
        }
    } else if (sw == 2 && dw == 1) {
        /* tap t of outputs j .. j + 7: the even lanes of buf[2j + t ..] */
        for (size_t j = 0; j < ow; j += 8) {
            const float* b = buf + 2 * j;
            __m256 m = evens(_mm256_loadu_ps(b), _mm256_loadu_ps(b + 8));
            for (size_t t = 1; t < kw; t++)
                m = vmax_nan(m, evens(_mm256_loadu_ps(b + t), _mm256_loadu_ps(b + t + 8)));
            store_out(y + j, ow - j, m);
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
 * (and 64 floats past width, read by the strided gathers' unstored lanes).
 * The vertical pass fills a strip of up to 8 rows before the horizontal pass
 * reads them: a load right after the stores it overlaps, at another
 * alignment, cannot be forwarded and waits for them to reach the cache. */
void ember_f32_maxpool2d__avx2(size_t planes, const ember_window* w, const float* x, float* y) {
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
    const __m256 ninf = _mm256_set1_ps(-INFINITY);
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
                    for (size_t j = 0; j < ow; j += 8) store_out(y + j, ow - j, ninf);
            }
        }
    }
}
