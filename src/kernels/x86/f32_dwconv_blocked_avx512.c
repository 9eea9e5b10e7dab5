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
