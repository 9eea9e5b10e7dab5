/* Row-wise f32 kernels: softmax, log-softmax and layer normalization, with
 * their declarations per ISA and the initializers of their dispatch entries.
 *
 * Semantics are those of the references (generic/nn_ref.h), which are also the
 * portable (generic) path: the max is taken ignoring NaN (a NaN anywhere in a
 * softmax row still makes the row NaN), a row of only -inf gives NaN, +inf in a
 * row gives NaN. The vector paths compute exp with the shared vector exp
 * (x86/f32_vexp_tmpl.h), sum in double and divide once; layer normalization
 * takes mean and variance in double (one pass, shifted by the row's first value)
 * and normalizes in float.
 * tests/kernels/test_f32_rowwise.c states and checks the error bounds. */
#ifndef EMBER_KERNELS_F32_ROWWISE_H
#define EMBER_KERNELS_F32_ROWWISE_H

#include <stddef.h>

#include "dispatch.h"

#define EMBER_F32_ROWWISE_DECL_(isa)                                                         \
    void ember_f32_softmax__##isa(size_t outer, size_t n, size_t inner, const float* x,      \
                                  float* y);                                                 \
    void ember_f32_log_softmax__##isa(size_t outer, size_t n, size_t inner, const float* x,  \
                                      float* y);                                             \
    void ember_f32_layernorm__##isa(size_t rows, size_t cols, const float* x,                \
                                    const float* scale, const float* bias, float eps,        \
                                    float* y, float* mean, float* inv_std_dev);

EMBER_F32_ROWWISE_DECL_(scalar)
#if defined(__x86_64__)
EMBER_F32_ROWWISE_DECL_(avx2)
EMBER_F32_ROWWISE_DECL_(avx512)
#endif
#if defined(__aarch64__)
EMBER_F32_ROWWISE_DECL_(neon)
#endif

/* The initializers of ember_kernels.f32_softmax and .f32_layernorm. */
#define EMBER_F32_SOFTMAX_TABLE(isa) \
    {.softmax = ember_f32_softmax__##isa, .log_softmax = ember_f32_log_softmax__##isa}
#define EMBER_F32_LAYERNORM_FN(isa) ember_f32_layernorm__##isa

#endif
