/* Resize against cases from the ONNX operator tests and a naive N-D
 * reference that interpolates over all corners at once. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../op_harness.h"

static void run_ok(oh_node* n, const float* want, size_t count, const em_shape* want_shape) {
    ember_status st = oh_run(n);
    if (st != EMBER_OK) fail_msg("Resize failed: %s", n->msg);
    if (!em_shape_equal(&n->out[0].shape, want_shape)) {
        char a[128], b[128];
        fail_msg("shape %s, want %s", em_shape_str(&n->out[0].shape, a, sizeof a),
                 em_shape_str(want_shape, b, sizeof b));
    }
    oh_assert_close(n->out[0].data, want, count, 1e-5f, 1e-5f);
    oh_free(n);
}

static void test_resize_onnx_cases(void** state) {
    (void)state;
    const float x4[4] = {1, 2, 3, 4};
    float x8[8];
    for (int i = 0; i < 8; i++) x8[i] = (float)(i + 1);
    oh_node n;
    { /* resize_upsample_scales_nearest */
        const float sc[4] = {1, 1, 2, 3};
        const float want[24] = {1, 1, 1, 2, 2, 2, 1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4, 3, 3, 3, 4, 4, 4};
        const em_shape ws = OH_SHAPE(1, 1, 4, 6);
        oh_begin(&n, "Resize", 1);
        oh_string(&n, "mode", "nearest");
        oh_input(&n, EMBER_DTYPE_F32, OH_SHAPE(1, 1, 2, 2), x4);
        oh_absent(&n);
        oh_constant(&n, EMBER_DTYPE_F32, OH_SHAPE(4), sc);
        run_ok(&n, want, 24, &ws);
    }
    { /* resize_upsample_scales_linear */
        const float sc[4] = {1, 1, 2, 2};
        const float want[16] = {1, 1.25f, 1.75f, 2, 1.5f, 1.75f, 2.25f, 2.5f,
                                2.5f, 2.75f, 3.25f, 3.5f, 3, 3.25f, 3.75f, 4};
        const em_shape ws = OH_SHAPE(1, 1, 4, 4);
        oh_begin(&n, "Resize", 1);
        oh_string(&n, "mode", "linear");
        oh_input(&n, EMBER_DTYPE_F32, OH_SHAPE(1, 1, 2, 2), x4);
        oh_absent(&n);
        oh_constant(&n, EMBER_DTYPE_F32, OH_SHAPE(4), sc);
        run_ok(&n, want, 16, &ws);
    }
    { /* resize_upsample_scales_linear_align_corners */
        const float sc[4] = {1, 1, 2, 2};
        const float t = 1.0f / 3, u = 2.0f / 3;
        const float want[16] = {1, 1 + t, 1 + u, 2, 1 + u, 2, 2 + t, 2 + u,
                                2 + t, 2 + u, 3, 3 + t, 3, 3 + t, 3 + u, 4};
        const em_shape ws = OH_SHAPE(1, 1, 4, 4);
        oh_begin(&n, "Resize", 1);
        oh_string(&n, "mode", "linear");
        oh_string(&n, "coordinate_transformation_mode", "align_corners");
        oh_input(&n, EMBER_DTYPE_F32, OH_SHAPE(1, 1, 2, 2), x4);
        oh_absent(&n);
        oh_constant(&n, EMBER_DTYPE_F32, OH_SHAPE(4), sc);
        run_ok(&n, want, 16, &ws);
    }
    { /* resize_downsample_scales_nearest / linear */
        const float sc[4] = {1, 1, 0.6f, 0.6f};
        const float want_n[2] = {1, 3}, want_l[2] = {2.6666665f, 4.3333331f};
        const em_shape ws = OH_SHAPE(1, 1, 1, 2);
        oh_begin(&n, "Resize", 1);
        oh_input(&n, EMBER_DTYPE_F32, OH_SHAPE(1, 1, 2, 4), x8);
        oh_absent(&n);
        oh_constant(&n, EMBER_DTYPE_F32, OH_SHAPE(4), sc);
        run_ok(&n, want_n, 2, &ws);
        oh_begin(&n, "Resize", 1);
        oh_string(&n, "mode", "linear");
        oh_input(&n, EMBER_DTYPE_F32, OH_SHAPE(1, 1, 2, 4), x8);
        oh_absent(&n);
        oh_constant(&n, EMBER_DTYPE_F32, OH_SHAPE(4), sc);
        run_ok(&n, want_l, 2, &ws);
    }
    { /* resize_downsample_sizes_nearest */
        const int64_t sizes[4] = {1, 1, 1, 3};
        const float want[3] = {1, 2, 4};
        const em_shape ws = OH_SHAPE(1, 1, 1, 3);
        oh_begin(&n, "Resize", 1);
        oh_input(&n, EMBER_DTYPE_F32, OH_SHAPE(1, 1, 2, 4), x8);
        oh_absent(&n);
        oh_absent(&n);
        oh_constant(&n, EMBER_DTYPE_I64, OH_SHAPE(4), sizes);
        run_ok(&n, want, 3, &ws);
    }
    { /* opset-10 style (X, scales), as Upsample: asymmetric nearest */
        const float sc[4] = {1, 1, 2, 2};
        const float want[16] = {1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4};
        const em_shape ws = OH_SHAPE(1, 1, 4, 4);
        oh_begin(&n, "Resize", 1);
        oh_string(&n, "coordinate_transformation_mode", "asymmetric");
        oh_string(&n, "nearest_mode", "floor");
        oh_input(&n, EMBER_DTYPE_F32, OH_SHAPE(1, 1, 2, 2), x4);
        oh_constant(&n, EMBER_DTYPE_F32, OH_SHAPE(4), sc);
        run_ok(&n, want, 16, &ws);
    }
    { /* empty scales with sizes (opset 11 style) and an identity resize */
        const int64_t sizes[4] = {1, 1, 2, 4};
        const em_shape ws = OH_SHAPE(1, 1, 2, 4);
        oh_begin(&n, "Resize", 1);
        oh_string(&n, "mode", "linear");
        oh_input(&n, EMBER_DTYPE_F32, OH_SHAPE(1, 1, 2, 4), x8);
        oh_constant(&n, EMBER_DTYPE_F32, OH_SHAPE(0), NULL);
        oh_constant(&n, EMBER_DTYPE_F32, OH_SHAPE(0), NULL);
        oh_constant(&n, EMBER_DTYPE_I64, OH_SHAPE(4), sizes);
        run_ok(&n, x8, 8, &ws);
    }
}

/* ---- naive reference ---- */

enum { HALF, PYTORCH, ALIGN, ASYM, TFNEAREST };
static const char* const ctm_names[] = {"half_pixel", "pytorch_half_pixel", "align_corners",
                                        "asymmetric", "tf_half_pixel_for_nearest"};
static const char* const nearest_names[] = {"round_prefer_floor", "round_prefer_ceil", "floor", "ceil"};

static double coord(int ctm, int x, int in, int out, double scale) {
    switch (ctm) {
    case HALF: return (x + 0.5) / scale - 0.5;
    case PYTORCH: return out > 1 ? (x + 0.5) / scale - 0.5 : 0;
    case ALIGN: /* ONNX uses the unrounded output length in * scale */
        (void)out;
        return in * scale <= 1 ? 0 : (double)x * (in - 1) / (in * scale - 1);
    case ASYM: return x / scale;
    default: return (x + 0.5) / scale;
    }
}

static int clampi(int v, int n) { return v < 0 ? 0 : v >= n ? n - 1 : v; }

static int nearest_index(int mode, double c, int in) {
    double r;
    double f = floor(c);
    if (mode == 0) r = (c - f == 0.5) ? f : floor(c + 0.5);
    else if (mode == 1) r = (c - f == 0.5) ? f + 1 : floor(c + 0.5);
    else if (mode == 2) r = f;
    else r = ceil(c);
    return clampi((int)r, in);
}

/* 4-D: every axis may be resized; out[i] = floor(in[i] * scale[i]). */
static void resize_naive(const int* in, const int* out, const double* scale, int linear, int ctm,
                         int nmode, const float* x, float* y) {
    int idx[4];
    for (idx[0] = 0; idx[0] < out[0]; idx[0]++)
        for (idx[1] = 0; idx[1] < out[1]; idx[1]++)
            for (idx[2] = 0; idx[2] < out[2]; idx[2]++)
                for (idx[3] = 0; idx[3] < out[3]; idx[3]++) {
                    int lo[4], hi[4];
                    double w[4];
                    for (int a = 0; a < 4; a++) {
                        double c = coord(ctm, idx[a], in[a], out[a], scale[a]);
                        if (!linear) {
                            lo[a] = hi[a] = nearest_index(nmode, c, in[a]);
                            w[a] = 0;
                        } else {
                            if (c < 0) c = 0;
                            if (c > in[a] - 1) c = in[a] - 1;
                            lo[a] = (int)floor(c);
                            hi[a] = clampi(lo[a] + 1, in[a]);
                            w[a] = c - lo[a];
                        }
                    }
                    double acc = 0;
                    for (int corner = 0; corner < 16; corner++) {
                        double wt = 1;
                        int off = 0;
                        for (int a = 0; a < 4; a++) {
                            int bit = (corner >> a) & 1;
                            wt *= bit ? w[a] : 1 - w[a];
                            off = off * in[a] + (bit ? hi[a] : lo[a]);
                        }
                        if (wt != 0) acc += wt * x[off];
                    }
                    y[((idx[0] * out[1] + idx[1]) * out[2] + idx[2]) * out[3] + idx[3]] = (float)acc;
                }
}

static void test_resize_sweep(void** state) {
    (void)state;
    /* Scales are chosen so that no source coordinate lands within float
     * rounding of a .5 tie (the operator computes coordinates in float, as
     * ONNX Runtime does; this reference in double). */
    static const struct { int in[4]; float scale[4]; } cases[] = {
        {{1, 2, 3, 4}, {1, 1, 2, 2}},
        {{2, 1, 5, 3}, {1, 1, 0.5f, 3}},
        {{1, 3, 7, 6}, {1, 1, 1.5f, 0.65f}},
        {{1, 2, 4, 5}, {1, 2, 1.25f, 2.5f}},
        {{2, 3, 1, 6}, {1, 1, 4, 0.34f}},
        {{1, 1, 9, 8}, {1, 1, 0.25f, 1}},
    };
    static float x[1024], y[8192], want[8192];
    uint32_t seed = 1;
    for (size_t ci = 0; ci < sizeof cases / sizeof cases[0]; ci++) {
        int out[4];
        double sc[4];
        size_t in_count = 1, out_count = 1;
        for (int a = 0; a < 4; a++) {
            out[a] = (int)floor(cases[ci].in[a] * (double)cases[ci].scale[a]);
            sc[a] = cases[ci].scale[a];
            in_count *= (size_t)cases[ci].in[a];
            out_count *= (size_t)out[a];
        }
        oh_fill_random(x, in_count, seed++, -1, 1);
        for (int linear = 0; linear < 2; linear++)
            for (int ctm = 0; ctm < 5; ctm++)
                for (int nm = 0; nm < (linear ? 1 : 4); nm++) {
                    resize_naive(cases[ci].in, out, sc, linear, ctm, nm, x, want);
                    oh_node n;
                    oh_begin(&n, "Resize", 1);
                    oh_string(&n, "mode", linear ? "linear" : "nearest");
                    oh_string(&n, "coordinate_transformation_mode", ctm_names[ctm]);
                    oh_string(&n, "nearest_mode", nearest_names[nm]);
                    oh_input(&n, EMBER_DTYPE_F32,
                             OH_SHAPE(cases[ci].in[0], cases[ci].in[1], cases[ci].in[2], cases[ci].in[3]), x);
                    oh_absent(&n);
                    oh_constant(&n, EMBER_DTYPE_F32, OH_SHAPE(4), cases[ci].scale);
                    ember_status st = oh_run(&n);
                    if (st != EMBER_OK) fail_msg("Resize failed: %s", n.msg);
                    const em_shape ws = OH_SHAPE(out[0], out[1], out[2], out[3]);
                    assert_true(em_shape_equal(&n.out[0].shape, &ws));
                    memcpy(y, n.out[0].data, out_count * sizeof(float));
                    oh_free(&n);
                    for (size_t i = 0; i < out_count; i++)
                        if (fabsf(y[i] - want[i]) > 1e-5f)
                            fail_msg("case %zu mode %s ctm %s nearest %s: element %zu got %g want %g",
                                     ci, linear ? "linear" : "nearest", ctm_names[ctm],
                                     nearest_names[nm], i, (double)y[i], (double)want[i]);
                }
    }
}

static void test_resize_errors(void** state) {
    (void)state;
    static float buf[64];
    const float sc[4] = {1, 1, 2, 2}, sc3[3] = {1, 2, 2}, neg[4] = {1, 1, -2, 2};
    const int64_t sizes[4] = {1, 1, 4, 4};
    oh_node n;
    oh_begin(&n, "Resize", 1); /* cubic */
    oh_string(&n, "mode", "cubic");
    oh_input(&n, EMBER_DTYPE_F32, OH_SHAPE(1, 1, 2, 2), buf);
    oh_absent(&n);
    oh_constant(&n, EMBER_DTYPE_F32, OH_SHAPE(4), sc);
    assert_int_equal(oh_run(&n), EMBER_ERROR_UNSUPPORTED);
    assert_non_null(strstr(n.msg, "cubic"));
    oh_free(&n);
    oh_begin(&n, "Resize", 1); /* tf_crop_and_resize */
    oh_string(&n, "coordinate_transformation_mode", "tf_crop_and_resize");
    oh_input(&n, EMBER_DTYPE_F32, OH_SHAPE(1, 1, 2, 2), buf);
    oh_absent(&n);
    oh_constant(&n, EMBER_DTYPE_F32, OH_SHAPE(4), sc);
    assert_int_equal(oh_run(&n), EMBER_ERROR_UNSUPPORTED);
    oh_free(&n);
    oh_begin(&n, "Resize", 1); /* scales not constant */
    oh_input(&n, EMBER_DTYPE_F32, OH_SHAPE(1, 1, 2, 2), buf);
    oh_absent(&n);
    oh_input(&n, EMBER_DTYPE_F32, OH_SHAPE(4), sc);
    assert_int_equal(oh_run(&n), EMBER_ERROR_UNSUPPORTED);
    assert_non_null(strstr(n.msg, "constant"));
    oh_free(&n);
    oh_begin(&n, "Resize", 1); /* both scales and sizes */
    oh_input(&n, EMBER_DTYPE_F32, OH_SHAPE(1, 1, 2, 2), buf);
    oh_absent(&n);
    oh_constant(&n, EMBER_DTYPE_F32, OH_SHAPE(4), sc);
    oh_constant(&n, EMBER_DTYPE_I64, OH_SHAPE(4), sizes);
    assert_int_equal(oh_run(&n), EMBER_ERROR_INVALID_MODEL);
    oh_free(&n);
    oh_begin(&n, "Resize", 1); /* neither */
    oh_input(&n, EMBER_DTYPE_F32, OH_SHAPE(1, 1, 2, 2), buf);
    oh_absent(&n);
    oh_absent(&n);
    assert_int_equal(oh_run(&n), EMBER_ERROR_INVALID_MODEL);
    oh_free(&n);
    oh_begin(&n, "Resize", 1); /* wrong length */
    oh_input(&n, EMBER_DTYPE_F32, OH_SHAPE(1, 1, 2, 2), buf);
    oh_absent(&n);
    oh_constant(&n, EMBER_DTYPE_F32, OH_SHAPE(3), sc3);
    assert_int_equal(oh_run(&n), EMBER_ERROR_SHAPE_MISMATCH);
    oh_free(&n);
    oh_begin(&n, "Resize", 1); /* negative scale */
    oh_input(&n, EMBER_DTYPE_F32, OH_SHAPE(1, 1, 2, 2), buf);
    oh_absent(&n);
    oh_constant(&n, EMBER_DTYPE_F32, OH_SHAPE(4), neg);
    assert_int_equal(oh_run(&n), EMBER_ERROR_INVALID_MODEL);
    oh_free(&n);
    oh_begin(&n, "Resize", 1); /* unknown mode */
    oh_string(&n, "mode", "bilinear");
    oh_input(&n, EMBER_DTYPE_F32, OH_SHAPE(1, 1, 2, 2), buf);
    oh_absent(&n);
    oh_constant(&n, EMBER_DTYPE_F32, OH_SHAPE(4), sc);
    assert_int_equal(oh_run(&n), EMBER_ERROR_INVALID_MODEL);
    oh_free(&n);
    oh_begin(&n, "Resize", 1); /* non-f32 X */
    oh_input(&n, EMBER_DTYPE_U8, OH_SHAPE(1, 1, 2, 2), buf);
    oh_absent(&n);
    oh_constant(&n, EMBER_DTYPE_F32, OH_SHAPE(4), sc);
    assert_int_equal(oh_run(&n), EMBER_ERROR_DTYPE_MISMATCH);
    oh_free(&n);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_resize_onnx_cases),
        cmocka_unit_test(test_resize_sweep),
        cmocka_unit_test(test_resize_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
