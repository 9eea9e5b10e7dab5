/* MaxPool, AveragePool, GlobalAveragePool, GlobalMaxPool (f32, NC + 1 to 3
 * spatial dims). */
#include <string.h>

#include "conv_maxpool.h"
#include "f32_pool2d.h"
#include "nn_window.h"
#include "threadpool.h"

typedef struct pool_params {
    nn_window_attrs win;
    int64_t ceil_mode;
    int64_t count_include_pad;
} pool_params;

static ember_status bool_attr(em_op_ctx* ctx, const char* name, int64_t* out) {
    ember_status st = em_attr_int(ctx, name, 0, out);
    if (st != EMBER_OK) return st;
    if (*out != 0 && *out != 1)
        return em_op_fail(ctx, EMBER_ERROR_INVALID_MODEL, "attribute '%s' must be 0 or 1, got %lld",
                          name, (long long)*out);
    return EMBER_OK;
}

static ember_status pool_init_common(em_op_ctx* ctx, pool_params* p) {
    ember_status st = nn_window_parse(ctx, &p->win);
    if (st != EMBER_OK) return st;
    if (p->win.n_kernel == 0)
        return em_op_fail(ctx, EMBER_ERROR_INVALID_MODEL, "attribute 'kernel_shape' is required");
    return bool_attr(ctx, "ceil_mode", &p->ceil_mode);
}

static ember_status maxpool_init(em_op_ctx* ctx, void* params) {
    pool_params* p = params;
    ember_status st = pool_init_common(ctx, p);
    if (st != EMBER_OK) return st;
    int64_t order;
    if ((st = bool_attr(ctx, "storage_order", &order))) return st;
    if (ctx->n_outputs > 1)
        return em_op_fail(ctx, EMBER_ERROR_UNSUPPORTED,
                          "the optional Indices output of MaxPool is not supported (only output 0, Y)");
    return EMBER_OK;
}

static ember_status avgpool_init(em_op_ctx* ctx, void* params) {
    pool_params* p = params;
    ember_status st = pool_init_common(ctx, p);
    if (st != EMBER_OK) return st;
    return bool_attr(ctx, "count_include_pad", &p->count_include_pad);
}

static ember_status pool_plan(em_op_ctx* ctx, ember_window* w, size_t* planes) {
    const pool_params* p = ctx->params;
    const em_value* x = ctx->inputs[0];
    ember_status st = em_expect_dtype(ctx, 0, EMBER_DTYPE_F32);
    if (st != EMBER_OK) return st;
    const int rank = x->shape.rank;
    if (rank < 3 || rank > 2 + NN_MAX_SPATIAL)
        return em_op_fail(ctx, EMBER_ERROR_UNSUPPORTED,
                          "input X must have rank 3 to 5 (N, C and 1 to 3 spatial dims), got rank %d",
                          rank);
    const int nsp = rank - 2;
    if (p->win.n_kernel != (uint32_t)nsp)
        return em_op_fail(ctx, EMBER_ERROR_INVALID_MODEL,
                          "attribute 'kernel_shape' has %u entries, expected %d for input rank %d",
                          p->win.n_kernel, nsp, rank);
    int64_t out[NN_MAX_SPATIAL];
    if ((st = nn_window_forward(ctx, &p->win, nsp, x->shape.dims + 2, p->win.kernel,
                                p->ceil_mode != 0, out, w)))
        return st;
    em_value* y = ctx->outputs[0];
    y->dtype = EMBER_DTYPE_F32;
    y->shape = x->shape;
    for (int i = 0; i < nsp; i++) y->shape.dims[2 + i] = out[i];
    *planes = (size_t)(x->shape.dims[0] * x->shape.dims[1]);
    return EMBER_OK;
}

static ember_status pool_infer(em_op_ctx* ctx) {
    ember_window w;
    size_t planes = 0;
    return pool_plan(ctx, &w, &planes);
}

/* Pooling on the session's threads, planes shared out: each plane is computed
 * the same way whatever the split, so results do not depend on the thread
 * count. Under 32K outputs (or with one plane) it stays on the caller's thread. */
typedef enum pool_kind { POOL_MAX, POOL_AVG, POOL_GLOBAL_MAX, POOL_GLOBAL_AVG } pool_kind;

typedef struct pool_job {
    const ember_kernels* kern;
    pool_kind kind;
    bool fast;                 /* the separable 2-D paths of f32_pool2d.h */
    int count_include_pad;
    const ember_window* w;     /* windowed pools */
    const float* x;
    float* y;
    size_t planes, tasks, in_vol, out_vol;
} pool_job;

static void pool_planes(const pool_job* j, size_t n, const float* x, float* y) {
    switch (j->kind) {
    case POOL_MAX:
        if (j->fast) j->kern->f32_maxpool2d(n, j->w, x, y);
        else ember_f32_maxpool_ref(n, j->w, x, y);
        break;
    case POOL_AVG:
        if (j->fast) ember_f32_avgpool2d(n, j->w, j->count_include_pad, x, y);
        else ember_f32_avgpool_ref(n, j->w, j->count_include_pad, x, y);
        break;
    case POOL_GLOBAL_MAX: ember_f32_global_maxpool(n, j->in_vol, x, y); break;
    case POOL_GLOBAL_AVG: ember_f32_global_avgpool(n, j->in_vol, x, y); break;
    }
}

static void pool_task(void* arg, size_t t, size_t thread) {
    (void)thread;
    const pool_job* j = arg;
    const size_t p0 = j->planes * t / j->tasks, p1 = j->planes * (t + 1) / j->tasks;
    if (p1 > p0) pool_planes(j, p1 - p0, j->x + p0 * j->in_vol, j->y + p0 * j->out_vol);
}

static void pool_run_job(em_op_ctx* ctx, pool_job* j) {
    const size_t threads = em_pool_threads(ctx->pool);
    const size_t work = j->planes * (j->out_vol > j->in_vol ? j->out_vol : j->in_vol);
    j->tasks = work < ((size_t)1 << 15) || j->planes < 2 ? 1
               : j->planes < 2 * threads ? j->planes : 2 * threads;
    em_pool_run(j->tasks > 1 ? ctx->pool : NULL, j->tasks, pool_task, j);
    if (j->fast && j->kind == POOL_MAX && j->kern->f32_maxpool2d != ember_f32_maxpool2d)
        ctx->kernel = "maxpool"; /* the path's own build */
    else
        ctx->kernel = j->fast || j->kind >= POOL_GLOBAL_MAX ? "portable pool" : NULL;
}

static ember_status window_pool_run(em_op_ctx* ctx, pool_kind kind) {
    const pool_params* p = ctx->params;
    ember_window w;
    size_t planes = 0;
    ember_status st = pool_plan(ctx, &w, &planes);
    if (st != EMBER_OK) return st;
    pool_job j = {.kern = em_kern(ctx), .kind = kind, .fast = ember_f32_pool2d_applies(&w),
                  .count_include_pad = (int)p->count_include_pad, .w = &w,
                  .x = ctx->inputs[0]->data, .y = ctx->outputs[0]->data, .planes = planes,
                  .in_vol = w.image[0] * w.image[1] * w.image[2],
                  .out_vol = w.out[0] * w.out[1] * w.out[2]};
    pool_run_job(ctx, &j);
    return EMBER_OK;
}

static ember_status maxpool_run(em_op_ctx* ctx) {
    if (ctx->producer) { /* the stem convolution before it, in bands (conv_maxpool.h) */
        ember_window w;
        size_t planes = 0;
        ember_status st = pool_plan(ctx, &w, &planes);
        if (st != EMBER_OK) return st;
        return em_conv_maxpool_run(ctx, &w);
    }
    return window_pool_run(ctx, POOL_MAX);
}

static size_t maxpool_absorb_scratch(em_op_ctx* ctx, em_op_ctx* producer) {
    ember_window w;
    size_t planes = 0;
    if (pool_plan(ctx, &w, &planes) != EMBER_OK || planes != (size_t)ctx->inputs[0]->shape.dims[1]) return 0;
    return em_conv_maxpool_scratch(producer, &w, ctx->threads);
}
static ember_status avgpool_run(em_op_ctx* ctx) { return window_pool_run(ctx, POOL_AVG); }

const em_op_def em_op_max_pool = {
    .name = "MaxPool", .min_inputs = 1, .max_inputs = 1, .min_outputs = 1, .max_outputs = 2,
    .params_size = sizeof(pool_params), .fusable = false,
    .init = maxpool_init, .infer = pool_infer, .run = maxpool_run,
    .absorb_scratch = maxpool_absorb_scratch,
};

const em_op_def em_op_average_pool = {
    .name = "AveragePool", .min_inputs = 1, .max_inputs = 1, .min_outputs = 1, .max_outputs = 1,
    .params_size = sizeof(pool_params), .fusable = false,
    .init = avgpool_init, .infer = pool_infer, .run = avgpool_run,
};

/* ---------------- global pools ---------------- */

static ember_status global_infer(em_op_ctx* ctx) {
    const em_value* x = ctx->inputs[0];
    ember_status st = em_expect_dtype(ctx, 0, EMBER_DTYPE_F32);
    if (st != EMBER_OK) return st;
    if (x->shape.rank < 3)
        return em_op_fail(ctx, EMBER_ERROR_SHAPE_MISMATCH,
                          "input X must have rank >= 3 (N, C and spatial dims), got rank %d",
                          x->shape.rank);
    em_value* y = ctx->outputs[0];
    y->dtype = EMBER_DTYPE_F32;
    y->shape = x->shape;
    for (int i = 2; i < x->shape.rank; i++) {
        if (x->shape.dims[i] < 1)
            return em_op_fail(ctx, EMBER_ERROR_SHAPE_MISMATCH,
                              "spatial dim %d of X is %lld; global pooling needs at least 1 element",
                              i, (long long)x->shape.dims[i]);
        y->shape.dims[i] = 1;
    }
    return EMBER_OK;
}

static ember_status global_run(em_op_ctx* ctx, bool max) {
    const em_value* x = ctx->inputs[0];
    size_t size = 1;
    for (int i = 2; i < x->shape.rank; i++) size *= (size_t)x->shape.dims[i];
    pool_job j = {.kern = em_kern(ctx), .kind = max ? POOL_GLOBAL_MAX : POOL_GLOBAL_AVG, .x = x->data,
                  .y = ctx->outputs[0]->data,
                  .planes = (size_t)(x->shape.dims[0] * x->shape.dims[1]), .in_vol = size,
                  .out_vol = 1};
    pool_run_job(ctx, &j);
    return EMBER_OK;
}

/* GlobalAveragePool on a channel-blocked input (em_op_def.blocked), into a
 * blocked [N, C, 1, 1]: each lane summed as ember_f32_global_avgpool sums a
 * plane (16 partial sums by position mod 16, then halved pairwise), so the
 * same bits. */
static int global_avg_blocked(em_op_ctx* ctx, bool shapes) {
    (void)shapes;
    const em_value* x = ctx->inputs[0];
    return !x->data && x->dtype == EMBER_DTYPE_F32 && x->shape.rank == 4;
}

typedef struct gap_job {
    const ember_kernels* kern;
    size_t size, L;
    const float* x;
    float* y;
} gap_job;

static void gap_task(void* arg, size_t b, size_t thread) {
    (void)thread;
    const gap_job* j = arg;
    const float* x = j->x + b * j->size * j->L;
    float* y = j->y + b * j->L;
    if (j->L == 16 && j->kern->f32_global_avgpool_c16)
        j->kern->f32_global_avgpool_c16(1, j->size, x, y);
    else
        ember_f32_global_avgpool_blocked(1, j->size, j->L, x, y);
}

static ember_status global_avg_run(em_op_ctx* ctx) {
    if (ctx->block) {
        const em_value* x = ctx->inputs[0];
        if (!x->block || x->block > 64)
            return em_op_fail(ctx, EMBER_ERROR_RUNTIME, "internal error: input not blocked");
        const size_t L = ctx->block;
        gap_job j = {.kern = em_kern(ctx), .size = (size_t)(x->shape.dims[2] * x->shape.dims[3]),
                     .L = L, .x = x->data, .y = ctx->outputs[0]->data};
        /* a task a block, when there is enough to share (~64K floats) */
        const size_t blocks = (size_t)x->shape.dims[0] * (((size_t)x->shape.dims[1] + L - 1) / L);
        em_pool_run(blocks * j.size * L >= ((size_t)1 << 16) ? ctx->pool : NULL, blocks, gap_task,
                    &j);
        ctx->kernel = "pool nchw16c";
        return EMBER_OK;
    }
    return global_run(ctx, false);
}
static ember_status global_max_run(em_op_ctx* ctx) { return global_run(ctx, true); }

const em_op_def em_op_global_average_pool = {
    .name = "GlobalAveragePool", .min_inputs = 1, .max_inputs = 1, .min_outputs = 1, .max_outputs = 1,
    .params_size = 0, .fusable = false,
    .init = NULL, .infer = global_infer, .run = global_avg_run, .blocked = global_avg_blocked,
};

const em_op_def em_op_global_max_pool = {
    .name = "GlobalMaxPool", .min_inputs = 1, .max_inputs = 1, .min_outputs = 1, .max_outputs = 1,
    .params_size = 0, .fusable = false,
    .init = NULL, .infer = global_infer, .run = global_max_run,
};
