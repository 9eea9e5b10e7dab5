/* The body of the x86 depthwise kernels, included by f32_dwconv_avx2.c and
 * f32_dwconv_avx512.c after they define the vector type and operations:
 *     DW_LANES, DW_VEC, DW_SET1(f), DW_ZERO(), DW_LOADU(p), DW_FMA(a, b, c),
 *     DW_ADD(a, b), DW_STOREU(p, v), DW_STORE_PART(p, v, n) (first n < DW_LANES lanes)
 * and DW_FN, the name of the entry point. See f32_dwconv.h for the layout. */
#include "f32_dwconv.h"

/* One channel: rows of outputs from the packed plane buf. Called with constant
 * kh, kw, sh and sw for the common shapes, so the tap loops unroll completely
 * and the weight broadcasts are hoisted out of the row loop. Two output rows
 * at a time: four independent FMA chains instead of two (the FMA latency, not
 * the loads, bounds one row), and with sh == 1 the rows share kh - 1 input
 * rows, whose loads the compiler merges. */
static inline __attribute__((always_inline)) void dw_plane(const float* buf, size_t pw, size_t rs,
                                                           size_t oh, size_t ow, size_t sh,
                                                           const float* wc, float b, float* yc,
                                                           size_t kh, size_t kw, size_t sw) {
    const size_t full = ow / DW_LANES * DW_LANES;
    size_t i = 0;
    for (; i + 2 <= oh; i += 2, yc += 2 * ow) {
        const float* r = buf + i * sh * rs;
        const float* r2 = r + sh * rs;
        for (size_t j = 0; j < ow; j += DW_LANES) {
            DW_VEC a0 = DW_SET1(b), a1 = DW_ZERO(), c0 = DW_SET1(b), c1 = DW_ZERO();
#pragma GCC unroll 8
            for (size_t u = 0; u < kh; u++) {
#pragma GCC unroll 8
                for (size_t t = 0; t < kw; t++) {
                    const size_t off = u * rs + j + (t % sw) * pw + t / sw;
                    const DW_VEC wv = DW_SET1(wc[u * kw + t]);
                    const DW_VEC v = DW_LOADU(r + off), v2 = DW_LOADU(r2 + off);
                    if (u & 1) {
                        a1 = DW_FMA(wv, v, a1);
                        c1 = DW_FMA(wv, v2, c1);
                    } else {
                        a0 = DW_FMA(wv, v, a0);
                        c0 = DW_FMA(wv, v2, c0);
                    }
                }
            }
            a0 = DW_ADD(a0, a1);
            c0 = DW_ADD(c0, c1);
            if (j < full) {
                DW_STOREU(yc + j, a0);
                DW_STOREU(yc + ow + j, c0);
            } else {
                DW_STORE_PART(yc + j, a0, ow - j);
                DW_STORE_PART(yc + ow + j, c0, ow - j);
            }
        }
    }
    for (; i < oh; i++, yc += ow) { /* the last row of an odd count */
        const float* r = buf + i * sh * rs;
        for (size_t j = 0; j < ow; j += DW_LANES) {
            DW_VEC a0 = DW_SET1(b), a1 = DW_ZERO();
#pragma GCC unroll 8
            for (size_t u = 0; u < kh; u++) {
                const float* ru = r + u * rs + j;
#pragma GCC unroll 8
                for (size_t t = 0; t < kw; t++) {
                    const DW_VEC v = DW_LOADU(ru + (t % sw) * pw + t / sw);
                    if (u & 1)
                        a1 = DW_FMA(DW_SET1(wc[u * kw + t]), v, a1);
                    else
                        a0 = DW_FMA(DW_SET1(wc[u * kw + t]), v, a0);
                }
            }
            a0 = DW_ADD(a0, a1);
            if (j < full)
                DW_STOREU(yc + j, a0);
            else
                DW_STORE_PART(yc + j, a0, ow - j);
        }
    }
}

void DW_FN(size_t channels, const ember_dwconv_geom* g, const float* x, const float* w,
           const float* bias, float* y, void* scratch) {
    const ember_dwconv_packed l = ember_f32_dwconv_layout(DW_LANES, g);
    float* buf = scratch;
    const size_t kh = g->kh, kw = g->kw, sw = g->sw;
    for (size_t c = 0; c < channels; c++) {
        ember_f32_dwconv_pack(g, &l, x + c * g->ih * g->iw, buf, c == 0);
        const float* wc = w + c * kh * kw;
        const float b = bias ? bias[c] : 0.0f;
        float* yc = y + c * g->oh * g->ow;
        if (kh == 3 && kw == 3 && sw == 1 && g->sh == 1)
            dw_plane(buf, l.pw, l.rs, g->oh, g->ow, 1, wc, b, yc, 3, 3, 1);
        else if (kh == 3 && kw == 3 && sw == 2 && g->sh == 2)
            dw_plane(buf, l.pw, l.rs, g->oh, g->ow, 2, wc, b, yc, 3, 3, 2);
        else if (kh == 5 && kw == 5 && sw == 1 && g->sh == 1)
            dw_plane(buf, l.pw, l.rs, g->oh, g->ow, 1, wc, b, yc, 5, 5, 1);
        else if (kh == 5 && kw == 5 && sw == 2 && g->sh == 2)
            dw_plane(buf, l.pw, l.rs, g->oh, g->ow, 2, wc, b, yc, 5, 5, 2);
        else
            dw_plane(buf, l.pw, l.rs, g->oh, g->ow, g->sh, wc, b, yc, kh, kw, sw);
    }
}
