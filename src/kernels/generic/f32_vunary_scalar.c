/* The portable twins of the vectorised elementwise kernels (f32_vunary.h):
 * the reference kernels behind the table's signatures. */
#include "f32_vunary.h"
#include "generic/elementwise_ref.h"

#define UNARY(name, OP)                                                                  \
    void ember_f32_v##name##__scalar(size_t n, const float* x, float* y, float alpha,    \
                                     float beta) {                                       \
        ember_f32_unary_ref(OP, alpha, beta, n, x, y);                                   \
    }
UNARY(relu, EMBER_UNARY_RELU)
UNARY(sigmoid, EMBER_UNARY_SIGMOID)
UNARY(tanh, EMBER_UNARY_TANH)
UNARY(hsigmoid, EMBER_UNARY_HARD_SIGMOID)
UNARY(hswish, EMBER_UNARY_HARD_SWISH)
UNARY(exp, EMBER_UNARY_EXP)
UNARY(erf, EMBER_UNARY_ERF)
UNARY(gelu, EMBER_UNARY_GELU)
UNARY(gelu_tanh, EMBER_UNARY_GELU_TANH)
UNARY(lrelu, EMBER_UNARY_LEAKY_RELU)

/* x * sigmoid(x) with the reference sigmoid: the same values as the Sigmoid
 * and Mul operators in sequence. */
void ember_f32_vsilu__scalar(size_t n, const float* x, float* y, float alpha, float beta) {
    float s[256];
    for (size_t i = 0; i < n; i += 256) {
        const size_t c = n - i < 256 ? n - i : 256;
        ember_f32_unary_ref(EMBER_UNARY_SIGMOID, alpha, beta, c, x + i, s);
        for (size_t k = 0; k < c; k++) y[i + k] = x[i + k] * s[k];
    }
}

void ember_f32_vclamp__scalar(size_t n, const float* x, float* y, float alpha, float beta) {
    ember_f32_clip_ref(n, x, alpha, beta, y);
}

#define BINARY(name, OP, AI, BI)                                                              \
    void ember_f32_v##name##__scalar(size_t n, const float* a, const float* b, float* y) {   \
        ember_f32_binary_ref(OP, n, a, AI, b, BI, y);                                         \
    }
BINARY(add_vv, EMBER_BINARY_ADD, 1, 1)
BINARY(add_vs, EMBER_BINARY_ADD, 1, 0)
BINARY(add_sv, EMBER_BINARY_ADD, 0, 1)
BINARY(sub_vv, EMBER_BINARY_SUB, 1, 1)
BINARY(sub_vs, EMBER_BINARY_SUB, 1, 0)
BINARY(sub_sv, EMBER_BINARY_SUB, 0, 1)
BINARY(mul_vv, EMBER_BINARY_MUL, 1, 1)
BINARY(mul_vs, EMBER_BINARY_MUL, 1, 0)
BINARY(mul_sv, EMBER_BINARY_MUL, 0, 1)
BINARY(div_vv, EMBER_BINARY_DIV, 1, 1)
BINARY(div_vs, EMBER_BINARY_DIV, 1, 0)
BINARY(div_sv, EMBER_BINARY_DIV, 0, 1)
