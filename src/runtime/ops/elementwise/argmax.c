/* ArgMax along one axis: attributes axis (default 0), keepdims (default 1),
 * select_last_index (default 0). f32, i32, i64 in; i64 out. NaN counts as the
 * largest value. */
#include "ew_common.h"

typedef struct argmax_params {
    int64_t axis;
    int64_t keepdims;
    int64_t select_last;
} argmax_params;

static ember_status argmax_init(em_op_ctx* ctx, void* params) {
    argmax_params* p = params;
    ember_status st;
    if ((st = em_attr_int(ctx, "axis", 0, &p->axis)) ||
        (st = em_attr_int(ctx, "keepdims", 1, &p->keepdims)) ||
        (st = em_attr_int(ctx, "select_last_index", 0, &p->select_last)))
        return st;
    return EMBER_OK;
}

static ember_status argmax_split(em_op_ctx* ctx, size_t* outer, size_t* n, size_t* inner,
                                 em_shape* out) {
    const argmax_params* p = ctx->params;
    ember_status st = ew_expect_dtypes(
        ctx, 0, EW_DT(EMBER_DTYPE_F32) | EW_DT(EMBER_DTYPE_I32) | EW_DT(EMBER_DTYPE_I64),
        "f32, i32 or i64");
    if (st != EMBER_OK) return st;
    const em_shape* s = &ctx->inputs[0]->shape;
    if (s->rank < 1)
        return em_op_fail(ctx, EMBER_ERROR_SHAPE_MISMATCH,
                          "input must have rank >= 1, got a scalar");
    int32_t axis;
    if ((st = em_axis(ctx, p->axis, s->rank, &axis))) return st;
    *outer = *inner = 1;
    out->rank = 0;
    for (int32_t d = 0; d < s->rank; d++) {
        if (d < axis) *outer *= (size_t)s->dims[d];
        if (d > axis) *inner *= (size_t)s->dims[d];
        if (d != axis || p->keepdims) out->dims[out->rank++] = d == axis ? 1 : s->dims[d];
    }
    *n = (size_t)s->dims[axis];
    if (*n == 0 && *outer * *inner != 0)
        return em_op_fail(ctx, EMBER_ERROR_SHAPE_MISMATCH,
                          "axis %d has size 0: the maximum of nothing has no index", (int)axis);
    return EMBER_OK;
}

static ember_status argmax_infer(em_op_ctx* ctx) {
    size_t outer = 0, n = 0, inner = 0;
    em_shape out;
    ember_status st = argmax_split(ctx, &outer, &n, &inner, &out);
    if (st != EMBER_OK) return st;
    ctx->outputs[0]->dtype = EMBER_DTYPE_I64;
    ctx->outputs[0]->shape = out;
    return EMBER_OK;
}

static ember_status argmax_run(em_op_ctx* ctx) {
    const argmax_params* p = ctx->params;
    size_t outer = 0, n = 0, inner = 0;
    em_shape out;
    ember_status st = argmax_split(ctx, &outer, &n, &inner, &out);
    if (st != EMBER_OK) return st;
    if (outer * inner == 0) return EMBER_OK;
    const em_value* x = ctx->inputs[0];
    int64_t* y = ctx->outputs[0]->data;
    const bool last = p->select_last != 0;
    switch (x->dtype) {
    case EMBER_DTYPE_F32: ember_f32_argmax_ref(outer, n, inner, last, x->data, y); break;
    case EMBER_DTYPE_I32: ember_i32_argmax_ref(outer, n, inner, last, x->data, y); break;
    default: ember_i64_argmax_ref(outer, n, inner, last, x->data, y); break;
    }
    return EMBER_OK;
}

const em_op_def em_op_argmax = {
    .name = "ArgMax", .min_inputs = 1, .max_inputs = 1, .min_outputs = 1, .max_outputs = 1,
    .params_size = sizeof(argmax_params), .fusable = false,
    .init = argmax_init, .infer = argmax_infer, .run = argmax_run,
};
