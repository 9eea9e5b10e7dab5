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

#define GUARD 64
static uint32_t g_rng = 4242;
static float frand(void) { return kt_frand(&g_rng); }

static int g_failures;
static size_t g_cases;

/* Output size along one axis; 0 when the window never fits. */
static size_t out_dim(size_t in, size_t k, size_t s, size_t p0, size_t p1) {
    if (in + p0 + p1 < k) return 0;
    return (in + p0 + p1 - k) / s + 1;
}

static void check(const ember_kernels* kern, size_t ch, size_t ih, size_t iw, size_t kh,
                  size_t kw, size_t sh, size_t sw, size_t pt, size_t pl, size_t pb, size_t pr,
                  int with_bias) {
    const size_t oh = out_dim(ih, kh, sh, pt, pb), ow = out_dim(iw, kw, sw, pl, pr);
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
    const ember_kernels* kern = ember_kernels_for(isa);
    if (!kern) {
        print_message("[  SKIP    ] f32 dwconv path '%s': this CPU or build cannot run it\n", isa);
        skip();
    }
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

static void test_generic(void** state) {
    (void)state;
    run_path("generic");
}
static void test_avx2(void** state) {
    (void)state;
    run_path("avx2");
}
static void test_avx512(void** state) {
    (void)state;
    run_path("avx512");
}
static void test_neon(void** state) {
    (void)state;
    run_path("neon");
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
        cmocka_unit_test(test_neon),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
