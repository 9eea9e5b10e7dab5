/* Cast: attribute `to` is an ONNX TensorProto dtype number. Converts between
 * f32, f16, i8, u8, i32, i64 and bool (rules in generic/elementwise_ref.h). */
#include "ew_common.h"

typedef struct cast_params {
    ember_dtype to;
} cast_params;

static const char* onnx_dtype_name(int64_t t) {
    static const char* const names[] = {
        "UNDEFINED", "FLOAT",  "UINT8",  "INT8",      "UINT16",    "INT16",  "INT32",
        "INT64",     "STRING", "BOOL",   "FLOAT16",   "DOUBLE",    "UINT32", "UINT64",
        "COMPLEX64", "COMPLEX128", "BFLOAT16", "FLOAT8E4M3FN", "FLOAT8E4M3FNUZ",
        "FLOAT8E5M2", "FLOAT8E5M2FNUZ", "UINT4", "INT4"};
    return t >= 0 && t < (int64_t)(sizeof names / sizeof names[0]) ? names[t] : "unknown";
}

static ember_dtype from_onnx(int64_t t) {
    switch (t) {
    case 1: return EMBER_DTYPE_F32;
    case 2: return EMBER_DTYPE_U8;
    case 3: return EMBER_DTYPE_I8;
    case 6: return EMBER_DTYPE_I32;
    case 7: return EMBER_DTYPE_I64;
    case 9: return EMBER_DTYPE_BOOL;
    case 10: return EMBER_DTYPE_F16;
    default: return EMBER_DTYPE_UNDEFINED;
    }
}

static ember_status cast_init(em_op_ctx* ctx, void* params) {
    cast_params* p = params;
    if (!em_attr_find(ctx->node, "to"))
        return em_op_fail(ctx, EMBER_ERROR_INVALID_MODEL, "attribute 'to' is required");
    int64_t to;
    ember_status st = em_attr_int(ctx, "to", 0, &to);
    if (st != EMBER_OK) return st;
    p->to = from_onnx(to);
    if (p->to == EMBER_DTYPE_UNDEFINED)
        return em_op_fail(ctx, EMBER_ERROR_UNSUPPORTED,
                          "cannot cast to ONNX dtype %lld (%s): supported are FLOAT, FLOAT16, "
                          "INT8, UINT8, INT32, INT64 and BOOL",
                          (long long)to, onnx_dtype_name(to));
    return EMBER_OK;
}

static ember_status cast_infer(em_op_ctx* ctx) {
    const cast_params* p = ctx->params;
    const em_value* x = ctx->inputs[0];
    /* A probe of zero elements tells whether the kernel knows the source dtype. */
    if (!ember_cast_ref(x->dtype, p->to, 0, NULL, NULL))
        return em_op_fail(ctx, EMBER_ERROR_UNSUPPORTED,
                          "cannot cast from %s: supported are f32, f16, i8, u8, i32, i64 and bool",
                          ember_dtype_name(x->dtype));
    ctx->outputs[0]->dtype = p->to;
    ctx->outputs[0]->shape = x->shape;
    return EMBER_OK;
}

static ember_status cast_run(em_op_ctx* ctx) {
    const cast_params* p = ctx->params;
    const em_value* x = ctx->inputs[0];
    if (!ember_cast_ref(x->dtype, p->to, em_shape_count(&x->shape), x->data,
                        ctx->outputs[0]->data))
        return em_op_fail(ctx, EMBER_ERROR_RUNTIME, "cannot cast from %s to %s",
                          ember_dtype_name(x->dtype), ember_dtype_name(p->to));
    return EMBER_OK;
}

const em_op_def em_op_cast = {
    .name = "Cast", .min_inputs = 1, .max_inputs = 1, .min_outputs = 1, .max_outputs = 1,
    .params_size = sizeof(cast_params), .fusable = false,
    .init = cast_init, .infer = cast_infer, .run = cast_run,
};
