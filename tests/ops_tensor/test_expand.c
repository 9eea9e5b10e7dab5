/* Expand against a naive broadcast reference: both-way broadcasting, ranks
 * 1..4 and 6, several dtypes, and refusals. */
#include "tensor_util.h"

static void expand_case(em_shape in, uint32_t n_sh, const int64_t* sh, em_shape want_shape,
                        ember_dtype dt) {
    size_t es = ember_dtype_size(dt), n = em_shape_count(&want_shape);
    char* x = tu_make(dt, em_shape_count(&in), 1);
    char* want = malloc(n * es + 1);
    int64_t oi[EMBER_MAX_RANK], ii[EMBER_MAX_RANK];
    int32_t off = want_shape.rank - in.rank;
    for (size_t f = 0; f < n; f++) {
        tu_unravel(f, &want_shape, oi);
        for (int32_t d = 0; d < in.rank; d++) ii[d] = in.dims[d] == 1 ? 0 : oi[d + off];
        memcpy(want + f * es, x + tu_ravel(ii, &in) * es, es);
    }
    oh_node node;
    oh_begin(&node, "Expand", 1);
    oh_input(&node, dt, in, x);
    oh_constant(&node, EMBER_DTYPE_I64, OH_SHAPE(n_sh), sh);
    tu_run_ok(&node);
    tu_assert_shape(&node.out[0].shape, want_shape);
    tu_assert_same(node.out[0].data, want, n, es, "Expand");
    oh_free(&node);
    free(x);
    free(want);
}

static void test_expand(void** state) {
    (void)state;
    const int64_t a[] = {4}, b[] = {3, 4}, c[] = {2, 1, 4}, d[] = {2, 3, 4, 5}, e[] = {1, 1},
                  f[] = {3, 1, 1, 2}, g[] = {2, 3, 2, 2, 3, 2}, h[] = {0, 4};
    expand_case(OH_SHAPE(1), 1, a, OH_SHAPE(4), EMBER_DTYPE_F32);
    expand_case(OH_SHAPE(4), 2, b, OH_SHAPE(3, 4), EMBER_DTYPE_I64);
    expand_case(OH_SHAPE(3, 1), 3, c, OH_SHAPE(2, 3, 4), EMBER_DTYPE_U8);
    expand_case(OH_SHAPE(4, 1), 4, d, OH_SHAPE(2, 3, 4, 5), EMBER_DTYPE_BOOL);
    /* both ways: the shape's 1s keep the input's dims */
    expand_case(OH_SHAPE(2, 3), 2, e, OH_SHAPE(2, 3), EMBER_DTYPE_F16);
    expand_case(OH_SHAPE(1, 4, 2), 4, f, OH_SHAPE(3, 1, 4, 2), EMBER_DTYPE_I32);
    expand_case(OH_SHAPE(3, 1, 1, 2), 2, e, OH_SHAPE(3, 1, 1, 2), EMBER_DTYPE_I8);
    expand_case(OH_SHAPE(1, 3, 1, 1, 3, 1), 6, g, OH_SHAPE(2, 3, 2, 2, 3, 2), EMBER_DTYPE_F32);
    expand_case(OH_SCALAR, 2, b, OH_SHAPE(3, 4), EMBER_DTYPE_I64);
    expand_case(OH_SHAPE(1, 1), 2, h, OH_SHAPE(0, 4), EMBER_DTYPE_F32);
}

static void test_errors(void** state) {
    (void)state;
    const float x[6] = {0};
    const int64_t bad[] = {4, 3}, neg[] = {-1, 3}, nine[9] = {1, 1, 1, 1, 1, 1, 1, 1, 1};
    oh_node node;
    oh_begin(&node, "Expand", 1);
    oh_input(&node, EMBER_DTYPE_F32, OH_SHAPE(2, 3), x);
    oh_constant(&node, EMBER_DTYPE_I64, OH_SHAPE(2), bad);
    tu_assert_fails(&node, EMBER_ERROR_SHAPE_MISMATCH, "broadcast");
    oh_begin(&node, "Expand", 1);
    oh_input(&node, EMBER_DTYPE_F32, OH_SHAPE(2, 3), x);
    oh_constant(&node, EMBER_DTYPE_I64, OH_SHAPE(2), neg);
    tu_assert_fails(&node, EMBER_ERROR_INVALID_MODEL, "-1");
    oh_begin(&node, "Expand", 1);
    oh_input(&node, EMBER_DTYPE_F32, OH_SHAPE(2, 3), x);
    oh_constant(&node, EMBER_DTYPE_I64, OH_SHAPE(9), nine);
    tu_assert_fails(&node, EMBER_ERROR_SHAPE_MISMATCH, "at most 8");
    oh_begin(&node, "Expand", 1);
    oh_input(&node, EMBER_DTYPE_F32, OH_SHAPE(2, 3), x);
    oh_input(&node, EMBER_DTYPE_I64, OH_SHAPE(2), bad);
    tu_assert_fails(&node, EMBER_ERROR_UNSUPPORTED, "constant");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_expand),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
