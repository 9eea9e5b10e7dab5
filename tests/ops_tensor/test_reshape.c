/* Flatten, Reshape, Squeeze and Unsqueeze: shapes, data carried over unchanged,
 * opset variants (attribute or input axes) and refusals. */
#include "tensor_util.h"

/* Runs node (input 0 already added: x of n elements) and checks shape and data. */
static void expect(oh_node* node, em_shape want, const void* x, size_t n, size_t es) {
    tu_run_ok(node);
    tu_assert_shape(&node->out[0].shape, want);
    assert_int_equal(node->out[0].dtype, node->in[0].dtype);
    tu_assert_same(node->out[0].data, x, n, es, node->op);
    oh_free(node);
}

static void test_flatten(void** state) {
    (void)state;
    const em_shape shapes[] = {OH_SHAPE(5), OH_SHAPE(3, 4), OH_SHAPE(2, 3, 4), OH_SHAPE(2, 3, 4, 5),
                               OH_SHAPE(2, 1, 3, 2, 2, 3)};
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        const em_shape in = shapes[s];
        const size_t n = em_shape_count(&in);
        for (int64_t axis = -in.rank; axis <= in.rank; axis++) {
            ember_dtype dt = tu_dtypes[(s + (size_t)(axis + in.rank)) % TU_DTYPES_N];
            void* x = tu_make(dt, n, 3);
            int64_t a = axis < 0 ? axis + in.rank : axis, outer = 1;
            for (int64_t d = 0; d < a; d++) outer *= in.dims[d];
            oh_node node;
            oh_begin(&node, "Flatten", 1);
            oh_int(&node, "axis", axis);
            oh_input(&node, dt, in, x);
            expect(&node, OH_SHAPE(outer, (int64_t)n / outer), x, n, ember_dtype_size(dt));
            free(x);
        }
    }
    /* default axis 1 */
    float x[24];
    oh_fill_random(x, 24, 1, -1, 1);
    oh_node node;
    oh_begin(&node, "Flatten", 1);
    oh_input(&node, EMBER_DTYPE_F32, OH_SHAPE(2, 3, 4), x);
    expect(&node, OH_SHAPE(2, 12), x, 24, 4);
    oh_begin(&node, "Flatten", 1);
    oh_int(&node, "axis", 4);
    oh_input(&node, EMBER_DTYPE_F32, OH_SHAPE(2, 3, 4), x);
    tu_assert_fails(&node, EMBER_ERROR_INVALID_MODEL, "axis 4");
}

static void reshape_case(em_shape in, uint32_t n_sh, const int64_t* sh, int64_t allowzero,
                         em_shape want, ember_dtype dt) {
    size_t n = em_shape_count(&in);
    void* x = tu_make(dt, n, 5);
    oh_node node;
    oh_begin(&node, "Reshape", 1);
    if (allowzero >= 0) oh_int(&node, "allowzero", allowzero);
    oh_input(&node, dt, in, x);
    oh_constant(&node, EMBER_DTYPE_I64, OH_SHAPE(n_sh), sh);
    expect(&node, want, x, n, ember_dtype_size(dt));
    free(x);
}

static void test_reshape(void** state) {
    (void)state;
    const int64_t s1[] = {6, 4}, s2[] = {0, -1}, s3[] = {-1}, s4[] = {2, 0, 2, -1},
                  s5[] = {4, 3, 2, 1, 1, 1}, s6[] = {0, 0, 0, 0}, s7[] = {3, 0};
    reshape_case(OH_SHAPE(2, 3, 4), 2, s1, -1, OH_SHAPE(6, 4), EMBER_DTYPE_F32);
    reshape_case(OH_SHAPE(2, 3, 4), 2, s2, -1, OH_SHAPE(2, 12), EMBER_DTYPE_I64);
    reshape_case(OH_SHAPE(2, 3, 4), 1, s3, -1, OH_SHAPE(24), EMBER_DTYPE_U8);
    reshape_case(OH_SHAPE(4, 3, 2), 4, s4, 0, OH_SHAPE(2, 3, 2, 2), EMBER_DTYPE_BOOL);
    reshape_case(OH_SHAPE(24), 6, s5, -1, OH_SHAPE(4, 3, 2, 1, 1, 1), EMBER_DTYPE_F16);
    reshape_case(OH_SHAPE(1, 2, 3, 4), 4, s6, -1, OH_SHAPE(1, 2, 3, 4), EMBER_DTYPE_I32);
    /* allowzero=1: a 0 is a real zero dim */
    reshape_case(OH_SHAPE(0, 4), 2, s7, 1, OH_SHAPE(3, 0), EMBER_DTYPE_I8);
    /* i32 shape input and a scalar result */
    float v = 7;
    const int32_t empty = 0;
    oh_node node;
    oh_begin(&node, "Reshape", 1);
    oh_input(&node, EMBER_DTYPE_F32, OH_SHAPE(1, 1), &v);
    oh_constant(&node, EMBER_DTYPE_I32, OH_SHAPE(0), &empty);
    expect(&node, OH_SCALAR, &v, 1, 4);
}

static void reshape_fail(em_shape in, uint32_t n_sh, const int64_t* sh, bool constant,
                         int64_t allowzero, ember_status st, const char* needle) {
    static float x[64];
    oh_node node;
    oh_begin(&node, "Reshape", 1);
    if (allowzero >= 0) oh_int(&node, "allowzero", allowzero);
    oh_input(&node, EMBER_DTYPE_F32, in, x);
    if (constant)
        oh_constant(&node, EMBER_DTYPE_I64, OH_SHAPE(n_sh), sh);
    else
        oh_input(&node, EMBER_DTYPE_I64, OH_SHAPE(n_sh), sh);
    tu_assert_fails(&node, st, needle);
}

static void test_reshape_errors(void** state) {
    (void)state;
    const int64_t two_neg[] = {-1, -1}, wrong[] = {5, 5}, big[9] = {1, 1, 1, 1, 1, 1, 1, 1, 24},
                  huge[] = {INT64_MAX, 4, 0}, zero_beyond[] = {2, 3, 4, 0}, neg[] = {-2, 12},
                  zero_and_neg[] = {0, -1}, ok[] = {6, 4}, bad_infer[] = {5, -1};
    reshape_fail(OH_SHAPE(2, 3, 4), 2, two_neg, true, -1, EMBER_ERROR_INVALID_MODEL, "more than one -1");
    reshape_fail(OH_SHAPE(2, 3, 4), 2, wrong, true, -1, EMBER_ERROR_SHAPE_MISMATCH, "24 elements");
    reshape_fail(OH_SHAPE(2, 3, 4), 9, big, true, -1, EMBER_ERROR_SHAPE_MISMATCH, "at most 8");
    reshape_fail(OH_SHAPE(2, 3, 4), 3, huge, true, -1, EMBER_ERROR_INVALID_MODEL, "overflow");
    reshape_fail(OH_SHAPE(2, 3, 4), 4, zero_beyond, true, -1, EMBER_ERROR_INVALID_MODEL, "rank 3");
    reshape_fail(OH_SHAPE(2, 3, 4), 2, neg, true, -1, EMBER_ERROR_INVALID_MODEL, "-2");
    reshape_fail(OH_SHAPE(2, 3, 4), 2, zero_and_neg, true, 1, EMBER_ERROR_INVALID_MODEL, "allowzero");
    reshape_fail(OH_SHAPE(2, 3, 4), 2, bad_infer, true, -1, EMBER_ERROR_SHAPE_MISMATCH, "-1");
    reshape_fail(OH_SHAPE(2, 3, 4), 2, ok, false, -1, EMBER_ERROR_UNSUPPORTED, "constant");
    /* a float shape input */
    const float fs[2] = {6, 4};
    oh_node node;
    oh_begin(&node, "Reshape", 1);
    oh_input(&node, EMBER_DTYPE_F32, OH_SHAPE(2, 3, 4), fs);
    oh_constant(&node, EMBER_DTYPE_F32, OH_SHAPE(2), fs);
    tu_assert_fails(&node, EMBER_ERROR_DTYPE_MISMATCH, "i64");
}

/* Squeeze/Unsqueeze with axes as attribute (axes_input false) or constant input. */
static void axes_case(const char* op, em_shape in, uint32_t na, const int64_t* axes,
                      bool axes_input, em_shape want, ember_dtype dt) {
    size_t n = em_shape_count(&in);
    void* x = tu_make(dt, n, 9);
    oh_node node;
    oh_begin(&node, op, 1);
    if (axes && !axes_input) oh_ints(&node, "axes", na, axes);
    oh_input(&node, dt, in, x);
    if (axes && axes_input) oh_constant(&node, EMBER_DTYPE_I64, OH_SHAPE(na), axes);
    expect(&node, want, x, n, ember_dtype_size(dt));
    free(x);
}

static void test_squeeze(void** state) {
    (void)state;
    const int64_t a0[] = {0}, a_neg[] = {-1, 2}, a2[] = {1, 3};
    for (int form = 0; form < 2; form++) {
        axes_case("Squeeze", OH_SHAPE(1, 3, 1, 4), 1, a0, form, OH_SHAPE(3, 1, 4), EMBER_DTYPE_F32);
        axes_case("Squeeze", OH_SHAPE(2, 3, 1, 1), 2, a_neg, form, OH_SHAPE(2, 3), EMBER_DTYPE_I64);
        axes_case("Squeeze", OH_SHAPE(2, 1, 3, 1, 2, 1), 2, a2, form, OH_SHAPE(2, 3, 2, 1),
                  EMBER_DTYPE_U8);
    }
    axes_case("Squeeze", OH_SHAPE(1, 3, 1, 4), 0, NULL, false, OH_SHAPE(3, 4), EMBER_DTYPE_BOOL);
    axes_case("Squeeze", OH_SHAPE(1), 0, NULL, false, OH_SCALAR, EMBER_DTYPE_F16);
    axes_case("Squeeze", OH_SHAPE(2, 3), 0, NULL, false, OH_SHAPE(2, 3), EMBER_DTYPE_I8);

    float x[12] = {0};
    const int64_t bad[] = {1}, dup[] = {0, -3}, range[] = {3};
    oh_node node;
    oh_begin(&node, "Squeeze", 1);
    oh_ints(&node, "axes", 1, bad);
    oh_input(&node, EMBER_DTYPE_F32, OH_SHAPE(1, 3, 4), x);
    tu_assert_fails(&node, EMBER_ERROR_SHAPE_MISMATCH, "not 1");
    oh_begin(&node, "Squeeze", 1);
    oh_input(&node, EMBER_DTYPE_F32, OH_SHAPE(1, 3, 4), x);
    oh_constant(&node, EMBER_DTYPE_I64, OH_SHAPE(2), dup);
    tu_assert_fails(&node, EMBER_ERROR_INVALID_MODEL, "repeats");
    oh_begin(&node, "Squeeze", 1);
    oh_input(&node, EMBER_DTYPE_F32, OH_SHAPE(1, 3, 4), x);
    oh_constant(&node, EMBER_DTYPE_I64, OH_SHAPE(1), range);
    tu_assert_fails(&node, EMBER_ERROR_INVALID_MODEL, "out of range");
    oh_begin(&node, "Squeeze", 1);
    oh_input(&node, EMBER_DTYPE_F32, OH_SHAPE(1, 3, 4), x);
    oh_input(&node, EMBER_DTYPE_I64, OH_SHAPE(1), a0);
    tu_assert_fails(&node, EMBER_ERROR_UNSUPPORTED, "constant");
}

static void test_unsqueeze(void** state) {
    (void)state;
    const int64_t a0[] = {0}, a_neg[] = {-1}, a2[] = {0, 4}, a3[] = {3, 1, -1};
    for (int form = 0; form < 2; form++) {
        axes_case("Unsqueeze", OH_SHAPE(3, 4), 1, a0, form, OH_SHAPE(1, 3, 4), EMBER_DTYPE_F32);
        axes_case("Unsqueeze", OH_SHAPE(3, 4), 1, a_neg, form, OH_SHAPE(3, 4, 1), EMBER_DTYPE_I64);
        axes_case("Unsqueeze", OH_SHAPE(2, 3, 4), 2, a2, form, OH_SHAPE(1, 2, 3, 4, 1),
                  EMBER_DTYPE_U8);
        axes_case("Unsqueeze", OH_SHAPE(2, 3, 4), 3, a3, form, OH_SHAPE(2, 1, 3, 1, 4, 1),
                  EMBER_DTYPE_BOOL);
    }
    axes_case("Unsqueeze", OH_SCALAR, 1, a0, true, OH_SHAPE(1), EMBER_DTYPE_F16);

    float x[4] = {0};
    const int64_t dup[] = {0, 0}, many[] = {0, 1, 2, 3, 4, 5, 6}, range[] = {3};
    oh_node node;
    oh_begin(&node, "Unsqueeze", 1);
    oh_ints(&node, "axes", 2, dup);
    oh_input(&node, EMBER_DTYPE_F32, OH_SHAPE(2, 2), x);
    tu_assert_fails(&node, EMBER_ERROR_INVALID_MODEL, "repeats");
    oh_begin(&node, "Unsqueeze", 1);
    oh_ints(&node, "axes", 7, many);
    oh_input(&node, EMBER_DTYPE_F32, OH_SHAPE(2, 2), x);
    tu_assert_fails(&node, EMBER_ERROR_UNSUPPORTED, "rank 9");
    oh_begin(&node, "Unsqueeze", 1);
    oh_input(&node, EMBER_DTYPE_F32, OH_SHAPE(2, 2), x);
    oh_constant(&node, EMBER_DTYPE_I64, OH_SHAPE(1), range);
    tu_assert_fails(&node, EMBER_ERROR_INVALID_MODEL, "out of range");
    oh_begin(&node, "Unsqueeze", 1);
    oh_input(&node, EMBER_DTYPE_F32, OH_SHAPE(2, 2), x);
    tu_assert_fails(&node, EMBER_ERROR_INVALID_MODEL, "required");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_flatten),        cmocka_unit_test(test_reshape),
        cmocka_unit_test(test_reshape_errors), cmocka_unit_test(test_squeeze),
        cmocka_unit_test(test_unsqueeze),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
