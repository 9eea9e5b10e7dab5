/* 2-D f32 transpose: y[j * ldy + i] = x[i * ldx + j] for i < rows, j < cols
 * (x is rows x cols, y is cols x rows, neither overlapping the other). A copy,
 * so every path gives the reference's bits. The Transpose operator (and any
 * copy of ember_copy_nd that swaps the contiguous axis) runs it on each 2-D
 * slice; ember_f32_transpose2d_fn in dispatch.h. */
#ifndef EMBER_KERNELS_F32_TRANSPOSE_H
#define EMBER_KERNELS_F32_TRANSPOSE_H

#include <stddef.h>

/* The reference: element by element. */
void ember_f32_transpose2d_ref(size_t rows, size_t cols, const float* x, size_t ldx, float* y,
                               size_t ldy);
/* The portable path: 16 x 16 tiles, so that both sides use whole cache lines. */
void ember_f32_transpose2d__scalar(size_t rows, size_t cols, const float* x, size_t ldx, float* y,
                                   size_t ldy);
#if defined(__x86_64__)
/* 8 x 8 tiles transposed in registers; partial tiles as the portable path. */
void ember_f32_transpose2d__avx2(size_t rows, size_t cols, const float* x, size_t ldx, float* y,
                                 size_t ldy);
/* 16 x 16 tiles transposed in registers; partial tiles through masks. */
void ember_f32_transpose2d__avx512(size_t rows, size_t cols, const float* x, size_t ldx, float* y,
                                   size_t ldy);
#endif

#endif
