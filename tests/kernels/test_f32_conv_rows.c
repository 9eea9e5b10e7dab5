/* The direct convolution (f32_conv_rows.h) on every path this machine runs,
 * bit for bit against the implicit GEMM it replaces (ember_f32_gemm_ex with
 * the im2col packer and the same packed weights) and within rounding of the
 * reference (ember_f32_im2col_ref then ember_f32_gemm_ref): 2-D windows from
 * 1 to 70 wide, kernels 2 to 7, strides 1 to 3, dilations 1 and 2, pads 0 to
 * 3 (asymmetric), 1 to 4 channels, output channels from 1 to past two
 * register tiles, with no epilogue, a bias and Relu clamp, a fused SiLU, and a
 * finish pass; the copy filled and the rows run in one range or split in
 * three; guards after the output and the scratch. Then which windows the
 * kernel takes. */
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
#include "f32_conv1x1_blocked.h"
#include "f32_conv_rows.h"
#include "f32_gemm.h"
#include "f32_im2col_pack.h"

static uint32_t g_rng = 7;

static int g_failures;
static size_t g_cases;

static int window_2d(ember_window* w, size_t ih, size_t iw, size_t kh, size_t kw, size_t s,
                     size_t d, size_t pt, size_t pl, size_t pb, size_t pr) {
    const size_t in[3] = {1, ih, iw}, k[3] = {1, kh, kw}, p0[3] = {0, pt, pl}, p1[3] = {0, pb, pr};
    return kt_window(w, in, k, s, d, p0, p1);
}

typedef struct pack_ctx {
    const ember_kernels* kern;
    const ember_window* w;
    const float* x;
} pack_ctx;

static void pack_cb(const void* ctx, size_t nr, size_t p0, size_t kc, size_t j0, size_t n,
                    float* dst) {
    const pack_ctx* p = ctx;
    p->kern->f32_im2col_pack_b(p->w, p->x, nr, p0, kc, j0, n, dst);
}

/* finish pass of the test: c = 2 * c - 1 */
static void twice_minus_one(const void* ctx, float* c, size_t ldc, size_t m, size_t n) {
    (void)ctx;
    for (size_t i = 0; i < m; i++)
        for (size_t j = 0; j < n; j++) c[i * ldc + j] = 2.0f * c[i * ldc + j] - 1.0f;
}

#define GUARD 64

static void check_blocked(const ember_kernels* kern, const ember_window* w, size_t ch, size_t m,
                          const ember_f32_gemm_extra* ex, const float* wt, const void* scratch,
                          const float* want, int split) {
    const size_t L = kern->f32_dwconv.block, kdim = ch * w->kernel[1] * w->kernel[2];
    const size_t plane = w->out[1] * w->out[2], oh = w->out[1], blocks = (m + L - 1) / L;
    const ember_f32_gemm_epilogue ep = ex ? ember_f32_gemm_epilogue_of(ex, 0, 0)
                                          : (ember_f32_gemm_epilogue){.act = EMBER_GEMM_ACT_NONE};
    float* wp = aligned_alloc(64, (ember_f32_conv1x1_blocked_packed_size(L, m, kdim) + 63) / 64 * 64);
    float* y = malloc(sizeof(float) * (blocks * L * plane + GUARD));
    float* yr = malloc(sizeof(float) * blocks * L * plane);
    ember_f32_conv1x1_blocked_pack(L, m, kdim, wt, wp);
    kt_set_guard(y, blocks * L * plane + GUARD);
    if (split)
        for (size_t t = 3; t-- > 0;)
            ember_f32_conv_rows_run_blocked(kern, ch, m, w, wp, scratch, ex ? &ep : NULL, y,
                                            oh * t / 3, oh * (t + 1) / 3);
    else
        ember_f32_conv_rows_run_blocked(kern, ch, m, w, wp, scratch, ex ? &ep : NULL, y, 0, oh);
    /* the twin, one output row at a time, from the same copy */
    const int32_t* off = scratch;
    const float* cp = (const float*)((const unsigned char*)scratch +
                                     ((ch * w->kernel[1] * w->kernel[2] * sizeof(int32_t) + 63) / 64 * 64));
    const size_t q = w->out[2] + (w->kernel[2] - 1) * w->dilation[2] / w->stride[2];
    for (size_t oy = 0; oy < oh; oy++)
        ember_f32_conv_rows_blocked_ref(kern, L, m, kdim, cp + oy * w->stride[1] * q, off,
                                        w->out[2], plane, wp, yr + oy * w->out[2] * L,
                                        ex ? &ep : NULL);
    g_cases++;
    int bad = !kt_guard_ok(y + blocks * L * plane, GUARD);
    for (size_t c = 0; c < blocks * L && !bad; c++)
        for (size_t i = 0; i < plane && !bad; i++) {
            const float got = y[((c / L) * plane + i) * L + c % L];
            const float twin = yr[((c / L) * plane + i) * L + c % L];
            const float ref = c < m ? want[c * plane + i] : 0.0f;
            if (memcmp(&got, &ref, 4) != 0 || memcmp(&twin, &ref, 4) != 0) {
                print_error("%s blocked: image %zux%zu kernel %zux%zu s%zu ch %zu m %zu: channel "
                            "%zu position %zu is %.9g (twin %.9g), the plain path %.9g\n",
                            kern->isa, w->image[1], w->image[2], w->kernel[1], w->kernel[2],
                            w->stride[1], ch, m, c, i, got, twin, ref);
                bad = 1;
            }
        }
    if (bad) g_failures++;
    free(wp);
    free(y);
    free(yr);
}

static void check(const ember_kernels* kern, const ember_window* w, size_t ch, size_t m, int mode,
                  int split) {
    const size_t kdim = ch * w->kernel[1] * w->kernel[2], plane = w->out[1] * w->out[2];
    const size_t in_vol = w->image[1] * w->image[2];
    float* x = malloc(sizeof(float) * ch * in_vol);
    float* wt = malloc(sizeof(float) * m * kdim);
    float* bias = malloc(sizeof(float) * m);
    for (size_t i = 0; i < ch * in_vol; i++) x[i] = kt_frand(&g_rng);
    for (size_t i = 0; i < m * kdim; i++) wt[i] = kt_frand(&g_rng);
    for (size_t i = 0; i < m; i++) bias[i] = kt_frand(&g_rng);
    float* ap = malloc(ember_f32_gemm_packed_a_size(kern, m, kdim));
    ember_f32_gemm_pack_a_full(kern, m, kdim, 1.0f, wt, kdim, 1, ap);

    ember_f32_gemm_extra ex = {0};
    if (mode == 1) { /* bias and Relu, the clamp */
        ex.row_bias = bias;
        ex.clamp = 1;
        ex.zero_plus = 1;
        ex.lo = 0.0f;
        ex.hi = INFINITY;
    } else if (mode == 2) {
        ex.row_bias = bias;
        ex.act = EMBER_GEMM_ACT_SILU;
    } else if (mode == 3) {
        ex.finish = twice_minus_one;
    }
    /* the implicit GEMM */
    float* want = malloc(sizeof(float) * m * plane);
    const pack_ctx pc = {.kern = kern, .w = w, .x = x};
    ex.pack_b = pack_cb;
    ex.pack_b_ctx = &pc;
    void* ws = malloc(ember_f32_gemm_workspace_size(kern, m, plane, kdim) + 64);
    ember_f32_gemm_ex(kern, m, plane, kdim, NULL, 0, 0, ap, x, plane, 1, 0.0f, want, plane, &ex, ws);
    ex.pack_b = NULL;
    ex.pack_b_ctx = NULL;

    /* the direct kernel */
    const size_t sb = ember_f32_conv_rows_scratch(ch, w);
    unsigned char* scratch = malloc(sb + GUARD);
    memset(scratch + sb, 0xA5, GUARD);
    float* got = malloc(sizeof(float) * (m * plane + GUARD));
    kt_set_guard(got + m * plane, GUARD);
    ember_f32_conv_rows_offsets(ch, w, scratch);
    const size_t rows = ember_f32_conv_rows_total(w), oh = w->out[1];
    if (split) { /* as threads would: the copy and the rows in three ranges each */
        for (size_t t = 0; t < 3; t++)
            ember_f32_conv_rows_fill(ch, w, x, scratch, rows * t / 3, rows * (t + 1) / 3);
        for (size_t t = 3; t-- > 0;)
            ember_f32_conv_rows_run(kern, ch, m, w, ap, scratch, mode ? &ex : NULL, got, oh * t / 3,
                                    oh * (t + 1) / 3);
    } else {
        ember_f32_conv_rows_fill(ch, w, x, scratch, 0, rows);
        ember_f32_conv_rows_run(kern, ch, m, w, ap, scratch, mode ? &ex : NULL, got, 0, oh);
    }
    g_cases++;
    if (memcmp(got, want, sizeof(float) * m * plane) != 0) {
        size_t i = 0;
        while (got[i] == want[i] || (got[i] != got[i] && want[i] != want[i])) i++;
        if (g_failures++ < 10)
            print_error("%s: image %zux%zu kernel %zux%zu s%zu d%zu pad %td,%td,%td,%td ch %zu m %zu "
                        "mode %d split %d: [%zu] %.9g, implicit GEMM %.9g\n",
                        kern->isa, w->image[1], w->image[2], w->kernel[1], w->kernel[2], w->stride[1],
                        w->dilation[1], w->pad[1], w->pad[2], w->pad_end[1], w->pad_end[2], ch, m,
                        mode, split, i, got[i], want[i]);
    }
    if (!kt_guard_ok(got + m * plane, GUARD) && g_failures++ < 10)
        print_error("%s: wrote past the output\n", kern->isa);
    for (size_t i = sb; i < sb + GUARD; i++)
        if (scratch[i] != 0xA5 && g_failures++ < 10) print_error("%s: wrote past its scratch\n", kern->isa);

    /* into the blocked layout (the planner's blocked stems): every lane the
     * implicit GEMM's bits, padded lanes 0; the portable twin likewise */
    if (kern->f32_conv_rows_blocked && mode != 3 && ember_f32_conv_rows_blocked_applies(kern, ch, w))
        check_blocked(kern, w, ch, m, mode ? &ex : NULL, wt, scratch, want, split);

    /* the reference, without extras: within rounding of a K-long dot product */
    if (mode == 0) {
        float* col = malloc(sizeof(float) * kdim * plane);
        float* ref = malloc(sizeof(float) * m * plane);
        ember_f32_im2col_ref(ch, w, x, col);
        ember_f32_gemm_ref(m, plane, kdim, 1.0f, wt, kdim, 1, col, plane, 1, 0.0f, ref, plane);
        for (size_t i = 0; i < m * plane; i++)
            if (fabsf(got[i] - ref[i]) > 1e-5f * (float)kdim && g_failures++ < 10)
                print_error("%s: [%zu] %g, reference %g\n", kern->isa, i, got[i], ref[i]);
        free(col);
        free(ref);
    }
    free(x);
    free(wt);
    free(bias);
    free(ap);
    free(want);
    free(ws);
    free(scratch);
    free(got);
}

static void sweep(const ember_kernels* kern) {
    static const size_t sides[] = {1, 3, 8, 17, 33, 40, 70};
    static const size_t kernels[][2] = {{2, 2}, {3, 3}, {1, 3}, {5, 5}, {7, 7}};
    const size_t mr = kern->f32_gemm.mr;
    const size_t ms[] = {1, 5, mr, mr + 3, 2 * mr + 1, 64};
    size_t v = 0;
    for (size_t a = 0; a < 7; a++)
        for (size_t b = 0; b < 7; b++)
            for (size_t k = 0; k < 5; k++)
                for (size_t s = 1; s <= 3; s++)
                    for (size_t d = 1; d <= 2; d++)
                        for (size_t pad = 0; pad < 4; pad++, v++) {
                            ember_window w;
                            if (!window_2d(&w, sides[a], sides[b], kernels[k][0], kernels[k][1], s, d,
                                           pad, pad > 0 ? pad - 1 : 0, pad > 1 ? 1 : pad, pad))
                                continue;
                            const size_t ch = 1 + v % 4;
                            if (!ember_f32_conv_rows_applies(kern, ch, &w)) continue;
                            check(kern, &w, ch, ms[v % 6], (int)(v % 4), (int)(v / 4 % 2));
                        }
    /* stems: 3x3/2 and resnet's 7x7/2 on 3 channels, every output count kind */
    {
        ember_window w;
        assert_true(window_2d(&w, 57, 61, 3, 3, 2, 1, 1, 1, 1, 1));
        for (int mode = 0; mode < 4; mode++) check(kern, &w, 3, mode == 1 ? 32 : 16 + (size_t)mode, mode, mode & 1);
        assert_true(window_2d(&w, 45, 45, 7, 7, 2, 1, 3, 3, 3, 3));
        check(kern, &w, 3, 64, 1, 1);
        assert_true(window_2d(&w, 45, 45, 3, 3, 2, 1, 0, 0, 0, 0)); /* squeezenet's, no pad */
        check(kern, &w, 3, 64, 1, 0);
    }
}

static void test_conv_rows_sweep(void** state) {
    (void)state;
    static const char* const paths[] = {"generic", "avx2", "avx512", "neon"};
    size_t ran = 0;
    for (size_t i = 0; i < 4; i++) {
        const ember_kernels* kern = ember_kernels_for(paths[i]);
        if (!kern || !kern->f32_gemm.ukernel_rows) continue;
        const size_t before = g_cases;
        sweep(kern);
        print_message("[          ] direct conv, path %s: %zu cases\n", paths[i], g_cases - before);
        assert_true(g_cases - before > 500);
        ran++;
    }
    assert_true(ran >= 1);
    assert_int_equal(g_failures, 0);
}

/* Which windows it takes: 2-D, more than one tap, one K block, rows of at
 * least nr / 2 pixels; not a path without the micro-kernel. */
static void test_conv_rows_applies(void** state) {
    (void)state;
    const ember_kernels* kern = ember_kernels_default();
    if (!kern->f32_gemm.ukernel_rows) {
        ember_window w;
        assert_true(window_2d(&w, 40, 40, 3, 3, 2, 1, 1, 1, 1, 1));
        assert_false(ember_f32_conv_rows_applies(kern, 3, &w));
        skip();
    }
    const size_t kc = kern->f32_gemm.kc, nr = kern->f32_gemm.nr;
    ember_window w;
    assert_true(window_2d(&w, 224, 224, 3, 3, 2, 1, 1, 1, 1, 1));
    assert_true(ember_f32_conv_rows_applies(kern, 3, &w));
    assert_true(ember_f32_conv_rows_applies(kern, kc / 9, &w));
    assert_false(ember_f32_conv_rows_applies(kern, kc / 9 + 1, &w)); /* two K blocks */
    assert_true(window_2d(&w, 224, 224, 1, 1, 1, 1, 0, 0, 0, 0));
    assert_false(ember_f32_conv_rows_applies(kern, 3, &w)); /* one tap: the GEMM reads x in place */
    assert_true(window_2d(&w, 8, nr / 2 - 1, 3, 3, 1, 1, 1, 1, 1, 1));
    assert_false(ember_f32_conv_rows_applies(kern, 3, &w)); /* rows under nr / 2 */
    assert_true(window_2d(&w, 40, 40, 3, 3, 1, 1, 1, 1, 1, 1));
    w.image[0] = w.out[0] = 2; /* 3-D */
    assert_false(ember_f32_conv_rows_applies(kern, 3, &w));
    const ember_kernels* generic = ember_kernels_for("generic");
    assert_non_null(generic->f32_gemm.ukernel_rows);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_conv_rows_sweep),
        cmocka_unit_test(test_conv_rows_applies),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
