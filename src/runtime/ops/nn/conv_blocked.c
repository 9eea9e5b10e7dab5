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
    size_t cb, bands, units;
} dwb_job;

/* Unit u: output rows band u % bands of block u / bands of the tensor (block
 * b = that % cb of image that / cb). A band is its own geometry over the image
 * rows it reads (nn_band_window), so each output is the same sum as in one
 * piece: any split gives the same bits. */
static void dwb_task(void* arg, size_t u, size_t thread) {
    (void)thread;
    const dwb_job* j = arg;
    const size_t L = j->kern->f32_dwconv.block, kvol = j->w->kernel[1] * j->w->kernel[2];
    const size_t iw = j->w->image[2], ow = j->w->out[2], oh = j->w->out[1];
    const size_t blk = u / j->bands, band = u % j->bands, b = blk % j->cb;
    const size_t r0 = oh * band / j->bands, r1 = oh * (band + 1) / j->bands;
    if (r1 <= r0) return;
    size_t e0, e1;
    ember_window wb;
    nn_band_window(j->w, r0, r1, &e0, &e1, &wb);
    const ember_dwconv_geom g = {.ih = wb.image[1], .iw = iw, .oh = r1 - r0, .ow = ow,
                                 .kh = wb.kernel[1], .kw = wb.kernel[2], .sh = wb.stride[1],
                                 .sw = wb.stride[2], .pad_top = (size_t)wb.pad[1],
                                 .pad_left = (size_t)wb.pad[2]};
    float* y = j->y + (blk * oh + r0) * ow * L;
    j->kern->f32_dwconv.blocked(&g, j->x + (blk * j->w->image[1] + e0) * iw * L,
                                j->packed + b * kvol * L,
                                j->bias ? j->packed + j->cb * kvol * L + b * L : NULL, y);
    if (j->act) em_apply_activation(j->kern, j->act, y, (r1 - r0) * ow * L);
}

void em_conv_dw_blocked_run(struct em_pool* pool, const ember_kernels* kern, size_t n, size_t c,
                            const ember_window* w, const float* x, const float* packed, bool bias,
                            float* y, const em_activation* act) {
    const size_t L = kern->f32_dwconv.block;
    dwb_job j = {.kern = kern, .w = w, .x = x, .packed = packed, .y = y, .bias = bias,
                 .act = act && act->kind != EMF_ACT_NONE ? act : NULL, .cb = (c + L - 1) / L,
                 .bands = 1};
    const size_t blocks = n * j.cb, oh = w->out[1];
    const size_t work = blocks * L * oh * w->out[2] * w->kernel[1] * w->kernel[2];
    size_t threads = em_pool_threads(pool);
    if (threads > 1 && work >= ((size_t)1 << 16)) {
        /* at least 8 units a thread (dynamic hand-out evens them out), bands
         * of at least 4 rows */
        while (blocks * j.bands < 8 * threads && oh / (j.bands + 1) >= 4) j.bands++;
    } else {
        threads = 1;
    }
    /* with an activation, bands of at most ~64 KB of output, activated while
     * in cache */
    const size_t row_bytes = w->out[2] * L * sizeof(float);
    if (j.act)
        while (oh / (j.bands + 1) >= 2 && (oh + j.bands - 1) / j.bands * row_bytes > ((size_t)64 << 10))
            j.bands++;
    j.units = blocks * j.bands;
    em_pool_run(threads > 1 ? pool : NULL, j.units, dwb_task, &j);
}

/* ---- 1x1 ---- */

typedef struct pwb_job {
    const ember_kernels* kern;
    size_t n, c, m, hw, kc;
    const float *x, *packed;
    float* y;
    const ember_f32_gemm_epilogue* ep;
    size_t chunk, chunks, panels, pgroups, tasks;
} pwb_job;

static void pwb_task(void* arg, size_t t, size_t thread) {
    (void)thread;
    const pwb_job* j = arg;
    const size_t L = j->kern->f32_dwconv.block, units = j->n * j->chunks * j->pgroups;
    const size_t xs = (j->c + L - 1) / L * j->hw * L, ys = (j->m + L - 1) / L * j->hw * L;
    for (size_t u = units * t / j->tasks; u < units * (t + 1) / j->tasks; u++) {
        const size_t pg = u % j->pgroups, ch = u / j->pgroups % j->chunks, img = u / j->pgroups / j->chunks;
        const size_t j0 = ch * j->chunk, j1 = j0 + j->chunk < j->hw ? j0 + j->chunk : j->hw;
        j->kern->f32_conv1x1_blocked(j->m, j->c, j->hw, j->kc, j->x + img * xs, j->packed,
                                     j->y + img * ys, j->ep, j0, j1, j->panels * pg / j->pgroups,
                                     j->panels * (pg + 1) / j->pgroups);
    }
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
                            const float* bias, float* y, const em_activation* act) {
    const em_conv_act act_ctx = {.kern = kern, .act = act};
    const ember_f32_gemm_extra ex = em_conv_output_pass(&act_ctx, bias);
    const ember_f32_gemm_epilogue ep = {.bias = ex.row_bias, .lo = ex.clamp ? ex.lo : -INFINITY,
                                        .hi = ex.clamp ? ex.hi : INFINITY,
                                        .zero_plus = ex.clamp && ex.zero_plus, .act = ex.act};
    const bool any = ex.row_bias || ex.clamp || ex.act;
    const size_t L = kern->f32_dwconv.block;
    pwb_job j = {.kern = kern, .n = n, .c = c, .m = m, .hw = hw,
                 .kc = ember_f32_gemm_kc(&kern->f32_gemm, c), .x = x, .packed = packed, .y = y,
                 .ep = any ? &ep : NULL, .panels = (m + 2 * L - 1) / (2 * L), .pgroups = 1};
    j.chunk = chunk_positions(c, hw);
    j.chunks = (hw + j.chunk - 1) / j.chunk;
    const size_t threads = em_pool_threads(pool);
    const double flops = 2.0 * (double)n * (double)m * (double)c * (double)hw;
    if (threads < 2 || flops < (double)(1 << 20)) {
        j.tasks = 1;
    } else {
        /* at least 8 units a thread, so that the dynamic hand-out evens them
         * out: panel groups first (each reads its weights once), then
         * narrower position chunks (at least one 12-position tile) */
        const size_t want = 8 * threads, tiles = (hw + 11) / 12;
        while (n * j.chunks * j.pgroups < want && j.pgroups < j.panels) j.pgroups++;
        if (n * j.chunks * j.pgroups < want) {
            size_t chunks = (want + n * j.pgroups - 1) / (n * j.pgroups);
            if (chunks > tiles) chunks = tiles;
            j.chunk = (tiles + chunks - 1) / chunks * 12;
            j.chunks = (hw + j.chunk - 1) / j.chunk;
        }
        j.tasks = n * j.chunks * j.pgroups;
    }
    em_pool_run(j.tasks > 1 ? pool : NULL, j.tasks, pwb_task, &j);
    if (ex.finish) /* the activations the output pass leaves to a tile pass */
        em_apply_activation(kern, act, y, n * ((m + L - 1) / L) * L * hw);
}
