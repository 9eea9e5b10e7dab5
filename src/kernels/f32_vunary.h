/* Vectorised f32 elementwise kernels (the activations and the arithmetic the
 * operators and the fused activations call through the tables of dispatch.h),
 * their portable twins, and the lists that declare them and fill the tables.
 *
 * Semantics are those of the references (generic/elementwise_ref.h): NaN in,
 * NaN out (except hard_sigmoid, which like fminf gives 1); relu, clamp,
 * hard_sigmoid, hard_swish, leaky_relu and the binary ops are bit-exact with
 * the reference. exp, sigmoid, tanh, erf, gelu, gelu_tanh and silu are polynomial
 * approximations; tests/kernels/test_f32_vunary.c checks their bound against
 * double precision (see there and docs/PERFORMANCE.md). */
#ifndef EMBER_KERNELS_F32_VUNARY_H
#define EMBER_KERNELS_F32_VUNARY_H

#include <stddef.h>

#include "dispatch.h"

/* X(name, enum value) for every ember_f32_vop */
#define EMBER_F32_VUNARY_LIST(X)                                                               \
    X(relu, EMBER_VOP_RELU) X(clamp, EMBER_VOP_CLAMP) X(sigmoid, EMBER_VOP_SIGMOID)             \
    X(tanh, EMBER_VOP_TANH) X(hsigmoid, EMBER_VOP_HARD_SIGMOID) X(hswish, EMBER_VOP_HARD_SWISH) \
    X(exp, EMBER_VOP_EXP) X(erf, EMBER_VOP_ERF) X(gelu, EMBER_VOP_GELU)                         \
    X(gelu_tanh, EMBER_VOP_GELU_TANH) X(lrelu, EMBER_VOP_LEAKY_RELU) X(silu, EMBER_VOP_SILU)

/* X(name, op index, shape index): add, sub, mul, div x vv, vs, sv */
#define EMBER_F32_VBINARY_LIST(X)                                                    \
    X(add_vv, 0, 0) X(add_vs, 0, 1) X(add_sv, 0, 2) X(sub_vv, 1, 0) X(sub_vs, 1, 1) \
    X(sub_sv, 1, 2) X(mul_vv, 2, 0) X(mul_vs, 2, 1) X(mul_sv, 2, 2) X(div_vv, 3, 0) \
    X(div_vs, 3, 1) X(div_sv, 3, 2)

#define EMBER_F32_VUNARY_DECL_(isa, name)                                                    \
    void ember_f32_v##name##__##isa(size_t n, const float* x, float* y, float alpha, \
                                    float beta);
#define EMBER_F32_VBINARY_DECL_(isa, name) \
    void ember_f32_v##name##__##isa(size_t n, const float* a, const float* b, float* y);

#define EMBER_F32_DECL_SCALAR_U_(name, e) EMBER_F32_VUNARY_DECL_(scalar, name)
#define EMBER_F32_DECL_SCALAR_B_(name, o, s) EMBER_F32_VBINARY_DECL_(scalar, name)
EMBER_F32_VUNARY_LIST(EMBER_F32_DECL_SCALAR_U_)
EMBER_F32_VBINARY_LIST(EMBER_F32_DECL_SCALAR_B_)
#if defined(__x86_64__)
#define EMBER_F32_DECL_AVX2_U_(name, e) EMBER_F32_VUNARY_DECL_(avx2, name)
#define EMBER_F32_DECL_AVX2_B_(name, o, s) EMBER_F32_VBINARY_DECL_(avx2, name)
#define EMBER_F32_DECL_AVX512_U_(name, e) EMBER_F32_VUNARY_DECL_(avx512, name)
#define EMBER_F32_DECL_AVX512_B_(name, o, s) EMBER_F32_VBINARY_DECL_(avx512, name)
EMBER_F32_VUNARY_LIST(EMBER_F32_DECL_AVX2_U_)
EMBER_F32_VBINARY_LIST(EMBER_F32_DECL_AVX2_B_)
EMBER_F32_VUNARY_LIST(EMBER_F32_DECL_AVX512_U_)
EMBER_F32_VBINARY_LIST(EMBER_F32_DECL_AVX512_B_)
#endif
#if defined(__aarch64__)
#define EMBER_F32_DECL_NEON_U_(name, e) EMBER_F32_VUNARY_DECL_(neon, name)
#define EMBER_F32_DECL_NEON_B_(name, o, s) EMBER_F32_VBINARY_DECL_(neon, name)
EMBER_F32_VUNARY_LIST(EMBER_F32_DECL_NEON_U_)
EMBER_F32_VBINARY_LIST(EMBER_F32_DECL_NEON_B_)
#endif

/* The initializer of ember_kernels.f32_elementwise for one ISA suffix. */
#define EMBER_F32_TBL_U_(isa, name, e) [e] = ember_f32_v##name##__##isa,
#define EMBER_F32_TBL_B_(isa, name, o, s) [o][s] = ember_f32_v##name##__##isa,
#define EMBER_F32_ELEMENTWISE_TABLE(isa)                                               \
    {.unary = {EMBER_F32_VUNARY_LIST_ISA_(EMBER_F32_TBL_U_, isa)},                     \
     .binary = {EMBER_F32_VBINARY_LIST_ISA_(EMBER_F32_TBL_B_, isa)}}
#define EMBER_F32_VUNARY_LIST_ISA_(M, isa)                                                     \
    M(isa, relu, EMBER_VOP_RELU) M(isa, clamp, EMBER_VOP_CLAMP)                               \
    M(isa, sigmoid, EMBER_VOP_SIGMOID) M(isa, tanh, EMBER_VOP_TANH)                           \
    M(isa, hsigmoid, EMBER_VOP_HARD_SIGMOID) M(isa, hswish, EMBER_VOP_HARD_SWISH)             \
    M(isa, exp, EMBER_VOP_EXP) M(isa, erf, EMBER_VOP_ERF) M(isa, gelu, EMBER_VOP_GELU)        \
    M(isa, gelu_tanh, EMBER_VOP_GELU_TANH) M(isa, lrelu, EMBER_VOP_LEAKY_RELU)                \
    M(isa, silu, EMBER_VOP_SILU)
#define EMBER_F32_VBINARY_LIST_ISA_(M, isa)                                            \
    M(isa, add_vv, 0, 0) M(isa, add_vs, 0, 1) M(isa, add_sv, 0, 2) M(isa, sub_vv, 1, 0) \
    M(isa, sub_vs, 1, 1) M(isa, sub_sv, 1, 2) M(isa, mul_vv, 2, 0) M(isa, mul_vs, 2, 1) \
    M(isa, mul_sv, 2, 2) M(isa, div_vv, 3, 0) M(isa, div_vs, 3, 1) M(isa, div_sv, 3, 2)

#endif
