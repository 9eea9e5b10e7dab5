/* Depthwise convolution: the portable reference (any kernel, stride and
 * padding), the portable path of the tables, and the plane packing the SIMD
 * kernels share; see f32_dwconv.h. */
#include <string.h>

#include "f32_dwconv.h"

void ember_f32_dwconv_ref(size_t channels, const ember_dwconv_geom* g, const float* x,
                          const float* w, const float* bias, float* y) {
    const size_t kvol = g->kh * g->kw;
    for (size_t c = 0; c < channels; c++) {
        const float* xc = x + c * g->ih * g->iw;
        const float* wc = w + c * kvol;
        float* yc = y + c * g->oh * g->ow;
        const float b = bias ? bias[c] : 0.0f;
        for (size_t i = 0; i < g->oh; i++)
            for (size_t j = 0; j < g->ow; j++) {
                float acc = b;
                for (size_t u = 0; u < g->kh; u++) {
                    /* unsigned wrap-around makes rows above the image out of range */
                    const size_t r = i * g->sh + u - g->pad_top;
                    if (r >= g->ih) continue;
                    for (size_t t = 0; t < g->kw; t++) {
                        const size_t col = j * g->sw + t - g->pad_left;
                        if (col >= g->iw) continue;
                        acc += wc[u * g->kw + t] * xc[r * g->iw + col];
                    }
                }
                yc[i * g->ow + j] = acc;
            }
    }
}

void ember_f32_dwconv__scalar(size_t channels, const ember_dwconv_geom* g, const float* x,
                              const float* w, const float* bias, float* y, void* scratch) {
    (void)scratch;
    ember_f32_dwconv_ref(channels, g, x, w, bias, y);
}

ember_dwconv_packed ember_f32_dwconv_layout(size_t lanes, const ember_dwconv_geom* g) {
    ember_dwconv_packed l = {0, 0, 0};
    if (lanes == 0) return l;
    const size_t ow_round = (g->ow + lanes - 1) / lanes * lanes;
    l.pw = ow_round + (g->kw - 1) / g->sw;
    l.rs = l.pw * g->sw;
    l.rows = (g->oh - 1) * g->sh + g->kh;
    return l;
}

size_t ember_f32_dwconv_scratch_size(size_t lanes, const ember_dwconv_geom* g) {
    const ember_dwconv_packed l = ember_f32_dwconv_layout(lanes, g);
    return l.rs * l.rows * sizeof(float);
}

void ember_f32_dwconv_pack(const ember_dwconv_geom* g, const ember_dwconv_packed* l,
                           const float* x, float* buf, int borders) {
    const size_t s = g->sw, pl = g->pad_left;
    for (size_t r = 0; r < l->rows; r++) {
        float* dst = buf + r * l->rs;
        const size_t xr = r - g->pad_top; /* wraps for rows above the image */
        if (xr >= g->ih) {
            if (borders) memset(dst, 0, l->rs * sizeof(float));
            continue;
        }
        const float* src = x + xr * g->iw;
        for (size_t p = 0; p < s; p++) {
            float* d = dst + p * l->pw;
            /* element m holds input column m * s + p - pl: valid for m in [m0, m1) */
            const size_t m0 = p >= pl ? 0 : (pl - p + s - 1) / s;
            size_t m1 = (g->iw + pl + s - 1 - p) / s; /* first m with column >= iw */
            if (g->iw + pl <= p) m1 = 0;
            if (m1 > l->pw) m1 = l->pw;
            if (m0 >= m1) {
                if (borders) memset(d, 0, l->pw * sizeof(float));
                continue;
            }
            if (borders) memset(d, 0, m0 * sizeof(float));
            const float* sp = src + (m0 * s + p - pl);
            if (s == 1 && m1 - m0 >= 64)
                memcpy(d + m0, sp, (m1 - m0) * sizeof(float));
            else if (s == 1) /* short rows: a loop beats the call */
                for (size_t m = m0; m < m1; m++) d[m] = sp[m - m0];
            else if (s == 2)
                for (size_t m = m0; m < m1; m++) d[m] = sp[(m - m0) * 2];
            else
                for (size_t m = m0; m < m1; m++) d[m] = sp[(m - m0) * s];
            if (borders) memset(d + m1, 0, (l->pw - m1) * sizeof(float));
        }
    }
}
