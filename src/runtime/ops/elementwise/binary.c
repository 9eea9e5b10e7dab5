/* Add, Sub, Mul, Div, Pow with numpy broadcasting.
 * Add/Sub/Mul/Div: f32, i32, i64 (both inputs the same dtype; integers wrap,
 * integer Div truncates toward zero and fails on a zero divisor).
 * Pow: f32 base; f32, i32 or i64 exponent. */
#include "dispatch.h"
#include "ew_common.h"
#include "../nn/conv_blocked.h"
#include "../nn/matmul_bias.h"
#include "threadpool.h"

typedef struct binary_params {
    ember_binary_op op;
} binary_params;

#define BINARY_INIT(fn, OP)                                  \
    static ember_status fn(em_op_ctx* ctx, void* params) {   \
        (void)ctx;                                           \
        ((binary_params*)params)->op = OP;                   \
        return EMBER_OK;                                     \
    }

BINARY_INIT(add_init, EMBER_BINARY_ADD)
BINARY_INIT(sub_init, EMBER_BINARY_SUB)
BINARY_INIT(mul_init, EMBER_BINARY_MUL)
BINARY_INIT(div_init, EMBER_BINARY_DIV)
BINARY_INIT(pow_init, EMBER_BINARY_POW)

static ember_status binary_infer(em_op_ctx* ctx) {
    const binary_params* p = ctx->params;
    const em_value* a = ctx->inputs[0];
    const em_value* b = ctx->inputs[1];
    ember_status st;
    if (p->op == EMBER_BINARY_POW) {
        if ((st = ew_expect_dtypes(ctx, 0, EW_DT(EMBER_DTYPE_F32), "f32")) ||
            (st = ew_expect_dtypes(ctx, 1,
                                   EW_DT(EMBER_DTYPE_F32) | EW_DT(EMBER_DTYPE_I32) |
                                       EW_DT(EMBER_DTYPE_I64),
                                   "f32, i32 or i64")))
            return st;
    } else {
        if ((st = ew_expect_dtypes(ctx, 0,
                                   EW_DT(EMBER_DTYPE_F32) | EW_DT(EMBER_DTYPE_I32) |
                                       EW_DT(EMBER_DTYPE_I64),
                                   "f32, i32 or i64")))
            return st;
        if (b->dtype != a->dtype)
            return em_op_fail(ctx, EMBER_ERROR_DTYPE_MISMATCH,
                              "both inputs must have the same dtype: input 0 is %s, input 1 is %s",
                              ember_dtype_name(a->dtype), ember_dtype_name(b->dtype));
    }
    em_shape out;
    if ((st = ew_broadcast_inputs(ctx, 0, 2, &out))) return st;
    ctx->outputs[0]->dtype = a->dtype;
    ctx->outputs[0]->shape = out;
    return EMBER_OK;
}

/* The f32 vector path on the session's threads: whole rows a task, or, for one
 * long row, chunks of it (em_pool_run_chunks); each element is computed alone,
 * so the split does not change the results. Under 16K outputs it stays on the
 * caller's thread. The line was 64K (mobilenet_v3's 50K-output SE scalings,
 * plain then, ran slower on two); the transformer's 32K-output residual Adds,
 * whose operands the two threads of the product before them wrote, run 2 %
 * faster as a whole on two, and mobilenet_v3_small under EMBER_ISA=avx2 (its
 * SE scalings plain) measured the same either way. */
typedef struct vbin_job {
    ember_f32_vbinary_fn fn;
    const em_shape* shapes[2];
    const em_shape* out;
    const float *a, *b;
    float* y;
    size_t rows, tasks;
    size_t inc[2];             /* one row: 1 where the operand is a vector */
} vbin_job;

static void vbin_rows(void* arg, size_t t, size_t thread) {
    (void)thread;
    const vbin_job* j = arg;
    ew_rows r;
    ew_rows_init(&r, 2, j->shapes, j->out);
    const size_t r0 = j->rows * t / j->tasks, r1 = j->rows * (t + 1) / j->tasks;
    for (size_t row = 0; row < r0; row++) ew_rows_next(&r);
    for (size_t row = r0; row < r1; row++, ew_rows_next(&r))
        j->fn(r.inner, j->a + r.off[0], j->b + r.off[1], j->y + row * r.inner);
}

static void vbin_chunk(void* arg, size_t i0, size_t len) {
    const vbin_job* j = arg;
    j->fn(len, j->a + (j->inc[0] ? i0 : 0), j->b + (j->inc[1] ? i0 : 0), j->y + i0);
}

static void vbinary_run(em_op_ctx* ctx, const ew_rows* r, ember_f32_vbinary_fn fn,
                        const em_shape* const* shapes) {
    vbin_job j = {.fn = fn, .shapes = {shapes[0], shapes[1]}, .out = &ctx->outputs[0]->shape,
                  .a = ctx->inputs[0]->data, .b = ctx->inputs[1]->data,
                  .y = ctx->outputs[0]->data, .rows = r->rows, .tasks = 1,
                  .inc = {r->inc[0], r->inc[1]}};
    const size_t threads = em_pool_threads(ctx->pool), min_work = (size_t)1 << 14;
    if (r->rows == 1) { /* the operands' row offsets are 0 */
        em_pool_run_chunks(ctx->pool, r->inner, min_work / 2, vbin_chunk, &j);
        return;
    }
    if (threads > 1 && r->rows >= 2 * threads && r->rows * r->inner >= min_work) {
        j.tasks = 2 * threads;
        em_pool_run(ctx->pool, j.tasks, vbin_rows, &j);
        return;
    }
    ew_rows w = *r;
    for (size_t row = 0; row < r->rows; row++, ew_rows_next(&w))
        fn(r->inner, j.a + w.off[0], j.b + w.off[1], j.y + row * r->inner);
}

/* Whether v is a per-channel operand for x: [N or 1, C, 1, 1]. */
static bool per_channel(const em_value* v, const em_value* x) {
    return v->shape.dims[1] == x->shape.dims[1] && v->shape.dims[2] == 1 && v->shape.dims[3] == 1 &&
           (v->shape.dims[0] == 1 || v->shape.dims[0] == x->shape.dims[0]);
}

/* Add and Mul on channel-blocked operands (em_op_def.blocked): two computed
 * f32 operands of rank 4, of one shape (the blocked tensors match lane for
 * lane and the op runs over their whole storage; the padded lanes stay
 * finite), or for Mul one a per-channel scale [N or 1, C, 1, 1] of the other
 * (Squeeze-and-Excitation). */
static int binary_blocked(em_op_ctx* ctx, bool shapes) {
    const binary_params* p = ctx->params;
    const em_value* a = ctx->inputs[0];
    const em_value* b = ctx->inputs[1];
    if ((p->op != EMBER_BINARY_ADD && p->op != EMBER_BINARY_MUL) || a->data || b->data ||
        a->dtype != EMBER_DTYPE_F32 || b->dtype != EMBER_DTYPE_F32 || a->shape.rank != 4 ||
        b->shape.rank != 4)
        return 0;
    if (!shapes || em_shape_equal(&a->shape, &b->shape)) return 1;
    return p->op == EMBER_BINARY_MUL && (per_channel(b, a) || per_channel(a, b));
}

/* The blocked ops split between threads by space, as the convolutions
 * around them (conv_blocked.c): unit u is a contiguous part of the positions
 * of image u / parts, in every channel block. Elementwise: any split, the
 * same values. same: a op b of one shape (fn); else y = x * s, s one block of
 * lanes per channel block (per image when s_per_image). */
typedef struct blocked_ew_job {
    ember_f32_vbinary_fn fn;
    bool same, s_per_image;
    size_t cb, hw, L, parts;
    const float *a, *b; /* same: the operands; else x and s */
    float* y;
} blocked_ew_job;

static void blocked_ew_task(void* arg, size_t u, size_t thread) {
    (void)thread;
    const blocked_ew_job* j = arg;
    const size_t L = j->L, img = u / j->parts, part = u % j->parts;
    const size_t p0 = j->hw * part / j->parts, p1 = j->hw * (part + 1) / j->parts;
    for (size_t b = 0; b < j->cb; b++) {
        const size_t off = ((img * j->cb + b) * j->hw + p0) * L;
        if (j->same) {
            j->fn((p1 - p0) * L, j->a + off, j->b + off, j->y + off);
            continue;
        }
        const float* sb = j->b + ((j->s_per_image ? img * j->cb : 0) + b) * L;
        const float* x = j->a + off;
        float* y = j->y + off;
        for (size_t q = 0; q < (p1 - p0) * L; q += L)
            for (size_t l = 0; l < L; l++) y[q + l] = x[q + l] * sb[l];
    }
}

static ember_status binary_run_blocked(em_op_ctx* ctx) {
    const binary_params* p = ctx->params;
    const em_value* a = ctx->inputs[0];
    const em_value* b = ctx->inputs[1];
    em_value* y = ctx->outputs[0];
    if (!a->block || !b->block || a->block != ctx->block || b->block != ctx->block)
        return em_op_fail(ctx, EMBER_ERROR_RUNTIME, "internal error: operands not blocked");
    const bool same = em_shape_equal(&a->shape, &b->shape);
    const bool b_scale = !same && per_channel(b, a);
    const em_value* x = same || b_scale ? a : b;
    const em_value* sc = same ? b : b_scale ? b : a;
    if (!same && (p->op != EMBER_BINARY_MUL || !per_channel(sc, x)))
        return em_op_fail(ctx, EMBER_ERROR_RUNTIME, "internal error: blocked operands differ");
    const size_t L = ctx->block, n = (size_t)x->shape.dims[0];
    /* x * s as the plain Mul computes it: a float product (commutative) */
    blocked_ew_job j = {.fn = em_kern(ctx)->f32_elementwise.binary[p->op][0], .same = same,
                        .s_per_image = !same && sc->shape.dims[0] != 1,
                        .cb = ((size_t)x->shape.dims[1] + L - 1) / L,
                        .hw = (size_t)(x->shape.dims[2] * x->shape.dims[3]), .L = L, .parts = 1,
                        .a = x->data, .b = sc->data, .y = y->data};
    /* Split by positions, as the 1x1 convolutions that write these operands
     * split them, from 4096 floats: below ~32K one thread was left to read
     * what the other had written (mobilenet_v2's ten residual Adds at 2
     * threads: 45 -> 29 us, slower than at 1 thread before) */
    const size_t threads = em_pool_threads(ctx->pool);
    if (threads > 1 && n * j.cb * j.hw * L >= ((size_t)1 << 12))
        j.parts = j.hw < threads ? j.hw : threads;
    em_pool_run(j.parts > 1 ? ctx->pool : NULL, n * j.parts, blocked_ew_task, &j);
    ctx->kernel = same ? "vbinary nchw16c" : "scale nchw16c";
    return EMBER_OK;
}

static ember_status binary_run(em_op_ctx* ctx) {
    const binary_params* p = ctx->params;
    if (ctx->producer) /* add_absorb_scratch */
        return ctx->block ? em_conv_residual_run(ctx) : em_matmul_bias_run(ctx);
    if (ctx->block) return binary_run_blocked(ctx);
    const em_value* a = ctx->inputs[0];
    const em_value* b = ctx->inputs[1];
    em_value* y = ctx->outputs[0];
    const em_shape* shapes[2] = {&a->shape, &b->shape};
    ew_rows r;
    ew_rows_init(&r, 2, shapes, &y->shape);
    if (r.rows == 0) return EMBER_OK;

    if (p->op == EMBER_BINARY_DIV && a->dtype != EMBER_DTYPE_F32) {
        const size_t nb = em_shape_count(&b->shape);
        const size_t zeros = a->dtype == EMBER_DTYPE_I32 ? ember_i32_count_zeros_ref(nb, b->data)
                                                         : ember_i64_count_zeros_ref(nb, b->data);
        if (zeros)
            return em_op_fail(ctx, EMBER_ERROR_RUNTIME,
                              "integer division by zero (%zu of the %zu divisors are 0)", zeros,
                              nb);
    }

    if (a->dtype == EMBER_DTYPE_F32 && b->dtype == EMBER_DTYPE_F32 && p->op != EMBER_BINARY_POW &&
        (r.inc[0] || r.inc[1])) { /* the dispatched kernel: vv, vs or sv */
        vbinary_run(ctx, &r,
                    em_kern(ctx)
                        ->f32_elementwise.binary[p->op][r.inc[0] ? (r.inc[1] ? 0 : 1) : 2],
                    shapes);
        ctx->kernel = "vbinary";
        return EMBER_OK;
    }
    for (size_t row = 0; row < r.rows; row++, ew_rows_next(&r)) {
        const size_t oy = row * r.inner;
        if (a->dtype == EMBER_DTYPE_F32) {
            const float* pa = (const float*)a->data + r.off[0];
            float* py = (float*)y->data + oy;
            switch (b->dtype) {
            case EMBER_DTYPE_I32:
                ember_f32_pow_i32_ref(r.inner, pa, r.inc[0], (const int32_t*)b->data + r.off[1],
                                      r.inc[1], py);
                break;
            case EMBER_DTYPE_I64:
                ember_f32_pow_i64_ref(r.inner, pa, r.inc[0], (const int64_t*)b->data + r.off[1],
                                      r.inc[1], py);
                break;
            default: /* Pow, or both operands scalar along the row (the vector
                      * cases went to vbinary_run above) */
                ember_f32_binary_ref(p->op, r.inner, pa, r.inc[0], (const float*)b->data + r.off[1],
                                     r.inc[1], py);
            }
        } else if (a->dtype == EMBER_DTYPE_I32) {
            ember_i32_binary_ref(p->op, r.inner, (const int32_t*)a->data + r.off[0], r.inc[0],
                                 (const int32_t*)b->data + r.off[1], r.inc[1],
                                 (int32_t*)y->data + oy);
        } else {
            ember_i64_binary_ref(p->op, r.inner, (const int64_t*)a->data + r.off[0], r.inc[0],
                                 (const int64_t*)b->data + r.off[1], r.inc[1],
                                 (int64_t*)y->data + oy);
        }
    }
    return EMBER_OK;
}

#define BINARY_DEF(sym, NAME, INIT)                                                             \
    const em_op_def sym = {                                                                     \
        .name = NAME, .min_inputs = 2, .max_inputs = 2, .min_outputs = 1, .max_outputs = 1,     \
        .params_size = sizeof(binary_params), .fusable = false,                                 \
        .init = INIT, .infer = binary_infer, .run = binary_run, .blocked = binary_blocked,      \
    }

/* An Add of a bias vector to the output of a MatMul with a constant weight
 * runs both (ops/nn/matmul_bias.h); on blocked tensors, an Add of a residual
 * to the output of a 1x1 Conv runs both (ops/nn/conv_blocked.h). */
static size_t add_absorb_scratch(em_op_ctx* ctx, em_op_ctx* producer) {
    return ctx->block ? em_conv_residual_scratch(ctx, producer)
                      : em_matmul_bias_scratch(ctx, producer);
}

const em_op_def em_op_add = {
    .name = "Add", .min_inputs = 2, .max_inputs = 2, .min_outputs = 1, .max_outputs = 1,
    .params_size = sizeof(binary_params), .fusable = false,
    .init = add_init, .infer = binary_infer, .run = binary_run, .blocked = binary_blocked,
    .absorb_scratch = add_absorb_scratch, .absorb_any_input = true,
    .then_ok = em_matmul_bias_then_ok,
};
BINARY_DEF(em_op_sub, "Sub", sub_init);
BINARY_DEF(em_op_mul, "Mul", mul_init);
BINARY_DEF(em_op_div, "Div", div_init);
BINARY_DEF(em_op_pow, "Pow", pow_init);
