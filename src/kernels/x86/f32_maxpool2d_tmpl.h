/* The body of the x86 2-D max pools (f32_pool2d.h), included by
 * f32_maxpool2d_{avx2,avx512}.c after their vector vocabulary:
 *   MP_V, MP_L                the vector type and its lanes
 *   MP_LOADU(p), MP_STOREU(p, v), MP_SET1(x)
 *   MP_MAX_NAN(m, v)          max_nan lane for lane: v where v > m or v is NaN
 *   MP_LOAD_PART(p, n)        n < MP_L floats at p, no read past them
 *   MP_STORE_PART(p, n, v)    the first n < MP_L lanes of v to p, nothing past
 *   MP_PAD_NINF(v, n)         v with its lanes from n on -inf
 *   MP_EVENS(p)               the even lanes of the 2 * MP_L floats at p
 *   MP_FN                     the function's name
 * ember_f32_maxpool2d's separable passes: each output row's window rows are
 * reduced into a padded row buffer (-inf around the image columns), then each
 * output reduces its columns of the buffer; strides 1 and 2 gather their
 * columns in registers, other strides and dilations take the portable loop.
 * The vertical pass fills a strip of up to 8 rows before the horizontal pass
 * reads them: a load right after the stores it overlaps, at another
 * alignment, cannot be forwarded and waits for them to reach the cache. The
 * same operations in the same order as the portable pool: the same bits. */
#include <math.h>
#include <stddef.h>

#include "f32_pool2d.h"

static inline float max_nan(float m, float v) { return ((v > m) | (v != v)) ? v : m; }

/* Up to MP_L outputs at y (n of them): a whole vector, or a row's last ones. */
static inline void store_out(float* y, size_t n, MP_V v) {
    if (n >= MP_L)
        MP_STOREU(y, v);
    else
        MP_STORE_PART(y, n, v);
}

/* The vertical pass of output row i into row (the image row columns at pl ..
 * pl + n; the columns around were set to -inf once, and a last partial
 * vector stores -inf past the image, where they are); false when the whole
 * row of windows lies in the padding. */
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
    for (; q + MP_L <= n; q += MP_L) {
        MP_V m = MP_LOADU(first + q);
        for (size_t u = u0 + 1; u < u1; u++)
            m = MP_MAX_NAN(m, MP_LOADU(first + (u - u0) * dh * iw + q));
        MP_STOREU(row + pl + q, m);
    }
    if (q < n) {
        MP_V m = MP_LOAD_PART(first + q, n - q);
        for (size_t u = u0 + 1; u < u1; u++)
            m = MP_MAX_NAN(m, MP_LOAD_PART(first + (u - u0) * dh * iw + q, n - q));
        MP_STOREU(row + pl + q, MP_PAD_NINF(m, n - q)); /* the buffer has room */
    }
    return 1;
}

/* The horizontal pass of one output row from its vertical maxima in buf. */
static inline void cols_from(const ember_window* w, const float* buf, float* y) {
    const size_t ow = w->out[2], kw = w->kernel[2], sw = w->stride[2], dw = w->dilation[2];
    if (sw == 1 && dw == 1) {
        for (size_t j = 0; j < ow; j += MP_L) {
            MP_V m = MP_LOADU(buf + j);
            for (size_t t = 1; t < kw; t++) m = MP_MAX_NAN(m, MP_LOADU(buf + j + t));
            store_out(y + j, ow - j, m);
        }
    } else if (sw == 2 && dw == 1) {
        /* tap t of outputs j .. j + MP_L - 1: the even lanes of buf[2j + t ..] */
        for (size_t j = 0; j < ow; j += MP_L) {
            const float* b = buf + 2 * j;
            MP_V m = MP_EVENS(b);
            for (size_t t = 1; t < kw; t++) m = MP_MAX_NAN(m, MP_EVENS(b + t));
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
 * (and 64 floats past width, read by the strided gathers' unused lanes). */
void MP_FN(size_t planes, const ember_window* w, const float* x, float* y) {
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
    const MP_V ninf = MP_SET1(-INFINITY);
    for (size_t r = 0; r < rows; r++) {
        float* row = buf + r * stride;
        for (size_t q = 0; q < lo; q++) row[q] = -INFINITY;
        for (size_t q = hi; q < width + 64; q++) row[q] = -INFINITY;
    }
    int live[STRIP_ROWS];
    for (size_t p = 0; p < planes; p++, x += ih * iw) {
        for (size_t i0 = 0; i0 < oh; i0 += rows) {
            const size_t i1 = i0 + rows < oh ? i0 + rows : oh;
            for (size_t i = i0; i < i1; i++)
                live[i - i0] = rows_into(w, i, n, x, buf + (i - i0) * stride);
            for (size_t i = i0; i < i1; i++, y += ow) {
                if (live[i - i0])
                    cols_from(w, buf + (i - i0) * stride, y);
                else
                    for (size_t j = 0; j < ow; j += MP_L) store_out(y + j, ow - j, ninf);
            }
        }
    }
}
