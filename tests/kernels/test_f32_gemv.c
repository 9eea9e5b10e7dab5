/* The matrix-vector kernels (dispatch.h: f32_gemv_n, f32_gemv_t) on every path
 * this CPU supports, against a double-precision reference: N and K from 1
 * through tails, primes and large sizes, padded rows, beta 0 / 1 / other, guard
 * bytes after y. Then the pre-packed GEMM entry points (f32_gemm.h:
 * ember_f32_gemm_pack_a_full / _b_full and ember_f32_gemm_prepacked_a / _b):
 * against the reference, bit-identical to ember_f32_gemm where both take the
 * blocked path, and nothing written past the packed buffer, C or workspace. */
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
#include "f32_gemm.h"
#include "generic/nn_ref.h"

#define GUARD 64
static uint32_t g_rng = 777;
static float frand(void) { return kt_frand(&g_rng); }

static int g_failures;
static size_t g_cases;

/* trans == 0: gemv_n, y[j] = sum_p x[p] * M[p][j] with M k x n, row stride ld.
 * trans == 1: gemv_t, y[i] = sum_p M[i][p] * x[p] with M n x k, row stride ld. */
static void check_gemv(const ember_kernels* kern, int trans, size_t n, size_t k, size_t pad,
                       float beta) {
    const size_t rows = trans ? n : k, cols = trans ? k : n, ld = cols + pad;
    float* mat = malloc(sizeof(float) * (rows * ld + 1));
    float* x = malloc(sizeof(float) * (k + 1));
    float* y0 = malloc(sizeof(float) * (n + 1));
    float* y = malloc(sizeof(float) * (n + GUARD));
    assert_true(mat && x && y0 && y);
    for (size_t i = 0; i < rows * ld; i++) mat[i] = frand();
    for (size_t p = 0; p < k; p++) x[p] = frand();
    for (size_t j = 0; j < n; j++) y0[j] = beta == 0.0f ? NAN : frand();
    memcpy(y, y0, sizeof(float) * n);
    kt_set_guard(y + n, GUARD);
    if (trans)
        kern->f32_gemv_t(n, k, mat, ld, x, beta, y);
    else
        kern->f32_gemv_n(n, k, x, mat, ld, beta, y);
    g_cases++;
    int bad = !kt_guard_ok(y + n, GUARD);
    if (bad) print_error("%s gemv_%c n=%zu k=%zu: write past y\n", kern->isa, trans ? 't' : 'n', n, k);
    for (size_t j = 0; j < n && !bad; j++) {
        double s = 0.0, sa = 0.0;
        for (size_t p = 0; p < k; p++) {
            const double v = (double)x[p] * (double)(trans ? mat[j * ld + p] : mat[p * ld + j]);
            s += v;
            sa += fabs(v);
        }
        if (beta != 0.0f) {
            s += (double)beta * (double)y0[j];
            sa += fabs((double)beta * (double)y0[j]);
        }
        const double tol = (double)(k + 2) * FLT_EPSILON * sa + 1e-30;
        if (!(fabs((double)y[j] - s) <= tol)) {
            print_error("%s gemv_%c n=%zu k=%zu pad=%zu beta=%g: y[%zu] = %.9g, expected %.9g\n",
                        kern->isa, trans ? 't' : 'n', n, k, pad, (double)beta, j, (double)y[j], s);
            bad = 1;
        }
    }
    g_failures += bad;
    free(mat);
    free(x);
    free(y0);
    free(y);
}

static void gemv_path(const char* isa) {
    const ember_kernels* kern = kt_kernels_or_skip(isa, "gemv path");
    static const size_t ns[] = {1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 23, 31, 32, 33, 47, 48,
                                63, 64, 65, 97, 127, 128, 129, 257, 1000};
    static const size_t ks[] = {0, 1, 2, 3, 5, 7, 13, 16, 17, 31, 32, 33, 100, 257, 1031};
    static const float betas[] = {0.0f, 1.0f, -0.75f};
    g_failures = 0;
    g_cases = 0;
    size_t v = 0;
    for (int trans = 0; trans < 2; trans++)
        for (size_t in = 0; in < sizeof ns / sizeof ns[0]; in++)
            for (size_t ik = 0; ik < sizeof ks / sizeof ks[0]; ik++, v++)
                check_gemv(kern, trans, ns[in], ks[ik], v % 3 == 0 ? 0 : v % 5, betas[v % 3]);
    check_gemv(kern, 0, 4096, 784, 0, 1.0f); /* large: an MLP layer, and a tall one */
    check_gemv(kern, 1, 4096, 784, 3, 0.0f);
    check_gemv(kern, 1, 3, 20000, 0, 1.0f);
    print_message("[          ] gemv path '%s': %zu cases\n", isa, g_cases);
    assert_int_equal(g_failures, 0);
}

/* ---- pre-packed GEMM ---- */

typedef struct pcase {
    size_t m, n, k;
    int ta, tb;
    float alpha, beta;
} pcase;

static void check_prepacked(const ember_kernels* kern, const pcase* t, int which /* 0: B, 1: A */) {
    const size_t m = t->m, n = t->n, k = t->k;
    const size_t lda = t->ta ? m : k, ldb = t->tb ? k : n;
    float* a = malloc(sizeof(float) * (m * k + 1));
    float* b = malloc(sizeof(float) * (k * n + 1));
    float* c0 = malloc(sizeof(float) * (m * n + 1));
    float* c = malloc(sizeof(float) * (m * n + GUARD));
    float* c_plain = malloc(sizeof(float) * (m * n + 1));
    float* want = malloc(sizeof(float) * (m * n + 1));
    const size_t pk_bytes = which ? ember_f32_gemm_packed_a_size(kern, m, k)
                                  : ember_f32_gemm_packed_b_size(kern, n, k);
    const size_t pk_floats = pk_bytes / 4;
    float* pk = NULL;
    assert_int_equal(posix_memalign((void**)&pk, 64, sizeof(float) * (pk_floats + GUARD)), 0);
    const size_t ws_floats = (ember_f32_gemm_workspace_size(kern, m, n, k) + 3) / 4;
    float* ws = malloc(sizeof(float) * (ws_floats + GUARD));
    float* ws2 = malloc(sizeof(float) * (ws_floats + 1));
    assert_true(a && b && c0 && c && c_plain && want && ws && ws2);
    for (size_t i = 0; i < m * k; i++) a[i] = frand();
    for (size_t i = 0; i < k * n; i++) b[i] = frand();
    for (size_t i = 0; i < m * n; i++) c0[i] = t->beta == 0.0f ? NAN : frand();
    memcpy(c, c0, sizeof(float) * m * n);
    memcpy(c_plain, c0, sizeof(float) * m * n);
    memcpy(want, c0, sizeof(float) * m * n);
    kt_set_guard(c + m * n, GUARD);
    kt_set_guard(pk, pk_floats + GUARD);
    kt_set_guard(ws, ws_floats + GUARD);
    const size_t a_rs = t->ta ? 1 : lda, a_cs = t->ta ? lda : 1;
    const size_t b_rs = t->tb ? 1 : ldb, b_cs = t->tb ? ldb : 1;
    ember_f32_gemm_ref(m, n, k, t->alpha, a, a_rs, a_cs, b, b_rs, b_cs, t->beta, want, n);
    ember_f32_gemm(kern, m, n, k, t->alpha, a, a_rs, a_cs, b, b_rs, b_cs, t->beta, c_plain, n, ws2);
    if (which) {
        ember_f32_gemm_pack_a_full(kern, m, k, t->alpha, a, a_rs, a_cs, pk);
        ember_f32_gemm_prepacked_a(kern, m, n, k, pk, b, b_rs, b_cs, t->beta, c, n, ws);
    } else {
        ember_f32_gemm_pack_b_full(kern, n, k, b, b_rs, b_cs, pk);
        ember_f32_gemm_prepacked_b(kern, m, n, k, t->alpha, a, a_rs, a_cs, pk, t->beta, c, n, ws);
    }
    g_cases++;
    int bad = !kt_guard_ok(c + m * n, GUARD) || !kt_guard_ok(pk + pk_floats, GUARD) ||
              !kt_guard_ok(ws + ws_floats, GUARD);
    if (bad)
        print_error("%s prepacked %c m=%zu n=%zu k=%zu: write past C, the packed buffer or workspace\n",
                    kern->isa, which ? 'A' : 'B', m, n, k);
    /* Both take the blocked path (same panels, same order): bit-identical. */
    const int same_path = m > 1 && n > 1;
    for (size_t i = 0; i < m * n && !bad; i++) {
        if (same_path && memcmp(&c[i], &c_plain[i], 4) != 0) {
            print_error("%s prepacked %c m=%zu n=%zu k=%zu: C[%zu] = %.9g, unpacked %.9g\n", kern->isa,
                        which ? 'A' : 'B', m, n, k, i, (double)c[i], (double)c_plain[i]);
            bad = 1;
            break;
        }
        const size_t r = i / n, col = i % n;
        double s = 0.0;
        for (size_t p = 0; p < k; p++)
            s += fabs((double)a[r * a_rs + p * a_cs] * (double)b[p * b_rs + col * b_cs]);
        s *= fabs((double)t->alpha);
        if (t->beta != 0.0f) s += fabs((double)t->beta * (double)c0[i]);
        const double tol = 2.0 * (double)(k + 2) * FLT_EPSILON * s + 1e-30;
        if (!(fabs((double)c[i] - (double)want[i]) <= tol)) {
            print_error("%s prepacked %c m=%zu n=%zu k=%zu ta=%d tb=%d: C[%zu] = %.9g, reference %.9g\n",
                        kern->isa, which ? 'A' : 'B', m, n, k, t->ta, t->tb, i, (double)c[i],
                        (double)want[i]);
            bad = 1;
        }
    }
    g_failures += bad;
    free(a);
    free(b);
    free(c0);
    free(c);
    free(c_plain);
    free(want);
    free(pk);
    free(ws);
    free(ws2);
}

static const float ALPHA_BETA[][2] = {{1.0f, 0.0f}, {1.0f, 1.0f}, {0.5f, -1.5f}, {-2.0f, 0.25f}};

static void prepacked_sweep(const ember_kernels* kern) {
    static const size_t dims[][3] = {
        {1, 1, 1},    {1, 10, 256}, {1, 512, 784}, {1, 33, 1100}, {2, 3, 5},     {7, 1, 9},
        {64, 1, 257}, {13, 17, 31}, {12, 32, 512}, {97, 128, 257}, {150, 70, 600}, {5, 2100, 17},
        {300, 31, 1030}, {3, 1, 1}};
    size_t v = 0;
    for (size_t i = 0; i < sizeof dims / sizeof dims[0]; i++)
        for (int tr = 0; tr < 4; tr++, v++)
            for (int which = 0; which < 2; which++) {
                const pcase t = {.m = dims[i][0], .n = dims[i][1], .k = dims[i][2], .ta = tr & 1,
                                 .tb = tr >> 1, .alpha = ALPHA_BETA[v % 4][0],
                                 .beta = ALPHA_BETA[v % 4][1]};
                check_prepacked(kern, &t, which);
            }
}

static void prepacked_path(const char* isa) {
    const ember_kernels* kern = kt_kernels_or_skip(isa, "prepacked path");
    g_failures = 0;
    g_cases = 0;
    prepacked_sweep(kern);
    /* Tiny cache blocks: many K, M and N blocks through the packed layout. */
    ember_kernels tiny = *kern;
    tiny.f32_gemm.kc = 3;
    tiny.f32_gemm.mc = 2 * tiny.f32_gemm.mr;
    tiny.f32_gemm.nc = 2 * tiny.f32_gemm.nr;
    prepacked_sweep(&tiny);
    print_message("[          ] prepacked path '%s': %zu cases\n", isa, g_cases);
    assert_int_equal(g_failures, 0);
}

#define PATH_TESTS(name)                                                     \
    static void test_gemv_##name(void** state) {                            \
        (void)state;                                                         \
        gemv_path(#name);                                                    \
    }                                                                        \
    static void test_prepacked_##name(void** state) {                       \
        (void)state;                                                         \
        prepacked_path(#name);                                               \
    }
PATH_TESTS(generic)
PATH_TESTS(avx2)
PATH_TESTS(avx512)
PATH_TESTS(neon)

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gemv_generic),      cmocka_unit_test(test_gemv_avx2),
        cmocka_unit_test(test_gemv_avx512),       cmocka_unit_test(test_gemv_neon),
        cmocka_unit_test(test_prepacked_generic), cmocka_unit_test(test_prepacked_avx2),
        cmocka_unit_test(test_prepacked_avx512),  cmocka_unit_test(test_prepacked_neon),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
