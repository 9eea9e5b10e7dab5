/* Conv on channel-blocked activations; see conv_blocked.h. */
#include "conv_blocked.h"

#include <math.h>

#include "conv_epilogue.h"
#include "nn_window.h"
#include "f32_conv1x1_blocked.h"
#include "f32_gemm.h"
#include "threadpool.h"

size_t em_conv_dw_blocked_packed_bytes(size_t L, size_t c, size_t kvol, bool bias) {
    const size_t cb = (c + L - 1) / L;
    return cb * L * (kvol + (bias ? 1 : 0)) * sizeof(float);
}

void em_conv_dw_blocked_pack(size_t L, size_t c, size_t kvol, const float* wt, const float* bias,
                             float* dst) {
    const size_t cb = (c + L - 1) / L;
    for (size_t b = 0; b < cb; b++)
        for (size_t k = 0; k < kvol; k++)
            for (size_t l = 0; l < L; l++)
                dst[(b * kvol + k) * L + l] = b * L + l < c ? wt[(b * L + l) * kvol + k] : 0.0f;
    if (bias)
        for (size_t i = 0; i < cb * L; i++) dst[cb * kvol * L + i] = i < c ? bias[i] : 0.0f;
}

typedef struct dwb_job {
    const ember_kernels* kern;
    const ember_window* w;
    const float *x, *packed;
    float* y;
    bool bias;
    const em_activation* act;
    size_t cb, parts, sub;    /* row parts an image is split in; rows a sub-band */
    bool by_blocks;           /* parts are ranges of channel blocks, not of rows */
} dwb_job;

void em_conv_dw_blocked_band(const ember_kernels* kern, const ember_window* wb, const float* x,
                             const float* w, const float* bias, float* y,
                             const em_activation* act) {
    const size_t L = kern->f32_dwconv.block;
    const ember_dwconv_geom g = {.ih = wb->image[1], .iw = wb->image[2], .oh = wb->out[1],
                                 .ow = wb->out[2], .kh = wb->kernel[1], .kw = wb->kernel[2],
                                 .sh = wb->stride[1], .sw = wb->stride[2],
                                 .pad_top = (size_t)wb->pad[1], .pad_left = (size_t)wb->pad[2]};
    kern->f32_dwconv.blocked(&g, x, w, bias, y);
    if (act) em_apply_activation(kern, act, y, wb->out[1] * wb->out[2] * L);
}

/* Output rows [r0, r1) of block b of image img, as their own geometry over the
 * image rows they read (nn_band_window): each output is the same sum as in
 * one piece, so any split gives the same bits. */
static void dwb_rows(const dwb_job* j, size_t img, size_t b, size_t r0, size_t r1) {
    const size_t L = j->kern->f32_dwconv.block, kvol = j->w->kernel[1] * j->w->kernel[2];
    const size_t iw = j->w->image[2], ow = j->w->out[2], oh = j->w->out[1];
    const size_t blk = img * j->cb + b;
    size_t e0, e1;
    ember_window wb;
    nn_band_window(j->w, r0, r1, &e0, &e1, &wb);
    em_conv_dw_blocked_band(j->kern, &wb, j->x + (blk * j->w->image[1] + e0) * iw * L,
                            j->packed + b * kvol * L,
                            j->bias ? j->packed + j->cb * kvol * L + b * L : NULL,
                            j->y + (blk * oh + r0) * ow * L, j->act);
}

/* Unit u: row part u % parts of image u / parts, every block of it, in
 * sub-bands (threads split the image by rows, as the 1x1 layers around split
 * it by positions, so that a thread mostly reads what it wrote); or, by_blocks,
 * its range u % parts of the channel blocks, all rows. */
static void dwb_task(void* arg, size_t u, size_t thread) {
    (void)thread;
    const dwb_job* j = arg;
    const size_t oh = j->w->out[1], img = u / j->parts, part = u % j->parts;
    size_t r0 = oh * part / j->parts, r1 = oh * (part + 1) / j->parts, b0 = 0, b1 = j->cb;
    if (j->by_blocks) {
        r0 = 0;
        r1 = oh;
        b0 = j->cb * part / j->parts;
        b1 = j->cb * (part + 1) / j->parts;
    }
    for (size_t b = b0; b < b1; b++)
        for (size_t r = r0; r < r1; r += j->sub)
            dwb_rows(j, img, b, r, r + j->sub < r1 ? r + j->sub : r1);
}

void em_conv_dw_blocked_run(struct em_pool* pool, const ember_kernels* kern, size_t n, size_t c,
                            const ember_window* w, const float* x, const float* packed, bool bias,
                            float* y, const em_activation* act) {
    const size_t L = kern->f32_dwconv.block;
    dwb_job j = {.kern = kern, .w = w, .x = x, .packed = packed, .y = y, .bias = bias,
                 .act = act && act->kind != EMF_ACT_NONE ? act : NULL, .cb = (c + L - 1) / L,
                 .parts = 1};
    const size_t oh = w->out[1];
    const size_t work = n * j.cb * L * oh * w->out[2] * w->kernel[1] * w->kernel[2];
    const size_t threads = em_pool_threads(pool);
    if (threads > 1 && work >= ((size_t)1 << 16)) {
        /* where the 1x1 layer before splits by output panels (its rule in
         * em_conv1x1_blocked_run, with its m = c here: more channels than
         * positions), split by the same channel blocks: each thread reads
         * the blocks it wrote, and 60 blocks share out evenly where a 7x7
         * image's rows split 3 / 4. mobilenet_v2 2t: 3.59 -> 3.52 ms */
        const size_t hw_in = w->image[1] * w->image[2], panels = (j.cb + 1) / 2;
        j.by_blocks = c > hw_in && panels > (hw_in + 11) / 12;
        const size_t units = j.by_blocks ? j.cb : oh;
        j.parts = units < threads ? units : threads;
    }
    /* with an activation, sub-bands of at most ~64 KB of output, activated
     * while in cache */
    const size_t row_bytes = w->out[2] * L * sizeof(float);
    j.sub = oh;
    if (j.act) {
        j.sub = ((size_t)64 << 10) / row_bytes;
        if (j.sub < 2) j.sub = 2;
    }
    em_pool_run(j.parts > 1 ? pool : NULL, n * j.parts, dwb_task, &j);
}

/* ---- 1x1 ---- */

typedef struct pwb_job {
    const ember_kernels* kern;
    size_t n, c, m, hw, kc;
    const float *x, *packed;
    float* y;
    const ember_f32_gemm_epilogue* ep;
    const float* resid;        /* NULL, or the residual added in ep (laid out as y) */
    size_t chunk, parts, panels;
    bool by_panels;            /* parts are ranges of output panels, not of positions */
} pwb_job;

/* Unit u: part u % parts of image u / parts, in chunks of positions whose
 * input stays in L2 while the part's panels of weights pass over it. Threads
 * split each image by positions (whole 12-position tiles), as the depthwise
 * layers split it by rows; or, where the weights outweigh the image (a
 * classifier head on 13x13 positions), by output panels, so that each
 * thread reads its own share of the weights. */
static void pwb_task(void* arg, size_t u, size_t thread) {
    (void)thread;
    const pwb_job* j = arg;
    const size_t L = j->kern->f32_dwconv.block;
    const size_t xs = (j->c + L - 1) / L * j->hw * L, ys = (j->m + L - 1) / L * j->hw * L;
    const size_t img = u / j->parts, part = u % j->parts, tiles = (j->hw + 11) / 12;
    size_t p0 = 0, p1 = j->hw, w0 = 0, w1 = j->panels;
    if (j->by_panels) {
        w0 = j->panels * part / j->parts;
        w1 = j->panels * (part + 1) / j->parts;
    } else {
        const size_t p1e = tiles * (part + 1) / j->parts * 12;
        p0 = tiles * part / j->parts * 12;
        p1 = p1e < j->hw ? p1e : j->hw;
    }
    /* the kernel's y is this image's: so is the residual */
    ember_f32_gemm_epilogue ep_img;
    const ember_f32_gemm_epilogue* ep = j->ep;
    if (j->resid) {
        ep_img = *j->ep;
        ep_img.resid = j->resid + img * ys;
        ep = &ep_img;
    }
    for (size_t q0 = p0; q0 < p1; q0 += j->chunk)
        j->kern->f32_conv1x1_blocked(j->m, j->c, j->hw, j->kc, j->x + img * xs, j->packed,
                                     j->y + img * ys, ep, q0,
                                     q0 + j->chunk < p1 ? q0 + j->chunk : p1, w0, w1);
}

/* Positions a unit of work covers: a multiple of the 12-position tile whose
 * input (c floats a position) stays within ~128 KB of L2, so that every panel
 * of weights reuses it. */
static size_t chunk_positions(size_t c, size_t hw) {
    size_t p = ((size_t)128 << 10) / (c * sizeof(float) + 1) / 12 * 12;
    if (p < 12) p = 12;
    return p < hw ? p : hw;
}

void em_conv1x1_blocked_run(struct em_pool* pool, const ember_kernels* kern, size_t n, size_t c,
                            size_t m, size_t hw, const float* x, const float* packed,
                            const float* bias, const float* resid, float* y,
                            const em_activation* act) {
    const em_conv_act act_ctx = {.kern = kern, .act = act};
    const ember_f32_gemm_extra ex = em_conv_output_pass(&act_ctx, bias);
    const ember_f32_gemm_epilogue ep = ember_f32_gemm_epilogue_of(&ex, 0, 0);
    const bool any = ember_f32_gemm_has_epilogue(&ex) || resid;
    const size_t L = kern->f32_dwconv.block;
    pwb_job j = {.kern = kern, .n = n, .c = c, .m = m, .hw = hw,
                 .kc = ember_f32_gemm_kc(&kern->f32_gemm, c), .x = x, .packed = packed, .y = y,
                 .ep = any ? &ep : NULL, .resid = resid, .panels = (m + 2 * L - 1) / (2 * L),
                 .parts = 1};
    j.chunk = chunk_positions(c, hw);
    const size_t threads = em_pool_threads(pool), tiles = (hw + 11) / 12;
    const double flops = 2.0 * (double)n * (double)m * (double)c * (double)hw;
    if (threads > 1 && flops >= (double)(1 << 20)) {
        j.by_panels = m > hw && j.panels > tiles;
        const size_t units = j.by_panels ? j.panels : tiles;
        j.parts = units < threads ? units : threads;
    }
    em_pool_run(j.parts > 1 ? pool : NULL, n * j.parts, pwb_task, &j);
    if (ex.finish) /* the activations the output pass leaves to a tile pass */
        em_apply_activation(kern, act, y, n * ((m + L - 1) / L) * L * hw);
}
