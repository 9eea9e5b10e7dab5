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
