/* BatchNormalization, InstanceNormalization, LayerNormalization against
 * naive references. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../op_harness.h"

static void test_batchnorm(void** state) {
    (void)state;
    enum { N = 2, C = 3, S = 5 };
    float x[N * C * S], scale[C], bias[C], mean[C], var[C], want[N * C * S];
    oh_fill_random(x, N * C * S, 1, -2, 2);
    oh_fill_random(scale, C, 2, 0.5f, 1.5f);
    oh_fill_random(bias, C, 3, -1, 1);
    oh_fill_random(mean, C, 4, -1, 1);
    oh_fill_random(var, C, 5, 0.1f, 2);
    const float eps = 1e-3f;
    for (int n = 0; n < N; n++)
        for (int c = 0; c < C; c++)
            for (int s = 0; s < S; s++) {
                int i = (n * C + c) * S + s;
                want[i] = (float)((x[i] - mean[c]) / sqrt((double)var[c] + eps) * scale[c] + bias[c]);
            }
    oh_node nd;
    oh_begin(&nd, "BatchNormalization", 1);
    oh_float(&nd, "epsilon", eps);
    oh_input(&nd, EMBER_DTYPE_F32, OH_SHAPE(N, C, S), x);
    oh_constant(&nd, EMBER_DTYPE_F32, OH_SHAPE(C), scale);
    oh_constant(&nd, EMBER_DTYPE_F32, OH_SHAPE(C), bias);
    oh_constant(&nd, EMBER_DTYPE_F32, OH_SHAPE(C), mean);
    oh_constant(&nd, EMBER_DTYPE_F32, OH_SHAPE(C), var);
    assert_int_equal(oh_run(&nd), EMBER_OK);
    oh_assert_close(nd.out[0].data, want, N * C * S, 1e-5f, 1e-5f);
    oh_free(&nd);

    /* hand case: x=3, mean=1, var=4-eps', scale=2, B=1 -> (3-1)/2*2+1 = 3 */
    const float hx[1] = {3}, hs[1] = {2}, hb[1] = {1}, hm[1] = {1}, hv[1] = {4};
    oh_begin(&nd, "BatchNormalization", 1);
    oh_float(&nd, "epsilon", 0.0f);
    oh_input(&nd, EMBER_DTYPE_F32, OH_SHAPE(1, 1), hx);
    oh_constant(&nd, EMBER_DTYPE_F32, OH_SHAPE(1), hs);
    oh_constant(&nd, EMBER_DTYPE_F32, OH_SHAPE(1), hb);
    oh_constant(&nd, EMBER_DTYPE_F32, OH_SHAPE(1), hm);
    oh_constant(&nd, EMBER_DTYPE_F32, OH_SHAPE(1), hv);
    assert_int_equal(oh_run(&nd), EMBER_OK);
    assert_true(((float*)nd.out[0].data)[0] == 3.0f);
    oh_free(&nd);

    /* errors: training mode, wrong channel count, non-f32 */
    oh_begin(&nd, "BatchNormalization", 1);
    oh_int(&nd, "training_mode", 1);
    oh_input(&nd, EMBER_DTYPE_F32, OH_SHAPE(N, C, S), x);
    for (int i = 0; i < 4; i++) oh_constant(&nd, EMBER_DTYPE_F32, OH_SHAPE(C), scale);
    assert_int_equal(oh_run(&nd), EMBER_ERROR_UNSUPPORTED);
    assert_non_null(strstr(nd.msg, "training_mode"));
    oh_free(&nd);
    oh_begin(&nd, "BatchNormalization", 1);
    oh_input(&nd, EMBER_DTYPE_F32, OH_SHAPE(N, C, S), x);
    for (int i = 0; i < 3; i++) oh_constant(&nd, EMBER_DTYPE_F32, OH_SHAPE(C), scale);
    oh_constant(&nd, EMBER_DTYPE_F32, OH_SHAPE(C - 1), scale);
    assert_int_equal(oh_run(&nd), EMBER_ERROR_SHAPE_MISMATCH);
    assert_non_null(strstr(nd.msg, "input_var"));
    oh_free(&nd);
    oh_begin(&nd, "BatchNormalization", 1);
    oh_input(&nd, EMBER_DTYPE_I32, OH_SHAPE(N, C, S), x);
    for (int i = 0; i < 4; i++) oh_constant(&nd, EMBER_DTYPE_F32, OH_SHAPE(C), scale);
    assert_int_equal(oh_run(&nd), EMBER_ERROR_DTYPE_MISMATCH);
    oh_free(&nd);
}

static void test_instancenorm(void** state) {
    (void)state;
    enum { N = 2, C = 3, S = 7 };
    float x[N * C * S], scale[C], bias[C], want[N * C * S];
    oh_fill_random(x, N * C * S, 11, -2, 3);
    oh_fill_random(scale, C, 12, 0.5f, 1.5f);
    oh_fill_random(bias, C, 13, -1, 1);
    const float eps = 1e-5f;
    for (int p = 0; p < N * C; p++) {
        double m = 0, v = 0;
        for (int s = 0; s < S; s++) m += x[p * S + s];
        m /= S;
        for (int s = 0; s < S; s++) v += (x[p * S + s] - m) * (x[p * S + s] - m);
        v /= S;
        for (int s = 0; s < S; s++)
            want[p * S + s] = (float)((x[p * S + s] - m) / sqrt(v + eps) * scale[p % C] + bias[p % C]);
    }
    oh_node nd;
    oh_begin(&nd, "InstanceNormalization", 1);
    oh_input(&nd, EMBER_DTYPE_F32, OH_SHAPE(N, C, 1, S), x);
    oh_constant(&nd, EMBER_DTYPE_F32, OH_SHAPE(C), scale);
    oh_constant(&nd, EMBER_DTYPE_F32, OH_SHAPE(C), bias);
    assert_int_equal(oh_run(&nd), EMBER_OK);
    oh_assert_close(nd.out[0].data, want, N * C * S, 1e-5f, 1e-5f);
    oh_free(&nd);
    oh_begin(&nd, "InstanceNormalization", 1);
    oh_input(&nd, EMBER_DTYPE_F32, OH_SHAPE(N, C, S), x);
    oh_constant(&nd, EMBER_DTYPE_F32, OH_SHAPE(C + 1), scale);
    oh_constant(&nd, EMBER_DTYPE_F32, OH_SHAPE(C), bias);
    assert_int_equal(oh_run(&nd), EMBER_ERROR_SHAPE_MISMATCH);
    assert_non_null(strstr(nd.msg, "scale"));
    oh_free(&nd);
}

/* rows x cols with scale/bias of cols entries (bias may be NULL) */
static void layernorm_naive(int rows, int cols, const float* x, const float* scale,
                            const float* bias, float eps, float* y, float* mean, float* inv) {
    for (int r = 0; r < rows; r++) {
        double m = 0, v = 0;
        for (int j = 0; j < cols; j++) m += x[r * cols + j];
        m /= cols;
        for (int j = 0; j < cols; j++) v += (x[r * cols + j] - m) * (x[r * cols + j] - m);
        v /= cols;
        double is = 1.0 / sqrt(v + eps);
        for (int j = 0; j < cols; j++)
            y[r * cols + j] = (float)((x[r * cols + j] - m) * is * scale[j] + (bias ? bias[j] : 0));
        mean[r] = (float)m;
        inv[r] = (float)is;
    }
}

static void test_layernorm(void** state) {
    (void)state;
    enum { A = 2, B = 3, D = 4, E = 5 };
    float x[A * B * D * E], scale[D * E], bias[D * E], want[A * B * D * E], m[A * B * D], inv[A * B * D];
    oh_fill_random(x, A * B * D * E, 21, -3, 3);
    oh_fill_random(scale, D * E, 22, 0.5f, 1.5f);
    oh_fill_random(bias, D * E, 23, -1, 1);
    /* axis = -1 with bias, all three outputs */
    layernorm_naive(A * B * D, E, x, scale, bias, 1e-5f, want, m, inv);
    oh_node nd;
    oh_begin(&nd, "LayerNormalization", 3);
    oh_input(&nd, EMBER_DTYPE_F32, OH_SHAPE(A, B, D, E), x);
    oh_constant(&nd, EMBER_DTYPE_F32, OH_SHAPE(E), scale);
    oh_constant(&nd, EMBER_DTYPE_F32, OH_SHAPE(E), bias);
    assert_int_equal(oh_run(&nd), EMBER_OK);
    oh_assert_close(nd.out[0].data, want, A * B * D * E, 1e-5f, 1e-5f);
    const em_shape ms = OH_SHAPE(A, B, D, 1);
    assert_true(em_shape_equal(&nd.out[1].shape, &ms));
    assert_true(em_shape_equal(&nd.out[2].shape, &ms));
    oh_assert_close(nd.out[1].data, m, A * B * D, 1e-6f, 1e-5f);
    oh_assert_close(nd.out[2].data, inv, A * B * D, 1e-6f, 1e-5f);
    oh_free(&nd);

    /* axis = 2 (normalize over D x E), no bias */
    layernorm_naive(A * B, D * E, x, scale, NULL, 1e-3f, want, m, inv);
    oh_begin(&nd, "LayerNormalization", 1);
    oh_int(&nd, "axis", 2);
    oh_float(&nd, "epsilon", 1e-3f);
    oh_input(&nd, EMBER_DTYPE_F32, OH_SHAPE(A, B, D, E), x);
    oh_constant(&nd, EMBER_DTYPE_F32, OH_SHAPE(D, E), scale);
    assert_int_equal(oh_run(&nd), EMBER_OK);
    oh_assert_close(nd.out[0].data, want, A * B * D * E, 1e-5f, 1e-5f);
    oh_free(&nd);

    /* axis = -2 with a broadcast scale [1, E] and bias [E] */
    float scale_full[D * E], bias_full[D * E];
    for (int i = 0; i < D; i++)
        for (int j = 0; j < E; j++) {
            scale_full[i * E + j] = scale[j];
            bias_full[i * E + j] = bias[j];
        }
    layernorm_naive(A * B, D * E, x, scale_full, bias_full, 1e-5f, want, m, inv);
    oh_begin(&nd, "LayerNormalization", 1);
    oh_int(&nd, "axis", -2);
    oh_input(&nd, EMBER_DTYPE_F32, OH_SHAPE(A, B, D, E), x);
    oh_constant(&nd, EMBER_DTYPE_F32, OH_SHAPE(1, E), scale);
    oh_constant(&nd, EMBER_DTYPE_F32, OH_SHAPE(E), bias);
    assert_int_equal(oh_run(&nd), EMBER_OK);
    oh_assert_close(nd.out[0].data, want, A * B * D * E, 1e-5f, 1e-5f);
    oh_free(&nd);

    /* errors: scale not broadcastable, axis out of range */
    oh_begin(&nd, "LayerNormalization", 1);
    oh_input(&nd, EMBER_DTYPE_F32, OH_SHAPE(A, B, D, E), x);
    oh_constant(&nd, EMBER_DTYPE_F32, OH_SHAPE(D), scale);
    assert_int_equal(oh_run(&nd), EMBER_ERROR_SHAPE_MISMATCH);
    assert_non_null(strstr(nd.msg, "Scale"));
    oh_free(&nd);
    oh_begin(&nd, "LayerNormalization", 1);
    oh_int(&nd, "axis", 4);
    oh_input(&nd, EMBER_DTYPE_F32, OH_SHAPE(A, B, D, E), x);
    oh_constant(&nd, EMBER_DTYPE_F32, OH_SHAPE(E), scale);
    assert_int_equal(oh_run(&nd), EMBER_ERROR_INVALID_MODEL);
    assert_non_null(strstr(nd.msg, "axis"));
    oh_free(&nd);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_batchnorm),
        cmocka_unit_test(test_instancenorm),
        cmocka_unit_test(test_layernorm),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
