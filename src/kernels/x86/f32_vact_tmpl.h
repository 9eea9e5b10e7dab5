/* The vector activations that both the elementwise kernels (x86/f32_vunary_tmpl.h)
 * and the GEMM micro-kernels' epilogues (x86/f32_gemm_*.c) compute, written in
 * the vocabulary of x86/f32_vec_*.h and arm/f32_vec_neon.h. One copy of each
 * formula, so that an activation fused into a GEMM tile gives, lane for lane,
 * the bits the table's elementwise kernel gives on the stored output. */
#ifndef EMBER_KERNELS_F32_VACT_TMPL_H
#define EMBER_KERNELS_F32_VACT_TMPL_H

#include "f32_vexp_tmpl.h"

/* sigmoid(x): e = exp(-|x|) in (0, 1], so nothing overflows; 1 / (1 + e) for
 * x >= 0 and e / (1 + e) below (no cancellation either side). */
static inline V v_sigmoid(V x) {
    const V e = v_exp(V_XOR(V_ABS(x), V_SET1(-0.0f)));
    const V r = V_DIV(V_SET1(1.0f), V_ADD(V_SET1(1.0f), e));
    return V_BLEND(V_LT(x, V_SET1(0.0f)), r, V_MUL(e, r));
}

/* SiLU (Swish): x * sigmoid(x). */
static inline V v_silu(V x) { return V_MUL(x, v_sigmoid(x)); }

/* HardSwish: x * max(0, min(1, x / 6 + 1/2)), multiply then add (not an FMA),
 * as the reference computes it, so the result is bit-exact with it. */
static inline V v_hswish(V x) {
    return V_MUL(x, V_MAX(V_MIN(V_ADD(V_MUL(x, V_SET1(1.0f / 6.0f)), V_SET1(0.5f)), V_SET1(1.0f)),
                          V_SET1(0.0f)));
}

#ifdef EMBER_KERNELS_DISPATCH_H
/* The GEMM epilogue's activation act (ember_f32_gemm_act) on one vector, for
 * the micro-kernels that apply it in registers: the elementwise kernels'
 * formulas above, so a fused tile equals the unfused passes bit for bit. */
static inline __attribute__((always_inline)) V v_gemm_act(ember_f32_gemm_act act, V r) {
    switch (act) {
    case EMBER_GEMM_ACT_SIGMOID: return v_sigmoid(r);
    case EMBER_GEMM_ACT_HARD_SWISH: return v_hswish(r);
    case EMBER_GEMM_ACT_SILU: return v_silu(r);
    default: return r;
    }
}
#endif

#endif
