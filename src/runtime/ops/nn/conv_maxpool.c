/* A stem convolution and the MaxPool after it, in bands; see conv_maxpool.h. */
#include "conv_maxpool.h"

#include <math.h>
#include <string.h>

#include "conv_epilogue.h"
#include "f32_conv1x1_blocked.h"
#include "f32_conv_rows.h"
#include "f32_pool2d.h"
#include "nn_window.h"
#include "threadpool.h"

/* Fused only when the convolution's output is at least this large (the two
 * stems measured are 3.1 and 3.2 MB; smaller outputs stay in cache). */
#define FUSE_MIN_BYTES ((size_t)3 << 20)
/* Convolution rows a band holds: about this many bytes. */
#define BAND_BYTES ((size_t)512 << 10)

static size_t round64(size_t b) { return (b + 63) / 64 * 64; }

typedef struct pair {
    size_t c, m;         /* convolution input and output channels */
    ember_window conv;   /* its window; its output is the pool's image */
    ember_window pool;
    size_t rb, bands;    /* pooled rows a band, bands */
    size_t band_floats;  /* the largest band of convolution rows */
    size_t shared, per_thread;
    /* blocked: the convolution's rows in NCHW16c (the blocked stem kernel's
     * tiles fit 16 / 32 channels, the plain ones use 12-row panels), pooled
     * per block of channels and written back to the planar output; the
     * weights repacked for it per run (at wp_at of the shared scratch) */
    bool blocked;
    size_t wp_at, pooled_at;
} pair;

/* Whether kern runs the pair blocked: the blocked stem and pool kernels and
 * the transposes, and an activation the blocked kernel's epilogue applies. */
static bool blocked_ok(const ember_kernels* kern, const em_op_ctx* conv, const pair* q) {
    const uint32_t act = conv->node->act.kind;
    return kern->f32_conv_rows_blocked && kern->f32_maxpool2d_c16 && kern->f32_dwconv.scatter &&
           kern->f32_dwconv.block == 16 && ember_f32_conv_rows_blocked_applies(kern, q->c, &q->conv) &&
           (act == EMF_ACT_NONE || act == EMF_ACT_RELU || act == EMF_ACT_CLIP ||
            em_conv_gemm_act(&conv->node->act) != EMBER_GEMM_ACT_NONE);
}

/* threads: how many share the bands (each a contiguous run of them): the
 * band count is made a multiple of it, so that the runs are even. */
static bool pair_of(em_op_ctx* conv, const ember_window* pool, size_t threads, pair* q) {
    if (!em_conv_rows_geometry(conv, &q->c, &q->m, &q->conv)) return false;
    const ember_window* p = pool;
    q->pool = *pool;
    if (!ember_f32_pool2d_applies(p) || p->image[0] != 1 || p->image[1] != q->conv.out[1] ||
        p->image[2] != q->conv.out[2] || p->dilation[1] != 1 || p->out[1] == 0 ||
        p->pad[1] < 0 || p->pad[1] >= (ptrdiff_t)p->kernel[1] ||
        p->pad_end[1] >= (ptrdiff_t)p->kernel[1])
        return false; /* (a pooled row reading padding only could not be banded) */
    const size_t row = q->m * p->image[2] * sizeof(float);
    if (row * p->image[1] < FUSE_MIN_BYTES) return false;
    size_t rows = BAND_BYTES / row;
    if (rows < p->kernel[1]) rows = p->kernel[1];
    q->rb = (rows - p->kernel[1]) / p->stride[1] + 1;
    if (q->rb > p->out[1]) q->rb = p->out[1];
    q->bands = (p->out[1] + q->rb - 1) / q->rb;
    if (threads > 1 && q->bands % threads) {
        const size_t want = (q->bands + threads - 1) / threads * threads;
        q->rb = (p->out[1] + want - 1) / want;
        q->bands = (p->out[1] + q->rb - 1) / q->rb;
    }
    q->blocked = blocked_ok(em_kern(conv), conv, q);
    const size_t mb = q->blocked ? (q->m + 15) / 16 * 16 : q->m; /* channels a band buffer holds */
    q->band_floats = 0;
    for (size_t b = 0; b < q->bands; b++) {
        const size_t r0 = b * q->rb, r1 = r0 + q->rb < p->out[1] ? r0 + q->rb : p->out[1];
        size_t e0, e1;
        ember_window wb;
        nn_band_window(p, r0, r1, &e0, &e1, &wb);
        if (e1 <= e0 || !ember_f32_pool2d_applies(&wb)) return false;
        if (mb * (e1 - e0) * p->image[2] > q->band_floats) q->band_floats = mb * (e1 - e0) * p->image[2];
    }
    q->shared = round64(ember_f32_conv_rows_scratch(q->c, &q->conv));
    q->per_thread = 2 * round64(q->band_floats * sizeof(float));
    if (q->blocked) {
        const size_t kdim = q->c * q->conv.kernel[1] * q->conv.kernel[2];
        q->wp_at = q->shared;
        q->shared += round64(ember_f32_conv1x1_blocked_packed_size(16, q->m, kdim));
        q->pooled_at = q->per_thread; /* one block's pooled rows, after the two buffers */
        q->per_thread += round64(q->rb * p->out[2] * 16 * sizeof(float));
    }
    return true;
}

size_t em_conv_maxpool_scratch(em_op_ctx* conv, const ember_window* pool, size_t threads) {
    pair q;
    if (!pair_of(conv, pool, threads, &q)) return 0;
    return q.shared + q.per_thread * (threads ? threads : 1);
}

typedef struct job {
    const ember_kernels* kern;
    const pair* q;
    const float* x;
    const float* ap;
    ember_f32_gemm_extra ex;
    ember_f32_gemm_epilogue ep; /* blocked: ex as the blocked kernel's epilogue */
    const float* wp;            /* blocked: the weights repacked for it */
    unsigned char* scratch;
    float* y;
    size_t tasks;
} job;

/* The blocked band: convolution rows [e0 + have, e1) of the band computed
 * into eb ([blocks][rows][ow][16]), then each block pooled (window wb) into
 * the thread's pooled buffer and written to its 16 planes of the output. */
static void band_blocked(const job* j, float* eb, float* pooled, size_t e0, size_t e1, size_t have,
                         const ember_window* wb, size_t r0) {
    const pair* q = j->q;
    const ember_window* p = &q->pool;
    const size_t ow = p->image[2], poh = p->out[1], pow = p->out[2], rows = e1 - e0;
    const bool any = ember_f32_gemm_has_epilogue(&j->ex);
    if (have < rows)
        ember_f32_conv_rows_run_blocked_into(j->kern, q->c, q->m, &q->conv, j->wp, j->scratch,
                                             any ? &j->ep : NULL, eb + have * ow * 16, rows * ow,
                                             e0 + have, e1);
    for (size_t b = 0; b * 16 < q->m; b++) {
        const size_t nb = q->m - b * 16 < 16 ? q->m - b * 16 : 16;
        j->kern->f32_maxpool2d_c16(wb, eb + b * rows * ow * 16, pooled);
        j->kern->f32_dwconv.scatter(nb, wb->out[1] * pow, pooled, j->y + b * 16 * poh * pow + r0 * pow,
                                    poh * pow);
    }
}

/* Bands [b0, b1) in order on one thread, two buffers: the convolution rows a
 * band shares with the one before are copied across, the rest computed. */
static void band_task(void* arg, size_t t, size_t thread) {
    const job* j = arg;
    const pair* q = j->q;
    const ember_window* p = &q->pool;
    const size_t ow = p->image[2], poh = p->out[1], pow = p->out[2];
    unsigned char* base = j->scratch + q->shared + thread * q->per_thread;
    const size_t buf_bytes = round64(q->band_floats * sizeof(float));
    float* buf[2] = {(float*)base, (float*)(base + buf_bytes)};
    const size_t b0 = q->bands * t / j->tasks, b1 = q->bands * (t + 1) / j->tasks;
    size_t pe0 = 0, pe1 = 0;
    for (size_t b = b0; b < b1; b++) {
        const size_t r0 = b * q->rb, r1 = r0 + q->rb < poh ? r0 + q->rb : poh;
        size_t e0, e1;
        ember_window wb;
        nn_band_window(p, r0, r1, &e0, &e1, &wb);
        float* eb = buf[b & 1];
        const size_t rows = e1 - e0;
        if (q->blocked) { /* planes: blocks of rows of ow * 16 floats */
            const size_t have = nn_band_copy_shared((q->m + 15) / 16, ow * 16, e0, e1,
                                                    b > b0 ? buf[(b - 1) & 1] : NULL, pe0, pe1, eb);
            band_blocked(j, eb, (float*)(base + q->pooled_at), e0, e1, have, &wb, r0);
            pe0 = e0;
            pe1 = e1;
            continue;
        }
        const size_t have = nn_band_copy_shared(q->m, ow, e0, e1, b > b0 ? buf[(b - 1) & 1] : NULL,
                                                pe0, pe1, eb);
        if (have < rows)
            ember_f32_conv_rows_run_into(j->kern, q->c, q->m, &q->conv, j->ap, j->scratch, &j->ex,
                                         eb + have * ow, rows * ow, e0 + have, e1);
        for (size_t c = 0; c < q->m; c++)
            j->kern->f32_maxpool2d(1, &wb, eb + c * rows * ow, j->y + c * poh * pow + r0 * pow);
        pe0 = e0;
        pe1 = e1;
    }
}

ember_status em_conv_maxpool_run(em_op_ctx* ctx, const ember_window* pool) {
    const em_node* pn = ctx->producer;
    char pmsg[EM_MSG_CAP];
    em_op_ctx conv = em_producer_ctx(ctx, pmsg);
    pair q;
    const size_t threads = em_pool_threads(ctx->pool);
    if (!pair_of(&conv, pool, threads, &q) ||
        q.shared + q.per_thread * threads > ctx->scratch_bytes)
        return em_op_fail(ctx, EMBER_ERROR_RUNTIME, "internal error: '%s' cannot be fused here",
                          pn->name);
    const em_value* bias = pn->n_inputs > 2 ? ctx->producer_inputs[2] : NULL;
    const ember_kernels* kern = em_kern(ctx);
    const em_conv_act act_ctx = {.kern = kern, .act = &pn->act};
    job j = {.kern = kern, .q = &q, .x = ctx->producer_inputs[0]->data,
             .ap = ctx->producer_packed, .scratch = ctx->scratch, .y = ctx->outputs[0]->data};
    j.ex = em_conv_output_pass(&act_ctx, bias ? bias->data : NULL);
    if (q.blocked) {
        /* the blocked kernel's weights from the plain ones (one K block of
         * mr-row panels: W[i][k] at ap[(i / mr) * K * mr + k * mr + i % mr]) */
        const size_t kdim = q.c * q.conv.kernel[1] * q.conv.kernel[2], mr = kern->f32_gemm.mr;
        const size_t panels = (q.m + 31) / 32;
        float* wp = (float*)(j.scratch + q.wp_at);
        for (size_t pq = 0; pq < panels; pq++)
            for (size_t k = 0; k < kdim; k++)
                for (size_t c = 0; c < 32; c++) {
                    const size_t i = pq * 32 + c;
                    wp[(pq * kdim + k) * 32 + c] =
                        i < q.m ? j.ap[(i / mr) * kdim * mr + k * mr + i % mr] : 0.0f;
                }
        j.wp = wp;
        j.ep = ember_f32_gemm_epilogue_of(&j.ex, 0, 0);
    }
    em_conv_rows_prepare(ctx->pool, threads, q.c, &q.conv, j.x, j.scratch);
    j.tasks = q.bands < threads ? q.bands : threads;
    em_pool_run(j.tasks > 1 ? ctx->pool : NULL, j.tasks, band_task, &j);
    ctx->kernel = q.blocked ? "direct conv+maxpool nchw16c" : "direct conv+maxpool";
    return EMBER_OK;
}
