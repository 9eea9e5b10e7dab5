/* Reference pooling over up to three spatial dims. */
#include <math.h>

#include "nn_ref.h"

static size_t volume(const size_t* d) { return d[0] * d[1] * d[2]; }

/* Along axis a, the taps t of output position o: first image position of the
 * window (may be negative). */
static ptrdiff_t start(const ember_window* w, int a, size_t o) {
    return (ptrdiff_t)(o * w->stride[a]) - w->pad[a];
}

static int inside(ptrdiff_t p, size_t n) { return p >= 0 && p < (ptrdiff_t)n; }

void ember_f32_maxpool_ref(size_t planes, const ember_window* w, const float* x, float* y) {
    const size_t in_vol = volume(w->image);
    for (size_t p = 0; p < planes; p++, x += in_vol) {
        for (size_t od = 0; od < w->out[0]; od++)
            for (size_t oh = 0; oh < w->out[1]; oh++)
                for (size_t ow = 0; ow < w->out[2]; ow++) {
                    float m = -INFINITY;
                    for (size_t kd = 0; kd < w->kernel[0]; kd++) {
                        const ptrdiff_t id = start(w, 0, od) + (ptrdiff_t)(kd * w->dilation[0]);
                        if (!inside(id, w->image[0])) continue;
                        for (size_t kh = 0; kh < w->kernel[1]; kh++) {
                            const ptrdiff_t ih =
                                start(w, 1, oh) + (ptrdiff_t)(kh * w->dilation[1]);
                            if (!inside(ih, w->image[1])) continue;
                            for (size_t kw = 0; kw < w->kernel[2]; kw++) {
                                const ptrdiff_t iw =
                                    start(w, 2, ow) + (ptrdiff_t)(kw * w->dilation[2]);
                                if (!inside(iw, w->image[2])) continue;
                                const float v = x[((size_t)id * w->image[1] + (size_t)ih) *
                                                      w->image[2] + (size_t)iw];
                                if (v > m || isnan(v)) m = v;
                                if (isnan(m)) goto done;
                            }
                        }
                    }
                done:
                    *y++ = m;
                }
    }
}

/* Number of taps of the window at o along axis a that land in [lo, hi). */
static size_t count_taps(const ember_window* w, int a, size_t o, ptrdiff_t lo, ptrdiff_t hi) {
    size_t n = 0;
    for (size_t t = 0; t < w->kernel[a]; t++) {
        const ptrdiff_t q = start(w, a, o) + (ptrdiff_t)(t * w->dilation[a]);
        if (q >= lo && q < hi) n++;
    }
    return n;
}

void ember_f32_avgpool_ref(size_t planes, const ember_window* w, int count_include_pad,
                           const float* x, float* y) {
    const size_t in_vol = volume(w->image);
    for (size_t p = 0; p < planes; p++, x += in_vol) {
        for (size_t od = 0; od < w->out[0]; od++)
            for (size_t oh = 0; oh < w->out[1]; oh++)
                for (size_t ow = 0; ow < w->out[2]; ow++) {
                    const size_t o[3] = {od, oh, ow};
                    size_t count = 1;
                    for (int a = 0; a < 3; a++) {
                        if (count_include_pad)
                            count *= count_taps(w, a, o[a], -w->pad[a],
                                                (ptrdiff_t)w->image[a] + w->pad_end[a]);
                        else
                            count *= count_taps(w, a, o[a], 0, (ptrdiff_t)w->image[a]);
                    }
                    float sum = 0.0f;
                    for (size_t kd = 0; kd < w->kernel[0]; kd++) {
                        const ptrdiff_t id = start(w, 0, od) + (ptrdiff_t)(kd * w->dilation[0]);
                        if (!inside(id, w->image[0])) continue;
                        for (size_t kh = 0; kh < w->kernel[1]; kh++) {
                            const ptrdiff_t ih =
                                start(w, 1, oh) + (ptrdiff_t)(kh * w->dilation[1]);
                            if (!inside(ih, w->image[1])) continue;
                            for (size_t kw = 0; kw < w->kernel[2]; kw++) {
                                const ptrdiff_t iw =
                                    start(w, 2, ow) + (ptrdiff_t)(kw * w->dilation[2]);
                                if (!inside(iw, w->image[2])) continue;
                                sum += x[((size_t)id * w->image[1] + (size_t)ih) * w->image[2] +
                                         (size_t)iw];
                            }
                        }
                    }
                    *y++ = count ? sum / (float)count : NAN;
                }
    }
}

void ember_f32_global_avgpool_ref(size_t planes, size_t size, const float* x, float* y) {
    for (size_t p = 0; p < planes; p++, x += size) {
        double s = 0.0;
        for (size_t i = 0; i < size; i++) s += x[i];
        y[p] = size ? (float)(s / (double)size) : NAN;
    }
}

void ember_f32_global_maxpool_ref(size_t planes, size_t size, const float* x, float* y) {
    for (size_t p = 0; p < planes; p++, x += size) {
        float m = -INFINITY;
        for (size_t i = 0; i < size; i++)
            if (x[i] > m || isnan(x[i])) {
                m = x[i];
                if (isnan(m)) break;
            }
        y[p] = m;
    }
}
