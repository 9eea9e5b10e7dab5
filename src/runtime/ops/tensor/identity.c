/* Identity: a copy. The converter drops Identity nodes except where a graph
 * output would otherwise be a constant or a graph input. */
#include <string.h>

#include "tensor_common.h"

static ember_status identity_infer(em_op_ctx* ctx) {
    ember_status st = em_tensor_known_dtype(ctx, 0);
    if (st != EMBER_OK) return st;
    em_tensor_set_output(ctx, 0, ctx->inputs[0], &ctx->inputs[0]->shape);
    return EMBER_OK;
}

static ember_status identity_run(em_op_ctx* ctx) {
    const em_value* x = ctx->inputs[0];
    size_t bytes = em_shape_count(&x->shape) * ember_dtype_size(x->dtype);
    if (bytes && ctx->outputs[0]->data != x->data)
        memcpy(ctx->outputs[0]->data, x->data, bytes);
    else
        ctx->kernel = "in place";
    return EMBER_OK;
}

const em_op_def em_op_identity = {
    .name = "Identity", .min_inputs = 1, .max_inputs = 1, .min_outputs = 1, .max_outputs = 1,
    .infer = identity_infer, .run = identity_run, .input_in_output = em_tensor_same_bytes,
};
