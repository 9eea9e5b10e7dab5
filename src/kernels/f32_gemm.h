/* Blocked, packed F32 GEMM driver and the micro-kernels and packing routines
 * it runs on (the tables of dispatch.h pick among them). */
#ifndef EMBER_KERNELS_F32_GEMM_H
#define EMBER_KERNELS_F32_GEMM_H

#include <stddef.h>

#include "dispatch.h"

/* Bytes of workspace ember_f32_gemm needs for these sizes with kernels kern
 * (0 when no packing is needed). The workspace need not be aligned. */
size_t ember_f32_gemm_workspace_size(const ember_kernels* kern, size_t m, size_t n, size_t k);

/* C[i][j] = alpha * sum_p A[i][p] * B[p][j] + beta * C[i][j]   (i < m, j < n, p < k)
 * with the conventions of ember_f32_gemm_ref: A[i][p] = a[i * a_rs + p * a_cs],
 * B[p][j] = b[p * b_rs + j * b_cs], C[i][j] = c[i * ldc + j]; with beta == 0, C is
 * not read. workspace holds ember_f32_gemm_workspace_size(kern, m, n, k) bytes.
 * Never allocates. */
void ember_f32_gemm(const ember_kernels* kern, size_t m, size_t n, size_t k, float alpha,
                    const float* a, size_t a_rs, size_t a_cs, const float* b, size_t b_rs,
                    size_t b_cs, float beta, float* c, size_t ldc, void* workspace);

/* ---- micro-kernels (see ember_f32_gemm_ukernel_fn) ---- */
void ember_f32_gemm_ukernel_4x4__scalar(size_t m, size_t n, size_t kc, const float* a,
                                        const float* b, float beta, float* c, size_t ldc);
#if defined(__x86_64__)
void ember_f32_gemm_ukernel_6x16__avx2(size_t m, size_t n, size_t kc, const float* a,
                                       const float* b, float beta, float* c, size_t ldc);
void ember_f32_gemm_ukernel_12x32__avx512(size_t m, size_t n, size_t kc, const float* a,
                                          const float* b, float beta, float* c, size_t ldc);
#endif

/* ---- packing (see ember_f32_pack_a_fn / ember_f32_pack_b_fn) ---- */
void ember_f32_gemm_pack_a__scalar(size_t mr, size_t m, size_t kc, float alpha, const float* a,
                                   size_t rs, size_t cs, float* dst);
void ember_f32_gemm_pack_b__scalar(size_t nr, size_t n, size_t kc, const float* b, size_t rs,
                                   size_t cs, float* dst);

#endif
