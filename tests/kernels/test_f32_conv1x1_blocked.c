/* The blocked 1x1 convolution (f32_conv1x1_blocked.h) on every path that has
 * one, bit for bit against its reference twin and against the NCHW path it
 * stands in for (the table's GEMM with the weights packed for it and the same
 * output pass, then converted to the blocked layout), and the reference
 * against a double-precision sum. Sweeps output channels 1-70 (one block,
 * partial panels, several panels), input channels 1-600 (partial input
 * blocks; K split in blocks as the GEMM splits it, and forced splits),
 * positions 1-49 (tails of the 12-position tile), every epilogue (a fused
 * residual Add's included: the GEMM's output plus the residual), and
 * partial position and panel ranges; guard values around the output catch
 * writes outside the ranges asked for. The band entry (a range of positions
 * into a buffer of its own) against its twin and the whole-image call. A path without the kernel is skipped
 * with a message. */
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
#include "f32_conv1x1_blocked.h"
#include "f32_gemm.h"

#define GUARD 64
static uint32_t g_rng = 777;
static float frand(void) { return kt_frand(&g_rng); }
static size_t g_cases;

/* epilogue e: 0 none, 1 bias, 2 relu, 3 clip(0, 6) + bias, 4 sigmoid, 5 hardswish, 6 silu,
 * 7 bias + a residual (ep.resid, a fused Add), 8 gelu */
#define N_EPILOGUES 9
static ember_f32_gemm_extra extra_of(int e, const float* bias) {
    ember_f32_gemm_extra ex = {0};
    if (e == 0) return ex;
    ex.row_bias = bias;
    if (e == 2) ex.clamp = 1, ex.zero_plus = 1, ex.lo = 0.0f, ex.hi = INFINITY;
    if (e == 3) ex.clamp = 1, ex.lo = 0.0f, ex.hi = 6.0f;
    if (e == 4) ex.act = EMBER_GEMM_ACT_SIGMOID;
    if (e == 5) ex.act = EMBER_GEMM_ACT_HARD_SWISH;
    if (e == 6) ex.act = EMBER_GEMM_ACT_SILU;
    if (e == 8) ex.act = EMBER_GEMM_ACT_GELU;
    return ex;
}

static void check(const ember_kernels* kern, size_t m, size_t k, size_t n, size_t kc_force, int e,
                  int partial) {
    const size_t L = kern->f32_dwconv.block;
    const size_t kb = (k + L - 1) / L, mb = (m + L - 1) / L, panels = (m + 2 * L - 1) / (2 * L);
    const size_t nx = kb * n * L, ny = mb * n * L;
    float* w = malloc(sizeof(float) * m * k);
    float* bias = malloc(sizeof(float) * m);
    float* xc = malloc(sizeof(float) * k * n); /* NCHW */
    float* xb = malloc(sizeof(float) * nx);
    float* wp = aligned_alloc(64, (ember_f32_conv1x1_blocked_packed_size(L, m, k) + 63) / 64 * 64);
    float* y = malloc(sizeof(float) * (ny + 2 * GUARD));
    float* want = malloc(sizeof(float) * (ny + 2 * GUARD));
    float* res = malloc(sizeof(float) * ny); /* the residual, padded lanes too */
    assert_true(w && bias && xc && xb && wp && y && want && res);
    for (size_t i = 0; i < ny; i++) res[i] = frand() * 4.0f;
    for (size_t i = 0; i < m * k; i++) w[i] = frand();
    for (size_t i = 0; i < m; i++) bias[i] = frand();
    for (size_t i = 0; i < k * n; i++) xc[i] = frand() * 2.0f;
    for (size_t p = 0; p < kb * L; p++) /* padded input lanes: a finite value the kernel must not read */
        for (size_t j = 0; j < n; j++)
            xb[(p / L) * n * L + j * L + p % L] = p < k ? xc[p * n + j] : 1e30f;
    ember_f32_conv1x1_blocked_pack(L, m, k, w, wp);
    const ember_f32_gemm_extra ex = extra_of(e, bias);
    ember_f32_gemm_epilogue ep = ember_f32_gemm_epilogue_of(&ex, 0, 0);
    if (e == 7) ep.resid = res;
    const size_t kc = kc_force ? kc_force : ember_f32_gemm_kc(&kern->f32_gemm, k);
    size_t j0 = 0, j1 = n, q0 = 0, q1 = panels;
    if (partial) j0 = n / 3, j1 = n - n / 4, q0 = panels / 2;
    kt_set_guard(y, ny + 2 * GUARD);
    kt_set_guard(want, ny + 2 * GUARD);
    kern->f32_conv1x1_blocked(m, k, n, kc, xb, wp, y + GUARD, e ? &ep : NULL, j0, j1, q0, q1);
    ember_f32_conv1x1_blocked_ref(kern, L, m, k, n, kc, xb, wp, want + GUARD, e ? &ep : NULL, j0,
                                  j1, q0, q1);
    g_cases++;
    if (memcmp(y, want, sizeof(float) * (ny + 2 * GUARD)) != 0) {
        size_t i = 0;
        while (!memcmp(y + i, want + i, 4)) i++;
        fail_msg("%s m %zu k %zu n %zu kc %zu ep %d partial %d: float %zu (of %zu with guards) "
                 "differs: %.9g vs reference %.9g", kern->isa, m, k, n, kc, e, partial, i,
                 ny + 2 * GUARD, y[i], want[i]);
    }
    if (partial && e != 7 && kern->f32_conv1x1_blocked_band) {
        /* the band entry: positions [j0, j1) into a buffer of their own (its
         * blocks j1 - j0 positions apart), the same values as above */
        const size_t cnt = j1 - j0, nb = mb * cnt * L;
        float* yb = malloc(sizeof(float) * (nb + 2 * GUARD));
        float* wb = malloc(sizeof(float) * (nb + 2 * GUARD));
        assert_true(yb && wb);
        kt_set_guard(yb, nb + 2 * GUARD);
        kt_set_guard(wb, nb + 2 * GUARD);
        kern->f32_conv1x1_blocked_band(m, k, n, kc, xb + j0 * L, wp, yb + GUARD, cnt,
                                       e ? &ep : NULL, cnt, q0, q1);
        ember_f32_conv1x1_blocked_band_ref(kern, L, m, k, n, kc, xb + j0 * L, wp, wb + GUARD, cnt,
                                           e ? &ep : NULL, cnt, q0, q1);
        if (memcmp(yb, wb, sizeof(float) * (nb + 2 * GUARD)) != 0)
            fail_msg("%s band m %zu k %zu n %zu: differs from its reference", kern->isa, m, k, n);
        for (size_t b = 2 * q0; b < mb && b < 2 * q1; b++)
            for (size_t j = 0; j < cnt; j++)
                if (memcmp(yb + GUARD + (b * cnt + j) * L, y + GUARD + (b * n + j0 + j) * L,
                           sizeof(float) * L) != 0)
                    fail_msg("%s band m %zu k %zu n %zu: block %zu position %zu differs from "
                             "the whole image's", kern->isa, m, k, n, b, j0 + j);
        g_cases++;
        free(yb);
        free(wb);
    }
    if (!partial && !kc_force) {
        /* the NCHW path: the table's GEMM on the weights packed for it */
        float* ap = aligned_alloc(64, (ember_f32_gemm_packed_a_size(kern, m, k) + 63) / 64 * 64);
        float* yc = malloc(sizeof(float) * m * n);
        void* ws = malloc(ember_f32_gemm_workspace_size(kern, m, n, k) + 64);
        assert_true(ap && yc && ws);
        ember_f32_gemm_pack_a_full(kern, m, k, 1.0f, w, k, 1, ap);
        ember_f32_gemm_ex(kern, m, n, k, w, k, 1, ap, xc, n, 1, 0.0f, yc, n, e ? &ex : NULL, ws);
        for (size_t i = 0; i < m; i++)
            for (size_t j = 0; j < n; j++) {
                const size_t at = (i / L) * n * L + j * L + i % L;
                /* with a residual: the GEMM's output, then the Add's float addition */
                const float a = y[GUARD + at], b = e == 7 ? yc[i * n + j] + res[at] : yc[i * n + j];
                if (memcmp(&a, &b, 4) != 0)
                    fail_msg("%s m %zu k %zu n %zu ep %d: channel %zu position %zu is %.9g, the "
                             "NCHW GEMM gives %.9g", kern->isa, m, k, n, e, i, j, a, b);
            }
        for (size_t i = m; i < mb * L; i++)
            for (size_t j = 0; j < n; j++)
                if (y[GUARD + (i / L) * n * L + j * L + i % L] != 0.0f)
                    fail_msg("%s m %zu k %zu n %zu: padded channel %zu is not 0", kern->isa, m, k, n, i);
        if (e == 1) /* the reference's sums against double precision */
            for (size_t i = 0; i < m; i++)
                for (size_t j = 0; j < n; j++) {
                    double s = bias[i], mag = fabs(bias[i]);
                    for (size_t p = 0; p < k; p++) {
                        s += (double)w[i * k + p] * xc[p * n + j];
                        mag += fabs((double)w[i * k + p] * xc[p * n + j]);
                    }
                    const double got = want[GUARD + (i / L) * n * L + j * L + i % L];
                    if (fabs(got - s) > 1e-6 * (double)k * mag + 1e-30)
                        fail_msg("reference m %zu k %zu n %zu: %.9g vs %.9g", m, k, n, got, s);
                }
        free(ap);
        free(yc);
        free(ws);
    }
    free(w);
    free(bias);
    free(xc);
    free(xb);
    free(wp);
    free(y);
    free(want);
    free(res);
}

static void run(const char* isa) {
    const ember_kernels* kern = ember_kernels_for(isa);
    if (!kern || !kern->f32_conv1x1_blocked) {
        print_message("[  SKIP    ] f32 blocked 1x1 conv, path '%s': %s\n", isa,
                      kern ? "the path has no blocked layout" : "this CPU or build cannot run it");
        skip();
        return;
    }
    g_cases = 0;
    static const size_t ms[] = {1, 5, 16, 17, 24, 32, 33, 48, 70};
    static const size_t ks[] = {1, 3, 16, 17, 40, 600};
    static const size_t ns[] = {1, 5, 12, 13, 25, 49};
    for (size_t a = 0; a < sizeof ms / sizeof *ms; a++)
        for (size_t b = 0; b < sizeof ks / sizeof *ks; b++)
            for (size_t c = 0; c < sizeof ns / sizeof *ns; c++)
                for (int e = 0; e < N_EPILOGUES; e++) {
                    check(kern, ms[a], ks[b], ns[c], 0, e, 0);
                    if (e == 3 || e == 7) {
                        check(kern, ms[a], ks[b], ns[c], 0, e, 1);
                        check(kern, ms[a], ks[b], ns[c], 7, e, 0);
                    }
                }
    print_message("[          ] f32 blocked 1x1 conv, path '%s': %zu cases\n", isa, g_cases);
}

KT_PATH_TESTS(run)

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_generic), cmocka_unit_test(test_avx2),
        cmocka_unit_test(test_avx512), cmocka_unit_test(test_neon)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
