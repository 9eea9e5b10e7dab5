/* Add, Sub, Mul, Div, Pow: hand-computed cases, every broadcasting pattern
 * against a naive reference, integer semantics and the error cases. */
#include <math.h>
#include <stdlib.h>

#include "ew_test_util.h"

static const char* const ops[] = {"Add", "Sub", "Mul", "Div", "Pow"};

static float ref_f32(int op, float a, float b) {
    switch (op) {
    case 0: return a + b;
    case 1: return a - b;
    case 2: return a * b;
    case 3: return a / b;
    default: return powf(a, b);
    }
}

static void test_add_hand(void** state) {
    (void)state;
    const float a[6] = {1, 2, 3, 4, 5, 6};
    const float b[3] = {10, 20, 30};
    oh_node n;
    oh_begin(&n, "Add", 1);
    oh_input(&n, EMBER_DTYPE_F32, OH_SHAPE(2, 3), a);
    oh_input(&n, EMBER_DTYPE_F32, OH_SHAPE(3), b);
    assert_int_equal(oh_run(&n), EMBER_OK);
    em_shape want = OH_SHAPE(2, 3);
    ewt_assert_shape(&n.out[0].shape, &want);
    const float y[6] = {11, 22, 33, 14, 25, 36};
    oh_assert_close(n.out[0].data, y, 6, 0, 0);
    oh_free(&n);

    const float c[3] = {1, 2, 3}, d[4] = {10, 20, 30, 40};
    oh_begin(&n, "Sub", 1);
    oh_input(&n, EMBER_DTYPE_F32, OH_SHAPE(3, 1), c);
    oh_input(&n, EMBER_DTYPE_F32, OH_SHAPE(1, 4), d);
    assert_int_equal(oh_run(&n), EMBER_OK);
    want = OH_SHAPE(3, 4);
    ewt_assert_shape(&n.out[0].shape, &want);
    const float z[12] = {-9, -19, -29, -39, -8, -18, -28, -38, -7, -17, -27, -37};
    oh_assert_close(n.out[0].data, z, 12, 0, 0);
    oh_free(&n);
}

/* Each pair of shapes, each op, against the naive reference (bit-exact: the
 * same single float operation). */
static void test_broadcast_patterns(void** state) {
    (void)state;
    const em_shape pairs[][2] = {
        {OH_SHAPE(2, 3, 4), OH_SHAPE(2, 3, 4)},
        {OH_SHAPE(2, 3, 4), OH_SCALAR},
        {OH_SCALAR, OH_SHAPE(2, 3, 4)},
        {OH_SCALAR, OH_SCALAR},
        {OH_SHAPE(2, 3, 4), OH_SHAPE(4)},
        {OH_SHAPE(4), OH_SHAPE(2, 3, 4)},
        {OH_SHAPE(2, 3, 4), OH_SHAPE(3, 1)},
        {OH_SHAPE(3, 1), OH_SHAPE(1, 4)},
        {OH_SHAPE(2, 1, 4), OH_SHAPE(3, 1)},
        {OH_SHAPE(1), OH_SHAPE(5)},
        {OH_SHAPE(5, 1, 1, 2), OH_SHAPE(1, 3, 2, 1)},
        {OH_SHAPE(2, 3, 1, 5), OH_SHAPE(2, 1, 4, 5)},
        {OH_SHAPE(1, 1, 7), OH_SHAPE(6, 1, 1)},
        {OH_SHAPE(2, 0, 3), OH_SHAPE(3)},
        {OH_SHAPE(0), OH_SCALAR},
        {OH_SHAPE(1, 2, 1, 3, 1), OH_SHAPE(2, 1, 3, 1)},
        {OH_SHAPE(3, 2, 2, 2, 2, 2, 2, 2), OH_SHAPE(2, 1, 2, 1, 2, 1, 2)},
    };
    float a[1024], b[1024], want[1024];
    for (size_t p = 0; p < sizeof pairs / sizeof pairs[0]; p++) {
        const em_shape* sa = &pairs[p][0];
        const em_shape* sb = &pairs[p][1];
        const em_shape so = ewt_broadcast2(sa, sb);
        const size_t na = em_shape_count(sa), nb = em_shape_count(sb), no = em_shape_count(&so);
        assert_true(na <= 1024 && nb <= 1024 && no <= 1024);
        for (int op = 0; op < 5; op++) {
            oh_fill_random(a, na, 11 + (uint32_t)p, op == 4 ? 0.1f : -4.0f, 4.0f);
            oh_fill_random(b, nb, 97 + (uint32_t)p, op == 3 ? 0.5f : -3.0f, 3.0f);
            int64_t idx[EMBER_MAX_RANK] = {0};
            for (size_t i = 0; i < no; i++, ewt_next(&so, idx))
                want[i] = ref_f32(op, a[ewt_offset(sa, &so, idx)], b[ewt_offset(sb, &so, idx)]);
            oh_node n;
            oh_begin(&n, ops[op], 1);
            oh_input(&n, EMBER_DTYPE_F32, *sa, a);
            oh_input(&n, EMBER_DTYPE_F32, *sb, b);
            ember_status st = oh_run(&n);
            if (st != EMBER_OK) fail_msg("pair %zu %s: %s", p, ops[op], n.msg);
            ewt_assert_shape(&n.out[0].shape, &so);
            assert_int_equal(n.out[0].dtype, EMBER_DTYPE_F32);
            oh_assert_close(n.out[0].data, want, no, 0, 0);
            oh_free(&n);
        }
    }
}

static void test_integers(void** state) {
    (void)state;
    const int32_t a[6] = {7, -7, 7, -7, INT32_MIN, INT32_MAX};
    const int32_t b[6] = {2, 2, -2, -2, -1, 1};
    const int32_t add[6] = {9, -5, 5, -9, INT32_MAX, INT32_MIN}; /* wraps */
    const int32_t div[6] = {3, -3, -3, 3, INT32_MIN, INT32_MAX}; /* truncates, MIN/-1 wraps */
    const int32_t mul[6] = {14, -14, -14, 14, INT32_MIN, INT32_MAX};
    const char* names[3] = {"Add", "Div", "Mul"};
    const int32_t* wants[3] = {add, div, mul};
    for (int k = 0; k < 3; k++) {
        oh_node n;
        oh_begin(&n, names[k], 1);
        oh_input(&n, EMBER_DTYPE_I32, OH_SHAPE(6), a);
        oh_input(&n, EMBER_DTYPE_I32, OH_SHAPE(6), b);
        assert_int_equal(oh_run(&n), EMBER_OK);
        assert_int_equal(n.out[0].dtype, EMBER_DTYPE_I32);
        assert_memory_equal(n.out[0].data, wants[k], sizeof add);
        oh_free(&n);
    }

    /* i64 with broadcasting: [2,3] op [2,1] */
    const int64_t c[6] = {10, -11, 12, INT64_MIN, 5, -5};
    const int64_t d[2] = {-3, 4};
    const int64_t sub[6] = {13, -8, 15, INT64_MAX - 3, 1, -9};
    const int64_t dv[6] = {-3, 3, -4, INT64_MIN / 4, 1, -1};
    oh_node n;
    oh_begin(&n, "Sub", 1);
    oh_input(&n, EMBER_DTYPE_I64, OH_SHAPE(2, 3), c);
    oh_input(&n, EMBER_DTYPE_I64, OH_SHAPE(2, 1), d);
    assert_int_equal(oh_run(&n), EMBER_OK);
    assert_memory_equal(n.out[0].data, sub, sizeof sub);
    oh_free(&n);
    oh_begin(&n, "Div", 1);
    oh_input(&n, EMBER_DTYPE_I64, OH_SHAPE(2, 3), c);
    oh_input(&n, EMBER_DTYPE_I64, OH_SHAPE(2, 1), d);
    assert_int_equal(oh_run(&n), EMBER_OK);
    assert_memory_equal(n.out[0].data, dv, sizeof dv);
    oh_free(&n);
}

static void test_integer_division_by_zero(void** state) {
    (void)state;
    const int32_t a[4] = {1, 2, 3, 4};
    const int32_t b[2] = {1, 0};
    oh_node n;
    oh_begin(&n, "Div", 1);
    oh_input(&n, EMBER_DTYPE_I32, OH_SHAPE(2, 2), a);
    oh_input(&n, EMBER_DTYPE_I32, OH_SHAPE(2), b);
    EWT_EXPECT_FAIL(oh_run(&n), EMBER_ERROR_RUNTIME, &n, "division by zero");
    /* nothing written: the harness filled the output with 0xA5 */
    const unsigned char* y = n.out[0].data;
    for (size_t i = 0; i < sizeof a; i++) assert_int_equal(y[i], 0xA5);
    oh_free(&n);

    const int64_t c[1] = {5}, z[1] = {0};
    oh_begin(&n, "Div", 1);
    oh_input(&n, EMBER_DTYPE_I64, OH_SCALAR, c);
    oh_input(&n, EMBER_DTYPE_I64, OH_SCALAR, z);
    EWT_EXPECT_FAIL(oh_run(&n), EMBER_ERROR_RUNTIME, &n, "division by zero");
    oh_free(&n);

    /* f32 division by zero is IEEE: inf and NaN */
    const float f[3] = {1, -1, 0}, fz[1] = {0};
    oh_begin(&n, "Div", 1);
    oh_input(&n, EMBER_DTYPE_F32, OH_SHAPE(3), f);
    oh_input(&n, EMBER_DTYPE_F32, OH_SCALAR, fz);
    assert_int_equal(oh_run(&n), EMBER_OK);
    const float* y3 = n.out[0].data;
    assert_true(isinf(y3[0]) && y3[0] > 0);
    assert_true(isinf(y3[1]) && y3[1] < 0);
    assert_true(isnan(y3[2]));
    oh_free(&n);
}

static void test_pow(void** state) {
    (void)state;
    const float a[4] = {2, -3, 0.5f, 4};
    const float e[4] = {3, 2, -1, 0.5f};
    const float want[4] = {8, 9, 2, 2};
    oh_node n;
    oh_begin(&n, "Pow", 1);
    oh_input(&n, EMBER_DTYPE_F32, OH_SHAPE(4), a);
    oh_input(&n, EMBER_DTYPE_F32, OH_SHAPE(4), e);
    assert_int_equal(oh_run(&n), EMBER_OK);
    oh_assert_close(n.out[0].data, want, 4, 0, 1e-6f);
    oh_free(&n);

    /* integer exponents, broadcast: [2,2] ^ [2] */
    const float base[4] = {2, -3, 1.5f, -1};
    const int64_t e64[2] = {3, -2};
    const int32_t e32[2] = {3, -2};
    const float want2[4] = {8, 1.0f / 9, 3.375f, 1};
    for (int k = 0; k < 2; k++) {
        oh_begin(&n, "Pow", 1);
        oh_input(&n, EMBER_DTYPE_F32, OH_SHAPE(2, 2), base);
        if (k == 0)
            oh_input(&n, EMBER_DTYPE_I64, OH_SHAPE(2), e64);
        else
            oh_input(&n, EMBER_DTYPE_I32, OH_SHAPE(2), e32);
        assert_int_equal(oh_run(&n), EMBER_OK);
        assert_int_equal(n.out[0].dtype, EMBER_DTYPE_F32);
        oh_assert_close(n.out[0].data, want2, 4, 0, 1e-6f);
        oh_free(&n);
    }
}

static void test_errors(void** state) {
    (void)state;
    float x[12] = {0};
    int32_t i[12] = {0};
    uint8_t u[12] = {0};
    oh_node n;

    oh_begin(&n, "Add", 1);
    oh_input(&n, EMBER_DTYPE_F32, OH_SHAPE(2, 3), x);
    oh_input(&n, EMBER_DTYPE_F32, OH_SHAPE(4), x);
    EWT_EXPECT_FAIL(oh_run(&n), EMBER_ERROR_SHAPE_MISMATCH, &n, "[2,3]", "[4]");
    oh_free(&n);

    oh_begin(&n, "Mul", 1);
    oh_input(&n, EMBER_DTYPE_F32, OH_SHAPE(3, 2), x);
    oh_input(&n, EMBER_DTYPE_F32, OH_SHAPE(2, 2, 3), x);
    EWT_EXPECT_FAIL(oh_run(&n), EMBER_ERROR_SHAPE_MISMATCH, &n, "broadcast");
    oh_free(&n);

    oh_begin(&n, "Sub", 1);
    oh_input(&n, EMBER_DTYPE_F32, OH_SHAPE(3), x);
    oh_input(&n, EMBER_DTYPE_I32, OH_SHAPE(3), i);
    EWT_EXPECT_FAIL(oh_run(&n), EMBER_ERROR_DTYPE_MISMATCH, &n, "f32", "i32");
    oh_free(&n);

    oh_begin(&n, "Add", 1);
    oh_input(&n, EMBER_DTYPE_U8, OH_SHAPE(3), u);
    oh_input(&n, EMBER_DTYPE_U8, OH_SHAPE(3), u);
    EWT_EXPECT_FAIL(oh_run(&n), EMBER_ERROR_DTYPE_MISMATCH, &n, "u8");
    oh_free(&n);

    oh_begin(&n, "Pow", 1);
    oh_input(&n, EMBER_DTYPE_I32, OH_SHAPE(3), i);
    oh_input(&n, EMBER_DTYPE_I32, OH_SHAPE(3), i);
    EWT_EXPECT_FAIL(oh_run(&n), EMBER_ERROR_DTYPE_MISMATCH, &n, "i32");
    oh_free(&n);

    oh_begin(&n, "Div", 1);
    oh_input(&n, EMBER_DTYPE_F32, OH_SHAPE(3), x);
    EWT_EXPECT_FAIL(oh_run(&n), EMBER_ERROR_INVALID_MODEL, &n, "inputs");
    oh_free(&n);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_add_hand),
        cmocka_unit_test(test_broadcast_patterns),
        cmocka_unit_test(test_integers),
        cmocka_unit_test(test_integer_division_by_zero),
        cmocka_unit_test(test_pow),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
