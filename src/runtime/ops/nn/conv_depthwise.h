/* Depthwise Conv (group == input channels == output channels) through the
 * direct kernels of the dispatch table (f32_dwconv.h) instead of im2col + GEMM.
 * conv.c asks em_conv_depthwise_applies and, when it does, sizes scratch with
 * em_conv_depthwise_scratch and runs em_conv_depthwise_run. */
#ifndef EMBER_OPS_NN_CONV_DEPTHWISE_H
#define EMBER_OPS_NN_CONV_DEPTHWISE_H

#include <stdbool.h>
#include <stddef.h>

#include "dispatch.h"
#include "generic/nn_ref.h"

/* c input channels, m output channels, group, the window (2-D convolutions
 * have a leading unit dim). True for a 2-D depthwise convolution with channel
 * multiplier 1, dilation 1, kernel and stride up to 16, non-negative pads. */
bool em_conv_depthwise_applies(size_t c, size_t m, size_t group, const ember_window* w);

/* Scratch bytes em_conv_depthwise_run needs on a pool of `threads` threads
 * (one packed plane a thread). */
size_t em_conv_depthwise_scratch(const ember_kernels* kern, const ember_window* w, size_t threads);

struct em_pool;
struct em_activation;
/* n images of c channels: x (n x c x image), wt (c x 1 x kh x kw), bias (c or
 * NULL), y (n x c x out), channels shared out on pool's threads (NULL: the
 * caller's only; at most as many threads as the scratch was sized for); act
 * (NULL or none: no activation) applied to each channel as it is done. */
void em_conv_depthwise_run(struct em_pool* pool, const ember_kernels* kern, size_t n, size_t c,
                           const ember_window* w, const float* x, const float* wt,
                           const float* bias, float* y, const struct em_activation* act,
                           void* scratch);
/* The same with output channel k at y + k * y_plane (y_plane >= the output
 * plane: rows of a taller output, conv_pw_dw.c), and the kernel (planar or
 * channel-blocked) chosen as for window `choose` (the whole image a band of
 * rows belongs to: the same kernel, the same bits; w itself otherwise).
 * scratch: em_conv_depthwise_scratch of w. */
void em_conv_depthwise_run_into(struct em_pool* pool, const ember_kernels* kern, size_t n, size_t c,
                                const ember_window* w, const float* x, const float* wt,
                                const float* bias, float* y, size_t y_plane,
                                const ember_window* choose, const struct em_activation* act,
                                void* scratch);

#endif
