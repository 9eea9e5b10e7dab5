/* Activations fused into the output pass of Conv, ConvTranspose, Gemm and MatMul,
 * through the vectorised elementwise kernels of the dispatch table (the same
 * ones the standalone operators use, so a NaN propagates as it does there). */
#include "dispatch.h"
#include "format.h"
#include "internal.h"

void em_apply_activation(const ember_kernels* kern, const em_activation* act, float* y, size_t n) {
    const ember_f32_elementwise_config* ew = &(kern ? kern : ember_kernels_default())->f32_elementwise;
    switch (act->kind) {
    case EMF_ACT_NONE: return;
    case EMF_ACT_RELU: ew->unary[EMBER_VOP_RELU](n, y, y, 0.0f, 0.0f); return;
    case EMF_ACT_CLIP: ew->unary[EMBER_VOP_CLAMP](n, y, y, act->alpha, act->beta); return;
    case EMF_ACT_SIGMOID: ew->unary[EMBER_VOP_SIGMOID](n, y, y, 0.0f, 0.0f); return;
    case EMF_ACT_HARD_SIGMOID:
        ew->unary[EMBER_VOP_HARD_SIGMOID](n, y, y, act->alpha, act->beta);
        return;
    case EMF_ACT_HARD_SWISH: ew->unary[EMBER_VOP_HARD_SWISH](n, y, y, 0.0f, 0.0f); return;
    case EMF_ACT_LEAKY_RELU: ew->unary[EMBER_VOP_LEAKY_RELU](n, y, y, act->alpha, 0.0f); return;
    case EMF_ACT_TANH: ew->unary[EMBER_VOP_TANH](n, y, y, 0.0f, 0.0f); return;
    case EMF_ACT_SILU: ew->unary[EMBER_VOP_SILU](n, y, y, 0.0f, 0.0f); return;
    }
}

const char* em_activation_name(uint32_t kind) {
    static const char* const names[] = {"none",         "relu",       "clip",       "sigmoid",
                                        "hard_sigmoid", "hard_swish", "leaky_relu", "tanh",
                                        "silu"};
    return kind <= EMF_ACT_MAX ? names[kind] : "unknown";
}
