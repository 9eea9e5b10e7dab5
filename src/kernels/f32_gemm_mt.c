/* F32 GEMM on the threads of a pool (the _mt entry points of f32_gemm.h).
 *
 * The loop nest of f32_gemm.c, with the work of each cache block shared out:
 *
 *   for jc in N by nc, pc in K by kc:   pack B's block: tasks over groups of NR panels
 *     for ic in M by mc:                 tasks over a grid of (MR panels) x (NR panels):
 *                                        each packs its rows of A (when the grid has one
 *                                        column; else A is packed first, by row groups)
 *                                        and runs the micro-kernel on its tiles
 *
 * With A packed ahead there is no A buffer to share, so all of M is one grid
 * (one hand-out a K block; a task still walks its rows mc at a time).
 *
 * The blocks (kc, mc, nc) and the tiles are exactly those of one thread, every
 * tile is computed by the same micro-kernel call on the same packed panels, and
 * packing is a copy: each element of C gets the same arithmetic in the same
 * order whatever the number of threads, so results are bit-identical. Tasks
 * write disjoint parts of the packing buffers and of C, and the buffers are the
 * single-threaded workspace: no workspace more per thread.
 *
 * Products too small to pay for waking threads (or M == 1 / N == 1, the
 * matrix-vector paths) run on the caller alone, through the serial functions. */
#include <stdbool.h>
#include <stdint.h>

#include "f32_gemm.h"
#include "threadpool.h"

#define WS_ALIGN 64
/* Least work (flops) worth a task of its own: a few tens of microseconds,
 * against the few microseconds of handing it to another thread. */
#define MIN_TASK_FLOPS ((size_t)1 << 20)
/* Least work of one task once a block is shared out (handing out a task is one
 * atomic operation). */
#define MIN_GRAIN_FLOPS ((size_t)1 << 18)
/* Least B block (floats) worth packing on several threads. */
#define MIN_PAR_PACK_FLOATS ((size_t)1 << 14)

static size_t min_sz(size_t a, size_t b) { return a < b ? a : b; }
static size_t round_up(size_t x, size_t m) { return (x + m - 1) / m * m; }
static size_t div_up(size_t x, size_t m) { return (x + m - 1) / m; }

/* The same K blocks as f32_gemm.c (and the pre-packed layouts). */
static size_t kc_of(const ember_f32_gemm_config* g, size_t k) { return ember_f32_gemm_kc(g, k); }

static float* align_up(void* p) {
    return (float*)(((uintptr_t)p + WS_ALIGN - 1) & ~(uintptr_t)(WS_ALIGN - 1));
}

typedef struct mt_job {
    const ember_kernels* kern;
    const ember_f32_gemm_config* g; /* &kern->f32_gemm */
    size_t mr, nr;
    float alpha;
    const float* a;            /* unpacked A, B (NULL when packed ahead) */
    size_t a_rs, a_cs;
    const float* b;
    size_t b_rs, b_cs;
    float* c;
    size_t ldc;
    /* the current block */
    size_t jc, nc, pc, kc, ic, mc;
    float beta_k;
    float* bp;                 /* where B's block is packed (unused when packed ahead) */
    float* ap;                 /* where A's block is packed (unused when packed ahead) */
    const float* bblk;         /* B's block, packed */
    const float* ablk;         /* A's block, packed */
    size_t pm, pn;             /* MR panels in mc, NR panels in nc */
    size_t groups;             /* pack tasks */
    size_t rows, cols;         /* compute grid */
    bool pack_a_in_task;
    bool last_k;               /* this K block is the last: run ex's output pass */
    const ember_f32_gemm_extra* ex;
} mt_job;

/* Panels [first, end) of group t of `groups` over `panels`. */
static void split(size_t panels, size_t groups, size_t t, size_t* first, size_t* end) {
    *first = panels * t / groups;
    *end = panels * (t + 1) / groups;
}

static void pack_b_task(void* arg, size_t t, size_t thread) {
    (void)thread;
    mt_job* j = arg;
    size_t p0, p1;
    split(j->pn, j->groups, t, &p0, &p1);
    if (p0 == p1) return;
    const size_t j0 = p0 * j->nr, cols = min_sz(j->nc, p1 * j->nr) - j0;
    if (j->ex && j->ex->pack_b)
        j->ex->pack_b(j->ex->pack_b_ctx, j->nr, j->pc, j->kc, j->jc + j0, cols, j->bp + j0 * j->kc);
    else
        j->g->pack_b(j->nr, cols, j->kc, j->b + j->pc * j->b_rs + (j->jc + j0) * j->b_cs, j->b_rs,
                     j->b_cs, j->bp + j0 * j->kc);
}

static void pack_a_rows(const mt_job* j, size_t p0, size_t p1) {
    if (p0 == p1) return;
    const size_t i0 = p0 * j->mr, rows = min_sz(j->mc, p1 * j->mr) - i0;
    j->g->pack_a(j->mr, rows, j->kc, j->alpha, j->a + (j->ic + i0) * j->a_rs + j->pc * j->a_cs,
                 j->a_rs, j->a_cs, j->ap + i0 * j->kc);
}

static void pack_a_task(void* arg, size_t t, size_t thread) {
    (void)thread;
    mt_job* j = arg;
    size_t p0, p1;
    split(j->pm, j->groups, t, &p0, &p1);
    pack_a_rows(j, p0, p1);
}

static void compute_task(void* arg, size_t t, size_t thread) {
    (void)thread;
    const mt_job* j = arg;
    size_t r0, r1, c0, c1;
    split(j->pm, j->rows, t / j->cols, &r0, &r1);
    split(j->pn, j->cols, t % j->cols, &c0, &c1);
    if (j->pack_a_in_task) pack_a_rows(j, r0, r1);
    const size_t mr = j->mr, nr = j->nr, kc = j->kc, sub = j->g->mc / mr;
    /* As f32_gemm.c: rows in blocks of mc (A packed ahead may give a task more),
     * then jr (a B panel stays in L1), then ir. */
    for (size_t s0 = r0; s0 < r1; s0 += sub) {
        const size_t s1 = min_sz(r1, s0 + sub);
        for (size_t jr = c0 * nr; jr < min_sz(j->nc, c1 * nr); jr += nr) {
            const size_t nt = min_sz(j->nc - jr, nr);
            const float* bpanel = j->bblk + jr * kc;
            for (size_t ir = s0 * mr; ir < min_sz(j->mc, s1 * mr); ir += mr) {
                const size_t mt = min_sz(j->mc - ir, mr);
                float* ct = j->c + (j->ic + ir) * j->ldc + j->jc + jr;
                ember_f32_gemm_run_tile(j->kern, j->last_k ? j->ex : NULL, j->ic + ir, j->jc + jr, mt,
                                        nt, kc, j->ablk + ir * kc, bpanel, j->beta_k, ct, j->ldc);
            }
        }
    }
}

/* The grid: rows x cols tasks over the pm x pn panels of a block, for
 * `threads` threads and at most max_tasks tasks. Several tasks a thread, so
 * that a thread that starts late (asleep, or its core busy with other work)
 * leaves its share to the others. The longer side of C is split first: the
 * operand on the other side is then read from cache by every task, while
 * each task streams its own part of the long side once. */
static void choose_grid(size_t pm, size_t pn, size_t mr, size_t nr, size_t threads,
                        size_t max_tasks, size_t* rows, size_t* cols) {
    size_t want = min_sz(4 * threads, max_tasks);
    if (want < threads) want = threads;
    size_t r, c;
    if (pn * nr >= pm * mr) {
        c = min_sz(pn, want);
        r = c >= threads ? 1 : min_sz(pm, div_up(threads, c));
    } else {
        r = min_sz(pm, want);
        c = r >= threads ? 1 : min_sz(pn, div_up(threads, r));
    }
    *rows = r;
    *cols = c;
}

/* apk / bpk: that operand packed ahead (then a / b are unused). */
static void driver_mt(em_pool* pool, const ember_kernels* kern, size_t m, size_t n, size_t k,
                      float alpha, const float* a, size_t a_rs, size_t a_cs, const float* apk,
                      const float* b, size_t b_rs, size_t b_cs, const float* bpk, float beta,
                      float* c, size_t ldc, const ember_f32_gemm_extra* ex, void* workspace) {
    const ember_f32_gemm_config* g = &kern->f32_gemm;
    const size_t threads = em_pool_threads(pool);
    mt_job j = {.kern = kern, .g = g, .mr = g->mr, .nr = g->nr, .alpha = alpha, .a = a,
                .a_rs = a_rs, .a_cs = a_cs, .b = b, .b_rs = b_rs, .b_cs = b_cs, .c = c, .ldc = ldc,
                .ex = ex};
    const size_t kc_max = kc_of(g, k);
    const size_t mpad = round_up(m, j.mr), npad = round_up(n, j.nr);
    /* The same places in the workspace as f32_gemm.c. */
    j.bp = align_up(workspace);
    const size_t nc_max = ember_f32_gemm_nc(g, kc_max);
    j.ap = bpk ? j.bp : align_up(j.bp + round_up(min_sz(n, nc_max), j.nr) * kc_max);
    for (j.jc = 0; j.jc < n; j.jc += nc_max) {
        j.nc = min_sz(n - j.jc, nc_max);
        j.pn = div_up(j.nc, j.nr);
        for (j.pc = 0; j.pc < k; j.pc += kc_max) {
            j.kc = min_sz(k - j.pc, kc_max);
            j.beta_k = j.pc == 0 ? beta : 1.0f;
            j.last_k = ex && j.pc + j.kc == k;
            if (bpk) {
                j.bblk = bpk + j.pc * npad + j.jc * j.kc;
            } else {
                j.bblk = j.bp;
                j.groups = j.kc * j.nc >= MIN_PAR_PACK_FLOATS ? min_sz(threads, j.pn) : 1;
                em_pool_run(j.groups > 1 ? pool : NULL, j.groups, pack_b_task, &j);
            }
            /* A packed ahead needs no buffer: all of M is one block, one run. */
            const size_t mc_step = apk ? m : g->mc;
            for (j.ic = 0; j.ic < m; j.ic += mc_step) {
                j.mc = min_sz(m - j.ic, mc_step);
                j.pm = div_up(j.mc, j.mr);
                j.ablk = apk ? apk + j.pc * mpad + j.ic * j.kc : j.ap;
                const size_t flops = 2 * j.mc * j.nc * j.kc;
                const size_t t = min_sz(threads, flops / MIN_TASK_FLOPS);
                if (t < 2) {
                    j.rows = j.cols = 1;
                } else {
                    choose_grid(j.pm, j.pn, j.mr, j.nr, t, flops / MIN_GRAIN_FLOPS, &j.rows,
                                &j.cols);
                }
                j.pack_a_in_task = !apk && j.cols == 1;
                if (!apk && j.cols > 1) {
                    j.groups = min_sz(t, j.pm);
                    em_pool_run(j.groups > 1 ? pool : NULL, j.groups, pack_a_task, &j);
                }
                const size_t tasks = j.rows * j.cols;
                em_pool_run(tasks > 1 ? pool : NULL, tasks, compute_task, &j);
            }
        }
    }
}

/* Worth more than one thread: big enough, and not a matrix-vector product. */
static bool use_threads(const em_pool* pool, size_t m, size_t n, size_t k) {
    if (em_pool_threads(pool) < 2 || m < 2 || n < 2 || k == 0) return false;
    return (double)m * (double)n * (double)k * 2.0 >= 2.0 * (double)MIN_TASK_FLOPS;
}

void ember_f32_gemm_mt(em_pool* pool, const ember_kernels* kern, size_t m, size_t n, size_t k,
                       float alpha, const float* a, size_t a_rs, size_t a_cs, const float* b,
                       size_t b_rs, size_t b_cs, float beta, float* c, size_t ldc,
                       void* workspace) {
    if (!use_threads(pool, m, n, k)) {
        ember_f32_gemm(kern, m, n, k, alpha, a, a_rs, a_cs, b, b_rs, b_cs, beta, c, ldc, workspace);
        return;
    }
    driver_mt(pool, kern, m, n, k, alpha, a, a_rs, a_cs, NULL, b, b_rs, b_cs, NULL, beta, c, ldc,
              NULL, workspace);
}

/* The matrix-vector products over a packed operand (M == 1 with B packed ahead,
 * N == 1 with A packed ahead) on several threads: each task streams a range of
 * the panels, the same gemv_n calls on the same panels as one thread, so the
 * results do not change. Worth it from 64K matrix entries: the product is
 * memory-bound and a second core adds bandwidth. */
#define MIN_PAR_GEMV ((size_t)1 << 16)

typedef struct gemv_job {
    const ember_kernels* kern;
    const float* x;            /* the vector, k floats */
    const float* panels;       /* packed operand */
    float* y;
    float beta;
    size_t len, k, r, tasks;   /* outputs, K, panel width */
} gemv_job;

static void gemv_task(void* arg, size_t t, size_t thread) {
    (void)thread;
    const gemv_job* j = arg;
    size_t q0, q1;
    split(div_up(j->len, j->r), j->tasks, t, &q0, &q1);
    ember_f32_gemm_gemv_panels(j->kern, j->len, j->k, j->r, j->x, j->panels, j->beta, j->y, q0, q1);
}

/* True when it ran the product on the pool's threads. */
static bool gemv_mt(em_pool* pool, const ember_kernels* kern, size_t len, size_t k, size_t r,
                    const float* x, const float* panels, float beta, float* y) {
    const size_t threads = em_pool_threads(pool), panels_n = div_up(len, r);
    if (threads < 2 || k == 0 || len * k < MIN_PAR_GEMV || panels_n < 2) return false;
    gemv_job j = {.kern = kern, .x = x, .panels = panels, .y = y, .beta = beta, .len = len,
                  .k = k, .r = r,
                  .tasks = min_sz(panels_n, 2 * threads)};
    em_pool_run(pool, j.tasks, gemv_task, &j);
    return true;
}

void ember_f32_gemm_prepacked_b_mt(em_pool* pool, const ember_kernels* kern, size_t m, size_t n,
                                   size_t k, float alpha, const float* a, size_t a_rs, size_t a_cs,
                                   const float* bp, float beta, float* c, size_t ldc,
                                   void* workspace) {
    if (m == 1 && n > 0 && (a_cs == 1 && alpha == 1.0f) &&
        gemv_mt(pool, kern, n, k, kern->f32_gemm.nr, a, bp, beta, c))
        return;
    if (!use_threads(pool, m, n, k)) {
        ember_f32_gemm_prepacked_b(kern, m, n, k, alpha, a, a_rs, a_cs, bp, beta, c, ldc,
                                   workspace);
        return;
    }
    driver_mt(pool, kern, m, n, k, alpha, a, a_rs, a_cs, NULL, NULL, 0, 0, bp, beta, c, ldc,
              NULL, workspace);
}

void ember_f32_gemm_prepacked_a_mt(em_pool* pool, const ember_kernels* kern, size_t m, size_t n,
                                   size_t k, const float* ap, const float* b, size_t b_rs,
                                   size_t b_cs, float beta, float* c, size_t ldc,
                                   void* workspace) {
    if (n == 1 && m > 0 && (ldc == 1 || m == 1) && (b_rs == 1 || k == 1) &&
        gemv_mt(pool, kern, m, k, kern->f32_gemm.mr, b, ap, beta, c))
        return;
    if (!use_threads(pool, m, n, k)) {
        ember_f32_gemm_prepacked_a(kern, m, n, k, ap, b, b_rs, b_cs, beta, c, ldc, workspace);
        return;
    }
    driver_mt(pool, kern, m, n, k, 1.0f, NULL, 0, 0, ap, b, b_rs, b_cs, NULL, beta, c, ldc,
              NULL, workspace);
}

void ember_f32_gemm_ex_mt(em_pool* pool, const ember_kernels* kern, size_t m, size_t n, size_t k,
                          const float* a, size_t a_rs, size_t a_cs, const float* ap, const float* b,
                          size_t b_rs, size_t b_cs, float beta, float* c, size_t ldc,
                          const ember_f32_gemm_extra* ex, void* workspace) {
    if (!use_threads(pool, m, n, k)) {
        ember_f32_gemm_ex(kern, m, n, k, a, a_rs, a_cs, ap, b, b_rs, b_cs, beta, c, ldc, ex,
                          workspace);
        return;
    }
    driver_mt(pool, kern, m, n, k, 1.0f, a, a_rs, a_cs, ap, b, b_rs, b_cs, NULL, beta, c, ldc, ex,
              workspace);
}

void ember_f32_gemm_prepacked_b_ex_mt(em_pool* pool, const ember_kernels* kern, size_t m, size_t n,
                                      size_t k, float alpha, const float* a, size_t a_rs,
                                      size_t a_cs, const float* bp, float beta, float* c,
                                      size_t ldc, const ember_f32_gemm_extra* ex,
                                      void* workspace) {
    if (m == 1 && k > 0) { /* the streamed row on the threads (memory-bound), then the pass */
        ember_f32_gemm_prepacked_b_mt(pool, kern, m, n, k, alpha, a, a_rs, a_cs, bp, beta, c, ldc,
                                      workspace);
        ember_f32_gemm_finish_all(kern, ex, m, n, c, ldc);
        return;
    }
    if (!use_threads(pool, m, n, k)) {
        ember_f32_gemm_prepacked_b_ex(kern, m, n, k, alpha, a, a_rs, a_cs, bp, beta, c, ldc, ex,
                                      workspace);
        return;
    }
    driver_mt(pool, kern, m, n, k, alpha, a, a_rs, a_cs, NULL, NULL, 0, 0, bp, beta, c, ldc, ex,
              workspace);
}
