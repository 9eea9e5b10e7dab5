/* Implicit im2col: the B operand of a convolution's GEMM packed straight from
 * the image, one cache block at a time, so that the im2col matrix is never
 * written out (ember_f32_gemm_extra.pack_b). Portable C, built once plainly
 * and once with AVX2 flags (the tables' f32_im2col_pack_b); tested against
 * ember_f32_im2col_ref followed by the table's pack_b on every path. */
#ifndef EMBER_KERNELS_F32_IM2COL_PACK_H
#define EMBER_KERNELS_F32_IM2COL_PACK_H

#include <stddef.h>

#include "generic/nn_ref.h"

/* The im2col matrix of ember_f32_im2col_ref for `channels` planes of x
 * (channels * kernel volume rows, out volume columns): packs its rows
 * [p0, p0 + kc) and columns [j0, j0 + n) into ceil(n / nr) panels of kc x nr
 * floats at dst (dst[q * kc * nr + p * nr + j]), columns past n zero; nr <= 64.
 * The window's pads must be >= 0 (Conv's always are). */
void ember_f32_im2col_pack_b(const ember_window* w, const float* x, size_t nr, size_t p0,
                             size_t kc, size_t j0, size_t n, float* dst);
#if defined(__x86_64__)
void ember_f32_im2col_pack_b__avx2(const ember_window* w, const float* x, size_t nr, size_t p0,
                                   size_t kc, size_t j0, size_t n, float* dst);
#endif

#endif
