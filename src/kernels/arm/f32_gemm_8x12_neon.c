/* F32 GEMM micro-kernel, 8x12 register tile, AArch64 NEON: 24 accumulators
 * (8 rows x 3 vectors of 4), two A vectors and three B vectors a step, FMLA by
 * element (the lane of A picks the row), so 29 of the 32 vector registers. */
#include <arm_neon.h>
#include <stdint.h>

#include "f32_gemm.h"

#define MR 8
#define NR 12

/* The body of both entries (boff NULL: B is a packed panel, else step p of B
 * is at b + boff[p]). */
static inline __attribute__((always_inline)) void ukernel(size_t m, size_t n, size_t kc,
                                                          const float* a, const float* b,
                                                          const int32_t* boff, float beta,
                                                          float* c, size_t ldc) {
    float32x4_t acc[MR][3];
    for (size_t i = 0; i < MR; i++) acc[i][0] = acc[i][1] = acc[i][2] = vdupq_n_f32(0.0f);
    for (size_t p = 0; p < kc; p++, a += MR) {
        const float* bp = boff ? b + boff[p] : b + p * NR;
        const float32x4_t a0 = vld1q_f32(a), a1 = vld1q_f32(a + 4);
        const float32x4_t b0 = vld1q_f32(bp), b1 = vld1q_f32(bp + 4), b2 = vld1q_f32(bp + 8);
#define ROW(i, av, l)                                    \
    acc[i][0] = vfmaq_laneq_f32(acc[i][0], b0, av, l);   \
    acc[i][1] = vfmaq_laneq_f32(acc[i][1], b1, av, l);   \
    acc[i][2] = vfmaq_laneq_f32(acc[i][2], b2, av, l);
        ROW(0, a0, 0) ROW(1, a0, 1) ROW(2, a0, 2) ROW(3, a0, 3)
        ROW(4, a1, 0) ROW(5, a1, 1) ROW(6, a1, 2) ROW(7, a1, 3)
#undef ROW
    }
    if (m == MR && n == NR) {
        const float32x4_t vb = vdupq_n_f32(beta);
        for (size_t i = 0; i < MR; i++, c += ldc)
            for (size_t v = 0; v < 3; v++) {
                float32x4_t r = acc[i][v];
                if (beta == 1.0f)
                    r = vaddq_f32(r, vld1q_f32(c + 4 * v));
                else if (beta != 0.0f)
                    r = vfmaq_f32(r, vb, vld1q_f32(c + 4 * v));
                vst1q_f32(c + 4 * v, r);
            }
        return;
    }
    /* Partial tile: spill the accumulators and write the m x n corner. */
    float tile[MR][NR];
    for (size_t i = 0; i < MR; i++)
        for (size_t v = 0; v < 3; v++) vst1q_f32(tile[i] + 4 * v, acc[i][v]);
    for (size_t i = 0; i < m; i++, c += ldc) {
        if (beta == 0.0f) {
            for (size_t j = 0; j < n; j++) c[j] = tile[i][j];
        } else if (beta == 1.0f) {
            for (size_t j = 0; j < n; j++) c[j] += tile[i][j];
        } else {
            for (size_t j = 0; j < n; j++) c[j] = beta * c[j] + tile[i][j];
        }
    }
}

void ember_f32_gemm_ukernel_8x12__neon(size_t m, size_t n, size_t kc, const float* a,
                                       const float* b, float beta, float* c, size_t ldc) {
    ukernel(m, n, kc, a, b, NULL, beta, c, ldc);
}

/* No epilogue entry on this path: ep is always NULL here (dispatch.h). */
void ember_f32_gemm_ukernel_rows_8x12__neon(size_t m, size_t n, size_t kc, const float* a,
                                            const float* b, const int32_t* boff, float beta,
                                            float* c, size_t ldc, const ember_f32_gemm_epilogue* ep) {
    (void)ep;
    ukernel(m, n, kc, a, b, boff, beta, c, ldc);
}
