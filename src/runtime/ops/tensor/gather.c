/* Gather: picks entries of the data along an axis by i32 or i64 indices
 * (negative ones count from the end). Indices out of range fail the run
 * before any output is written. */
#include "generic/tensor_ref.h"
#include "tensor_common.h"

typedef struct gather_params {
    int64_t axis;
} gather_params;

static ember_status gather_init(em_op_ctx* ctx, void* params) {
    gather_params* p = params;
    return em_attr_int(ctx, "axis", 0, &p->axis);
}

/* status: INVALID_MODEL for constant indices at load, RUNTIME for data at run. */
static ember_status check_indices(em_op_ctx* ctx, const em_value* idx, int32_t axis,
                                  int64_t axis_dim, ember_status status) {
    size_t pos;
    int64_t bad;
    if (ember_gather_check_ref(idx->data, em_shape_count(&idx->shape),
                               idx->dtype == EMBER_DTYPE_I64, axis_dim, &pos, &bad))
        return EMBER_OK;
    return em_op_fail(ctx, status,
                      "index %lld (at position %zu of the indices) is out of range [%lld, %lld) "
                      "for axis %d",
                      (long long)bad, pos, (long long)-axis_dim, (long long)axis_dim, (int)axis);
}

static ember_status gather_infer(em_op_ctx* ctx) {
    const gather_params* p = ctx->params;
    const em_value* x = ctx->inputs[0];
    const em_value* idx = ctx->inputs[1];
    ember_status st = em_tensor_known_dtype(ctx, 0);
    if (st != EMBER_OK) return st;
    if (idx->dtype != EMBER_DTYPE_I64 && idx->dtype != EMBER_DTYPE_I32)
        return em_op_fail(ctx, EMBER_ERROR_DTYPE_MISMATCH, "indices (input 1) must be i32 or i64, got %s",
                          ember_dtype_name(idx->dtype));
    int32_t axis;
    st = em_axis(ctx, p->axis, x->shape.rank, &axis);
    if (st != EMBER_OK) return st;
    int32_t out_rank = x->shape.rank - 1 + idx->shape.rank;
    if (out_rank > EMBER_MAX_RANK)
        return em_op_fail(ctx, EMBER_ERROR_UNSUPPORTED,
                          "the output would have rank %d; at most %d is supported", (int)out_rank,
                          EMBER_MAX_RANK);
    em_shape out = {.rank = out_rank};
    int32_t k = 0;
    for (int32_t d = 0; d < axis; d++) out.dims[k++] = x->shape.dims[d];
    for (int32_t d = 0; d < idx->shape.rank; d++) out.dims[k++] = idx->shape.dims[d];
    for (int32_t d = axis + 1; d < x->shape.rank; d++) out.dims[k++] = x->shape.dims[d];
    if (idx->data) { /* constant indices: refuse bad ones at load already */
        st = check_indices(ctx, idx, axis, x->shape.dims[axis], EMBER_ERROR_INVALID_MODEL);
        if (st != EMBER_OK) return st;
    }
    em_tensor_set_output(ctx, 0, x, &out);
    return EMBER_OK;
}

static ember_status gather_run(em_op_ctx* ctx) {
    const gather_params* p = ctx->params;
    const em_value* x = ctx->inputs[0];
    const em_value* idx = ctx->inputs[1];
    int32_t axis = (int32_t)(p->axis < 0 ? p->axis + x->shape.rank : p->axis);
    int64_t axis_dim = x->shape.dims[axis];
    ember_status st = check_indices(ctx, idx, axis, axis_dim, EMBER_ERROR_RUNTIME);
    if (st != EMBER_OK) return st;
    size_t outer = 1, row = ember_dtype_size(x->dtype);
    for (int32_t d = 0; d < axis; d++) outer *= (size_t)x->shape.dims[d];
    for (int32_t d = axis + 1; d < x->shape.rank; d++) row *= (size_t)x->shape.dims[d];
    ember_gather_ref(ctx->outputs[0]->data, x->data, outer, axis_dim, row, idx->data,
                     em_shape_count(&idx->shape), idx->dtype == EMBER_DTYPE_I64);
    return EMBER_OK;
}

const em_op_def em_op_gather = {
    .name = "Gather", .min_inputs = 2, .max_inputs = 2, .min_outputs = 1, .max_outputs = 1,
    .params_size = sizeof(gather_params), .init = gather_init, .infer = gather_infer,
    .run = gather_run,
};
