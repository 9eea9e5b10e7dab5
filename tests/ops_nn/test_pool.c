/* MaxPool, AveragePool, GlobalAveragePool, GlobalMaxPool against hand cases
 * and a naive reference. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../op_harness.h"

typedef struct pool_case {
    int nsp, n, c;
    int in[3], k[3], s[3], d[3], pb[3], pe[3];
    int ceil_mode, count_include_pad;
    const char* auto_pad;
} pool_case;

static void pad3(int nsp, const int* v, int def, int* o) {
    for (int i = 0; i < 3; i++) o[i] = def;
    for (int i = 0; i < nsp; i++) o[3 - nsp + i] = v[i];
}

static void run_pool(const pool_case* pc, int is_max, uint32_t seed) {
    int out[3], pb[3], pe[3];
    for (int i = 0; i < pc->nsp; i++) {
        const int ek = (pc->k[i] - 1) * pc->d[i] + 1;
        if (pc->auto_pad && strncmp(pc->auto_pad, "SAME", 4) == 0) {
            out[i] = (pc->in[i] + pc->s[i] - 1) / pc->s[i];
            int total = (out[i] - 1) * pc->s[i] + ek - pc->in[i];
            if (total < 0) total = 0;
            pb[i] = strcmp(pc->auto_pad, "SAME_UPPER") == 0 ? total / 2 : total - total / 2;
            pe[i] = total - pb[i];
        } else {
            pb[i] = pc->auto_pad ? 0 : pc->pb[i];
            pe[i] = pc->auto_pad ? 0 : pc->pe[i];
            double o = (double)(pc->in[i] + pb[i] + pe[i] - ek) / pc->s[i];
            out[i] = (int)(pc->ceil_mode ? ceil(o) : floor(o)) + 1;
            if (pc->ceil_mode && (out[i] - 1) * pc->s[i] >= pc->in[i] + pb[i]) out[i]--;
        }
    }
    int in3[3], k3[3], s3[3], d3[3], o3[3], pb3[3], pe3[3];
    pad3(pc->nsp, pc->in, 1, in3);
    pad3(pc->nsp, pc->k, 1, k3);
    pad3(pc->nsp, pc->s, 1, s3);
    pad3(pc->nsp, pc->d, 1, d3);
    pad3(pc->nsp, out, 1, o3);
    pad3(pc->nsp, pb, 0, pb3);
    pad3(pc->nsp, pe, 0, pe3);
    const int planes = pc->n * pc->c, ivol = in3[0] * in3[1] * in3[2], ovol = o3[0] * o3[1] * o3[2];
    float* x = malloc(sizeof(float) * (size_t)(planes * ivol));
    float* want = malloc(sizeof(float) * (size_t)(planes * ovol));
    oh_fill_random(x, (size_t)(planes * ivol), seed, -1, 1);
    for (int p = 0; p < planes; p++)
        for (int oz = 0; oz < o3[0]; oz++)
            for (int oy = 0; oy < o3[1]; oy++)
                for (int ox = 0; ox < o3[2]; ox++) {
                    double sum = 0, mx = -INFINITY;
                    int cnt = 0, cnt_pad = 0;
                    for (int kz = 0; kz < k3[0]; kz++)
                        for (int ky = 0; ky < k3[1]; ky++)
                            for (int kx = 0; kx < k3[2]; kx++) {
                                int z = oz * s3[0] + kz * d3[0] - pb3[0];
                                int y = oy * s3[1] + ky * d3[1] - pb3[1];
                                int xx = ox * s3[2] + kx * d3[2] - pb3[2];
                                if (z >= -pb3[0] && z < in3[0] + pe3[0] && y >= -pb3[1] &&
                                    y < in3[1] + pe3[1] && xx >= -pb3[2] && xx < in3[2] + pe3[2])
                                    cnt_pad++;
                                if (z < 0 || z >= in3[0] || y < 0 || y >= in3[1] || xx < 0 || xx >= in3[2])
                                    continue;
                                double v = x[p * ivol + (z * in3[1] + y) * in3[2] + xx];
                                sum += v;
                                if (v > mx) mx = v;
                                cnt++;
                            }
                    want[p * ovol + (oz * o3[1] + oy) * o3[2] + ox] =
                        is_max ? (float)mx : (float)(sum / (pc->count_include_pad ? cnt_pad : cnt));
                }
    int64_t ks[3], st[3], dl[3], pads[6];
    for (int i = 0; i < pc->nsp; i++) {
        ks[i] = pc->k[i];
        st[i] = pc->s[i];
        dl[i] = pc->d[i];
        pads[i] = pc->pb[i];
        pads[i + pc->nsp] = pc->pe[i];
    }
    oh_node n;
    oh_begin(&n, is_max ? "MaxPool" : "AveragePool", 1);
    oh_ints(&n, "kernel_shape", (uint32_t)pc->nsp, ks);
    oh_ints(&n, "strides", (uint32_t)pc->nsp, st);
    oh_ints(&n, "dilations", (uint32_t)pc->nsp, dl);
    if (pc->auto_pad) oh_string(&n, "auto_pad", pc->auto_pad);
    else oh_ints(&n, "pads", 2u * (uint32_t)pc->nsp, pads);
    oh_int(&n, "ceil_mode", pc->ceil_mode);
    if (!is_max) oh_int(&n, "count_include_pad", pc->count_include_pad);
    em_shape xs = {.rank = 2 + pc->nsp, .dims = {pc->n, pc->c}};
    for (int i = 0; i < pc->nsp; i++) xs.dims[2 + i] = pc->in[i];
    oh_input(&n, EMBER_DTYPE_F32, xs, x);
    ember_status s = oh_run(&n);
    if (s != EMBER_OK) fail_msg("pool failed: %s", n.msg);
    em_shape ys = xs;
    for (int i = 0; i < pc->nsp; i++) ys.dims[2 + i] = out[i];
    if (!em_shape_equal(&ys, &n.out[0].shape)) {
        char a[128], b[128];
        fail_msg("pool shape %s, want %s", em_shape_str(&n.out[0].shape, a, sizeof a),
                 em_shape_str(&ys, b, sizeof b));
    }
    oh_assert_close(n.out[0].data, want, (size_t)(planes * ovol), 1e-5f, 1e-5f);
    oh_free(&n);
    free(x);
    free(want);
}

static void test_pool_hand(void** state) {
    (void)state;
    float x[16];
    for (int i = 0; i < 16; i++) x[i] = (float)(i + 1);
    const int64_t k[2] = {3, 3}, s[2] = {2, 2};
    oh_node n;
    oh_begin(&n, "MaxPool", 1);
    oh_ints(&n, "kernel_shape", 2, k);
    oh_ints(&n, "strides", 2, s);
    oh_int(&n, "ceil_mode", 1);
    oh_input(&n, EMBER_DTYPE_F32, OH_SHAPE(1, 1, 4, 4), x);
    assert_int_equal(oh_run(&n), EMBER_OK);
    const float want_max[4] = {11, 12, 15, 16};
    assert_int_equal(n.out[0].shape.dims[2], 2);
    oh_assert_close(n.out[0].data, want_max, 4, 0, 0);
    oh_free(&n);
    oh_begin(&n, "AveragePool", 1);
    oh_ints(&n, "kernel_shape", 2, k);
    oh_ints(&n, "strides", 2, s);
    oh_int(&n, "ceil_mode", 1);
    oh_input(&n, EMBER_DTYPE_F32, OH_SHAPE(1, 1, 4, 4), x);
    assert_int_equal(oh_run(&n), EMBER_OK);
    const float want_avg[4] = {6, 7.5f, 12, 13.5f};
    oh_assert_close(n.out[0].data, want_avg, 4, 1e-6f, 0);
    oh_free(&n);
    /* count_include_pad: corner window of 3x3 with pads 1 sees 4 values of 9 */
    const int64_t pads[4] = {1, 1, 1, 1};
    oh_begin(&n, "AveragePool", 1);
    oh_ints(&n, "kernel_shape", 2, k);
    oh_ints(&n, "pads", 4, pads);
    oh_int(&n, "count_include_pad", 1);
    oh_input(&n, EMBER_DTYPE_F32, OH_SHAPE(1, 1, 4, 4), x);
    assert_int_equal(oh_run(&n), EMBER_OK);
    assert_true(fabsf(((float*)n.out[0].data)[0] - (1 + 2 + 5 + 6) / 9.0f) < 1e-6f);
    oh_free(&n);
}

static void test_pool_sweep(void** state) {
    (void)state;
    static const pool_case cases[] = {
        {2, 1, 1, {1, 1}, {1, 1}, {1, 1}, {1, 1}, {0, 0}, {0, 0}, 0, 0, NULL},
        {2, 2, 3, {7, 6}, {3, 3}, {2, 2}, {1, 1}, {1, 1}, {1, 1}, 0, 0, NULL},
        {2, 1, 2, {7, 6}, {3, 3}, {2, 2}, {1, 1}, {1, 1}, {1, 1}, 0, 1, NULL},
        {2, 1, 2, {8, 7}, {3, 2}, {3, 2}, {1, 1}, {0, 1}, {2, 0}, 1, 0, NULL},
        {2, 1, 2, {8, 7}, {3, 2}, {3, 2}, {1, 1}, {0, 1}, {2, 0}, 1, 1, NULL},
        {2, 1, 2, {9, 11}, {3, 3}, {1, 2}, {2, 3}, {2, 1}, {1, 2}, 0, 0, NULL},
        {2, 1, 3, {7, 8}, {3, 3}, {2, 2}, {1, 1}, {0}, {0}, 0, 0, "SAME_UPPER"},
        {2, 1, 3, {7, 8}, {2, 4}, {2, 3}, {1, 1}, {0}, {0}, 0, 1, "SAME_LOWER"},
        {2, 1, 3, {7, 8}, {2, 4}, {2, 3}, {1, 1}, {0}, {0}, 1, 0, "VALID"},
        {1, 2, 3, {13}, {4}, {3}, {1}, {2}, {1}, 1, 0, NULL},
        {1, 1, 2, {10}, {3}, {1}, {2}, {0}, {0}, 0, 0, NULL},
        {3, 1, 2, {4, 5, 6}, {2, 3, 2}, {2, 1, 2}, {1, 1, 1}, {1, 0, 1}, {0, 1, 1}, 1, 1, NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        run_pool(&cases[i], 1, (uint32_t)i + 1);
        run_pool(&cases[i], 0, (uint32_t)i + 50);
    }
}

static void test_global_pool(void** state) {
    (void)state;
    float x[2 * 3 * 5 * 4];
    oh_fill_random(x, 120, 9, -2, 2);
    float want_avg[6], want_max[6];
    for (int p = 0; p < 6; p++) {
        double s = 0;
        float m = -INFINITY;
        for (int i = 0; i < 20; i++) {
            s += x[p * 20 + i];
            if (x[p * 20 + i] > m) m = x[p * 20 + i];
        }
        want_avg[p] = (float)(s / 20);
        want_max[p] = m;
    }
    for (int is_max = 0; is_max < 2; is_max++) {
        oh_node n;
        oh_begin(&n, is_max ? "GlobalMaxPool" : "GlobalAveragePool", 1);
        oh_input(&n, EMBER_DTYPE_F32, OH_SHAPE(2, 3, 5, 4), x);
        assert_int_equal(oh_run(&n), EMBER_OK);
        const em_shape want_shape = OH_SHAPE(2, 3, 1, 1);
        assert_true(em_shape_equal(&n.out[0].shape, &want_shape));
        oh_assert_close(n.out[0].data, is_max ? want_max : want_avg, 6, 1e-6f, 1e-6f);
        oh_free(&n);
    }
}

static void test_pool_errors(void** state) {
    (void)state;
    static float buf[256];
    const int64_t k2[2] = {2, 2}, k1[1] = {2}, k5[2] = {5, 5};
    oh_node n;
    oh_begin(&n, "MaxPool", 1); /* no kernel_shape */
    oh_input(&n, EMBER_DTYPE_F32, OH_SHAPE(1, 1, 4, 4), buf);
    assert_int_equal(oh_run(&n), EMBER_ERROR_INVALID_MODEL);
    assert_non_null(strstr(n.msg, "kernel_shape"));
    oh_free(&n);
    oh_begin(&n, "MaxPool", 1); /* kernel_shape length vs rank */
    oh_ints(&n, "kernel_shape", 1, k1);
    oh_input(&n, EMBER_DTYPE_F32, OH_SHAPE(1, 1, 4, 4), buf);
    assert_int_equal(oh_run(&n), EMBER_ERROR_INVALID_MODEL);
    oh_free(&n);
    oh_begin(&n, "MaxPool", 2); /* Indices output */
    oh_ints(&n, "kernel_shape", 2, k2);
    oh_input(&n, EMBER_DTYPE_F32, OH_SHAPE(1, 1, 4, 4), buf);
    assert_int_equal(oh_run(&n), EMBER_ERROR_UNSUPPORTED);
    assert_non_null(strstr(n.msg, "Indices"));
    oh_free(&n);
    oh_begin(&n, "AveragePool", 1); /* window larger than input */
    oh_ints(&n, "kernel_shape", 2, k5);
    oh_input(&n, EMBER_DTYPE_F32, OH_SHAPE(1, 1, 4, 4), buf);
    assert_int_equal(oh_run(&n), EMBER_ERROR_SHAPE_MISMATCH);
    oh_free(&n);
    oh_begin(&n, "AveragePool", 1); /* non-f32 */
    oh_ints(&n, "kernel_shape", 2, k2);
    oh_input(&n, EMBER_DTYPE_U8, OH_SHAPE(1, 1, 4, 4), buf);
    assert_int_equal(oh_run(&n), EMBER_ERROR_DTYPE_MISMATCH);
    oh_free(&n);
    oh_begin(&n, "AveragePool", 1); /* ceil_mode 2 */
    oh_ints(&n, "kernel_shape", 2, k2);
    oh_int(&n, "ceil_mode", 2);
    oh_input(&n, EMBER_DTYPE_F32, OH_SHAPE(1, 1, 4, 4), buf);
    assert_int_equal(oh_run(&n), EMBER_ERROR_INVALID_MODEL);
    oh_free(&n);
    oh_begin(&n, "GlobalAveragePool", 1); /* rank 2 */
    oh_input(&n, EMBER_DTYPE_F32, OH_SHAPE(1, 4), buf);
    assert_int_equal(oh_run(&n), EMBER_ERROR_SHAPE_MISMATCH);
    oh_free(&n);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pool_hand),
        cmocka_unit_test(test_pool_sweep),
        cmocka_unit_test(test_global_pool),
        cmocka_unit_test(test_pool_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
