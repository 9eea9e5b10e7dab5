/* Identity copies any dtype and shape, scalars and empty tensors included. */
#include <string.h>

#include "../op_harness.h"

static void test_identity_copies(void** state) {
    (void)state;
    const float xf[6] = {1, -2, 3.5f, 0, -0.0f, 7};
    oh_node n;
    oh_begin(&n, "Identity", 1);
    oh_input(&n, EMBER_DTYPE_F32, OH_SHAPE(2, 3), xf);
    assert_int_equal(oh_run(&n), EMBER_OK);
    assert_int_equal(n.out[0].dtype, EMBER_DTYPE_F32);
    assert_int_equal(n.out[0].shape.rank, 2);
    assert_int_equal(n.out[0].shape.dims[1], 3);
    assert_memory_equal(n.out[0].data, xf, sizeof xf);
    oh_free(&n);

    const int64_t xi = -9;
    oh_begin(&n, "Identity", 1);
    oh_input(&n, EMBER_DTYPE_I64, OH_SCALAR, &xi);
    assert_int_equal(oh_run(&n), EMBER_OK);
    assert_int_equal(n.out[0].shape.rank, 0);
    assert_int_equal(*(const int64_t*)n.out[0].data, -9);
    oh_free(&n);

    oh_begin(&n, "Identity", 1);
    oh_input(&n, EMBER_DTYPE_BOOL, OH_SHAPE(0, 4), NULL);
    assert_int_equal(oh_run(&n), EMBER_OK);
    assert_int_equal(n.out[0].shape.dims[0], 0);
    oh_free(&n);
}

static void test_identity_arity(void** state) {
    (void)state;
    const float x[1] = {1};
    oh_node n;
    oh_begin(&n, "Identity", 1);
    oh_input(&n, EMBER_DTYPE_F32, OH_SHAPE(1), x);
    oh_input(&n, EMBER_DTYPE_F32, OH_SHAPE(1), x);
    assert_int_equal(oh_run(&n), EMBER_ERROR_INVALID_MODEL);
    assert_non_null(strstr(n.msg, "has 2 inputs"));
    oh_free(&n);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_identity_copies),
        cmocka_unit_test(test_identity_arity),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
