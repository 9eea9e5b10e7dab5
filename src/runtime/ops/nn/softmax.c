/* Softmax and LogSoftmax along one axis (opset >= 13 semantics; axis defaults to -1). */
#include "nn_window.h"

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

static ember_status softmax_run(em_op_ctx* ctx) {
    size_t outer = 0, n = 0, inner = 0;
    ember_status st = softmax_split(ctx, &outer, &n, &inner);
    if (st != EMBER_OK) return st;
    ember_f32_softmax_ref(outer, n, inner, ctx->inputs[0]->data, ctx->outputs[0]->data);
    return EMBER_OK;
}

static ember_status log_softmax_run(em_op_ctx* ctx) {
    size_t outer = 0, n = 0, inner = 0;
    ember_status st = softmax_split(ctx, &outer, &n, &inner);
    if (st != EMBER_OK) return st;
    ember_f32_log_softmax_ref(outer, n, inner, ctx->inputs[0]->data, ctx->outputs[0]->data);
    return EMBER_OK;
}

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
