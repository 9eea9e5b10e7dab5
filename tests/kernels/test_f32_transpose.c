/* The 2-D f32 transpose (f32_transpose.h) on every path, bit for bit against
 * its element-by-element reference: rows and columns 1-40 (below, at and past
 * the 8 and 16 tiles, primes), 128 x 64 (attention's keys), leading
 * dimensions wider than the matrix on both sides, and guard values in the
 * gaps and after the end that a write outside the matrix would overwrite.
 * Then ember_copy_nd with the table's kernel against ember_copy_nd_ref on a
 * batched transpose whose slices start off the 16-float grid. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "kernel_test.h"

#include "dispatch.h"
#include "f32_transpose.h"
#include "generic/tensor_ref.h"

static int check_shape(const ember_kernels* kern, size_t rows, size_t cols, size_t xpad,
                       size_t ypad, uint32_t* seed) {
    const size_t ldx = cols + xpad, ldy = rows + ypad;
    const size_t xn = rows * ldx, yn = cols * ldy + 16;
    float* x = malloc(xn * sizeof(float));
    float* want = malloc(yn * sizeof(float));
    float* got = malloc(yn * sizeof(float));
    assert_non_null(x);
    assert_non_null(want);
    assert_non_null(got);
    for (size_t i = 0; i < xn; i++) x[i] = kt_frand(seed);
    kt_set_guard(want, yn);
    kt_set_guard(got, yn);
    ember_f32_transpose2d_ref(rows, cols, x, ldx, want, ldy);
    kern->f32_transpose2d(rows, cols, x, ldx, got, ldy);
    const int same = memcmp(want, got, yn * sizeof(float)) == 0; /* guards included */
    if (!same)
        print_message("path %s: %zu x %zu (ldx %zu, ldy %zu) differs from the reference\n",
                      kern->isa, rows, cols, ldx, ldy);
    free(x);
    free(want);
    free(got);
    return same;
}

static void run(const char* isa) {
    const ember_kernels* kern = kt_kernels_or_skip(isa, "transpose path");
    uint32_t seed = 12345u;
    int bad = 0;
    for (size_t r = 1; r <= 40; r++)
        for (size_t c = 1; c <= 40; c++) bad += !check_shape(kern, r, c, 0, 0, &seed);
    static const size_t big[][4] = {{128, 64, 0, 0}, {64, 128, 0, 0}, {17, 33, 3, 5},
                                    {48, 31, 16, 1}, {7, 100, 0, 9}, {129, 65, 1, 0}};
    for (size_t i = 0; i < sizeof big / sizeof big[0]; i++)
        bad += !check_shape(kern, big[i][0], big[i][1], big[i][2], big[i][3], &seed);
    assert_int_equal(bad, 0);

    /* [3, 37, 21] -> [3, 21, 37] (perm 0 2 1) through ember_transpose, slices
     * 777 floats apart, against the reference copy */
    const int64_t dims[3] = {3, 37, 21};
    const int32_t perm[3] = {0, 2, 1};
    const size_t n = 3 * 37 * 21;
    float* x = malloc(n * sizeof(float));
    float* want = malloc((n + 8) * sizeof(float));
    float* got = malloc((n + 8) * sizeof(float));
    assert_non_null(x);
    assert_non_null(want);
    assert_non_null(got);
    for (size_t i = 0; i < n; i++) x[i] = kt_frand(&seed);
    kt_set_guard(want, n + 8);
    kt_set_guard(got, n + 8);
    ember_transpose_ref(want, x, dims, perm, 3, sizeof(float));
    assert_true(ember_transpose(got, x, dims, perm, 3, sizeof(float), kern->f32_transpose2d));
    assert_memory_equal(want, got, (n + 8) * sizeof(float));
    free(x);
    free(want);
    free(got);
}

KT_PATH_TESTS(run)

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_generic), cmocka_unit_test(test_avx2),
        cmocka_unit_test(test_avx512), cmocka_unit_test(test_neon)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
