/* The dispatched F32 GEMM (f32_gemm.h) on every path this CPU can run, against
 * the reference kernel: sizes below, at and above the register tiles and the
 * cache blocks, transposed and strided operands, alpha and beta, guard bytes
 * after C and after the workspace. A path the CPU cannot run is skipped with a
 * message. With EMBER_ISA set, also checks the forced default. */
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

#include "cpu.h"
#include "dispatch.h"
#include "f32_gemm.h"
#include "generic/nn_ref.h"

#define GUARD 64
static uint32_t g_rng = 12345;
static float frand(void) { return kt_frand(&g_rng); }

typedef struct gcase {
    size_t m, n, k;
    int ta, tb;
    size_t pad_a, pad_b, pad_c;  /* extra elements per row of the stored matrix */
    float alpha, beta;
} gcase;

static int g_failures;
static size_t g_cases;

static void check_case(const ember_kernels* kern, const gcase* t) {
    const size_t m = t->m, n = t->n, k = t->k;
    /* Stored A: m x k (or k x m transposed) with rows padded by pad_a. */
    const size_t a_rows = t->ta ? k : m, a_cols = t->ta ? m : k, lda = a_cols + t->pad_a;
    const size_t b_rows = t->tb ? n : k, b_cols = t->tb ? k : n, ldb = b_cols + t->pad_b;
    const size_t ldc = n + t->pad_c;
    float* a = malloc(sizeof(float) * (a_rows * lda + 1));
    float* b = malloc(sizeof(float) * (b_rows * ldb + 1));
    float* c0 = malloc(sizeof(float) * (m * ldc + 1));
    float* c = malloc(sizeof(float) * (m * ldc + GUARD));
    float* want = malloc(sizeof(float) * (m * ldc + 1));
    const size_t ws_bytes = ember_f32_gemm_workspace_size(kern, m, n, k);
    const size_t ws_floats = (ws_bytes + 3) / 4;
    float* ws = malloc(sizeof(float) * (ws_floats + GUARD));
    assert_non_null(a);
    assert_non_null(b);
    assert_non_null(c0);
    assert_non_null(c);
    assert_non_null(want);
    assert_non_null(ws);
    for (size_t i = 0; i < a_rows * lda; i++) a[i] = frand();
    for (size_t i = 0; i < b_rows * ldb; i++) b[i] = frand();
    for (size_t i = 0; i < m * ldc; i++) c0[i] = frand();
    if (t->beta == 0.0f) /* C must not be read: NaNs must not propagate */
        for (size_t i = 0; i < m; i++)
            for (size_t j = 0; j < n; j++) c0[i * ldc + j] = NAN;
    memcpy(want, c0, sizeof(float) * m * ldc);
    memcpy(c, c0, sizeof(float) * m * ldc);
    kt_set_guard(c + m * ldc, GUARD);
    kt_set_guard(ws, ws_floats + GUARD);
    const size_t a_rs = t->ta ? 1 : lda, a_cs = t->ta ? lda : 1;
    const size_t b_rs = t->tb ? 1 : ldb, b_cs = t->tb ? ldb : 1;
    ember_f32_gemm_ref(m, n, k, t->alpha, a, a_rs, a_cs, b, b_rs, b_cs, t->beta, want, ldc);
    ember_f32_gemm(kern, m, n, k, t->alpha, a, a_rs, a_cs, b, b_rs, b_cs, t->beta, c, ldc, ws);
    g_cases++;
    int bad = !kt_guard_ok(c + m * ldc, GUARD) || !kt_guard_ok(ws + ws_floats, GUARD);
    if (bad)
        print_error("%s: m=%zu n=%zu k=%zu ta=%d tb=%d: write past the end of C or workspace\n",
                    kern->isa, m, n, k, t->ta, t->tb);
    for (size_t i = 0; i < m && !bad; i++)
        for (size_t j = 0; j < ldc && !bad; j++) {
            const float got = c[i * ldc + j], ref = want[i * ldc + j];
            if (j >= n) { /* the padding of C's rows is untouched */
                if (memcmp(&got, &c0[i * ldc + j], 4) != 0) {
                    print_error("%s: m=%zu n=%zu k=%zu: padding C[%zu][%zu] written\n", kern->isa,
                                m, n, k, i, j);
                    bad = 1;
                }
                continue;
            }
            /* Both results are within k * eps * sum|alpha a b| (+ the beta term)
             * of the exact value; allow twice that between them. */
            double s = 0.0;
            for (size_t p = 0; p < k; p++)
                s += fabs((double)a[i * a_rs + p * a_cs] * (double)b[p * b_rs + j * b_cs]);
            s *= fabs((double)t->alpha);
            if (t->beta != 0.0f) s += fabs((double)t->beta * (double)c0[i * ldc + j]);
            const double tol = 2.0 * (double)(k + 2) * FLT_EPSILON * s + 1e-30;
            if (!(fabs((double)got - (double)ref) <= tol)) {
                print_error("%s: m=%zu n=%zu k=%zu ta=%d tb=%d alpha=%g beta=%g: C[%zu][%zu] = %.9g, "
                            "reference %.9g (tol %.3g)\n", kern->isa, m, n, k, t->ta, t->tb,
                            (double)t->alpha, (double)t->beta, i, j, (double)got, (double)ref, tol);
                bad = 1;
            }
        }
    g_failures += bad;
    free(a);
    free(b);
    free(c0);
    free(c);
    free(want);
    free(ws);
}

static const float ALPHA_BETA[][2] = {{1.0f, 0.0f}, {1.0f, 1.0f}, {0.5f, -1.5f}, {-2.0f, 0.25f}};

static void sweep(const ember_kernels* kern) {
    static const size_t small[] = {1, 2, 3, 5, 7, 8, 13, 16, 17, 31, 33};
    static const size_t ks[] = {1, 2, 5, 16, 31};
    const size_t ns = sizeof small / sizeof small[0];
    size_t v = 0;
    for (size_t im = 0; im < ns; im++)
        for (size_t in = 0; in < ns; in++)
            for (size_t ik = 0; ik < sizeof ks / sizeof ks[0]; ik++)
                for (int tr = 0; tr < 4; tr++, v++) {
                    const gcase t = {.m = small[im], .n = small[in], .k = ks[ik], .ta = tr & 1,
                                     .tb = tr >> 1, .pad_a = v % 3, .pad_b = (v / 3) % 2 * 5,
                                     .pad_c = (v / 2) % 2 * 3, .alpha = ALPHA_BETA[v % 4][0],
                                     .beta = ALPHA_BETA[v % 4][1]};
                    check_case(kern, &t);
                }
    /* Larger: above the register tiles and across the cache blocks (K > kc,
     * M > mc, N > nc) */
    static const size_t big[][3] = {{64, 64, 64},  {97, 128, 257}, {257, 97, 128}, {128, 257, 97},
                                    {13, 257, 600}, {300, 31, 17},  {5, 2100, 17},  {1, 1, 1000},
                                    {64, 1, 257},  {1, 97, 513},   {33, 70, 1100}};
    for (size_t i = 0; i < sizeof big / sizeof big[0]; i++)
        for (int tr = 0; tr < 4; tr++, v++) {
            const gcase t = {.m = big[i][0], .n = big[i][1], .k = big[i][2], .ta = tr & 1,
                             .tb = tr >> 1, .pad_a = tr == 3 ? 7 : 0, .pad_b = tr == 2 ? 3 : 0,
                             .pad_c = tr == 1 ? 5 : 0, .alpha = ALPHA_BETA[v % 4][0],
                             .beta = ALPHA_BETA[v % 4][1]};
            check_case(kern, &t);
        }
}

/* ---- the micro-kernel's epilogue entry ----
 * Every m x n corner of the register tile (partial tiles included), kc 0 to
 * 37, beta 0, 1 and -1.5, with and without the row bias and the column bias
 * (a MatMul's; read only for the tile's n columns), no clamp, the Relu clamp and a
 * Clip, and every activation: ukernel_ep must write, bit for bit (any NaN
 * for a NaN), what the plain micro-kernel followed by its portable twin
 * (ember_f32_gemm_epilogue_tile: bias and clamp in C, the activation by the
 * table's elementwise kernel) writes, touch nothing outside the corner, and
 * not read C when beta is 0. Independently of the twin, the activated values
 * are checked against the activation of the un-activated tile in double
 * (so a twin that applied the wrong activation would fail too), and without
 * clamp or activation the biased tile against (C[i][j] + col_bias[j]) +
 * bias[i] computed here. */
static const char* const ACT_NAMES[EMBER_GEMM_ACT_COUNT] = {"none", "sigmoid", "hard_swish",
                                                            "silu", "gelu"};

static double act_truth(ember_f32_gemm_act act, double x) {
    switch (act) {
    case EMBER_GEMM_ACT_SIGMOID: return 1.0 / (1.0 + exp(-x));
    case EMBER_GEMM_ACT_HARD_SWISH: return x * fmin(1.0, fmax(0.0, x / 6.0 + 0.5));
    case EMBER_GEMM_ACT_SILU: return x / (1.0 + exp(-x));
    case EMBER_GEMM_ACT_GELU: return 0.5 * x * erfc(-x / sqrt(2.0));
    default: return x;
    }
}

/* |got - truth(x)| within 4 ulp of the result plus 2^-149 |x| (the bounds of
 * tests/kernels/test_f32_vunary.c), plus 2^-22 |x| for hard_swish (x / 6 + 0.5
 * rounds to 2^-24 absolute and cancels near x = -3, then is scaled by x) and
 * 2^-24 |x| for gelu (test_f32_vunary.c's bound) */
static int act_close(ember_f32_gemm_act act, float x, float got) {
    if (isnan(x)) return isnan(got);
    const double t = act_truth(act, (double)x);
    if (isnan(t)) return isnan(got); /* hard_swish(-inf) = -inf * 0, as the reference */
    if (isinf(t)) return (double)got == t;
    const double ulp = fmax(ldexp(fabs(t), -23), ldexp(1.0, -149));
    const double abs_err = ldexp(fabs((double)x), act == EMBER_GEMM_ACT_HARD_SWISH ? -22
                                                  : act == EMBER_GEMM_ACT_GELU       ? -24
                                                                                     : -149);
    return fabs((double)got - t) <= 4.0 * ulp + abs_err;
}

/* Bit for bit, except that any NaN equals any NaN. */
static int same_value(float x, float y) {
    return isnan(x) ? isnan(y) : memcmp(&x, &y, sizeof x) == 0;
}

static void check_epilogue(const ember_kernels* kern) {
    const ember_f32_gemm_config* g = &kern->f32_gemm;
    if (!g->ukernel_ep) {
        print_message("[          ] f32 GEMM path '%s': no epilogue entry (the C twin runs)\n",
                      kern->isa);
        return;
    }
    const size_t mr = g->mr, nr = g->nr, ldc = nr + 3, kmax = 37;
    float* a = malloc(sizeof(float) * mr * kmax);
    float* b = malloc(sizeof(float) * nr * kmax);
    float* bias = malloc(sizeof(float) * mr);
    float* c0 = malloc(sizeof(float) * (mr + 1) * ldc);
    float* got = malloc(sizeof(float) * (mr + 1) * ldc);
    float* want = malloc(sizeof(float) * (mr + 1) * ldc);
    float* pre = malloc(sizeof(float) * (mr + 1) * ldc);
    float* plain = malloc(sizeof(float) * (mr + 1) * ldc);
    float* colb = malloc(sizeof(float) * nr);
    assert_true(a && b && bias && c0 && got && want && pre && plain && colb);
    for (size_t j = 0; j < nr; j++) colb[j] = 3.0f * frand();
    /* products up to about +-20: both sides of sigmoid's branch, HardSwish's
     * three pieces, and exp far from 1 */
    for (size_t i = 0; i < mr * kmax; i++) a[i] = 4.0f * frand();
    for (size_t i = 0; i < nr * kmax; i++) b[i] = frand();
    for (size_t i = 0; i < mr; i++) bias[i] = 3.0f * frand();
    static const size_t kcs[] = {0, 1, 5, 37};
    static const float betas[] = {0.0f, 1.0f, -1.5f};
    /* C values that beta brings in: NaN, infinities, -0 and large */
    static const float special[] = {NAN, INFINITY, -INFINITY, -0.0f, 100.0f, -100.0f, 90.0f};
    size_t cases = 0;
    int bad = 0;
    for (int act = 0; act < EMBER_GEMM_ACT_COUNT && !bad; act++)
        for (int clamp = 0; clamp < 3 && !bad; clamp++)
            for (int with_bias = 0; with_bias < 4 && !bad; with_bias++) /* 1 row, 2 column */
                for (size_t ik = 0; ik < 4 && !bad; ik++)
                    for (size_t ib = 0; ib < 3 && !bad; ib++)
                        for (size_t m = 1; m <= mr && !bad; m++)
                            for (size_t n = 1; n <= nr && !bad; n++) {
                                const size_t kc = kcs[ik];
                                const float beta = betas[ib];
                                for (size_t i = 0; i < (mr + 1) * ldc; i++) c0[i] = 8.0f * frand();
                                if (beta == 0.0f) { /* C must not be read */
                                    for (size_t i = 0; i < m; i++)
                                        for (size_t j = 0; j < n; j++) c0[i * ldc + j] = NAN;
                                } else {
                                    for (size_t q = 0; q < 7; q++)
                                        c0[(q * 5 % m) * ldc + (q * 3 + m) % n] = special[q];
                                }
                                /* exactly n column-bias floats: a read past them is
                                 * an overflow the sanitizer runs report */
                                float* cb = (with_bias & 2) ? malloc(sizeof(float) * n) : NULL;
                                if (cb) memcpy(cb, colb, sizeof(float) * n);
                                ember_f32_gemm_epilogue ep = {
                                    .bias = (with_bias & 1) ? bias : NULL,
                                    .col_bias = cb,
                                    .lo = clamp == 0 ? -INFINITY : clamp == 1 ? 0.0f : -2.5f,
                                    .hi = clamp == 0 ? INFINITY : clamp == 1 ? INFINITY : 4.0f,
                                    .zero_plus = clamp == 1,
                                    .act = (ember_f32_gemm_act)act};
                                memcpy(got, c0, sizeof(float) * (mr + 1) * ldc);
                                memcpy(want, c0, sizeof(float) * (mr + 1) * ldc);
                                g->ukernel_ep(m, n, kc, a, b, beta, got, ldc, &ep);
                                g->ukernel(m, n, kc, a, b, beta, want, ldc);
                                memcpy(pre, want, sizeof(float) * (mr + 1) * ldc);
                                memcpy(plain, want, sizeof(float) * (mr + 1) * ldc);
                                ember_f32_gemm_epilogue_tile(kern, &ep, want, ldc, m, n);
                                ep.act = EMBER_GEMM_ACT_NONE; /* pre: bias and clamp only */
                                ember_f32_gemm_epilogue_tile(kern, &ep, pre, ldc, m, n);
                                cases++;
                                for (size_t i = 0; i <= mr && !bad; i++)
                                    for (size_t j = 0; j < ldc && !bad; j++) {
                                        const size_t at = i * ldc + j;
                                        const int inside = i < m && j < n;
                                        /* a NaN's sign and payload may differ: the
                                         * compiler may swap a product's operands */
                                        if (inside ? !same_value(got[at], want[at])
                                                   : memcmp(&got[at], &c0[at], 4) != 0)
                                            bad = 1;
                                        else if (inside &&
                                                 !act_close((ember_f32_gemm_act)act, pre[at], got[at]))
                                            bad = 2;
                                        else if (inside && clamp == 0 &&
                                                 act == EMBER_GEMM_ACT_NONE) {
                                            float v = plain[at];
                                            if (with_bias & 2) v += colb[j];
                                            if (with_bias & 1) v += bias[i];
                                            if (!same_value(v, got[at])) bad = 3;
                                        }
                                        if (bad)
                                            print_error("%s epilogue: act %s clamp %d bias %d kc %zu "
                                                        "beta %g tile %zux%zu: C[%zu][%zu] = %.9g, "
                                                        "%s %.9g (before the activation %.9g)\n",
                                                        kern->isa, ACT_NAMES[act], clamp, with_bias,
                                                        kc, (double)beta, m, n, i, j,
                                                        (double)got[at],
                                                        bad == 3 ? "plain + biases" :
                                                        bad == 2 ? "activation of" :
                                                        inside ? "twin" : "outside, was",
                                                        bad == 3 ? (double)(plain[at] + ((with_bias & 2) ? colb[j] : 0.0f) + ((with_bias & 1) ? bias[i] : 0.0f)) :
                                                        bad == 2 ? (double)act_truth(
                                                                       (ember_f32_gemm_act)act,
                                                                       pre[at])
                                                        : inside ? (double)want[at]
                                                                 : (double)c0[at],
                                                        (double)pre[at]);
                                    }
                                free(cb);
                            }
    print_message("[          ] f32 GEMM path '%s': epilogue entry, %zu tiles\n", kern->isa, cases);
    g_failures += bad != 0;
    free(plain);
    free(colb);
    free(a);
    free(b);
    free(bias);
    free(c0);
    free(got);
    free(want);
    free(pre);
}

/* Every tile shape m x n <= mr x nr of the micro-kernel, against the chain of
 * fused multiply-adds over p that each C element is (beta 0): bit for bit on
 * the SIMD paths (whose partial tiles take shortcuts: fewer rows, one vector,
 * single columns, which must not change a bit), within rounding on the
 * others; and nothing outside the tile written. */
static void check_tile_shapes(const ember_kernels* kern) {
    const ember_f32_gemm_config* g = &kern->f32_gemm;
    const size_t mr = g->mr, nr = g->nr, ldc = nr + 5, kmax = 300;
    const int exact = g->ukernel_ep != NULL;
    float* a = malloc(sizeof(float) * mr * kmax);
    float* b = malloc(sizeof(float) * nr * kmax);
    float* c = malloc(sizeof(float) * (mr + 1) * ldc);
    assert_true(a && b && c);
    for (size_t i = 0; i < mr * kmax; i++) a[i] = frand();
    for (size_t i = 0; i < nr * kmax; i++) b[i] = frand();
    static const size_t kcs[] = {1, 5, 37, 300};
    size_t tiles = 0;
    int bad = 0;
    for (size_t ik = 0; ik < 4 && !bad; ik++)
        for (size_t m = 1; m <= mr && !bad; m++)
            for (size_t n = 1; n <= nr && !bad; n++, tiles++) {
                const size_t kc = kcs[ik];
                for (size_t i = 0; i < (mr + 1) * ldc; i++) c[i] = -7.0f;
                g->ukernel(m, n, kc, a, b, 0.0f, c, ldc);
                for (size_t i = 0; i <= mr && !bad; i++)
                    for (size_t j = 0; j < ldc && !bad; j++) {
                        const float got = c[i * ldc + j];
                        const int outside = i >= m || j >= n;
                        float want = -7.0f;
                        double mag = 0.0;
                        if (!outside) {
                            want = 0.0f;
                            for (size_t p = 0; p < kc; p++) {
                                want = fmaf(a[p * mr + i], b[p * nr + j], want);
                                mag += fabs((double)a[p * mr + i] * b[p * nr + j]);
                            }
                        }
                        bad = outside || exact
                                  ? memcmp(&got, &want, 4) != 0
                                  : !(fabs((double)got - want) <= 2.0 * (double)(kc + 2) * FLT_EPSILON * mag);
                        if (bad)
                            print_error("%s micro-kernel tile %zux%zu kc %zu: C[%zu][%zu] = %.9g, "
                                        "expected %.9g%s\n", kern->isa, m, n, kc, i, j, (double)got,
                                        (double)want, outside ? " (outside the tile: unchanged)" : "");
                    }
            }
    print_message("[          ] f32 GEMM path '%s': %zu tile shapes checked against the FMA "
                  "chain (%s)\n", kern->isa, tiles, exact ? "bit for bit" : "within rounding");
    g_failures += bad;
    free(a);
    free(b);
    free(c);
}

static void run_path(const char* isa) {
    const ember_kernels* kern = kt_kernels_or_skip(isa, "f32 GEMM path");
    assert_string_equal(kern->isa, isa);
    g_failures = 0;
    g_cases = 0;
    sweep(kern);
    check_tile_shapes(kern);
    /* The same kernel with tiny cache blocks: every blocking loop runs many times. */
    ember_kernels tiny = *kern;
    tiny.f32_gemm.kc = 3;
    tiny.f32_gemm.mc = 2 * tiny.f32_gemm.mr;
    tiny.f32_gemm.nc = 2 * tiny.f32_gemm.nr;
    static const size_t dims[][3] = {{1, 1, 1}, {17, 31, 7}, {33, 70, 13}, {50, 3, 5}, {3, 100, 9}};
    for (size_t i = 0; i < sizeof dims / sizeof dims[0]; i++)
        for (int tr = 0; tr < 4; tr++) {
            const gcase t = {.m = dims[i][0], .n = dims[i][1], .k = dims[i][2], .ta = tr & 1,
                             .tb = tr >> 1, .pad_a = 1, .pad_b = 2, .pad_c = 3,
                             .alpha = ALPHA_BETA[tr][0], .beta = ALPHA_BETA[tr][1]};
            check_case(&tiny, &t);
        }
    print_message("[          ] f32 GEMM path '%s' (%ux%u tile): %zu cases\n", isa,
                  kern->f32_gemm.mr, kern->f32_gemm.nr, g_cases);
    check_epilogue(kern);
    assert_int_equal(g_failures, 0);
}

KT_PATH_TESTS(run_path)

/* k == 0 scales C by beta (0: clears it, NaNs included); m or n == 0 writes nothing. */
static void test_degenerate(void** state) {
    (void)state;
    const ember_kernels* kern = ember_kernels_default();
    float c[6] = {1, 2, 3, 4, NAN, 6};
    assert_int_equal(ember_f32_gemm_workspace_size(kern, 2, 3, 0), 0);
    ember_f32_gemm(kern, 2, 3, 0, 1.0f, NULL, 0, 1, NULL, 0, 1, 2.0f, c, 3, NULL);
    assert_true(c[0] == 2.0f && c[5] == 12.0f && isnan(c[4]));
    ember_f32_gemm(kern, 2, 3, 0, 1.0f, NULL, 0, 1, NULL, 0, 1, 0.0f, c, 3, NULL);
    for (int i = 0; i < 6; i++) assert_true(c[i] == 0.0f);
    c[0] = 5.0f;
    ember_f32_gemm(kern, 0, 3, 4, 1.0f, NULL, 4, 1, NULL, 3, 1, 0.0f, c, 3, NULL);
    ember_f32_gemm(kern, 2, 0, 4, 1.0f, NULL, 4, 1, NULL, 3, 1, 0.0f, c, 3, NULL);
    assert_true(c[0] == 5.0f);
}

/* The default table: the best path, or the one EMBER_ISA forces (with a note
 * when it cannot be honoured). Thread-safe one-time choice: same pointer twice. */
static void test_default(void** state) {
    (void)state;
    const ember_kernels* def = ember_kernels_default();
    assert_non_null(def);
    assert_ptr_equal(def, ember_kernels_for(NULL));
    assert_ptr_equal(def, ember_kernels_default());
    const char* want = getenv("EMBER_ISA");
    const char* note = ember_kernels_note();
    print_message("[          ] default path '%s'%s%s\n", def->isa, *note ? ": " : "", note);
    if (want && *want) {
        if (ember_kernels_for(want))
            assert_string_equal(def->isa, want);
        else
            assert_true(strlen(note) > 0);
    } else {
        assert_string_equal(note, "");
        const ember_cpu_info* cpu = ember_cpu();
        if (cpu->avx512) assert_string_equal(def->isa, "avx512");
        else if (cpu->avx2_fma) assert_string_equal(def->isa, "avx2");
        else if (cpu->neon) assert_string_equal(def->isa, "neon");
    }
#if defined(__aarch64__) && defined(__linux__)
    /* Advanced SIMD is part of AArch64 Linux: the NEON path must run here (the
     * cross build's tests under qemu rely on it). */
    assert_true(ember_cpu()->neon);
    assert_non_null(ember_kernels_for("neon"));
#endif
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_default),   cmocka_unit_test(test_degenerate),
        cmocka_unit_test(test_generic),   cmocka_unit_test(test_avx2),
        cmocka_unit_test(test_avx512),    cmocka_unit_test(test_neon),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
