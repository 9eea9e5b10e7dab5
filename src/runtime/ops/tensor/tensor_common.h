/* Small helpers shared by the data-movement operators (private to this folder). */
#ifndef EMBER_OPS_TENSOR_COMMON_H
#define EMBER_OPS_TENSOR_COMMON_H

#include "../../op.h"
#include "generic/tensor_ref.h"

/* ember_copy_nd (tr: ember_copy_transpose_fn or NULL) on the session's
 * threads (copy_mt.c): the box cut along its outermost axis longer than 1, a
 * part a thread, when it moves 64 KB or more; the same bytes either way.
 * True when tr ran. */
bool em_tensor_copy(em_op_ctx* ctx, void* dst, const int64_t* dst_strides, const void* src,
                    const int64_t* src_strides, const int64_t* dims, int rank, size_t es,
                    ember_copy_transpose_fn tr);

/* Output i takes dtype and shape; a quantized input's parameters pass through
 * unless the output already has its own. */
static inline void em_tensor_set_output(em_op_ctx* ctx, uint32_t i, const em_value* like,
                                        const em_shape* shape) {
    em_value* out = ctx->outputs[i];
    out->dtype = like->dtype;
    out->shape = *shape;
    if (!out->quant) out->quant = like->quant;
}

/* Fails unless input i has a dtype ember knows (the kernels work by element size). */
/* em_op_def.input_in_output of the operators whose output is input 0's bytes
 * as they are (Reshape, Flatten, Squeeze, Unsqueeze, Identity). */
static inline bool em_tensor_same_bytes(const em_op_ctx* ctx, uint32_t i, uint64_t* offset) {
    (void)ctx;
    *offset = 0;
    return i == 0;
}

static inline ember_status em_tensor_known_dtype(em_op_ctx* ctx, uint32_t i) {
    const em_value* v = ctx->inputs[i];
    if (!v) return em_op_fail(ctx, EMBER_ERROR_INVALID_MODEL, "input %u is required", i);
    if (ember_dtype_size(v->dtype) == 0)
        return em_op_fail(ctx, EMBER_ERROR_DTYPE_MISMATCH, "input %u has an unknown dtype (%d)", i,
                          (int)v->dtype);
    return EMBER_OK;
}

/* Marks axes (already in [0, rank)) in seen; fails on a repeated one. */
static inline ember_status em_tensor_mark_axis(em_op_ctx* ctx, int32_t axis, bool* seen,
                                               const char* what) {
    if (seen[axis])
        return em_op_fail(ctx, EMBER_ERROR_INVALID_MODEL, "%s repeats axis %d", what, (int)axis);
    seen[axis] = true;
    return EMBER_OK;
}

#endif
