/* Portable F32 matrix-vector kernels (see ember_f32_gemv_n_fn / _t_fn in
 * dispatch.h): four independent sums a step so that the compiler can keep
 * several FMA chains in flight. */
#include "f32_gemm.h"

static float finish(float acc, float beta, const float* y) {
    if (beta == 0.0f) return acc;
    if (beta == 1.0f) return *y + acc;
    return beta * *y + acc;
}

void ember_f32_gemv_n__scalar(size_t n, size_t k, const float* x, const float* b, size_t ldb,
                              float beta, float* y) {
    size_t j = 0;
    for (; j + 4 <= n; j += 4) {
        float s0 = 0.0f, s1 = 0.0f, s2 = 0.0f, s3 = 0.0f;
        const float* bj = b + j;
        for (size_t p = 0; p < k; p++, bj += ldb) {
            const float xp = x[p];
            s0 += xp * bj[0];
            s1 += xp * bj[1];
            s2 += xp * bj[2];
            s3 += xp * bj[3];
        }
        y[j] = finish(s0, beta, y + j);
        y[j + 1] = finish(s1, beta, y + j + 1);
        y[j + 2] = finish(s2, beta, y + j + 2);
        y[j + 3] = finish(s3, beta, y + j + 3);
    }
    for (; j < n; j++) {
        float s = 0.0f;
        for (size_t p = 0; p < k; p++) s += x[p] * b[p * ldb + j];
        y[j] = finish(s, beta, y + j);
    }
}

void ember_f32_gemv_t__scalar(size_t m, size_t k, const float* a, size_t lda, const float* x,
                              float beta, float* y) {
    for (size_t i = 0; i < m; i++) {
        const float* ai = a + i * lda;
        float s0 = 0.0f, s1 = 0.0f, s2 = 0.0f, s3 = 0.0f;
        size_t p = 0;
        for (; p + 4 <= k; p += 4) {
            s0 += ai[p] * x[p];
            s1 += ai[p + 1] * x[p + 1];
            s2 += ai[p + 2] * x[p + 2];
            s3 += ai[p + 3] * x[p + 3];
        }
        for (; p < k; p++) s0 += ai[p] * x[p];
        y[i] = finish((s0 + s1) + (s2 + s3), beta, y + i);
    }
}
