/* The pooling fast paths (f32_pool2d.h) against the references of nn_ref.h:
 * image sides 1, 2, 5, 7, 16, 31 (and 1-D rows); kernels 1 to 5 and 7, strides
 * 1 to 3, dilations 1 and 2; pads 0 to 2 at each end, asymmetric, and extra end
 * windows (ceil_mode); average with and without count_include_pad; planes 1 and
 * 3; inputs with NaN and +-inf planted; guard values after every output. Max
 * must match bit for bit, average within 4 ulp of the window's sum of |x|
 * (the sum is taken rows first). The global pools: sizes 1 to 300 and 12544,
 * max exact, mean within size * 2^-24 of the mean of |x|. The max pool of
 * every path this CPU can run (the table's f32_maxpool2d) must give the
 * portable one's bits, guard values after its output intact. */
#include <float.h>
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

#include "dispatch.h"
#include "f32_pool2d.h"

#define GUARD 16
static uint32_t g_rng = 777;
static float frand(void) { return kt_frand(&g_rng); }

static int g_failures;
static size_t g_cases;

static int same_bits_or_both_nan(float a, float b) {
    if (isnan(a) && isnan(b)) return 1;
    return memcmp(&a, &b, 4) == 0;
}

/* Fills x; special: plant a NaN, +inf and -inf at random places. */
static void fill(float* x, size_t n, int special) {
    for (size_t i = 0; i < n; i++) x[i] = frand();
    if (special && n > 2) {
        x[(size_t)((frand() * 0.5f + 0.5f) * (float)(n - 1))] = NAN;
        x[(g_rng >> 4) % n] = INFINITY;
        x[(g_rng >> 12) % n] = -INFINITY;
    }
}

/* One geometry: 2-D (ih x iw) with kernel kh x kw; extra adds whole windows at
 * the end as ceil_mode does (they may start in the end padding's reach). */
static void check_window(size_t planes, size_t ih, size_t iw, size_t kh, size_t kw, size_t s,
                         size_t d, size_t pt, size_t pl, size_t pb, size_t pr, size_t extra,
                         int special) {
    const size_t ekh = (kh - 1) * d + 1, ekw = (kw - 1) * d + 1;
    if (ih + pt + pb < ekh || iw + pl + pr < ekw) return;
    ember_window w = {.image = {1, ih, iw},
                      .out = {1, (ih + pt + pb - ekh) / s + 1 + extra, (iw + pl + pr - ekw) / s + 1 + extra},
                      .kernel = {1, kh, kw}, .stride = {1, s, s}, .dilation = {1, d, d},
                      .pad = {0, (ptrdiff_t)pt, (ptrdiff_t)pl},
                      .pad_end = {0, (ptrdiff_t)pb, (ptrdiff_t)pr}};
    /* a window must start inside the image or the begin padding (as ONNX's ceil_mode) */
    if ((w.out[1] - 1) * s >= ih + pt || (w.out[2] - 1) * s >= iw + pl) return;
    if (!ember_f32_pool2d_applies(&w)) {
        fail_msg("pool2d refused a small 2-D window (%zux%zu kernel %zux%zu)", ih, iw, kh, kw);
        return;
    }
    const size_t nx = planes * ih * iw, ny = planes * w.out[1] * w.out[2];
    float* x = malloc(sizeof(float) * nx);
    float* want = malloc(sizeof(float) * ny);
    float* got = malloc(sizeof(float) * (ny + GUARD));
    float* absx = malloc(sizeof(float) * nx);
    float* abs_sum = malloc(sizeof(float) * ny);
    fill(x, nx, special);
    for (size_t i = 0; i < nx; i++) absx[i] = fabsf(x[i]);

    ember_f32_maxpool_ref(planes, &w, x, want);
    kt_set_guard(got, ny + GUARD);
    ember_f32_maxpool2d(planes, &w, x, got);
    g_cases++;
    for (size_t i = 0; i < ny; i++)
        if (!same_bits_or_both_nan(got[i], want[i])) {
            if (g_failures++ < 10)
                print_error("max %zux%zu k%zux%zu s%zu d%zu pad %zu,%zu,%zu,%zu +%zu [%zu]: %g, want %g\n",
                            ih, iw, kh, kw, s, d, pt, pl, pb, pr, extra, i, got[i], want[i]);
            break;
        }
    if (!kt_guard_ok(got + ny, GUARD) && g_failures++ < 10) print_error("max wrote past its output\n");
    static const char* const isas[] = {"avx2", "avx512", "neon"};
    float* alt = malloc(sizeof(float) * (ny + GUARD));
    for (size_t k = 0; k < 3 && alt; k++) {
        const ember_kernels* kern = ember_kernels_for(isas[k]);
        if (!kern) continue;
        kt_set_guard(alt, ny + GUARD);
        kern->f32_maxpool2d(planes, &w, x, alt);
        g_cases++;
        if ((memcmp(alt, got, sizeof(float) * ny) != 0 || !kt_guard_ok(alt + ny, GUARD)) &&
            g_failures++ < 10)
            print_error("%s max %zux%zu k%zux%zu s%zu d%zu pad %zu,%zu,%zu,%zu: not the portable "
                        "pool's bits, or wrote past its output\n", isas[k], ih, iw, kh, kw, s, d,
                        pt, pl, pb, pr);
    }
    free(alt);
    /* the blocked build (one NCHW16c plane): lane l holds plane l % planes */
    const ember_kernels* k512 = ember_kernels_for("avx512");
    if (k512 && k512->f32_maxpool2d_c16) {
        const size_t in_vol = ih * iw, out_vol = w.out[1] * w.out[2];
        float* xb = malloc(sizeof(float) * 16 * in_vol);
        float* yb = malloc(sizeof(float) * (16 * out_vol + GUARD));
        assert_true(xb && yb);
        for (size_t q = 0; q < in_vol; q++)
            for (size_t l = 0; l < 16; l++) xb[q * 16 + l] = x[(l % planes) * in_vol + q];
        kt_set_guard(yb, 16 * out_vol + GUARD);
        k512->f32_maxpool2d_c16(&w, xb, yb);
        g_cases++;
        int bad = !kt_guard_ok(yb + 16 * out_vol, GUARD);
        for (size_t q = 0; q < out_vol && !bad; q++)
            for (size_t l = 0; l < 16 && !bad; l++)
                bad = memcmp(&yb[q * 16 + l], &got[(l % planes) * out_vol + q], 4) != 0;
        if (bad && g_failures++ < 10)
            print_error("avx512 blocked max %zux%zu k%zux%zu s%zu d%zu pad %zu,%zu,%zu,%zu: not the "
                        "portable pool's bits, or wrote past its output\n", ih, iw, kh, kw, s, d,
                        pt, pl, pb, pr);
        free(xb);
        free(yb);
    }

    for (int cip = 0; cip < 2; cip++) {
        ember_f32_avgpool_ref(planes, &w, cip, x, want);
        ember_f32_avgpool_ref(planes, &w, cip, absx, abs_sum);
        kt_set_guard(got, ny + GUARD);
        ember_f32_avgpool2d(planes, &w, cip, x, got);
        g_cases++;
        for (size_t i = 0; i < ny; i++) {
            const float tol = 4.0f * FLT_EPSILON * abs_sum[i] * (float)(kh * kw);
            const int ok = (isnan(want[i]) && isnan(got[i])) ||
                           (isinf(want[i]) && got[i] == want[i]) ||
                           (isfinite(want[i]) && fabsf(got[i] - want[i]) <= tol);
            if (!ok) {
                if (g_failures++ < 10)
                    print_error("avg(cip %d) %zux%zu k%zux%zu s%zu d%zu pad %zu,%zu,%zu,%zu +%zu [%zu]: "
                                "%.9g, want %.9g\n",
                                cip, ih, iw, kh, kw, s, d, pt, pl, pb, pr, extra, i, got[i], want[i]);
                break;
            }
        }
        if (!kt_guard_ok(got + ny, GUARD) && g_failures++ < 10) print_error("avg wrote past its output\n");
    }
    free(x);
    free(want);
    free(got);
    free(absx);
    free(abs_sum);
}

static void test_pool2d_sweep(void** state) {
    (void)state;
    static const size_t sides[] = {1, 2, 5, 7, 16, 31};
    static const size_t kernels[][2] = {{1, 1}, {2, 2}, {3, 3}, {2, 3}, {5, 5}, {7, 1}};
    for (size_t a = 0; a < 6; a++)
        for (size_t b = 0; b < 6; b++)
            for (size_t k = 0; k < 6; k++)
                for (size_t s = 1; s <= 3; s++)
                    for (size_t d = 1; d <= 2; d++)
                        for (size_t pad = 0; pad < 4; pad++) {
                            const size_t pt = pad & 1, pl = pad >> 1;
                            const size_t kh = kernels[k][0], kw = kernels[k][1];
                            /* pads must stay below the kernel (ONNX) */
                            const size_t pb = pt + (kh > 2), pr = pl + (kw > 2);
                            if (pt >= kh || pb >= kh + 1 || pl >= kw || pr >= kw + 1) continue;
                            check_window(1 + (a + b) % 3, sides[a], sides[b], kh, kw, s, d,
                                         pt, pl, pb < kh ? pb : pt, pr < kw ? pr : pl,
                                         (s > 1 && pad == 3), (a + b + k) % 4 == 0);
                        }
    /* 1-D rows (the leading axes unit) and the shapes of resnet18 and squeezenet */
    check_window(2, 1, 100, 1, 3, 2, 1, 0, 1, 0, 1, 0, 1);
    check_window(4, 112, 112, 3, 3, 2, 1, 1, 1, 1, 1, 0, 0);
    check_window(4, 111, 111, 3, 3, 2, 1, 0, 0, 0, 0, 1, 1);
    check_window(2, 55, 55, 3, 3, 2, 1, 0, 0, 0, 0, 0, 1);
    /* rows wide enough that the AVX-512 pool's strips hold 5 and 2 rows */
    check_window(2, 19, 1500, 3, 3, 2, 1, 1, 1, 1, 1, 0, 0);
    check_window(1, 5, 4000, 3, 3, 1, 1, 1, 1, 1, 1, 0, 1);
    printf("pool2d: %zu cases\n", g_cases);
    assert_int_equal(g_failures, 0);
}

static void test_pool2d_applies(void** state) {
    (void)state;
    ember_window w = {.image = {1, 8, 8}, .out = {1, 4, 4}, .kernel = {1, 2, 2},
                      .stride = {1, 2, 2}, .dilation = {1, 1, 1}};
    assert_true(ember_f32_pool2d_applies(&w));
    w.image[0] = 2; /* 3-D */
    assert_false(ember_f32_pool2d_applies(&w));
    w.image[0] = 1;
    w.out[2] = EMBER_POOL2D_MAX_ROW; /* row past the stack buffer */
    w.image[2] = 2 * EMBER_POOL2D_MAX_ROW;
    assert_false(ember_f32_pool2d_applies(&w));
    w.out[2] = 4;
    w.image[2] = 8;
    w.pad[1] = -1; /* never from pooling, refused all the same */
    assert_false(ember_f32_pool2d_applies(&w));
}

/* The mean of blocked planes: 17 planes (one whole block of 16 and one
 * lane of the next) laid out NCHW16c, by the portable build (L = 16 and 8)
 * and every path's L = 16 build: each lane the plain pool's bits. x3: the
 * test's planes3 planes, repeated and scaled to fill 17. */
static void check_blocked_mean(const float* x3, size_t planes3, size_t size) {
    const size_t planes = 17;
    float* x = malloc(sizeof(float) * planes * size);
    float* xb = malloc(sizeof(float) * 32 * size);
    float want[17], got[32 + GUARD];
    assert_true(x && xb);
    for (size_t i = 0; i < planes * size; i++) x[i] = x3[i % (planes3 * size)] * (float)(1 + i % 5);
    ember_f32_global_avgpool(planes, size, x, want);
    for (size_t L = 8; L <= 16; L += 8) {
        const size_t blocks = (planes + L - 1) / L;
        for (size_t b = 0; b < blocks; b++)
            for (size_t p = 0; p < size; p++)
                for (size_t l = 0; l < L; l++)
                    xb[(b * size + p) * L + l] = b * L + l < planes ? x[(b * L + l) * size + p] : 0.0f;
        for (int path = 0; path < 2; path++) {
            const ember_kernels* kern = path ? ember_kernels_for("avx512") : NULL;
            if (path && (!kern || !kern->f32_global_avgpool_c16 || L != 16)) continue;
            kt_set_guard(got, 32 + GUARD);
            if (path) kern->f32_global_avgpool_c16(blocks, size, xb, got);
            else ember_f32_global_avgpool_blocked(blocks, size, L, xb, got);
            g_cases++;
            for (size_t c = 0; c < planes; c++)
                if (!same_bits_or_both_nan(got[c], want[c]))
                    fail_msg("blocked mean (%s, L %zu) size %zu channel %zu: %.9g, the plain pool "
                             "%.9g", path ? "avx512" : "portable", L, size, c, got[c], want[c]);
            assert_true(kt_guard_ok(got + blocks * L, GUARD));
        }
    }
    free(x);
    free(xb);
}

static void test_global_pools(void** state) {
    (void)state;
    static const size_t sizes[] = {1, 2, 15, 16, 17, 31, 33, 49, 100, 255, 300, 12544};
    for (size_t si = 0; si < sizeof sizes / sizeof sizes[0]; si++) {
        const size_t size = sizes[si], planes = 3;
        float* x = malloc(sizeof(float) * planes * size);
        float want[3], got[3 + GUARD];
        for (int special = 0; special < 2; special++) {
            fill(x, planes * size, special);
            ember_f32_global_maxpool_ref(planes, size, x, want);
            kt_set_guard(got, 3 + GUARD);
            ember_f32_global_maxpool(planes, size, x, got);
            for (size_t p = 0; p < planes; p++)
                if (!same_bits_or_both_nan(got[p], want[p]))
                    fail_msg("global max size %zu plane %zu: %g, want %g", size, p, got[p], want[p]);
            assert_true(kt_guard_ok(got + 3, GUARD));
            ember_f32_global_avgpool_ref(planes, size, x, want);
            kt_set_guard(got, 3 + GUARD);
            ember_f32_global_avgpool(planes, size, x, got);
            for (size_t p = 0; p < planes; p++) {
                double mabs = 0;
                for (size_t i = 0; i < size; i++) mabs += fabs(x[p * size + i]);
                mabs /= (double)size;
                const double tol = (double)size * 0x1p-24 * mabs + 1e-30;
                if (isnan(want[p]) || isinf(want[p]))
                    assert_true(same_bits_or_both_nan(got[p], want[p]) || (isnan(got[p]) && isnan(want[p])));
                else if (fabs((double)got[p] - (double)want[p]) > tol)
                    fail_msg("global mean size %zu plane %zu: %.9g, want %.9g", size, p, got[p], want[p]);
            }
            assert_true(kt_guard_ok(got + 3, GUARD));
            check_blocked_mean(x, planes, size);
        }
        free(x);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pool2d_applies),
        cmocka_unit_test(test_pool2d_sweep),
        cmocka_unit_test(test_global_pools),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
