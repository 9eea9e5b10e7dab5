/* What the kernel tests share: a seeded generator of floats in [-1, 1), window
 * output sizes and windows, and guard values (a NaN no kernel computes) written after an output to catch a
 * kernel writing past it. Header-only: each test seeds its own generator. */
#ifndef EMBER_TESTS_KERNEL_TEST_H
#define EMBER_TESTS_KERNEL_TEST_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "dispatch.h"
#include "generic/nn_ref.h"

static const uint32_t KT_GUARD_BITS = 0x7fa5a5a5u;

/* Next value in [-1, 1) of the linear congruential generator in *state. */
static inline float kt_frand(uint32_t* state) {
    *state = *state * 1664525u + 1013904223u;
    return (float)((*state >> 8) & 0xFFFF) / 32768.0f - 1.0f;
}

static inline void kt_set_guard(float* p, size_t n) {
    for (size_t i = 0; i < n; i++) memcpy(p + i, &KT_GUARD_BITS, 4);
}

/* 1 when the n floats at p still hold the guard value. */
static inline int kt_guard_ok(const float* p, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (memcmp(p + i, &KT_GUARD_BITS, 4) != 0) return 0;
    return 1;
}

/* Output size of a window of k taps, dilation d, stride s over in positions
 * padded by p0 and p1 (0: no output). */
static inline size_t kt_out_dim(size_t in, size_t k, size_t s, size_t d, size_t p0, size_t p1) {
    const size_t ek = (k - 1) * d + 1;
    if (in + p0 + p1 < ek) return 0;
    return (in + p0 + p1 - ek) / s + 1;
}

/* The window of image in, kernel k, stride s and dilation d (both 1 on a unit
 * axis: image and kernel 1), pads pb before and pe after, per axis (three);
 * 0 when an axis would have no output. */
static inline int kt_window(ember_window* w, const size_t* in, const size_t* k, size_t s, size_t d,
                            const size_t* pb, const size_t* pe) {
    memset(w, 0, sizeof *w);
    for (int a = 0; a < 3; a++) {
        const int unit = in[a] == 1 && k[a] == 1;
        w->image[a] = in[a];
        w->kernel[a] = k[a];
        w->stride[a] = unit ? 1 : s;
        w->dilation[a] = unit ? 1 : d;
        w->pad[a] = (ptrdiff_t)pb[a];
        w->pad_end[a] = (ptrdiff_t)pe[a];
        w->out[a] = kt_out_dim(in[a], k[a], w->stride[a], w->dilation[a], pb[a], pe[a]);
        if (w->out[a] == 0) return 0;
    }
    return 1;
}

/* The kernel table of path isa, or the test skipped, saying that this CPU or
 * build cannot run the path (what: the kernels tested, for the message). */
static inline const ember_kernels* kt_kernels_or_skip(const char* isa, const char* what) {
    const ember_kernels* kern = ember_kernels_for(isa);
    if (!kern) {
        print_message("[  SKIP    ] %s '%s': this CPU or build cannot run it\n", what, isa);
        skip();
    }
    return kern;
}

/* The cmocka tests test_generic, test_avx2, test_avx512 and test_neon, each
 * calling run(name) for its dispatch path (run skips a path this CPU cannot
 * run, saying so). */
#define KT_PATH_TESTS(run)                       \
    static void test_generic(void** state) {     \
        (void)state;                             \
        run("generic");                          \
    }                                            \
    static void test_avx2(void** state) {        \
        (void)state;                             \
        run("avx2");                             \
    }                                            \
    static void test_avx512(void** state) {      \
        (void)state;                             \
        run("avx512");                           \
    }                                            \
    static void test_neon(void** state) {        \
        (void)state;                             \
        run("neon");                             \
    }

#endif
