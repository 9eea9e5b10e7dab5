/* Softmax and LogSoftmax along one axis (opset >= 13 semantics; axis defaults to -1),
 * through the dispatched kernels (f32_rowwise.h), rows shared out over the
 * session's threads when there is enough work. */
#include "dispatch.h"
#include "nn_window.h"
#include "threadpool.h"

typedef struct softmax_params {
    int64_t axis;
} softmax_params;

static ember_status softmax_init(em_op_ctx* ctx, void* params) {
    softmax_params* p = params;
    return em_attr_int(ctx, "axis", -1, &p->axis);
}

static ember_status softmax_split(em_op_ctx* ctx, size_t* outer, size_t* n, size_t* inner) {
    const softmax_params* p = ctx->params;
    ember_status st = em_expect_dtype(ctx, 0, EMBER_DTYPE_F32);
    if (st != EMBER_OK) return st;
    const em_shape* s = &ctx->inputs[0]->shape;
    if (s->rank < 1)
        return em_op_fail(ctx, EMBER_ERROR_SHAPE_MISMATCH, "input must have rank >= 1, got a scalar");
    int32_t axis;
    if ((st = em_axis(ctx, p->axis, s->rank, &axis))) return st;
    *outer = *inner = 1;
    for (int d = 0; d < axis; d++) *outer *= (size_t)s->dims[d];
    for (int d = axis + 1; d < s->rank; d++) *inner *= (size_t)s->dims[d];
    *n = (size_t)s->dims[axis];
    return EMBER_OK;
}

static ember_status softmax_infer(em_op_ctx* ctx) {
    size_t outer = 0, n = 0, inner = 0;
    ember_status st = softmax_split(ctx, &outer, &n, &inner);
    if (st != EMBER_OK) return st;
    ctx->outputs[0]->dtype = EMBER_DTYPE_F32;
    ctx->outputs[0]->shape = ctx->inputs[0]->shape;
    return EMBER_OK;
}

/* Below this many elements one thread does it all: a task costs about a
 * microsecond to hand out, a float about a nanosecond (exp). */
#define SOFTMAX_MIN_PAR ((size_t)1 << 14)

typedef struct softmax_job {
    ember_f32_softmax_fn fn;
    const float* x;
    float* y;
    size_t outer, n, inner, tasks;
} softmax_job;

static void softmax_task(void* arg, size_t t, size_t thread) {
    (void)thread;
    const softmax_job* j = arg;
    const size_t o0 = j->outer * t / j->tasks, o1 = j->outer * (t + 1) / j->tasks;
    const size_t vol = j->n * j->inner;
    if (o1 > o0) j->fn(o1 - o0, j->n, j->inner, j->x + o0 * vol, j->y + o0 * vol);
}

/* Each slice along the axis is computed the same way whichever task has it:
 * the results do not depend on the thread count. */
static ember_status softmax_any_run(em_op_ctx* ctx, int log_form) {
    size_t outer = 0, n = 0, inner = 0;
    ember_status st = softmax_split(ctx, &outer, &n, &inner);
    if (st != EMBER_OK) return st;
    const ember_f32_softmax_config* k = &em_kern(ctx)->f32_softmax;
    softmax_job j = {.fn = log_form ? k->log_softmax : k->softmax, .x = ctx->inputs[0]->data,
                     .y = ctx->outputs[0]->data, .outer = outer, .n = n, .inner = inner};
    const size_t threads = em_pool_threads(ctx->pool);
    j.tasks = outer * n * inner < SOFTMAX_MIN_PAR || outer < 2 ? 1
              : outer < 4 * threads ? outer : 4 * threads;
    ctx->kernel = log_form ? "log_softmax" : "softmax";
    em_pool_run(j.tasks > 1 ? ctx->pool : NULL, j.tasks, softmax_task, &j);
    return EMBER_OK;
}

static ember_status softmax_run(em_op_ctx* ctx) { return softmax_any_run(ctx, 0); }

static ember_status log_softmax_run(em_op_ctx* ctx) { return softmax_any_run(ctx, 1); }

const em_op_def em_op_softmax = {
    .name = "Softmax", .min_inputs = 1, .max_inputs = 1, .min_outputs = 1, .max_outputs = 1,
    .params_size = sizeof(softmax_params), .fusable = false,
    .init = softmax_init, .infer = softmax_infer, .run = softmax_run,
};

const em_op_def em_op_log_softmax = {
    .name = "LogSoftmax", .min_inputs = 1, .max_inputs = 1, .min_outputs = 1, .max_outputs = 1,
    .params_size = sizeof(softmax_params), .fusable = false,
    .init = softmax_init, .infer = softmax_infer, .run = log_softmax_run,
};
