/* BatchNormalization (inference), InstanceNormalization, LayerNormalization. */
#include <string.h>

#include "dispatch.h"
#include "format.h"
#include "generic/elementwise_ref.h"
#include "nn_window.h"
#include "threadpool.h"

/* Requires input i to be f32 and 1-D of length c. */
static ember_status expect_vec(em_op_ctx* ctx, uint32_t i, const char* name, int64_t c) {
    ember_status st = em_expect_dtype(ctx, i, EMBER_DTYPE_F32);
    if (st != EMBER_OK) return st;
    const em_value* v = ctx->inputs[i];
    if (v->shape.rank != 1 || v->shape.dims[0] != c) {
        char buf[128];
        return em_op_fail(ctx, EMBER_ERROR_SHAPE_MISMATCH,
                          "%s (input %u) must have shape [%lld] (the channels of X), got %s", name, i,
                          (long long)c, em_shape_str(&v->shape, buf, sizeof buf));
    }
    return EMBER_OK;
}

static size_t spatial_of(const em_shape* s) {
    size_t n = 1;
    for (int i = 2; i < s->rank; i++) n *= (size_t)s->dims[i];
    return n;
}

/* ---------------- BatchNormalization ---------------- */

typedef struct norm_params {
    float epsilon;
    int64_t axis;
} norm_params;

static ember_status batchnorm_init(em_op_ctx* ctx, void* params) {
    norm_params* p = params;
    ember_status st = em_attr_float(ctx, "epsilon", 1e-5f, &p->epsilon);
    if (st != EMBER_OK) return st;
    int64_t training;
    if ((st = em_attr_int(ctx, "training_mode", 0, &training))) return st;
    if (training != 0)
        return em_op_fail(ctx, EMBER_ERROR_UNSUPPORTED,
                          "training_mode=%lld is not supported (inference only: training_mode=0)",
                          (long long)training);
    int64_t spatial;
    if ((st = em_attr_int(ctx, "spatial", 1, &spatial))) return st;
    if (spatial != 1)
        return em_op_fail(ctx, EMBER_ERROR_UNSUPPORTED,
                          "spatial=%lld (per-activation statistics, opset < 9) is not supported; "
                          "only spatial=1", (long long)spatial);
    if (ctx->n_outputs > 1)
        return em_op_fail(ctx, EMBER_ERROR_UNSUPPORTED,
                          "has %u outputs; the running mean/var outputs exist only in training mode, "
                          "which is not supported", ctx->n_outputs);
    if (!(p->epsilon >= 0.0f))
        return em_op_fail(ctx, EMBER_ERROR_INVALID_MODEL, "attribute 'epsilon' must be >= 0, got %g",
                          (double)p->epsilon);
    return EMBER_OK;
}

static ember_status batchnorm_infer(em_op_ctx* ctx) {
    ember_status st = em_expect_dtype(ctx, 0, EMBER_DTYPE_F32);
    if (st != EMBER_OK) return st;
    const em_value* x = ctx->inputs[0];
    if (x->shape.rank < 2)
        return em_op_fail(ctx, EMBER_ERROR_SHAPE_MISMATCH,
                          "input X must have rank >= 2 (N, C, ...), got rank %d", x->shape.rank);
    const int64_t c = x->shape.dims[1];
    static const char* const names[] = {"scale", "B", "input_mean", "input_var"};
    for (uint32_t i = 1; i < 5; i++)
        if ((st = expect_vec(ctx, i, names[i - 1], c))) return st;
    ctx->outputs[0]->dtype = EMBER_DTYPE_F32;
    ctx->outputs[0]->shape = x->shape;
    return EMBER_OK;
}

static ember_status batchnorm_run(em_op_ctx* ctx) {
    const norm_params* p = ctx->params;
    const em_value* x = ctx->inputs[0];
    ember_f32_batchnorm_ref((size_t)x->shape.dims[0], (size_t)x->shape.dims[1], spatial_of(&x->shape),
                            x->data, ctx->inputs[1]->data, ctx->inputs[2]->data,
                            ctx->inputs[3]->data, ctx->inputs[4]->data, p->epsilon,
                            ctx->outputs[0]->data);
    return EMBER_OK;
}

const em_op_def em_op_batch_normalization = {
    .name = "BatchNormalization", .min_inputs = 5, .max_inputs = 5, .min_outputs = 1, .max_outputs = 3,
    .params_size = sizeof(norm_params), .fusable = false,
    .init = batchnorm_init, .infer = batchnorm_infer, .run = batchnorm_run,
};

/* ---------------- InstanceNormalization ---------------- */

static ember_status eps_init(em_op_ctx* ctx, void* params) {
    norm_params* p = params;
    ember_status st = em_attr_float(ctx, "epsilon", 1e-5f, &p->epsilon);
    if (st != EMBER_OK) return st;
    if (!(p->epsilon >= 0.0f))
        return em_op_fail(ctx, EMBER_ERROR_INVALID_MODEL, "attribute 'epsilon' must be >= 0, got %g",
                          (double)p->epsilon);
    return EMBER_OK;
}

static ember_status instancenorm_infer(em_op_ctx* ctx) {
    ember_status st = em_expect_dtype(ctx, 0, EMBER_DTYPE_F32);
    if (st != EMBER_OK) return st;
    const em_value* x = ctx->inputs[0];
    if (x->shape.rank < 3)
        return em_op_fail(ctx, EMBER_ERROR_SHAPE_MISMATCH,
                          "input X must have rank >= 3 (N, C and spatial dims), got rank %d",
                          x->shape.rank);
    const int64_t c = x->shape.dims[1];
    if ((st = expect_vec(ctx, 1, "scale", c)) || (st = expect_vec(ctx, 2, "B", c))) return st;
    ctx->outputs[0]->dtype = EMBER_DTYPE_F32;
    ctx->outputs[0]->shape = x->shape;
    return EMBER_OK;
}

static ember_status instancenorm_run(em_op_ctx* ctx) {
    const norm_params* p = ctx->params;
    const em_value* x = ctx->inputs[0];
    ember_f32_instancenorm_ref((size_t)x->shape.dims[0], (size_t)x->shape.dims[1],
                               spatial_of(&x->shape), x->data, ctx->inputs[1]->data,
                               ctx->inputs[2]->data, p->epsilon, ctx->outputs[0]->data);
    return EMBER_OK;
}

const em_op_def em_op_instance_normalization = {
    .name = "InstanceNormalization", .min_inputs = 3, .max_inputs = 3, .min_outputs = 1,
    .max_outputs = 1, .params_size = sizeof(norm_params), .fusable = false,
    .init = eps_init, .infer = instancenorm_infer, .run = instancenorm_run,
};

/* ---------------- LayerNormalization ---------------- */

static ember_status layernorm_init(em_op_ctx* ctx, void* params) {
    norm_params* p = params;
    ember_status st = eps_init(ctx, params);
    if (st != EMBER_OK) return st;
    return em_attr_int(ctx, "axis", -1, &p->axis);
}

typedef struct ln_plan {
    int32_t axis;
    size_t rows, cols;
    em_shape norm;  /* X.shape[axis:] */
} ln_plan;

/* Scale/B must broadcast (right-aligned) to the normalized shape. */
static ember_status ln_param_check(em_op_ctx* ctx, uint32_t i, const char* name, const em_shape* norm) {
    ember_status st = em_expect_dtype(ctx, i, EMBER_DTYPE_F32);
    if (st != EMBER_OK) return st;
    const em_shape* s = &ctx->inputs[i]->shape;
    bool ok = s->rank <= norm->rank;
    for (int d = 0; ok && d < s->rank; d++) {
        const int64_t v = s->dims[d], w = norm->dims[norm->rank - s->rank + d];
        ok = v == w || v == 1;
    }
    if (!ok) {
        char a[128], b[128];
        return em_op_fail(ctx, EMBER_ERROR_SHAPE_MISMATCH,
                          "%s of shape %s cannot be broadcast to the normalized shape %s", name,
                          em_shape_str(s, a, sizeof a), em_shape_str(norm, b, sizeof b));
    }
    return EMBER_OK;
}

static ember_status ln_plan_make(em_op_ctx* ctx, ln_plan* pl) {
    const norm_params* p = ctx->params;
    ember_status st = em_expect_dtype(ctx, 0, EMBER_DTYPE_F32);
    if (st != EMBER_OK) return st;
    const em_value* x = ctx->inputs[0];
    if (x->shape.rank < 1)
        return em_op_fail(ctx, EMBER_ERROR_SHAPE_MISMATCH, "input X must have rank >= 1, got 0");
    if ((st = em_axis(ctx, p->axis, x->shape.rank, &pl->axis))) return st;
    pl->norm.rank = x->shape.rank - pl->axis;
    memcpy(pl->norm.dims, x->shape.dims + pl->axis, sizeof(int64_t) * (size_t)pl->norm.rank);
    pl->cols = em_shape_count(&pl->norm);
    pl->rows = 1;
    for (int d = 0; d < pl->axis; d++) pl->rows *= (size_t)x->shape.dims[d];
    if ((st = ln_param_check(ctx, 1, "Scale", &pl->norm))) return st;
    if (ctx->n_inputs > 2 && ctx->inputs[2] && (st = ln_param_check(ctx, 2, "B", &pl->norm)))
        return st;
    return EMBER_OK;
}

static ember_status layernorm_infer(em_op_ctx* ctx) {
    ln_plan pl;
    ember_status st = ln_plan_make(ctx, &pl);
    if (st != EMBER_OK) return st;
    const em_value* x = ctx->inputs[0];
    ctx->outputs[0]->dtype = EMBER_DTYPE_F32;
    ctx->outputs[0]->shape = x->shape;
    for (uint32_t o = 1; o < ctx->n_outputs; o++) {
        if (!ctx->outputs[o]) continue;
        ctx->outputs[o]->dtype = EMBER_DTYPE_F32;
        ctx->outputs[o]->shape = x->shape;
        for (int d = pl.axis; d < x->shape.rank; d++) ctx->outputs[o]->shape.dims[d] = 1;
    }
    uint64_t bytes;
    if (!em_mul_u64(pl.cols, 2 * sizeof(float), &bytes) || bytes > (uint64_t)SIZE_MAX / 4)
        return em_op_fail(ctx, EMBER_ERROR_LIMIT_EXCEEDED, "normalized size %zu is too large", pl.cols);
    ctx->scratch_bytes = (size_t)bytes; /* Scale and B broadcast to the normalized shape */
    return EMBER_OK;
}

/* Returns v as cols floats: its own data when it already has them, else a
 * copy broadcast into buf. */
static const float* ln_expand(const em_value* v, const em_shape* norm, size_t cols, float* buf) {
    if (em_shape_count(&v->shape) == cols) return v->data;
    int64_t strides[EMBER_MAX_RANK], idx[EMBER_MAX_RANK] = {0};
    em_broadcast_strides(&v->shape, norm, strides);
    const float* src = v->data;
    size_t off = 0;
    for (size_t j = 0; j < cols; j++) {
        buf[j] = src[off];
        for (int d = norm->rank - 1; d >= 0; d--) {
            off += (size_t)strides[d];
            if (++idx[d] < norm->dims[d]) break;
            off -= (size_t)(strides[d] * norm->dims[d]);
            idx[d] = 0;
        }
    }
    return buf;
}

/* LayerNormalization through the dispatched kernel, rows shared out over the
 * session's threads when there is enough work (each row is computed the same
 * way whichever task has it: the results do not depend on the thread count). */
#define LAYERNORM_MIN_PAR ((size_t)1 << 15)

typedef struct ln_job {
    ember_f32_layernorm_fn fn;
    const float *x, *scale, *bias;
    float *y, *mean, *inv;
    float eps;
    size_t rows, cols, tasks;
    /* an Add absorbed (layernorm_absorb_scratch): X = a + b, by add, written
     * to Y a block of rows at a time and normalized there while in L1 */
    ember_f32_vbinary_fn add;
    const float *a, *b;
} ln_job;

/* Rows an absorbed Add's sum takes at a time: about 16 KB of them. */
static size_t ln_block_rows(size_t cols) {
    const size_t r = ((size_t)16 << 10) / sizeof(float) / (cols ? cols : 1);
    return r ? r : 1;
}

static void ln_task(void* arg, size_t t, size_t thread) {
    (void)thread;
    const ln_job* j = arg;
    const size_t r0 = j->rows * t / j->tasks, r1 = j->rows * (t + 1) / j->tasks;
    if (r1 <= r0) return;
    if (!j->add) {
        j->fn(r1 - r0, j->cols, j->x + r0 * j->cols, j->scale, j->bias, j->eps,
              j->y + r0 * j->cols, j->mean ? j->mean + r0 : NULL, j->inv ? j->inv + r0 : NULL);
        return;
    }
    const size_t blk = ln_block_rows(j->cols);
    for (size_t r = r0; r < r1; r += blk) {
        const size_t n = r1 - r < blk ? r1 - r : blk, off = r * j->cols;
        float* y = j->y + off;
        j->add(n * j->cols, j->a + off, j->b + off, y); /* the Add's own kernel and bits */
        j->fn(n, j->cols, y, j->scale, j->bias, j->eps, y, j->mean ? j->mean + r : NULL,
              j->inv ? j->inv + r : NULL);
    }
}

static ember_status layernorm_run(em_op_ctx* ctx) {
    const norm_params* p = ctx->params;
    ln_plan pl;
    ember_status st = ln_plan_make(ctx, &pl);
    if (st != EMBER_OK) return st;
    float* buf = ctx->scratch;
    ln_job j = {.fn = em_kern(ctx)->f32_layernorm, .x = ctx->inputs[0]->data,
                .y = ctx->outputs[0]->data, .eps = p->epsilon, .rows = pl.rows, .cols = pl.cols};
    if (ctx->producer) { /* layernorm_absorb_scratch: X is the sum of the Add's inputs */
        const em_value* a = ctx->producer_inputs[0];
        const em_value* b = ctx->producer_inputs[1];
        if (!a || !b || !a->data || !b->data || a->dtype != EMBER_DTYPE_F32 ||
            b->dtype != EMBER_DTYPE_F32 || !em_shape_equal(&a->shape, &ctx->inputs[0]->shape) ||
            !em_shape_equal(&b->shape, &ctx->inputs[0]->shape))
            return em_op_fail(ctx, EMBER_ERROR_RUNTIME,
                              "internal error: Add '%s' cannot be fused here", ctx->producer->name);
        j.add = em_kern(ctx)->f32_elementwise.binary[EMBER_BINARY_ADD][0];
        j.a = a->data;
        j.b = b->data;
    }
    j.scale = ln_expand(ctx->inputs[1], &pl.norm, pl.cols, buf);
    if (ctx->n_inputs > 2 && ctx->inputs[2])
        j.bias = ln_expand(ctx->inputs[2], &pl.norm, pl.cols, buf + pl.cols);
    j.mean = ctx->n_outputs > 1 && ctx->outputs[1] ? ctx->outputs[1]->data : NULL;
    j.inv = ctx->n_outputs > 2 && ctx->outputs[2] ? ctx->outputs[2]->data : NULL;
    const size_t threads = em_pool_threads(ctx->pool);
    j.tasks = pl.rows * pl.cols < LAYERNORM_MIN_PAR || pl.rows < 2 ? 1
              : pl.rows < 4 * threads ? pl.rows : 4 * threads;
    ctx->kernel = j.add ? "add+layernorm" : "layernorm";
    em_pool_run(j.tasks > 1 ? ctx->pool : NULL, j.tasks, ln_task, &j);
    return EMBER_OK;
}

/* A LayerNormalization doing the work of the Add that alone feeds its X, when
 * both of the Add's inputs are f32 tensors of X's shape (a transformer's
 * residual connection, x + sublayer(x), normalized after it): the sum is
 * written into Y a block of rows at a time and normalized in place while in
 * L1, instead of going out to memory and coming back. Same bits: the Add's
 * kernel, then the same normalization of the same values. */
extern const em_op_def em_op_add;
static size_t layernorm_absorb_scratch(em_op_ctx* ctx, em_op_ctx* producer) {
    ln_plan pl;
    if (ctx->block || producer->node->op != &em_op_add || producer->n_inputs != 2 ||
        producer->node->act.kind != EMF_ACT_NONE || !producer->inputs[0] || !producer->inputs[1] ||
        ln_plan_make(ctx, &pl) != EMBER_OK)
        return 0;
    for (int i = 0; i < 2; i++)
        if (producer->inputs[i]->dtype != EMBER_DTYPE_F32 ||
            !em_shape_equal(&producer->inputs[i]->shape, &ctx->inputs[0]->shape))
            return 0;
    return 1; /* the node's own scratch (layernorm_infer's) is enough */
}

const em_op_def em_op_layer_normalization = {
    .name = "LayerNormalization", .min_inputs = 2, .max_inputs = 3, .min_outputs = 1,
    .max_outputs = 3, .params_size = sizeof(norm_params), .fusable = false,
    .init = layernorm_init, .infer = layernorm_infer, .run = layernorm_run,
    .absorb_scratch = layernorm_absorb_scratch,
};
