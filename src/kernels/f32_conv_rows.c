/* Direct convolution for few input channels (f32_conv_rows.h).
 *
 * The padded copy, in floats: phase f (< sw), channel c, padded row r (< hp),
 * column j (< q), at ((f * channels + c) * hp + r) * q + j, then SLACK zero
 * floats, so that a micro-kernel reading nr floats from the last run of a
 * tile that ends early stays inside the buffer. Padded row r is image row
 * r - pad_top; column j of phase f is image column j * sw + f - pad_left.
 * Tap (c, u, t) of output pixel (oy, ox) reads image row oy * sh + u * dh -
 * pad_top and column ox * sw + t * dw - pad_left: phase (t * dw) % sw,
 * padded row oy * sh + u * dh, column ox + (t * dw) / sw. */
#include "f32_conv_rows.h"

#include <stdint.h>
#include <string.h>

#define SLACK 64 /* >= the widest nr */
#define ALIGN 64

static size_t round_up(size_t x, size_t m) { return (x + m - 1) / m * m; }

typedef struct geom {
    size_t sh, sw, dh, dw, kh, kw, ih, iw, oh, ow;
    ptrdiff_t pt, pl;
    size_t hp, q; /* padded rows, columns a phase */
} geom;

static geom geom_of(const ember_window* w) {
    geom g = {.sh = w->stride[1], .sw = w->stride[2], .dh = w->dilation[1], .dw = w->dilation[2],
              .kh = w->kernel[1], .kw = w->kernel[2], .ih = w->image[1], .iw = w->image[2],
              .oh = w->out[1], .ow = w->out[2], .pt = w->pad[1], .pl = w->pad[2]};
    g.hp = (g.oh - 1) * g.sh + (g.kh - 1) * g.dh + 1;
    g.q = g.ow + (g.kw - 1) * g.dw / g.sw;
    return g;
}

static size_t offsets_bytes(size_t channels, const ember_window* w) {
    return round_up(channels * w->kernel[1] * w->kernel[2] * sizeof(int32_t), ALIGN);
}

static size_t copy_floats(size_t channels, const geom* g) {
    return g->sw * channels * g->hp * g->q + SLACK;
}

bool ember_f32_conv_rows_applies(const ember_kernels* kern, size_t channels, const ember_window* w) {
    const ember_f32_gemm_config* gc = &kern->f32_gemm;
    if (!gc->ukernel_rows || w->image[0] != 1 || w->kernel[0] != 1 || w->out[0] != 1 ||
        w->pad[0] != 0 || w->pad_end[0] != 0 || w->pad[1] < 0 || w->pad[2] < 0)
        return false;
    const size_t kdim = channels * w->kernel[1] * w->kernel[2];
    if (kdim == 0 || kdim > gc->kc || w->out[1] == 0 || w->out[2] < (gc->nr + 1) / 2 ||
        w->kernel[1] * w->kernel[2] < 2)
        return false;
    const geom g = geom_of(w);
    /* offsets are int32; and the copy should stay a copy of the image, not a
     * blow-up of it (a huge stride or dilation) */
    const size_t floats = copy_floats(channels, &g);
    return floats < ((size_t)1 << 31) - 1 && floats <= 4 * channels * (g.ih + 2) * (g.iw + 2) + 4096;
}

bool ember_f32_conv_rows_blocked_applies(const ember_kernels* kern, size_t channels,
                                         const ember_window* w) {
    if (!kern->f32_conv_rows_blocked || w->image[0] != 1 || w->kernel[0] != 1 ||
        w->out[0] != 1 || w->pad[0] != 0 || w->pad_end[0] != 0 || w->pad[1] < 0 || w->pad[2] < 0)
        return false;
    const size_t kdim = channels * w->kernel[1] * w->kernel[2];
    if (kdim == 0 || kdim > kern->f32_gemm.kc || w->out[1] == 0 || w->out[2] == 0) return false;
    const geom g = geom_of(w);
    const size_t floats = copy_floats(channels, &g);
    return floats < ((size_t)1 << 31) - 1 && floats <= 4 * channels * (g.ih + 2) * (g.iw + 2) + 4096;
}

void ember_f32_conv_rows_run_blocked(const ember_kernels* kern, size_t channels, size_t m,
                                     const ember_window* w, const float* wp, const void* scratch,
                                     const ember_f32_gemm_epilogue* ep, float* y, size_t oy0,
                                     size_t oy1) {
    ember_f32_conv_rows_run_blocked_into(kern, channels, m, w, wp, scratch, ep,
                                         y + oy0 * w->out[2] * kern->f32_dwconv.block,
                                         w->out[1] * w->out[2], oy0, oy1);
}

void ember_f32_conv_rows_run_blocked_into(const ember_kernels* kern, size_t channels, size_t m,
                                          const ember_window* w, const float* wp,
                                          const void* scratch, const ember_f32_gemm_epilogue* ep,
                                          float* y, size_t ny, size_t oy0, size_t oy1) {
    const geom g = geom_of(w);
    const size_t kdim = channels * g.kh * g.kw, L = kern->f32_dwconv.block;
    const int32_t* off = scratch;
    const float* cp = (const float*)((const char*)scratch + offsets_bytes(channels, w));
    for (size_t oy = oy0; oy < oy1; oy++)
        kern->f32_conv_rows_blocked(m, kdim, cp + oy * g.sh * g.q, off, g.ow, ny, wp,
                                    y + (oy - oy0) * g.ow * L, ep);
}

size_t ember_f32_conv_rows_scratch(size_t channels, const ember_window* w) {
    const geom g = geom_of(w);
    return offsets_bytes(channels, w) + copy_floats(channels, &g) * sizeof(float) + ALIGN;
}

static float* copy_of(size_t channels, const ember_window* w, void* scratch) {
    return (float*)((char*)scratch + offsets_bytes(channels, w));
}

void ember_f32_conv_rows_offsets(size_t channels, const ember_window* w, void* scratch) {
    const geom g = geom_of(w);
    int32_t* off = scratch;
    /* p = (c * kh + u) * kw + t: the im2col row order */
    for (size_t c = 0, p = 0; c < channels; c++)
        for (size_t u = 0; u < g.kh; u++)
            for (size_t t = 0; t < g.kw; t++, p++) {
                const size_t f = t * g.dw % g.sw, j = t * g.dw / g.sw;
                off[p] = (int32_t)(((f * channels + c) * g.hp + u * g.dh) * g.q + j);
            }
}

size_t ember_f32_conv_rows_total(const ember_window* w) { return geom_of(w).hp; }

void ember_f32_conv_rows_fill(size_t channels, const ember_window* w, const float* x, void* scratch,
                              size_t r0, size_t r1) {
    const geom g = geom_of(w);
    float* cp = copy_of(channels, w, scratch);
    for (size_t f = 0; f < g.sw; f++)
        for (size_t c = 0; c < channels; c++)
            for (size_t r = r0; r < r1; r++) {
                float* d = cp + ((f * channels + c) * g.hp + r) * g.q;
                const ptrdiff_t ir = (ptrdiff_t)r - g.pt;
                if (ir < 0 || ir >= (ptrdiff_t)g.ih) {
                    memset(d, 0, g.q * sizeof(float));
                    continue;
                }
                const float* s = x + (c * g.ih + (size_t)ir) * g.iw;
                /* column j reads image column j * sw + f - pl: inside for j in [lo, hi) */
                const ptrdiff_t first = (ptrdiff_t)f - g.pl; /* image column of j = 0 */
                size_t lo = first >= 0 ? 0 : ((size_t)(-first) + g.sw - 1) / g.sw;
                size_t hi = first >= (ptrdiff_t)g.iw ? 0 : ((size_t)((ptrdiff_t)g.iw - first) + g.sw - 1) / g.sw;
                if (lo > g.q) lo = g.q;
                if (hi > g.q) hi = g.q;
                if (hi < lo) hi = lo;
                for (size_t j = 0; j < lo; j++) d[j] = 0.0f;
                if (hi > lo) {
                    const float* sj = s + (first + (ptrdiff_t)(lo * g.sw));
                    if (g.sw == 1)
                        memcpy(d + lo, sj, (hi - lo) * sizeof(float));
                    else if (g.sw == 2) /* a constant step the compiler vectorises */
                        for (size_t j = 0; j < hi - lo; j++) d[lo + j] = sj[2 * j];
                    else
                        for (size_t j = 0; j < hi - lo; j++) d[lo + j] = sj[j * g.sw];
                }
                for (size_t j = hi; j < g.q; j++) d[j] = 0.0f;
            }
    if (r1 == g.hp) memset(cp + g.sw * channels * g.hp * g.q, 0, SLACK * sizeof(float));
}

void ember_f32_conv_rows_run(const ember_kernels* kern, size_t channels, size_t m,
                             const ember_window* w, const float* ap, const void* scratch,
                             const ember_f32_gemm_extra* ex, float* y, size_t oy0, size_t oy1) {
    const size_t ow = w->out[2];
    ember_f32_conv_rows_run_into(kern, channels, m, w, ap, scratch, ex, y + oy0 * ow,
                                 w->out[1] * ow, oy0, oy1);
}

void ember_f32_conv_rows_run_into(const ember_kernels* kern, size_t channels, size_t m,
                                  const ember_window* w, const float* ap, const void* scratch,
                                  const ember_f32_gemm_extra* ex, float* y, size_t y_plane,
                                  size_t oy0, size_t oy1) {
    const geom g = geom_of(w);
    const ember_f32_gemm_config* gc = &kern->f32_gemm;
    const size_t kdim = channels * g.kh * g.kw;
    const int32_t* off = scratch;
    const float* cp = (const float*)((const char*)scratch + offsets_bytes(channels, w));
    for (size_t oy = oy0; oy < oy1; oy++) {
        const float* brow = cp + oy * g.sh * g.q;
        float* yrow = y + (oy - oy0) * g.ow;
        for (size_t ox = 0; ox < g.ow; ox += gc->nr) {
            const size_t n = g.ow - ox < gc->nr ? g.ow - ox : gc->nr;
            for (size_t i0 = 0; i0 < m; i0 += gc->mr) {
                const size_t mt = m - i0 < gc->mr ? m - i0 : gc->mr;
                ember_f32_gemm_run_tile_rows(kern, ex, i0, (oy - oy0) * g.ow + ox, mt, n, kdim,
                                             ap + i0 * kdim, brow + ox, off, 0.0f,
                                             yrow + i0 * y_plane + ox, y_plane);
            }
        }
    }
}
