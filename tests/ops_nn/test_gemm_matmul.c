/* Gemm and MatMul against naive triple loops. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../op_harness.h"

/* c_rank: -1 no C; else C has shape c_dims (rank c_rank). */
static void run_gemm(int m, int n, int k, int ta, int tb, float alpha, float beta, int c_rank,
                     const int64_t* c_dims, uint32_t act, uint32_t seed) {
    float* a = malloc(sizeof(float) * (size_t)(m * k));
    float* b = malloc(sizeof(float) * (size_t)(k * n));
    float* c = malloc(sizeof(float) * (size_t)(m * n));
    float* want = malloc(sizeof(float) * (size_t)(m * n));
    oh_fill_random(a, (size_t)(m * k), seed, -1, 1);
    oh_fill_random(b, (size_t)(k * n), seed + 1, -1, 1);
    oh_fill_random(c, (size_t)(m * n), seed + 2, -1, 1);
    int cm = 1, cn = 1;
    if (c_rank == 2) {
        cm = (int)c_dims[0];
        cn = (int)c_dims[1];
    } else if (c_rank == 1) {
        cn = (int)c_dims[0];
    }
    for (int i = 0; i < m; i++)
        for (int j = 0; j < n; j++) {
            double s = 0;
            for (int p = 0; p < k; p++) {
                double av = ta ? a[p * m + i] : a[i * k + p];
                double bv = tb ? b[j * k + p] : b[p * n + j];
                s += av * bv;
            }
            s *= alpha;
            if (c_rank >= 0) s += beta * c[(cm == 1 ? 0 : i) * cn + (cn == 1 ? 0 : j)];
            float v = (float)s;
            if (act == EMF_ACT_RELU) v = v > 0 ? v : 0;
            if (act == EMF_ACT_CLIP) v = fminf(fmaxf(v, -0.25f), 0.5f);
            want[i * n + j] = v;
        }
    oh_node nd;
    oh_begin(&nd, "Gemm", 1);
    if (ta) oh_int(&nd, "transA", 1);
    if (tb) oh_int(&nd, "transB", 1);
    oh_float(&nd, "alpha", alpha);
    oh_float(&nd, "beta", beta);
    nd.act.kind = act;
    nd.act.alpha = -0.25f;
    nd.act.beta = 0.5f;
    oh_input(&nd, EMBER_DTYPE_F32, ta ? OH_SHAPE(k, m) : OH_SHAPE(m, k), a);
    oh_constant(&nd, EMBER_DTYPE_F32, tb ? OH_SHAPE(n, k) : OH_SHAPE(k, n), b);
    if (c_rank >= 0) oh_constant(&nd, EMBER_DTYPE_F32, oh_shape_of(c_rank, c_dims), c);
    ember_status st = oh_run(&nd);
    if (st != EMBER_OK) fail_msg("Gemm failed: %s", nd.msg);
    assert_int_equal(nd.out[0].shape.rank, 2);
    assert_int_equal(nd.out[0].shape.dims[0], m);
    assert_int_equal(nd.out[0].shape.dims[1], n);
    oh_assert_close(nd.out[0].data, want, (size_t)(m * n), 1e-5f * (float)(k + 1), 1e-5f);
    oh_free(&nd);
    free(a);
    free(b);
    free(c);
    free(want);
}

static void test_gemm_hand(void** state) {
    (void)state;
    const float a[6] = {1, 2, 3, 4, 5, 6};       /* 2x3 */
    const float b[6] = {1, 0, 0, 1, 1, 1};       /* 3x2 */
    const float c[2] = {10, 20};
    oh_node n;
    oh_begin(&n, "Gemm", 1);
    oh_float(&n, "alpha", 2.0f);
    oh_float(&n, "beta", 0.5f);
    oh_input(&n, EMBER_DTYPE_F32, OH_SHAPE(2, 3), a);
    oh_constant(&n, EMBER_DTYPE_F32, OH_SHAPE(3, 2), b);
    oh_constant(&n, EMBER_DTYPE_F32, OH_SHAPE(2), c);
    assert_int_equal(oh_run(&n), EMBER_OK);
    /* A*B = [[4,5],[10,11]] -> 2*AB + 0.5*C */
    const float want[4] = {13, 20, 25, 32};
    oh_assert_close(n.out[0].data, want, 4, 0, 0);
    oh_free(&n);
}

static void test_gemm_sweep(void** state) {
    (void)state;
    const int dims[][3] = {{1, 1, 1}, {1, 7, 3}, {5, 1, 4}, {3, 5, 1}, {7, 13, 11}, {16, 9, 17}, {2, 31, 64}};
    uint32_t seed = 1;
    for (size_t d = 0; d < sizeof dims / sizeof dims[0]; d++) {
        const int m = dims[d][0], n = dims[d][1], k = dims[d][2];
        const int64_t cmn[2] = {m, n}, cm1[2] = {m, 1}, c1n[2] = {1, n}, cn[1] = {n}, c1[1] = {1};
        for (int ta = 0; ta < 2; ta++)
            for (int tb = 0; tb < 2; tb++) {
                run_gemm(m, n, k, ta, tb, 1.0f, 1.0f, -1, NULL, EMF_ACT_NONE, seed++);
                run_gemm(m, n, k, ta, tb, 0.5f, 2.0f, 2, cmn, EMF_ACT_NONE, seed++);
            }
        run_gemm(m, n, k, 0, 0, 1.5f, -1.0f, 2, cm1, EMF_ACT_NONE, seed++);
        run_gemm(m, n, k, 0, 1, 1.0f, 1.0f, 2, c1n, EMF_ACT_NONE, seed++);
        run_gemm(m, n, k, 1, 0, 1.0f, 0.25f, 1, cn, EMF_ACT_NONE, seed++);
        run_gemm(m, n, k, 0, 0, 1.0f, 1.0f, 1, c1, EMF_ACT_NONE, seed++);
        run_gemm(m, n, k, 0, 0, 1.0f, 3.0f, 0, NULL, EMF_ACT_NONE, seed++);
        run_gemm(m, n, k, 1, 1, 2.0f, 0.0f, 2, cmn, EMF_ACT_NONE, seed++);
    }
}

static void test_gemm_fused(void** state) {
    (void)state;
    const int64_t cn[1] = {9};
    run_gemm(6, 9, 5, 0, 1, 1.0f, 1.0f, 1, cn, EMF_ACT_RELU, 500);
    run_gemm(6, 9, 5, 1, 0, 1.0f, 1.0f, 1, cn, EMF_ACT_CLIP, 501);
}

static void test_gemm_errors(void** state) {
    (void)state;
    static float buf[256];
    oh_node n;
    oh_begin(&n, "Gemm", 1); /* K mismatch */
    oh_input(&n, EMBER_DTYPE_F32, OH_SHAPE(2, 3), buf);
    oh_input(&n, EMBER_DTYPE_F32, OH_SHAPE(4, 2), buf);
    assert_int_equal(oh_run(&n), EMBER_ERROR_SHAPE_MISMATCH);
    assert_non_null(strstr(n.msg, "inner"));
    oh_free(&n);
    oh_begin(&n, "Gemm", 1); /* C not broadcastable */
    oh_input(&n, EMBER_DTYPE_F32, OH_SHAPE(2, 3), buf);
    oh_input(&n, EMBER_DTYPE_F32, OH_SHAPE(3, 4), buf);
    oh_input(&n, EMBER_DTYPE_F32, OH_SHAPE(3), buf);
    assert_int_equal(oh_run(&n), EMBER_ERROR_SHAPE_MISMATCH);
    assert_non_null(strstr(n.msg, "C"));
    oh_free(&n);
    oh_begin(&n, "Gemm", 1); /* non-f32 */
    oh_input(&n, EMBER_DTYPE_I64, OH_SHAPE(2, 3), buf);
    oh_input(&n, EMBER_DTYPE_F32, OH_SHAPE(3, 4), buf);
    assert_int_equal(oh_run(&n), EMBER_ERROR_DTYPE_MISMATCH);
    oh_free(&n);
    oh_begin(&n, "Gemm", 1); /* rank 3 */
    oh_input(&n, EMBER_DTYPE_F32, OH_SHAPE(1, 2, 3), buf);
    oh_input(&n, EMBER_DTYPE_F32, OH_SHAPE(3, 4), buf);
    assert_int_equal(oh_run(&n), EMBER_ERROR_SHAPE_MISMATCH);
    oh_free(&n);
    oh_begin(&n, "Gemm", 1); /* transA = 2 */
    oh_int(&n, "transA", 2);
    oh_input(&n, EMBER_DTYPE_F32, OH_SHAPE(2, 3), buf);
    oh_input(&n, EMBER_DTYPE_F32, OH_SHAPE(3, 4), buf);
    assert_int_equal(oh_run(&n), EMBER_ERROR_INVALID_MODEL);
    assert_non_null(strstr(n.msg, "transA"));
    oh_free(&n);
}

/* ---------------- MatMul ---------------- */

static size_t numel(const em_shape* s) {
    size_t n = 1;
    for (int i = 0; i < s->rank; i++) n *= (size_t)s->dims[i];
    return n;
}

/* Naive numpy matmul: operands promoted to rank >= 2, batch dims broadcast. */
static void matmul_naive(em_shape as, const float* a, em_shape bs, const float* b, em_shape* ys,
                         float* y) {
    const int a1 = as.rank == 1, b1 = bs.rank == 1;
    if (a1) as = (em_shape){.rank = 2, .dims = {1, as.dims[0]}};
    if (b1) bs = (em_shape){.rank = 2, .dims = {bs.dims[0], 1}};
    const int br = (as.rank > bs.rank ? as.rank : bs.rank) - 2;
    int64_t ab[8], bb[8], ob[8];
    for (int d = 0; d < br; d++) {
        int ia = d - (br - (as.rank - 2)), ib = d - (br - (bs.rank - 2));
        ab[d] = ia >= 0 ? as.dims[ia] : 1;
        bb[d] = ib >= 0 ? bs.dims[ib] : 1;
        ob[d] = ab[d] > bb[d] ? ab[d] : bb[d];
    }
    const int64_t m = as.dims[as.rank - 2], k = as.dims[as.rank - 1], n = bs.dims[bs.rank - 1];
    ys->rank = 0;
    for (int d = 0; d < br; d++) ys->dims[ys->rank++] = ob[d];
    if (!a1) ys->dims[ys->rank++] = m;
    if (!b1) ys->dims[ys->rank++] = n;
    int64_t total = 1;
    for (int d = 0; d < br; d++) total *= ob[d];
    for (int64_t t = 0; t < total; t++) {
        int64_t rem = t, oa = 0, obb = 0, sa = 1, sb = 1;
        for (int d = br - 1; d >= 0; d--) {
            int64_t i = rem % ob[d];
            rem /= ob[d];
            oa += (ab[d] == 1 ? 0 : i) * sa;
            obb += (bb[d] == 1 ? 0 : i) * sb;
            sa *= ab[d];
            sb *= bb[d];
        }
        for (int64_t i = 0; i < m; i++)
            for (int64_t j = 0; j < n; j++) {
                double s = 0;
                for (int64_t p = 0; p < k; p++)
                    s += (double)a[oa * m * k + i * k + p] * b[obb * k * n + p * n + j];
                y[t * m * n + i * n + j] = (float)s;
            }
    }
}

static void run_matmul(em_shape as, em_shape bs, uint32_t seed) {
    float* a = malloc(sizeof(float) * numel(&as));
    float* b = malloc(sizeof(float) * numel(&bs));
    float* want = malloc(sizeof(float) * 4096);
    oh_fill_random(a, numel(&as), seed, -1, 1);
    oh_fill_random(b, numel(&bs), seed + 1, -1, 1);
    em_shape ys;
    matmul_naive(as, a, bs, b, &ys, want);
    assert_true(numel(&ys) <= 4096);
    oh_node n;
    oh_begin(&n, "MatMul", 1);
    oh_input(&n, EMBER_DTYPE_F32, as, a);
    oh_input(&n, EMBER_DTYPE_F32, bs, b);
    ember_status st = oh_run(&n);
    if (st != EMBER_OK) fail_msg("MatMul failed: %s", n.msg);
    if (!em_shape_equal(&n.out[0].shape, &ys)) {
        char x[128], z[128];
        fail_msg("MatMul shape %s, want %s", em_shape_str(&n.out[0].shape, x, sizeof x),
                 em_shape_str(&ys, z, sizeof z));
    }
    oh_assert_close(n.out[0].data, want, numel(&ys), 1e-4f, 1e-5f);
    oh_free(&n);
    free(a);
    free(b);
    free(want);
}

static void test_matmul(void** state) {
    (void)state;
    uint32_t seed = 1000;
    run_matmul(OH_SHAPE(3, 4), OH_SHAPE(4, 5), seed++);
    run_matmul(OH_SHAPE(1, 1), OH_SHAPE(1, 1), seed++);
    run_matmul(OH_SHAPE(2, 3, 4), OH_SHAPE(4, 5), seed++);
    run_matmul(OH_SHAPE(3, 4), OH_SHAPE(2, 4, 5), seed++);
    run_matmul(OH_SHAPE(2, 3, 4), OH_SHAPE(2, 4, 5), seed++);
    run_matmul(OH_SHAPE(2, 1, 3, 4), OH_SHAPE(5, 4, 6), seed++);
    run_matmul(OH_SHAPE(1, 3, 3, 4), OH_SHAPE(2, 1, 4, 2), seed++);
    run_matmul(OH_SHAPE(4), OH_SHAPE(4, 5), seed++);
    run_matmul(OH_SHAPE(4), OH_SHAPE(3, 4, 5), seed++);
    run_matmul(OH_SHAPE(3, 4), OH_SHAPE(4), seed++);
    run_matmul(OH_SHAPE(2, 3, 4), OH_SHAPE(4), seed++);
    run_matmul(OH_SHAPE(7), OH_SHAPE(7), seed++);
    run_matmul(OH_SHAPE(5, 17, 13), OH_SHAPE(13, 11), seed++);
}

static void test_matmul_hand_and_fused(void** state) {
    (void)state;
    const float a[4] = {1, -2, 3, 4}, b[4] = {1, 1, 1, -1};
    oh_node n;
    oh_begin(&n, "MatMul", 1);
    n.act.kind = EMF_ACT_RELU;
    oh_input(&n, EMBER_DTYPE_F32, OH_SHAPE(2, 2), a);
    oh_input(&n, EMBER_DTYPE_F32, OH_SHAPE(2, 2), b);
    assert_int_equal(oh_run(&n), EMBER_OK);
    const float want[4] = {0, 3, 7, 0}; /* [[-1,3],[7,-1]] relu */
    oh_assert_close(n.out[0].data, want, 4, 0, 0);
    oh_free(&n);
    oh_begin(&n, "MatMul", 1); /* vector . vector is a scalar */
    oh_input(&n, EMBER_DTYPE_F32, OH_SHAPE(4), a);
    oh_input(&n, EMBER_DTYPE_F32, OH_SHAPE(4), b);
    assert_int_equal(oh_run(&n), EMBER_OK);
    assert_int_equal(n.out[0].shape.rank, 0);
    assert_true(((float*)n.out[0].data)[0] == 1 - 2 + 3 - 4);
    oh_free(&n);
}

static void test_matmul_errors(void** state) {
    (void)state;
    static float buf[256];
    oh_node n;
    oh_begin(&n, "MatMul", 1);
    oh_input(&n, EMBER_DTYPE_F32, OH_SHAPE(2, 3), buf);
    oh_input(&n, EMBER_DTYPE_F32, OH_SHAPE(4, 2), buf);
    assert_int_equal(oh_run(&n), EMBER_ERROR_SHAPE_MISMATCH);
    assert_non_null(strstr(n.msg, "inner"));
    oh_free(&n);
    oh_begin(&n, "MatMul", 1);
    oh_input(&n, EMBER_DTYPE_F32, OH_SHAPE(2, 2, 3), buf);
    oh_input(&n, EMBER_DTYPE_F32, OH_SHAPE(3, 3, 2), buf);
    assert_int_equal(oh_run(&n), EMBER_ERROR_SHAPE_MISMATCH);
    assert_non_null(strstr(n.msg, "batch"));
    oh_free(&n);
    oh_begin(&n, "MatMul", 1);
    oh_input(&n, EMBER_DTYPE_F32, OH_SHAPE(2, 3), buf);
    oh_input(&n, EMBER_DTYPE_I8, OH_SHAPE(3, 2), buf);
    assert_int_equal(oh_run(&n), EMBER_ERROR_DTYPE_MISMATCH);
    oh_free(&n);
    oh_begin(&n, "MatMul", 1);
    oh_input(&n, EMBER_DTYPE_F32, OH_SCALAR, buf);
    oh_input(&n, EMBER_DTYPE_F32, OH_SHAPE(3, 2), buf);
    assert_int_equal(oh_run(&n), EMBER_ERROR_SHAPE_MISMATCH);
    oh_free(&n);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gemm_hand),
        cmocka_unit_test(test_gemm_sweep),
        cmocka_unit_test(test_gemm_fused),
        cmocka_unit_test(test_gemm_errors),
        cmocka_unit_test(test_matmul),
        cmocka_unit_test(test_matmul_hand_and_fused),
        cmocka_unit_test(test_matmul_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
