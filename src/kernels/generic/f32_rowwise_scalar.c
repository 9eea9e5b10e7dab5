/* The portable twins of the row-wise kernels (f32_rowwise.h): the references
 * behind the table's signatures. */
#include "f32_rowwise.h"
#include "generic/nn_ref.h"

void ember_f32_softmax__scalar(size_t outer, size_t n, size_t inner, const float* x, float* y) {
    ember_f32_softmax_ref(outer, n, inner, x, y);
}

void ember_f32_log_softmax__scalar(size_t outer, size_t n, size_t inner, const float* x,
                                   float* y) {
    ember_f32_log_softmax_ref(outer, n, inner, x, y);
}

void ember_f32_layernorm__scalar(size_t rows, size_t cols, const float* x, const float* scale,
                                 const float* bias, float eps, float* y, float* mean,
                                 float* inv_std_dev) {
    ember_f32_layernorm_ref(rows, cols, x, scale, bias, eps, y, mean, inv_std_dev);
}
