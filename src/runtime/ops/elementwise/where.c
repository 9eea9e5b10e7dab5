/* Where(cond, X, Y): cond ? X : Y with three-way numpy broadcasting. cond is
 * bool; X and Y any dtype, the same one (copied by element size). */
#include "ew_common.h"

static ember_status where_infer(em_op_ctx* ctx) {
    ember_status st = em_expect_dtype(ctx, 0, EMBER_DTYPE_BOOL);
    if (st != EMBER_OK) return st;
    const em_value* x = ctx->inputs[1];
    const em_value* z = ctx->inputs[2];
    if (ember_dtype_size(x->dtype) == 0)
        return em_op_fail(ctx, EMBER_ERROR_UNSUPPORTED, "input 1 has an unknown dtype (%d)",
                          (int)x->dtype);
    if (z->dtype != x->dtype)
        return em_op_fail(ctx, EMBER_ERROR_DTYPE_MISMATCH,
                          "inputs 1 and 2 must have the same dtype: input 1 is %s, input 2 is %s",
                          ember_dtype_name(x->dtype), ember_dtype_name(z->dtype));
    em_shape out;
    if ((st = ew_broadcast_inputs(ctx, 0, 3, &out))) return st;
    ctx->outputs[0]->dtype = x->dtype;
    ctx->outputs[0]->shape = out;
    return EMBER_OK;
}

static ember_status where_run(em_op_ctx* ctx) {
    const em_value* c = ctx->inputs[0];
    const em_value* x = ctx->inputs[1];
    const em_value* z = ctx->inputs[2];
    em_value* y = ctx->outputs[0];
    const size_t es = ember_dtype_size(x->dtype);
    const em_shape* shapes[3] = {&c->shape, &x->shape, &z->shape};
    ew_rows r;
    ew_rows_init(&r, 3, shapes, &y->shape);
    for (size_t row = 0; row < r.rows; row++, ew_rows_next(&r)) {
        ember_where_ref(r.inner, es, (const uint8_t*)c->data + r.off[0], r.inc[0],
                        (const uint8_t*)x->data + r.off[1] * es, r.inc[1],
                        (const uint8_t*)z->data + r.off[2] * es, r.inc[2],
                        (uint8_t*)y->data + row * r.inner * es);
    }
    return EMBER_OK;
}

const em_op_def em_op_where = {
    .name = "Where", .min_inputs = 3, .max_inputs = 3, .min_outputs = 1, .max_outputs = 1,
    .params_size = 0, .fusable = false,
    .init = NULL, .infer = where_infer, .run = where_run,
};
