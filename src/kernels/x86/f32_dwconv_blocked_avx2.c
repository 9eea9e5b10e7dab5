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
