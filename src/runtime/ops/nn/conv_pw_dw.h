/* A 1x1 convolution (pw: stride 1, no padding, one group, packed weights)
 * whose output only a depthwise convolution (dw) reads (the expansion and the
 * depthwise layer of an inverted residual block), run by the dw node a band
 * of output rows at a time: for each band, the pw GEMM computes the expanded
 * rows the band's windows read into the thread's scratch, and the depthwise
 * kernel runs on them, writing the band's rows of y. The expanded tensor (the
 * block's largest, 4.8 MB for mobilenet_v2's second block) never leaves L2,
 * where unfused it is written to and read back from memory; taken for
 * expanded tensors of a few MB and more only (FUSE_MIN_BYTES, measured).
 * Each thread takes a run of bands; the expanded rows a band shares with the
 * one before are copied from the previous band's buffer (computed again only
 * where one thread's run starts). Each output value is the
 * same computation as unfused (the same GEMM FMA chains, the same depthwise
 * kernel arithmetic), so the outputs are the same. conv.c decides when it
 * applies (conv_absorb_scratch) and calls em_conv_pw_dw_run. */
#ifndef EMBER_OPS_NN_CONV_PW_DW_H
#define EMBER_OPS_NN_CONV_PW_DW_H

#include <stdbool.h>
#include <stddef.h>

#include "f32_gemm.h"
#include "generic/nn_ref.h"
#include "internal.h"

struct em_pool;

typedef struct em_pw_dw {
    size_t cin, c;       /* pw input channels; pw output channels = dw channels */
    ember_window dw;     /* the depthwise window; its image is the pw output (h x w) */
} em_pw_dw;

/* Scratch bytes for `threads` threads; 0 if the pair does not fit the bands
 * (an output row reading only padding rows). */
size_t em_conv_pw_dw_scratch(const ember_kernels* kern, const em_pw_dw* g, size_t threads);

/* x: the pw input (cin x h x w); pw_packed: its weights packed as
 * ember_f32_gemm_pack_a_full (c x cin); pw_bias (c floats or NULL) and
 * pw_act: its output pass; dw_w (c x kh x kw), dw_bias, dw_act: the
 * depthwise node's; y: c x oh x ow. */
void em_conv_pw_dw_run(struct em_pool* pool, const ember_kernels* kern, const em_pw_dw* g,
                       const float* x, const float* pw_packed, const float* pw_bias,
                       const em_activation* pw_act, const float* dw_w, const float* dw_bias,
                       const em_activation* dw_act, float* y, void* scratch);

/* The same pair on channel-blocked tensors (blocks of L = f32_dwconv.block
 * channels, both nodes blocked, the pw's input stored blocked): the pw's
 * bands by the table's blocked 1x1 band kernel into a blocked band buffer,
 * the depthwise kernel on it block by block. x, y blocked; pw_packed as
 * ember_f32_conv1x1_blocked_pack packs the pw weights, dw_packed as
 * em_conv_dw_blocked_pack (with the bias after the weights when dw_bias). The
 * same values as the two blocked nodes unfused. Measured on mobilenet_v2's
 * and efficientnet_b0's 96 x 112 x 112 blocks, 1 thread: the expansion and
 * the depthwise layer 620 -> 595 and 994 -> 967 us; on 1.8 MB tensors no
 * gain, so the same FUSE_MIN_BYTES. Scratch: 0 when the pair does not fit or
 * the tensor is under it. */
size_t em_conv_pw_dw_blocked_scratch(const ember_kernels* kern, const em_pw_dw* g,
                                     size_t threads);
void em_conv_pw_dw_blocked_run(struct em_pool* pool, const ember_kernels* kern, const em_pw_dw* g,
                               const float* x, const float* pw_packed, const float* pw_bias,
                               const em_activation* pw_act, const float* dw_packed, bool dw_bias,
                               const em_activation* dw_act, float* y, void* scratch);

#endif
