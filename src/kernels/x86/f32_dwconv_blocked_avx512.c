/* F32 channel-blocked depthwise convolution, AVX-512F, blocks of 16 channels;
 * the body is x86/f32_dwconv_blocked_tmpl.h. Compiled with -mavx512f -mfma. */
#include <immintrin.h>

#define DWB_L 16
#define DWB_COLS 8
#define DWB_VEC __m512
#define DWB_LOAD(p) _mm512_loadu_ps(p)
#define DWB_STORE(p, v) _mm512_storeu_ps(p, v)
#define DWB_ADD(a, b) _mm512_add_ps(a, b)
#define DWB_MUL(a, b) _mm512_mul_ps(a, b)
#define DWB_ZERO() _mm512_setzero_ps()
#define DWB_FN ember_f32_dwconv_blocked__avx512

#include "f32_dwconv_blocked_tmpl.h"
#include "f32_tr16_avx512.h"

/* ---- the layout changes around the kernel (ember_f32_dwconv_gather_fn and
 * ember_f32_dwconv_scatter_fn): 16 x 16 tiles transposed in registers ---- */

void ember_f32_dwconv_gather__avx512(size_t nb, size_t n, const float* x, size_t stride,
                                     float* xb) {
    __m512 r[16];
    size_t p = 0;
    for (; p + 16 <= n; p += 16) {
        for (size_t l = 0; l < 16; l++)
            r[l] = l < nb ? _mm512_loadu_ps(x + l * stride + p) : _mm512_setzero_ps();
        tr16(r);
        for (int k = 0; k < 16; k++) _mm512_storeu_ps(xb + (p + (size_t)k) * 16, r[k]);
    }
    if (p < n) {
        const size_t m = n - p;
        const __mmask16 mk = (__mmask16)((1u << m) - 1u);
        for (size_t l = 0; l < 16; l++)
            r[l] = l < nb ? _mm512_maskz_loadu_ps(mk, x + l * stride + p) : _mm512_setzero_ps();
        tr16(r);
        for (size_t k = 0; k < m; k++) _mm512_storeu_ps(xb + (p + k) * 16, r[k]);
    }
}

void ember_f32_dwconv_scatter__avx512(size_t nb, size_t n, const float* yb, float* y,
                                      size_t stride) {
    __m512 r[16];
    size_t p = 0;
    for (; p + 16 <= n; p += 16) {
        for (int k = 0; k < 16; k++) r[k] = _mm512_loadu_ps(yb + (p + (size_t)k) * 16);
        tr16(r);
        for (size_t l = 0; l < nb; l++) _mm512_storeu_ps(y + l * stride + p, r[l]);
    }
    if (p < n) {
        const size_t m = n - p;
        const __mmask16 mk = (__mmask16)((1u << m) - 1u);
        for (size_t k = 0; k < 16; k++)
            r[k] = k < m ? _mm512_loadu_ps(yb + (p + k) * 16) : _mm512_setzero_ps();
        tr16(r);
        for (size_t l = 0; l < nb; l++) _mm512_mask_storeu_ps(y + l * stride + p, mk, r[l]);
    }
}
