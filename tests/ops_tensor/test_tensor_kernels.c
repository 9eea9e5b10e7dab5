/* The generic data-movement kernels directly: ember_copy_nd_ref with random
 * ranks 0..8, permuted, reversed (negative) and broadcast (zero) source
 * strides and padded destination strides, for element sizes 1, 2, 4, 8 and 3,
 * against a naive loop; guard bytes around the destination must stay intact. */
#include "tensor_util.h"

#include "generic/tensor_ref.h"

#define GUARD 32

static uint32_t rng = 4242;
static uint32_t next(void) {
    rng ^= rng << 13;
    rng ^= rng >> 17;
    rng ^= rng << 5;
    return rng;
}

static void copy_case(int rank, size_t es) {
    int64_t dims[8], src_str[8], dst_str[8], src_base = 0;
    /* source: a contiguous array of src_dims read through a permutation of its
     * strides, some dims reversed, some broadcast */
    int perm[8];
    for (int d = 0; d < rank; d++) {
        dims[d] = 1 + next() % 4;
        perm[d] = d;
    }
    for (int d = rank - 1; d > 0; d--) {
        int j = (int)(next() % (uint32_t)(d + 1)), t = perm[d];
        perm[d] = perm[j];
        perm[j] = t;
    }
    int64_t src_dims[8] = {0}, cstr[8] = {0};
    bool bcast[8];
    for (int d = 0; d < rank; d++) {
        bcast[d] = next() % 5 == 0;
        src_dims[perm[d]] = bcast[d] ? 1 : dims[d];
    }
    ember_contiguous_strides(src_dims, rank, cstr);
    for (int d = 0; d < rank; d++) {
        src_str[d] = bcast[d] ? 0 : cstr[perm[d]];
        if (!bcast[d] && next() % 3 == 0) { /* reversed */
            src_base += (dims[d] - 1) * src_str[d];
            src_str[d] = -src_str[d];
        }
    }
    /* destination: row-major with a padded pitch on some dims */
    int64_t s = 1;
    for (int d = rank - 1; d >= 0; d--) {
        dst_str[d] = s;
        s *= dims[d] + (next() % 4 == 0 ? 2 : 0);
    }
    size_t src_n = 1, dst_n = (size_t)s;
    for (int d = 0; d < rank; d++) src_n *= (size_t)src_dims[d];
    unsigned char* src = tu_make(EMBER_DTYPE_U8, src_n * es, (uint32_t)rank);
    unsigned char* got = malloc(dst_n * es + 2 * GUARD);
    unsigned char* want = malloc(dst_n * es);
    memset(got, 0xA5, dst_n * es + 2 * GUARD);
    memset(want, 0xA5, dst_n * es);
    em_shape box = {.rank = rank};
    for (int d = 0; d < rank; d++) box.dims[d] = dims[d];
    size_t n = em_shape_count(&box);
    int64_t idx[8];
    for (size_t f = 0; f < n; f++) {
        tu_unravel(f, &box, idx);
        int64_t so = src_base, dof = 0;
        for (int d = 0; d < rank; d++) {
            so += idx[d] * src_str[d];
            dof += idx[d] * dst_str[d];
        }
        memcpy(want + dof * (int64_t)es, src + so * (int64_t)es, es);
    }
    ember_copy_nd_ref(got + GUARD, dst_str, src + src_base * (int64_t)es, src_str, dims, rank, es);
    for (size_t k = 0; k < GUARD; k++)
        if (got[k] != 0xA5 || got[GUARD + dst_n * es + k] != 0xA5)
            fail_msg("rank %d, element size %zu: wrote outside the destination", rank, es);
    if (memcmp(got + GUARD, want, dst_n * es) != 0)
        fail_msg("rank %d, element size %zu: wrong copy", rank, es);
    free(src);
    free(got);
    free(want);
}

static void test_copy_nd(void** state) {
    (void)state;
    const size_t sizes[] = {1, 2, 4, 8, 3};
    for (int rank = 0; rank <= 8; rank++)
        for (size_t e = 0; e < sizeof sizes / sizeof sizes[0]; e++)
            for (int rep = 0; rep < 40; rep++) copy_case(rank, sizes[e]);
}

static void test_zero_dim_copies_nothing(void** state) {
    (void)state;
    const int64_t dims[3] = {2, 0, 3}, str[3] = {3, 3, 1};
    unsigned char src[8] = {1, 2, 3, 4, 5, 6, 7, 8}, dst[8] = {0};
    ember_copy_nd_ref(dst, str, src, str, dims, 3, 1);
    for (int i = 0; i < 8; i++) assert_int_equal(dst[i], 0);
}

static void test_pad_rank0_and_crop(void** state) {
    (void)state;
    const int32_t x = 42, v = -1;
    int32_t y = 0;
    ember_pad_ref(&y, &x, 4, 0, NULL, NULL, NULL, EMBER_PAD_CONSTANT, &v);
    assert_int_equal(y, 42);
    /* crop both ends of [6] to [2] */
    const uint8_t in[6] = {0, 1, 2, 3, 4, 5};
    uint8_t out[2] = {0};
    const int64_t in_dims[1] = {6}, out_dims[1] = {2}, pb[1] = {-3};
    ember_pad_ref(out, in, 1, 1, in_dims, out_dims, pb, EMBER_PAD_REFLECT, NULL);
    assert_int_equal(out[0], 3);
    assert_int_equal(out[1], 4);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_copy_nd),
        cmocka_unit_test(test_zero_dim_copies_nothing),
        cmocka_unit_test(test_pad_rank0_and_crop),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
