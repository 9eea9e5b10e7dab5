/* F32 pooling fast paths, planar (NCHW): 2-D max and average pooling done as
 * two separable passes, and the global pools as vector-friendly reductions.
 * Portable C written for the compiler's vectoriser; the references in
 * generic/nn_ref.h are their ground truth (tests/kernels/test_f32_pool.c).
 *
 * How the 2-D pools work: for each output row, the image rows its window
 * covers are first reduced into one padded row buffer (max or sum, contiguous,
 * so it vectorises), whose columns outside the image hold the pad value
 * (-inf for max, 0 for sum); then each output column reduces kw taps of that
 * buffer, with no bound test. The buffer lives on the stack, so these paths
 * take only rows up to EMBER_POOL2D_MAX_ROW floats (ember_f32_pool2d_applies). */
#ifndef EMBER_KERNELS_F32_POOL2D_H
#define EMBER_KERNELS_F32_POOL2D_H

#include <stdbool.h>
#include <stddef.h>

#include "generic/nn_ref.h"

#define EMBER_POOL2D_MAX_ROW 4096

/* True when the 2-D paths below take window w: the leading window axis is a
 * unit one (2-D or 1-D pooling) and the padded row fits the buffer. */
bool ember_f32_pool2d_applies(const ember_window* w);

/* Same results as ember_f32_maxpool_ref (NaN propagates, an all-padding
 * window gives -inf), for windows ember_f32_pool2d_applies takes. */
void ember_f32_maxpool2d(size_t planes, const ember_window* w, const float* x, float* y);

#if defined(__x86_64__)
/* The same on 8 lanes (x86/f32_maxpool2d_avx2.c): the same bits. */
void ember_f32_maxpool2d__avx2(size_t planes, const ember_window* w, const float* x, float* y);
/* The same on 16 lanes (x86/f32_maxpool2d_avx512.c): the same bits. */
void ember_f32_maxpool2d__avx512(size_t planes, const ember_window* w, const float* x, float* y);
/* One channel-blocked plane (x: image[1] x image[2] x 16, y: out[1] x out[2]
 * x 16): every lane the bits of ember_f32_maxpool2d on that channel. */
void ember_f32_maxpool2d_c16__avx512(const ember_window* w, const float* x, float* y);
#endif

/* GlobalAveragePool of channel-blocked planes (NCHWc): blocks blocks of size
 * positions x L lanes into L means each; every lane summed as
 * ember_f32_global_avgpool sums a plane (16 partial sums by position mod 16,
 * then halved pairwise, then / size): the same bits. The portable build for
 * any L <= 64, and the AVX-512 one for L = 16 (the table's
 * f32_global_avgpool_c16). */
void ember_f32_global_avgpool_blocked(size_t blocks, size_t size, size_t L, const float* x,
                                      float* y);
#if defined(__x86_64__)
void ember_f32_global_avgpool_c16__avx512(size_t blocks, size_t size, const float* x, float* y);
#endif

/* ember_f32_avgpool_ref's results, summed in another order (rows first, then
 * columns): equal within a few ulp of the window sum's magnitude. */
void ember_f32_avgpool2d(size_t planes, const ember_window* w, int count_include_pad,
                         const float* x, float* y);

/* ember_f32_global_avgpool_ref / _maxpool_ref: the mean is summed in f32 with
 * 16 partial sums (relative error about size * 2^-24 / 16 of the sum of |x|),
 * the max is exact. */
void ember_f32_global_avgpool(size_t planes, size_t size, const float* x, float* y);
void ember_f32_global_maxpool(size_t planes, size_t size, const float* x, float* y);

#endif
