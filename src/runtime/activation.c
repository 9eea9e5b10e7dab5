/* Activations fused into the output pass of Conv, ConvTranspose, Gemm and MatMul. */
#include <math.h>

#include "format.h"
#include "internal.h"

void em_apply_activation(const em_activation* act, float* y, size_t n) {
    switch (act->kind) {
    case EMF_ACT_NONE: return;
    case EMF_ACT_RELU:
        for (size_t i = 0; i < n; i++) y[i] = y[i] > 0.0f ? y[i] : 0.0f;
        return;
    case EMF_ACT_CLIP:
        for (size_t i = 0; i < n; i++) y[i] = fminf(fmaxf(y[i], act->alpha), act->beta);
        return;
    case EMF_ACT_SIGMOID:
        for (size_t i = 0; i < n; i++) y[i] = 1.0f / (1.0f + expf(-y[i]));
        return;
    case EMF_ACT_HARD_SIGMOID:
        for (size_t i = 0; i < n; i++) y[i] = fmaxf(0.0f, fminf(1.0f, act->alpha * y[i] + act->beta));
        return;
    case EMF_ACT_HARD_SWISH:
        for (size_t i = 0; i < n; i++)
            y[i] = y[i] * fmaxf(0.0f, fminf(1.0f, y[i] * (1.0f / 6.0f) + 0.5f));
        return;
    case EMF_ACT_LEAKY_RELU:
        for (size_t i = 0; i < n; i++) y[i] = y[i] >= 0.0f ? y[i] : y[i] * act->alpha;
        return;
    case EMF_ACT_TANH:
        for (size_t i = 0; i < n; i++) y[i] = tanhf(y[i]);
        return;
    }
}

const char* em_activation_name(uint32_t kind) {
    static const char* const names[] = {"none",         "relu",       "clip",       "sigmoid",
                                        "hard_sigmoid", "hard_swish", "leaky_relu", "tanh"};
    return kind <= EMF_ACT_MAX ? names[kind] : "unknown";
}
