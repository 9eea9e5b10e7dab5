/* Separable 2-D pooling and vectorisable global pools; see f32_pool2d.h. */
#include "f32_pool2d.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

/* max that lets NaN through: once m is NaN it stays NaN. Written with a
 * bitwise | so that the loops below vectorise into compare + blend. */
static inline float max_nan(float m, float v) { return ((v > m) | (v != v)) ? v : m; }

/* The padded row: buffer column q is image column q - pad_left, for
 * q < width = (ow - 1) * sw + (kw - 1) * dw + 1. */
static size_t row_width(const ember_window* w) {
    return (w->out[2] - 1) * w->stride[2] + (w->kernel[2] - 1) * w->dilation[2] + 1;
}

bool ember_f32_pool2d_applies(const ember_window* w) {
    if (w->image[0] != 1 || w->out[0] != 1 || w->kernel[0] != 1 || w->pad[0] != 0) return false;
    for (int a = 1; a < 3; a++)
        if (w->pad[a] < 0 || w->image[a] < 1 || w->out[a] < 1 || w->kernel[a] < 1 ||
            w->stride[a] < 1 || w->dilation[a] < 1 || w->kernel[a] > EMBER_POOL2D_MAX_ROW ||
            w->stride[a] > EMBER_POOL2D_MAX_ROW || w->dilation[a] > EMBER_POOL2D_MAX_ROW ||
            w->out[a] > EMBER_POOL2D_MAX_ROW || (size_t)w->pad[a] > EMBER_POOL2D_MAX_ROW)
            return false;
    return row_width(w) <= EMBER_POOL2D_MAX_ROW;
}

/* Sets the buffer columns outside the image to fill and returns how many image
 * columns (from column 0, at buffer column pad_left) the buffer holds. */
static size_t row_span(const ember_window* w, size_t width, float fill, float* buf) {
    const size_t pl = (size_t)w->pad[2], iw = w->image[2];
    size_t lo = pl < width ? pl : width;
    size_t hi = pl + iw < width ? pl + iw : width;
    for (size_t q = 0; q < lo; q++) buf[q] = fill;
    for (size_t q = hi; q < width; q++) buf[q] = fill;
    return hi > lo ? hi - pl : 0;
}

/* Image rows of output row i: first row r0 (may be negative) and the valid taps
 * u in [u0, u1) with row r0 + u * dh inside the image. */
static void row_taps(const ember_window* w, size_t i, ptrdiff_t* r0, size_t* u0, size_t* u1) {
    const ptrdiff_t dh = (ptrdiff_t)w->dilation[1], ih = (ptrdiff_t)w->image[1];
    *r0 = (ptrdiff_t)(i * w->stride[1]) - w->pad[1];
    size_t a = 0, b = w->kernel[1];
    while (a < b && *r0 + (ptrdiff_t)a * dh < 0) a++;
    while (b > a && *r0 + (ptrdiff_t)(b - 1) * dh >= ih) b--;
    *u0 = a;
    *u1 = b;
}

void ember_f32_maxpool2d(size_t planes, const ember_window* w, const float* x, float* y) {
    float buf[EMBER_POOL2D_MAX_ROW];
    const size_t ih = w->image[1], iw = w->image[2], oh = w->out[1], ow = w->out[2];
    const size_t kw = w->kernel[2], sw = w->stride[2], dw = w->dilation[2], dh = w->dilation[1];
    const size_t width = row_width(w), pl = (size_t)w->pad[2];
    for (size_t p = 0; p < planes; p++, x += ih * iw) {
        for (size_t i = 0; i < oh; i++, y += ow) {
            ptrdiff_t r0;
            size_t u0, u1;
            row_taps(w, i, &r0, &u0, &u1);
            if (u0 == u1) { /* the whole row of windows lies in the padding */
                for (size_t j = 0; j < ow; j++) y[j] = -INFINITY;
                continue;
            }
            const size_t n = row_span(w, width, -INFINITY, buf);
            float* dst = buf + pl;
            const float* first = x + (size_t)(r0 + (ptrdiff_t)(u0 * dh)) * iw;
            size_t u = u0 + 1;
            if (u1 - u0 >= 3) { /* three rows in one pass (3x3 windows): no copy, no re-reads */
                const float* s1 = first + dh * iw;
                const float* s2 = s1 + dh * iw;
                for (size_t q = 0; q < n; q++) dst[q] = max_nan(max_nan(first[q], s1[q]), s2[q]);
                u += 2;
            } else {
                memcpy(dst, first, n * sizeof(float));
            }
            for (; u < u1; u++) {
                const float* src = x + (size_t)(r0 + (ptrdiff_t)(u * dh)) * iw;
                for (size_t q = 0; q < n; q++) dst[q] = max_nan(dst[q], src[q]);
            }
            if (kw == 3 && dw == 1 && sw == 2) { /* resnet's and squeezenet's pool */
                for (size_t j = 0; j < ow; j++)
                    y[j] = max_nan(max_nan(buf[2 * j], buf[2 * j + 1]), buf[2 * j + 2]);
            } else if (kw == 3 && dw == 1 && sw == 1) {
                for (size_t j = 0; j < ow; j++)
                    y[j] = max_nan(max_nan(buf[j], buf[j + 1]), buf[j + 2]);
            } else if (kw == 2 && dw == 1 && sw == 2) {
                for (size_t j = 0; j < ow; j++) y[j] = max_nan(buf[2 * j], buf[2 * j + 1]);
            } else {
                for (size_t j = 0; j < ow; j++) {
                    const float* b = buf + j * sw;
                    float m = b[0];
                    for (size_t t = 1; t < kw; t++) m = max_nan(m, b[t * dw]);
                    y[j] = m;
                }
            }
        }
    }
}

/* Taps of the window at o along axis a landing in [lo, hi). */
static size_t taps_in(const ember_window* w, int a, size_t o, ptrdiff_t lo, ptrdiff_t hi) {
    const ptrdiff_t s = (ptrdiff_t)(o * w->stride[a]) - w->pad[a];
    size_t n = 0;
    for (size_t t = 0; t < w->kernel[a]; t++) {
        const ptrdiff_t q = s + (ptrdiff_t)(t * w->dilation[a]);
        n += q >= lo && q < hi;
    }
    return n;
}

void ember_f32_avgpool2d(size_t planes, const ember_window* w, int count_include_pad,
                         const float* x, float* y) {
    float buf[EMBER_POOL2D_MAX_ROW];
    float col_count[EMBER_POOL2D_MAX_ROW];
    const size_t ih = w->image[1], iw = w->image[2], oh = w->out[1], ow = w->out[2];
    const size_t kw = w->kernel[2], sw = w->stride[2], dw = w->dilation[2], dh = w->dilation[1];
    const size_t width = row_width(w), pl = (size_t)w->pad[2];
    for (size_t j = 0; j < ow; j++)
        col_count[j] = (float)(count_include_pad
                                   ? taps_in(w, 2, j, -w->pad[2], (ptrdiff_t)iw + w->pad_end[2])
                                   : taps_in(w, 2, j, 0, (ptrdiff_t)iw));
    for (size_t p = 0; p < planes; p++, x += ih * iw) {
        for (size_t i = 0; i < oh; i++, y += ow) {
            ptrdiff_t r0;
            size_t u0, u1;
            row_taps(w, i, &r0, &u0, &u1);
            const float rows = (float)(count_include_pad
                                           ? taps_in(w, 1, i, -w->pad[1], (ptrdiff_t)ih + w->pad_end[1])
                                           : u1 - u0);
            const size_t n = row_span(w, width, 0.0f, buf);
            float* dst = buf + pl;
            if (u0 == u1) {
                memset(dst, 0, n * sizeof(float));
            } else {
                memcpy(dst, x + (size_t)(r0 + (ptrdiff_t)(u0 * dh)) * iw, n * sizeof(float));
                for (size_t u = u0 + 1; u < u1; u++) {
                    const float* src = x + (size_t)(r0 + (ptrdiff_t)(u * dh)) * iw;
                    for (size_t q = 0; q < n; q++) dst[q] += src[q];
                }
            }
            for (size_t j = 0; j < ow; j++) {
                const float* b = buf + j * sw;
                float s = b[0];
                for (size_t t = 1; t < kw; t++) s += b[t * dw];
                const float count = rows * col_count[j];
                y[j] = count > 0.0f ? s / count : NAN;
            }
        }
    }
}

void ember_f32_global_avgpool(size_t planes, size_t size, const float* x, float* y) {
    for (size_t p = 0; p < planes; p++, x += size) {
        float acc[16] = {0};
        size_t i = 0;
        for (; i + 16 <= size; i += 16)
            for (size_t l = 0; l < 16; l++) acc[l] += x[i + l];
        for (size_t l = 0; i < size; i++, l++) acc[l] += x[i];
        for (size_t h = 8; h > 0; h /= 2)
            for (size_t l = 0; l < h; l++) acc[l] += acc[l + h];
        y[p] = size ? acc[0] / (float)size : NAN;
    }
}

void ember_f32_global_maxpool(size_t planes, size_t size, const float* x, float* y) {
    for (size_t p = 0; p < planes; p++, x += size) {
        float acc[16];
        for (size_t l = 0; l < 16; l++) acc[l] = -INFINITY;
        size_t i = 0;
        for (; i + 16 <= size; i += 16)
            for (size_t l = 0; l < 16; l++) acc[l] = max_nan(acc[l], x[i + l]);
        for (size_t l = 0; i < size; i++, l++) acc[l] = max_nan(acc[l], x[i]);
        float m = acc[0];
        for (size_t l = 1; l < 16; l++) m = max_nan(m, acc[l]);
        y[p] = m;
    }
}

void ember_f32_global_avgpool_blocked(size_t blocks, size_t size, size_t L, const float* x,
                                      float* y) {
    float acc[16][64]; /* [position mod 16][lane] */
    for (size_t b = 0; b < blocks; b++, x += size * L, y += L) {
        for (size_t r = 0; r < 16; r++)
            for (size_t l = 0; l < L; l++) acc[r][l] = 0.0f;
        size_t i = 0;
        for (; i + 16 <= size; i += 16)
            for (size_t r = 0; r < 16; r++)
                for (size_t l = 0; l < L; l++) acc[r][l] += x[(i + r) * L + l];
        for (size_t r = 0; i < size; i++, r++)
            for (size_t l = 0; l < L; l++) acc[r][l] += x[i * L + l];
        for (size_t h = 8; h > 0; h /= 2)
            for (size_t r = 0; r < h; r++)
                for (size_t l = 0; l < L; l++) acc[r][l] += acc[r + h][l];
        for (size_t l = 0; l < L; l++) y[l] = size ? acc[0][l] / (float)size : NAN;
    }
}
