/* F32 1x1 convolution on channel-blocked activations (NCHWc: blocks of L
 * channels, each block n positions x L floats), the layout the planner gives
 * the tensors between mobile-CNN layers (plan.c, "Activation layout" in
 * docs/PERFORMANCE.md): the weights packed once into panels of 2L output
 * channels, and the reference twin of the table's kernel
 * (ember_f32_conv1x1_blocked_fn in dispatch.h, which states the contract). */
#ifndef EMBER_KERNELS_F32_CONV1X1_BLOCKED_H
#define EMBER_KERNELS_F32_CONV1X1_BLOCKED_H

#include <stddef.h>
#include <stdint.h>

#include "dispatch.h"

/* Bytes of W (m x k) packed for blocks of L channels: ceil(m / 2L) panels of
 * k x 2L floats. */
size_t ember_f32_conv1x1_blocked_packed_size(size_t L, size_t m, size_t k);
/* Packs W[i][p] = w[i * k + p] into dst: dst[q * k * 2L + p * 2L + c] =
 * W[q * 2L + c][p], 0 for output channels past m. */
void ember_f32_conv1x1_blocked_pack(size_t L, size_t m, size_t k, const float* w, float* dst);

/* The portable twin of kern's f32_conv1x1_blocked (blocks of L <= 64 channels): the
 * same values by the same operations in the same order (fmaf chains), the
 * activation by kern's elementwise kernel (the formula the epilogue applies
 * in registers). */
void ember_f32_conv1x1_blocked_ref(const ember_kernels* kern, size_t L, size_t m, size_t k,
                                   size_t n, size_t kc, const float* x, const float* w, float* y,
                                   const ember_f32_gemm_epilogue* ep, size_t j0, size_t j1,
                                   size_t q0, size_t q1);

/* The portable twin of kern's f32_conv1x1_blocked_band. */
void ember_f32_conv1x1_blocked_band_ref(const ember_kernels* kern, size_t L, size_t m, size_t k,
                                        size_t n, size_t kc, const float* x, const float* w,
                                        float* y, size_t ny, const ember_f32_gemm_epilogue* ep,
                                        size_t count, size_t q0, size_t q1);

/* The portable twin of kern's f32_conv_rows_blocked (ember_f32_conv_rows_blocked_fn). */
void ember_f32_conv_rows_blocked_ref(const ember_kernels* kern, size_t L, size_t m, size_t k,
                                     const float* x, const int32_t* boff, size_t count, size_t ny,
                                     const float* w, float* y, const ember_f32_gemm_epilogue* ep);

#if defined(__x86_64__)
void ember_f32_conv_rows_blocked__avx512(size_t m, size_t k, const float* x, const int32_t* boff,
                                         size_t count, size_t ny, const float* w, float* y,
                                         const ember_f32_gemm_epilogue* ep);
void ember_f32_conv1x1_blocked__avx512(size_t m, size_t k, size_t n, size_t kc, const float* x,
                                       const float* w, float* y,
                                       const ember_f32_gemm_epilogue* ep, size_t j0, size_t j1,
                                       size_t q0, size_t q1);
void ember_f32_conv1x1_blocked_band__avx512(size_t m, size_t k, size_t n, size_t kc,
                                            const float* x, const float* w, float* y, size_t ny,
                                            const ember_f32_gemm_epilogue* ep, size_t count,
                                            size_t q0, size_t q1);
#endif

#endif
