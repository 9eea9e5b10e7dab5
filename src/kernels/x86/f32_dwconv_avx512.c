/* F32 depthwise convolution, AVX-512F, 16 output columns a vector; the body
 * is x86/f32_dwconv_tmpl.h. Compiled with -mavx512f -mavx512bw -mavx512vl -mfma. */
#include <immintrin.h>

#define DW_LANES 16
#define DW_VEC __m512
#define DW_SET1(f) _mm512_set1_ps(f)
#define DW_ZERO() _mm512_setzero_ps()
#define DW_LOADU(p) _mm512_loadu_ps(p)
#define DW_FMA(a, b, c) _mm512_fmadd_ps(a, b, c)
#define DW_ADD(a, b) _mm512_add_ps(a, b)
#define DW_STOREU(p, v) _mm512_storeu_ps(p, v)
#define DW_STORE_PART(p, v, n) _mm512_mask_storeu_ps(p, (__mmask16)((1u << (n)) - 1u), v)
#define DW_FN ember_f32_dwconv__avx512

#include "f32_dwconv_tmpl.h"
