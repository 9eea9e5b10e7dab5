/* Slice: starts, ends, axes and steps as constant inputs (opset 10+), or the
 * attributes starts, ends, axes (opset 1). Out-of-range starts and ends are
 * clamped as the ONNX specification says; steps may be negative. */
#include "generic/tensor_ref.h"
#include "tensor_common.h"

typedef struct slice_params {
    bool attr_form;        /* opset 1: everything in attributes */
    uint32_t n;            /* entries of starts, ends and axes */
    const int64_t* starts; /* attributes, in place in the file */
    const int64_t* ends;
    const int64_t* axes;   /* NULL: 0..n-1 */
} slice_params;

static ember_status slice_init(em_op_ctx* ctx, void* params) {
    slice_params* p = params;
    const int64_t* v[3];
    uint32_t n[3];
    const char* names[3] = {"starts", "ends", "axes"};
    for (int i = 0; i < 3; i++) {
        ember_status st = em_attr_ints(ctx, names[i], &v[i], &n[i]);
        if (st != EMBER_OK) return st;
    }
    bool any_attr = em_attr_find(ctx->node, "starts") || em_attr_find(ctx->node, "ends") ||
                    em_attr_find(ctx->node, "axes");
    if (ctx->n_inputs == 1) {
        if (!em_attr_find(ctx->node, "starts") || !em_attr_find(ctx->node, "ends"))
            return em_op_fail(ctx, EMBER_ERROR_INVALID_MODEL,
                              "with one input, attributes 'starts' and 'ends' are required");
        if (n[0] != n[1] || (em_attr_find(ctx->node, "axes") && n[2] != n[0]))
            return em_op_fail(ctx, EMBER_ERROR_INVALID_MODEL,
                              "starts, ends and axes must have the same length, got %u, %u and %u",
                              n[0], n[1], n[2]);
        if (n[0] > EMBER_MAX_RANK)
            return em_op_fail(ctx, EMBER_ERROR_INVALID_MODEL,
                              "starts has %u entries; at most %d are supported", n[0],
                              EMBER_MAX_RANK);
        p->attr_form = true;
        p->n = n[0];
        p->starts = v[0];
        p->ends = v[1];
        p->axes = em_attr_find(ctx->node, "axes") ? v[2] : NULL;
        return EMBER_OK;
    }
    if (ctx->n_inputs < 3 || ctx->node->inputs[1] == EM_NONE || ctx->node->inputs[2] == EM_NONE)
        return em_op_fail(ctx, EMBER_ERROR_INVALID_MODEL,
                          "expected data alone (opset 1) or data, starts, ends[, axes, steps]");
    if (any_attr)
        return em_op_fail(ctx, EMBER_ERROR_INVALID_MODEL,
                          "starts/ends/axes are given both as attributes and as inputs");
    return EMBER_OK;
}

/* Per input dim: the first index read, the step and (in out) the count. */
static ember_status slice_plan(em_op_ctx* ctx, const em_shape* in, int64_t* first, int64_t* step,
                               em_shape* out) {
    const slice_params* p = ctx->params;
    int64_t starts[EMBER_MAX_RANK], ends[EMBER_MAX_RANK], axes[EMBER_MAX_RANK],
        steps[EMBER_MAX_RANK];
    uint32_t ns, ne, na, nt;
    if (p->attr_form) {
        ns = ne = na = nt = p->n;
        for (uint32_t i = 0; i < p->n; i++) {
            starts[i] = p->starts[i];
            ends[i] = p->ends[i];
            axes[i] = p->axes ? p->axes[i] : (int64_t)i;
            steps[i] = 1;
        }
    } else {
        ember_status st = em_const_ints(ctx, 1, starts, EMBER_MAX_RANK, &ns);
        if (st == EMBER_OK) st = em_const_ints(ctx, 2, ends, EMBER_MAX_RANK, &ne);
        if (st != EMBER_OK) return st;
        na = nt = ns;
        for (uint32_t i = 0; i < ns; i++) {
            axes[i] = i;
            steps[i] = 1;
        }
        if (ctx->n_inputs > 3 && ctx->inputs[3]) {
            st = em_const_ints(ctx, 3, axes, EMBER_MAX_RANK, &na);
            if (st != EMBER_OK) return st;
        }
        if (ctx->n_inputs > 4 && ctx->inputs[4]) {
            st = em_const_ints(ctx, 4, steps, EMBER_MAX_RANK, &nt);
            if (st != EMBER_OK) return st;
        }
        if (ne != ns || na != ns || nt != ns)
            return em_op_fail(ctx, EMBER_ERROR_INVALID_MODEL,
                              "starts, ends, axes and steps must have the same length, got %u, "
                              "%u, %u and %u",
                              ns, ne, na, nt);
    }
    *out = *in;
    for (int32_t d = 0; d < in->rank; d++) {
        first[d] = 0;
        step[d] = 1;
    }
    bool seen[EMBER_MAX_RANK] = {false};
    for (uint32_t i = 0; i < ns; i++) {
        int32_t ax;
        ember_status st = em_axis(ctx, axes[i], in->rank, &ax);
        if (st == EMBER_OK) st = em_tensor_mark_axis(ctx, ax, seen, "axes");
        if (st != EMBER_OK) return st;
        const int64_t dim = in->dims[ax], t = steps[i];
        int64_t s = starts[i], e = ends[i];
        uint64_t count = 0;
        if (t == 0)
            return em_op_fail(ctx, EMBER_ERROR_INVALID_MODEL, "step %u (axis %d) is 0", i, (int)ax);
        if (s < 0) s += dim;
        if (e < 0) e += dim;
        if (dim == 0) {
            s = 0;
        } else if (t > 0) {
            s = s < 0 ? 0 : (s > dim ? dim : s);
            e = e < 0 ? 0 : (e > dim ? dim : e);
            if (e > s) count = (uint64_t)(e - s - 1) / (uint64_t)t + 1;
        } else {
            s = s < 0 ? 0 : (s > dim - 1 ? dim - 1 : s);
            e = e < -1 ? -1 : (e > dim - 1 ? dim - 1 : e);
            uint64_t mag = (uint64_t)(-(t + 1)) + 1; /* -t without overflow at INT64_MIN */
            if (s > e) count = (uint64_t)(s - e - 1) / mag + 1;
        }
        first[ax] = s;
        step[ax] = count > 1 ? t : 1; /* a single element: the step never multiplies */
        out->dims[ax] = (int64_t)count;
    }
    return EMBER_OK;
}

static ember_status slice_infer(em_op_ctx* ctx) {
    const em_value* x = ctx->inputs[0];
    ember_status st = em_tensor_known_dtype(ctx, 0);
    if (st != EMBER_OK) return st;
    int64_t first[EMBER_MAX_RANK], step[EMBER_MAX_RANK];
    em_shape out;
    st = slice_plan(ctx, &x->shape, first, step, &out);
    if (st != EMBER_OK) return st;
    em_tensor_set_output(ctx, 0, x, &out);
    return EMBER_OK;
}

static ember_status slice_run(em_op_ctx* ctx) {
    const em_value* x = ctx->inputs[0];
    em_value* y = ctx->outputs[0];
    int64_t first[EMBER_MAX_RANK], step[EMBER_MAX_RANK];
    em_shape out;
    ember_status st = slice_plan(ctx, &x->shape, first, step, &out);
    if (st != EMBER_OK) return st;
    if (em_shape_count(&out) == 0) return EMBER_OK;
    const size_t es = ember_dtype_size(x->dtype);
    int64_t in_str[EMBER_MAX_RANK], src_str[EMBER_MAX_RANK], dst_str[EMBER_MAX_RANK];
    ember_contiguous_strides(x->shape.dims, x->shape.rank, in_str);
    ember_contiguous_strides(out.dims, out.rank, dst_str);
    int64_t offset = 0;
    for (int32_t d = 0; d < out.rank; d++) {
        offset += first[d] * in_str[d];
        src_str[d] = step[d] * in_str[d];
    }
    em_tensor_copy(ctx, y->data, dst_str, (const char*)x->data + (size_t)offset * es, src_str,
                   out.dims, out.rank, es, NULL);
    return EMBER_OK;
}

const em_op_def em_op_slice = {
    .name = "Slice", .min_inputs = 1, .max_inputs = 5, .min_outputs = 1, .max_outputs = 1,
    .params_size = sizeof(slice_params), .init = slice_init, .infer = slice_infer,
    .run = slice_run,
};
