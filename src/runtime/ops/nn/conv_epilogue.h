/* The output pass of a convolution's GEMM (conv.c, conv_pw_dw.c): the bias
 * and the node's fused activation applied to each output tile while it is in
 * L1. Relu and Clip are the GEMM's clamp; Sigmoid, HardSwish and SiLU its
 * activation, done in registers by the micro-kernels that can, with the
 * formulas of the elementwise kernels; any other activation (HardSigmoid,
 * LeakyRelu, Tanh) runs on the finished tile (ember_f32_gemm_extra.finish).
 * The values are the same whichever way it is applied. */
#ifndef EMBER_OPS_NN_CONV_EPILOGUE_H
#define EMBER_OPS_NN_CONV_EPILOGUE_H

#include <math.h>

#include "f32_gemm.h"
#include "format.h"
#include "internal.h"

/* finish_ctx of the tile pass: the table and the activation (both outlive the GEMM) */
typedef struct em_conv_act {
    const ember_kernels* kern;
    const em_activation* act;
} em_conv_act;

static inline void em_conv_act_tile(const void* ctx, float* c, size_t ldc, size_t m, size_t n) {
    const em_conv_act* a = ctx;
    for (size_t i = 0; i < m; i++) em_apply_activation(a->kern, a->act, c + i * ldc, n);
}

/* The activation the GEMM's output pass applies for act (ember_f32_gemm_act),
 * EMBER_GEMM_ACT_NONE when it is a clamp, none, or left to the tile pass. */
static inline ember_f32_gemm_act em_conv_gemm_act(const em_activation* act) {
    switch (act->kind) {
    case EMF_ACT_SIGMOID: return EMBER_GEMM_ACT_SIGMOID;
    case EMF_ACT_HARD_SWISH: return EMBER_GEMM_ACT_HARD_SWISH;
    case EMF_ACT_SILU: return EMBER_GEMM_ACT_SILU;
    default: return EMBER_GEMM_ACT_NONE;
    }
}

/* The extras for row bias `bias` (NULL: none) and a->act; B is the GEMM's
 * own (pack_b NULL). */
static inline ember_f32_gemm_extra em_conv_output_pass(const em_conv_act* a, const float* bias) {
    const em_activation* act = a->act;
    const bool relu = act->kind == EMF_ACT_RELU, clip = act->kind == EMF_ACT_CLIP;
    const ember_f32_gemm_act gact = em_conv_gemm_act(act);
    return (ember_f32_gemm_extra){
        .row_bias = bias, .clamp = relu || clip, .zero_plus = relu,
        .lo = relu ? 0.0f : act->alpha, .hi = relu ? INFINITY : act->beta, .act = gact,
        .finish = act->kind != EMF_ACT_NONE && !relu && !clip && gact == EMBER_GEMM_ACT_NONE
                      ? em_conv_act_tile : NULL,
        .finish_ctx = a};
}

#endif
