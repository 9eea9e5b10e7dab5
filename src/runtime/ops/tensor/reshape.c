/* Operators that change the shape but not the data: Flatten, Reshape, Squeeze,
 * Unsqueeze. Their run is a copy, or nothing when the planner gave the output
 * the input's buffer (em_op_def.input_in_output). */
#include <string.h>

#include "tensor_common.h"

static ember_status copy_run(em_op_ctx* ctx) {
    const em_value* x = ctx->inputs[0];
    em_value* y = ctx->outputs[0];
    size_t bytes = em_shape_count(&x->shape) * ember_dtype_size(x->dtype);
    if (y->data != x->data && bytes)
        memcpy(y->data, x->data, bytes);
    else
        ctx->kernel = "in place";
    return EMBER_OK;
}

/* ------------------------------------------------------------------ Flatten */

typedef struct flatten_params {
    int64_t axis;
} flatten_params;

static ember_status flatten_init(em_op_ctx* ctx, void* params) {
    flatten_params* p = params;
    return em_attr_int(ctx, "axis", 1, &p->axis);
}

static ember_status flatten_infer(em_op_ctx* ctx) {
    const flatten_params* p = ctx->params;
    const em_value* x = ctx->inputs[0];
    ember_status st = em_tensor_known_dtype(ctx, 0);
    if (st != EMBER_OK) return st;
    int32_t r = x->shape.rank;
    if (p->axis < -(int64_t)r || p->axis > (int64_t)r)
        return em_op_fail(ctx, EMBER_ERROR_INVALID_MODEL,
                          "axis %lld is out of range [%d, %d] for an input of rank %d",
                          (long long)p->axis, -(int)r, (int)r, (int)r);
    int32_t a = (int32_t)(p->axis < 0 ? p->axis + r : p->axis);
    em_shape out = {.rank = 2, .dims = {1, 1}};
    for (int32_t d = 0; d < r; d++) out.dims[d < a ? 0 : 1] *= x->shape.dims[d];
    em_tensor_set_output(ctx, 0, x, &out);
    return EMBER_OK;
}

const em_op_def em_op_flatten = {
    .name = "Flatten", .min_inputs = 1, .max_inputs = 1, .min_outputs = 1, .max_outputs = 1,
    .params_size = sizeof(flatten_params), .init = flatten_init, .infer = flatten_infer,
    .run = copy_run, .input_in_output = em_tensor_same_bytes,
};

/* ------------------------------------------------------------------ Reshape */

typedef struct reshape_params {
    int64_t allowzero;
} reshape_params;

static ember_status reshape_init(em_op_ctx* ctx, void* params) {
    reshape_params* p = params;
    ember_status st = em_attr_int(ctx, "allowzero", 0, &p->allowzero);
    if (st != EMBER_OK) return st;
    if (p->allowzero != 0 && p->allowzero != 1)
        return em_op_fail(ctx, EMBER_ERROR_INVALID_MODEL, "allowzero must be 0 or 1, got %lld",
                          (long long)p->allowzero);
    if (em_attr_find(ctx->node, "shape"))
        return em_op_fail(ctx, EMBER_ERROR_UNSUPPORTED,
                          "the opset-1 'shape' attribute is not supported; give the shape as input 1");
    return EMBER_OK;
}

static ember_status reshape_infer(em_op_ctx* ctx) {
    const reshape_params* p = ctx->params;
    const em_value* x = ctx->inputs[0];
    ember_status st = em_tensor_known_dtype(ctx, 0);
    if (st != EMBER_OK) return st;
    int64_t sh[EMBER_MAX_RANK];
    uint32_t n;
    st = em_const_ints(ctx, 1, sh, EMBER_MAX_RANK, &n);
    if (st != EMBER_OK) return st;
    char a[160], b[160];
    em_shape out = {.rank = (int32_t)n};
    int32_t infer_at = -1;
    bool has_zero = false;
    uint64_t known = 1;
    for (uint32_t i = 0; i < n; i++) {
        int64_t v = sh[i];
        if (v == -1) {
            if (infer_at >= 0)
                return em_op_fail(ctx, EMBER_ERROR_INVALID_MODEL,
                                  "shape has more than one -1 (at %d and %u)", (int)infer_at, i);
            infer_at = (int32_t)i;
            out.dims[i] = 1;
            continue;
        }
        if (v < -1)
            return em_op_fail(ctx, EMBER_ERROR_INVALID_MODEL,
                              "shape entry %u is %lld; expected >= -1", i, (long long)v);
        if (v == 0) {
            has_zero = true;
            if (!p->allowzero) {
                if ((int32_t)i >= x->shape.rank)
                    return em_op_fail(ctx, EMBER_ERROR_INVALID_MODEL,
                                      "shape entry %u is 0 (copy the input's dim), but the input "
                                      "%s has rank %d",
                                      i, em_shape_str(&x->shape, a, sizeof a), (int)x->shape.rank);
                v = x->shape.dims[i];
            }
        }
        out.dims[i] = v;
        if (!em_mul_u64(known, (uint64_t)v, &known) || known > (uint64_t)INT64_MAX)
            return em_op_fail(ctx, EMBER_ERROR_INVALID_MODEL,
                              "the dims of the shape overflow a 64-bit element count");
    }
    if (p->allowzero && has_zero && infer_at >= 0)
        return em_op_fail(ctx, EMBER_ERROR_INVALID_MODEL,
                          "with allowzero=1 the shape cannot hold both 0 and -1");
    uint64_t total;
    if (!em_shape_numel(&x->shape, &total))
        return em_op_fail(ctx, EMBER_ERROR_INVALID_MODEL, "input shape %s is invalid",
                          em_shape_str(&x->shape, a, sizeof a));
    if (infer_at >= 0) {
        if (known == 0 || total % known != 0)
            return em_op_fail(ctx, EMBER_ERROR_SHAPE_MISMATCH,
                              "cannot reshape %s (%llu elements) into %s: the -1 dim cannot be "
                              "inferred",
                              em_shape_str(&x->shape, a, sizeof a), (unsigned long long)total,
                              em_shape_str(&out, b, sizeof b));
        out.dims[infer_at] = (int64_t)(total / known);
    } else if (known != total) {
        return em_op_fail(ctx, EMBER_ERROR_SHAPE_MISMATCH,
                          "cannot reshape %s (%llu elements) into %s (%llu elements)",
                          em_shape_str(&x->shape, a, sizeof a), (unsigned long long)total,
                          em_shape_str(&out, b, sizeof b), (unsigned long long)known);
    }
    em_tensor_set_output(ctx, 0, x, &out);
    return EMBER_OK;
}

const em_op_def em_op_reshape = {
    .name = "Reshape", .min_inputs = 2, .max_inputs = 2, .min_outputs = 1, .max_outputs = 1,
    .params_size = sizeof(reshape_params), .init = reshape_init, .infer = reshape_infer,
    .run = copy_run, .input_in_output = em_tensor_same_bytes,
};

/* ------------------------------------------------------- Squeeze, Unsqueeze */

typedef struct axes_params {
    uint32_t n_axes;      /* from the attribute (opset < 13) */
    bool has_attr;
    int64_t axes[EMBER_MAX_RANK];
} axes_params;

static ember_status axes_init(em_op_ctx* ctx, void* params) {
    axes_params* p = params;
    const int64_t* v;
    uint32_t n;
    ember_status st = em_attr_ints(ctx, "axes", &v, &n);
    if (st != EMBER_OK) return st;
    p->has_attr = em_attr_find(ctx->node, "axes") != NULL;
    if (n > EMBER_MAX_RANK)
        return em_op_fail(ctx, EMBER_ERROR_INVALID_MODEL, "attribute 'axes' has %u entries, at most %d allowed",
                          n, EMBER_MAX_RANK);
    if (p->has_attr && ctx->n_inputs > 1 && ctx->node->inputs[1] != EM_NONE)
        return em_op_fail(ctx, EMBER_ERROR_INVALID_MODEL,
                          "axes are given both as an attribute and as input 1");
    p->n_axes = n;
    for (uint32_t i = 0; i < n; i++) p->axes[i] = v[i];
    return EMBER_OK;
}

/* The axes from the attribute or from constant input 1; *present false if neither. */
static ember_status get_axes(em_op_ctx* ctx, int64_t* axes, uint32_t* n, bool* present) {
    const axes_params* p = ctx->params;
    if (ctx->n_inputs > 1 && ctx->inputs[1]) {
        *present = true;
        return em_const_ints(ctx, 1, axes, EMBER_MAX_RANK, n);
    }
    *present = p->has_attr;
    *n = p->n_axes;
    for (uint32_t i = 0; i < p->n_axes; i++) axes[i] = p->axes[i];
    return EMBER_OK;
}

static ember_status squeeze_infer(em_op_ctx* ctx) {
    const em_value* x = ctx->inputs[0];
    ember_status st = em_tensor_known_dtype(ctx, 0);
    if (st != EMBER_OK) return st;
    int64_t axes[EMBER_MAX_RANK];
    uint32_t n;
    bool present;
    st = get_axes(ctx, axes, &n, &present);
    if (st != EMBER_OK) return st;
    bool drop[EMBER_MAX_RANK] = {false};
    char a[160];
    if (!present) {
        for (int32_t d = 0; d < x->shape.rank; d++) drop[d] = x->shape.dims[d] == 1;
    } else {
        for (uint32_t i = 0; i < n; i++) {
            int32_t ax;
            st = em_axis(ctx, axes[i], x->shape.rank, &ax);
            if (st != EMBER_OK) return st;
            st = em_tensor_mark_axis(ctx, ax, drop, "axes");
            if (st != EMBER_OK) return st;
            if (x->shape.dims[ax] != 1)
                return em_op_fail(ctx, EMBER_ERROR_SHAPE_MISMATCH,
                                  "cannot squeeze axis %d of %s: its dim is %lld, not 1", (int)ax,
                                  em_shape_str(&x->shape, a, sizeof a),
                                  (long long)x->shape.dims[ax]);
        }
    }
    em_shape out = {.rank = 0};
    for (int32_t d = 0; d < x->shape.rank; d++)
        if (!drop[d]) out.dims[out.rank++] = x->shape.dims[d];
    em_tensor_set_output(ctx, 0, x, &out);
    return EMBER_OK;
}

static ember_status unsqueeze_infer(em_op_ctx* ctx) {
    const em_value* x = ctx->inputs[0];
    ember_status st = em_tensor_known_dtype(ctx, 0);
    if (st != EMBER_OK) return st;
    int64_t axes[EMBER_MAX_RANK];
    uint32_t n;
    bool present;
    st = get_axes(ctx, axes, &n, &present);
    if (st != EMBER_OK) return st;
    if (!present)
        return em_op_fail(ctx, EMBER_ERROR_INVALID_MODEL,
                          "axes are required (attribute 'axes' or input 1)");
    int32_t out_rank = x->shape.rank + (int32_t)n;
    if (out_rank > EMBER_MAX_RANK)
        return em_op_fail(ctx, EMBER_ERROR_UNSUPPORTED,
                          "the output would have rank %d; at most %d is supported", (int)out_rank,
                          EMBER_MAX_RANK);
    bool ins[EMBER_MAX_RANK] = {false};
    for (uint32_t i = 0; i < n; i++) {
        int32_t ax;
        st = em_axis(ctx, axes[i], out_rank, &ax);
        if (st != EMBER_OK) return st;
        st = em_tensor_mark_axis(ctx, ax, ins, "axes");
        if (st != EMBER_OK) return st;
    }
    em_shape out = {.rank = out_rank};
    for (int32_t d = 0, k = 0; d < out_rank; d++) out.dims[d] = ins[d] ? 1 : x->shape.dims[k++];
    em_tensor_set_output(ctx, 0, x, &out);
    return EMBER_OK;
}

const em_op_def em_op_squeeze = {
    .name = "Squeeze", .min_inputs = 1, .max_inputs = 2, .min_outputs = 1, .max_outputs = 1,
    .params_size = sizeof(axes_params), .init = axes_init, .infer = squeeze_infer,
    .run = copy_run, .input_in_output = em_tensor_same_bytes,
};

const em_op_def em_op_unsqueeze = {
    .name = "Unsqueeze", .min_inputs = 1, .max_inputs = 2, .min_outputs = 1, .max_outputs = 1,
    .params_size = sizeof(axes_params), .init = axes_init, .infer = unsqueeze_infer,
    .run = copy_run, .input_in_output = em_tensor_same_bytes,
};
