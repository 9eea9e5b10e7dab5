/* Reference GEMM: i-k-j loop order so the inner loop streams a row of B and a
 * row of C when both are contiguous. */
#include "nn_ref.h"

void ember_f32_gemm_ref(size_t m, size_t n, size_t k, float alpha, const float* a, size_t a_rs,
                        size_t a_cs, const float* b, size_t b_rs, size_t b_cs, float beta, float* c,
                        size_t ldc) {
    for (size_t i = 0; i < m; i++) {
        float* ci = c + i * ldc;
        if (beta == 0.0f) {
            for (size_t j = 0; j < n; j++) ci[j] = 0.0f;
        } else if (beta != 1.0f) {
            for (size_t j = 0; j < n; j++) ci[j] *= beta;
        }
        const float* ai = a + i * a_rs;
        for (size_t p = 0; p < k; p++) {
            const float av = alpha * ai[p * a_cs];
            const float* bp = b + p * b_rs;
            if (b_cs == 1) {
                for (size_t j = 0; j < n; j++) ci[j] += av * bp[j];
            } else {
                for (size_t j = 0; j < n; j++) ci[j] += av * bp[j * b_cs];
            }
        }
    }
}
