/* Vectorised f32 elementwise kernels, AVX2 + FMA, 8 lanes; the body is
 * x86/f32_vunary_tmpl.h. Compiled with -mavx2 -mfma. */
#include <immintrin.h>

#define ISA avx2
#define VL 8
#define V __m256
#define VI __m256i
#define V_LOADU _mm256_loadu_ps
#define V_STOREU _mm256_storeu_ps
#define V_SET1 _mm256_set1_ps
#define V_ADD _mm256_add_ps
#define V_SUB _mm256_sub_ps
#define V_MUL _mm256_mul_ps
#define V_DIV _mm256_div_ps
#define V_FMA _mm256_fmadd_ps
#define V_MAX _mm256_max_ps
#define V_MIN _mm256_min_ps
#define V_ROUND(a) _mm256_round_ps(a, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC)
#define V_ABS(a) _mm256_andnot_ps(_mm256_set1_ps(-0.0f), a)
#define V_XOR _mm256_xor_ps
#define V_LT(a, b) _mm256_cmp_ps(a, b, _CMP_LT_OQ)
#define V_GE(a, b) _mm256_cmp_ps(a, b, _CMP_GE_OQ)
#define V_BLEND(m, a, b) _mm256_blendv_ps(a, b, m)
#define V_TO_I _mm256_cvtps_epi32
#define VI_ADD _mm256_add_epi32
#define VI_SUB _mm256_sub_epi32
#define VI_SRAI _mm256_srai_epi32
#define VI_SLLI _mm256_slli_epi32
#define VI_SET1 _mm256_set1_epi32
#define VI_AS_V _mm256_castsi256_ps

#include "f32_vunary_tmpl.h"
