/* F32 channel-blocked depthwise convolution, AVX2, blocks of 8 channels; the
 * body is x86/f32_dwconv_blocked_tmpl.h. Compiled with -mavx2 -mfma. */
#include <immintrin.h>

#define DWB_L 8
#define DWB_COLS 4
#define DWB_VEC __m256
#define DWB_LOAD(p) _mm256_loadu_ps(p)
#define DWB_STORE(p, v) _mm256_storeu_ps(p, v)
#define DWB_ADD(a, b) _mm256_add_ps(a, b)
#define DWB_MUL(a, b) _mm256_mul_ps(a, b)
#define DWB_ZERO() _mm256_setzero_ps()
#define DWB_FN ember_f32_dwconv_blocked__avx2

#include "f32_dwconv_blocked_tmpl.h"

/* ---- the layout changes around the kernel (ember_f32_dwconv_gather_fn and
 * ember_f32_dwconv_scatter_fn): 8 x 8 tiles transposed in registers ---- */
#include <string.h>

#include "f32_tr8_avx2.h"

void ember_f32_dwconv_gather__avx2(size_t nb, size_t n, const float* x, size_t stride, float* xb) {
    __m256 r[8];
    size_t p = 0;
    for (; p + 8 <= n; p += 8) {
        for (size_t l = 0; l < 8; l++)
            r[l] = l < nb ? _mm256_loadu_ps(x + l * stride + p) : _mm256_setzero_ps();
        tr8(r);
        for (int k = 0; k < 8; k++) _mm256_storeu_ps(xb + (p + (size_t)k) * 8, r[k]);
    }
    if (p < n) {
        const size_t m = n - p;
        float tile[8][8];
        memset(tile, 0, sizeof tile);
        for (size_t l = 0; l < nb; l++) memcpy(tile[l], x + l * stride + p, m * sizeof(float));
        for (int l = 0; l < 8; l++) r[l] = _mm256_loadu_ps(tile[l]);
        tr8(r);
        for (size_t k = 0; k < m; k++) _mm256_storeu_ps(xb + (p + k) * 8, r[k]);
    }
}

void ember_f32_dwconv_scatter__avx2(size_t nb, size_t n, const float* yb, float* y, size_t stride) {
    __m256 r[8];
    size_t p = 0;
    for (; p + 8 <= n; p += 8) {
        for (int k = 0; k < 8; k++) r[k] = _mm256_loadu_ps(yb + (p + (size_t)k) * 8);
        tr8(r);
        for (size_t l = 0; l < nb; l++) _mm256_storeu_ps(y + l * stride + p, r[l]);
    }
    if (p < n) {
        const size_t m = n - p;
        float tile[8][8];
        for (size_t k = 0; k < 8; k++)
            r[k] = k < m ? _mm256_loadu_ps(yb + (p + k) * 8) : _mm256_setzero_ps();
        tr8(r);
        for (int l = 0; l < 8; l++) _mm256_storeu_ps(tile[l], r[l]);
        for (size_t l = 0; l < nb; l++) memcpy(y + l * stride + p, tile[l], m * sizeof(float));
    }
}
