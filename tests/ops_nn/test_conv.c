/* Conv and ConvTranspose against hand-computed cases and an independent
 * direct-loop reference over a sweep of shapes. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../op_harness.h"

#define MAXS 3

typedef struct conv_case {
    int nsp;                 /* spatial dims: 1, 2 or 3 */
    int n, c, m, group;
    int in[MAXS], k[MAXS], s[MAXS], d[MAXS], pb[MAXS], pe[MAXS];
    const char* auto_pad;    /* NULL: explicit pads */
    int bias;
    int out_pad[MAXS];       /* ConvTranspose only */
} conv_case;

/* spatial helpers: dims padded to 3 with leading 1s */
static void pad3(int nsp, const int* v, int def, int* o) {
    for (int i = 0; i < 3; i++) o[i] = def;
    for (int i = 0; i < nsp; i++) o[3 - nsp + i] = v[i];
}

/* Resolves auto_pad for Conv, independently of the library. */
static void conv_geometry(const conv_case* cc, int* out, int* pb, int* pe) {
    for (int i = 0; i < cc->nsp; i++) {
        int ek = (cc->k[i] - 1) * cc->d[i] + 1;
        if (cc->auto_pad && strncmp(cc->auto_pad, "SAME", 4) == 0) {
            out[i] = (cc->in[i] + cc->s[i] - 1) / cc->s[i];
            int total = (out[i] - 1) * cc->s[i] + ek - cc->in[i];
            if (total < 0) total = 0;
            int small = total / 2, big = total - small;
            pb[i] = strcmp(cc->auto_pad, "SAME_UPPER") == 0 ? small : big;
            pe[i] = total - pb[i];
        } else if (cc->auto_pad && strcmp(cc->auto_pad, "VALID") == 0) {
            pb[i] = pe[i] = 0;
            out[i] = (cc->in[i] - ek) / cc->s[i] + 1;
        } else {
            pb[i] = cc->pb[i];
            pe[i] = cc->pe[i];
            out[i] = (cc->in[i] + pb[i] + pe[i] - ek) / cc->s[i] + 1;
        }
    }
}

/* Direct convolution: y[n][m][o] = b[m] + sum_{c,t} x[n][g*cg+c][o*s+t*d-p] * w[m][c][t]. */
static void conv_naive(const conv_case* cc, const int* out3, const int* pb3, const float* x,
                       const float* w, const float* b, float* y) {
    int in3[3], k3[3], s3[3], d3[3];
    pad3(cc->nsp, cc->in, 1, in3);
    pad3(cc->nsp, cc->k, 1, k3);
    pad3(cc->nsp, cc->s, 1, s3);
    pad3(cc->nsp, cc->d, 1, d3);
    const int cg = cc->c / cc->group, mg = cc->m / cc->group;
    const int ivol = in3[0] * in3[1] * in3[2], ovol = out3[0] * out3[1] * out3[2];
    const int kvol = k3[0] * k3[1] * k3[2];
    for (int n = 0; n < cc->n; n++)
        for (int m = 0; m < cc->m; m++) {
            const int g = m / mg;
            for (int oz = 0; oz < out3[0]; oz++)
                for (int oy = 0; oy < out3[1]; oy++)
                    for (int ox = 0; ox < out3[2]; ox++) {
                        double acc = b ? b[m] : 0.0;
                        for (int c = 0; c < cg; c++)
                            for (int kz = 0; kz < k3[0]; kz++)
                                for (int ky = 0; ky < k3[1]; ky++)
                                    for (int kx = 0; kx < k3[2]; kx++) {
                                        int iz = oz * s3[0] + kz * d3[0] - pb3[0];
                                        int iy = oy * s3[1] + ky * d3[1] - pb3[1];
                                        int ix = ox * s3[2] + kx * d3[2] - pb3[2];
                                        if (iz < 0 || iz >= in3[0] || iy < 0 || iy >= in3[1] ||
                                            ix < 0 || ix >= in3[2])
                                            continue;
                                        double xv = x[(n * cc->c + g * cg + c) * ivol +
                                                      (iz * in3[1] + iy) * in3[2] + ix];
                                        double wv = w[(m * cg + c) * kvol +
                                                      (kz * k3[1] + ky) * k3[2] + kx];
                                        acc += xv * wv;
                                    }
                        y[(n * cc->m + m) * ovol + (oz * out3[1] + oy) * out3[2] + ox] = (float)acc;
                    }
        }
}

static em_shape shape_of(int n, int c, int nsp, const int* sp) {
    em_shape s = {.rank = 2 + nsp};
    s.dims[0] = n;
    s.dims[1] = c;
    for (int i = 0; i < nsp; i++) s.dims[2 + i] = sp[i];
    return s;
}

static size_t count_of(const em_shape* s) {
    size_t n = 1;
    for (int i = 0; i < s->rank; i++) n *= (size_t)s->dims[i];
    return n;
}

/* A Conv node's list attributes; the node points at them (oh_ints keeps the
 * pointer), so they must outlive its run. */
typedef struct conv_attrs {
    int64_t strides[MAXS], dil[MAXS], pads[2 * MAXS], ks[MAXS];
} conv_attrs;

/* The case's Conv node on input x (xs), weights w (ws) and, with cc->bias,
 * bias b: its attributes (in *a), and activation act with Clip's bounds
 * -0.25, 0.5 (the other activations have no parameter). */
static void conv_node(oh_node* n, conv_attrs* a, const conv_case* cc, uint32_t act,
                      const em_shape* xs, const float* x, const em_shape* ws, const float* w,
                      const float* b) {
    for (int i = 0; i < cc->nsp; i++) {
        a->strides[i] = cc->s[i];
        a->dil[i] = cc->d[i];
        a->pads[i] = cc->pb[i];
        a->pads[i + cc->nsp] = cc->pe[i];
        a->ks[i] = cc->k[i];
    }
    oh_begin(n, "Conv", 1);
    oh_ints(n, "strides", (uint32_t)cc->nsp, a->strides);
    oh_ints(n, "dilations", (uint32_t)cc->nsp, a->dil);
    oh_ints(n, "kernel_shape", (uint32_t)cc->nsp, a->ks);
    oh_int(n, "group", cc->group);
    if (cc->auto_pad) oh_string(n, "auto_pad", cc->auto_pad);
    else oh_ints(n, "pads", 2u * (uint32_t)cc->nsp, a->pads);
    n->act.kind = act;
    n->act.alpha = -0.25f;
    n->act.beta = 0.5f;
    oh_input(n, EMBER_DTYPE_F32, *xs, x);
    oh_constant(n, EMBER_DTYPE_F32, *ws, w);
    if (cc->bias) oh_constant(n, EMBER_DTYPE_F32, OH_SHAPE(cc->m), b);
}

static void run_conv_case(const conv_case* cc, uint32_t seed, uint32_t act) {
    em_shape xs = shape_of(cc->n, cc->c, cc->nsp, cc->in);
    em_shape ws = shape_of(cc->m, cc->c / cc->group, cc->nsp, cc->k);
    float* x = malloc(count_of(&xs) * sizeof(float));
    float* w = malloc(count_of(&ws) * sizeof(float));
    float b[64];
    oh_fill_random(x, count_of(&xs), seed, -1.0f, 1.0f);
    oh_fill_random(w, count_of(&ws), seed + 1, -1.0f, 1.0f);
    oh_fill_random(b, (size_t)cc->m, seed + 2, -1.0f, 1.0f);
    int out[MAXS], pb[MAXS], pe[MAXS];
    conv_geometry(cc, out, pb, pe);
    int out3[3], pb3[3];
    pad3(cc->nsp, out, 1, out3);
    pad3(cc->nsp, pb, 0, pb3);
    em_shape ys = shape_of(cc->n, cc->m, cc->nsp, out);
    float* want = malloc(count_of(&ys) * sizeof(float));
    conv_naive(cc, out3, pb3, x, w, cc->bias ? b : NULL, want);
    if (act == EMF_ACT_RELU)
        for (size_t i = 0; i < count_of(&ys); i++) want[i] = want[i] > 0 ? want[i] : 0;
    if (act == EMF_ACT_CLIP) /* alpha -0.25, beta 0.5 (set below) */
        for (size_t i = 0; i < count_of(&ys); i++) want[i] = fminf(fmaxf(want[i], -0.25f), 0.5f);
    if (act == EMF_ACT_SILU) /* x * sigmoid(x), in double */
        for (size_t i = 0; i < count_of(&ys); i++)
            want[i] = (float)((double)want[i] / (1.0 + exp(-(double)want[i])));
    if (act == EMF_ACT_SIGMOID)
        for (size_t i = 0; i < count_of(&ys); i++)
            want[i] = (float)(1.0 / (1.0 + exp(-(double)want[i])));
    if (act == EMF_ACT_HARD_SWISH) /* x * max(0, min(1, x / 6 + 1/2)) */
        for (size_t i = 0; i < count_of(&ys); i++)
            want[i] = (float)((double)want[i] * fmin(1.0, fmax(0.0, (double)want[i] / 6.0 + 0.5)));

    oh_node n;
    conv_attrs attrs;
    conv_node(&n, &attrs, cc, act, &xs, x, &ws, w, b);
    ember_status st = oh_run(&n);
    if (st != EMBER_OK) fail_msg("Conv failed (%d): %s", st, n.msg);
    assert_true(em_shape_equal(&n.out[0].shape, &ys));
    const int kdim = (cc->c / cc->group) * cc->k[0] * (cc->nsp > 1 ? cc->k[1] : 1) *
                     (cc->nsp > 2 ? cc->k[2] : 1);
    oh_assert_close(n.out[0].data, want, count_of(&ys), 1e-5f * (float)(kdim + 1), 1e-5f);
    oh_free(&n);
    free(x);
    free(w);
    free(want);
}

static void test_conv_hand(void** state) {
    (void)state;
    const float x[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
    const float w[4] = {1, 1, 1, 1};
    oh_node n;
    oh_begin(&n, "Conv", 1);
    oh_input(&n, EMBER_DTYPE_F32, OH_SHAPE(1, 1, 3, 3), x);
    oh_constant(&n, EMBER_DTYPE_F32, OH_SHAPE(1, 1, 2, 2), w);
    assert_int_equal(oh_run(&n), EMBER_OK);
    const float want[4] = {12, 16, 24, 28};
    assert_int_equal(n.out[0].shape.rank, 4);
    assert_int_equal(n.out[0].shape.dims[2], 2);
    oh_assert_close(n.out[0].data, want, 4, 0, 0);
    oh_free(&n);

    const int64_t pads[4] = {1, 1, 1, 1};
    const float bias[1] = {0.5f};
    oh_begin(&n, "Conv", 1);
    oh_ints(&n, "pads", 4, pads);
    oh_input(&n, EMBER_DTYPE_F32, OH_SHAPE(1, 1, 3, 3), x);
    oh_constant(&n, EMBER_DTYPE_F32, OH_SHAPE(1, 1, 2, 2), w);
    oh_constant(&n, EMBER_DTYPE_F32, OH_SHAPE(1), bias);
    assert_int_equal(oh_run(&n), EMBER_OK);
    const float want2[16] = {1, 3, 5, 3, 5, 12, 16, 9, 11, 24, 28, 15, 7, 15, 17, 9};
    float w2[16];
    for (int i = 0; i < 16; i++) w2[i] = want2[i] + 0.5f;
    oh_assert_close(n.out[0].data, w2, 16, 0, 0);
    oh_free(&n);
}

static void test_conv_sweep(void** state) {
    (void)state;
    static const conv_case cases[] = {
        /* 2-D */
        {2, 1, 1, 1, 1, {1, 1}, {1, 1}, {1, 1}, {1, 1}, {0, 0}, {0, 0}, NULL, 0, {0}},
        {2, 2, 3, 5, 1, {7, 5}, {3, 3}, {1, 1}, {1, 1}, {1, 1}, {1, 1}, NULL, 1, {0}},
        {2, 1, 4, 6, 2, {6, 7}, {3, 2}, {2, 1}, {1, 1}, {0, 1}, {2, 0}, NULL, 1, {0}},
        {2, 1, 6, 6, 6, {9, 8}, {3, 3}, {2, 2}, {1, 1}, {1, 1}, {1, 1}, NULL, 1, {0}},     /* depthwise */
        {2, 1, 3, 6, 3, {9, 9}, {3, 3}, {1, 1}, {1, 1}, {1, 1}, {1, 1}, NULL, 0, {0}},     /* depthwise x2 */
        {2, 1, 2, 3, 1, {11, 13}, {3, 3}, {1, 2}, {2, 3}, {2, 0}, {1, 3}, NULL, 1, {0}},   /* dilation */
        {2, 2, 5, 7, 1, {4, 6}, {1, 1}, {1, 1}, {1, 1}, {0, 0}, {0, 0}, NULL, 1, {0}},     /* 1x1 direct */
        {2, 1, 5, 7, 1, {7, 6}, {1, 1}, {2, 2}, {1, 1}, {0, 0}, {0, 0}, NULL, 1, {0}},     /* 1x1 stride 2 */
        {2, 1, 3, 4, 1, {7, 8}, {3, 3}, {2, 2}, {1, 1}, {0}, {0}, "SAME_UPPER", 1, {0}},
        {2, 1, 3, 4, 1, {7, 8}, {4, 2}, {2, 3}, {1, 1}, {0}, {0}, "SAME_LOWER", 1, {0}},
        {2, 1, 3, 4, 1, {7, 8}, {3, 2}, {2, 3}, {1, 2}, {0}, {0}, "VALID", 0, {0}},
        {2, 1, 3, 2, 1, {5, 5}, {5, 5}, {1, 1}, {1, 1}, {0, 0}, {0, 0}, NULL, 1, {0}},     /* kernel = input */
        {2, 1, 17, 13, 1, {3, 3}, {3, 3}, {1, 1}, {1, 1}, {1, 1}, {1, 1}, NULL, 1, {0}},   /* primes */
        /* 1-D */
        {1, 2, 3, 4, 1, {10}, {3}, {2}, {1}, {1}, {2}, NULL, 1, {0}},
        {1, 1, 4, 4, 4, {9}, {5}, {1}, {2}, {4}, {4}, NULL, 1, {0}},
        {1, 1, 3, 2, 1, {7}, {3}, {3}, {1}, {0}, {0}, "SAME_UPPER", 0, {0}},
        /* 3-D */
        {3, 1, 2, 3, 1, {4, 5, 3}, {2, 3, 2}, {1, 2, 1}, {1, 1, 2}, {1, 0, 1}, {0, 1, 1}, NULL, 1, {0}},
        {3, 2, 4, 4, 2, {3, 4, 5}, {3, 3, 3}, {1, 1, 1}, {1, 1, 1}, {1, 1, 1}, {1, 1, 1}, NULL, 0, {0}},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) run_conv_case(&cases[i], (uint32_t)i + 1, EMF_ACT_NONE);
}

static void test_conv_fused_relu(void** state) {
    (void)state;
    const conv_case cc = {2, 1, 3, 4, 1, {6, 5}, {3, 3}, {1, 1}, {1, 1}, {1, 1}, {1, 1}, NULL, 1, {0}};
    run_conv_case(&cc, 77, EMF_ACT_RELU);
    /* SiLU within one 512-float chunk of its fused pass (4 x 6 x 5 = 120 outputs)
     * and over many (2 x 8 x 20 x 20 = 6400) */
    const conv_case big = {2, 2, 3, 8, 1, {20, 20}, {3, 3}, {1, 1}, {1, 1}, {1, 1}, {1, 1}, NULL, 1, {0}};
    run_conv_case(&cc, 78, EMF_ACT_SILU);
    run_conv_case(&big, 79, EMF_ACT_SILU);
    run_conv_case(&big, 80, EMF_ACT_CLIP);
    run_conv_case(&big, 81, EMF_ACT_RELU);
    /* depthwise (the direct kernels), whose activation runs over runs of
     * channels: 2 images x 24 channels of 6 x 5 (one run of 24) and of 40 x 40
     * (a run of 10, then 10, then 4) */
    const conv_case dw = {2, 2, 24, 24, 24, {6, 5}, {3, 3}, {1, 1}, {1, 1}, {1, 1}, {1, 1}, NULL, 1, {0}};
    const conv_case dw_big = {2, 2, 24, 24, 24, {40, 40}, {3, 3}, {1, 1}, {1, 1}, {1, 1}, {1, 1}, NULL, 1, {0}};
    for (uint32_t act = EMF_ACT_RELU; act <= EMF_ACT_MAX; act++) {
        if (act != EMF_ACT_RELU && act != EMF_ACT_CLIP && act != EMF_ACT_SILU) continue;
        run_conv_case(&dw, 90 + act, act);
        run_conv_case(&dw_big, 100 + act, act);
    }
}

/* A Conv on the GEMM path with its activation fused (applied to each tile by
 * the GEMM's output pass: in registers by the AVX2 / AVX-512 micro-kernels)
 * gives, bit for bit, what the same Conv without it followed by the
 * activation pass over the whole output gives. */
static void run_conv_fused_vs_unfused(const conv_case* cc, uint32_t seed, uint32_t act) {
    em_shape xs = shape_of(cc->n, cc->c, cc->nsp, cc->in);
    em_shape ws = shape_of(cc->m, cc->c / cc->group, cc->nsp, cc->k);
    float* x = malloc(count_of(&xs) * sizeof(float));
    float* w = malloc(count_of(&ws) * sizeof(float));
    float b[64];
    /* outputs of about +-10: both branches of sigmoid, every piece of HardSwish */
    oh_fill_random(x, count_of(&xs), seed, -1.0f, 1.0f);
    oh_fill_random(w, count_of(&ws), seed + 1, -1.0f, 1.0f);
    oh_fill_random(b, (size_t)cc->m, seed + 2, -4.0f, 4.0f);
    oh_node n[2];
    conv_attrs attrs;
    for (int fused = 0; fused < 2; fused++) {
        conv_node(&n[fused], &attrs, cc, fused ? act : EMF_ACT_NONE, &xs, x, &ws, w, b);
        ember_status st = oh_run(&n[fused]);
        if (st != EMBER_OK) fail_msg("Conv failed (%d): %s", st, n[fused].msg);
    }
    const size_t count = count_of(&n[0].out[0].shape);
    float* y = n[0].out[0].data;
    const em_activation a = {.kind = act};
    em_apply_activation(NULL, &a, y, count);
    if (memcmp(y, n[1].out[0].data, count * sizeof(float)) != 0) {
        size_t i = 0;
        while (y[i] == ((const float*)n[1].out[0].data)[i]) i++;
        fail_msg("Conv with fused %s differs from Conv then %s at [%zu]: %.9g, unfused %.9g",
                 em_activation_name(act), em_activation_name(act), i,
                 (double)((const float*)n[1].out[0].data)[i], (double)y[i]);
    }
    oh_free(&n[0]);
    oh_free(&n[1]);
    free(x);
    free(w);
}

/* Sigmoid, HardSwish and SiLU fused into the GEMM path's output pass, against
 * the reference (double) and bit for bit against the unfused passes: a 3x3
 * implicit GEMM and a 1x1 direct one with output channels and positions that
 * leave partial register tiles (13 and 29 channels: not multiples of 6, 8 or
 * 12; 7 x 9 and 19 x 19 positions: not multiples of 12, 16 or 32), groups,
 * and K = 64 x 9 = 576, two K blocks (the activation only after the last). */
static void test_conv_fused_gemm_acts(void** state) {
    (void)state;
    static const conv_case cases[] = {
        {2, 1, 5, 13, 1, {7, 9}, {3, 3}, {1, 1}, {1, 1}, {1, 1}, {1, 1}, NULL, 1, {0}},
        {2, 2, 16, 29, 1, {19, 19}, {1, 1}, {1, 1}, {1, 1}, {0, 0}, {0, 0}, NULL, 1, {0}},
        {2, 1, 8, 26, 2, {19, 19}, {3, 3}, {2, 2}, {1, 1}, {1, 1}, {1, 1}, NULL, 0, {0}},
        {2, 1, 64, 40, 1, {30, 30}, {3, 3}, {1, 1}, {1, 1}, {1, 1}, {1, 1}, NULL, 1, {0}},
    };
    static const uint32_t acts[] = {EMF_ACT_SIGMOID, EMF_ACT_HARD_SWISH, EMF_ACT_SILU};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        for (size_t a = 0; a < 3; a++) {
            run_conv_case(&cases[i], 200 + (uint32_t)(i * 3 + a), acts[a]);
            run_conv_fused_vs_unfused(&cases[i], 300 + (uint32_t)(i * 3 + a), acts[a]);
        }
}

static ember_status conv_error(em_shape xs, ember_dtype xt, em_shape ws, int64_t group,
                               const char* auto_pad, char* msg) {
    static float buf[4096];
    oh_node n;
    oh_begin(&n, "Conv", 1);
    oh_int(&n, "group", group);
    if (auto_pad) oh_string(&n, "auto_pad", auto_pad);
    oh_input(&n, xt, xs, buf);
    oh_constant(&n, EMBER_DTYPE_F32, ws, buf);
    ember_status st = oh_run(&n);
    strcpy(msg, n.msg);
    oh_free(&n);
    return st;
}

static void test_conv_errors(void** state) {
    (void)state;
    char msg[EM_MSG_CAP];
    /* wrong channel count */
    assert_int_equal(conv_error(OH_SHAPE(1, 3, 5, 5), EMBER_DTYPE_F32, OH_SHAPE(2, 4, 3, 3), 1, NULL, msg),
                     EMBER_ERROR_SHAPE_MISMATCH);
    assert_non_null(strstr(msg, "W dim 1"));
    /* channels not divisible by group */
    assert_int_equal(conv_error(OH_SHAPE(1, 3, 5, 5), EMBER_DTYPE_F32, OH_SHAPE(2, 1, 3, 3), 2, NULL, msg),
                     EMBER_ERROR_SHAPE_MISMATCH);
    assert_non_null(strstr(msg, "group"));
    /* output channels not divisible by group */
    assert_int_equal(conv_error(OH_SHAPE(1, 4, 5, 5), EMBER_DTYPE_F32, OH_SHAPE(3, 2, 3, 3), 2, NULL, msg),
                     EMBER_ERROR_SHAPE_MISMATCH);
    /* bad group value */
    assert_int_equal(conv_error(OH_SHAPE(1, 4, 5, 5), EMBER_DTYPE_F32, OH_SHAPE(4, 4, 3, 3), 0, NULL, msg),
                     EMBER_ERROR_INVALID_MODEL);
    assert_non_null(strstr(msg, "group"));
    /* non-f32 input */
    assert_int_equal(conv_error(OH_SHAPE(1, 3, 5, 5), EMBER_DTYPE_I8, OH_SHAPE(2, 3, 3, 3), 1, NULL, msg),
                     EMBER_ERROR_DTYPE_MISMATCH);
    assert_non_null(strstr(msg, "f32"));
    /* unknown auto_pad */
    assert_int_equal(conv_error(OH_SHAPE(1, 3, 5, 5), EMBER_DTYPE_F32, OH_SHAPE(2, 3, 3, 3), 1, "SAME", msg),
                     EMBER_ERROR_INVALID_MODEL);
    assert_non_null(strstr(msg, "auto_pad"));
    /* kernel larger than the input */
    assert_int_equal(conv_error(OH_SHAPE(1, 3, 2, 5), EMBER_DTYPE_F32, OH_SHAPE(2, 3, 3, 3), 1, NULL, msg),
                     EMBER_ERROR_SHAPE_MISMATCH);
    /* rank mismatch between X and W */
    assert_int_equal(conv_error(OH_SHAPE(1, 3, 5, 5), EMBER_DTYPE_F32, OH_SHAPE(2, 3, 3), 1, NULL, msg),
                     EMBER_ERROR_SHAPE_MISMATCH);
    /* rank 2 input */
    assert_int_equal(conv_error(OH_SHAPE(1, 3), EMBER_DTYPE_F32, OH_SHAPE(2, 3), 1, NULL, msg),
                     EMBER_ERROR_UNSUPPORTED);

    /* attributes: negative stride, pads of wrong length, kernel_shape mismatch, bias shape */
    static float buf[4096];
    const int64_t neg[2] = {-1, 1}, pads3[3] = {1, 1, 1}, ks[2] = {2, 2};
    oh_node n;
    oh_begin(&n, "Conv", 1);
    oh_ints(&n, "strides", 2, neg);
    oh_input(&n, EMBER_DTYPE_F32, OH_SHAPE(1, 1, 4, 4), buf);
    oh_constant(&n, EMBER_DTYPE_F32, OH_SHAPE(1, 1, 3, 3), buf);
    assert_int_equal(oh_run(&n), EMBER_ERROR_INVALID_MODEL);
    assert_non_null(strstr(n.msg, "strides"));
    oh_free(&n);
    oh_begin(&n, "Conv", 1);
    oh_ints(&n, "pads", 3, pads3);
    oh_input(&n, EMBER_DTYPE_F32, OH_SHAPE(1, 1, 4, 4), buf);
    oh_constant(&n, EMBER_DTYPE_F32, OH_SHAPE(1, 1, 3, 3), buf);
    assert_int_equal(oh_run(&n), EMBER_ERROR_INVALID_MODEL);
    assert_non_null(strstr(n.msg, "pads"));
    oh_free(&n);
    oh_begin(&n, "Conv", 1);
    oh_ints(&n, "kernel_shape", 2, ks);
    oh_input(&n, EMBER_DTYPE_F32, OH_SHAPE(1, 1, 4, 4), buf);
    oh_constant(&n, EMBER_DTYPE_F32, OH_SHAPE(1, 1, 3, 3), buf);
    assert_int_equal(oh_run(&n), EMBER_ERROR_SHAPE_MISMATCH);
    assert_non_null(strstr(n.msg, "kernel_shape"));
    oh_free(&n);
    oh_begin(&n, "Conv", 1);
    oh_input(&n, EMBER_DTYPE_F32, OH_SHAPE(1, 1, 4, 4), buf);
    oh_constant(&n, EMBER_DTYPE_F32, OH_SHAPE(2, 1, 3, 3), buf);
    oh_constant(&n, EMBER_DTYPE_F32, OH_SHAPE(3), buf);
    assert_int_equal(oh_run(&n), EMBER_ERROR_SHAPE_MISMATCH);
    assert_non_null(strstr(n.msg, "bias"));
    oh_free(&n);
}

/* ---------------- ConvTranspose ---------------- */

/* Scatter reference: every x[n][ci][i] * w[ci][oc][t] lands on y[n][g*mg+oc][i*s + t*d - pb]. */
static void conv_transpose_naive(const conv_case* cc, const int* out3, const int* pb3,
                                 const float* x, const float* w, const float* b, float* y) {
    int in3[3], k3[3], s3[3], d3[3];
    pad3(cc->nsp, cc->in, 1, in3);
    pad3(cc->nsp, cc->k, 1, k3);
    pad3(cc->nsp, cc->s, 1, s3);
    pad3(cc->nsp, cc->d, 1, d3);
    const int cg = cc->c / cc->group, mg = cc->m / cc->group;
    const int ivol = in3[0] * in3[1] * in3[2], ovol = out3[0] * out3[1] * out3[2];
    const int kvol = k3[0] * k3[1] * k3[2];
    double* acc = calloc((size_t)(cc->n * cc->m * ovol), sizeof(double));
    for (int n = 0; n < cc->n; n++)
        for (int ci = 0; ci < cc->c; ci++) {
            const int g = ci / cg;
            for (int oc = 0; oc < mg; oc++)
                for (int iz = 0; iz < in3[0]; iz++)
                    for (int iy = 0; iy < in3[1]; iy++)
                        for (int ix = 0; ix < in3[2]; ix++)
                            for (int kz = 0; kz < k3[0]; kz++)
                                for (int ky = 0; ky < k3[1]; ky++)
                                    for (int kx = 0; kx < k3[2]; kx++) {
                                        int oz = iz * s3[0] + kz * d3[0] - pb3[0];
                                        int oy = iy * s3[1] + ky * d3[1] - pb3[1];
                                        int ox = ix * s3[2] + kx * d3[2] - pb3[2];
                                        if (oz < 0 || oz >= out3[0] || oy < 0 || oy >= out3[1] ||
                                            ox < 0 || ox >= out3[2])
                                            continue;
                                        double xv = x[(n * cc->c + ci) * ivol +
                                                      (iz * in3[1] + iy) * in3[2] + ix];
                                        double wv = w[(ci * mg + oc) * kvol +
                                                      (kz * k3[1] + ky) * k3[2] + kx];
                                        acc[(n * cc->m + g * mg + oc) * ovol +
                                            (oz * out3[1] + oy) * out3[2] + ox] += xv * wv;
                                    }
        }
    for (int n = 0; n < cc->n; n++)
        for (int m = 0; m < cc->m; m++)
            for (int i = 0; i < ovol; i++)
                y[(n * cc->m + m) * ovol + i] =
                    (float)(acc[(n * cc->m + m) * ovol + i] + (b ? b[m] : 0.0));
    free(acc);
}

/* out_shape: NULL, or the requested spatial output (then pads come from it). */
static void run_ct_case(const conv_case* cc, const int* out_shape, uint32_t seed, uint32_t act) {
    em_shape xs = shape_of(cc->n, cc->c, cc->nsp, cc->in);
    em_shape ws = shape_of(cc->c, cc->m / cc->group, cc->nsp, cc->k);
    float* x = malloc(count_of(&xs) * sizeof(float));
    float* w = malloc(count_of(&ws) * sizeof(float));
    float b[64];
    oh_fill_random(x, count_of(&xs), seed, -1.0f, 1.0f);
    oh_fill_random(w, count_of(&ws), seed + 1, -1.0f, 1.0f);
    oh_fill_random(b, (size_t)cc->m, seed + 2, -1.0f, 1.0f);
    int out[MAXS], pb[MAXS];
    const bool same = cc->auto_pad && strncmp(cc->auto_pad, "SAME", 4) == 0;
    for (int i = 0; i < cc->nsp; i++) {
        int ek = (cc->k[i] - 1) * cc->d[i] + 1;
        int full = cc->s[i] * (cc->in[i] - 1) + cc->out_pad[i] + ek;
        if (out_shape || same) {
            out[i] = out_shape ? out_shape[i] : cc->in[i] * cc->s[i];
            int total = full - out[i];
            pb[i] = cc->auto_pad && strcmp(cc->auto_pad, "SAME_UPPER") == 0 ? total / 2 : total - total / 2;
        } else {
            pb[i] = cc->pb[i];
            out[i] = full - cc->pb[i] - cc->pe[i];
        }
    }
    int out3[3], pb3[3];
    pad3(cc->nsp, out, 1, out3);
    pad3(cc->nsp, pb, 0, pb3);
    em_shape ys = shape_of(cc->n, cc->m, cc->nsp, out);
    float* want = malloc(count_of(&ys) * sizeof(float));
    conv_transpose_naive(cc, out3, pb3, x, w, cc->bias ? b : NULL, want);
    if (act == EMF_ACT_RELU)
        for (size_t i = 0; i < count_of(&ys); i++) want[i] = want[i] > 0 ? want[i] : 0;

    int64_t strides[MAXS], dil[MAXS], pads[2 * MAXS], op[MAXS], os[MAXS];
    for (int i = 0; i < cc->nsp; i++) {
        strides[i] = cc->s[i];
        dil[i] = cc->d[i];
        pads[i] = cc->pb[i];
        pads[i + cc->nsp] = cc->pe[i];
        op[i] = cc->out_pad[i];
        os[i] = out_shape ? out_shape[i] : 0;
    }
    oh_node n;
    oh_begin(&n, "ConvTranspose", 1);
    oh_ints(&n, "strides", (uint32_t)cc->nsp, strides);
    oh_ints(&n, "dilations", (uint32_t)cc->nsp, dil);
    oh_ints(&n, "output_padding", (uint32_t)cc->nsp, op);
    oh_int(&n, "group", cc->group);
    if (out_shape) oh_ints(&n, "output_shape", (uint32_t)cc->nsp, os);
    if (cc->auto_pad) oh_string(&n, "auto_pad", cc->auto_pad);
    else if (!out_shape) oh_ints(&n, "pads", 2u * (uint32_t)cc->nsp, pads);
    n.act.kind = act;
    oh_input(&n, EMBER_DTYPE_F32, xs, x);
    oh_constant(&n, EMBER_DTYPE_F32, ws, w);
    if (cc->bias) oh_constant(&n, EMBER_DTYPE_F32, OH_SHAPE(cc->m), b);
    ember_status st = oh_run(&n);
    if (st != EMBER_OK) fail_msg("ConvTranspose failed (%d): %s", st, n.msg);
    if (!em_shape_equal(&n.out[0].shape, &ys)) {
        char a[128], bb[128];
        fail_msg("shape %s, want %s", em_shape_str(&n.out[0].shape, a, sizeof a),
                 em_shape_str(&ys, bb, sizeof bb));
    }
    oh_assert_close(n.out[0].data, want, count_of(&ys), 1e-4f, 1e-5f);
    oh_free(&n);
    free(x);
    free(w);
    free(want);
}

static void test_conv_transpose_hand(void** state) {
    (void)state;
    /* 1-D: x = [1, 2], w = [1, 1, 1], stride 2 -> [1, 1, 1+2, 2, 2] */
    const float x[2] = {1, 2}, w[3] = {1, 1, 1};
    const int64_t s[1] = {2};
    oh_node n;
    oh_begin(&n, "ConvTranspose", 1);
    oh_ints(&n, "strides", 1, s);
    oh_input(&n, EMBER_DTYPE_F32, OH_SHAPE(1, 1, 2), x);
    oh_constant(&n, EMBER_DTYPE_F32, OH_SHAPE(1, 1, 3), w);
    assert_int_equal(oh_run(&n), EMBER_OK);
    assert_int_equal(n.out[0].shape.dims[2], 5);
    const float want[5] = {1, 1, 3, 2, 2};
    oh_assert_close(n.out[0].data, want, 5, 0, 0);
    oh_free(&n);

    /* ONNX test_convtranspose_pads */
    float x9[9];
    for (int i = 0; i < 9; i++) x9[i] = (float)i;
    float ones[18];
    for (int i = 0; i < 18; i++) ones[i] = 1.0f;
    const int64_t st2[2] = {3, 2}, pads[4] = {1, 2, 1, 2};
    oh_begin(&n, "ConvTranspose", 1);
    oh_ints(&n, "strides", 2, st2);
    oh_ints(&n, "pads", 4, pads);
    oh_input(&n, EMBER_DTYPE_F32, OH_SHAPE(1, 1, 3, 3), x9);
    oh_constant(&n, EMBER_DTYPE_F32, OH_SHAPE(1, 2, 3, 3), ones);
    assert_int_equal(oh_run(&n), EMBER_OK);
    const em_shape ws = OH_SHAPE(1, 2, 7, 3);
    assert_true(em_shape_equal(&n.out[0].shape, &ws));
    const float plane[21] = {1, 1, 3, 1, 1, 3, 7, 4, 9, 7, 4, 9, 7, 4, 9, 13, 7, 15, 13, 7, 15};
    oh_assert_close(n.out[0].data, plane, 21, 0, 0);
    oh_assert_close((const float*)n.out[0].data + 21, plane, 21, 0, 0);
    oh_free(&n);
}

static void test_conv_transpose_sweep(void** state) {
    (void)state;
    static const conv_case cases[] = {
        {2, 1, 1, 1, 1, {3, 3}, {3, 3}, {1, 1}, {1, 1}, {0, 0}, {0, 0}, NULL, 0, {0, 0}},
        {2, 2, 3, 4, 1, {4, 5}, {3, 3}, {2, 2}, {1, 1}, {1, 1}, {1, 1}, NULL, 1, {1, 1}},
        {2, 1, 4, 6, 2, {5, 3}, {3, 2}, {2, 3}, {1, 1}, {0, 1}, {1, 0}, NULL, 1, {1, 2}},
        {2, 1, 4, 4, 4, {5, 5}, {4, 4}, {2, 2}, {1, 1}, {1, 1}, {1, 1}, NULL, 1, {0, 0}},  /* depthwise */
        {2, 1, 2, 3, 1, {4, 4}, {3, 2}, {1, 2}, {2, 3}, {2, 0}, {1, 1}, NULL, 0, {0, 1}},  /* dilation */
        {2, 1, 3, 2, 1, {4, 5}, {3, 3}, {2, 2}, {1, 1}, {0}, {0}, "SAME_UPPER", 1, {0, 0}},
        {2, 1, 3, 2, 1, {4, 5}, {4, 3}, {2, 3}, {1, 1}, {0}, {0}, "SAME_LOWER", 1, {0, 0}},
        {1, 2, 3, 5, 1, {7}, {5}, {3}, {1}, {2}, {1}, NULL, 1, {2}},
        {3, 1, 2, 2, 1, {2, 3, 2}, {2, 2, 3}, {2, 1, 2}, {1, 1, 1}, {0, 1, 1}, {1, 0, 1}, NULL, 1, {1, 0, 1}},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        run_ct_case(&cases[i], NULL, (uint32_t)i + 100, EMF_ACT_NONE);
    /* output_shape */
    const conv_case cc = {2, 1, 2, 3, 1, {4, 4}, {3, 3}, {2, 2}, {1, 1}, {0}, {0}, NULL, 1, {0, 0}};
    const int os1[2] = {8, 9}, os2[2] = {7, 7};
    run_ct_case(&cc, os1, 200, EMF_ACT_NONE);
    run_ct_case(&cc, os2, 201, EMF_ACT_RELU);
}

static void test_conv_transpose_errors(void** state) {
    (void)state;
    static float buf[1024];
    oh_node n;
    /* W dim 0 must be C */
    oh_begin(&n, "ConvTranspose", 1);
    oh_input(&n, EMBER_DTYPE_F32, OH_SHAPE(1, 3, 4, 4), buf);
    oh_constant(&n, EMBER_DTYPE_F32, OH_SHAPE(2, 2, 3, 3), buf);
    assert_int_equal(oh_run(&n), EMBER_ERROR_SHAPE_MISMATCH);
    assert_non_null(strstr(n.msg, "W dim 0"));
    oh_free(&n);
    /* group not dividing C */
    oh_begin(&n, "ConvTranspose", 1);
    oh_int(&n, "group", 2);
    oh_input(&n, EMBER_DTYPE_F32, OH_SHAPE(1, 3, 4, 4), buf);
    oh_constant(&n, EMBER_DTYPE_F32, OH_SHAPE(3, 2, 3, 3), buf);
    assert_int_equal(oh_run(&n), EMBER_ERROR_SHAPE_MISMATCH);
    oh_free(&n);
    /* non-f32 */
    oh_begin(&n, "ConvTranspose", 1);
    oh_input(&n, EMBER_DTYPE_F32, OH_SHAPE(1, 3, 4, 4), buf);
    oh_constant(&n, EMBER_DTYPE_I32, OH_SHAPE(3, 2, 3, 3), buf);
    assert_int_equal(oh_run(&n), EMBER_ERROR_DTYPE_MISMATCH);
    oh_free(&n);
    /* output size below 1 from large pads */
    const int64_t pads[4] = {3, 3, 3, 3};
    oh_begin(&n, "ConvTranspose", 1);
    oh_ints(&n, "pads", 4, pads);
    oh_input(&n, EMBER_DTYPE_F32, OH_SHAPE(1, 3, 2, 2), buf);
    oh_constant(&n, EMBER_DTYPE_F32, OH_SHAPE(3, 2, 3, 3), buf);
    assert_int_equal(oh_run(&n), EMBER_ERROR_SHAPE_MISMATCH);
    assert_non_null(strstr(n.msg, "output size"));
    oh_free(&n);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_conv_hand),
        cmocka_unit_test(test_conv_sweep),
        cmocka_unit_test(test_conv_fused_relu),
        cmocka_unit_test(test_conv_fused_gemm_acts),
        cmocka_unit_test(test_conv_errors),
        cmocka_unit_test(test_conv_transpose_hand),
        cmocka_unit_test(test_conv_transpose_sweep),
        cmocka_unit_test(test_conv_transpose_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
