/* Less, LessOrEqual, Greater, GreaterOrEqual, Equal (f32, i32, i64; Equal also
 * bool; output bool) and the variadic Min and Max (f32, i32, i64), all with
 * numpy broadcasting. */
#include <string.h>

#include "ew_common.h"
#include "generic/compare_ref.h"

typedef struct compare_params {
    int op; /* ember_compare_op, or for Min/Max: 0 min, 1 max */
} compare_params;

#define OP_INIT(fn, OP)                                    \
    static ember_status fn(em_op_ctx* ctx, void* params) { \
        (void)ctx;                                         \
        ((compare_params*)params)->op = OP;                \
        return EMBER_OK;                                   \
    }

OP_INIT(less_init, EMBER_CMP_LESS)
OP_INIT(less_equal_init, EMBER_CMP_LESS_EQUAL)
OP_INIT(greater_init, EMBER_CMP_GREATER)
OP_INIT(greater_equal_init, EMBER_CMP_GREATER_EQUAL)
OP_INIT(equal_init, EMBER_CMP_EQUAL)
OP_INIT(min_init, 0)
OP_INIT(max_init, 1)

#define NUMERIC (EW_DT(EMBER_DTYPE_F32) | EW_DT(EMBER_DTYPE_I32) | EW_DT(EMBER_DTYPE_I64))

/* Every input has input 0's dtype, one of mask. */
static ember_status same_dtypes(em_op_ctx* ctx, uint32_t mask, const char* what) {
    ember_status st = ew_expect_dtypes(ctx, 0, mask, what);
    if (st != EMBER_OK) return st;
    for (uint32_t i = 1; i < ctx->n_inputs; i++)
        if (ctx->inputs[i]->dtype != ctx->inputs[0]->dtype)
            return em_op_fail(ctx, EMBER_ERROR_DTYPE_MISMATCH,
                              "all inputs must have the same dtype: input 0 is %s, input %u is %s",
                              ember_dtype_name(ctx->inputs[0]->dtype), i,
                              ember_dtype_name(ctx->inputs[i]->dtype));
    return EMBER_OK;
}

static ember_status compare_infer(em_op_ctx* ctx) {
    const compare_params* p = ctx->params;
    ember_status st = p->op == EMBER_CMP_EQUAL
                          ? same_dtypes(ctx, NUMERIC | EW_DT(EMBER_DTYPE_BOOL), "f32, i32, i64 or bool")
                          : same_dtypes(ctx, NUMERIC, "f32, i32 or i64");
    if (st != EMBER_OK) return st;
    em_shape out;
    if ((st = ew_broadcast_inputs(ctx, 0, 2, &out))) return st;
    ctx->outputs[0]->dtype = EMBER_DTYPE_BOOL;
    ctx->outputs[0]->shape = out;
    return EMBER_OK;
}

static ember_status compare_run(em_op_ctx* ctx) {
    const compare_params* p = ctx->params;
    const em_value* a = ctx->inputs[0];
    const em_value* b = ctx->inputs[1];
    em_value* y = ctx->outputs[0];
    const em_shape* shapes[2] = {&a->shape, &b->shape};
    ew_rows r;
    ew_rows_init(&r, 2, shapes, &y->shape);
    uint8_t* out = y->data;
    for (size_t row = 0; row < r.rows; row++, ew_rows_next(&r), out += r.inner) {
        const ember_compare_op op = (ember_compare_op)p->op;
        switch (a->dtype) {
        case EMBER_DTYPE_F32:
            ember_f32_compare_ref(op, r.inner, (const float*)a->data + r.off[0], r.inc[0],
                                  (const float*)b->data + r.off[1], r.inc[1], out);
            break;
        case EMBER_DTYPE_I32:
            ember_i32_compare_ref(op, r.inner, (const int32_t*)a->data + r.off[0], r.inc[0],
                                  (const int32_t*)b->data + r.off[1], r.inc[1], out);
            break;
        case EMBER_DTYPE_I64:
            ember_i64_compare_ref(op, r.inner, (const int64_t*)a->data + r.off[0], r.inc[0],
                                  (const int64_t*)b->data + r.off[1], r.inc[1], out);
            break;
        default:
            ember_u8_compare_ref(op, r.inner, (const uint8_t*)a->data + r.off[0], r.inc[0],
                                 (const uint8_t*)b->data + r.off[1], r.inc[1], out);
        }
    }
    return EMBER_OK;
}

static ember_status minmax_infer(em_op_ctx* ctx) {
    ember_status st = same_dtypes(ctx, NUMERIC, "f32, i32 or i64");
    if (st != EMBER_OK) return st;
    em_shape out;
    if ((st = ew_broadcast_inputs(ctx, 0, ctx->n_inputs, &out))) return st;
    ctx->outputs[0]->dtype = ctx->inputs[0]->dtype;
    ctx->outputs[0]->shape = out;
    return EMBER_OK;
}

static ember_status minmax_run(em_op_ctx* ctx) {
    const compare_params* p = ctx->params;
    em_value* y = ctx->outputs[0];
    const size_t es = ember_dtype_size(y->dtype);
    ew_rows r;
    /* y = input 0 broadcast, then folded with each further input in turn */
    const em_shape* first[1] = {&ctx->inputs[0]->shape};
    ew_rows_init(&r, 1, first, &y->shape);
    char* dst = y->data;
    for (size_t row = 0; row < r.rows; row++, ew_rows_next(&r), dst += r.inner * es) {
        const char* src = (const char*)ctx->inputs[0]->data + r.off[0] * es;
        if (r.inc[0])
            memcpy(dst, src, r.inner * es);
        else
            for (size_t i = 0; i < r.inner; i++) memcpy(dst + i * es, src, es);
    }
    for (uint32_t k = 1; k < ctx->n_inputs; k++) {
        const em_value* b = ctx->inputs[k];
        const em_shape* shapes[2] = {&y->shape, &b->shape};
        ew_rows_init(&r, 2, shapes, &y->shape);
        for (size_t row = 0; row < r.rows; row++, ew_rows_next(&r)) {
            switch (y->dtype) {
            case EMBER_DTYPE_F32:
                ember_f32_minmax_ref(p->op, r.inner, (float*)y->data + r.off[0],
                                     (const float*)b->data + r.off[1], r.inc[1]);
                break;
            case EMBER_DTYPE_I32:
                ember_i32_minmax_ref(p->op, r.inner, (int32_t*)y->data + r.off[0],
                                     (const int32_t*)b->data + r.off[1], r.inc[1]);
                break;
            default:
                ember_i64_minmax_ref(p->op, r.inner, (int64_t*)y->data + r.off[0],
                                     (const int64_t*)b->data + r.off[1], r.inc[1]);
            }
        }
    }
    return EMBER_OK;
}

#define COMPARE_DEF(sym, NAME, INIT)                                                        \
    const em_op_def sym = {                                                                 \
        .name = NAME, .min_inputs = 2, .max_inputs = 2, .min_outputs = 1, .max_outputs = 1, \
        .params_size = sizeof(compare_params), .init = INIT, .infer = compare_infer,        \
        .run = compare_run,                                                                 \
    }
#define MINMAX_DEF(sym, NAME, INIT)                                                           \
    const em_op_def sym = {                                                                   \
        .name = NAME, .min_inputs = 1, .max_inputs = 255, .min_outputs = 1, .max_outputs = 1, \
        .params_size = sizeof(compare_params), .init = INIT, .infer = minmax_infer,           \
        .run = minmax_run,                                                                    \
    }

COMPARE_DEF(em_op_less, "Less", less_init);
COMPARE_DEF(em_op_less_equal, "LessOrEqual", less_equal_init);
COMPARE_DEF(em_op_greater, "Greater", greater_init);
COMPARE_DEF(em_op_greater_equal, "GreaterOrEqual", greater_equal_init);
COMPARE_DEF(em_op_equal, "Equal", equal_init);
MINMAX_DEF(em_op_min, "Min", min_init);
MINMAX_DEF(em_op_max, "Max", max_init);
