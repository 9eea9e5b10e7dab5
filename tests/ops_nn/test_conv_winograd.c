/* Winograd F(4x4, 3x3) convolution (src/runtime/ops/nn/conv_winograd.h) on
 * every dispatch path this CPU can run, against a direct double-precision
 * reference, with its weights transformed and packed as a model's are.
 *
 * Error bound. For one output y, let
 *     T(y) = |b| + sum_c (sum_{u,v} |w[m][c][u][v]|) * max |x[c]| over the 6x6
 *            input patch of y's tile (zero padding included),
 * the scale of everything the tile's arithmetic touches, and alpha the
 * worst-case amplification of the transforms: the largest sum of
 * |coefficients| that multiplies one |w| * |x| pair on its way through
 * B^T, G and A^T (computed below from the matrices: 860 for F(4,3) with the
 * points 0, +-1, +-2, inf). A rounding anywhere in the transforms or the
 * products is then at most eps * alpha * T(y) by the time it reaches y, and
 * the test enforces
 *     |y - ref| <= eps * alpha * T(y)        (about 1e-4 * T(y))
 * The bound is on T(y), not on sum |w| * |x| over y's own window, because an
 * output whose window holds only zeros (padding) still carries the rounding
 * errors of its tile's other inputs. It is not tuned to the data: with
 * random signs the roundings cancel like a random walk, and the worst error
 * measured over the sweep is 1.5% of it (12.7 eps * T(y); 29 eps * sum |w||x|
 * of the output's own window, against up to 9c eps for a direct sum in the
 * worst case). A transform coefficient off by 1% already fails it, a wrong
 * tile, edge or layout gives errors of the order of T(y) itself. The worst
 * ratios are printed. */
#include <float.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dispatch.h"
#include "f32_winograd.h"
#include "generic/nn_ref.h"
#include "ops/nn/conv_winograd.h"
#include "threadpool.h"

#define GUARD 64
static const uint32_t GUARD_BITS = 0x7fa5a5a5u; /* a NaN no kernel computes */

static uint32_t g_rng = 2024;
static float frand(void) {
    g_rng = g_rng * 1664525u + 1013904223u;
    return (float)((g_rng >> 8) & 0xFFFF) / 32768.0f - 1.0f;
}

static const double BT[6][6] = {{4, 0, -5, 0, 1, 0},  {0, -4, -4, 1, 1, 0}, {0, 4, -4, -1, 1, 0},
                                {0, -2, -1, 2, 1, 0}, {0, 2, -1, -2, 1, 0}, {0, 4, 0, -5, 0, 1}};
static const double G[6][3] = {{1.0 / 4, 0, 0},         {-1.0 / 6, -1.0 / 6, -1.0 / 6},
                               {-1.0 / 6, 1.0 / 6, -1.0 / 6}, {1.0 / 24, 1.0 / 12, 1.0 / 6},
                               {1.0 / 24, -1.0 / 12, 1.0 / 6}, {0, 0, 1}};
static const double AT[4][6] = {
    {1, 1, 1, 1, 1, 0}, {0, 1, -1, 2, -2, 0}, {0, 1, 1, 4, 4, 0}, {0, 1, -1, 8, -8, 1}};

/* alpha = max over output (i, j) and tap (u, v) of
 * sum_{r,s} sum_{a,b} |AT[i][a] AT[j][b]| |G[a][u] G[b][v]| |BT[a][r] BT[b][s]| */
static double amplification(void) {
    double best = 0;
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 4; j++)
            for (int u = 0; u < 3; u++)
                for (int v = 0; v < 3; v++) {
                    double s = 0;
                    for (int a = 0; a < 6; a++)
                        for (int b = 0; b < 6; b++) {
                            double rs = 0, ss = 0;
                            for (int r = 0; r < 6; r++) rs += fabs(BT[a][r]);
                            for (int q = 0; q < 6; q++) ss += fabs(BT[b][q]);
                            s += fabs(AT[i][a] * AT[j][b]) * fabs(G[a][u] * G[b][v]) * rs * ss;
                        }
                    if (s > best) best = s;
                }
    return best;
}

typedef struct wcase {
    size_t n, c, m, h, w, pt, pl, pb, pr;
    int bias;
} wcase;

static ember_window window_of(const wcase* k) {
    return (ember_window){.image = {1, k->h, k->w},
                          .out = {1, k->h + k->pt + k->pb - 2, k->w + k->pl + k->pr - 2},
                          .kernel = {1, 3, 3}, .stride = {1, 1, 1}, .dilation = {1, 1, 1},
                          .pad = {0, (ptrdiff_t)k->pt, (ptrdiff_t)k->pl},
                          .pad_end = {0, (ptrdiff_t)k->pb, (ptrdiff_t)k->pr}};
}

static double g_worst;      /* worst err / (eps * alpha * T) over every case */
static double g_worst_s;    /* worst err / (eps * sum |w| |x| + |b|) where that sum > 0 */
static double g_alpha;

/* Runs case k on table kern with blk_rows (0: the default) and a pool (NULL: one
 * thread); checks against the reference and that every output and nothing else
 * is written. Returns the output (caller frees) for the thread comparison. */
static float* run_case(const ember_kernels* kern, const wcase* k, size_t blk_rows, em_pool* pool,
                       int check) {
    const ember_window w = window_of(k);
    const size_t oh = w.out[1], ow = w.out[2];
    assert_true(em_conv_winograd_supported(k->c, k->m, 1, &w));
    em_wino_geom g = em_conv_winograd_geom(k->n, k->c, k->m, &w);
    if (blk_rows) g.blk_rows = blk_rows < g.th ? blk_rows : g.th;
    g.threads = em_pool_threads(pool);
    const size_t xn = k->n * k->c * k->h * k->w, wn = k->m * k->c * 9, yn = k->n * k->m * oh * ow;
    float* x = malloc(xn * sizeof *x);
    float* wt = malloc(wn * sizeof *wt);
    float* b = malloc(k->m * sizeof *b);
    float* y = malloc((yn + GUARD) * sizeof *y);
    const size_t pb = em_conv_winograd_packed_bytes(kern, k->c, k->m);
    const size_t sb = em_conv_winograd_scratch(kern, &g);
    void* packed = aligned_alloc(64, (pb + 63) / 64 * 64);
    char* scratch = aligned_alloc(64, (sb + GUARD + 63) / 64 * 64);
    assert_non_null(x);
    assert_non_null(wt);
    assert_non_null(b);
    assert_non_null(y);
    assert_non_null(packed);
    assert_non_null(scratch);
    g_rng = (uint32_t)(k->c * 7919 + k->m * 104729 + k->h * 13 + k->w);
    for (size_t i = 0; i < xn; i++) x[i] = frand();
    for (size_t i = 0; i < wn; i++) wt[i] = frand();
    for (size_t i = 0; i < k->m; i++) b[i] = frand();
    for (size_t i = 0; i < yn + GUARD; i++) memcpy(y + i, &GUARD_BITS, 4);
    memset(scratch + sb, 0x5a, GUARD);
    assert_true(em_conv_winograd_pack(kern, k->c, k->m, wt, packed));
    em_conv_winograd_run(pool, kern, &g, x, packed, k->bias ? b : NULL, NULL, y, scratch);
    for (size_t i = yn; i < yn + GUARD; i++) assert_memory_equal(y + i, &GUARD_BITS, 4);
    for (size_t i = 0; i < GUARD; i++) assert_int_equal((unsigned char)scratch[sb + i], 0x5a);
    if (check) {
        const double eps = FLT_EPSILON;
        size_t bad = 0;
        const size_t th = (oh + 3) / 4, tw = (ow + 3) / 4;
        /* max |x| over each channel's 6x6 patch of each tile, sum |w| of each filter */
        double* pmax = calloc(k->n * k->c * th * tw, sizeof *pmax);
        double* wsum = calloc(k->m * k->c, sizeof *wsum);
        assert_non_null(pmax);
        assert_non_null(wsum);
        for (size_t q = 0; q < k->n * k->c; q++)
            for (size_t ti = 0; ti < th; ti++)
                for (size_t tj = 0; tj < tw; tj++)
                    for (ptrdiff_t r = 0; r < 6; r++)
                        for (ptrdiff_t u = 0; u < 6; u++) {
                            const ptrdiff_t yy = (ptrdiff_t)(4 * ti) - (ptrdiff_t)k->pt + r;
                            const ptrdiff_t xx = (ptrdiff_t)(4 * tj) - (ptrdiff_t)k->pl + u;
                            if (yy < 0 || xx < 0 || yy >= (ptrdiff_t)k->h || xx >= (ptrdiff_t)k->w)
                                continue;
                            const double a = fabs(x[q * k->h * k->w + (size_t)yy * k->w + (size_t)xx]);
                            double* pm = &pmax[(q * th + ti) * tw + tj];
                            if (a > *pm) *pm = a;
                        }
        for (size_t q = 0; q < k->m * k->c; q++)
            for (int u = 0; u < 9; u++) wsum[q] += fabs(wt[9 * q + u]);
        for (size_t n = 0; n < k->n; n++)
            for (size_t o = 0; o < k->m; o++)
                for (size_t i = 0; i < oh; i++)
                    for (size_t j = 0; j < ow; j++) {
                        double ref = k->bias ? b[o] : 0.0, s = k->bias ? fabs(b[o]) : 0.0, t = s;
                        for (size_t c = 0; c < k->c; c++) {
                            const float* xc = x + (n * k->c + c) * k->h * k->w;
                            const float* wc = wt + (o * k->c + c) * 9;
                            for (int u = 0; u < 3; u++)
                                for (int v = 0; v < 3; v++) {
                                    const ptrdiff_t yy = (ptrdiff_t)i + u - (ptrdiff_t)k->pt;
                                    const ptrdiff_t xx = (ptrdiff_t)j + v - (ptrdiff_t)k->pl;
                                    if (yy < 0 || xx < 0 || yy >= (ptrdiff_t)k->h ||
                                        xx >= (ptrdiff_t)k->w)
                                        continue;
                                    const double xv = xc[yy * (ptrdiff_t)k->w + xx];
                                    ref += (double)wc[3 * u + v] * xv;
                                    s += fabs((double)wc[3 * u + v] * xv);
                                }
                            t += wsum[o * k->c + c] * pmax[((n * k->c + c) * th + i / 4) * tw + j / 4];
                        }
                        const double got = y[((n * k->m + o) * oh + i) * ow + j];
                        const double err = fabs(got - ref);
                        const double lim = eps * g_alpha * t + 1e-30;
                        if (!(err <= lim)) {
                            if (bad++ < 5)
                                print_message("case c=%zu m=%zu %zux%zu pads %zu,%zu,%zu,%zu n=%zu "
                                              "[%zu][%zu][%zu][%zu]: got %.9g want %.9g (limit %.3g)\n",
                                              k->c, k->m, k->h, k->w, k->pt, k->pl, k->pb, k->pr,
                                              k->n, n, o, i, j, got, ref, lim);
                        }
                        if (t > 0 && err / (eps * g_alpha * t) > g_worst)
                            g_worst = err / (eps * g_alpha * t);
                        if (s > 0 && err / (eps * s) > g_worst_s) g_worst_s = err / (eps * s);
                    }
        free(pmax);
        free(wsum);
        assert_int_equal(bad, 0);
    }
    free(x);
    free(wt);
    free(b);
    free(packed);
    free(scratch);
    return y;
}

static const wcase CASES[] = {
    /* n, c, m, h, w, pads top, left, bottom, right, bias */
    {1, 1, 1, 1, 1, 1, 1, 1, 1, 1},       /* a 1x1 image */
    {1, 1, 1, 3, 3, 0, 0, 0, 0, 0},       /* one output */
    {1, 3, 5, 5, 7, 1, 1, 1, 1, 1},
    {2, 8, 16, 9, 6, 0, 0, 0, 0, 1},      /* batch 2, pads 0 */
    {1, 17, 13, 13, 13, 2, 2, 2, 2, 0},   /* pads 2 */
    {1, 5, 7, 11, 10, 0, 1, 2, 1, 1},     /* asymmetric pads */
    {1, 4, 3, 6, 9, 2, 0, 1, 2, 0},
    {2, 64, 65, 7, 13, 1, 1, 1, 1, 1},    /* c, m around 64 */
    {1, 70, 33, 14, 14, 1, 1, 1, 1, 1},
    {1, 9, 96, 5, 5, 1, 1, 1, 1, 0},
    {1, 96, 10, 10, 3, 1, 1, 1, 1, 1},
    {1, 2, 3, 10, 150, 1, 1, 1, 1, 1},    /* wide: full 16-tile runs, interior fast path */
    {1, 3, 2, 75, 69, 0, 2, 1, 0, 1},     /* tall and wide, more than one block */
    {1, 6, 5, 3, 70, 0, 0, 0, 0, 0},      /* 1 output row */
    {1, 200, 12, 8, 8, 1, 1, 1, 1, 1},    /* a long sum over c */
    {1, 5, 6, 20, 64, 1, 1, 1, 1, 1},     /* exactly 16 tiles a row */
    {1, 4, 4, 9, 66, 1, 1, 1, 1, 0},      /* 17 tiles a row */
    {2, 9, 11, 30, 19, 1, 2, 0, 1, 1},    /* 5 tiles a row: 3 rows stacked a call */
};
#define N_CASES (sizeof CASES / sizeof CASES[0])

static void run_path(const char* isa) {
    const ember_kernels* kern = ember_kernels_for(isa);
    if (!kern) {
        print_message("[  SKIP    ] Winograd path '%s': this CPU or build cannot run it\n", isa);
        skip();
    }
    assert_string_equal(kern->isa, isa);
    for (size_t i = 0; i < N_CASES; i++) free(run_case(kern, &CASES[i], 0, NULL, 1));
    /* small blocks: the block loop runs many times */
    for (size_t i = 0; i < N_CASES; i++) free(run_case(kern, &CASES[i], 1, NULL, 1));
    free(run_case(kern, &CASES[12], 3, NULL, 1));
    print_message("[ INFO     ] %s: worst error %.3g x eps*alpha*T (bound 1), %.3g x eps*sum|w||x| "
                  "(alpha %.4g)\n",
                  isa, g_worst, g_worst_s, g_alpha);
}

static void test_generic(void** state) { (void)state; run_path("generic"); }
static void test_avx2(void** state) { (void)state; run_path("avx2"); }
static void test_avx512(void** state) { (void)state; run_path("avx512"); }
static void test_neon(void** state) { (void)state; run_path("neon"); }

/* The same results on 1 and 3 threads, bit for bit. */
static void test_threads(void** state) {
    (void)state;
    em_pool* pool = em_pool_create(3);
    if (!pool) skip();
    const ember_kernels* kern = ember_kernels_default();
    static const wcase big[] = {{2, 64, 48, 30, 33, 1, 1, 1, 1, 1}, {1, 40, 70, 57, 20, 1, 0, 2, 1, 0}};
    for (size_t i = 0; i < sizeof big / sizeof big[0]; i++) {
        const ember_window w = window_of(&big[i]);
        const size_t yn = big[i].n * big[i].m * w.out[1] * w.out[2];
        float* y1 = run_case(kern, &big[i], 2, NULL, 0);
        float* y3 = run_case(kern, &big[i], 2, pool, 0); /* the sweeps check the values */
        assert_memory_equal(y1, y3, yn * sizeof *y1);
        free(y1);
        free(y3);
    }
    em_pool_destroy(pool);
}

/* What it does not take: stride, dilation, group, other kernels, 1-D and 3-D. */
static void test_supported(void** state) {
    (void)state;
    const wcase k = {1, 8, 8, 10, 10, 1, 1, 1, 1, 0};
    ember_window w = window_of(&k);
    assert_true(em_conv_winograd_supported(8, 8, 1, &w));
    assert_false(em_conv_winograd_supported(8, 8, 2, &w));
    ember_window v = w;
    v.stride[2] = 2;
    assert_false(em_conv_winograd_supported(8, 8, 1, &v));
    v = w;
    v.dilation[1] = 2;
    assert_false(em_conv_winograd_supported(8, 8, 1, &v));
    v = w;
    v.kernel[2] = 5;
    assert_false(em_conv_winograd_supported(8, 8, 1, &v));
    v = w;
    v.image[0] = 4;
    v.out[0] = 2;
    v.kernel[0] = 3;
    assert_false(em_conv_winograd_supported(8, 8, 1, &v));
    /* the selection rule: small images and few channels stay with im2col */
    const wcase tiny = {1, 512, 512, 7, 7, 1, 1, 1, 1, 0}, first = {1, 3, 64, 56, 56, 1, 1, 1, 1, 0},
                big = {1, 64, 64, 56, 56, 1, 1, 1, 1, 0};
    w = window_of(&tiny);
    assert_false(em_conv_winograd_applies(512, 512, 1, &w));
    w = window_of(&first);
    assert_false(em_conv_winograd_applies(3, 64, 1, &w));
    w = window_of(&big);
    assert_true(em_conv_winograd_applies(64, 64, 1, &w));
}

/* "threads" as the argument runs test_threads alone (suite pool: left out
 * under qemu-user, where spin-waiting pools with more threads than cores make
 * no progress); no argument, the rest. */
int main(int argc, char** argv) {
    g_alpha = amplification();
    if (argc > 1 && strcmp(argv[1], "threads") == 0) {
        const struct CMUnitTest tests[] = {cmocka_unit_test(test_threads)};
        return cmocka_run_group_tests(tests, NULL, NULL);
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_generic), cmocka_unit_test(test_avx2),
        cmocka_unit_test(test_avx512),  cmocka_unit_test(test_neon),
        cmocka_unit_test(test_supported),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
