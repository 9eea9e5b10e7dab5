/* The vector vocabulary for AVX2 + FMA, 8 lanes: the macros the shared kernel
 * templates (x86/f32_vunary_tmpl.h, x86/f32_vexp_tmpl.h, x86/f32_rowwise_tmpl.h)
 * are written in; see x86/f32_vunary_tmpl.h for their meaning. VD: a vector of
 * VDL = VL / 2 doubles, VD_CVT_LO / VD_CVT_HI widening the low / high half of a V. */
#ifndef EMBER_KERNELS_X86_F32_VEC_AVX2_H
#define EMBER_KERNELS_X86_F32_VEC_AVX2_H

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
/* lane i of t[idx[i] mod 16] (t: 16 floats, 32-byte aligned): each half looked
 * up by vpermps (index mod 8), the one for bit 3 blended in */
static inline __m256 ember_avx2_lut16(__m256i idx, const float* t) {
    const __m256 lo = _mm256_permutevar8x32_ps(_mm256_load_ps(t), idx);
    const __m256 hi = _mm256_permutevar8x32_ps(_mm256_load_ps(t + 8), idx);
    return _mm256_blendv_ps(lo, hi, _mm256_castsi256_ps(_mm256_slli_epi32(idx, 28)));
}
#define V_LUT16(idx, t) ember_avx2_lut16(idx, t)

#define VD __m256d
#define VDL 4
#define VD_ZERO _mm256_setzero_pd
#define VD_SET1 _mm256_set1_pd
#define VD_ADD _mm256_add_pd
#define VD_SUB _mm256_sub_pd
#define VD_FMA _mm256_fmadd_pd
#define VD_STOREU _mm256_storeu_pd
/* lane reductions halving as rw_hmax / rw_hsum (f32_rowwise_tmpl.h): upper
 * half onto lower half, down to one lane */
static inline float ember_avx2_hmax(__m256 v) {
    __m128 a = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    a = _mm_max_ps(a, _mm_movehl_ps(a, a));
    return _mm_cvtss_f32(_mm_max_ss(a, _mm_shuffle_ps(a, a, 1)));
}
static inline double ember_avx2_hsum_pd(__m256d v) {
    const __m128d a = _mm_add_pd(_mm256_castpd256_pd128(v), _mm256_extractf128_pd(v, 1));
    return _mm_cvtsd_f64(_mm_add_sd(a, _mm_unpackhi_pd(a, a)));
}
#define V_HMAX(a) ember_avx2_hmax(a)
#define VD_HSUM(a) ember_avx2_hsum_pd(a)
#define VD_CVT_LO(a) _mm256_cvtps_pd(_mm256_castps256_ps128(a))
#define VD_CVT_HI(a) _mm256_cvtps_pd(_mm256_extractf128_ps(a, 1))

#endif
