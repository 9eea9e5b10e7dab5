/* Concat (joins inputs along an axis) and Split (cuts one input into outputs
 * along an axis). Both are row copies: the dims before the axis are rows, and
 * each tensor's part of a row is (its dim on the axis) x (the dims after). */
#include "generic/tensor_ref.h"
#include "tensor_common.h"

#define MAX_PARTS 255 /* inputs of Concat, outputs of Split (uint8 counts) */

typedef struct axis_params {
    int64_t axis;
} axis_params;

/* Rows (dims before axis) and the elements after axis. */
static void outer_inner(const em_shape* s, int32_t axis, size_t* outer, size_t* inner) {
    *outer = 1;
    *inner = 1;
    for (int32_t d = 0; d < axis; d++) *outer *= (size_t)s->dims[d];
    for (int32_t d = axis + 1; d < s->rank; d++) *inner *= (size_t)s->dims[d];
}

/* ------------------------------------------------------------------- Concat */

static ember_status concat_init(em_op_ctx* ctx, void* params) {
    axis_params* p = params;
    /* Required since opset 4; opsets 1-3 default to 1. */
    return em_attr_int(ctx, "axis", 1, &p->axis);
}

static ember_status concat_infer(em_op_ctx* ctx) {
    const axis_params* p = ctx->params;
    const em_value* x0 = ctx->inputs[0];
    ember_status st = em_tensor_known_dtype(ctx, 0);
    if (st != EMBER_OK) return st;
    int32_t axis;
    st = em_axis(ctx, p->axis, x0->shape.rank, &axis);
    if (st != EMBER_OK) return st;
    em_shape out = x0->shape;
    uint64_t total = (uint64_t)x0->shape.dims[axis];
    char a[160], b[160];
    for (uint32_t i = 1; i < ctx->n_inputs; i++) {
        const em_value* x = ctx->inputs[i];
        if (!x) return em_op_fail(ctx, EMBER_ERROR_INVALID_MODEL, "input %u is absent", i);
        if (x->dtype != x0->dtype)
            return em_op_fail(ctx, EMBER_ERROR_DTYPE_MISMATCH, "input %u is %s but input 0 is %s",
                              i, ember_dtype_name(x->dtype), ember_dtype_name(x0->dtype));
        bool ok = x->shape.rank == x0->shape.rank;
        for (int32_t d = 0; ok && d < x0->shape.rank; d++)
            ok = d == axis || x->shape.dims[d] == x0->shape.dims[d];
        if (!ok)
            return em_op_fail(ctx, EMBER_ERROR_SHAPE_MISMATCH,
                              "input %u has shape %s, input 0 has %s: they must agree except on "
                              "axis %d",
                              i, em_shape_str(&x->shape, a, sizeof a),
                              em_shape_str(&x0->shape, b, sizeof b), (int)axis);
        if (!em_add_u64(total, (uint64_t)x->shape.dims[axis], &total) || total > INT64_MAX)
            return em_op_fail(ctx, EMBER_ERROR_LIMIT_EXCEEDED, "the concatenated dim overflows");
    }
    out.dims[axis] = (int64_t)total;
    em_tensor_set_output(ctx, 0, x0, &out);
    return EMBER_OK;
}

static ember_status concat_run(em_op_ctx* ctx) {
    const axis_params* p = ctx->params;
    em_value* y = ctx->outputs[0];
    int32_t axis = (int32_t)(p->axis < 0 ? p->axis + y->shape.rank : p->axis);
    size_t outer, inner, es = ember_dtype_size(y->dtype);
    outer_inner(&y->shape, axis, &outer, &inner);
    size_t out_pitch = (size_t)y->shape.dims[axis] * inner * es;
    char* dst = y->data;
    bool copied = false;
    for (uint32_t i = 0; i < ctx->n_inputs; i++) {
        const em_value* x = ctx->inputs[i];
        size_t pitch = (size_t)x->shape.dims[axis] * inner * es;
        /* (a part the planner had produced in place is already there) */
        if (outer && pitch && (const char*)x->data != dst) {
            ember_copy_rows_ref(dst, out_pitch, x->data, pitch, outer, pitch);
            copied = true;
        }
        dst += pitch;
    }
    if (!copied) ctx->kernel = "in place";
    return EMBER_OK;
}

/* With nothing before the axis, each input is one contiguous slice of the
 * output: its producer can write it there (the planner, op.h). */
static bool concat_input_in_output(const em_op_ctx* ctx, uint32_t i, uint64_t* offset) {
    const axis_params* p = ctx->params;
    const em_value* y = ctx->outputs[0];
    int32_t axis = (int32_t)(p->axis < 0 ? p->axis + y->shape.rank : p->axis);
    size_t outer, inner, es = ember_dtype_size(y->dtype);
    outer_inner(&y->shape, axis, &outer, &inner);
    if (outer != 1 || i >= ctx->n_inputs) return false;
    uint64_t off = 0;
    for (uint32_t k = 0; k < i; k++) off += (uint64_t)ctx->inputs[k]->shape.dims[axis] * inner * es;
    *offset = off;
    return true;
}

const em_op_def em_op_concat = {
    .name = "Concat", .min_inputs = 1, .max_inputs = MAX_PARTS, .min_outputs = 1,
    .max_outputs = 1, .params_size = sizeof(axis_params), .init = concat_init,
    .infer = concat_infer, .run = concat_run, .input_in_output = concat_input_in_output,
};

/* -------------------------------------------------------------------- Split */

typedef struct split_params {
    int64_t axis;
    int64_t num_outputs;    /* 0: absent */
    const int64_t* split;   /* the attribute (opset < 13), in place in the file */
    uint32_t n_split;
    bool has_split;
} split_params;

static ember_status split_init(em_op_ctx* ctx, void* params) {
    split_params* p = params;
    ember_status st = em_attr_int(ctx, "axis", 0, &p->axis);
    if (st == EMBER_OK) st = em_attr_int(ctx, "num_outputs", 0, &p->num_outputs);
    if (st == EMBER_OK) st = em_attr_ints(ctx, "split", &p->split, &p->n_split);
    if (st != EMBER_OK) return st;
    p->has_split = em_attr_find(ctx->node, "split") != NULL;
    bool split_input = ctx->n_inputs > 1 && ctx->node->inputs[1] != EM_NONE;
    if (em_attr_find(ctx->node, "num_outputs")) {
        if (p->num_outputs != (int64_t)ctx->n_outputs)
            return em_op_fail(ctx, EMBER_ERROR_INVALID_MODEL,
                              "num_outputs is %lld but the node has %u outputs",
                              (long long)p->num_outputs, ctx->n_outputs);
        if (p->has_split || split_input)
            return em_op_fail(ctx, EMBER_ERROR_INVALID_MODEL,
                              "num_outputs and split sizes cannot both be given");
    }
    if (p->has_split && split_input)
        return em_op_fail(ctx, EMBER_ERROR_INVALID_MODEL,
                          "split sizes are given both as an attribute and as input 1");
    if (p->has_split && p->n_split != ctx->n_outputs)
        return em_op_fail(ctx, EMBER_ERROR_INVALID_MODEL,
                          "attribute 'split' has %u sizes but the node has %u outputs", p->n_split,
                          ctx->n_outputs);
    return EMBER_OK;
}

/* The size of every output along axis; fails unless they are valid for dim. */
static ember_status split_sizes(em_op_ctx* ctx, int64_t dim, int64_t* sizes) {
    const split_params* p = ctx->params;
    const uint32_t n = ctx->n_outputs;
    if (ctx->n_inputs > 1 && ctx->inputs[1]) {
        uint32_t count;
        ember_status st = em_const_ints(ctx, 1, sizes, MAX_PARTS, &count);
        if (st != EMBER_OK) return st;
        if (count != n)
            return em_op_fail(ctx, EMBER_ERROR_INVALID_MODEL,
                              "input 1 has %u split sizes but the node has %u outputs", count, n);
    } else if (p->has_split) {
        for (uint32_t i = 0; i < n; i++) sizes[i] = p->split[i];
    } else if (p->num_outputs) {
        /* opset 18: ceil(dim / n) each, the last one smaller if it does not divide */
        int64_t chunk = dim / n + (dim % n != 0);
        for (uint32_t i = 0; i < n; i++) sizes[i] = chunk;
        sizes[n - 1] = dim - chunk * (int64_t)(n - 1);
        if (sizes[n - 1] < 0)
            return em_op_fail(ctx, EMBER_ERROR_SHAPE_MISMATCH,
                              "dim %lld cannot be split into %u chunks of %lld", (long long)dim, n,
                              (long long)chunk);
    } else {
        if (dim % n != 0)
            return em_op_fail(ctx, EMBER_ERROR_SHAPE_MISMATCH,
                              "dim %lld cannot be split into %u equal outputs (give split sizes)",
                              (long long)dim, n);
        for (uint32_t i = 0; i < n; i++) sizes[i] = dim / n;
    }
    uint64_t sum = 0;
    for (uint32_t i = 0; i < n; i++) {
        if (sizes[i] < 0)
            return em_op_fail(ctx, EMBER_ERROR_INVALID_MODEL, "split size %u is %lld; expected >= 0",
                              i, (long long)sizes[i]);
        if (!em_add_u64(sum, (uint64_t)sizes[i], &sum)) sum = UINT64_MAX;
    }
    if (sum != (uint64_t)dim)
        return em_op_fail(ctx, EMBER_ERROR_SHAPE_MISMATCH,
                          "split sizes add up to %llu but the dim being split is %lld",
                          (unsigned long long)sum, (long long)dim);
    return EMBER_OK;
}

static ember_status split_infer(em_op_ctx* ctx) {
    const split_params* p = ctx->params;
    const em_value* x = ctx->inputs[0];
    ember_status st = em_tensor_known_dtype(ctx, 0);
    if (st != EMBER_OK) return st;
    int32_t axis;
    st = em_axis(ctx, p->axis, x->shape.rank, &axis);
    if (st != EMBER_OK) return st;
    int64_t sizes[MAX_PARTS];
    st = split_sizes(ctx, x->shape.dims[axis], sizes);
    if (st != EMBER_OK) return st;
    for (uint32_t i = 0; i < ctx->n_outputs; i++) {
        if (!ctx->outputs[i]) continue;
        em_shape s = x->shape;
        s.dims[axis] = sizes[i];
        em_tensor_set_output(ctx, i, x, &s);
    }
    return EMBER_OK;
}

static ember_status split_run(em_op_ctx* ctx) {
    const split_params* p = ctx->params;
    const em_value* x = ctx->inputs[0];
    int32_t axis = (int32_t)(p->axis < 0 ? p->axis + x->shape.rank : p->axis);
    int64_t sizes[MAX_PARTS];
    ember_status st = split_sizes(ctx, x->shape.dims[axis], sizes);
    if (st != EMBER_OK) return st;
    size_t outer, inner, es = ember_dtype_size(x->dtype);
    outer_inner(&x->shape, axis, &outer, &inner);
    size_t in_pitch = (size_t)x->shape.dims[axis] * inner * es;
    const char* src = x->data;
    for (uint32_t i = 0; i < ctx->n_outputs; i++) {
        size_t pitch = (size_t)sizes[i] * inner * es;
        if (ctx->outputs[i] && outer)
            ember_copy_rows_ref(ctx->outputs[i]->data, pitch, src, in_pitch, outer, pitch);
        src += pitch;
    }
    return EMBER_OK;
}

const em_op_def em_op_split = {
    .name = "Split", .min_inputs = 1, .max_inputs = 2, .min_outputs = 1,
    .max_outputs = MAX_PARTS, .params_size = sizeof(split_params), .init = split_init,
    .infer = split_infer, .run = split_run,
};
