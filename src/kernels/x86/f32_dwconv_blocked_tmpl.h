/* The body of the x86 channel-blocked depthwise kernels, included by
 * f32_dwconv_blocked_avx2.c and f32_dwconv_blocked_avx512.c after they define
 *     DWB_L (floats a vector = channels a block), DWB_VEC, DWB_LOAD(p),
 *     DWB_STORE(p, v) (64-byte / 32-byte aligned not required), DWB_ADD(a, b),
 *     DWB_MUL(a, b), DWB_ZERO(), DWB_COLS (output columns computed together)
 * and DWB_FN, the entry point (see ember_f32_dwconv_blocked_fn in dispatch.h).
 *
 * One vector holds one position of the DWB_L channels, so every tap is one
 * vector load of the input and one of the weights, whatever the stride; pads
 * are bounds on the taps, no padded copy. Each output starts from the bias and
 * adds the taps in (u, t) row-major order, skipping those outside the image,
 * with a separate multiply and add: the reference's operations in its order
 * (the project builds ISO C11, where the compiler does not contract a * b + c),
 * so the results are bit-identical to ember_f32_dwconv_ref. Interior columns
 * (every tap of the row inside the image) are computed DWB_COLS at a time,
 * independent add chains; the border columns one at a time with bound tests. */
#include <stddef.h>

#include "f32_dwconv.h"

/* One output position: taps u in [u0, u1) (rows known inside), t < kw tested. */
static inline __attribute__((always_inline)) DWB_VEC dwb_point(const float* x, const float* w,
                                                               DWB_VEC acc, ptrdiff_t r,
                                                               ptrdiff_t col, size_t u0, size_t u1,
                                                               size_t iw, size_t kw) {
    for (size_t u = u0; u < u1; u++)
        for (size_t t = 0; t < kw; t++) {
            const ptrdiff_t cc = col + (ptrdiff_t)t;
            if (cc < 0 || cc >= (ptrdiff_t)iw) continue;
            const DWB_VEC v = DWB_LOAD(x + ((size_t)(r + (ptrdiff_t)u) * iw + (size_t)cc) * DWB_L);
            acc = DWB_ADD(acc, DWB_MUL(DWB_LOAD(w + (u * kw + t) * DWB_L), v));
        }
    return acc;
}

/* nc interior columns from j (all kw taps inside the image), rows u0..u1. */
static inline __attribute__((always_inline)) void dwb_cols(const float* x, const float* w,
                                                           DWB_VEC b, float* yr, ptrdiff_t r,
                                                           size_t j, size_t u0, size_t u1,
                                                           size_t iw, size_t pl, size_t kw,
                                                           size_t sw, size_t nc) {
    DWB_VEC a[DWB_COLS];
#pragma GCC unroll 16
    for (size_t k = 0; k < nc; k++) a[k] = b;
#pragma GCC unroll 8
    for (size_t u = u0; u < u1; u++) {
        const float* xr = x + ((size_t)(r + (ptrdiff_t)u) * iw + j * sw - pl) * DWB_L;
        const float* wr = w + u * kw * DWB_L;
#pragma GCC unroll 8
        for (size_t t = 0; t < kw; t++) {
            const DWB_VEC wv = DWB_LOAD(wr + t * DWB_L);
#pragma GCC unroll 16
            for (size_t k = 0; k < nc; k++)
                a[k] = DWB_ADD(a[k], DWB_MUL(wv, DWB_LOAD(xr + (k * sw + t) * DWB_L)));
        }
    }
#pragma GCC unroll 16
    for (size_t k = 0; k < nc; k++) DWB_STORE(yr + (j + k) * DWB_L, a[k]);
}

/* One output row, taps rows u0..u1; [j0, j1) the interior columns. */
static inline __attribute__((always_inline)) void dwb_row(const float* x, const float* w,
                                                          DWB_VEC b, float* yr, ptrdiff_t r,
                                                          size_t u0, size_t u1, size_t j0,
                                                          size_t j1, size_t ow, size_t iw,
                                                          size_t pl, size_t kw, size_t sw) {
    size_t j = 0;
    for (; j < j0; j++)
        DWB_STORE(yr + j * DWB_L,
                  dwb_point(x, w, b, r, (ptrdiff_t)(j * sw) - (ptrdiff_t)pl, u0, u1, iw, kw));
    for (; j + DWB_COLS <= j1; j += DWB_COLS)
        dwb_cols(x, w, b, yr, r, j, u0, u1, iw, pl, kw, sw, DWB_COLS);
    for (; j + 4 <= j1; j += 4) dwb_cols(x, w, b, yr, r, j, u0, u1, iw, pl, kw, sw, 4);
    for (; j < j1; j++) dwb_cols(x, w, b, yr, r, j, u0, u1, iw, pl, kw, sw, 1);
    for (; j < ow; j++)
        DWB_STORE(yr + j * DWB_L,
                  dwb_point(x, w, b, r, (ptrdiff_t)(j * sw) - (ptrdiff_t)pl, u0, u1, iw, kw));
}

/* All rows; called with constant kh, kw, sh, sw for the common shapes, so the
 * full rows' tap loops unroll. */
static inline __attribute__((always_inline)) void dwb_plane(const ember_dwconv_geom* g,
                                                            const float* x, const float* w,
                                                            DWB_VEC b, float* y, size_t kh,
                                                            size_t kw, size_t sh, size_t sw) {
    const size_t ih = g->ih, iw = g->iw, oh = g->oh, ow = g->ow, pt = g->pad_top,
                 pl = g->pad_left;
    /* interior columns: j * sw >= pl and j * sw - pl + kw <= iw */
    size_t j1 = iw + pl >= kw ? (iw + pl - kw) / sw + 1 : 0;
    if (j1 > ow) j1 = ow;
    size_t j0 = (pl + sw - 1) / sw;
    if (j0 > j1) j0 = j1;
    for (size_t i = 0; i < oh; i++) {
        const ptrdiff_t r = (ptrdiff_t)(i * sh) - (ptrdiff_t)pt; /* first tap row */
        float* yr = y + i * ow * DWB_L;
        if (r >= 0 && (size_t)r + kh <= ih) {
            dwb_row(x, w, b, yr, r, 0, kh, j0, j1, ow, iw, pl, kw, sw);
        } else {
            const size_t u0 = r < 0 ? (size_t)(-r) : 0;
            const ptrdiff_t room = (ptrdiff_t)ih - r; /* rows u < room are inside */
            size_t u1 = room <= 0 ? 0 : (size_t)room < kh ? (size_t)room : kh;
            if (u1 < u0) u1 = u0;
            dwb_row(x, w, b, yr, r, u0, u1, j0, j1, ow, iw, pl, kw, sw);
        }
    }
}

void DWB_FN(const ember_dwconv_geom* g, const float* x, const float* w, const float* bias,
            float* y) {
    const DWB_VEC b = bias ? DWB_LOAD(bias) : DWB_ZERO();
    const size_t kh = g->kh, kw = g->kw, sh = g->sh, sw = g->sw;
    if (kh == 3 && kw == 3 && sh == 1 && sw == 1)
        dwb_plane(g, x, w, b, y, 3, 3, 1, 1);
    else if (kh == 3 && kw == 3 && sh == 2 && sw == 2)
        dwb_plane(g, x, w, b, y, 3, 3, 2, 2);
    else if (kh == 5 && kw == 5 && sh == 1 && sw == 1)
        dwb_plane(g, x, w, b, y, 5, 5, 1, 1);
    else if (kh == 5 && kw == 5 && sh == 2 && sw == 2)
        dwb_plane(g, x, w, b, y, 5, 5, 2, 2);
    else
        dwb_plane(g, x, w, b, y, kh, kw, sh, sw);
}
