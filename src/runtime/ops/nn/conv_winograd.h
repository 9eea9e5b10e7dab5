/* 3x3 stride-1 Conv through Winograd F(4x4, 3x3) (f32_winograd.h) instead of
 * im2col + GEMM: 2.25x fewer multiplications, at the cost of transforms and of
 * a little accuracy (see em_conv_winograd_run).
 *
 * conv.c asks em_conv_winograd_applies; when it does, packed_bytes / pack
 * transform and pack the weights (em_conv_winograd_packed_bytes / _pack) and
 * run calls em_conv_winograd_run with them. Without packed weights (op tests)
 * conv.c runs im2col + GEMM instead, so infer sizes scratch for both. */
#ifndef EMBER_OPS_NN_CONV_WINOGRAD_H
#define EMBER_OPS_NN_CONV_WINOGRAD_H

#include <stdbool.h>
#include <stddef.h>

#include "dispatch.h"
#include "generic/nn_ref.h"

struct em_pool;

/* The geometry of one Winograd convolution: n images of c channels ih x iw,
 * m output channels oh x ow, pads top / left (bottom / right follow from oh, ow),
 * th x tw tiles of 4x4 outputs an image, tile rows a block (blk_rows), and the
 * most threads run will have (scratch holds a GEMM workspace for each). */
typedef struct em_wino_geom {
    size_t n, c, m, ih, iw, oh, ow, pad_top, pad_left;
    size_t th, tw, blk_rows, threads;
} em_wino_geom;

/* Can it run this convolution (2-D, 3x3, stride 1, dilation 1, group 1,
 * non-negative pads, sizes far from overflow)? */
bool em_conv_winograd_supported(size_t c, size_t m, size_t group, const ember_window* w);

/* Should it (supported, and measured faster than im2col + GEMM: the rule is in
 * conv_winograd.c)? */
bool em_conv_winograd_applies(size_t c, size_t m, size_t group, const ember_window* w);

/* The geometry for n images (w as for _supported), for one thread (set
 * threads before sizing scratch for more). */
em_wino_geom em_conv_winograd_geom(size_t n, size_t c, size_t m, const ember_window* w);

/* Bytes of the transformed, packed weights for kern (36 packed [m x c] matrices). */
size_t em_conv_winograd_packed_bytes(const ember_kernels* kern, size_t c, size_t m);

/* Transforms (U = G g G^T) and packs wt (m x c x 3 x 3) into dst
 * (em_conv_winograd_packed_bytes, 64-byte aligned). Allocates a temporary
 * (m * c * 36 floats); false if that fails. */
bool em_conv_winograd_pack(const ember_kernels* kern, size_t c, size_t m, const float* wt,
                           void* dst);

/* Scratch bytes em_conv_winograd_run needs. */
size_t em_conv_winograd_scratch(const ember_kernels* kern, const em_wino_geom* g);

/* y (n x m x oh x ow) = conv(x (n x c x ih x iw), the weights packed by
 * em_conv_winograd_pack with the same kern) + bias (m floats, or NULL), on the
 * threads of pool (NULL: the caller's; at most g->threads of them, else one
 * is used). Does not allocate. Results do not depend on the thread count.
 *
 * ep: NULL, or a clamp (a fused Relu or Clip) the output transform applies
 * as it stores (ember_f32_wino_output_fn).
 *
 * Accuracy: each output differs from the exact sum by a small multiple of
 * eps * sum_{c,u,t} |w| * |x| over its window (the transforms' constants grow
 * it); tests/ops_nn/test_conv_winograd.c states and checks the bound. */
void em_conv_winograd_run(struct em_pool* pool, const ember_kernels* kern, const em_wino_geom* g,
                          const float* x, const void* packed, const float* bias,
                          const ember_f32_gemm_epilogue* ep, float* y, void* scratch);

#endif
