/* Transpose: permutes the axes (perm; default reverses them). */
#include <string.h>

#include "generic/tensor_ref.h"
#include "tensor_common.h"

typedef struct transpose_params {
    bool has_perm;
    uint32_t n_perm;
    int64_t perm[EMBER_MAX_RANK];
} transpose_params;

static ember_status transpose_init(em_op_ctx* ctx, void* params) {
    transpose_params* p = params;
    const int64_t* v;
    uint32_t n;
    ember_status st = em_attr_ints(ctx, "perm", &v, &n);
    if (st != EMBER_OK) return st;
    if (n > EMBER_MAX_RANK)
        return em_op_fail(ctx, EMBER_ERROR_INVALID_MODEL,
                          "perm has %u entries; at most %d are supported", n, EMBER_MAX_RANK);
    p->has_perm = em_attr_find(ctx->node, "perm") != NULL;
    p->n_perm = n;
    bool seen[EMBER_MAX_RANK] = {false};
    for (uint32_t i = 0; i < n; i++) {
        if (v[i] < 0 || v[i] >= (int64_t)n)
            return em_op_fail(ctx, EMBER_ERROR_INVALID_MODEL,
                              "perm[%u] is %lld; expected a permutation of 0..%u", i,
                              (long long)v[i], n - 1);
        if (seen[v[i]])
            return em_op_fail(ctx, EMBER_ERROR_INVALID_MODEL,
                              "perm repeats %lld; expected a permutation of 0..%u", (long long)v[i],
                              n - 1);
        seen[v[i]] = true;
        p->perm[i] = v[i];
    }
    return EMBER_OK;
}

/* The permutation for an input of rank r. */
static void get_perm(const transpose_params* p, int32_t r, int32_t* perm) {
    for (int32_t d = 0; d < r; d++) perm[d] = p->has_perm ? (int32_t)p->perm[d] : r - 1 - d;
}

static ember_status transpose_infer(em_op_ctx* ctx) {
    const transpose_params* p = ctx->params;
    const em_value* x = ctx->inputs[0];
    ember_status st = em_tensor_known_dtype(ctx, 0);
    if (st != EMBER_OK) return st;
    if (p->has_perm && (int32_t)p->n_perm != x->shape.rank)
        return em_op_fail(ctx, EMBER_ERROR_SHAPE_MISMATCH,
                          "perm has %u entries but the input has rank %d", p->n_perm,
                          (int)x->shape.rank);
    int32_t perm[EMBER_MAX_RANK];
    get_perm(p, x->shape.rank, perm);
    em_shape out = {.rank = x->shape.rank};
    for (int32_t d = 0; d < out.rank; d++) out.dims[d] = x->shape.dims[perm[d]];
    em_tensor_set_output(ctx, 0, x, &out);
    return EMBER_OK;
}

/* Whether the permutation keeps the axes longer than 1 in their order: it
 * only moves unit axes (a transformer's [1, 128, 256] -> [128, 1, 256]), so
 * the bytes do not move and the output can share the input's buffer. */
static bool moves_unit_axes_only(const em_op_ctx* ctx) {
    const em_value* x = ctx->inputs[0];
    int32_t perm[EMBER_MAX_RANK];
    get_perm(ctx->params, x->shape.rank, perm);
    int32_t last = -1;
    for (int32_t d = 0; d < x->shape.rank; d++) {
        if (x->shape.dims[perm[d]] == 1) continue;
        if (perm[d] < last) return false;
        last = perm[d];
    }
    return true;
}

static bool transpose_input_in_output(const em_op_ctx* ctx, uint32_t i, uint64_t* offset) {
    *offset = 0;
    return i == 0 && moves_unit_axes_only(ctx);
}

static ember_status transpose_run(em_op_ctx* ctx) {
    const em_value* x = ctx->inputs[0];
    em_value* y = ctx->outputs[0];
    if (moves_unit_axes_only(ctx)) { /* the same bytes: shared, or one copy */
        const size_t bytes = em_shape_count(&x->shape) * ember_dtype_size(x->dtype);
        if (y->data != x->data && bytes)
            memcpy(y->data, x->data, bytes);
        else
            ctx->kernel = "in place";
        return EMBER_OK;
    }
    int32_t perm[EMBER_MAX_RANK];
    get_perm(ctx->params, x->shape.rank, perm);
    int64_t out_dims[EMBER_MAX_RANK], src_str[EMBER_MAX_RANK], dst_str[EMBER_MAX_RANK];
    ember_transpose_strides(x->shape.dims, perm, x->shape.rank, out_dims, src_str, dst_str);
    if (em_tensor_copy(ctx, y->data, dst_str, x->data, src_str, out_dims, x->shape.rank,
                       ember_dtype_size(x->dtype), em_kern(ctx)->f32_transpose2d))
        ctx->kernel = "transpose2d";
    return EMBER_OK;
}

const em_op_def em_op_transpose = {
    .name = "Transpose", .min_inputs = 1, .max_inputs = 1, .min_outputs = 1, .max_outputs = 1,
    .params_size = sizeof(transpose_params), .init = transpose_init, .infer = transpose_infer,
    .run = transpose_run, .input_in_output = transpose_input_in_output,
};
