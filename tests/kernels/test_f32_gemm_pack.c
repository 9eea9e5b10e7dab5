/* The panel packing (ember_f32_gemm_pack_a__scalar / _b__scalar, and each
 * dispatch path's own pack_a: AVX-512's transposes in registers) against the
 * layout written out element by element:
 * panel after panel of mr (nr) rows, kc steps of mr (nr) floats, alpha * A,
 * zeros past the last row; exact (the same one multiplication per element).
 * Every mr / nr of the dispatch tables and more, m and kc around the blocking
 * (4 rows x 8 columns), rows-contiguous, columns-contiguous and strided
 * sources, a guard after the output; pack_b likewise (the portable function
 * and each path's own: the AVX2 and AVX-512 vector copies and transposes). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "f32_gemm.h"

#define GUARD 16

static float value(size_t i) { return (float)((i * 2654435761u) % 1000) / 37.0f - 13.0f; }

static void check_a(ember_f32_pack_a_fn pack_a, const char* isa, size_t mr, size_t m, size_t kc,
                    float alpha, int layout) {
    /* layout 0: rows contiguous (rs = kc + 3); 1: columns contiguous (A^T);
     * 2: both strided (rs = 3, cs = 3 * m + 1) */
    const size_t rs = layout == 0 ? kc + 3 : layout == 1 ? 1 : 3;
    const size_t cs = layout == 0 ? 1 : layout == 1 ? m + 2 : 3 * m + 1;
    const size_t src_n = (m ? m - 1 : 0) * rs + (kc ? kc - 1 : 0) * cs + 1;
    const size_t panels = (m + mr - 1) / mr, out_n = panels * kc * mr;
    float* a = malloc(src_n * sizeof *a);
    float* got = malloc((out_n + GUARD) * sizeof *got);
    float* want = malloc((out_n + 1) * sizeof *want);
    assert_true(a && got && want);
    for (size_t i = 0; i < src_n; i++) a[i] = value(i);
    for (size_t i = 0; i < out_n + GUARD; i++) got[i] = -777.0f;
    for (size_t pn = 0; pn < panels; pn++)
        for (size_t p = 0; p < kc; p++)
            for (size_t i = 0; i < mr; i++) {
                const size_t row = pn * mr + i;
                want[pn * kc * mr + p * mr + i] = row < m ? alpha * a[row * rs + p * cs] : 0.0f;
            }
    pack_a(mr, m, kc, alpha, a, rs, cs, got);
    if (memcmp(got, want, out_n * sizeof *got) != 0) {
        size_t at = 0;
        while (memcmp(&got[at], &want[at], sizeof *got) == 0) at++;
        fail_msg("%s pack_a mr %zu m %zu kc %zu layout %d: element %zu is %g, want %g", isa, mr, m,
                 kc, layout, at, (double)got[at], (double)want[at]);
    }
    for (size_t i = out_n; i < out_n + GUARD; i++)
        if (got[i] != -777.0f)
            fail_msg("%s pack_a mr %zu m %zu kc %zu: wrote past the end", isa, mr, m, kc);
    free(a);
    free(got);
    free(want);
}

static void check_b(ember_f32_pack_b_fn pack_b, const char* isa, size_t nr, size_t n, size_t kc,
                    int layout) {
    /* layout 0: rows contiguous (rs = n + 3); 1: columns contiguous (B^T);
     * 2: both strided */
    const size_t rs = layout == 0 ? n + 3 : layout == 1 ? 1 : 3;
    const size_t cs = layout == 0 ? 1 : layout == 1 ? kc + 2 : 3 * kc + 1;
    const size_t src_n = (kc ? kc - 1 : 0) * rs + (n ? n - 1 : 0) * cs + 1;
    const size_t panels = (n + nr - 1) / nr, out_n = panels * kc * nr;
    float* b = malloc(src_n * sizeof *b);
    float* got = malloc((out_n + GUARD) * sizeof *got);
    float* want = malloc((out_n + 1) * sizeof *want);
    assert_true(b && got && want);
    for (size_t i = 0; i < src_n; i++) b[i] = value(i + 5);
    for (size_t i = 0; i < out_n + GUARD; i++) got[i] = -777.0f;
    for (size_t pn = 0; pn < panels; pn++)
        for (size_t p = 0; p < kc; p++)
            for (size_t j = 0; j < nr; j++) {
                const size_t col = pn * nr + j;
                want[pn * kc * nr + p * nr + j] = col < n ? b[p * rs + col * cs] : 0.0f;
            }
    pack_b(nr, n, kc, b, rs, cs, got);
    if (memcmp(got, want, out_n * sizeof *got) != 0) {
        size_t at = 0;
        while (memcmp(&got[at], &want[at], sizeof *got) == 0) at++;
        fail_msg("%s pack_b nr %zu n %zu kc %zu layout %d: element %zu is %g, want %g", isa, nr, n,
                 kc, layout, at, (double)got[at], (double)want[at]);
    }
    for (size_t i = out_n; i < out_n + GUARD; i++)
        if (got[i] != -777.0f)
            fail_msg("%s pack_b nr %zu n %zu kc %zu: wrote past the end", isa, nr, n, kc);
    free(b);
    free(got);
    free(want);
}

static void test_pack_a(void **state) {
    (void)state;
    const size_t mrs[] = {1, 4, 6, 8, 12, 16, 20};
    const size_t ms[] = {1, 2, 3, 4, 5, 7, 8, 11, 12, 13, 17, 24, 25, 47};
    const size_t kcs[] = {1, 2, 3, 7, 8, 9, 15, 16, 17, 31, 64, 100};
    /* the portable function, then each path's own (the paths this CPU runs) */
    static const char* const isas[] = {"scalar", "generic", "avx2", "avx512", "neon"};
    for (size_t t = 0; t < sizeof isas / sizeof isas[0]; t++) {
        ember_f32_pack_a_fn pack_a = ember_f32_gemm_pack_a__scalar;
        if (t > 0) {
            const ember_kernels* kern = ember_kernels_for(isas[t]);
            if (!kern) continue;
            pack_a = kern->f32_gemm.pack_a;
        }
        for (size_t a = 0; a < sizeof mrs / sizeof mrs[0]; a++)
            for (size_t b = 0; b < sizeof ms / sizeof ms[0]; b++)
                for (size_t c = 0; c < sizeof kcs / sizeof kcs[0]; c++)
                    for (int layout = 0; layout < 3; layout++) {
                        check_a(pack_a, isas[t], mrs[a], ms[b], kcs[c], 1.0f, layout);
                        check_a(pack_a, isas[t], mrs[a], ms[b], kcs[c], -0.375f, layout);
                    }
        /* a weight matrix's panel at a session's creation, a transformer's activations */
        check_a(pack_a, isas[t], 12, 512, 512, 0.5f, 0);
        check_a(pack_a, isas[t], 12, 128, 1024, 1.0f, 0);
    }
}

/* ember_f32_gemm_pack_a_rows, one register tile of rows at a time, gives
 * ember_f32_gemm_pack_a_full's bytes, on every path (its mr and kc blocks). */
static void test_pack_a_rows(void **state) {
    (void)state;
    static const char* const isas[] = {"generic", "avx2", "avx512", "neon"};
    static const size_t shapes[][2] = {{1, 1}, {5, 3}, {12, 7}, {13, 600}, {40, 1030}, {100, 33}};
    for (size_t t = 0; t < 4; t++) {
        const ember_kernels* kern = ember_kernels_for(isas[t]);
        if (!kern) continue;
        const size_t mr = kern->f32_gemm.mr;
        for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
            const size_t m = shapes[s][0], k = shapes[s][1];
            const size_t bytes = ember_f32_gemm_packed_a_size(kern, m, k);
            float* a = malloc(m * k * sizeof *a);
            float* full = malloc(bytes);
            float* rows = malloc(bytes);
            for (size_t i = 0; i < m * k; i++) a[i] = (float)i * 0.25f - 3.0f;
            memset(full, 0x5a, bytes);
            memset(rows, 0x5a, bytes);
            ember_f32_gemm_pack_a_full(kern, m, k, 1.0f, a, k, 1, full);
            for (size_t i0 = 0; i0 < m; i0 += mr)
                ember_f32_gemm_pack_a_rows(kern, m, k, i0, m - i0 < mr ? m - i0 : mr, 1.0f,
                                           a + i0 * k, k, 1, rows);
            if (memcmp(full, rows, bytes) != 0)
                fail_msg("%s: pack_a_rows differs from pack_a_full for %zu x %zu", isas[t], m, k);
            free(a);
            free(full);
            free(rows);
        }
    }
}

static void test_pack_b(void **state) {
    (void)state;
    const size_t nrs[] = {4, 8, 12, 16, 20, 24, 32};
    const size_t ns[] = {1, 3, 4, 5, 16, 17, 31, 32, 33, 64, 70};
    const size_t kcs[] = {1, 2, 9, 16, 17, 33, 64};
    /* the portable function, then each path's own (the paths this CPU runs) */
    static const char* const isas[] = {"scalar", "generic", "avx2", "avx512", "neon"};
    for (size_t t = 0; t < sizeof isas / sizeof isas[0]; t++) {
        ember_f32_pack_b_fn pack_b = ember_f32_gemm_pack_b__scalar;
        if (t > 0) {
            const ember_kernels* kern = ember_kernels_for(isas[t]);
            if (!kern) continue;
            pack_b = kern->f32_gemm.pack_b;
        }
        for (size_t a = 0; a < sizeof nrs / sizeof nrs[0]; a++)
            for (size_t b = 0; b < sizeof ns / sizeof ns[0]; b++)
                for (size_t c = 0; c < sizeof kcs / sizeof kcs[0]; c++)
                    for (int layout = 0; layout < 3; layout++)
                        check_b(pack_b, isas[t], nrs[a], ns[b], kcs[c], layout);
        /* attention's keys (B^T) and values, a Winograd product's input */
        check_b(pack_b, isas[t], 32, 128, 64, 1);
        check_b(pack_b, isas[t], 32, 64, 128, 0);
        check_b(pack_b, isas[t], 32, 140, 16, 0);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pack_a),
        cmocka_unit_test(test_pack_a_rows),
        cmocka_unit_test(test_pack_b),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
