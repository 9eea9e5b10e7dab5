/* F32 depthwise convolution, AArch64 NEON, 4 output columns a vector; the body
 * is the one the x86 kernels share (x86/f32_dwconv_tmpl.h). The last vector of
 * an output row goes through a small buffer (NEON has no masked store). */
#include <arm_neon.h>
#include <string.h>

static inline void dw_store_part_neon(float* p, float32x4_t v, size_t n) {
    float t[4];
    vst1q_f32(t, v);
    memcpy(p, t, n * sizeof(float));
}

#define DW_LANES 4
#define DW_VEC float32x4_t
#define DW_SET1(f) vdupq_n_f32(f)
#define DW_ZERO() vdupq_n_f32(0.0f)
#define DW_LOADU(p) vld1q_f32(p)
#define DW_FMA(a, b, c) vfmaq_f32(c, a, b)
#define DW_ADD(a, b) vaddq_f32(a, b)
#define DW_STOREU(p, v) vst1q_f32(p, v)
#define DW_STORE_PART(p, v, n) dw_store_part_neon(p, v, n)
#define DW_FN ember_f32_dwconv__neon

#include "x86/f32_dwconv_tmpl.h"
