/* The vectorised elementwise kernels (f32_vunary.h) on every path this CPU can
 * run. relu, clamp, hard_sigmoid, hard_swish, leaky_relu and the binary ops
 * must equal the reference exactly (NaN for NaN; +0 and -0 count as equal).
 * exp, sigmoid, tanh, erf, gelu, gelu_tanh and silu are checked against double
 * precision over a dense sweep and special values (+-0, +-inf, NaN, huge,
 * tiny, subnormal), within these bounds (ulp of the exact result, the
 * smallest subnormal at the bottom):
 *     exp 2 ulp, sigmoid 3 ulp, tanh 3 ulp, erf 3 ulp;
 *     gelu, gelu_tanh: 4 ulp + 2^-23 |x| / 2 absolute (1 + erf cancels for
 *     x << 0, in the reference as here);
 *     silu (x * sigmoid(x)): 4 ulp + 2^-149 |x| absolute (sigmoid's subnormal
 *     results below x = -87 carry their half-ulp error into the product).
 * Lengths 0 to 40 with guard values after y, and in place (y == x). A path the
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
#include "f32_vunary.h"
#include "generic/elementwise_ref.h"

#define GUARD 16
static const uint32_t GUARD_BITS = 0x7fa5a5a5u;

static uint32_t g_rng = 777;
static float frand(float lo, float hi) {
    g_rng = g_rng * 1664525u + 1013904223u;
    return lo + (hi - lo) * (float)(g_rng >> 8) / 16777216.0f;
}

static const float SPECIAL[] = {0.0f, -0.0f, INFINITY, -INFINITY, NAN, -NAN, FLT_MAX, -FLT_MAX,
                                FLT_MIN, -FLT_MIN, 1e-40f, -1e-40f, 1.4e-45f, 1e-20f, -1e-20f,
                                88.7f, 88.72f, 88.73f, 89.0f, 100.0f, -87.3f, -100.0f, -103.9f,
                                -104.0f, -110.0f, 0.625f, -0.625f, 0.62499f, 1.0f, -1.0f,
                                0.99999f, 3.92f, -3.92f, 3.9f, 9.0f, 10.0f, -10.0f, 20.0f,
                                -20.0f, 1e10f, -1e10f, 3.0f, -3.0f, 6.0f, -6.0f, 0.5f};
#define NSPECIAL (sizeof SPECIAL / sizeof SPECIAL[0])

typedef struct vop_info {
    const char* name;
    ember_f32_vop vop;
    int exact;                /* compare with the reference bit for bit */
    ember_unary_op ref_op;    /* the reference (exact ops; clamp uses clip) */
    double (*truth)(double);  /* approximated ops */
    double ulps;
    double lo, hi;            /* sweep range */
} vop_info;

static double t_exp(double x) { return exp(x); }
static double t_sigmoid(double x) { return 1.0 / (1.0 + exp(-x)); }
static double t_tanh(double x) { return tanh(x); }
static double t_erf(double x) { return erf(x); }
static double t_gelu(double x) { return 0.5 * x * (1.0 + erf(x / sqrt(2.0))); }
static double t_silu(double x) { return x / (1.0 + exp(-x)); }
static double t_gelu_tanh(double x) {
    return 0.5 * x * (1.0 + tanh(sqrt(2.0 / M_PI) * (x + 0.044715 * x * x * x)));
}

static const vop_info OPS[] = {
    {"relu", EMBER_VOP_RELU, 1, EMBER_UNARY_RELU, NULL, 0, -10, 10},
    {"clamp", EMBER_VOP_CLAMP, 1, EMBER_UNARY_RELU, NULL, 0, -10, 10},
    {"hard_sigmoid", EMBER_VOP_HARD_SIGMOID, 1, EMBER_UNARY_HARD_SIGMOID, NULL, 0, -10, 10},
    {"hard_swish", EMBER_VOP_HARD_SWISH, 1, EMBER_UNARY_HARD_SWISH, NULL, 0, -10, 10},
    {"leaky_relu", EMBER_VOP_LEAKY_RELU, 1, EMBER_UNARY_LEAKY_RELU, NULL, 0, -10, 10},
    {"exp", EMBER_VOP_EXP, 0, 0, t_exp, 2, -104, 89},
    {"sigmoid", EMBER_VOP_SIGMOID, 0, 0, t_sigmoid, 3, -104, 30},
    {"tanh", EMBER_VOP_TANH, 0, 0, t_tanh, 3, -12, 12},
    {"erf", EMBER_VOP_ERF, 0, 0, t_erf, 3, -5, 5},
    {"gelu", EMBER_VOP_GELU, 0, 0, t_gelu, 4, -12, 12},
    {"gelu_tanh", EMBER_VOP_GELU_TANH, 0, 0, t_gelu_tanh, 4, -12, 12},
    {"silu", EMBER_VOP_SILU, 0, 0, t_silu, 4, -104, 30},
};
#define NOPS (sizeof OPS / sizeof OPS[0])

static const float ALPHA[NOPS] = {0, -1.5f, 0.2f, 0, 0.01f};
static const float BETA[NOPS] = {0, 6.0f, 0.5f, 0, 0};

static double ulp_of(double t) {
    const double a = fabs(t);
    if (a < 0x1p-126) return 0x1p-149;
    int e;
    frexp(a, &e); /* a in [2^(e-1), 2^e) */
    return ldexp(1.0, e - 24);
}

static int same(float a, float b) { return (isnan(a) && isnan(b)) || a == b; }

static int g_failures;
static double g_worst[NOPS];

/* Checks y = op(x) for n values; returns 0 on the first mismatch (printed). */
static int check_values(const char* isa, size_t k, size_t n, const float* x, const float* y) {
    const vop_info* op = &OPS[k];
    float* want = malloc(sizeof(float) * (n + 1));
    assert_non_null(want);
    if (op->vop == EMBER_VOP_CLAMP)
        ember_f32_clip_ref(n, x, ALPHA[k], BETA[k], want);
    else if (op->exact)
        ember_f32_unary_ref(op->ref_op, ALPHA[k], BETA[k], n, x, want);
    int ok = 1;
    for (size_t i = 0; i < n && ok; i++) {
        if (op->exact) {
            if (!same(y[i], want[i])) {
                print_error("%s %s(%.9g) = %.9g, reference %.9g\n", isa, op->name, (double)x[i],
                            (double)y[i], (double)want[i]);
                ok = 0;
            }
            continue;
        }
        const double t = op->truth((double)x[i]);
        if (isnan(t) || isnan(y[i])) {
            /* gelu(-inf) is inf * 0 in float as in the reference */
            float r;
            ember_unary_op ro = op->vop == EMBER_VOP_GELU ? EMBER_UNARY_GELU
                                : op->vop == EMBER_VOP_GELU_TANH ? EMBER_UNARY_GELU_TANH
                                                                  : EMBER_UNARY_EXP;
            ember_f32_unary_ref(ro, 0, 0, 1, &x[i], &r);
            if (!(isnan(y[i]) && (isnan(t) || isnan(r)))) {
                print_error("%s %s(%.9g) = %.9g, exact %.9g\n", isa, op->name, (double)x[i],
                            (double)y[i], t);
                ok = 0;
            }
            continue;
        }
        const double tf = (double)(float)t; /* the exact result rounded to float */
        if (isinf(tf) || isinf(y[i])) {
            if ((double)y[i] != tf) {
                print_error("%s %s(%.9g) = %.9g, exact %.9g\n", isa, op->name, (double)x[i],
                            (double)y[i], t);
                ok = 0;
            }
            continue;
        }
        double err = fabs((double)y[i] - t) / ulp_of(t);
        double bound = op->ulps;
        if (op->vop == EMBER_VOP_GELU || op->vop == EMBER_VOP_GELU_TANH)
            bound += 0x1p-24 * fabs((double)x[i]) / ulp_of(t);
        if (op->vop == EMBER_VOP_SILU) /* sigmoid(x) subnormal for x < -87: its half-ulp
                                          absolute error, times |x| */
            bound += 0x1p-149 * fabs((double)x[i]) / ulp_of(t);
        /* the reported worst: in ulp, where the absolute terms do not apply */
        if (op->vop != EMBER_VOP_GELU && op->vop != EMBER_VOP_GELU_TANH &&
            !(op->vop == EMBER_VOP_SILU && x[i] < -80.0f) && err > g_worst[k])
            g_worst[k] = err;
        if (!(err <= bound)) {
            print_error("%s %s(%.9g) = %.9g, exact %.12g: %.2f ulp > %.2f\n", isa, op->name,
                        (double)x[i], (double)y[i], t, err, bound);
            ok = 0;
        }
    }
    free(want);
    return ok;
}

static void run_unary(const ember_kernels* kern) {
    for (size_t k = 0; k < NOPS; k++) {
        const ember_f32_vunary_fn fn = kern->f32_elementwise.unary[OPS[k].vop];
        assert_non_null(fn);
        /* dense sweep + specials + a fine sweep around 0 */
        const size_t n = 200000;
        float* x = malloc(sizeof(float) * n);
        float* y = malloc(sizeof(float) * n);
        assert_true(x && y);
        for (size_t i = 0; i < n; i++)
            x[i] = i < NSPECIAL  ? SPECIAL[i]
                   : i % 4 == 0 ? frand(-1.0f, 1.0f) * powf(2.0f, frand(-30.0f, 0.0f))
                                : frand((float)OPS[k].lo, (float)OPS[k].hi);
        fn(n, x, y, ALPHA[k], BETA[k]);
        g_failures += !check_values(kern->isa, k, n, x, y);
        /* in place */
        memcpy(y, x, sizeof(float) * n);
        fn(n, y, y, ALPHA[k], BETA[k]);
        g_failures += !check_values(kern->isa, k, n, x, y);
        /* every short length and offset, guard values after y */
        for (size_t len = 0; len <= 40; len++) {
            float out[40 + GUARD];
            for (size_t i = 0; i < 40 + GUARD; i++) memcpy(&out[i], &GUARD_BITS, 4);
            fn(len, x + len, out, ALPHA[k], BETA[k]);
            for (size_t i = len; i < 40 + GUARD; i++)
                if (memcmp(&out[i], &GUARD_BITS, 4) != 0) {
                    print_error("%s %s: n=%zu wrote y[%zu]\n", kern->isa, OPS[k].name, len, i);
                    g_failures++;
                    break;
                }
            g_failures += !check_values(kern->isa, k, len, x + len, out);
        }
        free(x);
        free(y);
    }
}

static void run_binary(const ember_kernels* kern) {
    static const ember_binary_op ops[4] = {EMBER_BINARY_ADD, EMBER_BINARY_SUB, EMBER_BINARY_MUL,
                                           EMBER_BINARY_DIV};
    float a[64], b[64], y[64 + GUARD], want[64];
    for (size_t i = 0; i < 64; i++) {
        a[i] = i < NSPECIAL ? SPECIAL[i] : frand(-100, 100);
        b[i] = i < NSPECIAL ? SPECIAL[NSPECIAL - 1 - i] : frand(-100, 100);
    }
    for (int o = 0; o < 4; o++)
        for (int s = 0; s < 3; s++) {
            const ember_f32_vbinary_fn fn = kern->f32_elementwise.binary[o][s];
            assert_non_null(fn);
            for (size_t n = 0; n <= 64; n += (n < 20 ? 1 : 11)) {
                for (size_t i = 0; i < 64 + GUARD; i++) memcpy(&y[i], &GUARD_BITS, 4);
                fn(n, a, b, y);
                ember_f32_binary_ref(ops[o], n, a, s == 2 ? 0 : 1, b, s == 1 ? 0 : 1, want);
                for (size_t i = 0; i < n; i++)
                    if (!same(y[i], want[i])) {
                        print_error("%s binary op %d shape %d n=%zu: y[%zu] = %.9g, reference %.9g\n",
                                    kern->isa, o, s, n, i, (double)y[i], (double)want[i]);
                        g_failures++;
                        break;
                    }
                for (size_t i = n; i < 64 + GUARD; i++)
                    if (memcmp(&y[i], &GUARD_BITS, 4) != 0) {
                        print_error("%s binary op %d shape %d: n=%zu wrote y[%zu]\n", kern->isa,
                                    o, s, n, i);
                        g_failures++;
                        break;
                    }
            }
        }
}

static void run_path(const char* isa) {
    const ember_kernels* kern = kt_kernels_or_skip(isa, "f32 elementwise path");
    g_failures = 0;
    memset(g_worst, 0, sizeof g_worst);
    run_unary(kern);
    run_binary(kern);
    for (size_t k = 0; k < NOPS; k++)
        if (!OPS[k].exact && OPS[k].vop != EMBER_VOP_GELU && OPS[k].vop != EMBER_VOP_GELU_TANH)
            print_message("[          ] %s %s: max error %.2f ulp (bound %.0f)\n", isa,
                          OPS[k].name, g_worst[k], OPS[k].ulps);
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
