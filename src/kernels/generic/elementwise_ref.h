/* Portable C reference kernels of the elementwise operators (arithmetic,
 * activations, Clip, PRelu, Where, Cast) and of the reductions.
 *
 * They know nothing of tensors or nodes: only pointers and element counts.
 * Broadcasting is the operator's business: it splits the output into rows and
 * calls a kernel per row, where each operand advances by an increment inc that
 * is 1 (contiguous) or 0 (one element repeated). Outputs may alias an input
 * read with increment 1. The kernels check nothing and never allocate.
 *
 * Integer arithmetic wraps (two's complement) instead of overflowing: it is
 * done on unsigned values, so no input is undefined behaviour. Integer
 * division truncates toward zero; the caller guarantees no divisor is 0
 * (ember_*_count_zeros_ref helps it check first). */
#ifndef EMBER_KERNELS_GENERIC_ELEMENTWISE_REF_H
#define EMBER_KERNELS_GENERIC_ELEMENTWISE_REF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ember.h"

/* ------------------------------------------------------------------ binary */

typedef enum ember_binary_op {
    EMBER_BINARY_ADD = 0,
    EMBER_BINARY_SUB = 1,
    EMBER_BINARY_MUL = 2,
    EMBER_BINARY_DIV = 3,
    EMBER_BINARY_POW = 4 /* f32 only */
} ember_binary_op;

/* y[i] = a[i * a_inc] op b[i * b_inc] for i < n; a_inc and b_inc are 0 or 1. */
void ember_f32_binary_ref(ember_binary_op op, size_t n, const float* a, size_t a_inc,
                          const float* b, size_t b_inc, float* y);
void ember_i32_binary_ref(ember_binary_op op, size_t n, const int32_t* a, size_t a_inc,
                          const int32_t* b, size_t b_inc, int32_t* y);
void ember_i64_binary_ref(ember_binary_op op, size_t n, const int64_t* a, size_t a_inc,
                          const int64_t* b, size_t b_inc, int64_t* y);
/* y[i] = powf(a[i * a_inc], (float)e[i * e_inc]). */
void ember_f32_pow_i32_ref(size_t n, const float* a, size_t a_inc, const int32_t* e, size_t e_inc,
                           float* y);
void ember_f32_pow_i64_ref(size_t n, const float* a, size_t a_inc, const int64_t* e, size_t e_inc,
                           float* y);

/* Number of zero elements of x[0..n). */
size_t ember_i32_count_zeros_ref(size_t n, const int32_t* x);
size_t ember_i64_count_zeros_ref(size_t n, const int64_t* x);

/* ------------------------------------------------------------------- unary */

typedef enum ember_unary_op {
    EMBER_UNARY_SQRT = 0,
    EMBER_UNARY_EXP = 1,
    EMBER_UNARY_LOG = 2,
    EMBER_UNARY_NEG = 3,          /* also i32, i64 */
    EMBER_UNARY_ABS = 4,          /* also i32, i64 */
    EMBER_UNARY_RECIPROCAL = 5,
    EMBER_UNARY_RELU = 6,         /* also i32, i64 */
    EMBER_UNARY_LEAKY_RELU = 7,   /* x >= 0 ? x : alpha * x */
    EMBER_UNARY_ELU = 8,          /* x > 0 ? x : alpha * (exp(x) - 1) */
    EMBER_UNARY_SIGMOID = 9,
    EMBER_UNARY_TANH = 10,
    EMBER_UNARY_HARD_SIGMOID = 11, /* max(0, min(1, alpha * x + beta)) */
    EMBER_UNARY_HARD_SWISH = 12,   /* x * max(0, min(1, x / 6 + 1 / 2)) */
    EMBER_UNARY_GELU = 13,         /* x / 2 * (1 + erf(x / sqrt 2)) */
    EMBER_UNARY_GELU_TANH = 14,    /* x / 2 * (1 + tanh(sqrt(2 / pi) * (x + 0.044715 x^3))) */
    EMBER_UNARY_ERF = 15
} ember_unary_op;

/* y[i] = op(x[i]) for i < n; alpha and beta as documented per op (ignored otherwise). */
void ember_f32_unary_ref(ember_unary_op op, float alpha, float beta, size_t n, const float* x,
                         float* y);
/* Only NEG, ABS and RELU; the others leave y untouched. Wraps on the most negative value. */
void ember_i32_unary_ref(ember_unary_op op, size_t n, const int32_t* x, int32_t* y);
void ember_i64_unary_ref(ember_unary_op op, size_t n, const int64_t* x, int64_t* y);

/* --------------------------------------------------------- Clip, PRelu, Where */

/* y[i] = min(max(x[i], lo), hi) (hi wins when lo > hi); NaN passes through. */
void ember_f32_clip_ref(size_t n, const float* x, float lo, float hi, float* y);
void ember_i32_clip_ref(size_t n, const int32_t* x, int32_t lo, int32_t hi, int32_t* y);
void ember_i64_clip_ref(size_t n, const int64_t* x, int64_t lo, int64_t hi, int64_t* y);

/* y[i] = x[i] >= 0 ? x[i] : slope[i * s_inc] * x[i]. */
void ember_f32_prelu_ref(size_t n, const float* x, const float* slope, size_t s_inc, float* y);

/* y[i] = cond[i * c_inc] ? x[i * x_inc] : z[i * z_inc], elements of elem_size bytes
 * (any size; 1, 2, 4 and 8 are the fast ones). A nonzero cond byte is true. */
void ember_where_ref(size_t n, size_t elem_size, const uint8_t* cond, size_t c_inc, const void* x,
                     size_t x_inc, const void* z, size_t z_inc, void* y);

/* -------------------------------------------------------------------- Cast */

/* IEEE binary16 <-> binary32, bit-exact and portable: round to nearest even,
 * overflow to infinity, subnormals kept. NaNs stay NaN with their sign and
 * the top payload bits, made quiet (as F16C hardware does). */
uint16_t ember_f32_to_f16(float x);
float ember_f16_to_f32(uint16_t h);
void ember_f32_to_f16_ref(size_t n, const float* x, uint16_t* y);
void ember_f16_to_f32_ref(size_t n, const uint16_t* x, float* y);

/* Converts n elements of dtype from into dtype to (F32, F16, I8, U8, I32, I64,
 * BOOL; returns false, writing nothing, for any other). Float to integer
 * truncates toward zero and saturates at the target's range, NaN giving 0.
 * Integer to narrower integer wraps (keeps the low bits). To BOOL: x != 0
 * (NaN is true). From BOOL: any nonzero byte is 1. f16 goes through f32,
 * which is exact. */
bool ember_cast_ref(ember_dtype from, ember_dtype to, size_t n, const void* x, void* y);

/* -------------------------------------------------------------- reductions */

/* x is outer x n x inner, y is outer x inner:
 *     y[o][i] = reduce over k < n of x[o][k][i].
 * Sum of nothing is 0; max of nothing is -inf (integers: the type's minimum).
 * Max propagates NaN. */
void ember_f32_reduce_sum_ref(size_t outer, size_t n, size_t inner, const float* x, float* y);
void ember_f32_reduce_max_ref(size_t outer, size_t n, size_t inner, const float* x, float* y);
void ember_i32_reduce_sum_ref(size_t outer, size_t n, size_t inner, const int32_t* x, int32_t* y);
void ember_i32_reduce_max_ref(size_t outer, size_t n, size_t inner, const int32_t* x, int32_t* y);
void ember_i64_reduce_sum_ref(size_t outer, size_t n, size_t inner, const int64_t* x, int64_t* y);
void ember_i64_reduce_max_ref(size_t outer, size_t n, size_t inner, const int64_t* x, int64_t* y);

/* y[i] *= s for i < n. */
void ember_f32_scale_ref(size_t n, float s, float* y);

/* y[o][i] = the k < n of the largest x[o][k][i] (n >= 1): the first such k,
 * or the last with select_last. NaN counts as larger than any number. */
void ember_f32_argmax_ref(size_t outer, size_t n, size_t inner, bool select_last, const float* x,
                          int64_t* y);
void ember_i32_argmax_ref(size_t outer, size_t n, size_t inner, bool select_last, const int32_t* x,
                          int64_t* y);
void ember_i64_argmax_ref(size_t outer, size_t n, size_t inner, bool select_last, const int64_t* x,
                          int64_t* y);

#endif
