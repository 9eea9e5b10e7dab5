/* The vector vocabulary for AVX-512F, 16 lanes: the macros the shared kernel
 * templates (x86/f32_vunary_tmpl.h, x86/f32_vexp_tmpl.h, x86/f32_rowwise_tmpl.h)
 * are written in; see x86/f32_vunary_tmpl.h for their meaning. VD: a vector of
 * VDL = VL / 2 doubles, VD_CVT_LO / VD_CVT_HI widening the low / high half of a V. */
#ifndef EMBER_KERNELS_X86_F32_VEC_AVX512_H
#define EMBER_KERNELS_X86_F32_VEC_AVX512_H

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
/* a * 2^floor(n), rounded once (vscalefps; v_exp's scaling, f32_vexp_tmpl.h) */
#define V_SCALEF(a, n) _mm512_scalef_ps(a, n)
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
/* lane i of t[idx[i] mod 16] (vpermps): a table of 16 floats (t 64-byte
 * aligned) looked up a lane */
#define V_LUT16(idx, t) _mm512_permutexvar_ps(idx, _mm512_load_ps(t))

#define VD __m512d
#define VDL 8
#define VD_ZERO _mm512_setzero_pd
#define VD_SET1 _mm512_set1_pd
#define VD_ADD _mm512_add_pd
#define VD_SUB _mm512_sub_pd
#define VD_FMA _mm512_fmadd_pd
#define VD_STOREU _mm512_storeu_pd
/* lane reductions halving as rw_hmax / rw_hsum (f32_rowwise_tmpl.h): upper
 * half onto lower half, down to one lane */
#define V_HMAX(a) _mm512_reduce_max_ps(a)
#define VD_HSUM(a) _mm512_reduce_add_pd(a)
#define VD_CVT_LO(a) _mm512_cvtps_pd(_mm512_castps512_ps256(a))
#define VD_CVT_HI(a) \
    _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(a), 1)))

#endif
