/* Unary operators: Sqrt, Exp, Log, Neg, Abs, Reciprocal, Relu, LeakyRelu, Elu,
 * Sigmoid, Tanh, HardSigmoid, HardSwish, Gelu, Erf. All f32; Neg, Abs and Relu
 * also i32 and i64. */
#include <math.h>
#include <string.h>

#include "dispatch.h"
#include "threadpool.h"
#include "ew_common.h"
#include "unary_act.h"

typedef struct unary_params {
    ember_unary_op op;
    float alpha;
    float beta;
} unary_params;

static ember_status set_op(void* params, ember_unary_op op) {
    unary_params* p = params;
    p->op = op;
    p->alpha = p->beta = 0.0f;
    return EMBER_OK;
}

#define SIMPLE_INIT(fn, OP) \
    static ember_status fn(em_op_ctx* ctx, void* p) { (void)ctx; return set_op(p, OP); }

SIMPLE_INIT(sqrt_init, EMBER_UNARY_SQRT)
SIMPLE_INIT(exp_init, EMBER_UNARY_EXP)
SIMPLE_INIT(log_init, EMBER_UNARY_LOG)
SIMPLE_INIT(neg_init, EMBER_UNARY_NEG)
SIMPLE_INIT(abs_init, EMBER_UNARY_ABS)
SIMPLE_INIT(reciprocal_init, EMBER_UNARY_RECIPROCAL)
SIMPLE_INIT(relu_init, EMBER_UNARY_RELU)
SIMPLE_INIT(sigmoid_init, EMBER_UNARY_SIGMOID)
SIMPLE_INIT(tanh_init, EMBER_UNARY_TANH)
SIMPLE_INIT(hard_swish_init, EMBER_UNARY_HARD_SWISH)
SIMPLE_INIT(erf_init, EMBER_UNARY_ERF)

static ember_status leaky_relu_init(em_op_ctx* ctx, void* params) {
    unary_params* p = params;
    set_op(p, EMBER_UNARY_LEAKY_RELU);
    return em_attr_float(ctx, "alpha", 0.01f, &p->alpha);
}

static ember_status elu_init(em_op_ctx* ctx, void* params) {
    unary_params* p = params;
    set_op(p, EMBER_UNARY_ELU);
    return em_attr_float(ctx, "alpha", 1.0f, &p->alpha);
}

static ember_status hard_sigmoid_init(em_op_ctx* ctx, void* params) {
    unary_params* p = params;
    set_op(p, EMBER_UNARY_HARD_SIGMOID);
    ember_status st = em_attr_float(ctx, "alpha", 0.2f, &p->alpha);
    if (st == EMBER_OK) st = em_attr_float(ctx, "beta", 0.5f, &p->beta);
    return st;
}

static ember_status gelu_init(em_op_ctx* ctx, void* params) {
    unary_params* p = params;
    const char* approx;
    ember_status st = em_attr_string(ctx, "approximate", "none", &approx);
    if (st != EMBER_OK) return st;
    if (strcmp(approx, "none") == 0)
        set_op(p, EMBER_UNARY_GELU);
    else if (strcmp(approx, "tanh") == 0)
        set_op(p, EMBER_UNARY_GELU_TANH);
    else
        return em_op_fail(ctx, EMBER_ERROR_INVALID_MODEL,
                          "attribute 'approximate' must be \"none\" or \"tanh\", got \"%s\"",
                          approx);
    return EMBER_OK;
}

static bool int_capable(ember_unary_op op) {
    return op == EMBER_UNARY_NEG || op == EMBER_UNARY_ABS || op == EMBER_UNARY_RELU;
}

static ember_status unary_infer(em_op_ctx* ctx) {
    const unary_params* p = ctx->params;
    ember_status st = int_capable(p->op)
                          ? ew_expect_dtypes(ctx, 0,
                                             EW_DT(EMBER_DTYPE_F32) | EW_DT(EMBER_DTYPE_I32) |
                                                 EW_DT(EMBER_DTYPE_I64),
                                             "f32, i32 or i64")
                          : ew_expect_dtypes(ctx, 0, EW_DT(EMBER_DTYPE_F32), "f32");
    if (st != EMBER_OK) return st;
    ctx->outputs[0]->dtype = ctx->inputs[0]->dtype;
    ctx->outputs[0]->shape = ctx->inputs[0]->shape;
    return EMBER_OK;
}

/* The dispatched vector kernel of op, or -1 when it has none. */
static int vop_of(ember_unary_op op) {
    switch (op) {
    case EMBER_UNARY_RELU: return EMBER_VOP_RELU;
    case EMBER_UNARY_LEAKY_RELU: return EMBER_VOP_LEAKY_RELU;
    case EMBER_UNARY_SIGMOID: return EMBER_VOP_SIGMOID;
    case EMBER_UNARY_TANH: return EMBER_VOP_TANH;
    case EMBER_UNARY_HARD_SIGMOID: return EMBER_VOP_HARD_SIGMOID;
    case EMBER_UNARY_HARD_SWISH: return EMBER_VOP_HARD_SWISH;
    case EMBER_UNARY_EXP: return EMBER_VOP_EXP;
    case EMBER_UNARY_ERF: return EMBER_VOP_ERF;
    case EMBER_UNARY_GELU: return EMBER_VOP_GELU;
    case EMBER_UNARY_GELU_TANH: return EMBER_VOP_GELU_TANH;
    default: return -1;
    }
}

/* The f32 vector path on the session's threads, in chunks (em_pool_run_chunks);
 * under 32K elements on the caller's thread. */
typedef struct vun_job {
    ember_f32_vunary_fn fn;
    const float* x;
    float* y;
    float alpha, beta;
} vun_job;

static void vun_chunk(void* arg, size_t i0, size_t len) {
    const vun_job* j = arg;
    j->fn(len, j->x + i0, j->y + i0, j->alpha, j->beta);
}

static void vunary_run(em_op_ctx* ctx, ember_f32_vunary_fn fn, size_t n, const float* x, float* y,
                       float alpha, float beta) {
    vun_job j = {.fn = fn, .x = x, .y = y, .alpha = alpha, .beta = beta};
    em_pool_run_chunks(ctx->pool, n, (size_t)1 << 14, vun_chunk, &j);
}

static ember_status unary_run(em_op_ctx* ctx) {
    const unary_params* p = ctx->params;
    const em_value* x = ctx->inputs[0];
    const size_t n = em_shape_count(&x->shape);
    void* y = ctx->outputs[0]->data;
    switch (x->dtype) {
    case EMBER_DTYPE_F32: {
        const int v = vop_of(p->op);
        if (v >= 0) {
            vunary_run(ctx, em_kern(ctx)->f32_elementwise.unary[v], n, x->data, y,
                       p->alpha, p->beta);
            ctx->kernel = "vunary";
        } else
            ember_f32_unary_ref(p->op, p->alpha, p->beta, n, x->data, y);
        break;
    }
    case EMBER_DTYPE_I32: ember_i32_unary_ref(p->op, n, x->data, y); break;
    case EMBER_DTYPE_I64: ember_i64_unary_ref(p->op, n, x->data, y); break;
    default:
        return em_op_fail(ctx, EMBER_ERROR_RUNTIME, "unexpected dtype %s",
                          ember_dtype_name(x->dtype));
    }
    return EMBER_OK;
}

bool em_unary_gemm_act(const em_node* nd, ember_f32_gemm_extra* ex) {
    if (nd->op->run != unary_run || !nd->params) return false;
    const unary_params* p = nd->params;
    ember_f32_gemm_extra e = {0};
    switch (p->op) {
    case EMBER_UNARY_RELU: /* max(0, x) + 0, as OP_relu: NaN stays, -0 -> +0 */
        e.clamp = e.zero_plus = 1;
        e.lo = 0.0f;
        e.hi = INFINITY;
        break;
    case EMBER_UNARY_SIGMOID: e.act = EMBER_GEMM_ACT_SIGMOID; break;
    case EMBER_UNARY_HARD_SWISH: e.act = EMBER_GEMM_ACT_HARD_SWISH; break;
    case EMBER_UNARY_GELU: e.act = EMBER_GEMM_ACT_GELU; break;
    default: return false;
    }
    if (ex) {
        ex->clamp = e.clamp;
        ex->zero_plus = e.zero_plus;
        ex->lo = e.lo;
        ex->hi = e.hi;
        ex->act = e.act;
    }
    return true;
}

#define UNARY_DEF(sym, NAME, INIT)                                                              \
    const em_op_def sym = {                                                                     \
        .name = NAME, .min_inputs = 1, .max_inputs = 1, .min_outputs = 1, .max_outputs = 1,     \
        .params_size = sizeof(unary_params), .fusable = false,                                  \
        .init = INIT, .infer = unary_infer, .run = unary_run,                                   \
    }

UNARY_DEF(em_op_sqrt, "Sqrt", sqrt_init);
UNARY_DEF(em_op_exp, "Exp", exp_init);
UNARY_DEF(em_op_log, "Log", log_init);
UNARY_DEF(em_op_neg, "Neg", neg_init);
UNARY_DEF(em_op_abs, "Abs", abs_init);
UNARY_DEF(em_op_reciprocal, "Reciprocal", reciprocal_init);
UNARY_DEF(em_op_relu, "Relu", relu_init);
UNARY_DEF(em_op_leaky_relu, "LeakyRelu", leaky_relu_init);
UNARY_DEF(em_op_elu, "Elu", elu_init);
UNARY_DEF(em_op_sigmoid, "Sigmoid", sigmoid_init);
UNARY_DEF(em_op_tanh, "Tanh", tanh_init);
UNARY_DEF(em_op_hard_sigmoid, "HardSigmoid", hard_sigmoid_init);
UNARY_DEF(em_op_hard_swish, "HardSwish", hard_swish_init);
UNARY_DEF(em_op_gelu, "Gelu", gelu_init);
UNARY_DEF(em_op_erf, "Erf", erf_init);
