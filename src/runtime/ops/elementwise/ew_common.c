/* Broadcast walking and checks shared by the elementwise operators. */
#include "ew_common.h"

void ew_rows_init(ew_rows* r, uint32_t n, const em_shape* const* in, const em_shape* out) {
    int64_t full[EW_MAX_OPERANDS][EMBER_MAX_RANK];
    for (uint32_t k = 0; k < n; k++) em_broadcast_strides(in[k], out, full[k]);

    /* Keep the dims of size != 1, merging a dim into the one kept before it
     * when every operand continues contiguously (or stays put) across them. */
    int32_t rank = 0;
    int64_t dims[EMBER_MAX_RANK];
    int64_t strides[EW_MAX_OPERANDS][EMBER_MAX_RANK];
    bool empty = false;
    for (int32_t d = 0; d < out->rank; d++) {
        const int64_t dim = out->dims[d];
        if (dim == 0) empty = true;
        if (dim == 1) continue;
        bool merge = rank > 0;
        for (uint32_t k = 0; k < n && merge; k++)
            merge = strides[k][rank - 1] == full[k][d] * dim;
        if (merge) {
            dims[rank - 1] *= dim;
            for (uint32_t k = 0; k < n; k++) strides[k][rank - 1] = full[k][d];
        } else {
            dims[rank] = dim;
            for (uint32_t k = 0; k < n; k++) strides[k][rank] = full[k][d];
            rank++;
        }
    }

    *r = (ew_rows){.n = n};
    if (empty) return; /* rows = 0 */
    if (rank == 0) {   /* a single element */
        r->rows = r->inner = 1;
        return;
    }
    /* The last kept dim is the run; each operand's stride there is 0 or 1,
     * since all of its dims after it are 1. */
    r->inner = (size_t)dims[rank - 1];
    for (uint32_t k = 0; k < n; k++) r->inc[k] = strides[k][rank - 1] ? 1 : 0;
    r->rank = rank - 1;
    r->rows = 1;
    for (int32_t d = 0; d < r->rank; d++) {
        r->dims[d] = dims[d];
        r->rows *= (size_t)dims[d];
        for (uint32_t k = 0; k < n; k++) r->strides[k][d] = strides[k][d];
    }
}

void ew_rows_next(ew_rows* r) {
    for (int32_t d = r->rank - 1; d >= 0; d--) {
        r->idx[d]++;
        for (uint32_t k = 0; k < r->n; k++) r->off[k] += (size_t)r->strides[k][d];
        if (r->idx[d] < r->dims[d]) return;
        for (uint32_t k = 0; k < r->n; k++)
            r->off[k] -= (size_t)(r->strides[k][d] * r->dims[d]);
        r->idx[d] = 0;
    }
}

ember_status ew_broadcast_inputs(em_op_ctx* ctx, uint32_t first, uint32_t n, em_shape* out) {
    const em_shape* shapes[EW_MAX_OPERANDS];
    for (uint32_t k = 0; k < n; k++) {
        const em_value* v = first + k < ctx->n_inputs ? ctx->inputs[first + k] : NULL;
        if (!v)
            return em_op_fail(ctx, EMBER_ERROR_INVALID_MODEL, "input %u is required", first + k);
        shapes[k] = &v->shape;
    }
    return em_broadcast(ctx, n, shapes, out);
}

ember_status ew_expect_dtypes(em_op_ctx* ctx, uint32_t i, uint32_t mask, const char* what) {
    const em_value* v = i < ctx->n_inputs ? ctx->inputs[i] : NULL;
    if (!v) return em_op_fail(ctx, EMBER_ERROR_INVALID_MODEL, "input %u is required", i);
    if ((unsigned)v->dtype >= 32 || !(mask & EW_DT(v->dtype)))
        return em_op_fail(ctx, EMBER_ERROR_DTYPE_MISMATCH, "input %u must be %s, got %s", i, what,
                          ember_dtype_name(v->dtype));
    return EMBER_OK;
}
