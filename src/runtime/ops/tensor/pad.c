/* Pad: modes constant, reflect, edge and wrap. Pads (begin values of every
 * padded axis, then end values) may be negative, which crops. Opset 2 gives
 * pads and value as attributes; opset 11+ gives pads as constant input 1, the
 * value as optional input 2 (read at run, so it may be computed) and, since
 * opset 18, the axes as optional constant input 3. */
#include <math.h>
#include <string.h>

#include "generic/tensor_ref.h"
#include "tensor_common.h"

typedef struct pad_params {
    enum ember_pad_mode mode;
    bool attr_form;        /* opset < 11: pads and value are attributes */
    float value;           /* attribute 'value' */
    uint32_t n_pads;
    const int64_t* pads;   /* attribute, in place in the file */
} pad_params;

static ember_status pad_init(em_op_ctx* ctx, void* params) {
    pad_params* p = params;
    const char* mode;
    ember_status st = em_attr_string(ctx, "mode", "constant", &mode);
    if (st != EMBER_OK) return st;
    if (strcmp(mode, "constant") == 0)
        p->mode = EMBER_PAD_CONSTANT;
    else if (strcmp(mode, "reflect") == 0)
        p->mode = EMBER_PAD_REFLECT;
    else if (strcmp(mode, "edge") == 0)
        p->mode = EMBER_PAD_EDGE;
    else if (strcmp(mode, "wrap") == 0)
        p->mode = EMBER_PAD_WRAP;
    else
        return em_op_fail(ctx, EMBER_ERROR_UNSUPPORTED,
                          "mode '%s' is not supported; expected constant, reflect, edge or wrap",
                          mode);
    p->attr_form = ctx->n_inputs == 1;
    if (!p->attr_form) {
        if (em_attr_find(ctx->node, "pads") || em_attr_find(ctx->node, "value"))
            return em_op_fail(ctx, EMBER_ERROR_INVALID_MODEL,
                              "pads/value attributes are not allowed when pads is input 1");
        if (ctx->node->inputs[1] == EM_NONE)
            return em_op_fail(ctx, EMBER_ERROR_INVALID_MODEL, "input 1 (pads) is required");
        return EMBER_OK;
    }
    const char* name = em_attr_find(ctx->node, "pads") ? "pads" : "paddings"; /* opset 1 */
    if (!em_attr_find(ctx->node, name))
        return em_op_fail(ctx, EMBER_ERROR_INVALID_MODEL,
                          "attribute 'pads' is required when there is no pads input");
    st = em_attr_ints(ctx, name, &p->pads, &p->n_pads);
    if (st == EMBER_OK) st = em_attr_float(ctx, "value", 0.0f, &p->value);
    if (st != EMBER_OK) return st;
    if (p->n_pads > 2 * EMBER_MAX_RANK)
        return em_op_fail(ctx, EMBER_ERROR_INVALID_MODEL,
                          "pads has %u entries; at most %d are supported", p->n_pads,
                          2 * EMBER_MAX_RANK);
    return EMBER_OK;
}

/* Begin pads of every dim, and the output shape; fails on anything invalid. */
static ember_status pad_plan(em_op_ctx* ctx, const em_shape* in, int64_t* begin, em_shape* out) {
    const pad_params* p = ctx->params;
    int64_t pads[2 * EMBER_MAX_RANK], axes[EMBER_MAX_RANK];
    uint32_t np, na;
    if (p->attr_form) {
        np = p->n_pads;
        memcpy(pads, p->pads, np * sizeof pads[0]);
    } else {
        ember_status st = em_const_ints(ctx, 1, pads, 2 * EMBER_MAX_RANK, &np);
        if (st != EMBER_OK) return st;
    }
    if (!p->attr_form && ctx->n_inputs > 3 && ctx->inputs[3]) {
        ember_status st = em_const_ints(ctx, 3, axes, EMBER_MAX_RANK, &na);
        if (st != EMBER_OK) return st;
    } else {
        na = (uint32_t)in->rank;
        for (uint32_t i = 0; i < na; i++) axes[i] = i;
    }
    if (np != 2 * na)
        return em_op_fail(ctx, EMBER_ERROR_INVALID_MODEL,
                          "pads has %u entries; expected %u (2 x %s %u)", np, 2 * na,
                          na == (uint32_t)in->rank ? "rank" : "axes", na);
    int64_t end[EMBER_MAX_RANK] = {0};
    for (int32_t d = 0; d < in->rank; d++) begin[d] = 0;
    bool seen[EMBER_MAX_RANK] = {false};
    for (uint32_t i = 0; i < na; i++) {
        int32_t ax;
        ember_status st = em_axis(ctx, axes[i], in->rank, &ax);
        if (st == EMBER_OK) st = em_tensor_mark_axis(ctx, ax, seen, "axes");
        if (st != EMBER_OK) return st;
        begin[ax] = pads[i];
        end[ax] = pads[i + na];
    }
    *out = *in;
    for (int32_t d = 0; d < in->rank; d++) {
        int64_t dim = in->dims[d], b = begin[d], e = end[d], o;
        if (b < -dim || e < -dim || __builtin_add_overflow(dim, b, &o) ||
            __builtin_add_overflow(o, e, &o) || o < 0)
            return em_op_fail(ctx, EMBER_ERROR_SHAPE_MISMATCH,
                              "pads %lld and %lld do not fit dim %d of size %lld", (long long)b,
                              (long long)e, (int)d, (long long)dim);
        if (p->mode != EMBER_PAD_CONSTANT && dim == 0 && o > 0)
            return em_op_fail(ctx, EMBER_ERROR_SHAPE_MISMATCH,
                              "dim %d is empty: only mode constant can pad it", (int)d);
        out->dims[d] = o;
    }
    return EMBER_OK;
}

static ember_status pad_infer(em_op_ctx* ctx) {
    const pad_params* p = ctx->params;
    const em_value* x = ctx->inputs[0];
    ember_status st = em_tensor_known_dtype(ctx, 0);
    if (st != EMBER_OK) return st;
    int64_t begin[EMBER_MAX_RANK];
    em_shape out;
    st = pad_plan(ctx, &x->shape, begin, &out);
    if (st != EMBER_OK) return st;
    const em_value* v = !p->attr_form && ctx->n_inputs > 2 ? ctx->inputs[2] : NULL;
    if (v) {
        if (v->dtype != x->dtype)
            return em_op_fail(ctx, EMBER_ERROR_DTYPE_MISMATCH,
                              "constant_value (input 2) is %s but the data is %s",
                              ember_dtype_name(v->dtype), ember_dtype_name(x->dtype));
        if (v->shape.rank > 1 || em_shape_count(&v->shape) != 1) {
            char b[160];
            return em_op_fail(ctx, EMBER_ERROR_SHAPE_MISMATCH,
                              "constant_value (input 2) must hold one element, got shape %s",
                              em_shape_str(&v->shape, b, sizeof b));
        }
    }
    em_tensor_set_output(ctx, 0, x, &out);
    return EMBER_OK;
}

static uint16_t f32_to_f16(float f) {
    uint32_t x;
    memcpy(&x, &f, 4);
    uint32_t sign = (x >> 16) & 0x8000u, exp = (x >> 23) & 0xFFu, man = x & 0x7FFFFFu;
    if (exp == 0xFF) return (uint16_t)(sign | 0x7C00u | (man ? 0x200u : 0));
    int32_t e = (int32_t)exp - 127 + 15;
    if (e >= 31) return (uint16_t)(sign | 0x7C00u);
    if (e <= 0) { /* subnormal half, or zero */
        if (e < -10) return (uint16_t)sign;
        man |= 0x800000u;
        uint32_t shift = (uint32_t)(14 - e), h = man >> shift, rem = man & ((1u << shift) - 1);
        uint32_t half = 1u << (shift - 1);
        if (rem > half || (rem == half && (h & 1))) h++;
        return (uint16_t)(sign | h);
    }
    uint32_t h = ((uint32_t)e << 10) | (man >> 13), rem = man & 0x1FFFu;
    if (rem > 0x1000u || (rem == 0x1000u && (h & 1))) h++; /* a carry rounds up to inf */
    return (uint16_t)(sign | h);
}

static int64_t saturate(float f, double lo, double hi) {
    if (isnan(f)) return 0;
    double d = nearbyint((double)f);
    return (int64_t)(d < lo ? lo : (d > hi ? hi : d));
}

/* The attribute value in the data's dtype. */
static void value_bytes(float f, ember_dtype dtype, void* out) {
    switch (dtype) {
    case EMBER_DTYPE_F32: memcpy(out, &f, 4); break;
    case EMBER_DTYPE_F16: {
        uint16_t h = f32_to_f16(f);
        memcpy(out, &h, 2);
        break;
    }
    case EMBER_DTYPE_I8: *(int8_t*)out = (int8_t)saturate(f, INT8_MIN, INT8_MAX); break;
    case EMBER_DTYPE_U8: *(uint8_t*)out = (uint8_t)saturate(f, 0, UINT8_MAX); break;
    case EMBER_DTYPE_BOOL: *(uint8_t*)out = f != 0.0f; break;
    case EMBER_DTYPE_I32: {
        int32_t v = (int32_t)saturate(f, INT32_MIN, INT32_MAX);
        memcpy(out, &v, 4);
        break;
    }
    case EMBER_DTYPE_I64: {
        int64_t v = saturate(f, -9223372036854775808.0, 9223372036854774784.0);
        memcpy(out, &v, 8);
        break;
    }
    default: memset(out, 0, 8); break;
    }
}

static ember_status pad_run(em_op_ctx* ctx) {
    const pad_params* p = ctx->params;
    const em_value* x = ctx->inputs[0];
    em_value* y = ctx->outputs[0];
    int64_t begin[EMBER_MAX_RANK];
    em_shape out;
    ember_status st = pad_plan(ctx, &x->shape, begin, &out);
    if (st != EMBER_OK) return st;
    const em_value* v = !p->attr_form && ctx->n_inputs > 2 ? ctx->inputs[2] : NULL;
    uint64_t buf = 0;
    const void* value = &buf;
    if (v)
        value = v->data;
    else if (p->attr_form)
        value_bytes(p->value, x->dtype, &buf);
    ember_pad_ref(y->data, x->data, ember_dtype_size(x->dtype), x->shape.rank, x->shape.dims,
                  out.dims, begin, p->mode, value);
    return EMBER_OK;
}

const em_op_def em_op_pad = {
    .name = "Pad", .min_inputs = 1, .max_inputs = 4, .min_outputs = 1, .max_outputs = 1,
    .params_size = sizeof(pad_params), .init = pad_init, .infer = pad_infer, .run = pad_run,
};
