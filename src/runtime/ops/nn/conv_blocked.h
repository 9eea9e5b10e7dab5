/* Conv on channel-blocked activations (em_value.block; plan.c decides which
 * nodes run so): 1x1 convolutions through the table's blocked kernel
 * (f32_conv1x1_blocked.h) and depthwise ones through the blocked depthwise
 * kernel straight on the blocked tensors, no layout change inside the node.
 * The weights are packed for it once (conv.c's packed_bytes / pack). The
 * values are the plain path's bit for bit: the 1x1 kernel keeps the GEMM's
 * chains and output pass, the depthwise kernel the reference's sums. */
#ifndef EMBER_OPS_NN_CONV_BLOCKED_H
#define EMBER_OPS_NN_CONV_BLOCKED_H

#include <stdbool.h>
#include <stddef.h>

#include "dispatch.h"
#include "generic/nn_ref.h"
#include "internal.h"
#include "op.h"

struct em_pool;

/* Bytes of the packed weights of a blocked depthwise convolution of c
 * channels, kvol taps: [ceil(c / L)][kvol][L] weights, then with a bias
 * [ceil(c / L)][L]; lanes past c are 0. */
size_t em_conv_dw_blocked_packed_bytes(size_t L, size_t c, size_t kvol, bool bias);
void em_conv_dw_blocked_pack(size_t L, size_t c, size_t kvol, const float* wt, const float* bias,
                             float* dst);

/* n images of c blocked channels x (window w, 2-D, dilation 1) into y, the
 * weights packed as above (bias: whether they hold one); act applied to each
 * block of output as it is done. */
void em_conv_dw_blocked_run(struct em_pool* pool, const ember_kernels* kern, size_t n, size_t c,
                            const ember_window* w, const float* x, const float* packed, bool bias,
                            float* y, const em_activation* act);

/* One block of L channels of a blocked depthwise convolution over a band of
 * output rows, wb the band's window (nn_band_window): x the block's input
 * from the band's first image row, w and bias (NULL: none) the block's
 * packed weights and bias, y the block's output at the band's first row;
 * then act (NULL: none) on those rows. Any split into bands gives the bits
 * of one piece. */
void em_conv_dw_blocked_band(const ember_kernels* kern, const ember_window* wb, const float* x,
                             const float* w, const float* bias, float* y,
                             const em_activation* act);

/* n images: y (m blocked channels) = W (packed by ember_f32_conv1x1_blocked_pack)
 * x (c blocked channels), hw positions each, with the bias (NULL: none), then
 * + resid (NULL: none; laid out as y: a residual Add done in the output
 * pass, conv.c's em_conv_residual_run) and act as the plain path's output
 * pass applies them. */
void em_conv1x1_blocked_run(struct em_pool* pool, const ember_kernels* kern, size_t n, size_t c,
                            size_t m, size_t hw, const float* x, const float* packed,
                            const float* bias, const float* resid, float* y,
                            const em_activation* act);

/* conv.c: an Add on blocked tensors doing the work of its producer, a
 * blocked 1x1 Conv with no activation of its own, whose output the Add alone
 * reads: the other operand (a tensor of the output's shape and layout) is
 * added in the convolution's output pass, the Add's float addition on the
 * same values, so the same bits (mobilenet_v2's residual connections). The
 * scratch for binary.c's absorb_scratch (0: it does not apply), and the
 * Add node's run. */
size_t em_conv_residual_scratch(em_op_ctx* add, em_op_ctx* conv);
ember_status em_conv_residual_run(em_op_ctx* add);

#endif
