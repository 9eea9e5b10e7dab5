/* F32 matrix-vector kernels, AArch64 NEON (see ember_f32_gemv_n_fn / _t_fn in
 * dispatch.h): gemv_n keeps 16 outputs in four vectors and streams the rows of
 * B; gemv_t keeps four partial dot products a row. */
#include <arm_neon.h>

#include "f32_gemm.h"

static float finish(float acc, float beta, const float* y) {
    if (beta == 0.0f) return acc;
    if (beta == 1.0f) return *y + acc;
    return beta * *y + acc;
}

static float32x4_t finish4(float32x4_t acc, float beta, const float* y) {
    if (beta == 0.0f) return acc;
    if (beta == 1.0f) return vaddq_f32(acc, vld1q_f32(y));
    return vfmaq_f32(acc, vdupq_n_f32(beta), vld1q_f32(y));
}

void ember_f32_gemv_n__neon(size_t n, size_t k, const float* x, const float* b, size_t ldb,
                            float beta, float* y) {
    size_t j = 0;
    for (; j + 16 <= n; j += 16) {
        float32x4_t s0 = vdupq_n_f32(0.0f), s1 = s0, s2 = s0, s3 = s0;
        const float* bj = b + j;
        for (size_t p = 0; p < k; p++, bj += ldb) {
            const float32x4_t xp = vdupq_n_f32(x[p]);
            s0 = vfmaq_f32(s0, xp, vld1q_f32(bj));
            s1 = vfmaq_f32(s1, xp, vld1q_f32(bj + 4));
            s2 = vfmaq_f32(s2, xp, vld1q_f32(bj + 8));
            s3 = vfmaq_f32(s3, xp, vld1q_f32(bj + 12));
        }
        vst1q_f32(y + j, finish4(s0, beta, y + j));
        vst1q_f32(y + j + 4, finish4(s1, beta, y + j + 4));
        vst1q_f32(y + j + 8, finish4(s2, beta, y + j + 8));
        vst1q_f32(y + j + 12, finish4(s3, beta, y + j + 12));
    }
    for (; j + 4 <= n; j += 4) {
        float32x4_t s = vdupq_n_f32(0.0f);
        const float* bj = b + j;
        for (size_t p = 0; p < k; p++, bj += ldb) s = vfmaq_f32(s, vdupq_n_f32(x[p]), vld1q_f32(bj));
        vst1q_f32(y + j, finish4(s, beta, y + j));
    }
    for (; j < n; j++) {
        float s = 0.0f;
        for (size_t p = 0; p < k; p++) s += x[p] * b[p * ldb + j];
        y[j] = finish(s, beta, y + j);
    }
}

void ember_f32_gemv_t__neon(size_t m, size_t k, const float* a, size_t lda, const float* x,
                            float beta, float* y) {
    for (size_t i = 0; i < m; i++) {
        const float* ai = a + i * lda;
        float32x4_t s0 = vdupq_n_f32(0.0f), s1 = s0, s2 = s0, s3 = s0;
        size_t p = 0;
        for (; p + 16 <= k; p += 16) {
            s0 = vfmaq_f32(s0, vld1q_f32(ai + p), vld1q_f32(x + p));
            s1 = vfmaq_f32(s1, vld1q_f32(ai + p + 4), vld1q_f32(x + p + 4));
            s2 = vfmaq_f32(s2, vld1q_f32(ai + p + 8), vld1q_f32(x + p + 8));
            s3 = vfmaq_f32(s3, vld1q_f32(ai + p + 12), vld1q_f32(x + p + 12));
        }
        for (; p + 4 <= k; p += 4) s0 = vfmaq_f32(s0, vld1q_f32(ai + p), vld1q_f32(x + p));
        float s = vaddvq_f32(vaddq_f32(vaddq_f32(s0, s1), vaddq_f32(s2, s3)));
        for (; p < k; p++) s += ai[p] * x[p];
        y[i] = finish(s, beta, y + i);
    }
}
