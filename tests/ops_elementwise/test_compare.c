/* Less, LessOrEqual, Greater, GreaterOrEqual, Equal and the variadic Min/Max:
 * hand-computed cases with broadcasting, NaN and integer inputs, and errors. */
#include <math.h>
#include <string.h>

#include "../op_harness.h"

static void run_compare(const char* op, const float* a, em_shape sa, const float* b, em_shape sb,
                        const uint8_t* want, size_t n) {
    oh_node nd;
    oh_begin(&nd, op, 1);
    oh_input(&nd, EMBER_DTYPE_F32, sa, a);
    oh_input(&nd, EMBER_DTYPE_F32, sb, b);
    if (oh_run(&nd) != EMBER_OK) fail_msg("%s: %s", op, nd.msg);
    assert_int_equal(nd.out[0].dtype, EMBER_DTYPE_BOOL);
    assert_int_equal(em_shape_count(&nd.out[0].shape), n);
    assert_memory_equal(nd.out[0].data, want, n);
    oh_free(&nd);
}

static void test_comparisons_broadcast(void** state) {
    (void)state;
    const float a[6] = {1, 2, 3, 4, 5, NAN}; /* [2,3] */
    const float b[3] = {2, 2, 6};            /* [3] */
    const uint8_t lt[6] = {1, 0, 1, 0, 0, 0}, le[6] = {1, 1, 1, 0, 0, 0};
    const uint8_t gt[6] = {0, 0, 0, 1, 1, 0}, ge[6] = {0, 1, 0, 1, 1, 0}, eq[6] = {0, 1, 0, 0, 0, 0};
    run_compare("Less", a, OH_SHAPE(2, 3), b, OH_SHAPE(3), lt, 6);
    run_compare("LessOrEqual", a, OH_SHAPE(2, 3), b, OH_SHAPE(3), le, 6);
    run_compare("Greater", a, OH_SHAPE(2, 3), b, OH_SHAPE(3), gt, 6);
    run_compare("GreaterOrEqual", a, OH_SHAPE(2, 3), b, OH_SHAPE(3), ge, 6);
    run_compare("Equal", a, OH_SHAPE(2, 3), b, OH_SHAPE(3), eq, 6);
    /* a scalar on the left, a column on the right: [1] vs [2,1] -> [2,1] */
    const float s[1] = {3}, col[2] = {3, 4};
    const uint8_t want[2] = {0, 1};
    run_compare("Less", s, OH_SHAPE(1), col, OH_SHAPE(2, 1), want, 2);
}

static void test_equal_integers_and_bool(void** state) {
    (void)state;
    const int64_t a[3] = {-1, 5, INT64_MAX}, b[3] = {-1, 6, INT64_MAX};
    oh_node nd;
    oh_begin(&nd, "Equal", 1);
    oh_input(&nd, EMBER_DTYPE_I64, OH_SHAPE(3), a);
    oh_input(&nd, EMBER_DTYPE_I64, OH_SHAPE(3), b);
    assert_int_equal(oh_run(&nd), EMBER_OK);
    const uint8_t want[3] = {1, 0, 1};
    assert_memory_equal(nd.out[0].data, want, 3);
    oh_free(&nd);
    const uint8_t x[2] = {1, 0}, y[1] = {0};
    oh_begin(&nd, "Equal", 1);
    oh_input(&nd, EMBER_DTYPE_BOOL, OH_SHAPE(2), x);
    oh_input(&nd, EMBER_DTYPE_BOOL, OH_SHAPE(1), y);
    assert_int_equal(oh_run(&nd), EMBER_OK);
    const uint8_t want2[2] = {0, 1};
    assert_memory_equal(nd.out[0].data, want2, 2);
    oh_free(&nd);
}

static void test_min_max_variadic(void** state) {
    (void)state;
    const float a[4] = {1, 5, NAN, -2}; /* [2,2] */
    const float b[2] = {3, 0};          /* [2] */
    const float c[1] = {2};             /* [1] */
    const float want_min[4] = {1, 0, NAN, -2}, want_max[4] = {3, 5, NAN, 2};
    const char* ops[2] = {"Min", "Max"};
    const float* wants[2] = {want_min, want_max};
    for (int k = 0; k < 2; k++) {
        oh_node nd;
        oh_begin(&nd, ops[k], 1);
        oh_input(&nd, EMBER_DTYPE_F32, OH_SHAPE(2, 2), a);
        oh_input(&nd, EMBER_DTYPE_F32, OH_SHAPE(2), b);
        oh_input(&nd, EMBER_DTYPE_F32, OH_SHAPE(1), c);
        if (oh_run(&nd) != EMBER_OK) fail_msg("%s: %s", ops[k], nd.msg);
        oh_assert_close(nd.out[0].data, wants[k], 4, 0, 0);
        oh_free(&nd);
    }
    /* one input: a copy; NaN in a later input propagates */
    const float one[3] = {1, 2, 3}, nan_row[3] = {NAN, 0, 9};
    const float want[3] = {NAN, 0, 3};
    oh_node nd;
    oh_begin(&nd, "Min", 1);
    oh_input(&nd, EMBER_DTYPE_F32, OH_SHAPE(3), one);
    oh_input(&nd, EMBER_DTYPE_F32, OH_SHAPE(3), nan_row);
    assert_int_equal(oh_run(&nd), EMBER_OK);
    oh_assert_close(nd.out[0].data, want, 3, 0, 0);
    oh_free(&nd);
    const int32_t i1[3] = {4, -7, 0}, i2[1] = {-1};
    const int32_t imax[3] = {4, -1, 0};
    oh_begin(&nd, "Max", 1);
    oh_input(&nd, EMBER_DTYPE_I32, OH_SHAPE(3), i1);
    oh_input(&nd, EMBER_DTYPE_I32, OH_SCALAR, i2);
    assert_int_equal(oh_run(&nd), EMBER_OK);
    assert_memory_equal(nd.out[0].data, imax, sizeof imax);
    oh_free(&nd);
}

static void test_errors(void** state) {
    (void)state;
    const float a[2] = {0};
    const int64_t b[2] = {0};
    oh_node nd;
    oh_begin(&nd, "Less", 1);
    oh_input(&nd, EMBER_DTYPE_F32, OH_SHAPE(2), a);
    oh_input(&nd, EMBER_DTYPE_I64, OH_SHAPE(2), b);
    assert_int_equal(oh_run(&nd), EMBER_ERROR_DTYPE_MISMATCH);
    assert_non_null(strstr(nd.msg, "input 1 is i64"));
    oh_free(&nd);
    oh_begin(&nd, "Max", 1);
    oh_input(&nd, EMBER_DTYPE_F32, OH_SHAPE(2), a);
    oh_input(&nd, EMBER_DTYPE_F32, OH_SHAPE(3), a);
    assert_int_equal(oh_run(&nd), EMBER_ERROR_SHAPE_MISMATCH);
    oh_free(&nd);
    const uint8_t u[2] = {0};
    oh_begin(&nd, "Greater", 1);
    oh_input(&nd, EMBER_DTYPE_BOOL, OH_SHAPE(2), u);
    oh_input(&nd, EMBER_DTYPE_BOOL, OH_SHAPE(2), u);
    assert_int_equal(oh_run(&nd), EMBER_ERROR_DTYPE_MISMATCH);
    oh_free(&nd);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_comparisons_broadcast),
        cmocka_unit_test(test_equal_integers_and_bool),
        cmocka_unit_test(test_min_max_variadic),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
