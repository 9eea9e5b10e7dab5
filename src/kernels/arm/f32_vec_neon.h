/* The vector vocabulary for AArch64 NEON, 4 lanes (V_MAX / V_MIN with the x86
 * maxps / minps semantics, see arm/f32_vunary_neon.c): the macros the shared kernel
 * templates (x86/f32_vunary_tmpl.h, x86/f32_vexp_tmpl.h, x86/f32_rowwise_tmpl.h)
 * are written in; see x86/f32_vunary_tmpl.h for their meaning. VD: a vector of
 * VDL = VL / 2 doubles, VD_CVT_LO / VD_CVT_HI widening the low / high half of a V. */
#ifndef EMBER_KERNELS_ARM_F32_VEC_NEON_H
#define EMBER_KERNELS_ARM_F32_VEC_NEON_H

#include <arm_neon.h>

#define ISA neon
#define VL 4
#define V float32x4_t
#define VI int32x4_t
#define V_LOADU vld1q_f32
#define V_STOREU vst1q_f32
#define V_SET1 vdupq_n_f32
#define V_ADD vaddq_f32
#define V_SUB vsubq_f32
#define V_MUL vmulq_f32
#define V_DIV vdivq_f32
#define V_FMA(a, b, c) vfmaq_f32(c, a, b)
#define V_MAX(a, b) v_max_x86(a, b)
#define V_MIN(a, b) v_min_x86(a, b)
#define V_ROUND vrndnq_f32
#define V_ABS vabsq_f32
#define V_XOR(a, b) \
    vreinterpretq_f32_u32(veorq_u32(vreinterpretq_u32_f32(a), vreinterpretq_u32_f32(b)))
#define V_LT vcltq_f32
#define V_GE vcgeq_f32
#define V_BLEND(m, a, b) vbslq_f32(m, b, a)
#define V_TO_I vcvtnq_s32_f32
#define VI_ADD vaddq_s32
#define VI_SUB vsubq_s32
#define VI_SRAI vshrq_n_s32
#define VI_SLLI vshlq_n_s32
#define VI_SET1 vdupq_n_s32
#define VI_AS_V vreinterpretq_f32_s32

static inline float32x4_t v_max_x86(float32x4_t a, float32x4_t b) {
    return vbslq_f32(vcgtq_f32(a, b), a, b);
}
static inline float32x4_t v_min_x86(float32x4_t a, float32x4_t b) {
    return vbslq_f32(vcltq_f32(a, b), a, b);
}

#define VD float64x2_t
#define VDL 2
#define VD_ZERO() vdupq_n_f64(0.0)
#define VD_SET1 vdupq_n_f64
#define VD_ADD vaddq_f64
#define VD_SUB vsubq_f64
#define VD_FMA(a, b, c) vfmaq_f64(c, a, b)
#define VD_STOREU vst1q_f64
#define VD_CVT_LO(a) vcvt_f64_f32(vget_low_f32(a))
#define VD_CVT_HI(a) vcvt_high_f64_f32(a)

#endif
