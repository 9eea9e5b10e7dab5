/* ember.Attention: multi-head scaled dot-product attention read straight from
 * a packed query / key / value projection (docs/FORMAT.md, "ember's own
 * operators"). The converter writes it for the subgraph PyTorch exports for
 * nn.MultiheadAttention (three Slices of the in-projection, Reshape,
 * Transpose, a Div by sqrt(head size), MatMul, Softmax, MatMul, Transpose),
 * whose slices and transposes are copies of the activations and whose Div is
 * a pass over Q: here the products read the heads in place with strides.
 *
 * X [S, B, W] (S positions, B batch entries), for head h of entry b:
 *     Q = X[:, b, q_offset + h * hd + (0 .. hd)]          (S x hd)
 *     K = X[:, b, k_offset + h * hd + (0 .. hd)]          (S x hd)
 *     V = X[:, b, v_offset + h * hdv + (0 .. hdv)]        (S x hdv)
 *     Y[:, b * H + h, :] = softmax_rows(scale * Q K^T) V  (Y: [S, B * H, hdv])
 *
 * Each product is the GEMM the unfused graph runs, on the same values (scale
 * applied as the packing's alpha: for a power of two, as the exporters' Div
 * by 8 for a head size of 64, the same bits as the Div), and the same
 * row-wise softmax: the fused node gives the unfused graph's bits.
 *
 * Threads: a task is one head of one entry, or a block of its query rows when
 * there are too few heads for the threads (whole register tiles of rows, never
 * fewer than two, so no block takes the matrix-vector path). */
#include <math.h>
#include <stdint.h>

#include "dispatch.h"
#include "f32_gemm.h"
#include "internal.h"
#include "nn_window.h"
#include "threadpool.h"

typedef struct attention_params {
    int64_t heads, hd, hdv, q_off, k_off, v_off;
    float scale;
} attention_params;

static ember_status attention_init(em_op_ctx* ctx, void* params) {
    attention_params* p = params;
    ember_status st;
    if ((st = em_attr_int(ctx, "num_heads", 0, &p->heads)) ||
        (st = em_attr_int(ctx, "head_size", 0, &p->hd)) ||
        (st = em_attr_int(ctx, "v_head_size", 0, &p->hdv)) ||
        (st = em_attr_int(ctx, "q_offset", -1, &p->q_off)) ||
        (st = em_attr_int(ctx, "k_offset", -1, &p->k_off)) ||
        (st = em_attr_int(ctx, "v_offset", -1, &p->v_off)) ||
        (st = em_attr_float(ctx, "scale", 1.0f, &p->scale)))
        return st;
    const int64_t lim = (int64_t)1 << 30;
    if (p->heads < 1 || p->heads > lim)
        return em_op_fail(ctx, EMBER_ERROR_INVALID_MODEL, "num_heads must be in [1, 2^30], got %lld",
                          (long long)p->heads);
    if (p->hd < 1 || p->hd > lim || p->hdv < 1 || p->hdv > lim)
        return em_op_fail(ctx, EMBER_ERROR_INVALID_MODEL,
                          "head_size and v_head_size must be in [1, 2^30], got %lld and %lld",
                          (long long)p->hd, (long long)p->hdv);
    if (p->q_off < 0 || p->q_off > lim || p->k_off < 0 || p->k_off > lim || p->v_off < 0 ||
        p->v_off > lim)
        return em_op_fail(ctx, EMBER_ERROR_INVALID_MODEL,
                          "q_offset, k_offset and v_offset must be given, in [0, 2^30]; got "
                          "%lld, %lld, %lld",
                          (long long)p->q_off, (long long)p->k_off, (long long)p->v_off);
    if (!isfinite(p->scale))
        return em_op_fail(ctx, EMBER_ERROR_INVALID_MODEL, "scale must be finite");
    return EMBER_OK;
}

/* The geometry of a run. */
typedef struct attention_plan {
    size_t s, b, w, heads, hd, hdv;
    size_t rows;      /* query rows a task (a multiple of mr, or all S) */
    size_t blocks;    /* row blocks a head */
    size_t ws;        /* one thread's scratch: scores, K^T, GEMM workspace (aligned) */
    size_t scores_bytes, kt_bytes;
} attention_plan;

static ember_status attention_plan_make(em_op_ctx* ctx, size_t threads, attention_plan* pl) {
    const attention_params* p = ctx->params;
    ember_status st = em_expect_dtype(ctx, 0, EMBER_DTYPE_F32);
    if (st != EMBER_OK) return st;
    const em_shape* x = &ctx->inputs[0]->shape;
    if (x->rank != 3)
        return em_op_fail(ctx, EMBER_ERROR_SHAPE_MISMATCH,
                          "input must have rank 3 ([positions, batch, features]), got rank %d",
                          (int)x->rank);
    pl->s = (size_t)x->dims[0];
    pl->b = (size_t)x->dims[1];
    pl->w = (size_t)x->dims[2];
    pl->heads = (size_t)p->heads;
    pl->hd = (size_t)p->hd;
    pl->hdv = (size_t)p->hdv;
    const uint64_t qk = (uint64_t)p->heads * (uint64_t)p->hd, v = (uint64_t)p->heads * (uint64_t)p->hdv;
    const struct { const char* name; int64_t off; uint64_t len; } parts[3] = {
        {"q", p->q_off, qk}, {"k", p->k_off, qk}, {"v", p->v_off, v}};
    for (int i = 0; i < 3; i++)
        if ((uint64_t)parts[i].off + parts[i].len > (uint64_t)pl->w)
            return em_op_fail(ctx, EMBER_ERROR_SHAPE_MISMATCH,
                              "the %s heads (features %lld .. %llu) do not fit the input's %zu "
                              "features",
                              parts[i].name, (long long)parts[i].off,
                              (unsigned long long)((uint64_t)parts[i].off + parts[i].len), pl->w);
    /* rows a task: whole heads when there are enough of them */
    const ember_f32_gemm_config* g = &em_kern(ctx)->f32_gemm;
    const size_t mr = g->mr, heads_all = pl->b * pl->heads;
    pl->rows = pl->s;
    if (heads_all < 2 * threads && pl->s >= 2 * mr) {
        const size_t want = (2 * threads + heads_all - 1) / (heads_all ? heads_all : 1);
        size_t r = (pl->s + want - 1) / want;
        r = (r + mr - 1) / mr * mr;
        if (r < pl->s) pl->rows = r;
    }
    /* and at most about 1 MiB of scores a task */
    const size_t cap_rows = ((size_t)1 << 18) / (pl->s ? pl->s : 1) / mr * mr;
    if (cap_rows >= mr && pl->rows > cap_rows) pl->rows = cap_rows;
    else if (cap_rows < mr && pl->rows > mr) pl->rows = mr;
    pl->blocks = pl->rows ? (pl->s + pl->rows - 1) / pl->rows : 0;
    /* a last block of one row would take the matrix-vector path: merge it */
    if (pl->blocks > 1 && pl->s - (pl->blocks - 1) * pl->rows < 2) pl->blocks--;
    /* scratch for the most rows a block can have whatever the threads (the
     * cap, plus a merged last row), so that a run on fewer threads than infer
     * planned for fits */
    const size_t most = (cap_rows >= mr ? (cap_rows < pl->s ? cap_rows : pl->s)
                                        : (mr < pl->s ? mr : pl->s)) + mr;
    uint64_t sc, kt;
    if (!em_mul_u64((uint64_t)most, (uint64_t)pl->s, &sc) ||
        !em_mul_u64((uint64_t)pl->hd, (uint64_t)pl->s, &kt) || sc > ((uint64_t)1 << 40) ||
        kt > ((uint64_t)1 << 40))
        return em_op_fail(ctx, EMBER_ERROR_LIMIT_EXCEEDED, "attention scratch is too large");
    pl->scores_bytes = (size_t)em_align_up((size_t)sc * sizeof(float), EM_ALIGN);
    pl->kt_bytes = (size_t)em_align_up((size_t)kt * sizeof(float), EM_ALIGN);
    const size_t w1 = ember_f32_gemm_workspace_size(em_kern(ctx), most, pl->s, pl->hd);
    const size_t w2 = ember_f32_gemm_workspace_size(em_kern(ctx), most, pl->hdv, pl->s);
    pl->ws = pl->scores_bytes + pl->kt_bytes + (size_t)em_align_up(w1 > w2 ? w1 : w2, EM_ALIGN);
    return EMBER_OK;
}

static ember_status attention_infer(em_op_ctx* ctx) {
    attention_plan pl;
    ember_status st = attention_plan_make(ctx, ctx->threads, &pl);
    if (st != EMBER_OK) return st;
    uint64_t bh, total;
    if (!em_mul_u64((uint64_t)pl.b, (uint64_t)pl.heads, &bh) || bh > (uint64_t)INT64_MAX ||
        !em_mul_u64((uint64_t)pl.ws, (uint64_t)ctx->threads, &total) ||
        total > (uint64_t)SIZE_MAX / 4)
        return em_op_fail(ctx, EMBER_ERROR_LIMIT_EXCEEDED, "attention output or scratch is too large");
    em_value* y = ctx->outputs[0];
    y->dtype = EMBER_DTYPE_F32;
    y->shape.rank = 3;
    y->shape.dims[0] = (int64_t)pl.s;
    y->shape.dims[1] = (int64_t)bh;
    y->shape.dims[2] = (int64_t)pl.hdv;
    ctx->scratch_bytes = (size_t)total;
    return EMBER_OK;
}

typedef struct attention_job {
    const attention_plan* pl;
    const attention_params* p;
    const ember_kernels* kern;
    const float* x;
    float* y;
    unsigned char* scratch;
} attention_job;

/* Task t: row block t % blocks of head (t / blocks) % H of entry t / blocks / H. */
static void attention_task(void* arg, size_t t, size_t thread) {
    const attention_job* j = arg;
    const attention_plan* pl = j->pl;
    const attention_params* p = j->p;
    const size_t blk = t % pl->blocks, h = t / pl->blocks % pl->heads, b = t / pl->blocks / pl->heads;
    const size_t r0 = blk * pl->rows;
    const size_t r1 = blk + 1 == pl->blocks ? pl->s : r0 + pl->rows;
    const size_t m = r1 - r0, s = pl->s, ld = pl->b * pl->w, ldy = pl->b * pl->heads * pl->hdv;
    unsigned char* ws = j->scratch + thread * pl->ws;
    float* scores = (float*)ws;
    float* kt = (float*)(ws + pl->scores_bytes);
    void* gw = ws + pl->scores_bytes + pl->kt_bytes;
    const float* xb = j->x + b * pl->w;
    /* K^T (hd x S): the unfused graph's Transpose, so B is packed from rows */
    j->kern->f32_transpose2d(s, pl->hd, xb + (size_t)p->k_off + h * pl->hd, ld, kt, s);
    ember_f32_gemm(j->kern, m, s, pl->hd, p->scale, xb + r0 * ld + (size_t)p->q_off + h * pl->hd,
                   ld, 1, kt, s, 1, 0.0f, scores, s, gw);
    j->kern->f32_softmax.softmax(m, s, 1, scores, scores);
    ember_f32_gemm(j->kern, m, pl->hdv, s, 1.0f, scores, s, 1,
                   xb + (size_t)p->v_off + h * pl->hdv, ld, 1, 0.0f,
                   j->y + r0 * ldy + (b * pl->heads + h) * pl->hdv, ldy, gw);
}

static ember_status attention_run(em_op_ctx* ctx) {
    attention_plan pl;
    ember_status st = attention_plan_make(ctx, ctx->threads, &pl);
    if (st != EMBER_OK) return st;
    if (ctx->threads * pl.ws > ctx->scratch_bytes) /* more threads than infer planned for */
        return em_op_fail(ctx, EMBER_ERROR_RUNTIME, "internal error: attention scratch too small");
    ctx->kernel = "attention";
    const size_t tasks = pl.b * pl.heads * pl.blocks;
    if (tasks == 0) return EMBER_OK;
    attention_job j = {.pl = &pl, .p = ctx->params, .kern = em_kern(ctx),
                       .x = ctx->inputs[0]->data, .y = ctx->outputs[0]->data,
                       .scratch = ctx->scratch};
    const double flops = 2.0 * (double)pl.s * (double)pl.s * (double)(pl.hd + pl.hdv) *
                         (double)(pl.b * pl.heads);
    em_pool_run(tasks > 1 && flops >= (double)(1 << 20) ? ctx->pool : NULL, tasks, attention_task,
                &j);
    return EMBER_OK;
}

const em_op_def em_op_attention = {
    .name = "ember.Attention", .min_inputs = 1, .max_inputs = 1, .min_outputs = 1,
    .max_outputs = 1, .params_size = sizeof(attention_params), .fusable = false,
    .init = attention_init, .infer = attention_infer, .run = attention_run,
};
