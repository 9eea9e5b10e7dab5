/* The depthwise convolution kernels (f32_dwconv.h) on every path this CPU can
 * run, against the reference: channels 1, 3, 8, 17, 32; image sides 1, 2, 5, 7,
 * 14, 31; kernels 3x3 and 5x5 (the specialised loops) and a few others (the
 * general loop); strides 1 and 2 (and 3); pads 0 to 2, asymmetric; with and
 * without bias; guard values after the output and after the scratch. A path the
 * CPU cannot run is skipped with a message. */
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

#include "kernel_test.h"

#include "dispatch.h"
#include "f32_dwconv.h"
#include "internal.h"
#include "ops/nn/conv_depthwise.h"
#include "threadpool.h"

#define GUARD 64
static uint32_t g_rng = 4242;
static float frand(void) { return kt_frand(&g_rng); }

static int g_failures;
static size_t g_cases;

/* Output size along one axis; 0 when the window never fits. */
static void check(const ember_kernels* kern, size_t ch, size_t ih, size_t iw, size_t kh,
                  size_t kw, size_t sh, size_t sw, size_t pt, size_t pl, size_t pb, size_t pr,
                  int with_bias) {
    const size_t oh = kt_out_dim(ih, kh, sh, 1, pt, pb), ow = kt_out_dim(iw, kw, sw, 1, pl, pr);
    if (oh == 0 || ow == 0) return;
    const ember_dwconv_geom g = {.ih = ih, .iw = iw, .oh = oh, .ow = ow, .kh = kh, .kw = kw,
                                 .sh = sh, .sw = sw, .pad_top = pt, .pad_left = pl};
    const size_t nx = ch * ih * iw, nw = ch * kh * kw, ny = ch * oh * ow;
    const size_t ns = (ember_f32_dwconv_scratch_size(kern->f32_dwconv.lanes, &g) + 3) / 4;
    float* x = malloc(sizeof(float) * nx);
    float* w = malloc(sizeof(float) * nw);
    float* b = malloc(sizeof(float) * ch);
    float* want = malloc(sizeof(float) * ny);
    float* y = malloc(sizeof(float) * (ny + GUARD));
    float* s = malloc(sizeof(float) * (ns + GUARD));
    assert_true(x && w && b && want && y && s);
    for (size_t i = 0; i < nx; i++) x[i] = frand();
    for (size_t i = 0; i < nw; i++) w[i] = frand();
    for (size_t i = 0; i < ch; i++) b[i] = frand();
    kt_set_guard(y, ny + GUARD);
    kt_set_guard(s, ns + GUARD);
    ember_f32_dwconv_ref(ch, &g, x, w, with_bias ? b : NULL, want);
    kern->f32_dwconv.run(ch, &g, x, w, with_bias ? b : NULL, y, s);
    g_cases++;
    int bad = !kt_guard_ok(y + ny, GUARD) || !kt_guard_ok(s + ns, GUARD);
    if (bad)
        print_error("%s: c=%zu %zux%zu k=%zux%zu s=%zu,%zu pads=%zu,%zu,%zu,%zu: write past the "
                    "end of y or scratch\n", kern->isa, ch, ih, iw, kh, kw, sh, sw, pt, pl, pb, pr);
    for (size_t i = 0; i < ny && !bad; i++) {
        /* both sums are within (kvol + 1) eps sum|w x| (+ |b|) of the exact one;
         * |w|, |x| <= 1 */
        const double tol = 2.0 * (double)(kh * kw + 2) * FLT_EPSILON * (double)(kh * kw + 1);
        if (!(fabs((double)y[i] - (double)want[i]) <= tol)) {
            print_error("%s: c=%zu %zux%zu k=%zux%zu s=%zu,%zu pads=%zu,%zu,%zu,%zu bias=%d: "
                        "y[%zu] = %.9g, reference %.9g\n", kern->isa, ch, ih, iw, kh, kw, sh, sw,
                        pt, pl, pb, pr, with_bias, i, (double)y[i], (double)want[i]);
            bad = 1;
        }
    }
    g_failures += bad;
    free(x);
    free(w);
    free(b);
    free(want);
    free(y);
    free(s);
}

static void run_path(const char* isa) {
    const ember_kernels* kern = kt_kernels_or_skip(isa, "f32 dwconv path");
    assert_string_equal(kern->isa, isa);
    g_failures = 0;
    g_cases = 0;
    static const size_t chans[] = {1, 3, 8, 17, 32};
    static const size_t sides[] = {1, 2, 5, 7, 14, 31};
    static const size_t pads[][4] = {{0, 0, 0, 0}, {1, 1, 1, 1}, {2, 2, 2, 2},
                                     {0, 1, 0, 1}, {1, 0, 2, 1}, {2, 1, 0, 2}};
    const size_t nsides = sizeof sides / sizeof sides[0];
    size_t v = 0;
    for (size_t k = 3; k <= 5; k += 2)
        for (size_t st = 1; st <= 2; st++)
            for (size_t ic = 0; ic < sizeof chans / sizeof chans[0]; ic++)
                for (size_t ih = 0; ih < nsides; ih++)
                    for (size_t iw = 0; iw < nsides; iw++, v++) {
                        /* every pad set for a few channel counts, one otherwise */
                        const size_t np = sizeof pads / sizeof pads[0];
                        for (size_t p = 0; p < np; p++) {
                            if (chans[ic] > 3 && p != v % np) continue;
                            const size_t* pd = pads[p];
                            check(kern, chans[ic], sides[ih], sides[iw], k, k, st, st, pd[0],
                                  pd[1], pd[2], pd[3], (int)(v & 1));
                        }
                    }
    /* mixed strides, other kernels (the general loop), wide rows, big pads */
    static const size_t other[][10] = {
        /* c, ih, iw, kh, kw, sh, sw, pt, pl, pad end (both) */
        {3, 9, 40, 3, 3, 1, 2, 1, 1, 1}, {3, 40, 9, 3, 3, 2, 1, 1, 0, 1},
        {4, 12, 33, 1, 1, 1, 1, 0, 0, 0}, {2, 11, 23, 7, 7, 1, 1, 3, 3, 3},
        {2, 11, 23, 7, 7, 2, 2, 3, 3, 3}, {3, 10, 19, 3, 5, 1, 1, 1, 2, 2},
        {3, 10, 29, 3, 3, 3, 3, 1, 1, 1}, {2, 6, 6, 3, 3, 1, 1, 4, 5, 4},
        {2, 57, 113, 3, 3, 2, 2, 0, 1, 1}, {1, 3, 70, 5, 5, 1, 1, 2, 2, 2},
    };
    for (size_t i = 0; i < sizeof other / sizeof other[0]; i++)
        for (int bias = 0; bias < 2; bias++) {
            const size_t* o = other[i];
            check(kern, o[0], o[1], o[2], o[3], o[4], o[5], o[6], o[7], o[8], o[9], o[9], bias);
        }
    print_message("[          ] f32 dwconv path '%s': %zu cases\n", isa, g_cases);
    assert_int_equal(g_failures, 0);
}

KT_PATH_TESTS(run_path)

/* ---- the channel-blocked path ----
 * The blocked kernel itself (one block, [ih][iw][L]) and the op that reaches
 * it (em_conv_depthwise_run: gather, kernel, scatter, partial last block), on
 * 1 and 3 threads, against the reference: bit-identical (the kernel adds the
 * reference's products in its order). Channels 1..40, 7x7 / 14x14 / odd
 * planes, 3x3 / 5x5 / 7x7 / 3x5 / 1x1, strides 1, 2, 3, asymmetric pads. */
static int blocked_case(const ember_kernels* kern, em_pool* pool, size_t ch, size_t ih,
                        size_t iw, size_t kh, size_t kw, size_t sh, size_t sw, size_t pt,
                        size_t pl, size_t pb, size_t pr, int with_bias) {
    const size_t oh = kt_out_dim(ih, kh, sh, 1, pt, pb), ow = kt_out_dim(iw, kw, sw, 1, pl, pr);
    if (oh == 0 || ow == 0) return 0;
    const ember_dwconv_geom g = {.ih = ih, .iw = iw, .oh = oh, .ow = ow, .kh = kh, .kw = kw,
                                 .sh = sh, .sw = sw, .pad_top = pt, .pad_left = pl};
    const ember_window win = {.image = {1, ih, iw}, .out = {1, oh, ow}, .kernel = {1, kh, kw},
                              .stride = {1, sh, sw}, .dilation = {1, 1, 1},
                              .pad = {0, (ptrdiff_t)pt, (ptrdiff_t)pl},
                              .pad_end = {0, (ptrdiff_t)pb, (ptrdiff_t)pr}};
    assert_true(em_conv_depthwise_applies(ch, ch, ch, &win));
    const size_t L = kern->f32_dwconv.block, n = 2; /* two images */
    const size_t nx = n * ch * ih * iw, nw = ch * kh * kw, ny = n * ch * oh * ow;
    const size_t threads = em_pool_threads(pool);
    const size_t ns = em_conv_depthwise_scratch(kern, &win, threads);
    float* x = malloc(sizeof(float) * nx);
    float* w = malloc(sizeof(float) * nw);
    float* b = malloc(sizeof(float) * ch);
    float* want = malloc(sizeof(float) * ny);
    float* y = malloc(sizeof(float) * (ny + GUARD));
    float* s = malloc(ns + sizeof(float) * GUARD);
    float* xb = malloc(sizeof(float) * L * ih * iw);
    float* wb = malloc(sizeof(float) * L * kh * kw);
    float* yb = malloc(sizeof(float) * (L * oh * ow + GUARD));
    assert_true(x && w && b && want && y && s && xb && wb && yb);
    for (size_t i = 0; i < nx; i++) x[i] = frand();
    for (size_t i = 0; i < nw; i++) w[i] = frand();
    for (size_t i = 0; i < ch; i++) b[i] = frand();
    const float* bp = with_bias ? b : NULL;
    for (size_t i = 0; i < n; i++)
        ember_f32_dwconv_ref(ch, &g, x + i * ch * ih * iw, w, bp, want + i * ch * oh * ow);
    int bad = 0;
    /* the kernel alone on the first block of image 0 (lanes past ch zero) */
    if (ch <= L) {
        for (size_t p = 0; p < ih * iw; p++)
            for (size_t l = 0; l < L; l++) xb[p * L + l] = l < ch ? x[l * ih * iw + p] : 0.0f;
        for (size_t k = 0; k < kh * kw; k++)
            for (size_t l = 0; l < L; l++) wb[k * L + l] = l < ch ? w[l * kh * kw + k] : 0.0f;
        float bb[16] = {0};
        for (size_t l = 0; l < ch; l++) bb[l] = b[l];
        kt_set_guard(yb, L * oh * ow + GUARD);
        kern->f32_dwconv.blocked(&g, xb, wb, with_bias ? bb : NULL, yb);
        bad |= !kt_guard_ok(yb + L * oh * ow, GUARD);
        for (size_t p = 0; p < oh * ow && !bad; p++)
            for (size_t l = 0; l < ch && !bad; l++)
                if (memcmp(&yb[p * L + l], &want[l * oh * ow + p], sizeof(float)) != 0) {
                    print_error("%s blocked kernel: c=%zu %zux%zu k=%zux%zu s=%zu,%zu pads=%zu,%zu,"
                                "%zu,%zu: y[%zu][%zu] = %.9g, reference %.9g\n", kern->isa, ch,
                                ih, iw, kh, kw, sh, sw, pt, pl, pb, pr, p, l,
                                (double)yb[p * L + l], (double)want[l * oh * ow + p]);
                    bad = 1;
                }
    }
    /* the op */
    kt_set_guard(y, ny + GUARD);
    kt_set_guard(s + ns / sizeof(float), GUARD);
    em_conv_depthwise_run(pool, kern, n, ch, &win, x, w, bp, y, NULL, s);
    if (!kt_guard_ok(y + ny, GUARD) || !kt_guard_ok(s + ns / sizeof(float), GUARD)) {
        print_error("%s dwconv op: c=%zu %zux%zu: write past the end of y or scratch\n",
                    kern->isa, ch, ih, iw);
        bad = 1;
    }
    /* the op takes the blocked kernel from one block of channels and output
     * planes up to 3136 positions, 56x56 (BLOCKED_MAX_OUT of conv_depthwise.c): then
     * bit-identical; otherwise the planar kernels (FMA), within check()'s bound */
    const int blocked = ch >= L && oh * ow <= 3136;
    const double tol = 2.0 * (double)(kh * kw + 2) * FLT_EPSILON * (double)(kh * kw + 1);
    for (size_t i = 0; i < ny && !bad; i++)
        if (blocked ? memcmp(&y[i], &want[i], sizeof(float)) != 0
                    : !(fabs((double)y[i] - (double)want[i]) <= tol)) {
            print_error("%s dwconv op (%zu threads): c=%zu %zux%zu k=%zux%zu s=%zu,%zu pads=%zu,"
                        "%zu,%zu,%zu bias=%d: y[%zu] = %.9g, reference %.9g\n", kern->isa,
                        threads, ch, ih, iw, kh, kw, sh, sw, pt, pl, pb, pr, with_bias, i,
                        (double)y[i], (double)want[i]);
            bad = 1;
        }
    free(x);
    free(w);
    free(b);
    free(want);
    free(y);
    free(s);
    free(xb);
    free(wb);
    free(yb);
    g_cases++;
    return bad;
}

static void run_blocked(const char* isa) {
    const ember_kernels* kern = kt_kernels_or_skip(isa, "f32 dwconv blocked");
    assert_non_null(kern->f32_dwconv.blocked);
    assert_true(kern->f32_dwconv.block == 8 || kern->f32_dwconv.block == 16);
    em_pool* pools[2] = {NULL, em_pool_create(3)}; /* NULL: the caller only */
    assert_non_null(pools[1]);
    g_failures = 0;
    g_cases = 0;
    static const size_t sides[][2] = {{7, 7}, {14, 14}, {5, 9}, {1, 1}, {2, 3}, {17, 11}};
    static const size_t kers[][4] = {/* kh, kw, sh, sw */
                                     {3, 3, 1, 1}, {3, 3, 2, 2}, {5, 5, 1, 1}, {5, 5, 2, 2},
                                     {7, 7, 1, 1}, {3, 5, 1, 2}, {1, 1, 1, 1}, {3, 3, 3, 3}};
    static const size_t pads[][4] = {{1, 1, 1, 1}, {0, 0, 0, 0}, {0, 1, 1, 0},
                                     {2, 2, 2, 2}, {1, 0, 2, 1}, {3, 2, 0, 4}};
    size_t v = 0;
    for (size_t ch = 1; ch <= 40; ch++)
        for (size_t si = 0; si < sizeof sides / sizeof sides[0]; si++)
            for (size_t ki = 0; ki < sizeof kers / sizeof kers[0]; ki++, v++) {
                /* all pads for a few channel counts, one otherwise */
                const int all = ch == 1 || ch == 16 || ch == 17 || ch == 40;
                for (size_t p = 0; p < sizeof pads / sizeof pads[0]; p++) {
                    if (!all && p != v % (sizeof pads / sizeof pads[0])) continue;
                    const size_t* k = kers[ki];
                    const size_t* pd = pads[p];
                    g_failures += blocked_case(kern, pools[v & 1], ch, sides[si][0], sides[si][1],
                                               k[0], k[1], k[2], k[3], pd[0], pd[1], pd[2], pd[3],
                                               (int)((v >> 1) & 1));
                }
            }
    /* mobilenet-sized layers on both pools (several blocks a task), and one
     * whose output plane keeps it planar */
    g_failures += blocked_case(kern, pools[1], 144, 28, 28, 3, 3, 2, 2, 0, 0, 1, 1, 1);
    g_failures += blocked_case(kern, pools[0], 96, 14, 14, 3, 3, 1, 1, 1, 1, 1, 1, 0);
    g_failures += blocked_case(kern, pools[1], 672, 7, 7, 5, 5, 1, 1, 2, 2, 2, 2, 1);
    g_failures += blocked_case(kern, pools[1], 48, 28, 28, 3, 3, 1, 1, 1, 1, 1, 1, 1);
    /* 28x28 and 56x56 outputs (blocked since the vectorised gather and scatter),
     * channel tails 24..40, and a 112x112 output that stays planar */
    for (size_t ch = 24; ch <= 40; ch++) {
        g_failures += blocked_case(kern, pools[ch & 1], ch, 28, 28, 3, 3, 1, 1, 1, 1, 1, 1,
                                   (int)(ch & 1));
        g_failures += blocked_case(kern, pools[(ch + 1) & 1], ch, 56, 56, 3, 3, 1, 1, 1, 1, 1,
                                   1, (int)((ch >> 1) & 1));
        g_failures += blocked_case(kern, pools[ch & 1], ch, 112, 112, 5, 5, 2, 2, 1, 2, 2, 1,
                                   (int)((ch >> 2) & 1)); /* 55x55 out */
    }
    g_failures += blocked_case(kern, pools[1], 32, 112, 112, 3, 3, 1, 1, 1, 1, 1, 1, 1);
    em_pool_destroy(pools[0]);
    em_pool_destroy(pools[1]);
    print_message("[          ] f32 dwconv blocked '%s': %zu cases\n", isa, g_cases);
    assert_int_equal(g_failures, 0);
}

/* The table's gather and scatter against plain-C copies written out here
 * (the contract of dispatch.h): every nb in 1..L, position counts
 * around and between tile multiples, a row stride past n; bit-identical, the
 * zero lanes of a partial block, and nothing written outside. */
static void run_gather_scatter(const char* isa) {
    const ember_kernels* kern = kt_kernels_or_skip(isa, "f32 dwconv gather/scatter");
    assert_non_null(kern->f32_dwconv.gather);
    assert_non_null(kern->f32_dwconv.scatter);
    const size_t L = kern->f32_dwconv.block;
    static const size_t ns[] = {0, 1, 2, 3, 5, 7, 8, 9, 15, 16, 17, 23, 31, 32, 33, 49, 63, 64, 65, 100, 197};
    size_t cases = 0;
    int bad = 0;
    for (size_t ni = 0; ni < sizeof ns / sizeof ns[0]; ni++)
        for (size_t nb = 1; nb <= L; nb++) {
            const size_t n = ns[ni], stride = n + 3, nx = L * stride, nbuf = L * n;
            float* x = malloc(sizeof(float) * (nx + 1));
            float* xb = malloc(sizeof(float) * (nbuf + GUARD));
            float* want = malloc(sizeof(float) * (nbuf + 1));
            float* y = malloc(sizeof(float) * (nx + GUARD));
            float* ywant = malloc(sizeof(float) * (nx + 1));
            assert_true(x && xb && want && y && ywant);
            for (size_t i = 0; i < nx; i++) x[i] = frand();
            /* gather */
            for (size_t p = 0; p < n; p++)
                for (size_t l = 0; l < L; l++) want[p * L + l] = l < nb ? x[l * stride + p] : 0.0f;
            kt_set_guard(xb, nbuf + GUARD);
            kern->f32_dwconv.gather(nb, n, x, stride, xb);
            if (memcmp(xb, want, sizeof(float) * nbuf) != 0 || !kt_guard_ok(xb + nbuf, GUARD)) {
                print_error("%s gather: nb=%zu n=%zu differs or writes past the end\n", isa, nb, n);
                bad = 1;
            }
            /* scatter of a buffer with every lane set: lanes >= nb must not land */
            for (size_t i = 0; i < nbuf; i++) want[i] = frand();
            kt_set_guard(y, nx + GUARD);
            for (size_t i = 0; i < nx; i++) ywant[i] = y[i];
            for (size_t l = 0; l < nb; l++)
                for (size_t p = 0; p < n; p++) ywant[l * stride + p] = want[p * L + l];
            kern->f32_dwconv.scatter(nb, n, want, y, stride);
            if (memcmp(y, ywant, sizeof(float) * nx) != 0 || !kt_guard_ok(y + nx, GUARD)) {
                print_error("%s scatter: nb=%zu n=%zu differs or writes outside\n", isa, nb, n);
                bad = 1;
            }
            free(x);
            free(xb);
            free(want);
            free(y);
            free(ywant);
            cases++;
        }
    print_message("[          ] f32 dwconv gather/scatter '%s': %zu cases\n", isa, cases);
    assert_int_equal(bad, 0);
}

static void test_gather_scatter_avx2(void** state) {
    (void)state;
    run_gather_scatter("avx2");
}
static void test_gather_scatter_avx512(void** state) {
    (void)state;
    run_gather_scatter("avx512");
}

static void test_blocked_avx2(void** state) {
    (void)state;
    run_blocked("avx2");
}
static void test_blocked_avx512(void** state) {
    (void)state;
    run_blocked("avx512");
}
/* The portable tables keep the planar path only. */
static void test_blocked_none(void** state) {
    (void)state;
    const ember_kernels* kern = ember_kernels_for("generic");
    assert_non_null(kern);
    assert_null(kern->f32_dwconv.blocked);
    assert_int_equal(kern->f32_dwconv.block, 0);
    assert_null(kern->f32_dwconv.gather);
    assert_null(kern->f32_dwconv.scatter);
}

/* The reference on a hand-computed case: 3x3 all-ones kernel over a 3x3 image
 * of ones with pad 1 counts the image positions under the window. */
static void test_reference(void** state) {
    (void)state;
    const ember_dwconv_geom g = {.ih = 3, .iw = 3, .oh = 3, .ow = 3, .kh = 3, .kw = 3,
                                 .sh = 1, .sw = 1, .pad_top = 1, .pad_left = 1};
    float x[9], w[9], y[9];
    for (int i = 0; i < 9; i++) x[i] = w[i] = 1.0f;
    const float bias = 0.5f;
    ember_f32_dwconv_ref(1, &g, x, w, &bias, y);
    static const float want[9] = {4.5f, 6.5f, 4.5f, 6.5f, 9.5f, 6.5f, 4.5f, 6.5f, 4.5f};
    for (int i = 0; i < 9; i++) assert_true(y[i] == want[i]);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reference), cmocka_unit_test(test_generic),
        cmocka_unit_test(test_avx2),      cmocka_unit_test(test_avx512),
        cmocka_unit_test(test_neon),      cmocka_unit_test(test_blocked_avx2),
        cmocka_unit_test(test_blocked_avx512), cmocka_unit_test(test_blocked_none),
        cmocka_unit_test(test_gather_scatter_avx2), cmocka_unit_test(test_gather_scatter_avx512),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
