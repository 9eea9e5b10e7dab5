/* Transpose against a naive reference: every permutation of a rank-4 tensor,
 * default perms of ranks 1..4 and 6, all dtypes, and bad perms. */
#include "tensor_util.h"

/* out[i] = in[j] with j[perm[d]] = i[d]. */
static void ref_transpose(const void* x, const em_shape* in, const int64_t* perm, void* y,
                          size_t es) {
    em_shape out = {.rank = in->rank};
    for (int32_t d = 0; d < in->rank; d++) out.dims[d] = in->dims[perm[d]];
    size_t n = em_shape_count(in);
    int64_t oi[EMBER_MAX_RANK], ii[EMBER_MAX_RANK];
    for (size_t f = 0; f < n; f++) {
        tu_unravel(f, &out, oi);
        for (int32_t d = 0; d < in->rank; d++) ii[perm[d]] = oi[d];
        memcpy((char*)y + f * es, (const char*)x + tu_ravel(ii, in) * es, es);
    }
}

static void check(em_shape in, const int64_t* perm, ember_dtype dt, bool give_perm) {
    size_t n = em_shape_count(&in), es = ember_dtype_size(dt);
    void* x = tu_make(dt, n, (uint32_t)in.rank);
    void* want = malloc(n * es + 1);
    ref_transpose(x, &in, perm, want, es);
    oh_node node;
    oh_begin(&node, "Transpose", 1);
    if (give_perm) oh_ints(&node, "perm", (uint32_t)in.rank, perm);
    oh_input(&node, dt, in, x);
    tu_run_ok(&node);
    em_shape out = {.rank = in.rank};
    for (int32_t d = 0; d < in.rank; d++) out.dims[d] = in.dims[perm[d]];
    tu_assert_shape(&node.out[0].shape, out);
    assert_int_equal(node.out[0].dtype, dt);
    tu_assert_same(node.out[0].data, want, n, es, "Transpose");
    oh_free(&node);
    free(x);
    free(want);
}

static void test_all_perms_rank4(void** state) {
    (void)state;
    int64_t p[4];
    int count = 0;
    for (p[0] = 0; p[0] < 4; p[0]++)
        for (p[1] = 0; p[1] < 4; p[1]++)
            for (p[2] = 0; p[2] < 4; p[2]++)
                for (p[3] = 0; p[3] < 4; p[3]++) {
                    if (p[0] == p[1] || p[0] == p[2] || p[0] == p[3] || p[1] == p[2] ||
                        p[1] == p[3] || p[2] == p[3])
                        continue;
                    count++;
                    check(OH_SHAPE(2, 3, 4, 5), p, EMBER_DTYPE_F32, true);
                    check(OH_SHAPE(3, 1, 5, 2), p, EMBER_DTYPE_I64, true);
                    check(OH_SHAPE(2, 3, 1, 7), p, EMBER_DTYPE_U8, true);
                }
    assert_int_equal(count, 24);
}

static void test_default_perm_and_dtypes(void** state) {
    (void)state;
    const em_shape shapes[] = {OH_SHAPE(7), OH_SHAPE(3, 5), OH_SHAPE(2, 3, 4), OH_SHAPE(2, 3, 4, 5),
                               OH_SHAPE(2, 1, 3, 2, 2, 3)};
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        int64_t rev[EMBER_MAX_RANK];
        for (int32_t d = 0; d < shapes[s].rank; d++) rev[d] = shapes[s].rank - 1 - d;
        for (int t = 0; t < TU_DTYPES_N; t++) check(shapes[s], rev, tu_dtypes[t], false);
    }
    /* rank 6 with an explicit mixed permutation */
    const int64_t p6[6] = {3, 0, 5, 1, 4, 2};
    check(OH_SHAPE(2, 3, 2, 4, 1, 3), p6, EMBER_DTYPE_F16, true);
    /* identity and a permutation that keeps the inner dim (row copies) */
    const int64_t id[3] = {0, 1, 2}, keep[3] = {1, 0, 2};
    check(OH_SHAPE(4, 5, 6), id, EMBER_DTYPE_I32, true);
    check(OH_SHAPE(4, 5, 6), keep, EMBER_DTYPE_I8, true);
    /* 4-byte transposes over several 16 x 16 tiles with partial ones (the tiled
     * path of ember_copy_nd_ref): attention's (1, 2, 0) and a batched swap */
    const int64_t attn[3] = {1, 2, 0}, swap[3] = {0, 2, 1}, mixed[4] = {2, 0, 3, 1};
    check(OH_SHAPE(37, 3, 19), attn, EMBER_DTYPE_F32, true);
    check(OH_SHAPE(2, 40, 17), swap, EMBER_DTYPE_I32, true);
    check(OH_SHAPE(33, 2, 18, 3), mixed, EMBER_DTYPE_F32, true);
    /* scalar and empty tensors */
    check(OH_SCALAR, NULL, EMBER_DTYPE_F32, false);
    const int64_t p2[2] = {1, 0};
    check(OH_SHAPE(0, 3), p2, EMBER_DTYPE_F32, true);
}

static void test_hand_computed(void** state) {
    (void)state;
    const float x[6] = {1, 2, 3, 4, 5, 6}; /* [[1,2,3],[4,5,6]] */
    const float want[6] = {1, 4, 2, 5, 3, 6};
    oh_node n;
    oh_begin(&n, "Transpose", 1);
    oh_input(&n, EMBER_DTYPE_F32, OH_SHAPE(2, 3), x);
    tu_run_ok(&n);
    tu_assert_shape(&n.out[0].shape, OH_SHAPE(3, 2));
    oh_assert_close(n.out[0].data, want, 6, 0, 0);
    oh_free(&n);
}

static void test_bad_perm(void** state) {
    (void)state;
    float x[24] = {0};
    oh_node n;
    const int64_t dup[3] = {0, 1, 1}, range[3] = {0, 1, 3}, neg[3] = {-1, 0, 1}, short_p[2] = {1, 0};
    oh_begin(&n, "Transpose", 1);
    oh_ints(&n, "perm", 3, dup);
    oh_input(&n, EMBER_DTYPE_F32, OH_SHAPE(2, 3, 4), x);
    tu_assert_fails(&n, EMBER_ERROR_INVALID_MODEL, "repeats");
    oh_begin(&n, "Transpose", 1);
    oh_ints(&n, "perm", 3, range);
    oh_input(&n, EMBER_DTYPE_F32, OH_SHAPE(2, 3, 4), x);
    tu_assert_fails(&n, EMBER_ERROR_INVALID_MODEL, "permutation");
    oh_begin(&n, "Transpose", 1);
    oh_ints(&n, "perm", 3, neg);
    oh_input(&n, EMBER_DTYPE_F32, OH_SHAPE(2, 3, 4), x);
    tu_assert_fails(&n, EMBER_ERROR_INVALID_MODEL, "permutation");
    oh_begin(&n, "Transpose", 1);
    oh_ints(&n, "perm", 2, short_p);
    oh_input(&n, EMBER_DTYPE_F32, OH_SHAPE(2, 3, 4), x);
    tu_assert_fails(&n, EMBER_ERROR_SHAPE_MISMATCH, "rank 3");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hand_computed),
        cmocka_unit_test(test_all_perms_rank4),
        cmocka_unit_test(test_default_perm_and_dtypes),
        cmocka_unit_test(test_bad_perm),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
