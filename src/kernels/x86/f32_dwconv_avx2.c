/* F32 depthwise convolution, AVX2 + FMA, 8 output columns a vector; the body
 * is x86/f32_dwconv_tmpl.h. Compiled with -mavx2 -mfma. */
#include <immintrin.h>
#include <stdint.h>

static const int32_t k_mask[16] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};

#define DW_LANES 8
#define DW_VEC __m256
#define DW_SET1(f) _mm256_set1_ps(f)
#define DW_ZERO() _mm256_setzero_ps()
#define DW_LOADU(p) _mm256_loadu_ps(p)
#define DW_FMA(a, b, c) _mm256_fmadd_ps(a, b, c)
#define DW_ADD(a, b) _mm256_add_ps(a, b)
#define DW_STOREU(p, v) _mm256_storeu_ps(p, v)
#define DW_STORE_PART(p, v, n) \
    _mm256_maskstore_ps(p, _mm256_loadu_si256((const __m256i*)(k_mask + 8 - (n))), v)
#define DW_FN ember_f32_dwconv__avx2

#include "f32_dwconv_tmpl.h"
