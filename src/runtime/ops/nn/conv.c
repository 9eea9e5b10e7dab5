/* Conv as a GEMM per image and group (f32_gemm.h): the weights (one
 * [M/group, C/group * kvol] matrix a group, packed once per model through
 * packed_bytes / pack when constant) times the image's im2col matrix, which is
 * never written out: a 1x1 stride-1 unpadded kernel reads the image as B in
 * place, any other kernel packs B straight from the image a cache block at a
 * time (implicit GEMM, f32_im2col_pack.h). The bias and the fused activation
 * are applied to each output tile as the GEMM finishes it. Scratch: the GEMM's
 * packing workspace. Depthwise convolutions go to the direct kernels
 * (conv_depthwise.h), 3x3 stride-1 ones to Winograd where it pays
 * (conv_winograd.h). */
#include <math.h>
#include <string.h>

#include "conv_blocked.h"
#include "conv_depthwise.h"
#include "conv_epilogue.h"
#include "conv_maxpool.h"
#include "conv_pw_dw.h"
#include "conv_winograd.h"
#include "f32_conv1x1_blocked.h"
#include "f32_conv_rows.h"
#include "f32_gemm.h"
#include "f32_im2col_pack.h"
#include "format.h"
#include "nn_window.h"
#include "threadpool.h"

typedef struct conv_params {
    nn_window_attrs win;
    int64_t group;
} conv_params;

typedef struct conv_plan {
    size_t n, c, m, cg, mg, group, kvol, in_vol, out_vol;
    bool direct;           /* 1x1, stride 1, no padding: no im2col */
    ember_window w;
    em_shape out;
} conv_plan;

static size_t conv_packed_bytes(em_op_ctx* ctx);
static int conv_blocked(em_op_ctx* ctx, bool shapes);

static ember_status conv_init(em_op_ctx* ctx, void* params) {
    conv_params* p = params;
    ember_status st = nn_window_parse(ctx, &p->win);
    if (st != EMBER_OK) return st;
    if ((st = em_attr_int(ctx, "group", 1, &p->group)) != EMBER_OK) return st;
    if (p->group < 1 || p->group > ((int64_t)1 << 31))
        return em_op_fail(ctx, EMBER_ERROR_INVALID_MODEL, "attribute 'group' must be >= 1, got %lld",
                          (long long)p->group);
    return EMBER_OK;
}

static ember_status conv_plan_make(em_op_ctx* ctx, conv_plan* pl) {
    const conv_params* p = ctx->params;
    const em_value* x = ctx->inputs[0];
    const em_value* wt = ctx->inputs[1];
    const em_value* b = ctx->n_inputs > 2 ? ctx->inputs[2] : NULL;
    ember_status st = nn_conv_operands_check(ctx);
    if (st != EMBER_OK) return st;
    const int rank = x->shape.rank;
    const int nsp = rank - 2;
    const int64_t c = x->shape.dims[1], m = wt->shape.dims[0], g = p->group;
    if (c % g != 0)
        return em_op_fail(ctx, EMBER_ERROR_SHAPE_MISMATCH,
                          "input channels %lld are not divisible by group %lld", (long long)c,
                          (long long)g);
    if (m < 1 || m % g != 0)
        return em_op_fail(ctx, EMBER_ERROR_SHAPE_MISMATCH,
                          "output channels (W dim 0) %lld must be >= 1 and divisible by group %lld",
                          (long long)m, (long long)g);
    if (wt->shape.dims[1] != c / g)
        return em_op_fail(ctx, EMBER_ERROR_SHAPE_MISMATCH,
                          "W dim 1 must be input channels / group = %lld / %lld = %lld, got %lld",
                          (long long)c, (long long)g, (long long)(c / g), (long long)wt->shape.dims[1]);
    if (b && (b->shape.rank != 1 || b->shape.dims[0] != m))
        return em_op_fail(ctx, EMBER_ERROR_SHAPE_MISMATCH,
                          "bias B must have shape [%lld] (output channels), got rank %d with %lld elements",
                          (long long)m, b->shape.rank, (long long)(b->shape.rank == 1 ? b->shape.dims[0] : -1));
    const int64_t* k = wt->shape.dims + 2;
    if (p->win.n_kernel) {
        if (p->win.n_kernel != (uint32_t)nsp)
            return em_op_fail(ctx, EMBER_ERROR_INVALID_MODEL,
                              "attribute 'kernel_shape' has %u entries, expected %d",
                              p->win.n_kernel, nsp);
        for (int i = 0; i < nsp; i++)
            if (p->win.kernel[i] != k[i])
                return em_op_fail(ctx, EMBER_ERROR_SHAPE_MISMATCH,
                                  "attribute 'kernel_shape'[%d] = %lld does not match W dim %d = %lld",
                                  i, (long long)p->win.kernel[i], i + 2, (long long)k[i]);
    }
    int64_t out[NN_MAX_SPATIAL];
    if ((st = nn_window_forward(ctx, &p->win, nsp, x->shape.dims + 2, k, false, out, &pl->w)))
        return st;
    pl->n = (size_t)x->shape.dims[0];
    pl->c = (size_t)c;
    pl->m = (size_t)m;
    pl->group = (size_t)g;
    pl->cg = (size_t)(c / g);
    pl->mg = (size_t)(m / g);
    pl->kvol = pl->w.kernel[0] * pl->w.kernel[1] * pl->w.kernel[2];
    pl->in_vol = pl->w.image[0] * pl->w.image[1] * pl->w.image[2];
    pl->out_vol = pl->w.out[0] * pl->w.out[1] * pl->w.out[2];
    pl->direct = pl->kvol == 1;
    for (int i = 0; i < 3; i++)
        if (pl->w.stride[i] != 1 || pl->w.pad[i] != 0 || pl->w.pad_end[i] != 0) pl->direct = false;
    pl->out.rank = rank;
    pl->out.dims[0] = x->shape.dims[0];
    pl->out.dims[1] = m;
    for (int i = 0; i < nsp; i++) pl->out.dims[2 + i] = out[i];
    return EMBER_OK;
}

/* ---- 1x1 convolutions with B read in place ----
 * A plain 1x1 stride-1 convolution is W (m x c) times the image (c x hw), whose
 * rows are contiguous: the GEMM would pack that B into panels each run, a copy
 * of the image. With one K block (c <= the table's kc) and the table's "rows"
 * micro-kernel, every full tile of nr columns reads B in place instead (step p
 * at x + p * hw + j0) and only the last, partial tile is packed (into a
 * thread's panel). The same FMA chains on the same values: the GEMM's bits. */
static bool rows_1x1_applies(const ember_kernels* kern, const conv_plan* pl, const void* packed) {
    const ember_f32_gemm_config* g = &kern->f32_gemm;
    /* up to two row blocks: with more (squeezenet1_1's classifier, 1000 rows)
     * the packed B, read once for every row block, measured as fast or faster */
    return packed && pl->direct && pl->group == 1 && g->ukernel_rows && pl->c <= g->kc &&
           pl->m <= 2 * (size_t)g->mc && pl->out_vol >= g->nr &&
           (uint64_t)pl->c * pl->out_vol < ((uint64_t)1 << 31);
}

/* Scratch: the step offsets, then a packed tail panel a thread. */
static size_t rows_1x1_scratch(const ember_kernels* kern, size_t c, size_t threads) {
    const size_t off = (c * sizeof(int32_t) + 63) / 64 * 64;
    return off + threads * ((c * kern->f32_gemm.nr * sizeof(float) + 63) / 64 * 64);
}

typedef struct rows_1x1_job {
    const ember_kernels* kern;
    size_t m, c, hw, tiles, iblocks;
    const float *x, *ap;
    const int32_t* off;
    char* panels;              /* a thread's tail panel at panels + thread * panel_bytes */
    size_t panel_bytes;
    const ember_f32_gemm_extra* ex;
    float* y;
    size_t parts;              /* contiguous parts of the tiles, one a thread */
} rows_1x1_job;

/* Column tile t of row block ib (mc rows). */
static void rows_1x1_tile(const rows_1x1_job* j, size_t ib, size_t t, size_t thread) {
    const ember_f32_gemm_config* g = &j->kern->f32_gemm;
    const size_t j0 = t * g->nr;
    const size_t n = j->hw - j0 < g->nr ? j->hw - j0 : g->nr;
    const size_t i_end = (ib + 1) * g->mc < j->m ? (ib + 1) * g->mc : j->m;
    float* panel = NULL;
    if (n < g->nr) { /* the partial tile: packed, columns past n zero */
        panel = (float*)(j->panels + thread * j->panel_bytes);
        for (size_t p = 0; p < j->c; p++) {
            memcpy(panel + p * g->nr, j->x + p * j->hw + j0, n * sizeof(float));
            memset(panel + p * g->nr + n, 0, (g->nr - n) * sizeof(float));
        }
    }
    for (size_t i0 = ib * g->mc; i0 < i_end; i0 += g->mr) {
        const size_t mt = i_end - i0 < g->mr ? i_end - i0 : g->mr;
        if (panel)
            ember_f32_gemm_run_tile(j->kern, j->ex, i0, j0, mt, n, j->c, j->ap + i0 * j->c, panel,
                                    0.0f, j->y + i0 * j->hw + j0, j->hw);
        else
            ember_f32_gemm_run_tile_rows(j->kern, j->ex, i0, j0, mt, n, j->c, j->ap + i0 * j->c,
                                         j->x + j0, j->off, 0.0f, j->y + i0 * j->hw + j0, j->hw);
    }
}

/* Unit u: a contiguous part of the column tiles (positions), every row block
 * (whose packed weights stay in L2 across the part's tiles): threads split
 * the image by space, so that a thread mostly reads what it wrote. */
static void rows_1x1_task(void* arg, size_t u, size_t thread) {
    const rows_1x1_job* j = arg;
    const size_t t0 = j->tiles * u / j->parts, t1 = j->tiles * (u + 1) / j->parts;
    for (size_t ib = 0; ib < j->iblocks; ib++)
        for (size_t t = t0; t < t1; t++) rows_1x1_tile(j, ib, t, thread);
}

static void rows_1x1_run(em_pool* pool, const ember_kernels* kern, const conv_plan* pl,
                         const float* x, const float* ap, const ember_f32_gemm_extra* ex, float* y,
                         void* scratch) {
    const ember_f32_gemm_config* g = &kern->f32_gemm;
    int32_t* off = scratch;
    for (size_t p = 0; p < pl->c; p++) off[p] = (int32_t)(p * pl->out_vol);
    rows_1x1_job j = {.kern = kern, .m = pl->m, .c = pl->c, .hw = pl->out_vol,
                      .tiles = (pl->out_vol + g->nr - 1) / g->nr,
                      .iblocks = (pl->m + g->mc - 1) / g->mc, .x = x, .ap = ap, .off = off,
                      .panels = (char*)scratch + (pl->c * sizeof(int32_t) + 63) / 64 * 64,
                      .panel_bytes = (pl->c * g->nr * sizeof(float) + 63) / 64 * 64, .ex = ex,
                      .y = y, .parts = 1};
    const double flops = 2.0 * (double)pl->m * (double)pl->c * (double)pl->out_vol;
    const size_t threads = em_pool_threads(pool);
    if (threads > 1 && flops >= (double)(1 << 20)) j.parts = j.tiles < threads ? j.tiles : threads;
    em_pool_run(j.parts > 1 ? pool : NULL, j.parts, rows_1x1_task, &j);
}

static ember_status conv_infer(em_op_ctx* ctx) {
    conv_plan pl;
    ember_status st = conv_plan_make(ctx, &pl);
    if (st != EMBER_OK) return st;
    ctx->outputs[0]->dtype = EMBER_DTYPE_F32;
    ctx->outputs[0]->shape = pl.out;
    if (em_conv_depthwise_applies(pl.c, pl.m, pl.group, &pl.w)) { /* direct kernels */
        ctx->scratch_bytes = em_conv_depthwise_scratch(em_kern(ctx), &pl.w, ctx->threads);
        return EMBER_OK;
    }
    /* implicit GEMM: B is packed from the image a block at a time, so the
     * workspace of the GEMM is all the scratch there is */
    ctx->scratch_bytes = ember_f32_gemm_workspace_size(em_kern(ctx), pl.mg, pl.out_vol,
                                                       pl.cg * pl.kvol);
    if (em_conv_winograd_applies(pl.c, pl.m, pl.group, &pl.w)) { /* packed: Winograd */
        em_wino_geom g = em_conv_winograd_geom(pl.n, pl.c, pl.m, &pl.w);
        g.threads = ctx->threads;
        const size_t wb = em_conv_winograd_scratch(em_kern(ctx), &g);
        if (wb > ctx->scratch_bytes) ctx->scratch_bytes = wb;
    } else if (pl.direct && pl.n >= 1 && rows_1x1_applies(em_kern(ctx), &pl, ctx->inputs[1]->data)) {
        /* packed weights (constant): B read in place */
        const size_t rb = rows_1x1_scratch(em_kern(ctx), pl.c, ctx->threads);
        if (rb > ctx->scratch_bytes) ctx->scratch_bytes = rb;
    } else if (!pl.direct && pl.group == 1 && conv_blocked(ctx, false) == 3 &&
               ember_f32_conv_rows_blocked_applies(em_kern(ctx), pl.c, &pl.w)) {
        /* a stem, which may run blocked (any width) or plain: the padded copy */
        const size_t rb = ember_f32_conv_rows_scratch(pl.cg, &pl.w);
        if (rb > ctx->scratch_bytes) ctx->scratch_bytes = rb;
    } else if (!pl.direct && ember_f32_conv_rows_applies(em_kern(ctx), pl.cg, &pl.w)) {
        /* packed: the direct kernel, from one padded copy of the image */
        const size_t rb = ember_f32_conv_rows_scratch(pl.cg, &pl.w);
        if (rb > ctx->scratch_bytes) ctx->scratch_bytes = rb;
    }
    return EMBER_OK;
}

/* The direct convolution of one image and group (f32_conv_rows.h) on the
 * threads: the padded copy filled by row ranges, then output rows shared out. */
typedef struct conv_rows_job {
    const ember_kernels* kern;
    const conv_plan* pl;
    const float* x;
    const float* ap;
    const ember_f32_gemm_extra* ex;
    void* scratch;
    float* y;
    size_t tasks;
} conv_rows_job;

typedef struct rows_fill_job {
    size_t channels, tasks;
    const ember_window* w;
    const float* x;
    void* scratch;
} rows_fill_job;

static void rows_fill_task(void* arg, size_t t, size_t thread) {
    (void)thread;
    const rows_fill_job* j = arg;
    const size_t rows = ember_f32_conv_rows_total(j->w);
    ember_f32_conv_rows_fill(j->channels, j->w, j->x, j->scratch, rows * t / j->tasks,
                             rows * (t + 1) / j->tasks);
}

void em_conv_rows_prepare(em_pool* pool, size_t tasks, size_t channels, const ember_window* w,
                          const float* x, void* scratch) {
    ember_f32_conv_rows_offsets(channels, w, scratch);
    rows_fill_job j = {.channels = channels, .tasks = tasks ? tasks : 1, .w = w, .x = x,
                       .scratch = scratch};
    em_pool_run(j.tasks > 1 ? pool : NULL, j.tasks, rows_fill_task, &j);
}

static void conv_rows_task(void* arg, size_t t, size_t thread) {
    (void)thread;
    const conv_rows_job* j = arg;
    const size_t oh = j->pl->w.out[1];
    ember_f32_conv_rows_run(j->kern, j->pl->cg, j->pl->mg, &j->pl->w, j->ap, j->scratch, j->ex,
                            j->y, oh * t / j->tasks, oh * (t + 1) / j->tasks);
}

static void conv_rows(em_pool* pool, conv_rows_job* j) {
    const size_t threads = em_pool_threads(pool), oh = j->pl->w.out[1];
    const double flops = 2.0 * (double)j->pl->mg * (double)j->pl->cg * (double)j->pl->kvol *
                         (double)j->pl->out_vol;
    j->tasks = threads < 2 || flops < (double)(1 << 20) || oh < 2 ? 1 : oh < 4 * threads ? oh : 4 * threads;
    em_conv_rows_prepare(pool, j->tasks, j->pl->cg, &j->pl->w, j->x, j->scratch);
    em_pool_run(j->tasks > 1 ? pool : NULL, j->tasks, conv_rows_task, j);
}

/* Bytes of one group's packed weights, 64-byte rounded. */
static size_t conv_group_packed(const ember_kernels* kern, const conv_plan* pl) {
    const size_t b = ember_f32_gemm_packed_a_size(kern, pl->mg, pl->cg * pl->kvol);
    return (b + EM_ALIGN - 1) / EM_ALIGN * EM_ALIGN;
}

/* The implicit im2col of one image and group (ember_f32_gemm_extra.pack_b). */
typedef struct conv_b {
    const ember_kernels* kern;
    const ember_window* w;
    const float* x;
} conv_b;

static void conv_pack_b(const void* ctx, size_t nr, size_t p0, size_t kc, size_t j0, size_t n,
                        float* dst) {
    const conv_b* cb = ctx;
    cb->kern->f32_im2col_pack_b(cb->w, cb->x, nr, p0, kc, j0, n, dst);
}

/* The pair a depthwise node (ctx) and the 1x1 convolution producing its input
 * (pw) make for conv_pw_dw.h, or false: pw one image, one group, stride 1,
 * unpadded, with constant weights (packed: its packed_bytes); ctx depthwise. */
static bool pw_dw_pair(em_op_ctx* ctx, em_op_ctx* pw, em_pw_dw* g) {
    conv_plan pd, pp;
    if (ctx->node->op != pw->node->op || conv_plan_make(ctx, &pd) != EMBER_OK ||
        conv_plan_make(pw, &pp) != EMBER_OK)
        return false;
    if (!em_conv_depthwise_applies(pd.c, pd.m, pd.group, &pd.w) || pd.n != 1) return false;
    if (!pp.direct || pp.group != 1 || pp.n != 1 || !conv_packed_bytes(pw) || pp.m != pd.c ||
        pp.w.out[0] != 1 || pp.w.out[1] != pd.w.image[1] || pp.w.out[2] != pd.w.image[2])
        return false;
    *g = (em_pw_dw){.cin = pp.c, .c = pp.m, .dw = pd.w};
    return true;
}

/* A per-channel scale in front of a 1x1 convolution (Squeeze-and-Excitation:
 * Mul(x [1, C, H, W], s [1, C, 1, 1]) read only by the Conv): the GEMM packs
 * its B panels from x times s instead, so the scaled tensor is never written.
 * Each packed value is the float product the Mul would have stored, so the
 * output is the same bits. Which Mul input is x (0 or 1), or -1; *pl is the
 * Conv's plan when it is not -1. */
static int scale_input(em_op_ctx* ctx, em_op_ctx* mul, conv_plan* pl) {
    if (strcmp(mul->node->op->name, "Mul") != 0 || mul->n_inputs != 2 || !mul->inputs[0] ||
        !mul->inputs[1] || mul->node->act.kind != EMF_ACT_NONE)
        return -1;
    if (conv_plan_make(ctx, pl) != EMBER_OK || !pl->direct || pl->group != 1 || pl->n != 1 ||
        !conv_packed_bytes(ctx))
        return -1;
    for (int xi = 0; xi < 2; xi++) {
        const em_value* x = mul->inputs[xi];
        const em_value* sc = mul->inputs[1 - xi];
        if (x->dtype != EMBER_DTYPE_F32 || sc->dtype != EMBER_DTYPE_F32 ||
            x->shape.rank != ctx->inputs[0]->shape.rank || sc->shape.rank != x->shape.rank)
            continue;
        bool ok = true;
        for (int d = 0; d < x->shape.rank && ok; d++)
            ok = x->shape.dims[d] == ctx->inputs[0]->shape.dims[d] &&
                 sc->shape.dims[d] == (d == 1 ? x->shape.dims[1] : 1);
        if (ok) return xi;
    }
    return -1;
}

typedef struct conv_scaled_b {
    const float* x;
    const float* s;
    size_t plane; /* floats a channel of x */
} conv_scaled_b;

/* ember_f32_gemm_extra.pack_b: rows [p0, p0 + kc), columns [j0, j0 + n) of
 * s[p] * x[p][j], in the table's panel layout (columns past n zero). */
static void conv_pack_scaled_b(const void* ctx, size_t nr, size_t p0, size_t kc, size_t j0,
                               size_t n, float* dst) {
    const conv_scaled_b* sb = ctx;
    for (size_t q = 0; q < n; q += nr, dst += kc * nr) {
        const size_t cols = n - q < nr ? n - q : nr;
        for (size_t p = 0; p < kc; p++) {
            const float sp = sb->s[p0 + p];
            const float* xr = sb->x + (p0 + p) * sb->plane + j0 + q;
            float* d = dst + p * nr;
            for (size_t j = 0; j < cols; j++) d[j] = sp * xr[j];
            for (size_t j = cols; j < nr; j++) d[j] = 0.0f;
        }
    }
}

static bool blocked_1x1(const conv_plan* pl);

/* A blocked 1x1 convolution doing the per-channel scale in front of it
 * (Squeeze-and-Excitation on blocked tensors): its packed weights scaled per
 * run, W[m][k] * s[k] in scratch, instead of the Mul writing x * s. Taken
 * where the scaled weights are smaller than the tensor (positions >= output
 * channels): the early, wide layers. The products round differently from
 * the Mul's (x * s * w against x * (s * w)): float rounding, not the bits of
 * the unfused graph. Scratch bytes, or 0. */
static size_t blocked_scale_scratch(em_op_ctx* ctx, em_op_ctx* mul, conv_plan* pl, int* xi) {
    if ((*xi = scale_input(ctx, mul, pl)) < 0 || !ctx->block || !blocked_1x1(pl) ||
        !mul->inputs[0]->block || !mul->inputs[1]->block || pl->out_vol < pl->m)
        return 0;
    return ember_f32_conv1x1_blocked_packed_size(ctx->block, pl->m, pl->c);
}

/* A blocked depthwise node and the blocked 1x1 producing its input (the
 * expansion of an inverted residual block), as conv_pw_dw.h's blocked pair:
 * its scratch, or 0. The planner pairs nodes of one layout only; the 1x1's
 * input must be stored blocked (a plain one would need the conversion the
 * executor makes around the 1x1 node, which fused does not run). */
static size_t blocked_pw_dw_scratch(em_op_ctx* ctx, em_op_ctx* pw, em_pw_dw* g) {
    conv_plan pp;
    if (!ctx->block || !pw->inputs[0] || !pw->inputs[0]->block || !pw_dw_pair(ctx, pw, g) ||
        conv_plan_make(pw, &pp) != EMBER_OK || !blocked_1x1(&pp))
        return 0;
    return em_conv_pw_dw_blocked_scratch(em_kern(ctx), g, ctx->threads);
}

static size_t conv_absorb_scratch(em_op_ctx* ctx, em_op_ctx* producer) {
    conv_plan pl;
    int xi;
    em_pw_dw g;
    if (ctx->block) {
        const size_t b = blocked_scale_scratch(ctx, producer, &pl, &xi);
        return b ? b : blocked_pw_dw_scratch(ctx, producer, &g);
    }
    if (scale_input(ctx, producer, &pl) >= 0) /* 1: the node's own scratch (its GEMM's) is enough */
        return 1;
    if (!pw_dw_pair(ctx, producer, &g)) return 0;
    return em_conv_pw_dw_scratch(em_kern(ctx), &g, ctx->threads);
}

/* The 1x1 convolution doing the per-channel scale in front of it. */
static ember_status conv_run_scaled(em_op_ctx* ctx, const conv_plan* plan, int xi) {
    const conv_plan pl = *plan;
    if (!ctx->packed)
        return em_op_fail(ctx, EMBER_ERROR_RUNTIME, "internal error: fused with '%s' unpacked",
                          ctx->producer->name);
    const ember_kernels* kern = em_kern(ctx);
    const float* bias = ctx->n_inputs > 2 && ctx->inputs[2] ? ctx->inputs[2]->data : NULL;
    const conv_scaled_b sb = {.x = ctx->producer_inputs[xi]->data,
                              .s = ctx->producer_inputs[1 - xi]->data, .plane = pl.out_vol};
    const em_conv_act act_ctx = {.kern = kern, .act = &ctx->node->act};
    ember_f32_gemm_extra ex = em_conv_output_pass(&act_ctx, bias);
    ex.pack_b = conv_pack_scaled_b;
    ex.pack_b_ctx = &sb;
    ember_f32_gemm_ex_mt(ctx->pool, kern, pl.m, pl.out_vol, pl.c, NULL, 0, 0, ctx->packed, NULL, 0, 0,
                         0.0f, ctx->outputs[0]->data, pl.out_vol, &ex, ctx->scratch);
    ctx->kernel = "scale+gemm";
    ctx->act_done = true;
    return EMBER_OK;
}

extern const em_op_def em_op_conv;

bool em_conv_rows_geometry(em_op_ctx* ctx, size_t* channels, size_t* m, ember_window* w) {
    conv_plan pl;
    if (ctx->node->op != &em_op_conv || conv_plan_make(ctx, &pl) != EMBER_OK || pl.n != 1 || pl.group != 1 || pl.direct ||
        !ctx->inputs[1]->data || em_conv_depthwise_applies(pl.c, pl.m, pl.group, &pl.w) ||
        em_conv_winograd_applies(pl.c, pl.m, pl.group, &pl.w) ||
        !ember_f32_conv_rows_applies(em_kern(ctx), pl.cg, &pl.w))
        return false;
    *channels = pl.c;
    *m = pl.m;
    *w = pl.w;
    return true;
}

/* The depthwise node doing its 1x1 producer's work (conv_pw_dw.h). */
static ember_status conv_run_pw_dw(em_op_ctx* ctx, em_op_ctx* pw) {
    const em_node* pn = ctx->producer;
    em_pw_dw g;
    if (!pw_dw_pair(ctx, pw, &g) || !ctx->producer_packed)
        return em_op_fail(ctx, EMBER_ERROR_RUNTIME, "internal error: '%s' cannot be fused here",
                          pn->name);
    const em_value* pb = pn->n_inputs > 2 ? ctx->producer_inputs[2] : NULL;
    const em_value* db = ctx->n_inputs > 2 ? ctx->inputs[2] : NULL;
    em_conv_pw_dw_run(ctx->pool, em_kern(ctx), &g, ctx->producer_inputs[0]->data,
                      ctx->producer_packed, pb ? pb->data : NULL, &pn->act, ctx->inputs[1]->data,
                      db ? db->data : NULL, &ctx->node->act, ctx->outputs[0]->data, ctx->scratch);
    ctx->kernel = "1x1+dwconv";
    ctx->act_done = true;
    return EMBER_OK;
}

/* Whether the node can run on channel-blocked activations (em_op_def.blocked),
 * from its attributes and constant weights alone: a 2-D 1x1 convolution with
 * stride 1, no padding and one group (1), a depthwise one with channel
 * multiplier 1, dilation 1 and kernel and strides up to 16 (2), or a stem,
 * up to 4 input channels in one K block, blocked output only (3); f32, with
 * constant weights and bias. */
static int conv_blocked(em_op_ctx* ctx, bool shapes) {
    (void)shapes; /* the answer never depends on them */
    const conv_params* p = ctx->params;
    const em_value* x = ctx->inputs[0];
    const em_value* wt = ctx->inputs[1];
    const em_value* b = ctx->n_inputs > 2 ? ctx->inputs[2] : NULL;
    if (!wt->data || wt->dtype != EMBER_DTYPE_F32 || wt->shape.rank != 4 || x->shape.rank != 4 ||
        x->dtype != EMBER_DTYPE_F32 || (b && (!b->data || b->dtype != EMBER_DTYPE_F32)))
        return 0;
    const int64_t m = wt->shape.dims[0], kh = wt->shape.dims[2], kw = wt->shape.dims[3];
    if (p->win.n_pads)
        for (uint32_t i = 0; i < p->win.n_pads; i++)
            if (p->win.pads[i] < 0) return 0;
    if (kh == 1 && kw == 1 && p->group == 1) {
        for (int i = 0; i < 2; i++)
            if (nn_stride(&p->win, i) != 1) return 0;
        for (uint32_t i = 0; i < p->win.n_pads; i++)
            if (p->win.pads[i] != 0) return 0;
        return 1;
    }
    /* a stem: few input channels, one K block; it reads its input plain
     * (the direct convolution's padded copy) and writes blocked */
    const ember_kernels* kern = em_kern(ctx);
    if (p->group == 1 && wt->shape.dims[1] <= 4 && kern->f32_conv_rows_blocked &&
        (uint64_t)wt->shape.dims[1] * (uint64_t)(kh * kw) <= kern->f32_gemm.kc) {
        for (int i = 0; i < 2; i++)
            if (nn_stride(&p->win, i) > 4 || nn_dilation(&p->win, i) > 4) return 0;
        return 3;
    }
    if (p->group != m || wt->shape.dims[1] != 1 || kh > 16 || kw > 16) return 0;
    for (int i = 0; i < 2; i++)
        if (nn_dilation(&p->win, i) != 1 || nn_stride(&p->win, i) > 16) return 0;
    return 2;
}

/* Which of conv_blocked's kinds a node running blocked is: 1x1, a stem (the
 * direct convolution, one group), else depthwise (a 1-channel k x k
 * convolution is a stem: group 1). */
static bool blocked_1x1(const conv_plan* pl) { return pl->group == 1 && pl->kvol == 1; }
static bool blocked_stem(const conv_plan* pl) { return pl->group == 1 && pl->kvol > 1; }

/* The stem into the blocked layout: the padded copy of each image filled,
 * then its output rows shared out (f32_conv_rows.h). */
typedef struct stem_job {
    const ember_kernels* kern;
    const conv_plan* pl;
    const float* wp;
    const void* scratch;
    const ember_f32_gemm_epilogue* ep;
    float* y;
    size_t tasks;
} stem_job;

static void stem_task(void* arg, size_t t, size_t thread) {
    (void)thread;
    const stem_job* j = arg;
    const size_t oh = j->pl->w.out[1];
    ember_f32_conv_rows_run_blocked(j->kern, j->pl->c, j->pl->m, &j->pl->w, j->wp, j->scratch,
                                    j->ep, j->y, oh * t / j->tasks, oh * (t + 1) / j->tasks);
}

static ember_status conv_run_stem_blocked(em_op_ctx* ctx, const conv_plan* pl) {
    const ember_kernels* kern = em_kern(ctx);
    if (!ember_f32_conv_rows_blocked_applies(kern, pl->c, &pl->w) ||
        ember_f32_conv_rows_scratch(pl->c, &pl->w) > ctx->scratch_bytes)
        return em_op_fail(ctx, EMBER_ERROR_RUNTIME,
                          "internal error: no direct convolution for this blocked stem");
    const em_value* b = ctx->n_inputs > 2 ? ctx->inputs[2] : NULL;
    const em_conv_act act_ctx = {.kern = kern, .act = &ctx->node->act};
    const ember_f32_gemm_extra ex = em_conv_output_pass(&act_ctx, b ? b->data : NULL);
    const ember_f32_gemm_epilogue ep = ember_f32_gemm_epilogue_of(&ex, 0, 0);
    const bool any = ember_f32_gemm_has_epilogue(&ex);
    const size_t L = ctx->block, oh = pl->w.out[1], threads = em_pool_threads(ctx->pool);
    const double flops = 2.0 * (double)pl->m * (double)pl->c * (double)pl->kvol * (double)pl->out_vol;
    const size_t tasks = threads < 2 || flops < (double)(1 << 20) || oh < 2 ? 1
                         : oh < threads                                     ? oh
                                                                            : threads;
    const size_t ys = (pl->m + L - 1) / L * L * pl->out_vol;
    for (size_t n = 0; n < pl->n; n++) {
        const float* x = (const float*)ctx->inputs[0]->data + n * pl->c * pl->in_vol;
        em_conv_rows_prepare(ctx->pool, tasks, pl->c, &pl->w, x, ctx->scratch);
        stem_job j = {.kern = kern, .pl = pl, .wp = ctx->packed, .scratch = ctx->scratch,
                      .ep = any ? &ep : NULL, .y = (float*)ctx->outputs[0]->data + n * ys,
                      .tasks = tasks};
        em_pool_run(tasks > 1 ? ctx->pool : NULL, tasks, stem_task, &j);
    }
    if (ex.finish) /* the activations the output pass leaves to a tile pass */
        em_apply_activation(kern, &ctx->node->act, ctx->outputs[0]->data, pl->n * ys);
    ctx->kernel = "direct conv nchw16c";
    ctx->act_done = true;
    return EMBER_OK;
}

/* The node on blocked activations (conv_blocked.h), from its packed weights. */
static ember_status conv_run_blocked(em_op_ctx* ctx, const conv_plan* pl) {
    const ember_kernels* kern = em_kern(ctx);
    if (!ctx->packed || ctx->block != kern->f32_dwconv.block || !kern->f32_conv1x1_blocked)
        return em_op_fail(ctx, EMBER_ERROR_RUNTIME,
                          "internal error: blocked layout without its packed weights or kernels");
    const float* x = ctx->inputs[0]->data;
    float* y = ctx->outputs[0]->data;
    const em_value* b = ctx->n_inputs > 2 ? ctx->inputs[2] : NULL;
    if (blocked_stem(pl)) return conv_run_stem_blocked(ctx, pl);
    if (blocked_1x1(pl)) {
        em_conv1x1_blocked_run(ctx->pool, kern, pl->n, pl->c, pl->m, pl->out_vol, x, ctx->packed,
                               b ? b->data : NULL, NULL, y, &ctx->node->act);
        ctx->kernel = "gemm nchw16c";
    } else {
        em_conv_dw_blocked_run(ctx->pool, kern, pl->n, pl->c, &pl->w, x, ctx->packed, b != NULL, y,
                               &ctx->node->act);
        ctx->kernel = "dwconv nchw16c";
    }
    ctx->act_done = true;
    return EMBER_OK;
}

/* The residual operand of an Add whose other input is conv's output, or NULL
 * when it is not an f32 tensor of the Add's output shape and layout (at
 * planning it has no data yet; its shape and layout are known). */
static const em_value* residual_operand(const em_op_ctx* add, const em_node* conv) {
    if (add->n_inputs != 2 || !add->inputs[0] || !add->inputs[1]) return NULL;
    const em_value* r = add->inputs[add->node->inputs[0] == conv->outputs[0] ? 1 : 0];
    const em_value* y = add->outputs[0];
    if (r->dtype != EMBER_DTYPE_F32 || y->dtype != EMBER_DTYPE_F32 || r->block != add->block ||
        !em_shape_equal(&r->shape, &y->shape))
        return NULL;
    return r;
}

size_t em_conv_residual_scratch(em_op_ctx* add, em_op_ctx* conv) {
    conv_plan pl;
    if (!add->block || conv->node->op != &em_op_conv || conv->block != add->block ||
        conv->node->act.kind != EMF_ACT_NONE || add->node->act.kind != EMF_ACT_NONE ||
        !conv->inputs[0] || !conv->inputs[0]->block || conv_plan_make(conv, &pl) != EMBER_OK ||
        !blocked_1x1(&pl) || !conv_packed_bytes(conv) || !em_kern(conv)->f32_conv1x1_blocked ||
        !em_shape_equal(&pl.out, &add->outputs[0]->shape) || !residual_operand(add, conv->node))
        return 0;
    return 1; /* no scratch of its own */
}

ember_status em_conv_residual_run(em_op_ctx* ctx) {
    char pmsg[EM_MSG_CAP];
    em_op_ctx conv = em_producer_ctx(ctx, pmsg);
    conv_plan pl;
    ember_status st = conv_plan_make(&conv, &pl);
    if (st != EMBER_OK) return em_op_fail(ctx, st, "its Conv: %s", pmsg);
    const em_value* r = residual_operand(ctx, ctx->producer);
    const ember_kernels* kern = em_kern(ctx);
    if (!r || !r->data || !ctx->producer_packed || !blocked_1x1(&pl) || !kern->f32_conv1x1_blocked ||
        ctx->block != kern->f32_dwconv.block || !em_shape_equal(&pl.out, &ctx->outputs[0]->shape))
        return em_op_fail(ctx, EMBER_ERROR_RUNTIME, "internal error: Conv '%s' cannot be fused here",
                          ctx->producer->name);
    const em_value* b = conv.n_inputs > 2 ? conv.inputs[2] : NULL;
    em_conv1x1_blocked_run(ctx->pool, kern, pl.n, pl.c, pl.m, pl.out_vol, conv.inputs[0]->data,
                           ctx->producer_packed, b ? b->data : NULL, r->data,
                           ctx->outputs[0]->data, &ctx->producer->act);
    ctx->kernel = "gemm+add nchw16c";
    return EMBER_OK;
}

/* The blocked 1x1 doing the scale in front of it (blocked_scale_scratch). */
static ember_status conv_run_blocked_scaled(em_op_ctx* ctx) {
    char pmsg[EM_MSG_CAP];
    em_op_ctx mul = em_producer_ctx(ctx, pmsg);
    conv_plan pl;
    int xi;
    const size_t bytes = blocked_scale_scratch(ctx, &mul, &pl, &xi);
    const ember_kernels* kern = em_kern(ctx);
    if (!bytes || bytes > ctx->scratch_bytes || !ctx->packed || !kern->f32_conv1x1_blocked)
        return em_op_fail(ctx, EMBER_ERROR_RUNTIME, "internal error: '%s' cannot be fused here",
                          ctx->producer->name);
    const float* sc = ctx->producer_inputs[1 - xi]->data; /* [1, C, 1, 1] blocked: s[k] at k */
    const size_t panel = 2 * ctx->block, panels = (pl.m + panel - 1) / panel;
    const float* wp = ctx->packed;
    float* ws = ctx->scratch;
    for (size_t q = 0; q < panels; q++)
        for (size_t k = 0; k < pl.c; k++) {
            const size_t o = (q * pl.c + k) * panel;
            for (size_t c = 0; c < panel; c++) ws[o + c] = wp[o + c] * sc[k];
        }
    const em_value* b = ctx->n_inputs > 2 ? ctx->inputs[2] : NULL;
    em_conv1x1_blocked_run(ctx->pool, kern, pl.n, pl.c, pl.m, pl.out_vol,
                           ctx->producer_inputs[xi]->data, ws, b ? b->data : NULL, NULL,
                           ctx->outputs[0]->data, &ctx->node->act);
    ctx->kernel = "scale+gemm nchw16c";
    ctx->act_done = true;
    return EMBER_OK;
}

/* The blocked depthwise node doing its blocked 1x1 producer's work. */
static ember_status conv_run_blocked_pw_dw(em_op_ctx* ctx, em_op_ctx* pw) {
    const em_node* pn = ctx->producer;
    em_pw_dw g;
    const size_t bytes = blocked_pw_dw_scratch(ctx, pw, &g);
    if (!bytes || bytes > ctx->scratch_bytes || !ctx->packed || !ctx->producer_packed)
        return em_op_fail(ctx, EMBER_ERROR_RUNTIME, "internal error: '%s' cannot be fused here",
                          pn->name);
    const em_value* pb = pn->n_inputs > 2 ? ctx->producer_inputs[2] : NULL;
    const em_value* db = ctx->n_inputs > 2 ? ctx->inputs[2] : NULL;
    em_conv_pw_dw_blocked_run(ctx->pool, em_kern(ctx), &g, ctx->producer_inputs[0]->data,
                              ctx->producer_packed, pb ? pb->data : NULL, &pn->act, ctx->packed,
                              db != NULL, &ctx->node->act, ctx->outputs[0]->data, ctx->scratch);
    ctx->kernel = "1x1+dwconv nchw16c";
    ctx->act_done = true;
    return EMBER_OK;
}

static ember_status conv_run(em_op_ctx* ctx) {
    if (ctx->block) {
        if (ctx->producer) {
            if (ctx->producer->op != ctx->node->op) return conv_run_blocked_scaled(ctx);
            char pmsg[EM_MSG_CAP];
            em_op_ctx pw = em_producer_ctx(ctx, pmsg);
            return conv_run_blocked_pw_dw(ctx, &pw);
        }
        conv_plan pl;
        ember_status st = conv_plan_make(ctx, &pl);
        return st != EMBER_OK ? st : conv_run_blocked(ctx, &pl);
    }
    if (ctx->producer) {
        char pmsg[EM_MSG_CAP];
        em_op_ctx prod = em_producer_ctx(ctx, pmsg);
        conv_plan pl;
        const int xi = scale_input(ctx, &prod, &pl);
        return xi >= 0 ? conv_run_scaled(ctx, &pl, xi) : conv_run_pw_dw(ctx, &prod);
    }
    conv_plan pl;
    ember_status st = conv_plan_make(ctx, &pl);
    if (st != EMBER_OK) return st;
    const float* x = ctx->inputs[0]->data;
    const float* wt = ctx->inputs[1]->data;
    const float* bias = ctx->n_inputs > 2 && ctx->inputs[2] ? ctx->inputs[2]->data : NULL;
    float* y = ctx->outputs[0]->data;
    if (em_conv_depthwise_applies(pl.c, pl.m, pl.group, &pl.w)) {
        em_conv_depthwise_run(ctx->pool, em_kern(ctx), pl.n, pl.c, &pl.w, x, wt, bias, y,
                              &ctx->node->act, ctx->scratch);
        ctx->kernel = "dwconv";
        ctx->act_done = true;
        return EMBER_OK;
    }
    if (ctx->packed && em_conv_winograd_applies(pl.c, pl.m, pl.group, &pl.w)) {
        em_wino_geom g = em_conv_winograd_geom(pl.n, pl.c, pl.m, &pl.w);
        g.threads = ctx->threads;
        /* a Relu or Clip as the output transform stores; any other activation
         * after it (em_node_run) */
        const em_conv_act act_ctx = {.kern = em_kern(ctx), .act = &ctx->node->act};
        const ember_f32_gemm_extra ex = em_conv_output_pass(&act_ctx, NULL);
        const ember_f32_gemm_epilogue ep = ember_f32_gemm_epilogue_of(&ex, 0, 0);
        const bool clamp = ex.clamp && ex.act == EMBER_GEMM_ACT_NONE && !ex.finish;
        em_conv_winograd_run(ctx->pool, em_kern(ctx), &g, x, ctx->packed, bias,
                             clamp ? &ep : NULL, y, ctx->scratch);
        ctx->kernel = "winograd+gemm";
        ctx->act_done = clamp;
        return EMBER_OK;
    }
    const size_t kdim = pl.cg * pl.kvol;
    const ember_kernels* kern = em_kern(ctx);
    const em_activation* act = &ctx->node->act;
    if (pl.direct && pl.out_vol == 1) { /* a matrix-vector product (1x1 image): gemv */
        ctx->kernel = "gemv";
        for (size_t n = 0; n < pl.n; n++)
            for (size_t g = 0; g < pl.group; g++) {
                const float* xg = x + (n * pl.c + g * pl.cg);
                float* yg = y + (n * pl.m + g * pl.mg);
                if (bias) memcpy(yg, bias + g * pl.mg, pl.mg * sizeof(float));
                if (ctx->packed)
                    ember_f32_gemm_prepacked_a_mt(
                        ctx->pool, kern, pl.mg, 1, kdim,
                        (const float*)((const char*)ctx->packed + g * conv_group_packed(kern, &pl)),
                        xg, 1, 1, bias ? 1.0f : 0.0f, yg, 1, ctx->scratch);
                else
                    ember_f32_gemm_mt(ctx->pool, kern, pl.mg, 1, kdim, 1.0f, wt + g * pl.mg * kdim,
                                      kdim, 1, xg, 1, 1, bias ? 1.0f : 0.0f, yg, 1, ctx->scratch);
            }
        return EMBER_OK; /* em_node_run applies the activation */
    }
    /* The GEMM of each image and group: W (mg x kdim) times the image's columns
     * (read in place for a 1x1 stride-1 kernel, else packed straight from the
     * image), with the bias and the activation applied to each tile of the
     * output while it is in L1. */
    /* (the direct kernel needs the weights packed for this path: a session
     * on another path packs them at each run, as the GEMM's A) */
    const bool rows = ctx->packed && !pl.direct && ember_f32_conv_rows_applies(kern, pl.cg, &pl.w);
    ctx->kernel = pl.direct ? "gemm" : rows ? "direct conv" : "implicit gemm";
    const em_conv_act act_ctx = {.kern = kern, .act = act};
    for (size_t n = 0; n < pl.n; n++)
        for (size_t g = 0; g < pl.group; g++) {
            const float* xg = x + (n * pl.c + g * pl.cg) * pl.in_vol;
            float* yg = y + (n * pl.m + g * pl.mg) * pl.out_vol;
            const conv_b cb = {.kern = kern, .w = &pl.w, .x = xg};
            ember_f32_gemm_extra ex = em_conv_output_pass(&act_ctx, bias ? bias + g * pl.mg : NULL);
            if (!pl.direct) {
                ex.pack_b = conv_pack_b;
                ex.pack_b_ctx = &cb;
            }
            const float* ap = ctx->packed ? (const float*)((const char*)ctx->packed +
                                                           g * conv_group_packed(kern, &pl))
                                          : NULL;
            if (rows) {
                conv_rows_job j = {.kern = kern, .pl = &pl, .x = xg, .ap = ap, .ex = &ex,
                                   .scratch = ctx->scratch, .y = yg};
                conv_rows(ctx->pool, &j);
                continue;
            }
            if (rows_1x1_applies(kern, &pl, ap) &&
                rows_1x1_scratch(kern, pl.c, em_pool_threads(ctx->pool)) <= ctx->scratch_bytes) {
                rows_1x1_run(ctx->pool, kern, &pl, xg, ap, &ex, yg, ctx->scratch);
                ctx->kernel = "gemm in place";
                continue;
            }
            ember_f32_gemm_ex_mt(ctx->pool, kern, pl.mg, pl.out_vol, kdim, wt + g * pl.mg * kdim,
                                 kdim, 1, ap, xg, pl.out_vol, 1, 0.0f, yg, pl.out_vol, &ex,
                                 ctx->scratch);
        }
    ctx->act_done = true;
    return EMBER_OK;
}

/* Constant weights are packed, except where the depthwise kernels run and where
 * a group has fewer output channels than the register tile (mostly padding). */
static size_t conv_packed_bytes(em_op_ctx* ctx) {
    conv_plan pl;
    const ember_kernels* kern = em_kern(ctx);
    if (conv_plan_make(ctx, &pl) != EMBER_OK || !ctx->inputs[1]->data) return 0;
    if (ctx->block) { /* the blocked kernels' layouts (conv_blocked.h) */
        const em_value* b = ctx->n_inputs > 2 ? ctx->inputs[2] : NULL;
        if (blocked_1x1(&pl) || blocked_stem(&pl))
            return ember_f32_conv1x1_blocked_packed_size(ctx->block, pl.m, pl.c * pl.kvol);
        return em_conv_dw_blocked_packed_bytes(ctx->block, pl.c, pl.kvol, b != NULL);
    }
    if (em_conv_depthwise_applies(pl.c, pl.m, pl.group, &pl.w) ||
        (pl.group > 1 && pl.mg < kern->f32_gemm.mr))
        return 0;
    if (em_conv_winograd_applies(pl.c, pl.m, pl.group, &pl.w))
        return em_conv_winograd_packed_bytes(kern, pl.c, pl.m);
    return pl.group * conv_group_packed(kern, &pl);
}

static ember_status conv_pack(em_op_ctx* ctx, void* dst) {
    conv_plan pl;
    ember_status st = conv_plan_make(ctx, &pl);
    if (st != EMBER_OK) return st;
    const ember_kernels* kern = em_kern(ctx);
    const size_t kdim = pl.cg * pl.kvol;
    const float* wt = ctx->inputs[1]->data;
    if (ctx->block) {
        const em_value* b = ctx->n_inputs > 2 ? ctx->inputs[2] : NULL;
        if (blocked_1x1(&pl) || blocked_stem(&pl))
            ember_f32_conv1x1_blocked_pack(ctx->block, pl.m, pl.c * pl.kvol, wt, dst);
        else
            em_conv_dw_blocked_pack(ctx->block, pl.c, pl.kvol, wt, b ? b->data : NULL, dst);
        return EMBER_OK;
    }
    if (em_conv_winograd_applies(pl.c, pl.m, pl.group, &pl.w)) {
        if (!em_conv_winograd_pack(kern, pl.c, pl.m, wt, dst))
            return em_op_fail(ctx, EMBER_ERROR_OUT_OF_MEMORY,
                              "no memory for the Winograd weight transform (%zu x %zu x 36 floats)",
                              pl.m, pl.c);
        return EMBER_OK;
    }
    for (size_t g = 0; g < pl.group; g++)
        ember_f32_gemm_pack_a_full(kern, pl.mg, kdim, 1.0f, wt + g * pl.mg * kdim, kdim, 1,
                                   (float*)((char*)dst + g * conv_group_packed(kern, &pl)));
    return EMBER_OK;
}

const em_op_def em_op_conv = {
    .name = "Conv", .min_inputs = 2, .max_inputs = 3, .min_outputs = 1, .max_outputs = 1,
    .params_size = sizeof(conv_params), .fusable = true,
    .init = conv_init, .infer = conv_infer, .run = conv_run,
    .packed_bytes = conv_packed_bytes, .pack = conv_pack, .absorb_scratch = conv_absorb_scratch,
    .blocked = conv_blocked,
};
