/* Clip: min and max as attributes (opset 6, f32) or as optional scalar inputs 1
 * and 2 (opset >= 11), read at run time so they may be computed tensors.
 * f32, i32 and i64. An absent bound does not clip. */
#include <math.h>

#include "dispatch.h"
#include "ew_common.h"

typedef struct clip_params {
    float min, max;   /* the opset-6 attributes (default: no bound) */
    bool has_attrs;
} clip_params;

static ember_status clip_init(em_op_ctx* ctx, void* params) {
    clip_params* p = params;
    ember_status st = em_attr_float(ctx, "min", -INFINITY, &p->min);
    if (st == EMBER_OK) st = em_attr_float(ctx, "max", INFINITY, &p->max);
    p->has_attrs = em_attr_find(ctx->node, "min") || em_attr_find(ctx->node, "max");
    if (st == EMBER_OK && p->has_attrs && ctx->n_inputs > 1)
        return em_op_fail(ctx, EMBER_ERROR_INVALID_MODEL,
                          "min/max given both as attributes (opset 6) and as inputs (opset 11)");
    return st;
}

static const em_value* bound(const em_op_ctx* ctx, uint32_t i) {
    return i < ctx->n_inputs ? ctx->inputs[i] : NULL;
}

static ember_status clip_infer(em_op_ctx* ctx) {
    const clip_params* p = ctx->params;
    ember_status st = ew_expect_dtypes(
        ctx, 0, EW_DT(EMBER_DTYPE_F32) | EW_DT(EMBER_DTYPE_I32) | EW_DT(EMBER_DTYPE_I64),
        "f32, i32 or i64");
    if (st != EMBER_OK) return st;
    const em_value* x = ctx->inputs[0];
    if (p->has_attrs && x->dtype != EMBER_DTYPE_F32)
        return em_op_fail(ctx, EMBER_ERROR_INVALID_MODEL,
                          "the min/max attributes (opset 6) apply to f32 only, input is %s",
                          ember_dtype_name(x->dtype));
    for (uint32_t i = 1; i <= 2; i++) {
        const em_value* b = bound(ctx, i);
        if (!b) continue;
        if (b->dtype != x->dtype)
            return em_op_fail(ctx, EMBER_ERROR_DTYPE_MISMATCH,
                              "input %u (%s) must have the dtype of input 0 (%s), got %s", i,
                              i == 1 ? "min" : "max", ember_dtype_name(x->dtype),
                              ember_dtype_name(b->dtype));
        uint64_t n;
        if (!em_shape_numel(&b->shape, &n) || n != 1) {
            char s[160];
            return em_op_fail(ctx, EMBER_ERROR_SHAPE_MISMATCH,
                              "input %u (%s) must be a scalar, got shape %s", i,
                              i == 1 ? "min" : "max", em_shape_str(&b->shape, s, sizeof s));
        }
    }
    ctx->outputs[0]->dtype = x->dtype;
    ctx->outputs[0]->shape = x->shape;
    return EMBER_OK;
}

static ember_status clip_run(em_op_ctx* ctx) {
    const clip_params* p = ctx->params;
    const em_value* x = ctx->inputs[0];
    const em_value* lo = bound(ctx, 1);
    const em_value* hi = bound(ctx, 2);
    const size_t n = em_shape_count(&x->shape);
    void* y = ctx->outputs[0]->data;
    switch (x->dtype) {
    case EMBER_DTYPE_F32:
        ctx->kernel = "vunary";
        em_kern(ctx)->f32_elementwise.unary[EMBER_VOP_CLAMP](
            n, x->data, y, lo ? *(const float*)lo->data : p->min,
            hi ? *(const float*)hi->data : p->max);
        break;
    case EMBER_DTYPE_I32:
        ember_i32_clip_ref(n, x->data, lo ? *(const int32_t*)lo->data : INT32_MIN,
                           hi ? *(const int32_t*)hi->data : INT32_MAX, y);
        break;
    case EMBER_DTYPE_I64:
        ember_i64_clip_ref(n, x->data, lo ? *(const int64_t*)lo->data : INT64_MIN,
                           hi ? *(const int64_t*)hi->data : INT64_MAX, y);
        break;
    default:
        return em_op_fail(ctx, EMBER_ERROR_RUNTIME, "unexpected dtype %s",
                          ember_dtype_name(x->dtype));
    }
    return EMBER_OK;
}

const em_op_def em_op_clip = {
    .name = "Clip", .min_inputs = 1, .max_inputs = 3, .min_outputs = 1, .max_outputs = 1,
    .params_size = sizeof(clip_params), .fusable = false,
    .init = clip_init, .infer = clip_infer, .run = clip_run,
};
