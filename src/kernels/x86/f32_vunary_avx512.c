/* Vectorised f32 elementwise kernels, AVX-512F, 16 lanes; the body is
 * x86/f32_vunary_tmpl.h. Compiled with -mavx512f -mavx512bw -mavx512vl -mfma. */
#include <immintrin.h>

#define ISA avx512
#define VL 16
#define V __m512
#define VI __m512i
#define V_LOADU _mm512_loadu_ps
#define V_STOREU _mm512_storeu_ps
#define V_SET1 _mm512_set1_ps
#define V_ADD _mm512_add_ps
#define V_SUB _mm512_sub_ps
#define V_MUL _mm512_mul_ps
#define V_DIV _mm512_div_ps
#define V_FMA _mm512_fmadd_ps
#define V_MAX _mm512_max_ps
#define V_MIN _mm512_min_ps
#define V_ROUND(a) _mm512_roundscale_ps(a, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC)
#define V_ABS(a) _mm512_castsi512_ps(_mm512_and_si512(_mm512_castps_si512(a), _mm512_set1_epi32(0x7fffffff)))
#define V_XOR(a, b) _mm512_castsi512_ps(_mm512_xor_si512(_mm512_castps_si512(a), _mm512_castps_si512(b)))
#define V_LT(a, b) _mm512_cmp_ps_mask(a, b, _CMP_LT_OQ)
#define V_GE(a, b) _mm512_cmp_ps_mask(a, b, _CMP_GE_OQ)
#define V_BLEND(m, a, b) _mm512_mask_blend_ps(m, a, b)
#define V_TO_I _mm512_cvtps_epi32
#define VI_ADD _mm512_add_epi32
#define VI_SUB _mm512_sub_epi32
#define VI_SRAI _mm512_srai_epi32
#define VI_SLLI _mm512_slli_epi32
#define VI_SET1 _mm512_set1_epi32
#define VI_AS_V _mm512_castsi512_ps

#include "f32_vunary_tmpl.h"
