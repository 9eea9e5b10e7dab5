/* Attributes and output geometry shared by the sliding-window operators of
 * the nn group (Conv, ConvTranspose, MaxPool, AveragePool). Up to three
 * spatial dims; fewer are mapped onto ember_window with leading unit dims. */
#ifndef EMBER_OPS_NN_WINDOW_H
#define EMBER_OPS_NN_WINDOW_H

#include "../../op.h"
#include "generic/nn_ref.h"

#define NN_MAX_SPATIAL EMBER_WINDOW_DIMS

enum nn_auto_pad { NN_PAD_NOTSET = 0, NN_PAD_SAME_UPPER, NN_PAD_SAME_LOWER, NN_PAD_VALID };

typedef struct nn_window_attrs {
    int32_t auto_pad;
    uint32_t n_kernel, n_strides, n_pads, n_dilations; /* 0 where absent */
    int64_t kernel[NN_MAX_SPATIAL];
    int64_t strides[NN_MAX_SPATIAL];
    int64_t pads[2 * NN_MAX_SPATIAL];                    /* begins, then ends */
    int64_t dilations[NN_MAX_SPATIAL];
} nn_window_attrs;

/* init: reads auto_pad, kernel_shape, strides, pads, dilations and validates
 * them (values in range, at most three spatial dims, pads of even length). */
ember_status nn_window_parse(em_op_ctx* ctx, nn_window_attrs* a);

/* Conv and ConvTranspose operands: X, W (and B if present) f32, X of rank 3
 * to 2 + NN_MAX_SPATIAL, W of X's rank. */
ember_status nn_conv_operands_check(em_op_ctx* ctx);

/* infer: fails unless every given list has nsp entries (pads 2 * nsp). */
ember_status nn_window_check(em_op_ctx* ctx, const nn_window_attrs* a, int nsp);

/* Strides, dilations and explicit pads of spatial dim i (defaults 1, 1, 0). */
int64_t nn_stride(const nn_window_attrs* a, int i);
int64_t nn_dilation(const nn_window_attrs* a, int i);

/* infer of Conv and the pools: from the input's nsp spatial dims and the
 * kernel, the output dims (out[nsp]) and the window (padded to three dims).
 * Fails when an output dim would be below 1. */
ember_status nn_window_forward(em_op_ctx* ctx, const nn_window_attrs* a, int nsp,
                               const int64_t* in, const int64_t* kernel, bool ceil_mode,
                               int64_t* out, ember_window* w);

/* Bands of output rows (the fusions of conv_pw_dw.c and conv_maxpool.c):
 * the image rows [e0, e1) that output rows [r0, r1) of 2-D window w read
 * (dilation 1 along the rows), and wb: w on those rows alone (their image,
 * the padding left at its edges). */
void nn_band_window(const ember_window* w, size_t r0, size_t r1, size_t* e0, size_t* e1,
                    ember_window* wb);

/* A band's rows [e0, e1) of `planes` planes of `width` floats in buf
 * ([plane][e1 - e0][width]), the first of which the previous band's buffer
 * prev (rows [pe0, pe1), same layout) already holds: copies those across and
 * returns how many (0 when it holds none). */
size_t nn_band_copy_shared(size_t planes, size_t width, size_t e0, size_t e1, const float* prev,
                           size_t pe0, size_t pe1, float* buf);

/* Largest dim accepted in window arithmetic (keeps it free of overflow). */
#define NN_DIM_LIMIT ((int64_t)1 << 40)
#define NN_ATTR_LIMIT ((int64_t)1 << 20)

#endif
