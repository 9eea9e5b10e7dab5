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

#if defined(V_LUT16)
/* gelu(x) = x Phi(x) without erf's two branches and exp: Q(y) = Phi(-y) for
 * y = |x| in 16 pieces of [0, 5.6), each a degree-5 fit in t in [-1/2, 1/2]
 * (piece i covers y = (i + 1/2 + t) * 0.35), its coefficients looked up a
 * lane (V_LUT16). Phi(x) = Q for x < 0, so the small values keep their own
 * ulps, and 1 - Q above; Q is 0 past 5.6 (where it is below 1.1e-8), which
 * also gives gelu(-inf) = -inf * 0 = NaN and NaN for NaN, as the reference.
 * Fit error below 2e-8; about 1.6 ulp worst for x > 0 (test_f32_vunary.c
 * sweeps it against double). Coefficient j of piece i: GELU_Q[j][i]. */
static const float GELU_Q[6][16] __attribute__((aligned(64))) = {
    {4.305398166e-01f, 2.997916043e-01f, 1.907869577e-01f, 1.102876142e-01f,
     5.762822554e-02f, 2.711468004e-02f, 1.145296544e-02f, 4.332448822e-03f,
     1.464943169e-03f, 4.420929763e-04f, 1.189248796e-04f, 2.848774056e-05f,
     6.071655662e-06f, 1.150587195e-06f, 1.937508785e-07f, 2.897794538e-08f},
    {-1.375080049e-01f, -1.216541380e-01f, -9.521924704e-02f, -6.593584269e-02f,
     -4.039403796e-02f, -2.189333364e-02f, -1.049797330e-02f, -4.453463946e-03f,
     -1.671434497e-03f, -5.549830967e-04f, -1.630305924e-04f, -4.236990935e-05f,
     -9.741930626e-06f, -1.981671858e-06f, -3.566298687e-07f, -5.678101900e-08f},
    {4.211092368e-03f, 1.117677335e-02f, 1.458027773e-02f, 1.413494814e-02f,
     1.113366429e-02f, 7.375406101e-03f, 4.179566633e-03f, 2.045829315e-03f,
     8.701845654e-04f, 3.229182039e-04f, 1.048394552e-04f, 2.983922241e-05f,
     7.456566436e-06f, 1.637887294e-06f, 3.165326632e-07f, 5.385895108e-08f},
    {2.721439349e-03f, 1.799173304e-03f, 4.556599888e-04f, -6.739072851e-04f,
     -1.221072627e-03f, -1.209385577e-03f, -8.949861513e-04f, -5.356123438e-04f,
     -2.679068130e-04f, -1.139393280e-04f, -4.162444384e-05f, -1.314845758e-05f,
     -3.607663530e-06f, -8.626292924e-07f, -1.801901703e-07f, -3.294292839e-08f},
    {-1.266878680e-04f, -3.087026707e-04f, -3.307669249e-04f, -2.158545394e-04f,
     -5.966097888e-05f, 5.216997306e-05f, 9.217403567e-05f, 8.104648441e-05f,
     5.203680121e-05f, 2.669016430e-05f, 1.134664853e-05f, 4.075667221e-06f,
     1.251192089e-06f, 3.307449106e-07f, 7.567705751e-08f, 1.504457892e-08f},
    {-4.814530621e-05f, -2.156428855e-05f, 1.182956021e-05f, 3.070373714e-05f,
     2.881938963e-05f, 1.507495472e-05f, 1.738324272e-06f, -5.024686743e-06f,
     -5.874177077e-06f, -4.087234629e-06f, -2.136072908e-06f, -8.984486044e-07f,
     -3.137475062e-07f, -9.253881927e-08f, -2.329954008e-08f, -5.043802265e-09f}};

static inline V v_gelu(V x) {
    const V y = V_ABS(x);
    /* u - 1/2 in [-1/2, 15.5) on [0, 5.6): its nearest integer is the piece
     * (-0.5 rounds to even, 0), the rest is t; past 5.6 the piece is any one
     * (V_LUT16 takes the index mod 16) and the result is replaced by 0 */
    const V um = V_FMA(y, V_SET1(16.0f / 5.6f), V_SET1(-0.5f));
    const V r = V_ROUND(um);
    const V t = V_SUB(um, r);
    const VI i = V_TO_I(r);
    V q = V_LUT16(i, GELU_Q[5]);
    q = V_FMA(q, t, V_LUT16(i, GELU_Q[4]));
    q = V_FMA(q, t, V_LUT16(i, GELU_Q[3]));
    q = V_FMA(q, t, V_LUT16(i, GELU_Q[2]));
    q = V_FMA(q, t, V_LUT16(i, GELU_Q[1]));
    q = V_FMA(q, t, V_LUT16(i, GELU_Q[0]));
    q = V_BLEND(V_LT(y, V_SET1(5.6f)), V_SET1(0.0f), q);
    return V_MUL(x, V_BLEND(V_LT(x, V_SET1(0.0f)), V_SUB(V_SET1(1.0f), q), q));
}
#endif

#ifdef EMBER_KERNELS_DISPATCH_H
/* The GEMM epilogue's activation act (ember_f32_gemm_act) on one vector, for
 * the micro-kernels that apply it in registers: the elementwise kernels'
 * formulas above, so a fused tile equals the unfused passes bit for bit.
 * GELU is not among them: its table and polynomial, inlined beside a hot
 * loop whose act is known only at run time, made the compiler spill that
 * loop's accumulators (the blocked 1x1 convolutions ran 2x slower); kernels
 * whose act is a constant where this is inlined take v_gemm_act_all. */
static inline __attribute__((always_inline)) V v_gemm_act(ember_f32_gemm_act act, V r) {
    switch (act) {
    case EMBER_GEMM_ACT_SIGMOID: return v_sigmoid(r);
    case EMBER_GEMM_ACT_HARD_SWISH: return v_hswish(r);
    case EMBER_GEMM_ACT_SILU: return v_silu(r);
    default: return r;
    }
}

#if defined(V_LUT16) /* every vocabulary whose micro-kernels call these (x86) */
/* Every activation, GELU included, for act a constant where it is inlined. */
static inline __attribute__((always_inline)) V v_gemm_act_all(ember_f32_gemm_act act, V r) {
    return act == EMBER_GEMM_ACT_GELU ? v_gelu(r) : v_gemm_act(act, r);
}
#endif
#endif

#endif
