/* Implicit im2col (f32_im2col_pack.h) against ember_f32_im2col_ref followed by
 * the table's pack_b, bit for bit: 1-D, 2-D and 3-D windows, kernels 1 to 5,
 * strides 1 to 3, dilations 1 and 2, pads 0 to 2 (asymmetric), images from 1
 * wide, every block split (p0, kc) and column range (j0, n) of the K and N
 * blocks the GEMM uses, nr 4, 12, 16, 32 and 64; guards after every panel.
 * Then the GEMM with extras (ember_f32_gemm_ex_mt: implicit B, row bias, a
 * finish pass, the clamp, the fused activations; A packed ahead or not; one
 * thread and three; every ISA path) against the reference, and the fused
 * activations bit for bit against the unfused passes they replace. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "kernel_test.h"
#include "f32_gemm.h"
#include "f32_im2col_pack.h"
#include "threadpool.h"

static uint32_t g_rng = 99;

static int g_failures;
static size_t g_cases;
static const char* g_path = "generic"; /* the table whose packer check_pack runs */

static void check_pack(const ember_window* w, size_t channels) {
    const size_t in_vol = w->image[0] * w->image[1] * w->image[2];
    const size_t kvol = w->kernel[0] * w->kernel[1] * w->kernel[2];
    const size_t out_vol = w->out[0] * w->out[1] * w->out[2];
    const size_t rows = channels * kvol;
    float* x = malloc(sizeof(float) * channels * in_vol);
    float* col = malloc(sizeof(float) * rows * out_vol);
    for (size_t i = 0; i < channels * in_vol; i++) x[i] = kt_frand(&g_rng);
    ember_f32_im2col_ref(channels, w, x, col);
    static const size_t nrs[] = {4, 12, 16, 32, 64};
    for (size_t t = 0; t < sizeof nrs / sizeof nrs[0]; t++) {
        const size_t nr = nrs[t];
        /* K blocks of 1, 7 and all rows; N ranges from 0, and from an odd start */
        const size_t kcs[] = {1, 7, rows};
        for (size_t ki = 0; ki < 3; ki++) {
            const size_t kc_max = kcs[ki] < rows ? kcs[ki] : rows;
            for (size_t p0 = 0; p0 < rows; p0 += kc_max) {
                const size_t kc = rows - p0 < kc_max ? rows - p0 : kc_max;
                const size_t starts[] = {0, out_vol / 3};
                for (size_t si = 0; si < 2; si++) {
                    const size_t j0 = starts[si], n = out_vol - j0;
                    if (n == 0) continue;
                    const size_t panels = (n + nr - 1) / nr, floats = panels * kc * nr;
                    float* got = malloc(sizeof(float) * (floats + 8));
                    float* want = malloc(sizeof(float) * floats);
                    for (size_t i = 0; i < floats + 8; i++) got[i] = 12345.0f;
                    ember_f32_gemm_pack_b__scalar(nr, n, kc, col + p0 * out_vol + j0, out_vol, 1, want);
                    /* every build of the packer this machine runs: the portable one
                     * (generic, neon) and the AVX2 one (avx2, avx512) */
                    const ember_kernels* k = ember_kernels_for(g_path);
                    if (!k) k = ember_kernels_default();
                    k->f32_im2col_pack_b(w, x, nr, p0, kc, j0, n, got);
                    g_cases++;
                    if (memcmp(got, want, sizeof(float) * floats) != 0) {
                        size_t i = 0;
                        while (got[i] == want[i]) i++;
                        if (g_failures++ < 10)
                            print_error("image %zux%zux%zu kernel %zux%zux%zu s%zu d%zu pad %td,%td,%td "
                                        "nr %zu p0 %zu kc %zu j0 %zu: [%zu] %g, want %g\n",
                                        w->image[0], w->image[1], w->image[2], w->kernel[0],
                                        w->kernel[1], w->kernel[2], w->stride[2], w->dilation[2],
                                        w->pad[0], w->pad[1], w->pad[2], nr, p0, kc, j0, i, got[i],
                                        want[i]);
                    }
                    for (size_t i = floats; i < floats + 8; i++)
                        if (got[i] != 12345.0f && g_failures++ < 10) print_error("wrote past its panels\n");
                    free(got);
                    free(want);
                }
            }
        }
    }
    free(x);
    free(col);
}

static void sweep_windows(void);

/* The sweep on every path this machine runs (an absent path is skipped by name). */
static void test_im2col_pack_sweep(void** state) {
    (void)state;
    static const char* const paths[] = {"generic", "avx2", "avx512", "neon"};
    size_t ran = 0;
    for (size_t i = 0; i < 4; i++) {
        if (!ember_kernels_for(paths[i])) continue;
        g_path = paths[i];
        sweep_windows();
        ran++;
        print_message("[          ] im2col pack, path %s: checked\n", paths[i]);
    }
    assert_true(ran >= 1);
}

static void sweep_windows(void) {
    static const size_t sides[] = {1, 2, 5, 9, 16};
    for (size_t a = 0; a < 5; a++)
        for (size_t b = 0; b < 5; b++)
            for (size_t k = 1; k <= 5; k += 2)
                for (size_t s = 1; s <= 3; s++)
                    for (size_t d = 1; d <= 2; d++)
                        for (size_t pad = 0; pad < 3; pad++) {
                            const size_t in[3] = {1, sides[a], sides[b]};
                            const size_t kk[3] = {1, k, k};
                            const size_t pb[3] = {0, pad, pad > 0 ? pad - 1 : 0};
                            const size_t pe[3] = {0, pad > 1 ? 1 : pad, pad};
                            ember_window w;
                            if (kt_window(&w, in, kk, s, d, pb, pe)) check_pack(&w, 1 + (a + k) % 3);
                        }
    /* 1-D and 3-D, and resnet's first layer */
    {
        const size_t in[3] = {1, 1, 40}, kk[3] = {1, 1, 5}, pb[3] = {0, 0, 2}, pe[3] = {0, 0, 1};
        ember_window w;
        assert_true(kt_window(&w, in, kk, 2, 1, pb, pe));
        check_pack(&w, 3);
    }
    {
        const size_t in[3] = {4, 5, 6}, kk[3] = {2, 3, 3}, pb[3] = {1, 1, 0}, pe[3] = {0, 1, 2};
        ember_window w;
        assert_true(kt_window(&w, in, kk, 1, 1, pb, pe));
        check_pack(&w, 2);
    }
    {
        const size_t in[3] = {1, 40, 40}, kk[3] = {1, 7, 7}, pb[3] = {0, 3, 3}, pe[3] = {0, 3, 3};
        ember_window w;
        assert_true(kt_window(&w, in, kk, 2, 1, pb, pe));
        check_pack(&w, 3);
    }
    printf("im2col pack: %zu cases\n", g_cases);
    assert_int_equal(g_failures, 0);
}

/* finish pass of the test: c = 2 * c - 1 */
static void twice_minus_one(const void* ctx, float* c, size_t ldc, size_t m, size_t n) {
    (void)ctx;
    for (size_t i = 0; i < m; i++)
        for (size_t j = 0; j < n; j++) c[i * ldc + j] = 2.0f * c[i * ldc + j] - 1.0f;
}

typedef struct pack_ctx {
    const ember_window* w;
    const float* x;
} pack_ctx;

static void pack_cb(const void* ctx, size_t nr, size_t p0, size_t kc, size_t j0, size_t n,
                    float* dst) {
    const pack_ctx* p = ctx;
    ember_f32_im2col_pack_b(p->w, p->x, nr, p0, kc, j0, n, dst);
}

/* The activations of ember_f32_gemm_act in double, and the elementwise kernel
 * whose formula each one is. */
static double act_of(ember_f32_gemm_act act, double x) {
    switch (act) {
    case EMBER_GEMM_ACT_SIGMOID: return 1.0 / (1.0 + exp(-x));
    case EMBER_GEMM_ACT_HARD_SWISH: return x * fmin(1.0, fmax(0.0, x / 6.0 + 0.5));
    case EMBER_GEMM_ACT_SILU: return x / (1.0 + exp(-x));
    case EMBER_GEMM_ACT_GELU: return 0.5 * x * erfc(-x / sqrt(2.0));
    default: return x;
    }
}
static const ember_f32_vop ACT_VOP[EMBER_GEMM_ACT_COUNT] = {
    [EMBER_GEMM_ACT_SIGMOID] = EMBER_VOP_SIGMOID, [EMBER_GEMM_ACT_HARD_SWISH] = EMBER_VOP_HARD_SWISH,
    [EMBER_GEMM_ACT_SILU] = EMBER_VOP_SILU, [EMBER_GEMM_ACT_GELU] = EMBER_VOP_GELU};

static void test_gemm_extra(void** state) {
    (void)state;
    static const char* const isas[] = {"generic", "avx2", "avx512", "neon"};
    em_pool* pool = em_pool_create(3);
    assert_non_null(pool);
    size_t ran = 0;
    for (size_t t = 0; t < 4; t++) {
        const ember_kernels* kern = ember_kernels_for(isas[t]);
        if (!kern) {
            printf("gemm extras: %s path skipped (not available here)\n", isas[t]);
            continue;
        }
        ran++;
        /* conv shapes: channels, side, kernel, stride, out channels; k over one K block
         * (600 rows with kc 512 / 256 makes two) */
        static const size_t shapes[][5] = {{3, 9, 3, 1, 5},   {8, 12, 3, 2, 13},  {67, 5, 3, 1, 33},
                                           {24, 7, 1, 1, 40},  {3, 30, 7, 2, 16},  {32, 20, 3, 1, 45},
                                           {16, 19, 3, 1, 29}};
        for (size_t si = 0; si < sizeof shapes / sizeof shapes[0]; si++) {
            const size_t ch = shapes[si][0], side = shapes[si][1], k = shapes[si][2];
            const size_t s = shapes[si][3], m = shapes[si][4], pad = k / 2;
            const size_t in[3] = {1, side, side}, kk[3] = {1, k, k}, pp[3] = {0, pad, pad};
            ember_window w;
            assert_true(kt_window(&w, in, kk, s, 1, pp, pp));
            const size_t kdim = ch * k * k, n = w.out[1] * w.out[2];
            float* x = malloc(sizeof(float) * ch * side * side);
            float* a = malloc(sizeof(float) * m * kdim);
            float* bias = malloc(sizeof(float) * m);
            float* col = malloc(sizeof(float) * kdim * n);
            float* want = malloc(sizeof(float) * m * n);
            float* got = malloc(sizeof(float) * m * n);
            float* got_mt = malloc(sizeof(float) * m * n);
            float* unfused = malloc(sizeof(float) * m * n);
            float* ap = malloc(ember_f32_gemm_packed_a_size(kern, m, kdim) + 64);
            void* ws = malloc(ember_f32_gemm_workspace_size(kern, m, n, kdim) + 64);
            for (size_t i = 0; i < ch * side * side; i++) x[i] = kt_frand(&g_rng);
            for (size_t i = 0; i < m * kdim; i++) a[i] = kt_frand(&g_rng);
            for (size_t i = 0; i < m; i++) bias[i] = kt_frand(&g_rng);
            ember_f32_im2col_ref(ch, &w, x, col);
            ember_f32_gemm_ref(m, n, kdim, 1.0f, a, kdim, 1, col, n, 1, 0.0f, want, n);
            for (size_t i = 0; i < m; i++)
                for (size_t j = 0; j < n; j++) want[i * n + j] += bias[i];
            float* apa = (float*)(((uintptr_t)ap + 63) & ~(uintptr_t)63);
            ember_f32_gemm_pack_a_full(kern, m, kdim, 1.0f, a, kdim, 1, apa);
            const pack_ctx pc = {.w = &w, .x = x};
            /* output passes: a finish callback; Relu as the clamp; Clip as the clamp
             * followed by a finish; then each fused activation (mode 3 + act - 1),
             * after the bias (sigmoid on an even shape) or after the bias and a Clip */
            for (int mode = 0; mode < 3 + EMBER_GEMM_ACT_COUNT - 1; mode++)
                for (int packed = 0; packed < 2; packed++) {
                    const ember_f32_gemm_act act =
                        mode < 3 ? EMBER_GEMM_ACT_NONE : (ember_f32_gemm_act)(mode - 2);
                    const int clip = mode == 2 || (act != EMBER_GEMM_ACT_NONE && si % 2);
                    ember_f32_gemm_extra ex = {
                        .pack_b = pack_cb, .pack_b_ctx = &pc, .row_bias = bias,
                        .clamp = mode == 1 || clip, .zero_plus = mode == 1,
                        .lo = mode == 1 ? 0.0f : -0.5f, .hi = mode == 1 ? INFINITY : 0.25f,
                        .act = act,
                        .finish = mode == 0 || mode == 2 ? twice_minus_one : NULL};
                    for (size_t i = 0; i < m * n; i++) got[i] = got_mt[i] = NAN; /* beta 0: C is not read */
                    ember_f32_gemm_ex_mt(NULL, kern, m, n, kdim, a, kdim, 1, packed ? apa : NULL,
                                         NULL, 0, 0, 0.0f, got, n, &ex, ws);
                    ember_f32_gemm_ex_mt(pool, kern, m, n, kdim, a, kdim, 1, packed ? apa : NULL,
                                         NULL, 0, 0, 0.0f, got_mt, n, &ex, ws);
                    if (memcmp(got, got_mt, sizeof(float) * m * n) != 0)
                        fail_msg("%s gemm extras shape %zu mode %d packed %d: 3 threads differ "
                                 "from 1", isas[t], si, mode, packed);
                    for (size_t i = 0; i < m * n; i++) {
                        double w = want[i];
                        if (mode == 1) w = w > 0.0 ? w : 0.0;
                        if (clip) w = fmin(fmax(w, -0.5), 0.25);
                        if (mode == 0 || mode == 2) w = 2.0 * w - 1.0;
                        w = act_of(act, w);
                        const double tol = 1e-5 * (double)(kdim + 1) * 4.0;
                        if (!(fabs(got[i] - w) <= tol * (1.0 + fabs(w))))
                            fail_msg("%s gemm extras shape %zu mode %d packed %d [%zu]: %g, want %g",
                                     isas[t], si, mode, packed, i, got[i], w);
                        if (mode == 1 && signbit(got[i]) && got[i] == 0.0f)
                            fail_msg("%s: the Relu clamp left a -0", isas[t]);
                    }
                    if (act == EMBER_GEMM_ACT_NONE) continue;
                    /* fused = the product with its bias and clamp, then the table's
                     * elementwise kernel over the whole output, bit for bit */
                    ex.act = EMBER_GEMM_ACT_NONE;
                    ember_f32_gemm_ex_mt(NULL, kern, m, n, kdim, a, kdim, 1, packed ? apa : NULL,
                                         NULL, 0, 0, 0.0f, unfused, n, &ex, ws);
                    kern->f32_elementwise.unary[ACT_VOP[act]](m * n, unfused, unfused, 0.0f, 0.0f);
                    if (memcmp(got, unfused, sizeof(float) * m * n) != 0)
                        fail_msg("%s gemm extras shape %zu act %d packed %d: the fused activation "
                                 "differs from the elementwise pass", isas[t], si, (int)act, packed);
                }
            free(x);
            free(a);
            free(bias);
            free(col);
            free(want);
            free(got);
            free(got_mt);
            free(unfused);
            free(ap);
            free(ws);
        }
    }
    em_pool_destroy(pool);
    assert_true(ran >= 1);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_im2col_pack_sweep),
        cmocka_unit_test(test_gemm_extra),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
