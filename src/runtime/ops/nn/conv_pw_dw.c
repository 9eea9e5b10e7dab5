/* A 1x1 convolution and the depthwise one that reads it, in bands; see
 * conv_pw_dw.h. */
#include "conv_pw_dw.h"

#include "conv_blocked.h"
#include "conv_depthwise.h"
#include "conv_epilogue.h"
#include "nn_window.h"
#include "threadpool.h"

/* Expanded rows a band may hold: about this many bytes (half the L2 of the
 * machines measured, so that the depthwise pass and its output fit beside it). */
#define BAND_BYTES ((size_t)512 << 10)

/* Fused only when the expanded tensor is at least this large. Measured on
 * mobilenet_v2 (1 thread, ember profile, whole blocks, unfused -> fused):
 * 96 x 112 x 112 (4.8 MB, stride 2) 1430-1650 -> 960-1060 us; 144 x 56 x 56
 * (1.8 MB, strides 1 and 2) 775-880 -> 840-960 and 435-495 -> 465-505 us:
 * up to a few MB the unfused tensor stays in cache, and the bands' own costs
 * (a depthwise set-up each, the shared rows copied) are not repaid.
 * efficientnet_b0's 96 x 112 x 112 block (SiLU: its GEMM is compute-bound)
 * 1375-1395 -> 1300-1390 us. */
#define FUSE_MIN_BYTES ((size_t)3 << 20)

static size_t round64(size_t b) { return (b + 63) / 64 * 64; }

/* Band b of output rows rb a band: rows [*r0, *r1), the expanded rows [*e0,
 * *e1) its windows read and its own window *wb (nn_band_window). */
static void band_of(const ember_window* dw, size_t rb, size_t b, size_t* r0, size_t* r1,
                    size_t* e0, size_t* e1, ember_window* wb) {
    *r0 = b * rb;
    *r1 = *r0 + rb < dw->out[1] ? *r0 + rb : dw->out[1];
    nn_band_window(dw, *r0, *r1, e0, e1, wb);
}

/* Output rows a band (the last one may have fewer). */
static size_t band_out_rows(const em_pw_dw* g) {
    const ember_window* w = &g->dw;
    const size_t kh = w->kernel[1], sh = w->stride[1], row = g->c * w->image[2] * sizeof(float);
    size_t rows_e = row ? BAND_BYTES / row : 1;
    if (rows_e < kh) rows_e = kh;
    size_t rb = (rows_e - kh) / sh + 1;
    return rb < w->out[1] ? rb : w->out[1];
}

typedef struct sizes {
    size_t rb, bands, e_floats, gemm_ws, dw_ws, per_thread;
} sizes;

static bool sizes_of(const ember_kernels* kern, const em_pw_dw* g, sizes* s) {
    const ember_window* w = &g->dw;
    if (w->pad[1] >= (ptrdiff_t)w->kernel[1] || w->pad_end[1] >= (ptrdiff_t)w->kernel[1] ||
        w->out[1] == 0)
        return false; /* an output row could read padding only */
    s->rb = band_out_rows(g);
    s->bands = (w->out[1] + s->rb - 1) / s->rb;
    s->e_floats = s->gemm_ws = s->dw_ws = 0;
    for (size_t b = 0; b < s->bands; b++) {
        size_t r0, r1, e0, e1;
        ember_window wb;
        band_of(w, s->rb, b, &r0, &r1, &e0, &e1, &wb);
        if (e1 <= e0 || !em_conv_depthwise_applies(g->c, g->c, g->c, &wb)) return false;
        const size_t n = (e1 - e0) * w->image[2];
        if (g->c * n > s->e_floats) s->e_floats = g->c * n;
        const size_t gw = ember_f32_gemm_workspace_size(kern, g->c, n, g->cin);
        if (gw > s->gemm_ws) s->gemm_ws = gw;
        const size_t dw = em_conv_depthwise_scratch(kern, &wb, 1);
        if (dw > s->dw_ws) s->dw_ws = dw;
    }
    /* two band buffers: the rows a band shares with the previous one are
     * copied from the other buffer, not computed again */
    s->per_thread = 2 * round64(s->e_floats * sizeof(float)) + round64(s->gemm_ws) + round64(s->dw_ws);
    return true;
}

size_t em_conv_pw_dw_scratch(const ember_kernels* kern, const em_pw_dw* g, size_t threads) {
    sizes s;
    if (g->c * g->dw.image[1] * g->dw.image[2] * sizeof(float) < FUSE_MIN_BYTES ||
        !sizes_of(kern, g, &s))
        return 0;
    return s.per_thread * (threads ? threads : 1);
}

typedef struct band_job {
    const ember_kernels* kern;
    const em_pw_dw* g;
    sizes s;
    const float *x, *pw_packed, *dw_w, *dw_bias;
    ember_f32_gemm_extra pw_ex;
    const em_activation* dw_act;
    float* y;
    unsigned char* scratch;
    size_t tasks;
} band_job;

/* Bands [b0, b1) in order on one thread: each band's expanded rows go to the
 * other of two buffers, the rows it shares with the band before copied across
 * (the same values), the rest computed by the pw GEMM. */
static void band_task(void* arg, size_t t, size_t thread) {
    const band_job* j = arg;
    const em_pw_dw* g = j->g;
    const ember_window* w = &g->dw;
    const size_t h = w->image[1], iw = w->image[2], oh = w->out[1], ow = w->out[2];
    unsigned char* base = j->scratch + thread * j->s.per_thread;
    const size_t eb_bytes = round64(j->s.e_floats * sizeof(float));
    float* ebuf[2] = {(float*)base, (float*)(base + eb_bytes)};
    void* gws = base + 2 * eb_bytes;
    void* dws = (unsigned char*)gws + round64(j->s.gemm_ws);
    const size_t b0 = j->s.bands * t / j->tasks, b1 = j->s.bands * (t + 1) / j->tasks;
    size_t pe0 = 0, pe1 = 0; /* the previous band's expanded rows (none yet) */
    for (size_t b = b0; b < b1; b++) {
        size_t r0, r1, e0, e1;
        ember_window wb;
        band_of(w, j->s.rb, b, &r0, &r1, &e0, &e1, &wb);
        float* eb = ebuf[b & 1];
        const size_t rows = e1 - e0;
        /* rows [e0, e0 + have) copied from the previous band */
        const size_t have = nn_band_copy_shared(g->c, iw, e0, e1, b > b0 ? ebuf[(b - 1) & 1] : NULL,
                                                pe0, pe1, eb);
        /* the other rows: the pw GEMM on those columns of its output */
        if (have < rows)
            ember_f32_gemm_ex(j->kern, g->c, (rows - have) * iw, g->cin, NULL, 0, 0, j->pw_packed,
                              j->x + (e0 + have) * iw, h * iw, 1, 0.0f, eb + have * iw, rows * iw,
                              &j->pw_ex, gws);
        em_conv_depthwise_run_into(NULL, j->kern, 1, g->c, &wb, eb, j->dw_w, j->dw_bias,
                                   j->y + r0 * ow, oh * ow, &g->dw, j->dw_act, dws);
        pe0 = e0;
        pe1 = e1;
    }
}

void em_conv_pw_dw_run(struct em_pool* pool, const ember_kernels* kern, const em_pw_dw* g,
                       const float* x, const float* pw_packed, const float* pw_bias,
                       const em_activation* pw_act, const float* dw_w, const float* dw_bias,
                       const em_activation* dw_act, float* y, void* scratch) {
    band_job j = {.kern = kern, .g = g, .x = x, .pw_packed = pw_packed, .dw_w = dw_w,
                  .dw_bias = dw_bias, .dw_act = dw_act, .y = y, .scratch = scratch};
    (void)sizes_of(kern, g, &j.s); /* true: the planner checked it (em_conv_pw_dw_scratch) */
    const em_conv_act act_ctx = {.kern = kern, .act = pw_act};
    j.pw_ex = em_conv_output_pass(&act_ctx, pw_bias);
    const size_t threads = em_pool_threads(pool);
    j.tasks = j.s.bands < threads ? j.s.bands : threads; /* contiguous bands a thread */
    em_pool_run(j.tasks > 1 ? pool : NULL, j.tasks, band_task, &j);
}

/* ---- the blocked pair ---- */

/* Expanded rows of a blocked band: as the plain bands, sized on the blocked
 * rows (whole blocks of L channels). */
static size_t blocked_band_out_rows(const em_pw_dw* g, size_t L) {
    em_pw_dw gb = *g;
    gb.c = (g->c + L - 1) / L * L;
    return band_out_rows(&gb);
}

typedef struct blocked_sizes {
    size_t rb, bands, e_floats, per_thread;
} blocked_sizes;

static bool blocked_sizes_of(const ember_kernels* kern, const em_pw_dw* g, blocked_sizes* s) {
    const ember_window* w = &g->dw;
    const size_t L = kern->f32_dwconv.block;
    if (!L || !kern->f32_conv1x1_blocked_band || !kern->f32_dwconv.blocked ||
        w->pad[1] >= (ptrdiff_t)w->kernel[1] || w->pad_end[1] >= (ptrdiff_t)w->kernel[1] ||
        w->out[1] == 0)
        return false;
    const size_t cb = (g->c + L - 1) / L;
    s->rb = blocked_band_out_rows(g, L);
    s->bands = (w->out[1] + s->rb - 1) / s->rb;
    s->e_floats = 0;
    for (size_t b = 0; b < s->bands; b++) {
        size_t r0, r1, e0, e1;
        ember_window wb;
        band_of(w, s->rb, b, &r0, &r1, &e0, &e1, &wb);
        if (e1 <= e0) return false;
        const size_t n = cb * L * (e1 - e0) * w->image[2];
        if (n > s->e_floats) s->e_floats = n;
    }
    s->per_thread = 2 * round64(s->e_floats * sizeof(float));
    return true;
}

size_t em_conv_pw_dw_blocked_scratch(const ember_kernels* kern, const em_pw_dw* g,
                                     size_t threads) {
    blocked_sizes s;
    if (g->c * g->dw.image[1] * g->dw.image[2] * sizeof(float) < FUSE_MIN_BYTES ||
        !blocked_sizes_of(kern, g, &s))
        return 0;
    return s.per_thread * (threads ? threads : 1);
}

typedef struct blocked_band_job {
    const ember_kernels* kern;
    const em_pw_dw* g;
    blocked_sizes s;
    const float *x, *pw_packed, *dw_packed;
    const ember_f32_gemm_epilogue* pw_ep;
    const em_activation* pw_act;  /* applied after the kernel (no epilogue form), or NULL */
    const em_activation* dw_act;  /* NULL: none */
    bool dw_bias;
    float* y;
    unsigned char* scratch;
    size_t tasks;
} blocked_band_job;

/* Bands [b0, b1) in order on one thread, as band_task: the expanded rows of
 * every block into the band buffer (the rows shared with the band before
 * copied), then the depthwise kernel block by block into y's rows. */
static void blocked_band_task(void* arg, size_t t, size_t thread) {
    const blocked_band_job* j = arg;
    const em_pw_dw* g = j->g;
    const ember_window* w = &g->dw;
    const ember_kernels* kern = j->kern;
    const size_t L = kern->f32_dwconv.block, cb = (g->c + L - 1) / L;
    const size_t h = w->image[1], iw = w->image[2], oh = w->out[1], ow = w->out[2];
    const size_t kvol = w->kernel[1] * w->kernel[2], panels = (g->c + 2 * L - 1) / (2 * L);
    const size_t kc = ember_f32_gemm_kc(&kern->f32_gemm, g->cin);
    unsigned char* base = j->scratch + thread * j->s.per_thread;
    const size_t eb_bytes = round64(j->s.e_floats * sizeof(float));
    float* ebuf[2] = {(float*)base, (float*)(base + eb_bytes)};
    const size_t b0 = j->s.bands * t / j->tasks, b1 = j->s.bands * (t + 1) / j->tasks;
    size_t pe0 = 0, pe1 = 0;
    for (size_t b = b0; b < b1; b++) {
        size_t r0, r1, e0, e1;
        ember_window wb;
        band_of(w, j->s.rb, b, &r0, &r1, &e0, &e1, &wb);
        float* eb = ebuf[b & 1];
        const size_t rows = e1 - e0;
        const size_t have = nn_band_copy_shared(cb, iw * L, e0, e1, b > b0 ? ebuf[(b - 1) & 1] : NULL,
                                                pe0, pe1, eb);
        if (have < rows) {
            kern->f32_conv1x1_blocked_band(g->c, g->cin, h * iw, kc, j->x + (e0 + have) * iw * L,
                                           j->pw_packed, eb + have * iw * L, rows * iw, j->pw_ep,
                                           (rows - have) * iw, 0, panels);
            if (j->pw_act)
                for (size_t c = 0; c < cb; c++)
                    em_apply_activation(kern, j->pw_act, eb + (c * rows + have) * iw * L,
                                        (rows - have) * iw * L);
        }
        for (size_t c = 0; c < cb; c++)
            em_conv_dw_blocked_band(kern, &wb, eb + c * rows * iw * L, j->dw_packed + c * kvol * L,
                                    j->dw_bias ? j->dw_packed + cb * kvol * L + c * L : NULL,
                                    j->y + (c * oh + r0) * ow * L, j->dw_act);
        pe0 = e0;
        pe1 = e1;
    }
}

void em_conv_pw_dw_blocked_run(struct em_pool* pool, const ember_kernels* kern, const em_pw_dw* g,
                               const float* x, const float* pw_packed, const float* pw_bias,
                               const em_activation* pw_act, const float* dw_packed, bool dw_bias,
                               const em_activation* dw_act, float* y, void* scratch) {
    blocked_band_job j = {.kern = kern, .g = g, .x = x, .pw_packed = pw_packed,
                          .dw_packed = dw_packed, .dw_bias = dw_bias,
                          .dw_act = dw_act && dw_act->kind != EMF_ACT_NONE ? dw_act : NULL,
                          .y = y, .scratch = scratch};
    (void)blocked_sizes_of(kern, g, &j.s); /* true: the planner checked it */
    const em_conv_act act_ctx = {.kern = kern, .act = pw_act};
    const ember_f32_gemm_extra ex = em_conv_output_pass(&act_ctx, pw_bias);
    const ember_f32_gemm_epilogue ep = ember_f32_gemm_epilogue_of(&ex, 0, 0);
    j.pw_ep = ember_f32_gemm_has_epilogue(&ex) ? &ep : NULL;
    j.pw_act = ex.finish ? pw_act : NULL; /* the activations the output pass leaves to a pass */
    const size_t threads = em_pool_threads(pool);
    j.tasks = j.s.bands < threads ? j.s.bands : threads; /* contiguous bands a thread */
    em_pool_run(j.tasks > 1 ? pool : NULL, j.tasks, blocked_band_task, &j);
}
