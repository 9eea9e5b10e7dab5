/* Softmax and LogSoftmax along each axis against a naive reference. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../op_harness.h"

static void naive(const em_shape* s, int axis, const float* x, float* y, int log_form) {
    size_t outer = 1, inner = 1, n = (size_t)s->dims[axis];
    for (int d = 0; d < axis; d++) outer *= (size_t)s->dims[d];
    for (int d = axis + 1; d < s->rank; d++) inner *= (size_t)s->dims[d];
    for (size_t o = 0; o < outer; o++)
        for (size_t i = 0; i < inner; i++) {
            double mx = -INFINITY, sum = 0;
            for (size_t j = 0; j < n; j++) mx = fmax(mx, x[(o * n + j) * inner + i]);
            for (size_t j = 0; j < n; j++) sum += exp(x[(o * n + j) * inner + i] - mx);
            for (size_t j = 0; j < n; j++) {
                double v = x[(o * n + j) * inner + i] - mx;
                y[(o * n + j) * inner + i] = (float)(log_form ? v - log(sum) : exp(v) / sum);
            }
        }
}

static void test_softmax_axes(void** state) {
    (void)state;
    const em_shape shapes[] = {OH_SHAPE(7), OH_SHAPE(3, 5), OH_SHAPE(2, 3, 4), OH_SHAPE(2, 1, 3, 5)};
    float x[256], want[256];
    for (size_t si = 0; si < sizeof shapes / sizeof shapes[0]; si++) {
        const em_shape* s = &shapes[si];
        size_t count = 1;
        for (int d = 0; d < s->rank; d++) count *= (size_t)s->dims[d];
        oh_fill_random(x, count, (uint32_t)si + 1, -10, 10);
        for (int axis = -s->rank; axis < s->rank; axis++)
            for (int lf = 0; lf < 2; lf++) {
                naive(s, axis < 0 ? axis + s->rank : axis, x, want, lf);
                oh_node n;
                oh_begin(&n, lf ? "LogSoftmax" : "Softmax", 1);
                if (axis != -1) oh_int(&n, "axis", axis);
                oh_input(&n, EMBER_DTYPE_F32, *s, x);
                assert_int_equal(oh_run(&n), EMBER_OK);
                oh_assert_close(n.out[0].data, want, count, 1e-6f, 1e-5f);
                oh_free(&n);
            }
    }
}

static void test_softmax_hand_and_errors(void** state) {
    (void)state;
    /* large values must not overflow; -inf entries give 0 */
    const float x[4] = {1000, 1000, -INFINITY, 1000};
    const float want[4] = {1.0f / 3, 1.0f / 3, 0, 1.0f / 3};
    oh_node n;
    oh_begin(&n, "Softmax", 1);
    oh_input(&n, EMBER_DTYPE_F32, OH_SHAPE(1, 4), x);
    assert_int_equal(oh_run(&n), EMBER_OK);
    oh_assert_close(n.out[0].data, want, 4, 1e-7f, 1e-6f);
    oh_free(&n);
    oh_begin(&n, "Softmax", 1);
    oh_int(&n, "axis", 2);
    oh_input(&n, EMBER_DTYPE_F32, OH_SHAPE(1, 4), x);
    assert_int_equal(oh_run(&n), EMBER_ERROR_INVALID_MODEL);
    assert_non_null(strstr(n.msg, "axis"));
    oh_free(&n);
    oh_begin(&n, "LogSoftmax", 1);
    oh_input(&n, EMBER_DTYPE_I64, OH_SHAPE(1, 2), x);
    assert_int_equal(oh_run(&n), EMBER_ERROR_DTYPE_MISMATCH);
    oh_free(&n);
    oh_begin(&n, "Softmax", 1);
    oh_input(&n, EMBER_DTYPE_F32, OH_SCALAR, x);
    assert_int_equal(oh_run(&n), EMBER_ERROR_SHAPE_MISMATCH);
    oh_free(&n);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_softmax_axes),
        cmocka_unit_test(test_softmax_hand_and_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
