/* Expand: broadcasts the input with a constant shape (both ways, as numpy). */
#include "generic/tensor_ref.h"
#include "tensor_common.h"

static ember_status expand_infer(em_op_ctx* ctx) {
    const em_value* x = ctx->inputs[0];
    ember_status st = em_tensor_known_dtype(ctx, 0);
    if (st != EMBER_OK) return st;
    int64_t sh[EMBER_MAX_RANK];
    uint32_t n;
    st = em_const_ints(ctx, 1, sh, EMBER_MAX_RANK, &n);
    if (st != EMBER_OK) return st;
    em_shape target = {.rank = (int32_t)n};
    for (uint32_t i = 0; i < n; i++) {
        if (sh[i] < 0)
            return em_op_fail(ctx, EMBER_ERROR_INVALID_MODEL,
                              "shape entry %u is %lld; expected >= 0", i, (long long)sh[i]);
        target.dims[i] = sh[i];
    }
    const em_shape* shapes[2] = {&x->shape, &target};
    em_shape out;
    st = em_broadcast(ctx, 2, shapes, &out);
    if (st != EMBER_OK) return st;
    em_tensor_set_output(ctx, 0, x, &out);
    return EMBER_OK;
}

static ember_status expand_run(em_op_ctx* ctx) {
    const em_value* x = ctx->inputs[0];
    em_value* y = ctx->outputs[0];
    int64_t src_str[EMBER_MAX_RANK], dst_str[EMBER_MAX_RANK];
    em_broadcast_strides(&x->shape, &y->shape, src_str);
    ember_contiguous_strides(y->shape.dims, y->shape.rank, dst_str);
    ember_copy_nd_ref(y->data, dst_str, x->data, src_str, y->shape.dims, y->shape.rank,
                      ember_dtype_size(x->dtype));
    return EMBER_OK;
}

const em_op_def em_op_expand = {
    .name = "Expand", .min_inputs = 2, .max_inputs = 2, .min_outputs = 1, .max_outputs = 1,
    .infer = expand_infer, .run = expand_run,
};
