/* 3x3 stride-1 Conv through Winograd F(4x4, 3x3); see conv_winograd.h.
 *
 * Per image, the tiles are taken a block of whole tile rows at a time (about
 * WINO_BLOCK_TILES tiles), so that the transformed block stays in L2:
 *   V  [36][c][tb]  input transform of every channel (kern->f32_winograd.input)
 *   Mo [36][m][tb]  Mo_p = U_p V_p, 36 GEMMs with the pre-packed U_p [m x c]
 *   y               output transform + bias (kern->f32_winograd.output)
 * The transforms are shared out over channels on the session's threads, the
 * 36 GEMMs over the threads whole, each with its own workspace. */
#include "conv_winograd.h"

#include <stdlib.h>
#include <string.h>

#include "f32_gemm.h"
#include "f32_winograd.h"
#include "threadpool.h"

#define WINO_ALIGN 64

static size_t round_up(size_t x) { return (x + WINO_ALIGN - 1) / WINO_ALIGN * WINO_ALIGN; }

/* Tiles a block aims at (whole tile rows, so at least this many unless the
 * image has fewer). Measured on resnet18's convolutions: 16 to 32 tiles lose
 * up to 25% at 28x28 (the GEMMs' N too small for nr = 32), 64 to 256 are
 * within noise of each other at 56x56. */
#define WINO_BLOCK_TILES 128

bool em_conv_winograd_supported(size_t c, size_t m, size_t group, const ember_window* w) {
    if (group != 1 || c < 1 || m < 1) return false;
    if (w->image[0] != 1 || w->kernel[0] != 1 || w->out[0] != 1 || w->pad[0] != 0 ||
        w->pad_end[0] != 0)
        return false;
    const size_t lim = (size_t)1 << 20;
    for (int a = 1; a < 3; a++)
        if (w->kernel[a] != 3 || w->stride[a] != 1 || w->dilation[a] != 1 || w->pad[a] < 0 ||
            w->pad_end[a] < 0 || (size_t)w->pad[a] > lim || w->image[a] < 1 ||
            w->image[a] > lim || w->out[a] < 1 || w->out[a] > lim)
            return false;
    if (c > lim || m > lim) return false;
    /* keep the scratch far from overflow: a block has at most ~2^20 tiles */
    const em_wino_geom g = em_conv_winograd_geom(1, c, m, w);
    const double floats = 36.0 * (double)(c + m) * (double)(g.blk_rows * g.tw);
    return floats < (double)((size_t)1 << 30);
}

/* When Winograd beats im2col + GEMM. Measured on Zen 4 (AVX-512, 1 thread,
 * pads 1, one convolution timed each way, best of several runs; speedup =
 * im2col time / Winograd time):
 *   - the GEMMs' N is the tiles of a block, at most the image's th * tw tiles.
 *     At 4 tiles (7x7, 8x8 outputs) they run mostly on padding (nr = 32) and
 *     the 36 packed weight matrices (4x im2col's) stream from memory for
 *     little work: 0.49-0.55 for c = m = 64..512. At 9 tiles (9x9 to 12x12)
 *     it is a coin toss: 0.77 to 1.31;
 *   - from 16 tiles (13x13 up) it wins for every c >= 8 and m measured:
 *     1.3-1.8 at 16 tiles (squeezenet's 48 -> 192 and 64 -> 256 at 13x13:
 *     1.31, 1.35; 8 -> 8: 1.59; 512 -> 512: 1.33), 2.0-2.9 from 49 tiles
 *     (resnet's 64..256 at 56x56 to 14x14), and more with few output channels
 *     (where im2col's GEMM is a thin one): 2.6-3.5 for m = 1..4;
 *   - with few input channels the transforms outweigh the short GEMMs:
 *     0.79 for c = 3, 0.95 for c = 4, 1.55 for c = 6 (at 56x56).
 * So: c >= 8 and at least 16 tiles an image. */
bool em_conv_winograd_applies(size_t c, size_t m, size_t group, const ember_window* w) {
    if (!em_conv_winograd_supported(c, m, group, w)) return false;
    const size_t tiles = ((w->out[1] + 3) / 4) * ((w->out[2] + 3) / 4);
    return c >= 8 && tiles >= 16;
}

em_wino_geom em_conv_winograd_geom(size_t n, size_t c, size_t m, const ember_window* w) {
    em_wino_geom g = {.n = n, .c = c, .m = m, .ih = w->image[1], .iw = w->image[2],
                      .oh = w->out[1], .ow = w->out[2], .pad_top = (size_t)w->pad[1],
                      .pad_left = (size_t)w->pad[2], .threads = 1};
    g.th = (g.oh + 3) / 4;
    g.tw = (g.ow + 3) / 4;
    g.blk_rows = (WINO_BLOCK_TILES + g.tw - 1) / g.tw;
    if (g.blk_rows < 1) g.blk_rows = 1;
    if (g.blk_rows > g.th) g.blk_rows = g.th;
    return g;
}

static size_t slot_bytes(const ember_kernels* kern, size_t c, size_t m) {
    return round_up(ember_f32_gemm_packed_a_size(kern, m, c));
}

size_t em_conv_winograd_packed_bytes(const ember_kernels* kern, size_t c, size_t m) {
    return 36 * slot_bytes(kern, c, m);
}

bool em_conv_winograd_pack(const ember_kernels* kern, size_t c, size_t m, const float* wt,
                           void* dst) {
    /* One register tile of output channels (mr rows) at a time: transform its
     * filters into u ([36][rows][c]) and pack each position's rows into place,
     * so the temporary is 36 * mr * c floats, not 36 * m * c (9 MB for a
     * 256-channel layer, on top of the packed block, at the load's peak). */
    const size_t mr = kern->f32_gemm.mr, slot = slot_bytes(kern, c, m);
    float* u = malloc(mr * c * 36 * sizeof *u);
    if (!u) return false;
    /* 64 filters at a time through a small buffer: 36 rows of 64 floats, not
     * 36 single floats a power of two apart (cache-set conflicts) */
    float tmp[36 * 64];
    for (size_t i0 = 0; i0 < m; i0 += mr) {
        const size_t rows = m - i0 < mr ? m - i0 : mr, rc = rows * c;
        const float* w0 = wt + 9 * i0 * c;
        for (size_t q0 = 0; q0 < rc; q0 += 64) {
            const size_t nq = rc - q0 < 64 ? rc - q0 : 64;
            ember_f32_wino43_filter(nq, w0 + 9 * q0, tmp, 64);
            for (size_t p = 0; p < 36; p++) memcpy(u + p * rc + q0, tmp + p * 64, nq * sizeof *u);
        }
        for (size_t p = 0; p < 36; p++)
            ember_f32_gemm_pack_a_rows(kern, m, c, i0, rows, 1.0f, u + p * rc, c, 1,
                                       (float*)((char*)dst + p * slot));
    }
    free(u);
    return true;
}

/* Scratch: V, Mo, then the GEMM's workspace. */
static size_t v_bytes(const em_wino_geom* g) {
    return round_up(36 * g->c * g->blk_rows * g->tw * sizeof(float));
}
/* + EMBER_WINO_TILES floats: the output transform reads whole runs of tiles */
static size_t mo_bytes(const em_wino_geom* g) {
    return round_up((36 * g->m * g->blk_rows * g->tw + EMBER_WINO_TILES) * sizeof(float));
}

static size_t work_bytes(const ember_kernels* kern, const em_wino_geom* g) {
    return round_up(ember_f32_gemm_workspace_size(kern, g->m, g->blk_rows * g->tw, g->c));
}

size_t em_conv_winograd_scratch(const ember_kernels* kern, const em_wino_geom* g) {
    return v_bytes(g) + mo_bytes(g) + (g->threads ? g->threads : 1) * work_bytes(kern, g);
}

/* One block's transforms, channels shared out over tasks. */
typedef struct wino_job {
    const ember_kernels* kern;
    const em_wino_geom* g;
    const float* x;    /* this image */
    const float* bias;
    const ember_f32_gemm_epilogue* ep;
    float* y;          /* this image */
    float* v;
    float* mo;
    const float* packed;
    char* work;        /* a GEMM workspace a thread */
    size_t ty0, rows, tb, tasks, slot, work_bytes;
    size_t n_calls;
} wino_job;

/* The kernels' calls for a block: runs of up to EMBER_WINO_TILES tiles along
 * one tile row, or, when rows are no longer than that, as many whole rows as
 * fit, stacked (the tiles of a block are contiguous, row after row). */
typedef struct wino_call {
    size_t r, tx, ntx, rowlen; /* first tile row (in the block) and column, tiles, row length */
} wino_call;

static size_t n_calls(const em_wino_geom* g, size_t rows) {
    if (g->tw <= EMBER_WINO_TILES) {
        const size_t per = EMBER_WINO_TILES / g->tw;
        return (rows + per - 1) / per;
    }
    return rows * ((g->tw + EMBER_WINO_TILES - 1) / EMBER_WINO_TILES);
}

static wino_call call_of(const em_wino_geom* g, size_t rows, size_t k) {
    if (g->tw <= EMBER_WINO_TILES) {
        const size_t per = EMBER_WINO_TILES / g->tw, r = k * per;
        return (wino_call){r, 0, (rows - r < per ? rows - r : per) * g->tw, g->tw};
    }
    const size_t cpr = (g->tw + EMBER_WINO_TILES - 1) / EMBER_WINO_TILES;
    const size_t tx = k % cpr * EMBER_WINO_TILES;
    return (wino_call){k / cpr, tx, g->tw - tx < EMBER_WINO_TILES ? g->tw - tx : EMBER_WINO_TILES,
                       EMBER_WINO_TILES};
}

static void input_task(void* arg, size_t t, size_t thread) {
    (void)thread;
    const wino_job* j = arg;
    const em_wino_geom* g = j->g;
    const size_t c0 = g->c * t / j->tasks, c1 = g->c * (t + 1) / j->tasks;
    const ember_f32_wino_input_fn in = j->kern->f32_winograd.input;
    const size_t vs = g->c * j->tb;
    for (size_t c = c0; c < c1; c++) {
        const float* xc = j->x + c * g->ih * g->iw;
        for (size_t k = 0; k < j->n_calls; k++) {
            const wino_call cq = call_of(g, j->rows, k), *q = &cq;
            in(xc, g->ih, g->iw, (ptrdiff_t)(4 * (j->ty0 + q->r)) - (ptrdiff_t)g->pad_top,
               (ptrdiff_t)(4 * q->tx) - (ptrdiff_t)g->pad_left, q->ntx, q->rowlen,
               j->v + c * j->tb + q->r * g->tw + q->tx, vs);
        }
    }
}

static void output_task(void* arg, size_t t, size_t thread) {
    (void)thread;
    const wino_job* j = arg;
    const em_wino_geom* g = j->g;
    const size_t o0 = g->m * t / j->tasks, o1 = g->m * (t + 1) / j->tasks;
    const ember_f32_wino_output_fn out = j->kern->f32_winograd.output;
    const size_t ms = g->m * j->tb;
    for (size_t o = o0; o < o1; o++) {
        float* yo = j->y + o * g->oh * g->ow;
        const float b = j->bias ? j->bias[o] : 0.0f;
        for (size_t k = 0; k < j->n_calls; k++) {
            const wino_call cq = call_of(g, j->rows, k), *q = &cq;
            out(j->mo + o * j->tb + q->r * g->tw + q->tx, ms, q->ntx, q->rowlen, b, j->ep, yo,
                g->oh, g->ow, 4 * (j->ty0 + q->r), 4 * q->tx);
        }
    }
}

/* One of the 36 products, single-threaded in the workspace of its thread: the
 * same arithmetic whichever thread runs it. */
static void gemm_task(void* arg, size_t p, size_t thread) {
    const wino_job* j = arg;
    const em_wino_geom* g = j->g;
    ember_f32_gemm_prepacked_a(j->kern, g->m, j->rows * g->tw, g->c,
                               (const float*)((const char*)j->packed + p * j->slot),
                               j->v + p * g->c * j->tb, j->tb, 1, 0.0f, j->mo + p * g->m * j->tb,
                               j->tb, j->work + thread * j->work_bytes);
}

/* Tasks for a transform of `floats` outputs over `channels`: one below ~64 KiB
 * of work (threads cost more than they save), else two a thread. */
static size_t task_count(struct em_pool* pool, size_t channels, size_t floats) {
    const size_t threads = em_pool_threads(pool);
    if (threads < 2 || floats < ((size_t)1 << 14)) return 1;
    return channels < 2 * threads ? channels : 2 * threads;
}

void em_conv_winograd_run(struct em_pool* pool, const ember_kernels* kern, const em_wino_geom* g,
                          const float* x, const void* packed, const float* bias,
                          const ember_f32_gemm_epilogue* ep, float* y, void* scratch) {
    float* v = scratch;
    float* mo = (float*)((char*)scratch + v_bytes(g));
    char* work = (char*)scratch + v_bytes(g) + mo_bytes(g);
    const size_t tb = g->blk_rows * g->tw, slot = slot_bytes(kern, g->c, g->m);
    const size_t threads = em_pool_threads(pool);
    if (threads > (g->threads ? g->threads : 1)) pool = NULL; /* no workspace for them */
    for (size_t n = 0; n < g->n; n++) {
        wino_job j = {.kern = kern, .g = g, .x = x + n * g->c * g->ih * g->iw, .bias = bias, .ep = ep,
                      .y = y + n * g->m * g->oh * g->ow, .v = v, .mo = mo, .tb = tb,
                      .packed = packed, .work = work, .slot = slot,
                      .work_bytes = work_bytes(kern, g)};
        for (j.ty0 = 0; j.ty0 < g->th; j.ty0 += g->blk_rows) {
            j.rows = g->th - j.ty0 < g->blk_rows ? g->th - j.ty0 : g->blk_rows;
            j.n_calls = n_calls(g, j.rows);
            const size_t nt = j.rows * g->tw;
            j.tasks = task_count(pool, g->c, 36 * g->c * nt);
            em_pool_run(j.tasks > 1 ? pool : NULL, j.tasks, input_task, &j);
            /* the 36 products shared out whole: most are too small to split
             * (64 x 128 x 64 is one task for ember_f32_gemm_prepacked_a_mt) */
            em_pool_run(pool, 36, gemm_task, &j);
            j.tasks = task_count(pool, g->m, 16 * g->m * nt);
            em_pool_run(j.tasks > 1 ? pool : NULL, j.tasks, output_task, &j);
        }
    }
}
