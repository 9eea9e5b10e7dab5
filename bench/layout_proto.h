/* Prototype kernels for bench/layout_bench.c (issue 4: which activation layout).
 * Not part of the library: measured against ember's NCHW kernels, never called
 * by the runtime. Built with -mavx512f -mfma (layout_proto_avx512.c); the
 * caller checks ember_kernels_default()->isa is "avx512" before calling them.
 *
 * Layouts, for an activation of C channels and HW = H x W pixels:
 *   NCHW     x[c][p]                 (ember today)
 *   NHWC     x[p][c]
 *   NCHW16c  x[c / 16][p][c % 16]    (C padded to a multiple of 16 with zeros) */
#ifndef EMBER_BENCH_LAYOUT_PROTO_H
#define EMBER_BENCH_LAYOUT_PROTO_H

#include <stddef.h>

/* dst[j * ds + i] = src[i * ss + j] for i < rows, j < cols: 16 x 16 register
 * transposes, scalar edges. */
void lp_transpose(size_t rows, size_t cols, const float* src, size_t ss, float* dst, size_t ds);

void lp_nchw_to_nhwc(size_t c, size_t hw, const float* x, float* y);
void lp_nhwc_to_nchw(size_t c, size_t hw, const float* x, float* y);
/* y holds ceil(c / 16) * 16 * hw floats; padded channels are written as 0. */
void lp_nchw_to_nchw16c(size_t c, size_t hw, const float* x, float* y);
void lp_nchw16c_to_nchw(size_t c, size_t hw, const float* x, float* y);

/* Depthwise 3x3, pad 1, stride s (1 or 2), c a multiple of 16, one kernel for
 * both channel-minor layouts: element (cb, row, col, lane) of x is at
 * x[cb * xc + row * xh + col * xw + lane] (NHWC: xc = 16, xh = iw * c, xw = c;
 * NCHW16c: xc = ih * iw * 16, xh = iw * 16, xw = 16), the same for y.
 * w16: [c / 16][9][16] (tap-major per block), bias: [c]. 16 channels a vector,
 * padding by bounds on the taps; cb_outer picks the loop order (1: channel block
 * outermost, for NCHW16c; 0: output row outermost, then channel block, for NHWC). */
void lp_dw3x3(size_t c, size_t ih, size_t iw, size_t oh, size_t ow, size_t s, const float* x,
              size_t xc, size_t xh, size_t xw, const float* w16, const float* bias, float* y,
              size_t yc, size_t yh, size_t yw, int cb_outer);

/* Pointwise (1x1) convolution in NCHW16c, direct (nothing packed at run time):
 * y[mb][p][16] = sum_k w16[mb][k][16] * x[k / 16][p][k % 16], kp = K padded to 16,
 * mp = M padded to 16; register tile 12 pixels x 32 output channels. */
void lp_pw_nchw16c(size_t mp, size_t kp, size_t hw, const float* x, const float* w16, float* y);

/* The same direct kernel in NCHW, to tell the layout's gain from the packing
 * ember's GEMM does: y[m][p] = sum_k w12[m / 12][k][m % 12] * x[k][p] (w12: M
 * padded to 12, zeros), register tile 12 output channels x 32 pixels, x read
 * in place (vectors along the pixels, the last one masked). */
void lp_pw_nchw_direct(size_t m, size_t k, size_t hw, const float* x, const float* w12, float* y);

#endif
