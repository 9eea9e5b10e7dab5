/* Gather against a naive reference over ranks 1..4 (and 6), every axis (also
 * negative), i32 and i64 indices of ranks 0..2 with negative entries, several
 * dtypes; out-of-range indices fail at run without touching the output. */
#include "tensor_util.h"

static void gather_case(em_shape data, int64_t axis, em_shape ishape, bool idx64, ember_dtype dt,
                        uint32_t seed) {
    int32_t ax = (int32_t)(axis < 0 ? axis + data.rank : axis);
    int64_t dim = data.dims[ax];
    size_t ni = em_shape_count(&ishape), es = ember_dtype_size(dt);
    int64_t idx[64];
    int32_t idx32[64];
    for (size_t i = 0; i < ni; i++) {
        idx[i] = (int64_t)((i * 7 + seed) % (size_t)(2 * dim)) - dim; /* in [-dim, dim) */
        idx32[i] = (int32_t)idx[i];
    }
    em_shape out = {.rank = data.rank - 1 + ishape.rank};
    int32_t k = 0;
    for (int32_t d = 0; d < ax; d++) out.dims[k++] = data.dims[d];
    for (int32_t d = 0; d < ishape.rank; d++) out.dims[k++] = ishape.dims[d];
    for (int32_t d = ax + 1; d < data.rank; d++) out.dims[k++] = data.dims[d];
    size_t n = em_shape_count(&out);
    char* x = tu_make(dt, em_shape_count(&data), seed);
    char* want = malloc(n * es + 1);
    int64_t oi[EMBER_MAX_RANK], ii[EMBER_MAX_RANK], jj[EMBER_MAX_RANK];
    for (size_t f = 0; f < n; f++) {
        tu_unravel(f, &out, oi);
        for (int32_t d = 0; d < ax; d++) ii[d] = oi[d];
        for (int32_t d = 0; d < ishape.rank; d++) jj[d] = oi[ax + d];
        int64_t v = idx[tu_ravel(jj, &ishape)];
        ii[ax] = v < 0 ? v + dim : v;
        for (int32_t d = ax + 1; d < data.rank; d++) ii[d] = oi[d - 1 + ishape.rank];
        memcpy(want + f * es, x + tu_ravel(ii, &data) * es, es);
    }
    oh_node node;
    oh_begin(&node, "Gather", 1);
    if (axis || seed % 2) oh_int(&node, "axis", axis);
    oh_input(&node, dt, data, x);
    if (idx64)
        oh_input(&node, EMBER_DTYPE_I64, ishape, idx);
    else
        oh_constant(&node, EMBER_DTYPE_I32, ishape, idx32);
    tu_run_ok(&node);
    tu_assert_shape(&node.out[0].shape, out);
    tu_assert_same(node.out[0].data, want, n, es, "Gather");
    oh_free(&node);
    free(x);
    free(want);
}

static void test_gather(void** state) {
    (void)state;
    const em_shape datas[] = {OH_SHAPE(5), OH_SHAPE(4, 3), OH_SHAPE(2, 3, 4), OH_SHAPE(3, 2, 4, 2),
                              OH_SHAPE(2, 3, 1, 2, 2, 3)};
    const em_shape ishapes[] = {OH_SCALAR, OH_SHAPE(1), OH_SHAPE(4), OH_SHAPE(2, 3)};
    uint32_t seed = 0;
    for (size_t s = 0; s < sizeof datas / sizeof datas[0]; s++)
        for (int64_t axis = -datas[s].rank; axis < datas[s].rank; axis++)
            for (size_t q = 0; q < sizeof ishapes / sizeof ishapes[0]; q++, seed++)
                gather_case(datas[s], axis, ishapes[q], seed % 2, tu_dtypes[seed % TU_DTYPES_N],
                            seed);
}

static void test_hand_computed(void** state) {
    (void)state;
    const float x[6] = {1, 2, 3, 4, 5, 6}; /* [[1,2],[3,4],[5,6]] */
    const int64_t idx[4] = {0, 2, -1, 1};  /* [[0,2],[-1,1]] */
    const float want[8] = {1, 2, 5, 6, 5, 6, 3, 4};
    oh_node node;
    oh_begin(&node, "Gather", 1);
    oh_input(&node, EMBER_DTYPE_F32, OH_SHAPE(3, 2), x);
    oh_input(&node, EMBER_DTYPE_I64, OH_SHAPE(2, 2), idx);
    tu_run_ok(&node);
    tu_assert_shape(&node.out[0].shape, OH_SHAPE(2, 2, 2));
    oh_assert_close(node.out[0].data, want, 8, 0, 0);
    oh_free(&node);
    /* axis 1 with a scalar index removes the axis */
    const int32_t one = -1;
    const float want1[3] = {2, 4, 6};
    oh_begin(&node, "Gather", 1);
    oh_int(&node, "axis", 1);
    oh_input(&node, EMBER_DTYPE_F32, OH_SHAPE(3, 2), x);
    oh_input(&node, EMBER_DTYPE_I32, OH_SCALAR, &one);
    tu_run_ok(&node);
    tu_assert_shape(&node.out[0].shape, OH_SHAPE(3));
    oh_assert_close(node.out[0].data, want1, 3, 0, 0);
    oh_free(&node);
}

static void test_out_of_range(void** state) {
    (void)state;
    const float x[6] = {1, 2, 3, 4, 5, 6};
    const int64_t bad[3] = {0, 1, 3}, neg[2] = {1, -4};
    const int32_t bad32[2] = {2, 7};
    /* runtime indices: EMBER_ERROR_RUNTIME, message names the index, output untouched */
    oh_node node;
    oh_begin(&node, "Gather", 1);
    oh_input(&node, EMBER_DTYPE_F32, OH_SHAPE(3, 2), x);
    oh_input(&node, EMBER_DTYPE_I64, OH_SHAPE(3), bad);
    assert_int_equal(oh_run(&node), EMBER_ERROR_RUNTIME);
    assert_non_null(strstr(node.msg, "index 3"));
    const unsigned char* out = node.out[0].data;
    for (size_t i = 0; i < 3 * 2 * sizeof(float); i++) assert_int_equal(out[i], 0xA5);
    oh_free(&node);
    oh_begin(&node, "Gather", 1);
    oh_input(&node, EMBER_DTYPE_F32, OH_SHAPE(3, 2), x);
    oh_input(&node, EMBER_DTYPE_I64, OH_SHAPE(2), neg);
    tu_assert_fails(&node, EMBER_ERROR_RUNTIME, "index -4");
    oh_begin(&node, "Gather", 1);
    oh_int(&node, "axis", -1);
    oh_input(&node, EMBER_DTYPE_F32, OH_SHAPE(3, 2), x);
    oh_input(&node, EMBER_DTYPE_I32, OH_SHAPE(2), bad32);
    tu_assert_fails(&node, EMBER_ERROR_RUNTIME, "index 2");
    /* constant indices are refused at load already */
    oh_begin(&node, "Gather", 1);
    oh_input(&node, EMBER_DTYPE_F32, OH_SHAPE(3, 2), x);
    oh_constant(&node, EMBER_DTYPE_I64, OH_SHAPE(3), bad);
    tu_assert_fails(&node, EMBER_ERROR_INVALID_MODEL, "index 3");
}

static void test_errors(void** state) {
    (void)state;
    const float x[6] = {0};
    const float fidx[1] = {0};
    const int64_t i0 = 0;
    oh_node node;
    oh_begin(&node, "Gather", 1);
    oh_input(&node, EMBER_DTYPE_F32, OH_SHAPE(3, 2), x);
    oh_input(&node, EMBER_DTYPE_F32, OH_SHAPE(1), fidx);
    tu_assert_fails(&node, EMBER_ERROR_DTYPE_MISMATCH, "i32 or i64");
    oh_begin(&node, "Gather", 1);
    oh_int(&node, "axis", 2);
    oh_input(&node, EMBER_DTYPE_F32, OH_SHAPE(3, 2), x);
    oh_input(&node, EMBER_DTYPE_I64, OH_SCALAR, &i0);
    tu_assert_fails(&node, EMBER_ERROR_INVALID_MODEL, "axis 2");
    oh_begin(&node, "Gather", 1);
    oh_input(&node, EMBER_DTYPE_F32, OH_SHAPE(1, 1, 1, 1, 1, 1), x);
    oh_input(&node, EMBER_DTYPE_I64, OH_SHAPE(1, 1, 1, 1), x);
    tu_assert_fails(&node, EMBER_ERROR_UNSUPPORTED, "rank 9");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hand_computed),
        cmocka_unit_test(test_gather),
        cmocka_unit_test(test_out_of_range),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
