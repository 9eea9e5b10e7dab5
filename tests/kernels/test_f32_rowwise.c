/* The row-wise kernels (f32_rowwise.h: softmax, log-softmax, layer
 * normalization) on every path this CPU can run, against the references
 * (generic/nn_ref.h, which compute in double and round once). The generic path
 * is the reference itself and must match it bit for bit. On the vector paths,
 * with r the reference value and ulp(r) its float ulp (the smallest subnormal
 * at the bottom), the bounds enforced are:
 *     softmax      |y - r| <= 4 ulp(r)
 *     log-softmax  |y - r| <= 2 ulp(r) + 2^-22
 *     layernorm    |y - r| <= 2 ulp(r) + 2^-22 |scale (x - mean) inv_std_dev|
 *                  + 2^-52 sum|x| |scale inv_std_dev| (the mean's own uncertainty);
 *                  mean and inv_std_dev within 1 ulp (the mean + 2^-52 sum |x|: both
 *                  sum in double, in different orders)
 * (exp is within 2 ulp and the sums are in double, so none of these grows with
 * the row length; the absolute terms cover the float rounding of x - m - log s
 * and of (x - mean) * inv). NaN where the reference gives NaN and nowhere else;
 * infinities equal. Shapes: rows of n = 1 to 40, primes, vector multiples +- 1
 * and long rows; other axes (inner > 1) with inner below, at and above the
 * vector width; special values (-inf entries, rows of only -inf, NaN, +inf,
 * +-FLT_MAX, large offsets). Guard values after y; in place (y == x); rows
 * split in two calls equal to one call (what threading does). The worst error
 * measured is printed. A path the CPU cannot run is skipped with a message. */
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
#include "f32_rowwise.h"
#include "generic/nn_ref.h"

#define GUARD 16
static const uint32_t GUARD_BITS = 0x7fa5a5a5u;

#define SOFTMAX_ULPS 4.0
#define LOG_SOFTMAX_ULPS 2.0
#define LOG_SOFTMAX_ABS 0x1p-22
#define LAYERNORM_ULPS 2.0
#define LAYERNORM_REL 0x1p-22
#define MOMENT_ULPS 1.0

static uint32_t g_rng = 12345;
static float frand(float lo, float hi) {
    g_rng = g_rng * 1664525u + 1013904223u;
    return lo + (hi - lo) * (float)(g_rng >> 8) / 16777216.0f;
}

static double ulp_of(double t) {
    const double a = fabs(t);
    if (a < 0x1p-126) return 0x1p-149;
    int e;
    frexp(a, &e);
    return ldexp(1.0, e - 24);
}

static int g_failures;
static double g_worst_sm, g_worst_lsm, g_worst_ln, g_worst_mom; /* in units of the bound */
static double g_worst_sm_ulp;

static void guard_fill(float* p, size_t n) {
    for (size_t i = 0; i < n; i++) memcpy(&p[i], &GUARD_BITS, 4);
}
static int guard_ok(const float* p, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (memcmp(&p[i], &GUARD_BITS, 4) != 0) return 0;
    return 1;
}

/* Compares y with the reference r (count values); which: 0 softmax, 1 log-softmax. */
static int check_softmax(const char* isa, int which, int exact, size_t outer, size_t n,
                         size_t inner, const float* x, const float* y, const float* r) {
    const size_t count = outer * n * inner;
    for (size_t i = 0; i < count; i++) {
        const char* what = which ? "log_softmax" : "softmax";
        if (exact || isnan(r[i]) || isnan(y[i]) || isinf(r[i]) || isinf(y[i])) {
            const int same = (isnan(r[i]) && isnan(y[i])) || r[i] == y[i];
            if (!same) {
                print_error("%s %s %zux%zux%zu [%zu] (x %.9g): %.9g, reference %.9g\n", isa, what,
                            outer, n, inner, i, (double)x[i], (double)y[i], (double)r[i]);
                return 0;
            }
            continue;
        }
        const double err = fabs((double)y[i] - (double)r[i]);
        const double bound = which ? LOG_SOFTMAX_ULPS * ulp_of(r[i]) + LOG_SOFTMAX_ABS
                                   : SOFTMAX_ULPS * ulp_of(r[i]);
        double* worst = which ? &g_worst_lsm : &g_worst_sm;
        if (err / bound > *worst) *worst = err / bound;
        if (!which && err / ulp_of(r[i]) > g_worst_sm_ulp) g_worst_sm_ulp = err / ulp_of(r[i]);
        if (!(err <= bound)) {
            print_error("%s %s %zux%zux%zu [%zu] (x %.9g): %.9g, reference %.9g: error %.3g > %.3g\n",
                        isa, what, outer, n, inner, i, (double)x[i], (double)y[i], (double)r[i],
                        err, bound);
            return 0;
        }
    }
    return 1;
}

/* kind: 0 uniform [-10, 10], 1 wide [-100, 100], 2 offset 1000 +- 5, 3 specials sprinkled,
 * 4 one row of only -inf, 5 tiny [-1e-3, 1e-3] */
static void fill(float* x, size_t count, size_t n, int kind) {
    for (size_t i = 0; i < count; i++) {
        switch (kind) {
        case 0: x[i] = frand(-10, 10); break;
        case 1: x[i] = frand(-100, 100); break;
        case 2: x[i] = 1000.0f + frand(-5, 5); break;
        case 5: x[i] = frand(-1e-3f, 1e-3f); break;
        case 6: x[i] = 30000.0f + frand(-0.1f, 0.1f); break; /* mean^2 ~ 3e11 var */
        default: x[i] = frand(-30, 30); break;
        }
    }
    if (kind == 3) {
        static const float SPECIAL[] = {-INFINITY, -INFINITY, NAN, INFINITY, FLT_MAX, -FLT_MAX,
                                        -1e30f, 1e30f, 0.0f, -0.0f};
        const size_t ns = sizeof SPECIAL / sizeof SPECIAL[0];
        for (size_t i = 0; i < count; i += 1 + (size_t)(frand(0, 1) * 23)) x[i] = SPECIAL[i % ns];
    }
    if (kind == 4)
        for (size_t i = 0; i < n && i < count; i++) x[i] = -INFINITY; /* first row / slices */
}

static void run_softmax_shape(const ember_kernels* kern, size_t outer, size_t n, size_t inner) {
    const int exact = strcmp(kern->isa, "generic") == 0;
    const size_t count = outer * n * inner;
    float* x = malloc(sizeof(float) * (count + 1));
    float* y = malloc(sizeof(float) * (count + GUARD));
    float* r = malloc(sizeof(float) * (count + 1));
    assert_true(x && y && r);
    for (int kind = 0; kind < 6; kind++) {
        fill(x, count, inner == 1 ? n : n * inner, kind);
        for (int which = 0; which < 2; which++) {
            const ember_f32_softmax_fn fn =
                which ? kern->f32_softmax.log_softmax : kern->f32_softmax.softmax;
            assert_non_null(fn);
            (which ? ember_f32_log_softmax_ref : ember_f32_softmax_ref)(outer, n, inner, x, r);
            guard_fill(y, count + GUARD);
            fn(outer, n, inner, x, y);
            if (!guard_ok(y + count, GUARD)) {
                print_error("%s %zux%zux%zu wrote past y\n", kern->isa, outer, n, inner);
                g_failures++;
            }
            g_failures += !check_softmax(kern->isa, which, exact, outer, n, inner, x, y, r);
            /* rows in two calls (as threads share them out): the same bits */
            if (outer > 1) {
                float* y2 = malloc(sizeof(float) * count);
                assert_non_null(y2);
                const size_t half = outer / 2, vol = n * inner;
                fn(half, n, inner, x, y2);
                fn(outer - half, n, inner, x + half * vol, y2 + half * vol);
                if (memcmp(y, y2, sizeof(float) * count) != 0) {
                    print_error("%s %zux%zux%zu: split rows differ\n", kern->isa, outer, n, inner);
                    g_failures++;
                }
                free(y2);
            }
            /* in place */
            memcpy(y, x, sizeof(float) * count);
            fn(outer, n, inner, y, y);
            g_failures += !check_softmax(kern->isa, which, exact, outer, n, inner, x, y, r);
        }
    }
    free(x);
    free(y);
    free(r);
}

static void run_softmax(const ember_kernels* kern) {
    for (size_t n = 1; n <= 40; n++) run_softmax_shape(kern, 3, n, 1);
    static const size_t LONG[] = {47, 63, 64, 65, 97, 127, 128, 129, 257, 1000, 1021, 4096, 10007};
    for (size_t i = 0; i < sizeof LONG / sizeof LONG[0]; i++)
        run_softmax_shape(kern, LONG[i] > 2000 ? 2 : 5, LONG[i], 1);
    static const size_t OTHER[][3] = {{2, 5, 3}, {3, 17, 16}, {2, 9, 33}, {1, 1, 7}, {2, 64, 20},
                                      {4, 3, 8}, {1, 31, 17}, {2, 2, 2}, {1, 130, 5}};
    for (size_t i = 0; i < sizeof OTHER / sizeof OTHER[0]; i++)
        run_softmax_shape(kern, OTHER[i][0], OTHER[i][1], OTHER[i][2]);
}

static int check_ln(const char* isa, int exact, size_t rows, size_t cols, const float* x,
                    const float* scale, const float* y, const float* r, const float* mean,
                    const float* inv, const float* rmean, const float* rinv) {
    for (size_t i = 0; i < rows; i++) {
        const float* pairs[2][2] = {{&mean[i], &rmean[i]}, {&inv[i], &rinv[i]}};
        for (int k = 0; k < 2; k++) {
            const float a = *pairs[k][0], b = *pairs[k][1];
            if (isnan(a) || isnan(b) || isinf(a) || isinf(b) || exact) {
                if (!((isnan(a) && isnan(b)) || a == b)) {
                    print_error("%s layernorm %zux%zu row %zu %s %.9g, reference %.9g\n", isa, rows,
                                cols, i, k ? "inv_std_dev" : "mean", (double)a, (double)b);
                    return 0;
                }
                continue;
            }
            /* both sum in double in their own order: n 2^-53 sum|x| / n apart at most */
            double sabs = 0;
            for (size_t j = 0; k == 0 && j < cols; j++) sabs += fabs((double)x[i * cols + j]);
            const double e = fabs((double)a - (double)b) / (MOMENT_ULPS * ulp_of(b) + 0x1p-52 * sabs);
            if (e > g_worst_mom) g_worst_mom = e;
            if (!(e <= 1.0)) {
                print_error("%s layernorm %zux%zu row %zu %s %.9g, reference %.9g\n", isa, rows,
                            cols, i, k ? "inv_std_dev" : "mean", (double)a, (double)b);
                return 0;
            }
        }
        double sabs = 0; /* the mean's uncertainty is 2^-52 sum |x| (see above) */
        for (size_t j = 0; j < cols; j++) sabs += fabs((double)x[i * cols + j]);
        for (size_t j = 0; j < cols; j++) {
            const size_t q = i * cols + j;
            if (exact || isnan(r[q]) || isnan(y[q]) || isinf(r[q]) || isinf(y[q])) {
                if (!((isnan(r[q]) && isnan(y[q])) || r[q] == y[q])) {
                    print_error("%s layernorm %zux%zu [%zu][%zu]: %.9g, reference %.9g\n", isa, rows,
                                cols, i, j, (double)y[q], (double)r[q]);
                    return 0;
                }
                continue;
            }
            const double t = ((double)x[q] - rmean[i]) * rinv[i] * scale[j];
            const double bound = LAYERNORM_ULPS * ulp_of(r[q]) + LAYERNORM_REL * fabs(t) +
                                 0x1p-52 * sabs * fabs((double)rinv[i] * scale[j]);
            const double err = fabs((double)y[q] - (double)r[q]);
            if (err / bound > g_worst_ln) g_worst_ln = err / bound;
            if (!(err <= bound)) {
                print_error("%s layernorm %zux%zu [%zu][%zu] (x %.9g): %.9g, reference %.9g: "
                            "error %.3g > %.3g\n",
                            isa, rows, cols, i, j, (double)x[q], (double)y[q], (double)r[q], err,
                            bound);
                return 0;
            }
        }
    }
    return 1;
}

static void run_ln_shape(const ember_kernels* kern, size_t rows, size_t cols) {
    const int exact = strcmp(kern->isa, "generic") == 0;
    const size_t count = rows * cols;
    float* x = malloc(sizeof(float) * (count + 1));
    float* y = malloc(sizeof(float) * (count + GUARD));
    float* r = malloc(sizeof(float) * (count + 1));
    float* sc = malloc(sizeof(float) * (cols + 1));
    float* bi = malloc(sizeof(float) * (cols + 1));
    float* st = malloc(sizeof(float) * 4 * (rows + 1));
    assert_true(x && y && r && sc && bi && st);
    float *mean = st, *inv = st + rows + 1, *rmean = st + 2 * (rows + 1), *rinv = st + 3 * (rows + 1);
    for (size_t j = 0; j < cols; j++) {
        sc[j] = frand(-2, 2);
        bi[j] = frand(-1, 1);
    }
    for (int kind = 0; kind < 7; kind++) {
        if (kind == 4) continue; /* -inf rows: covered by kind 3 */
        fill(x, count, cols, kind);
        for (int with_bias = 0; with_bias < 2; with_bias++) {
            const float* b = with_bias ? bi : NULL;
            const float eps = kind == 5 ? 1e-12f : 1e-5f;
            ember_f32_layernorm_ref(rows, cols, x, sc, b, eps, r, rmean, rinv);
            guard_fill(y, count + GUARD);
            kern->f32_layernorm(rows, cols, x, sc, b, eps, y, mean, inv);
            if (!guard_ok(y + count, GUARD)) {
                print_error("%s layernorm %zux%zu wrote past y\n", kern->isa, rows, cols);
                g_failures++;
            }
            g_failures += !check_ln(kern->isa, exact, rows, cols, x, sc, y, r, mean, inv, rmean, rinv);
            if (rows > 1) { /* rows split in two calls; no mean / inv wanted */
                float* y2 = malloc(sizeof(float) * count);
                assert_non_null(y2);
                const size_t half = rows / 2;
                kern->f32_layernorm(half, cols, x, sc, b, eps, y2, NULL, NULL);
                kern->f32_layernorm(rows - half, cols, x + half * cols, sc, b, eps,
                                    y2 + half * cols, NULL, NULL);
                if (memcmp(y, y2, sizeof(float) * count) != 0) {
                    print_error("%s layernorm %zux%zu: split rows differ\n", kern->isa, rows, cols);
                    g_failures++;
                }
                free(y2);
            }
            memcpy(y, x, sizeof(float) * count); /* in place */
            kern->f32_layernorm(rows, cols, y, sc, b, eps, y, mean, inv);
            g_failures += !check_ln(kern->isa, exact, rows, cols, x, sc, y, r, mean, inv, rmean, rinv);
        }
    }
    free(x);
    free(y);
    free(r);
    free(sc);
    free(bi);
    free(st);
}

static void run_layernorm(const ember_kernels* kern) {
    assert_non_null(kern->f32_layernorm);
    for (size_t c = 1; c <= 40; c++) run_ln_shape(kern, 3, c);
    static const size_t LONG[] = {47, 63, 64, 65, 100, 127, 256, 257, 768, 1023, 4099};
    for (size_t i = 0; i < sizeof LONG / sizeof LONG[0]; i++) run_ln_shape(kern, 4, LONG[i]);
}

static void run_path(const char* isa) {
    const ember_kernels* kern = kt_kernels_or_skip(isa, "f32 row-wise path");
    g_failures = 0;
    g_worst_sm = g_worst_lsm = g_worst_ln = g_worst_mom = g_worst_sm_ulp = 0;
    run_softmax(kern);
    run_layernorm(kern);
    print_message("[          ] %s: worst error / bound: softmax %.3f (%.2f ulp, bound %.0f), "
                  "log_softmax %.3f, layernorm %.3f, mean/inv_std_dev %.3f\n",
                  isa, g_worst_sm, g_worst_sm_ulp, SOFTMAX_ULPS, g_worst_lsm, g_worst_ln,
                  g_worst_mom);
    assert_int_equal(g_failures, 0);
}

KT_PATH_TESTS(run_path)

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_generic), cmocka_unit_test(test_avx2),
        cmocka_unit_test(test_avx512),  cmocka_unit_test(test_neon),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
