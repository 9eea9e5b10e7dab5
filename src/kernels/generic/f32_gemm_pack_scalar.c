/* Portable packing of A row panels and B column panels for the F32 GEMM
 * micro-kernels (any mr / nr). Each case loops so that the source is read
 * along its contiguous direction. */
#include <string.h>

#include "f32_gemm.h"

void ember_f32_gemm_pack_a__scalar(size_t mr, size_t m, size_t kc, float alpha, const float* a,
                                   size_t rs, size_t cs, float* dst) {
    for (size_t i0 = 0; i0 < m; i0 += mr, dst += kc * mr) {
        const size_t rows = m - i0 < mr ? m - i0 : mr;
        if (cs == 1) {                           /* rows of A contiguous: a transpose */
            /* In blocks of 4 rows x 8 columns through a local tile, which the
             * compiler turns into vector loads, shuffles and stores: 2-3x the
             * element-at-a-time loop on the large weight matrices packed at a
             * session's creation. Rows past the last group of 4, and the last
             * kc % 8 columns, one element at a time. */
            const float* ap = a + i0 * rs;
            size_t p = 0;
            for (; p + 8 <= kc; p += 8) {
                float* d = dst + p * mr;
                size_t i = 0;
                for (; i + 4 <= rows; i += 4) {
                    const float* src = ap + i * rs + p;
                    float t[4][8];
                    for (size_t r = 0; r < 4; r++)
                        for (size_t c = 0; c < 8; c++) t[r][c] = alpha * src[r * rs + c];
                    for (size_t c = 0; c < 8; c++)
                        for (size_t r = 0; r < 4; r++) d[c * mr + i + r] = t[r][c];
                }
                for (; i < rows; i++)
                    for (size_t c = 0; c < 8; c++) d[c * mr + i] = alpha * ap[i * rs + p + c];
                for (; i < mr; i++)
                    for (size_t c = 0; c < 8; c++) d[c * mr + i] = 0.0f;
            }
            for (; p < kc; p++) {
                float* d = dst + p * mr;
                size_t i = 0;
                for (; i < rows; i++) d[i] = alpha * ap[i * rs + p];
                for (; i < mr; i++) d[i] = 0.0f;
            }
        } else {                                 /* columns of A contiguous (A^T) or strided */
            for (size_t p = 0; p < kc; p++) {
                const float* src = a + p * cs + i0 * rs;
                for (size_t i = 0; i < rows; i++) dst[p * mr + i] = alpha * src[i * rs];
            }
            if (rows < mr)
                for (size_t p = 0; p < kc; p++)
                    for (size_t i = rows; i < mr; i++) dst[p * mr + i] = 0.0f;
        }
    }
}

void ember_f32_gemm_pack_b__scalar(size_t nr, size_t n, size_t kc, const float* b, size_t rs,
                                   size_t cs, float* dst) {
    for (size_t j0 = 0; j0 < n; j0 += nr, dst += kc * nr) {
        const size_t cols = n - j0 < nr ? n - j0 : nr;
        if (cs == 1) {                           /* rows of B contiguous */
            for (size_t p = 0; p < kc; p++) {
                memcpy(dst + p * nr, b + p * rs + j0, cols * sizeof(float));
                for (size_t j = cols; j < nr; j++) dst[p * nr + j] = 0.0f;
            }
        } else {                                 /* columns of B contiguous (B^T) or strided */
            for (size_t j = 0; j < cols; j++) {
                const float* src = b + (j0 + j) * cs;
                for (size_t p = 0; p < kc; p++) dst[p * nr + j] = src[p * rs];
            }
            if (cols < nr)
                for (size_t p = 0; p < kc; p++)
                    for (size_t j = cols; j < nr; j++) dst[p * nr + j] = 0.0f;
        }
    }
}
