/* Unary operators against libm in double precision, their attributes, the
 * integer forms, special values; Clip and PRelu. */
#include <float.h>
#include <math.h>
#include <stdlib.h>

#include "ew_test_util.h"

typedef struct unary_case {
    const char* op;
    float lo, hi;          /* input range */
    double (*ref)(double); /* reference in double */
    float rtol, atol;
} unary_case;

static double neg(double x) { return -x; }
static double reciprocal(double x) { return 1.0 / x; }
static double relu(double x) { return x > 0 ? x : 0; }
static double leaky(double x) { return x >= 0 ? x : 0.01 * x; }
static double elu(double x) { return x > 0 ? x : exp(x) - 1.0; }
static double sigmoid(double x) { return 1.0 / (1.0 + exp(-x)); }
static double hard_sigmoid(double x) { return fmax(0.0, fmin(1.0, 0.2 * x + 0.5)); }
static double hard_swish(double x) { return x * fmax(0.0, fmin(1.0, x / 6.0 + 0.5)); }
static double gelu(double x) { return 0.5 * x * (1.0 + erf(x / sqrt(2.0))); }

static const unary_case cases[] = {
    {"Sqrt", 0.0f, 100.0f, sqrt, 1e-6f, 0},
    {"Exp", -80.0f, 80.0f, exp, 2e-6f, 0},
    {"Log", 1e-30f, 1e30f, log, 1e-6f, 1e-6f},
    {"Neg", -10.0f, 10.0f, neg, 0, 0},
    {"Abs", -10.0f, 10.0f, fabs, 0, 0},
    {"Reciprocal", 0.01f, 100.0f, reciprocal, 1e-6f, 0},
    {"Relu", -10.0f, 10.0f, relu, 0, 0},
    {"LeakyRelu", -10.0f, 10.0f, leaky, 1e-6f, 0},
    {"Elu", -20.0f, 10.0f, elu, 1e-6f, 1e-7f},
    {"Sigmoid", -100.0f, 100.0f, sigmoid, 2e-6f, 1e-30f},
    {"Tanh", -20.0f, 20.0f, tanh, 2e-6f, 1e-7f},
    {"HardSigmoid", -6.0f, 6.0f, hard_sigmoid, 1e-6f, 1e-7f},
    {"HardSwish", -6.0f, 6.0f, hard_swish, 1e-6f, 1e-6f},
    {"Gelu", -8.0f, 8.0f, gelu, 2e-6f, 1e-6f},
    {"Erf", -5.0f, 5.0f, erf, 2e-6f, 1e-7f},
};

#define N 1000

static void test_against_libm(void** state) {
    (void)state;
    float x[N], want[N];
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        const unary_case* u = &cases[c];
        oh_fill_random(x, N, 5 + (uint32_t)c, u->lo, u->hi);
        if (strcmp(u->op, "Log") == 0) /* log-uniform over many decades */
            for (size_t i = 0; i < N; i++) x[i] = expf(-69.0f + 138.0f * (float)i / N);
        for (size_t i = 0; i < N; i++) want[i] = (float)u->ref((double)x[i]);
        oh_node n;
        oh_begin(&n, u->op, 1);
        oh_input(&n, EMBER_DTYPE_F32, OH_SHAPE(10, 100), x);
        ember_status st = oh_run(&n);
        if (st != EMBER_OK) fail_msg("%s: %s", u->op, n.msg);
        em_shape s = OH_SHAPE(10, 100);
        ewt_assert_shape(&n.out[0].shape, &s);
        oh_assert_close(n.out[0].data, want, N, u->atol, u->rtol);
        oh_free(&n);
    }
}

/* Each op on a scalar and on an empty tensor. */
static void test_scalar_and_empty(void** state) {
    (void)state;
    const float x = 0.25f;
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        oh_node n;
        oh_begin(&n, cases[c].op, 1);
        oh_input(&n, EMBER_DTYPE_F32, OH_SCALAR, &x);
        assert_int_equal(oh_run(&n), EMBER_OK);
        assert_int_equal(n.out[0].shape.rank, 0);
        const float want = (float)cases[c].ref(0.25);
        oh_assert_close(n.out[0].data, &want, 1, 1e-7f, 2e-6f);
        oh_free(&n);
        oh_begin(&n, cases[c].op, 1);
        oh_input(&n, EMBER_DTYPE_F32, OH_SHAPE(3, 0), NULL);
        assert_int_equal(oh_run(&n), EMBER_OK);
        oh_free(&n);
    }
}

static void test_special_values(void** state) {
    (void)state;
    const float x[5] = {NAN, INFINITY, -INFINITY, 0.0f, -0.0f};
    struct {
        const char* op;
        float want[5];
    } t[] = {
        {"Sqrt", {NAN, INFINITY, NAN, 0.0f, -0.0f}},
        {"Exp", {NAN, INFINITY, 0.0f, 1.0f, 1.0f}},
        {"Log", {NAN, INFINITY, NAN, -INFINITY, -INFINITY}},
        {"Relu", {NAN, INFINITY, 0.0f, 0.0f, 0.0f}},
        {"Sigmoid", {NAN, 1.0f, 0.0f, 0.5f, 0.5f}},
        {"Tanh", {NAN, 1.0f, -1.0f, 0.0f, -0.0f}},
        {"Reciprocal", {NAN, 0.0f, -0.0f, INFINITY, -INFINITY}},
        {"Erf", {NAN, 1.0f, -1.0f, 0.0f, -0.0f}},
        {"HardSigmoid", {NAN, 1.0f, 0.0f, 0.5f, 0.5f}},
    };
    for (size_t k = 0; k < sizeof t / sizeof t[0]; k++) {
        oh_node n;
        oh_begin(&n, t[k].op, 1);
        oh_input(&n, EMBER_DTYPE_F32, OH_SHAPE(5), x);
        assert_int_equal(oh_run(&n), EMBER_OK);
        const float* y = n.out[0].data;
        for (int i = 0; i < 5; i++) {
            /* HardSigmoid: fmaxf/fminf drop a NaN; accept either */
            if (isnan(t[k].want[i]) && strcmp(t[k].op, "HardSigmoid") == 0) continue;
            if (isnan(t[k].want[i]) ? !isnan(y[i]) : y[i] != t[k].want[i])
                fail_msg("%s(%g) = %g, want %g", t[k].op, x[i], y[i], t[k].want[i]);
        }
        oh_free(&n);
    }
}

static void test_attributes(void** state) {
    (void)state;
    const float x[4] = {-2.0f, -0.5f, 0.0f, 3.0f};
    oh_node n;

    oh_begin(&n, "LeakyRelu", 1);
    oh_float(&n, "alpha", 0.1f);
    oh_input(&n, EMBER_DTYPE_F32, OH_SHAPE(4), x);
    assert_int_equal(oh_run(&n), EMBER_OK);
    const float lr[4] = {-0.2f, -0.05f, 0.0f, 3.0f};
    oh_assert_close(n.out[0].data, lr, 4, 0, 1e-6f);
    oh_free(&n);

    oh_begin(&n, "Elu", 1);
    oh_float(&n, "alpha", 2.0f);
    oh_input(&n, EMBER_DTYPE_F32, OH_SHAPE(4), x);
    assert_int_equal(oh_run(&n), EMBER_OK);
    const float el[4] = {(float)(2.0 * expm1(-2.0)), (float)(2.0 * expm1(-0.5)), 0.0f, 3.0f};
    oh_assert_close(n.out[0].data, el, 4, 0, 1e-6f);
    oh_free(&n);

    oh_begin(&n, "HardSigmoid", 1);
    oh_float(&n, "alpha", 0.5f);
    oh_float(&n, "beta", 0.25f);
    oh_input(&n, EMBER_DTYPE_F32, OH_SHAPE(4), x);
    assert_int_equal(oh_run(&n), EMBER_OK);
    const float hs[4] = {0.0f, 0.0f, 0.25f, 1.0f};
    oh_assert_close(n.out[0].data, hs, 4, 0, 1e-6f);
    oh_free(&n);

    /* Gelu tanh approximation against its formula in double */
    float g[N], want[N];
    oh_fill_random(g, N, 3, -8.0f, 8.0f);
    for (int i = 0; i < N; i++) {
        double v = g[i];
        want[i] = (float)(0.5 * v * (1.0 + tanh(sqrt(2.0 / M_PI) * (v + 0.044715 * v * v * v))));
    }
    oh_begin(&n, "Gelu", 1);
    oh_string(&n, "approximate", "tanh");
    oh_input(&n, EMBER_DTYPE_F32, OH_SHAPE(N), g);
    assert_int_equal(oh_run(&n), EMBER_OK);
    oh_assert_close(n.out[0].data, want, N, 1e-6f, 2e-6f);
    oh_free(&n);

    oh_begin(&n, "Gelu", 1);
    oh_string(&n, "approximate", "fast");
    oh_input(&n, EMBER_DTYPE_F32, OH_SHAPE(4), x);
    EWT_EXPECT_FAIL(oh_run(&n), EMBER_ERROR_INVALID_MODEL, &n, "approximate", "fast");
    oh_free(&n);

    oh_begin(&n, "LeakyRelu", 1);
    oh_string(&n, "alpha", "big");
    oh_input(&n, EMBER_DTYPE_F32, OH_SHAPE(4), x);
    EWT_EXPECT_FAIL(oh_run(&n), EMBER_ERROR_INVALID_MODEL, &n, "alpha");
    oh_free(&n);
}

static void test_integers(void** state) {
    (void)state;
    const int32_t a[4] = {-5, 0, 7, INT32_MIN};
    const int64_t b[4] = {-5, 0, 7, INT64_MIN};
    const int32_t neg32[4] = {5, 0, -7, INT32_MIN}, abs32[4] = {5, 0, 7, INT32_MIN},
                  relu32[4] = {0, 0, 7, 0};
    const int64_t neg64[4] = {5, 0, -7, INT64_MIN}, abs64[4] = {5, 0, 7, INT64_MIN},
                  relu64[4] = {0, 0, 7, 0};
    const char* ops[3] = {"Neg", "Abs", "Relu"};
    const int32_t* w32[3] = {neg32, abs32, relu32};
    const int64_t* w64[3] = {neg64, abs64, relu64};
    for (int k = 0; k < 3; k++) {
        oh_node n;
        oh_begin(&n, ops[k], 1);
        oh_input(&n, EMBER_DTYPE_I32, OH_SHAPE(4), a);
        assert_int_equal(oh_run(&n), EMBER_OK);
        assert_int_equal(n.out[0].dtype, EMBER_DTYPE_I32);
        assert_memory_equal(n.out[0].data, w32[k], sizeof neg32);
        oh_free(&n);
        oh_begin(&n, ops[k], 1);
        oh_input(&n, EMBER_DTYPE_I64, OH_SHAPE(2, 2), b);
        assert_int_equal(oh_run(&n), EMBER_OK);
        assert_int_equal(n.out[0].dtype, EMBER_DTYPE_I64);
        assert_memory_equal(n.out[0].data, w64[k], sizeof neg64);
        oh_free(&n);
    }
    oh_node n;
    oh_begin(&n, "Sqrt", 1);
    oh_input(&n, EMBER_DTYPE_I32, OH_SHAPE(4), a);
    EWT_EXPECT_FAIL(oh_run(&n), EMBER_ERROR_DTYPE_MISMATCH, &n, "f32", "i32");
    oh_free(&n);
    oh_begin(&n, "Relu", 1);
    oh_input(&n, EMBER_DTYPE_U8, OH_SHAPE(4), a);
    EWT_EXPECT_FAIL(oh_run(&n), EMBER_ERROR_DTYPE_MISMATCH, &n, "u8");
    oh_free(&n);
}

/* ------------------------------------------------------------------- Clip */

static void test_clip(void** state) {
    (void)state;
    const float x[6] = {-3.0f, -1.0f, 0.0f, 0.5f, 2.0f, NAN};
    const float lo = -1.5f, hi = 1.0f;
    const float both[6] = {-1.5f, -1.0f, 0.0f, 0.5f, 1.0f, NAN};
    const float only_hi[6] = {-3.0f, -1.0f, 0.0f, 0.5f, 1.0f, NAN};
    oh_node n;

    /* opset 6: attributes */
    oh_begin(&n, "Clip", 1);
    oh_float(&n, "min", lo);
    oh_float(&n, "max", hi);
    oh_input(&n, EMBER_DTYPE_F32, OH_SHAPE(2, 3), x);
    assert_int_equal(oh_run(&n), EMBER_OK);
    oh_assert_close(n.out[0].data, both, 6, 0, 0);
    oh_free(&n);

    /* opset 11: constant inputs */
    oh_begin(&n, "Clip", 1);
    oh_input(&n, EMBER_DTYPE_F32, OH_SHAPE(2, 3), x);
    oh_constant(&n, EMBER_DTYPE_F32, OH_SCALAR, &lo);
    oh_constant(&n, EMBER_DTYPE_F32, OH_SCALAR, &hi);
    assert_int_equal(oh_run(&n), EMBER_OK);
    oh_assert_close(n.out[0].data, both, 6, 0, 0);
    oh_free(&n);

    /* runtime (computed) bounds, min absent */
    oh_begin(&n, "Clip", 1);
    oh_input(&n, EMBER_DTYPE_F32, OH_SHAPE(6), x);
    oh_absent(&n);
    oh_input(&n, EMBER_DTYPE_F32, OH_SHAPE(1), &hi);
    assert_int_equal(oh_run(&n), EMBER_OK);
    oh_assert_close(n.out[0].data, only_hi, 6, 0, 0);
    oh_free(&n);

    /* no bounds at all: identity */
    oh_begin(&n, "Clip", 1);
    oh_input(&n, EMBER_DTYPE_F32, OH_SHAPE(6), x);
    assert_int_equal(oh_run(&n), EMBER_OK);
    oh_assert_close(n.out[0].data, x, 6, 0, 0);
    oh_free(&n);

    /* min > max: max wins (numpy) */
    const float lo2 = 2.0f, hi2 = 1.0f, ones[6] = {1, 1, 1, 1, 1, NAN};
    oh_begin(&n, "Clip", 1);
    oh_input(&n, EMBER_DTYPE_F32, OH_SHAPE(6), x);
    oh_input(&n, EMBER_DTYPE_F32, OH_SCALAR, &lo2);
    oh_input(&n, EMBER_DTYPE_F32, OH_SCALAR, &hi2);
    assert_int_equal(oh_run(&n), EMBER_OK);
    oh_assert_close(n.out[0].data, ones, 6, 0, 0);
    oh_free(&n);

    /* integers */
    const int64_t xi[5] = {INT64_MIN, -4, 0, 4, INT64_MAX}, l64 = -2;
    const int64_t wi[5] = {-2, -2, 0, 4, INT64_MAX};
    oh_begin(&n, "Clip", 1);
    oh_input(&n, EMBER_DTYPE_I64, OH_SHAPE(5), xi);
    oh_constant(&n, EMBER_DTYPE_I64, OH_SCALAR, &l64);
    assert_int_equal(oh_run(&n), EMBER_OK);
    assert_memory_equal(n.out[0].data, wi, sizeof wi);
    oh_free(&n);
    const int32_t x32[4] = {-9, -1, 3, 9}, l32 = -2, h32 = 5, w32[4] = {-2, -1, 3, 5};
    oh_begin(&n, "Clip", 1);
    oh_input(&n, EMBER_DTYPE_I32, OH_SHAPE(4), x32);
    oh_input(&n, EMBER_DTYPE_I32, OH_SCALAR, &l32);
    oh_input(&n, EMBER_DTYPE_I32, OH_SCALAR, &h32);
    assert_int_equal(oh_run(&n), EMBER_OK);
    assert_memory_equal(n.out[0].data, w32, sizeof w32);
    oh_free(&n);

    /* errors */
    oh_begin(&n, "Clip", 1);
    oh_input(&n, EMBER_DTYPE_F32, OH_SHAPE(6), x);
    oh_input(&n, EMBER_DTYPE_F32, OH_SHAPE(2), x);
    EWT_EXPECT_FAIL(oh_run(&n), EMBER_ERROR_SHAPE_MISMATCH, &n, "scalar", "[2]");
    oh_free(&n);
    oh_begin(&n, "Clip", 1);
    oh_input(&n, EMBER_DTYPE_F32, OH_SHAPE(6), x);
    oh_input(&n, EMBER_DTYPE_I64, OH_SCALAR, &l64);
    EWT_EXPECT_FAIL(oh_run(&n), EMBER_ERROR_DTYPE_MISMATCH, &n, "i64", "f32");
    oh_free(&n);
    oh_begin(&n, "Clip", 1);
    oh_float(&n, "min", 0.0f);
    oh_input(&n, EMBER_DTYPE_F32, OH_SHAPE(6), x);
    oh_input(&n, EMBER_DTYPE_F32, OH_SCALAR, &lo);
    EWT_EXPECT_FAIL(oh_run(&n), EMBER_ERROR_INVALID_MODEL, &n, "attributes");
    oh_free(&n);
}

/* ------------------------------------------------------------------ PRelu */

static void test_prelu(void** state) {
    (void)state;
    const em_shape sx = OH_SHAPE(2, 3, 4, 5);
    const em_shape slopes[] = {OH_SHAPE(3, 1, 1), OH_SHAPE(1), OH_SCALAR, OH_SHAPE(5),
                               OH_SHAPE(2, 3, 4, 5), OH_SHAPE(4, 1)};
    float x[120], s[120], want[120];
    oh_fill_random(x, 120, 1, -5.0f, 5.0f);
    for (size_t k = 0; k < sizeof slopes / sizeof slopes[0]; k++) {
        const size_t ns = em_shape_count(&slopes[k]);
        oh_fill_random(s, ns, 2 + (uint32_t)k, -1.0f, 1.0f);
        int64_t idx[EMBER_MAX_RANK] = {0};
        for (size_t i = 0; i < 120; i++, ewt_next(&sx, idx)) {
            const float sl = s[ewt_offset(&slopes[k], &sx, idx)];
            want[i] = x[i] >= 0 ? x[i] : sl * x[i];
        }
        oh_node n;
        oh_begin(&n, "PRelu", 1);
        oh_input(&n, EMBER_DTYPE_F32, sx, x);
        oh_constant(&n, EMBER_DTYPE_F32, slopes[k], s);
        assert_int_equal(oh_run(&n), EMBER_OK);
        ewt_assert_shape(&n.out[0].shape, &sx);
        oh_assert_close(n.out[0].data, want, 120, 0, 0);
        oh_free(&n);
    }
    oh_node n;
    oh_begin(&n, "PRelu", 1);
    oh_input(&n, EMBER_DTYPE_F32, OH_SHAPE(2, 3), x);
    oh_input(&n, EMBER_DTYPE_F32, OH_SHAPE(2, 1, 3), s);
    EWT_EXPECT_FAIL(oh_run(&n), EMBER_ERROR_SHAPE_MISMATCH, &n, "[2,1,3]", "[2,3]");
    oh_free(&n);
    oh_begin(&n, "PRelu", 1);
    oh_input(&n, EMBER_DTYPE_F32, OH_SHAPE(2, 3), x);
    oh_input(&n, EMBER_DTYPE_F32, OH_SHAPE(4), s);
    EWT_EXPECT_FAIL(oh_run(&n), EMBER_ERROR_SHAPE_MISMATCH, &n, "[4]");
    oh_free(&n);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_against_libm),
        cmocka_unit_test(test_scalar_and_empty),
        cmocka_unit_test(test_special_values),
        cmocka_unit_test(test_attributes),
        cmocka_unit_test(test_integers),
        cmocka_unit_test(test_clip),
        cmocka_unit_test(test_prelu),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
