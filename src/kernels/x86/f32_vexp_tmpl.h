/* The vector exp shared by the kernel templates (x86/f32_vunary_tmpl.h,
 * x86/f32_rowwise_tmpl.h), written in the vocabulary of x86/f32_vec_*.h and
 * arm/f32_vec_neon.h; tests/kernels/test_f32_vunary.c checks its bound (2 ulp). */
#ifndef EMBER_KERNELS_F32_VEXP_TMPL_H
#define EMBER_KERNELS_F32_VEXP_TMPL_H

/* exp(x): x = n ln2 + r with |r| <= ln2 / 2, exp(r) by a degree-6 polynomial
 * (relative error 1.8e-8), times 2^n applied in two halves so that results in
 * the subnormal range round once and overflow gives +inf. NaN propagates
 * (maxps / minps return their second operand when one is NaN). */
static inline V v_exp_clamped(V x) { /* x in [-105, 89], or NaN */
    const V n = V_ROUND(V_MUL(x, V_SET1(1.44269504088896341f)));
    V r = V_FMA(n, V_SET1(-0.693145751953125f), x); /* ln2 high bits: n * hi is exact */
    r = V_FMA(n, V_SET1(-1.42860682030941723212e-6f), r);
    V p = V_SET1(0.001382941147312522f);
    p = V_FMA(p, r, V_SET1(0.008374777622520924f));
    p = V_FMA(p, r, V_SET1(0.0416683591902256f));
    p = V_FMA(p, r, V_SET1(0.1666642129421234f));
    p = V_FMA(p, r, V_SET1(0.49999991059303284f));
    p = V_FMA(p, r, V_SET1(1.0f));
    p = V_FMA(p, r, V_SET1(1.0f));
#ifdef V_SCALEF
    /* p * 2^n in one instruction, rounded once: the same bits as below */
    return V_SCALEF(p, n);
#else
    const VI ni = V_TO_I(n);
    const VI n1 = VI_SRAI(ni, 1), n2 = VI_SUB(ni, n1);
    const V s1 = VI_AS_V(VI_SLLI(VI_ADD(n1, VI_SET1(127)), 23));
    const V s2 = VI_AS_V(VI_SLLI(VI_ADD(n2, VI_SET1(127)), 23));
    return V_MUL(V_MUL(p, s1), s2);
#endif
}

/* exp(x), any x: clamped to [-105, 89] first (below -105 and above 89 the
 * result is 0 and +inf either way). */
static inline V v_exp(V x) { return v_exp_clamped(V_MIN(V_SET1(89.0f), V_MAX(V_SET1(-105.0f), x))); }

/* exp(x) for x <= 0 (or NaN): the same bits as v_exp, one clamp fewer. */
static inline V v_exp_nonpos(V x) { return v_exp_clamped(V_MAX(V_SET1(-105.0f), x)); }

#endif
