/* Gemm and MatMul on the dispatched, packed GEMM (f32_gemm.h); the packing
 * workspace is the node's scratch, sized in infer. A constant B (a weight) is
 * packed once per model (packed_bytes / pack) and read in place by every run;
 * M == 1 then streams the packed panels as a matrix-vector product. The fused
 * activation is applied by em_node_run. */
#include <string.h>

#include "f32_gemm.h"
#include "internal.h"
#include "matmul_bias.h"
#include "../elementwise/unary_act.h"
#include "nn_window.h"
#include "threadpool.h"

/* ---------------- Gemm ---------------- */

typedef struct gemm_params {
    float alpha, beta;
    int64_t trans_a, trans_b;
} gemm_params;

static ember_status gemm_init(em_op_ctx* ctx, void* params) {
    gemm_params* p = params;
    ember_status st;
    if ((st = em_attr_float(ctx, "alpha", 1.0f, &p->alpha)) ||
        (st = em_attr_float(ctx, "beta", 1.0f, &p->beta)) ||
        (st = em_attr_int(ctx, "transA", 0, &p->trans_a)) ||
        (st = em_attr_int(ctx, "transB", 0, &p->trans_b)))
        return st;
    if ((p->trans_a != 0 && p->trans_a != 1) || (p->trans_b != 0 && p->trans_b != 1))
        return em_op_fail(ctx, EMBER_ERROR_INVALID_MODEL,
                          "attributes 'transA' and 'transB' must be 0 or 1, got %lld and %lld",
                          (long long)p->trans_a, (long long)p->trans_b);
    return EMBER_OK;
}

typedef struct gemm_dims {
    size_t m, n, k;
} gemm_dims;

static ember_status gemm_dims_of(em_op_ctx* ctx, gemm_dims* d) {
    const gemm_params* p = ctx->params;
    const em_value* a = ctx->inputs[0];
    const em_value* b = ctx->inputs[1];
    const em_value* c = ctx->n_inputs > 2 ? ctx->inputs[2] : NULL;
    ember_status st;
    if ((st = em_expect_dtype(ctx, 0, EMBER_DTYPE_F32)) || (st = em_expect_dtype(ctx, 1, EMBER_DTYPE_F32)))
        return st;
    if (c && (st = em_expect_dtype(ctx, 2, EMBER_DTYPE_F32))) return st;
    if (a->shape.rank != 2 || b->shape.rank != 2)
        return em_op_fail(ctx, EMBER_ERROR_SHAPE_MISMATCH,
                          "A and B must be 2-D matrices, got ranks %d and %d", a->shape.rank,
                          b->shape.rank);
    const int64_t m = a->shape.dims[p->trans_a ? 1 : 0], ka = a->shape.dims[p->trans_a ? 0 : 1];
    const int64_t kb = b->shape.dims[p->trans_b ? 1 : 0], n = b->shape.dims[p->trans_b ? 0 : 1];
    if (ka != kb)
        return em_op_fail(ctx, EMBER_ERROR_SHAPE_MISMATCH,
                          "inner dimensions differ: A gives K = %lld (transA=%lld), B gives K = %lld "
                          "(transB=%lld)", (long long)ka, (long long)p->trans_a, (long long)kb,
                          (long long)p->trans_b);
    if (c) {
        const int64_t want[2] = {m, n};
        bool ok = c->shape.rank <= 2;
        for (int i = 0; ok && i < c->shape.rank; i++) {
            const int64_t v = c->shape.dims[i], w = want[2 - c->shape.rank + i];
            ok = v == w || v == 1;
        }
        if (!ok) {
            char buf[128];
            return em_op_fail(ctx, EMBER_ERROR_SHAPE_MISMATCH,
                              "C of shape %s cannot be broadcast to the output [%lld,%lld]",
                              em_shape_str(&c->shape, buf, sizeof buf), (long long)m, (long long)n);
        }
    }
    d->m = (size_t)m;
    d->n = (size_t)n;
    d->k = (size_t)ka;
    return EMBER_OK;
}

static ember_status gemm_infer(em_op_ctx* ctx) {
    gemm_dims d = {0, 0, 0};
    ember_status st = gemm_dims_of(ctx, &d);
    if (st != EMBER_OK) return st;
    ctx->outputs[0]->dtype = EMBER_DTYPE_F32;
    ctx->outputs[0]->shape = (em_shape){.rank = 2, .dims = {(int64_t)d.m, (int64_t)d.n}};
    ctx->scratch_bytes = ember_f32_gemm_workspace_size(em_kern(ctx), d.m, d.n, d.k);
    return EMBER_OK;
}

static ember_status gemm_run(em_op_ctx* ctx) {
    const gemm_params* p = ctx->params;
    gemm_dims d = {0, 0, 0};
    ember_status st = gemm_dims_of(ctx, &d);
    if (st != EMBER_OK) return st;
    const em_value* c = ctx->n_inputs > 2 ? ctx->inputs[2] : NULL;
    const float* a = ctx->inputs[0]->data;
    const float* b = ctx->inputs[1]->data;
    float* y = ctx->outputs[0]->data;
    const size_t a_rs = p->trans_a ? 1 : d.k, a_cs = p->trans_a ? d.m : 1;
    float beta = 0.0f;
    if (ctx->packed && c && p->beta == 1.0f && c->shape.rank >= 1 &&
        em_shape_count(&c->shape) == d.n &&
        c->shape.dims[c->shape.rank - 1] == (int64_t)d.n) {
        /* a bias vector (a Linear layer): added to each tile in the output
         * pass, as an Add after the product would add it */
        const ember_f32_gemm_extra ex = {.col_bias = c->data};
        ember_f32_gemm_prepacked_b_ex_mt(ctx->pool, em_kern(ctx), d.m, d.n, d.k, p->alpha, a,
                                         a_rs, a_cs, ctx->packed, 0.0f, y, d.n, &ex, ctx->scratch);
        ctx->kernel = d.m == 1 ? "gemv+bias" : "gemm+bias";
        return EMBER_OK;
    }
    if (c && p->beta != 0.0f) {
        /* Y starts as C broadcast to [M, N]; the kernel then scales it by beta. */
        const float* cd = c->data;
        const int r = c->shape.rank;
        const size_t cm = r == 2 ? (size_t)c->shape.dims[0] : 1;
        const size_t cn = r >= 1 ? (size_t)c->shape.dims[r - 1] : 1;
        for (size_t i = 0; i < d.m; i++)
            for (size_t j = 0; j < d.n; j++)
                y[i * d.n + j] = cd[(cm == 1 ? 0 : i) * cn + (cn == 1 ? 0 : j)];
        beta = p->beta;
    }
    ctx->kernel = d.m == 1 || d.n == 1 ? "gemv" : "gemm";
    const size_t b_rs = p->trans_b ? 1 : d.n, b_cs = p->trans_b ? d.k : 1;
    if (ctx->packed) { /* B packed once for the model */
        ember_f32_gemm_prepacked_b_mt(ctx->pool, em_kern(ctx), d.m, d.n, d.k, p->alpha,
                                      a, a_rs, a_cs, ctx->packed, beta, y, d.n, ctx->scratch);
        return EMBER_OK;
    }
    ember_f32_gemm_mt(ctx->pool, em_kern(ctx), d.m, d.n, d.k, p->alpha, a, a_rs, a_cs,
                      b, b_rs, b_cs, beta, y, d.n, ctx->scratch);
    return EMBER_OK;
}

/* A constant B with N > 1 is packed (N == 1 runs as a matrix-vector product on B as stored). */
static size_t gemm_packed_bytes(em_op_ctx* ctx) {
    gemm_dims d = {0, 0, 0};
    if (gemm_dims_of(ctx, &d) != EMBER_OK || !ctx->inputs[1]->data || d.n < 2) return 0;
    return ember_f32_gemm_packed_b_size(em_kern(ctx), d.n, d.k);
}

static ember_status gemm_pack(em_op_ctx* ctx, void* dst) {
    const gemm_params* p = ctx->params;
    gemm_dims d = {0, 0, 0};
    ember_status st = gemm_dims_of(ctx, &d);
    if (st != EMBER_OK) return st;
    ember_f32_gemm_pack_b_full(em_kern(ctx), d.n, d.k, ctx->inputs[1]->data,
                               p->trans_b ? 1 : d.n, p->trans_b ? d.k : 1, dst);
    return EMBER_OK;
}

const em_op_def em_op_gemm = {
    .name = "Gemm", .min_inputs = 2, .max_inputs = 3, .min_outputs = 1, .max_outputs = 1,
    .params_size = sizeof(gemm_params), .fusable = true,
    .init = gemm_init, .infer = gemm_infer, .run = gemm_run,
    .packed_bytes = gemm_packed_bytes, .pack = gemm_pack,
};

/* ---------------- MatMul ---------------- */

typedef struct matmul_plan {
    size_t m, n, k;
    em_shape batch, a_batch, b_batch; /* broadcast batch shape and each operand's */
    em_shape out;
} matmul_plan;

static ember_status matmul_plan_make(em_op_ctx* ctx, matmul_plan* pl) {
    const em_value* a = ctx->inputs[0];
    const em_value* b = ctx->inputs[1];
    ember_status st;
    if ((st = em_expect_dtype(ctx, 0, EMBER_DTYPE_F32)) || (st = em_expect_dtype(ctx, 1, EMBER_DTYPE_F32)))
        return st;
    const int ra = a->shape.rank, rb = b->shape.rank;
    if (ra < 1 || rb < 1)
        return em_op_fail(ctx, EMBER_ERROR_SHAPE_MISMATCH,
                          "MatMul operands must have rank >= 1, got ranks %d and %d", ra, rb);
    const int64_t m = ra == 1 ? 1 : a->shape.dims[ra - 2], ka = a->shape.dims[ra - 1];
    const int64_t kb = rb == 1 ? b->shape.dims[0] : b->shape.dims[rb - 2];
    const int64_t n = rb == 1 ? 1 : b->shape.dims[rb - 1];
    if (ka != kb) {
        char sa[128], sb[128];
        return em_op_fail(ctx, EMBER_ERROR_SHAPE_MISMATCH,
                          "inner dimensions differ: A %s has K = %lld, B %s has K = %lld",
                          em_shape_str(&a->shape, sa, sizeof sa), (long long)ka,
                          em_shape_str(&b->shape, sb, sizeof sb), (long long)kb);
    }
    pl->a_batch = (em_shape){.rank = ra > 2 ? ra - 2 : 0};
    pl->b_batch = (em_shape){.rank = rb > 2 ? rb - 2 : 0};
    memcpy(pl->a_batch.dims, a->shape.dims, sizeof(int64_t) * (size_t)pl->a_batch.rank);
    memcpy(pl->b_batch.dims, b->shape.dims, sizeof(int64_t) * (size_t)pl->b_batch.rank);
    const em_shape* shapes[2] = {&pl->a_batch, &pl->b_batch};
    if ((st = em_broadcast(ctx, 2, shapes, &pl->batch))) {
        char sa[128], sb[128];
        return em_op_fail(ctx, EMBER_ERROR_SHAPE_MISMATCH,
                          "batch dims of A %s and B %s cannot be broadcast together",
                          em_shape_str(&a->shape, sa, sizeof sa), em_shape_str(&b->shape, sb, sizeof sb));
    }
    pl->out = pl->batch;
    if (ra > 1) pl->out.dims[pl->out.rank++] = m;
    if (rb > 1) pl->out.dims[pl->out.rank++] = n;
    pl->m = (size_t)m;
    pl->n = (size_t)n;
    pl->k = (size_t)ka;
    return EMBER_OK;
}

/* When B is one matrix for every batch entry and A is not broadcast, the batch
 * folds into M: one GEMM of (batches * m) rows shares one packing of B. Returns
 * that row count, or m when the batch cannot fold. */
static size_t matmul_flat_m(const matmul_plan* pl) {
    const size_t batches = em_shape_count(&pl->batch);
    if (em_shape_count(&pl->b_batch) == 1 && em_shape_count(&pl->a_batch) == batches)
        return batches * pl->m;
    return pl->m;
}

/* Workspace of one batch entry's product, rounded to whole cache lines (one a
 * thread when the batch is shared out). */
static size_t matmul_batch_ws(const em_op_ctx* ctx, const matmul_plan* pl) {
    const size_t b = ember_f32_gemm_workspace_size(em_kern(ctx), pl->m, pl->n, pl->k);
    return (b + EM_ALIGN - 1) / EM_ALIGN * EM_ALIGN;
}

static ember_status matmul_infer(em_op_ctx* ctx) {
    matmul_plan pl;
    ember_status st = matmul_plan_make(ctx, &pl);
    if (st != EMBER_OK) return st;
    ctx->outputs[0]->dtype = EMBER_DTYPE_F32;
    ctx->outputs[0]->shape = pl.out;
    /* The flattened case (matmul_flat_m), which covers the per-batch one, or a
     * per-batch workspace for each thread when the batch is shared out. */
    size_t bytes =
        ember_f32_gemm_workspace_size(em_kern(ctx), matmul_flat_m(&pl), pl.n, pl.k);
    const size_t batches = em_shape_count(&pl.batch);
    if (matmul_flat_m(&pl) == pl.m && batches > 1 && ctx->threads > 1) {
        uint64_t per;
        if (!em_mul_u64(matmul_batch_ws(ctx, &pl), ctx->threads, &per) || per > (uint64_t)SIZE_MAX / 4)
            return em_op_fail(ctx, EMBER_ERROR_LIMIT_EXCEEDED, "MatMul workspace is too large");
        if (per > bytes) bytes = (size_t)per;
    }
    ctx->scratch_bytes = bytes;
    return EMBER_OK;
}

/* A batch of separate products (operands of entry t at a + oa(t) * a_mat, b +
 * ob(t) * b_mat): entries shared out over the threads, each product on one
 * thread with that thread's workspace. ember_f32_gemm_mt gives the same bits as
 * ember_f32_gemm, so the split does not change the results. */
typedef struct matmul_job {
    const matmul_plan* pl;
    const ember_kernels* kern;
    const int64_t *sa, *sb;   /* broadcast strides of A's and B's batch dims */
    const float *a, *b;
    float* y;
    unsigned char* ws;
    size_t ws_bytes, batches, tasks;
} matmul_job;

/* The matrix offsets of A and B for batch entry t. */
static void matmul_offsets(const matmul_job* j, size_t t, size_t* oa, size_t* ob) {
    *oa = *ob = 0;
    for (int d = j->pl->batch.rank - 1; d >= 0; d--) {
        const size_t dim = (size_t)j->pl->batch.dims[d], i = t % dim;
        t /= dim;
        *oa += i * (size_t)j->sa[d];
        *ob += i * (size_t)j->sb[d];
    }
}

static void matmul_task(void* arg, size_t task, size_t thread) {
    const matmul_job* j = arg;
    const matmul_plan* pl = j->pl;
    const size_t t0 = j->batches * task / j->tasks, t1 = j->batches * (task + 1) / j->tasks;
    for (size_t t = t0; t < t1; t++) {
        size_t oa, ob;
        matmul_offsets(j, t, &oa, &ob);
        ember_f32_gemm(j->kern, pl->m, pl->n, pl->k, 1.0f, j->a + oa * pl->m * pl->k, pl->k, 1,
                       j->b + ob * pl->k * pl->n, pl->n, 1, 0.0f, j->y + t * pl->m * pl->n, pl->n,
                       j->ws + thread * j->ws_bytes);
    }
}

static ember_status matmul_run(em_op_ctx* ctx) {
    matmul_plan pl;
    ember_status st = matmul_plan_make(ctx, &pl);
    if (st != EMBER_OK) return st;
    const float* a = ctx->inputs[0]->data;
    const float* b = ctx->inputs[1]->data;
    float* y = ctx->outputs[0]->data;
    int64_t sa[EMBER_MAX_RANK], sb[EMBER_MAX_RANK], idx[EMBER_MAX_RANK] = {0};
    em_broadcast_strides(&pl.a_batch, &pl.batch, sa);
    em_broadcast_strides(&pl.b_batch, &pl.batch, sb);
    const size_t batches = em_shape_count(&pl.batch);
    const size_t a_mat = pl.m * pl.k, b_mat = pl.k * pl.n, y_mat = pl.m * pl.n;
    const ember_kernels* kern = em_kern(ctx);
    const size_t flat_m = matmul_flat_m(&pl);
    ctx->kernel = flat_m == 1 || pl.n == 1 ? "gemv" : "gemm";
    if (ctx->packed && (flat_m != pl.m || batches == 1)) { /* B packed once for the model */
        ember_f32_gemm_prepacked_b_mt(ctx->pool, kern, flat_m, pl.n, pl.k, 1.0f, a, pl.k, 1,
                                      ctx->packed, 0.0f, y, pl.n, ctx->scratch);
        return EMBER_OK;
    }
    if (flat_m != pl.m || batches == 1) {
        ember_f32_gemm_mt(ctx->pool, kern, flat_m, pl.n, pl.k, 1.0f, a, pl.k, 1, b, pl.n, 1, 0.0f,
                          y, pl.n, ctx->scratch);
        return EMBER_OK;
    }
    const size_t threads = em_pool_threads(ctx->pool);
    if (threads > 1 && batches >= threads && ctx->scratch_bytes >= threads * matmul_batch_ws(ctx, &pl)) {
        /* a whole product a thread: no fork and join per entry */
        matmul_job j = {.pl = &pl, .kern = kern, .sa = sa, .sb = sb, .a = a, .b = b, .y = y,
                        .ws = ctx->scratch, .ws_bytes = matmul_batch_ws(ctx, &pl), .batches = batches};
        const double flops = 2.0 * (double)pl.m * (double)pl.n * (double)pl.k * (double)batches;
        j.tasks = flops < (double)(1 << 20) ? 1 : batches < 4 * threads ? batches : 4 * threads;
        em_pool_run(j.tasks > 1 ? ctx->pool : NULL, j.tasks, matmul_task, &j);
        return EMBER_OK;
    }
    size_t oa = 0, ob = 0; /* matrix offsets of the current batch entry */
    for (size_t t = 0; t < batches; t++) {
        ember_f32_gemm_mt(ctx->pool, kern, pl.m, pl.n, pl.k, 1.0f, a + oa * a_mat, pl.k, 1,
                          b + ob * b_mat, pl.n, 1, 0.0f, y + t * y_mat, pl.n, ctx->scratch);
        for (int d = pl.batch.rank - 1; d >= 0; d--) { /* next batch index */
            oa += (size_t)sa[d];
            ob += (size_t)sb[d];
            if (++idx[d] < pl.batch.dims[d]) break;
            oa -= (size_t)(sa[d] * pl.batch.dims[d]);
            ob -= (size_t)(sb[d] * pl.batch.dims[d]);
            idx[d] = 0;
        }
    }
    return EMBER_OK;
}

/* A constant 2-D B with N > 1 is packed: the batch then always folds into M. */
static size_t matmul_packed_bytes(em_op_ctx* ctx) {
    matmul_plan pl;
    const em_value* b = ctx->inputs[1];
    if (matmul_plan_make(ctx, &pl) != EMBER_OK || !b->data || b->shape.rank != 2 || pl.n < 2) return 0;
    return ember_f32_gemm_packed_b_size(em_kern(ctx), pl.n, pl.k);
}

static ember_status matmul_pack(em_op_ctx* ctx, void* dst) {
    matmul_plan pl;
    ember_status st = matmul_plan_make(ctx, &pl);
    if (st != EMBER_OK) return st;
    ember_f32_gemm_pack_b_full(em_kern(ctx), pl.n, pl.k, ctx->inputs[1]->data, pl.n, 1,
                               dst);
    return EMBER_OK;
}

const em_op_def em_op_matmul = {
    .name = "MatMul", .min_inputs = 2, .max_inputs = 2, .min_outputs = 1, .max_outputs = 1,
    .params_size = 0, .fusable = true,
    .init = NULL, .infer = matmul_infer, .run = matmul_run,
    .packed_bytes = matmul_packed_bytes, .pack = matmul_pack,
};

/* ---------------- MatMul + bias vector (matmul_bias.h) ---------------- */

/* The bias operand of an Add of the output mm_out (n columns) of MatMul node
 * mm: the other input, if it is a constant f32 tensor of n elements whose
 * shape is [n] or [1, ..., 1, n] of rank at most mm_out's, so that the Add's
 * output is mm_out's shape; else NULL. */
static const em_value* bias_operand(const em_op_ctx* add, const em_node* mm,
                                    const em_shape* mm_out, size_t n) {
    const em_value* b = add->inputs[add->node->inputs[0] == mm->outputs[0] ? 1 : 0];
    if (!b || !b->data || b->dtype != EMBER_DTYPE_F32 || b->shape.rank < 1 ||
        b->shape.rank > mm_out->rank || (size_t)b->shape.dims[b->shape.rank - 1] != n ||
        em_shape_count(&b->shape) != n)
        return NULL;
    return b;
}

size_t em_matmul_bias_scratch(em_op_ctx* add, em_op_ctx* mm) {
    matmul_plan pl;
    if (mm->node->op != &em_op_matmul || add->n_inputs != 2 ||
        add->outputs[0]->dtype != EMBER_DTYPE_F32 || matmul_plan_make(mm, &pl) != EMBER_OK ||
        matmul_packed_bytes(mm) == 0 || !em_shape_equal(&add->outputs[0]->shape, &pl.out) ||
        !bias_operand(add, mm->node, &pl.out, pl.n))
        return 0;
    const size_t bytes = ember_f32_gemm_workspace_size(em_kern(mm), matmul_flat_m(&pl), pl.n, pl.k);
    return bytes ? bytes : 1; /* 0 would mean "no" */
}

ember_status em_matmul_bias_run(em_op_ctx* ctx) {
    char msg[EM_MSG_CAP];
    em_op_ctx mm = em_producer_ctx(ctx, msg);
    matmul_plan pl;
    ember_status st = matmul_plan_make(&mm, &pl);
    if (st != EMBER_OK) return em_op_fail(ctx, st, "its MatMul: %s", msg);
    const em_value* bias = bias_operand(ctx, ctx->producer, &pl.out, pl.n);
    if (!bias || !ctx->producer_packed || !em_shape_equal(&ctx->outputs[0]->shape, &pl.out))
        return em_op_fail(ctx, EMBER_ERROR_RUNTIME,
                          "internal error: MatMul '%s' cannot be fused here", ctx->producer->name);
    ember_f32_gemm_extra ex = {.col_bias = bias->data};
    if (ctx->then && !em_unary_gemm_act(ctx->then, &ex))
        return em_op_fail(ctx, EMBER_ERROR_RUNTIME,
                          "internal error: activation '%s' cannot be fused here", ctx->then->name);
    const size_t flat_m = matmul_flat_m(&pl);
    ember_f32_gemm_prepacked_b_ex_mt(ctx->pool, em_kern(ctx), flat_m, pl.n, pl.k, 1.0f,
                                     mm.inputs[0]->data, pl.k, 1, ctx->producer_packed, 0.0f,
                                     ctx->outputs[0]->data, pl.n, &ex, ctx->scratch);
    /* the profile's name, by the output pass ex does: [activation][gemv] */
    static const char* const names[EMBER_GEMM_ACT_COUNT + 1][2] = {
        [EMBER_GEMM_ACT_NONE] = {"gemm+bias", "gemv+bias"},
        [EMBER_GEMM_ACT_SIGMOID] = {"gemm+bias+sigmoid", "gemv+bias+sigmoid"},
        [EMBER_GEMM_ACT_HARD_SWISH] = {"gemm+bias+hardswish", "gemv+bias+hardswish"},
        [EMBER_GEMM_ACT_SILU] = {"gemm+bias+silu", "gemv+bias+silu"},
        [EMBER_GEMM_ACT_GELU] = {"gemm+bias+gelu", "gemv+bias+gelu"},
        [EMBER_GEMM_ACT_COUNT] = {"gemm+bias+relu", "gemv+bias+relu"}}; /* the clamp */
    ctx->kernel = names[ex.clamp ? EMBER_GEMM_ACT_COUNT : ex.act][flat_m == 1];
    return EMBER_OK;
}

bool em_matmul_bias_then_ok(em_op_ctx* add, const em_node* act) {
    return add->producer && add->producer->op == &em_op_matmul && !add->block &&
           em_unary_gemm_act(act, NULL);
}
