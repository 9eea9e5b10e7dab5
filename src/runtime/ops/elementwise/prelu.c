/* PRelu: y = x >= 0 ? x : slope * x, slope broadcast to the shape of x
 * (unidirectional numpy broadcasting). f32. */
#include "ew_common.h"

static ember_status prelu_infer(em_op_ctx* ctx) {
    ember_status st;
    if ((st = em_expect_dtype(ctx, 0, EMBER_DTYPE_F32)) ||
        (st = em_expect_dtype(ctx, 1, EMBER_DTYPE_F32)))
        return st;
    const em_value* x = ctx->inputs[0];
    const em_value* s = ctx->inputs[1];
    em_shape out;
    if ((st = ew_broadcast_inputs(ctx, 0, 2, &out))) return st;
    if (!em_shape_equal(&out, &x->shape)) {
        char a[160], b[160];
        return em_op_fail(ctx, EMBER_ERROR_SHAPE_MISMATCH,
                          "slope of shape %s must broadcast to the shape of x %s",
                          em_shape_str(&s->shape, a, sizeof a),
                          em_shape_str(&x->shape, b, sizeof b));
    }
    ctx->outputs[0]->dtype = EMBER_DTYPE_F32;
    ctx->outputs[0]->shape = x->shape;
    return EMBER_OK;
}

static ember_status prelu_run(em_op_ctx* ctx) {
    const em_value* x = ctx->inputs[0];
    const em_value* s = ctx->inputs[1];
    em_value* y = ctx->outputs[0];
    const em_shape* shapes[2] = {&x->shape, &s->shape};
    ew_rows r;
    ew_rows_init(&r, 2, shapes, &y->shape);
    for (size_t row = 0; row < r.rows; row++, ew_rows_next(&r)) {
        /* x has the output's shape: its rows are contiguous */
        ember_f32_prelu_ref(r.inner, (const float*)x->data + r.off[0],
                            (const float*)s->data + r.off[1], r.inc[1],
                            (float*)y->data + row * r.inner);
    }
    return EMBER_OK;
}

const em_op_def em_op_prelu = {
    .name = "PRelu", .min_inputs = 2, .max_inputs = 2, .min_outputs = 1, .max_outputs = 1,
    .params_size = 0, .fusable = false,
    .init = NULL, .infer = prelu_infer, .run = prelu_run,
};
