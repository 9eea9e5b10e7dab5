/* Portable 4x4 F32 GEMM micro-kernel: the scalar twin of the SIMD kernels and
 * the generic path's kernel. */
#include "f32_gemm.h"

#include <stdint.h>

/* The body of both entries (boff NULL: B is a packed panel, else step p of B
 * is at b + boff[p]). */
static inline void ukernel(size_t m, size_t n, size_t kc, const float* a, const float* b,
                           const int32_t* boff, float beta, float* c, size_t ldc) {
    float acc[4][4] = {{0.0f}};
    for (size_t p = 0; p < kc; p++) {
        const float* ap = a + p * 4;
        const float* bp = boff ? b + boff[p] : b + p * 4;
        for (size_t i = 0; i < 4; i++)
            for (size_t j = 0; j < 4; j++) acc[i][j] += ap[i] * bp[j];
    }
    for (size_t i = 0; i < m; i++) {
        float* ci = c + i * ldc;
        if (beta == 0.0f) {
            for (size_t j = 0; j < n; j++) ci[j] = acc[i][j];
        } else if (beta == 1.0f) {
            for (size_t j = 0; j < n; j++) ci[j] += acc[i][j];
        } else {
            for (size_t j = 0; j < n; j++) ci[j] = beta * ci[j] + acc[i][j];
        }
    }
}

void ember_f32_gemm_ukernel_4x4__scalar(size_t m, size_t n, size_t kc, const float* a,
                                        const float* b, float beta, float* c, size_t ldc) {
    ukernel(m, n, kc, a, b, NULL, beta, c, ldc);
}

/* No epilogue entry on this path: ep is always NULL here (dispatch.h). */
void ember_f32_gemm_ukernel_rows_4x4__scalar(size_t m, size_t n, size_t kc, const float* a,
                                             const float* b, const int32_t* boff, float beta,
                                             float* c, size_t ldc, const ember_f32_gemm_epilogue* ep) {
    (void)ep;
    ukernel(m, n, kc, a, b, boff, beta, c, ldc);
}
