/* The body of the x86 (and NEON) elementwise kernels, included by
 * f32_vunary_{avx2,avx512,neon}.c after their vocabulary (x86/f32_vec_avx2.h,
 * x86/f32_vec_avx512.h, arm/f32_vec_neon.h) defines, for V (a vector of VL
 * floats), M (a lane mask) and VI (a vector of VL int32):
 *     V_LOADU V_STOREU V_SET1 V_ADD V_SUB V_MUL V_DIV V_FMA(a, b, c) = a * b + c
 *     V_MAX(a, b) = a > b ? a : b     V_MIN(a, b) = a < b ? a : b   (maxps / minps)
 *     V_ROUND (to nearest even)  V_ABS  V_XOR  V_AND  V_LT(a, b) -> M  V_GE(a, b) -> M
 *     V_BLEND(m, a, b) = m ? b : a    V_TO_I (exact for integral values)
 *     VI_ADD VI_SUB VI_SRAI VI_SLLI VI_SET1  VI_AS_V (bit cast)
 * and ISA, the name suffix. Tails (n % VL) go through a small buffer. */
#include <string.h>

#include "f32_vact_tmpl.h"
#include "f32_vunary.h"

#define CAT_(a, b) a##b
#define CAT(a, b) CAT_(a, b)
#define FN(name) CAT(CAT(ember_f32_v, name), CAT(__, ISA))

/* tanh(x): |x| < 0.625: x + x^3 P(x^2) (fitted, relative error 6e-8 on P);
 * above: 1 - 2 / (exp(2|x|) + 1) (>= 0.55: no cancellation), sign restored. */
static inline V v_tanh(V x) {
    const V ax = V_ABS(x);
    const V sign = V_XOR(x, ax);
    const V x2 = V_MUL(x, x);
    V p = V_SET1(0.002308012219145894f);
    p = V_FMA(p, x2, V_SET1(-0.00835995189845562f));
    p = V_FMA(p, x2, V_SET1(0.02177494764328003f));
    p = V_FMA(p, x2, V_SET1(-0.05396023020148277f));
    p = V_FMA(p, x2, V_SET1(0.13333310186862946f));
    p = V_FMA(p, x2, V_SET1(-0.3333333432674408f));
    const V small = V_FMA(V_MUL(p, x2), x, x);
    const V e = v_exp(V_MIN(V_SET1(20.0f), V_ADD(ax, ax)));
    const V big = V_SUB(V_SET1(1.0f), V_DIV(V_SET1(2.0f), V_ADD(e, V_SET1(1.0f))));
    return V_BLEND(V_LT(ax, V_SET1(0.625f)), V_XOR(big, sign), small);
}

/* erf(x): |x| < 1: x P(x^2) (fitted, relative error 7e-8); above:
 * 1 - exp(Q(|x| - 2.5)) with Q a fit of log(erfc) on [1, 3.92] (absolute error
 * 1.9e-7, so erf's relative error from it is below 0.16 * 1.9e-7 / 0.84);
 * |x| >= 3.92 gives 1. Sign restored. */
static inline V v_erf(V x) {
    const V ax = V_ABS(x);
    const V sign = V_XOR(x, ax);
    const V x2 = V_MUL(x, x);
    V p = V_SET1(7.898209878476337e-05f);
    p = V_FMA(p, x2, V_SET1(-0.0008024353883229196f));
    p = V_FMA(p, x2, V_SET1(0.00519005348905921f));
    p = V_FMA(p, x2, V_SET1(-0.026854809373617172f));
    p = V_FMA(p, x2, V_SET1(0.11283612251281738f));
    p = V_FMA(p, x2, V_SET1(-0.3761262893676758f));
    p = V_FMA(p, x2, V_SET1(1.128379225730896f));
    const V small = V_MUL(p, x);
    const V t = V_SUB(V_MIN(V_SET1(3.92f), ax), V_SET1(2.5f));
    V q = V_SET1(1.6449658915007603e-06f);
    q = V_FMA(q, t, V_SET1(-1.3281655810715165e-05f));
    q = V_FMA(q, t, V_SET1(7.727948104729876e-05f));
    q = V_FMA(q, t, V_SET1(-0.0004202333511784673f));
    q = V_FMA(q, t, V_SET1(0.0021652912255376577f));
    q = V_FMA(q, t, V_SET1(-0.010858437977731228f));
    q = V_FMA(q, t, V_SET1(-0.9438936710357666f));
    q = V_FMA(q, t, V_SET1(-5.352680683135986f));
    q = V_FMA(q, t, V_SET1(-7.806815147399902f));
    const V big = V_XOR(V_SUB(V_SET1(1.0f), v_exp(q)), sign);
    return V_BLEND(V_LT(ax, V_SET1(1.0f)), big, small);
}

/* op(x) for each kind; alpha and beta as in dispatch.h */
#define OP_relu(x) V_ADD(V_MAX(V_SET1(0.0f), x), V_SET1(0.0f)) /* -0 -> +0, NaN stays */
#define OP_clamp(x) V_MIN(vb, V_MAX(va, x))
#define OP_sigmoid(x) v_sigmoid(x)
#define OP_tanh(x) v_tanh(x)
#define OP_hsigmoid(x) V_MAX(V_MIN(V_ADD(V_MUL(va, x), vb), V_SET1(1.0f)), V_SET1(0.0f))
#define OP_hswish(x) v_hswish(x)
#define OP_exp(x) v_exp(x)
#define OP_erf(x) v_erf(x)
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
#define OP_gelu(x) v_gelu(x)
#else
#define OP_gelu(x) \
    V_MUL(V_MUL(V_SET1(0.5f), x), V_ADD(V_SET1(1.0f), v_erf(V_MUL(x, V_SET1(0.7071067811865476f)))))
#endif
#define OP_gelu_tanh(x)                                                                       \
    V_MUL(V_MUL(V_SET1(0.5f), x),                                                             \
          V_ADD(V_SET1(1.0f),                                                                 \
                v_tanh(V_MUL(V_SET1(0.7978845608028654f),                                     \
                             V_ADD(x, V_MUL(V_MUL(V_MUL(V_SET1(0.044715f), x), x), x))))))
#define OP_lrelu(x) V_BLEND(V_GE(x, V_SET1(0.0f)), V_MUL(va, x), x)
#define OP_silu(x) v_silu(x)

#define UNARY(name)                                                                        \
    void FN(name)(size_t n, const float* x, float* y, float alpha, float beta) {           \
        const V va = V_SET1(alpha), vb = V_SET1(beta);                                     \
        (void)va;                                                                          \
        (void)vb;                                                                          \
        size_t i = 0;                                                                      \
        for (; i + VL <= n; i += VL) {                                                     \
            const V v = V_LOADU(x + i);                                                    \
            V_STOREU(y + i, OP_##name(v));                                                 \
        }                                                                                  \
        if (i < n) {                                                                       \
            float buf[VL] = {0};                                                           \
            memcpy(buf, x + i, (n - i) * sizeof(float));                                   \
            const V v = V_LOADU(buf);                                                      \
            V_STOREU(buf, OP_##name(v));                                                   \
            memcpy(y + i, buf, (n - i) * sizeof(float));                                   \
        }                                                                                  \
    }

UNARY(relu)
UNARY(clamp)
UNARY(sigmoid)
UNARY(tanh)
UNARY(hsigmoid)
UNARY(hswish)
UNARY(exp)
UNARY(erf)
UNARY(gelu)
UNARY(gelu_tanh)
UNARY(lrelu)
UNARY(silu)

/* Binary: LA / LB load operand a / b at i (a vector, or the broadcast scalar). */
#define BINARY(name, OPV, AVEC, BVEC)                                                \
    void FN(name)(size_t n, const float* a, const float* b, float* y) {              \
        const V sa = V_SET1(a[0]), sb = V_SET1(b[0]);                                \
        (void)sa;                                                                    \
        (void)sb;                                                                    \
        size_t i = 0;                                                                \
        for (; i + VL <= n; i += VL) {                                               \
            const V va = AVEC ? V_LOADU(a + i) : sa, vb = BVEC ? V_LOADU(b + i) : sb; \
            V_STOREU(y + i, OPV(va, vb));                                            \
        }                                                                            \
        if (i < n) {                                                                 \
            float ba[VL] = {0}, bb[VL] = {0};                                        \
            if (AVEC) memcpy(ba, a + i, (n - i) * sizeof(float));                    \
            if (BVEC) memcpy(bb, b + i, (n - i) * sizeof(float));                    \
            const V va = AVEC ? V_LOADU(ba) : sa, vb = BVEC ? V_LOADU(bb) : sb;      \
            V_STOREU(ba, OPV(va, vb));                                               \
            memcpy(y + i, ba, (n - i) * sizeof(float));                              \
        }                                                                            \
    }

BINARY(add_vv, V_ADD, 1, 1)
BINARY(add_vs, V_ADD, 1, 0)
BINARY(add_sv, V_ADD, 0, 1)
BINARY(sub_vv, V_SUB, 1, 1)
BINARY(sub_vs, V_SUB, 1, 0)
BINARY(sub_sv, V_SUB, 0, 1)
BINARY(mul_vv, V_MUL, 1, 1)
BINARY(mul_vs, V_MUL, 1, 0)
BINARY(mul_sv, V_MUL, 0, 1)
BINARY(div_vv, V_DIV, 1, 1)
BINARY(div_vs, V_DIV, 1, 0)
BINARY(div_sv, V_DIV, 0, 1)
