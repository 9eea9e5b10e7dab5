/* Shape arithmetic, broadcasting and the small checks every operator needs. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "op.h"

bool em_mul_u64(uint64_t a, uint64_t b, uint64_t* out) {
    return !__builtin_mul_overflow(a, b, out);
}

bool em_add_u64(uint64_t a, uint64_t b, uint64_t* out) {
    return !__builtin_add_overflow(a, b, out);
}

bool em_shape_numel(const em_shape* s, uint64_t* out) {
    uint64_t n = 1;
    if (s->rank < 0 || s->rank > EMBER_MAX_RANK) return false;
    for (int32_t i = 0; i < s->rank; i++) {
        if (s->dims[i] < 0) return false;
        if (!em_mul_u64(n, (uint64_t)s->dims[i], &n) || n > (uint64_t)INT64_MAX) return false;
    }
    *out = n;
    return true;
}

size_t em_shape_count(const em_shape* s) {
    size_t n = 1;
    for (int32_t i = 0; i < s->rank; i++) n *= (size_t)s->dims[i];
    return n;
}

bool em_shape_equal(const em_shape* a, const em_shape* b) {
    if (a->rank != b->rank) return false;
    for (int32_t i = 0; i < a->rank; i++)
        if (a->dims[i] != b->dims[i]) return false;
    return true;
}

const char* em_shape_str(const em_shape* s, char* buf, size_t cap) {
    size_t used = 0;
    if (cap == 0) return buf;
    buf[0] = '\0';
    used += (size_t)snprintf(buf + used, cap - used, "[");
    for (int32_t i = 0; i < s->rank && used < cap; i++)
        used += (size_t)snprintf(buf + used, cap - used, i ? ",%lld" : "%lld",
                                 (long long)s->dims[i]);
    if (used < cap) snprintf(buf + used, cap - used, "]");
    return buf;
}

ember_status em_op_fail(em_op_ctx* ctx, ember_status status, const char* fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ctx->msg, EM_MSG_CAP, fmt, ap);
    va_end(ap);
    return status;
}

ember_status em_broadcast(em_op_ctx* ctx, uint32_t n, const em_shape* const* shapes,
                          em_shape* out) {
    int32_t rank = 0;
    for (uint32_t k = 0; k < n; k++)
        if (shapes[k]->rank > rank) rank = shapes[k]->rank;
    em_shape r = {.rank = rank};
    for (int32_t d = 0; d < rank; d++) {
        int64_t dim = 1;
        for (uint32_t k = 0; k < n; k++) {
            int32_t off = rank - shapes[k]->rank;
            if (d < off) continue;
            int64_t v = shapes[k]->dims[d - off];
            if (v == dim || v == 1) continue;
            if (dim == 1) {
                dim = v;
                continue;
            }
            char a[128], b[128];
            return em_op_fail(ctx, EMBER_ERROR_SHAPE_MISMATCH,
                              "shapes %s and %s cannot be broadcast together (dimension %d: %lld vs %lld)",
                              em_shape_str(shapes[0], a, sizeof a),
                              em_shape_str(shapes[k], b, sizeof b), (int)d, (long long)dim,
                              (long long)v);
        }
        r.dims[d] = dim;
    }
    *out = r;
    return EMBER_OK;
}

void em_broadcast_strides(const em_shape* in, const em_shape* out, int64_t* strides) {
    int32_t off = out->rank - in->rank;
    int64_t stride = 1;
    for (int32_t d = out->rank - 1; d >= 0; d--) {
        int32_t id = d - off;
        if (id < 0 || in->dims[id] == 1) {
            strides[d] = 0;
        } else {
            strides[d] = stride;
        }
        if (id >= 0) stride *= in->dims[id];
    }
}

ember_status em_axis(em_op_ctx* ctx, int64_t axis, int32_t rank, int32_t* out) {
    if (axis < -(int64_t)rank || axis >= (int64_t)rank)
        return em_op_fail(ctx, EMBER_ERROR_INVALID_MODEL,
                          "axis %lld is out of range for rank %d", (long long)axis, (int)rank);
    *out = (int32_t)(axis < 0 ? axis + rank : axis);
    return EMBER_OK;
}

ember_status em_const_ints(em_op_ctx* ctx, uint32_t input, int64_t* out, uint32_t cap,
                           uint32_t* count) {
    const em_value* v = input < ctx->n_inputs ? ctx->inputs[input] : NULL;
    if (!v)
        return em_op_fail(ctx, EMBER_ERROR_INVALID_MODEL, "input %u is required", input);
    if (!v->data)
        return em_op_fail(ctx, EMBER_ERROR_UNSUPPORTED,
                          "input %u must be a constant (computed shapes are not supported; "
                          "the converter folds them)", input);
    if (v->dtype != EMBER_DTYPE_I64 && v->dtype != EMBER_DTYPE_I32)
        return em_op_fail(ctx, EMBER_ERROR_DTYPE_MISMATCH,
                          "input %u must be i64 or i32, got %s", input, ember_dtype_name(v->dtype));
    if (v->shape.rank > 1)
        return em_op_fail(ctx, EMBER_ERROR_SHAPE_MISMATCH,
                          "input %u must be a scalar or 1-D, got rank %d", input, (int)v->shape.rank);
    size_t n = em_shape_count(&v->shape);
    if (n > cap)
        return em_op_fail(ctx, EMBER_ERROR_SHAPE_MISMATCH,
                          "input %u has %zu elements, at most %u allowed", input, n, cap);
    for (size_t i = 0; i < n; i++)
        out[i] = v->dtype == EMBER_DTYPE_I64 ? ((const int64_t*)v->data)[i]
                                             : ((const int32_t*)v->data)[i];
    *count = (uint32_t)n;
    return EMBER_OK;
}

ember_status em_expect_dtype(em_op_ctx* ctx, uint32_t input, ember_dtype dtype) {
    const em_value* v = input < ctx->n_inputs ? ctx->inputs[input] : NULL;
    if (!v) return em_op_fail(ctx, EMBER_ERROR_INVALID_MODEL, "input %u is required", input);
    if (v->dtype != dtype)
        return em_op_fail(ctx, EMBER_ERROR_DTYPE_MISMATCH, "input %u must be %s, got %s", input,
                          ember_dtype_name(dtype), ember_dtype_name(v->dtype));
    return EMBER_OK;
}
