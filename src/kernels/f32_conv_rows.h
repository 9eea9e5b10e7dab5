/* Direct convolution for few input channels (stem convolutions: 3 channels,
 * 3x3 / 7x7, stride 2): the implicit GEMM of the im2col matrix, but with B
 * read in place instead of packed. The image is first copied once, padded and
 * split by column phase (column j of phase f holds image column
 * j * stride + f - pad, 0 outside), so that for every kernel tap the output
 * pixels of one row read one contiguous run of that copy: step p of B for the
 * pixels ox .. ox + nr - 1 of output row oy is at rows + boff[p] + oy * stride_h
 * * q + ox. The table's ukernel_rows then computes each tile as the packed
 * micro-kernel would (the same A panels, the same FMA chain on the same
 * values), so the output equals the implicit GEMM's bit for bit, without the
 * per-run im2col copy of kh * kw floats a pixel a channel.
 *
 * Two-dimensional windows only (depth 1), a weight matrix of at most one K
 * block (channels * kh * kw <= the table's kc) packed as
 * ember_f32_gemm_pack_a_full, and output rows of at least nr / 2 pixels. */
#ifndef EMBER_KERNELS_F32_CONV_ROWS_H
#define EMBER_KERNELS_F32_CONV_ROWS_H

#include <stdbool.h>
#include <stddef.h>

#include "dispatch.h"
#include "f32_gemm.h"
#include "generic/nn_ref.h"

/* Whether kern's path runs this convolution directly (channels: of one group). */
bool ember_f32_conv_rows_applies(const ember_kernels* kern, size_t channels, const ember_window* w);

/* Bytes of scratch one image and group needs (the offsets and the padded copy). */
size_t ember_f32_conv_rows_scratch(size_t channels, const ember_window* w);

/* Writes the step offsets into scratch (once per convolution, any thread). */
void ember_f32_conv_rows_offsets(size_t channels, const ember_window* w, void* scratch);

/* Rows of the padded copy: the copy has rows_total(w) rows a channel and a
 * phase; this fills rows [r0, r1) of every channel and phase from the image x
 * (channels x ih x iw). Disjoint ranges may be filled on different threads. */
size_t ember_f32_conv_rows_total(const ember_window* w);
void ember_f32_conv_rows_fill(size_t channels, const ember_window* w, const float* x, void* scratch,
                              size_t r0, size_t r1);

/* Output rows [oy0, oy1) of all m output channels: y (m x oh x ow) from the
 * packed weights ap (ember_f32_gemm_pack_a_full of the m x channels * kh * kw
 * matrix) and the filled scratch; ex as ember_f32_gemm_ex's (NULL: none, the
 * bias row i0 of each tile, the clamp, the activation, finish). */
void ember_f32_conv_rows_run(const ember_kernels* kern, size_t channels, size_t m,
                             const ember_window* w, const float* ap, const void* scratch,
                             const ember_f32_gemm_extra* ex, float* y, size_t oy0, size_t oy1);
/* The same rows into another buffer: output row oy of channel i at
 * y + i * y_plane + (oy - oy0) * ow (a band of rows, conv_maxpool.c). */
void ember_f32_conv_rows_run_into(const ember_kernels* kern, size_t channels, size_t m,
                                  const ember_window* w, const float* ap, const void* scratch,
                                  const ember_f32_gemm_extra* ex, float* y, size_t y_plane,
                                  size_t oy0, size_t oy1);

/* The same convolution into the channel-blocked layout (blocks of L =
 * kern's f32_dwconv.block, oh * ow positions a block) with kern's
 * f32_conv_rows_blocked, for the planner's blocked regions: whether it
 * applies (the padded copy's limits, one K block; any output width), and
 * output rows [oy0, oy1) from the filled scratch and the weights wp packed
 * by ember_f32_conv1x1_blocked_pack (m x channels * kh * kw), ep as the
 * GEMM epilogue (NULL: none). The plain direct convolution's bits. */
bool ember_f32_conv_rows_blocked_applies(const ember_kernels* kern, size_t channels,
                                         const ember_window* w);
void ember_f32_conv_rows_run_blocked(const ember_kernels* kern, size_t channels, size_t m,
                                     const ember_window* w, const float* wp, const void* scratch,
                                     const ember_f32_gemm_epilogue* ep, float* y, size_t oy0,
                                     size_t oy1);
/* The same rows into another buffer: row oy0's first position of block 0 at
 * y, blocks ny positions apart (a band of rows, conv_maxpool.c). */
void ember_f32_conv_rows_run_blocked_into(const ember_kernels* kern, size_t channels, size_t m,
                                          const ember_window* w, const float* wp,
                                          const void* scratch, const ember_f32_gemm_epilogue* ep,
                                          float* y, size_t ny, size_t oy0, size_t oy1);

#endif
