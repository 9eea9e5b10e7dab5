/* CRC-32: every path this build has (portable slice-by-8, PCLMULQDQ, VPCLMULQDQ,
 * ARMv8 CRC32) against the portable one, at every length 0..300 and on large
 * random buffers, at every alignment 0..15, in one call and in pieces; the
 * check value of "123456789"; and each path's speed (printed, not checked). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "../src/runtime/crc32.h"

#define MAX_PATHS 4

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static uint32_t rng(void) {
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (uint32_t)(rng_state >> 16);
}

static unsigned char* random_buffer(size_t n) {
    unsigned char* b = malloc(n ? n : 1);
    assert_non_null(b);
    for (size_t i = 0; i < n; i++) b[i] = (unsigned char)rng();
    return b;
}

typedef struct paths {
    size_t n;
    const char* names[MAX_PATHS];
    em_crc32_fn fns[MAX_PATHS];
    bool ok[MAX_PATHS];
} paths;

static paths get_paths(void) {
    paths p;
    p.n = em_crc32_paths(p.names, p.fns, p.ok, MAX_PATHS);
    assert_true(p.n >= 1);
    assert_string_equal(p.names[0], "portable");
    return p;
}

static void test_check_value(void **state) {
    (void)state;
    const char* s = "123456789";
    assert_int_equal(em_crc32(s, 9), 0xCBF43926u);
    assert_int_equal(em_crc32(s, 0), 0u);
    paths p = get_paths();
    for (size_t i = 0; i < p.n; i++) {
        if (!p.ok[i]) {
            printf("  %-10s skipped: this CPU does not have it\n", p.names[i]);
            continue;
        }
        assert_int_equal(p.fns[i](0, s, 9), 0xCBF43926u);
        assert_int_equal(p.fns[i](p.fns[i](0, s, 4), s + 4, 5), 0xCBF43926u);
        printf("  %-10s runs here\n", p.names[i]);
    }
}

/* Every path over [buf + align, + len) for len in lens, align 0..15, with two
 * starting CRCs, and split in two pieces at a random point. */
static void check_lengths(const size_t* lens, size_t n_lens) {
    paths p = get_paths();
    size_t max = 0;
    for (size_t i = 0; i < n_lens; i++) max = lens[i] > max ? lens[i] : max;
    unsigned char* buf = random_buffer(max + 16);
    for (size_t li = 0; li < n_lens; li++) {
        const size_t len = lens[li];
        for (size_t align = 0; align < 16; align++) {
            const unsigned char* d = buf + align;
            const uint32_t seeds[2] = {0, rng()};
            for (int s = 0; s < 2; s++) {
                const uint32_t want = em_crc32_portable(seeds[s], d, len);
                for (size_t i = 1; i < p.n; i++) {
                    if (!p.ok[i]) continue;
                    const uint32_t got = p.fns[i](seeds[s], d, len);
                    if (got != want)
                        fail_msg("%s: length %zu, alignment %zu, seed 0x%08x: 0x%08x, portable 0x%08x",
                                 p.names[i], len, align, seeds[s], got, want);
                    const size_t cut = len ? rng() % (len + 1) : 0;
                    const uint32_t split = p.fns[i](p.fns[i](seeds[s], d, cut), d + cut, len - cut);
                    if (split != want)
                        fail_msg("%s: length %zu split at %zu, alignment %zu: 0x%08x, want 0x%08x",
                                 p.names[i], len, cut, align, split, want);
                }
            }
        }
        if (len == 0 || len == 64 || len == 300 || len > 300) {
            /* the dispatched entry points agree too */
            assert_int_equal(em_crc32(buf, len), em_crc32_portable(0, buf, len));
            assert_int_equal(em_crc32_update(7, buf, len), em_crc32_portable(7, buf, len));
        }
    }
    free(buf);
}

static void test_every_length_to_300(void **state) {
    (void)state;
    size_t lens[301];
    for (size_t i = 0; i <= 300; i++) lens[i] = i;
    check_lengths(lens, 301);
}

static void test_large_random(void **state) {
    (void)state;
    size_t lens[8] = {4096, 65536 + 255, (1u << 20) + 17, 3000001};
    for (int i = 4; i < 8; i++) lens[i] = 1000 + rng() % 200000;
    check_lengths(lens, 8);
}

/* A single bit flipped anywhere changes every path's result. */
static void test_detects_flips(void **state) {
    (void)state;
    paths p = get_paths();
    unsigned char* buf = random_buffer(1000);
    for (size_t i = 0; i < p.n; i++) {
        if (!p.ok[i]) continue;
        const uint32_t base = p.fns[i](0, buf, 1000);
        for (size_t k = 0; k < 1000 * 8; k += 61) {
            buf[k / 8] ^= (unsigned char)(1u << (k % 8));
            assert_int_not_equal(p.fns[i](0, buf, 1000), base);
            buf[k / 8] ^= (unsigned char)(1u << (k % 8));
        }
    }
    free(buf);
}

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* GB/s of each path, best of 5, on a buffer in L2 (256 KiB) and one in memory
 * (64 MiB). Printed only: speed is not a pass condition. */
static void test_speed(void **state) {
    (void)state;
    paths p = get_paths();
    const size_t sizes[2] = {256u << 10, 64u << 20};
    unsigned char* buf = random_buffer(sizes[1]);
    for (size_t i = 0; i < p.n; i++) {
        if (!p.ok[i]) continue;
        for (int s = 0; s < 2; s++) {
            const size_t reps = sizes[1] / sizes[s] > 64 ? 64 : sizes[1] / sizes[s];
            double best = 1e30;
            volatile uint32_t sink = 0;
            for (int r = 0; r < 5; r++) {
                const double t0 = now_s();
                for (size_t k = 0; k < reps; k++) sink ^= p.fns[i](0, buf, sizes[s]);
                const double t = (now_s() - t0) / (double)reps;
                best = t < best ? t : best;
            }
            (void)sink;
            printf("  %-10s %6zu KiB: %6.2f GB/s\n", p.names[i], sizes[s] >> 10,
                   (double)sizes[s] / best * 1e-9);
        }
    }
    free(buf);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_check_value),
        cmocka_unit_test(test_every_length_to_300),
        cmocka_unit_test(test_large_random),
        cmocka_unit_test(test_detects_flips),
        cmocka_unit_test(test_speed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
