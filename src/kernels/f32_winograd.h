/* F32 Winograd F(4x4, 3x3) tile transforms (Lavin & Gray), the kernels the
 * tables of dispatch.h pick among (see ember_f32_wino_input_fn / _output_fn),
 * and the weight transform. With the interpolation points 0, +-1, +-2, inf:
 *
 *   B^T = [ 4  0 -5  0  1  0 ]   G = [  1/4     0     0  ]   A^T = [ 1 1  1 1  1 0 ]
 *         [ 0 -4 -4  1  1  0 ]       [ -1/6  -1/6  -1/6  ]         [ 0 1 -1 2 -2 0 ]
 *         [ 0  4 -4 -1  1  0 ]       [ -1/6   1/6  -1/6  ]         [ 0 1  1 4  4 0 ]
 *         [ 0 -2 -1  2  1  0 ]       [  1/24  1/12  1/6  ]         [ 0 1 -1 8 -8 1 ]
 *         [ 0  2 -1 -2  1  0 ]       [  1/24 -1/12  1/6  ]
 *         [ 0  4  0 -5  0  1 ]       [  0      0     1   ]
 *
 * A 6x6 input tile d gives V = B^T d B, a 3x3 filter g gives U = G g G^T, and
 * the 4x4 output tile is Y = A^T (U .* V) A; summed over input channels, the
 * elementwise products become 36 matrix products. Element p = 6 * row + col of
 * a 6x6 transformed tile is "tile position" p.
 *
 * The kernels process up to EMBER_WINO_TILES tiles of one channel a call (a
 * run of one tile row, or short tile rows stacked), vectorised across the tiles (the body is
 * f32_winograd_tmpl.h, compiled once per ISA with its flags). */
#ifndef EMBER_KERNELS_F32_WINOGRAD_H
#define EMBER_KERNELS_F32_WINOGRAD_H

#include <stddef.h>

#include "dispatch.h"

#define EMBER_WINO_TILES 16

/* U = G g G^T for n 3x3 filters (filter q row-major at g + 9 q): element
 * p < 36 of filter q to u[p * ldu + q]. In double precision, rounded once. */
void ember_f32_wino43_filter(size_t n, const float* g, float* u, size_t ldu);

/* ---- kernels (see ember_f32_wino_input_fn / ember_f32_wino_output_fn) ---- */
#define EMBER_WINO_DECLARE_(isa)                                                                   \
    void ember_f32_wino43_input__##isa(const float* x, size_t ih, size_t iw, ptrdiff_t y0,         \
                                       ptrdiff_t x0, size_t ntx, size_t rowlen, float* v,          \
                                       size_t vs);                                                 \
    void ember_f32_wino43_output__##isa(const float* m, size_t ms, size_t ntx, size_t rowlen,      \
                                        float bias, const ember_f32_gemm_epilogue* ep, float* y,   \
                                        size_t oh, size_t ow, size_t y0, size_t x0);
EMBER_WINO_DECLARE_(scalar)
#if defined(__x86_64__)
EMBER_WINO_DECLARE_(avx2)
EMBER_WINO_DECLARE_(avx512)
#endif

#endif
