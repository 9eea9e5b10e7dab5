/* 3x3 stride-1 Conv through Winograd F(4x4, 3x3); see conv_winograd.h.
 *
 * Per image, the tiles are taken a block of whole tile rows at a time (about
 * WINO_BLOCK_TILES tiles), so that the transformed block stays in L2:
 *   V  [36][c][tb]  input transform of every channel (kern->f32_winograd.input)
 *   Mo [36][m][tb]  Mo_p = U_p V_p, 36 GEMMs with the pre-packed U_p [m x c]
 *   y               output transform + bias (kern->f32_winograd.output)
 * The transforms are shared out over channels on the session's threads, the
 * GEMMs thread themselves (ember_f32_gemm_prepacked_a_mt). */
#include "conv_winograd.h"

#include <stdlib.h>

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
 * pads 1; speedup = im2col time / Winograd time):
 *   - the GEMMs' N is the tiles of a block, at most the image's th * tw tiles;
 *     at 4 tiles (7x7 outputs) they run mostly on padding (nr = 32) and the 36
 *     packed weight matrices (4x im2col's) stream from memory for little work:
 *     0.46-0.48 for c = m = 64..512;
 *   - at 16 tiles (13x13, 14x14) it depends on the channels: 0.93 (48 -> 192),
 *     0.94 (16 -> 16), 1.02 (32 -> 32), 1.03 (64 -> 256), 1.20 (64 -> 64),
 *     1.35 (128 -> 128), 1.40 (256), 1.47 (512);
 *   - from 49 tiles (27x27, 28x28, 55x55, 56x56) it wins: 1.5-2.8 for c, m >= 8
 *     (1.74 for squeezenet's 16 -> 64, 2.5-2.8 for resnet's 64..256);
 *   - with c = 3 (a first layer) the transforms outweigh the small GEMM: 0.51.
 * So: c, m >= 8 and at least 36 tiles, or at least 16 tiles with c, m >= 128. */
bool em_conv_winograd_applies(size_t c, size_t m, size_t group, const ember_window* w) {
    if (!em_conv_winograd_supported(c, m, group, w)) return false;
    const size_t tiles = ((w->out[1] + 3) / 4) * ((w->out[2] + 3) / 4);
    if (c < 8 || m < 8) return false;
    return tiles >= 36 || (tiles >= 16 && c >= 128 && m >= 128);
}

em_wino_geom em_conv_winograd_geom(size_t n, size_t c, size_t m, const ember_window* w) {
    em_wino_geom g = {.n = n, .c = c, .m = m, .ih = w->image[1], .iw = w->image[2],
                      .oh = w->out[1], .ow = w->out[2], .pad_top = (size_t)w->pad[1],
                      .pad_left = (size_t)w->pad[2]};
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
    float* u = malloc(m * c * 36 * sizeof *u); /* [m][c][36] */
    if (!u) return false;
    for (size_t q = 0; q < m * c; q++) ember_f32_wino43_filter(wt + 9 * q, u + 36 * q);
    const size_t slot = slot_bytes(kern, c, m);
    for (size_t p = 0; p < 36; p++)
        ember_f32_gemm_pack_a_full(kern, m, c, 1.0f, u + p, 36 * c, 36,
                                   (float*)((char*)dst + p * slot));
    free(u);
    return true;
}

/* Scratch: V, Mo, then the GEMM's workspace. */
static size_t v_bytes(const em_wino_geom* g) {
    return round_up(36 * g->c * g->blk_rows * g->tw * sizeof(float));
}
static size_t mo_bytes(const em_wino_geom* g) {
    return round_up(36 * g->m * g->blk_rows * g->tw * sizeof(float));
}

size_t em_conv_winograd_scratch(const ember_kernels* kern, const em_wino_geom* g) {
    return v_bytes(g) + mo_bytes(g) +
           ember_f32_gemm_workspace_size(kern, g->m, g->blk_rows * g->tw, g->c);
}

/* One block's transforms, channels shared out over tasks. */
typedef struct wino_job {
    const ember_kernels* kern;
    const em_wino_geom* g;
    const float* x;    /* this image */
    const float* bias;
    float* y;          /* this image */
    float* v;
    float* mo;
    size_t ty0, rows, tb, tasks;
} wino_job;

static void input_task(void* arg, size_t t, size_t thread) {
    (void)thread;
    const wino_job* j = arg;
    const em_wino_geom* g = j->g;
    const size_t c0 = g->c * t / j->tasks, c1 = g->c * (t + 1) / j->tasks;
    const ember_f32_wino_input_fn in = j->kern->f32_winograd.input;
    const size_t vs = g->c * j->tb;
    for (size_t c = c0; c < c1; c++) {
        const float* xc = j->x + c * g->ih * g->iw;
        for (size_t r = 0; r < j->rows; r++) {
            const ptrdiff_t y0 = (ptrdiff_t)(4 * (j->ty0 + r)) - (ptrdiff_t)g->pad_top;
            for (size_t tx = 0; tx < g->tw; tx += EMBER_WINO_TILES) {
                const size_t ntx = g->tw - tx < EMBER_WINO_TILES ? g->tw - tx : EMBER_WINO_TILES;
                in(xc, g->ih, g->iw, y0, (ptrdiff_t)(4 * tx) - (ptrdiff_t)g->pad_left, ntx,
                   j->v + c * j->tb + r * g->tw + tx, vs);
            }
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
        for (size_t r = 0; r < j->rows; r++)
            for (size_t tx = 0; tx < g->tw; tx += EMBER_WINO_TILES) {
                const size_t ntx = g->tw - tx < EMBER_WINO_TILES ? g->tw - tx : EMBER_WINO_TILES;
                out(j->mo + o * j->tb + r * g->tw + tx, ms, ntx, b, yo, g->oh, g->ow,
                    4 * (j->ty0 + r), 4 * tx);
            }
    }
}

/* Tasks for a transform of `floats` outputs over `channels`: one below ~64 KiB
 * of work (threads cost more than they save), else two a thread. */
static size_t task_count(struct em_pool* pool, size_t channels, size_t floats) {
    const size_t threads = em_pool_threads(pool);
    if (threads < 2 || floats < ((size_t)1 << 14)) return 1;
    return channels < 2 * threads ? channels : 2 * threads;
}

void em_conv_winograd_run(struct em_pool* pool, const ember_kernels* kern, const em_wino_geom* g,
                          const float* x, const void* packed, const float* bias, float* y,
                          void* scratch) {
    float* v = scratch;
    float* mo = (float*)((char*)scratch + v_bytes(g));
    void* work = (char*)scratch + v_bytes(g) + mo_bytes(g);
    const size_t tb = g->blk_rows * g->tw, slot = slot_bytes(kern, g->c, g->m);
    for (size_t n = 0; n < g->n; n++) {
        wino_job j = {.kern = kern, .g = g, .x = x + n * g->c * g->ih * g->iw, .bias = bias,
                      .y = y + n * g->m * g->oh * g->ow, .v = v, .mo = mo, .tb = tb};
        for (j.ty0 = 0; j.ty0 < g->th; j.ty0 += g->blk_rows) {
            j.rows = g->th - j.ty0 < g->blk_rows ? g->th - j.ty0 : g->blk_rows;
            const size_t nt = j.rows * g->tw;
            j.tasks = task_count(pool, g->c, 36 * g->c * nt);
            em_pool_run(j.tasks > 1 ? pool : NULL, j.tasks, input_task, &j);
            for (size_t p = 0; p < 36; p++)
                ember_f32_gemm_prepacked_a_mt(pool, kern, g->m, nt, g->c,
                                              (const float*)((const char*)packed + p * slot),
                                              v + p * g->c * tb, tb, 1, 0.0f, mo + p * g->m * tb,
                                              tb, work);
            j.tasks = task_count(pool, g->m, 16 * g->m * nt);
            em_pool_run(j.tasks > 1 ? pool : NULL, j.tasks, output_task, &j);
        }
    }
}
