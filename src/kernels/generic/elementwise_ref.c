/* Reference kernels: binary arithmetic, unary functions, Clip, PRelu, Where. */
#include <math.h>
#include <string.h>

#include "generic/elementwise_ref.h"

/* The three shapes of a row: both contiguous, one side repeated. Separate loops
 * keep each one simple enough for the compiler to vectorise. */
#define BINARY_ROW(T, EXPR)                                                    \
    do {                                                                       \
        if (a_inc && b_inc) {                                                  \
            for (size_t i = 0; i < n; i++) {                                   \
                T va = a[i], vb = b[i];                                        \
                y[i] = (EXPR);                                                 \
            }                                                                  \
        } else if (a_inc) {                                                    \
            const T vb = b[0];                                                 \
            for (size_t i = 0; i < n; i++) {                                   \
                T va = a[i];                                                   \
                y[i] = (EXPR);                                                 \
            }                                                                  \
        } else if (b_inc) {                                                    \
            const T va = a[0];                                                 \
            for (size_t i = 0; i < n; i++) {                                   \
                T vb = b[i];                                                   \
                y[i] = (EXPR);                                                 \
            }                                                                  \
        } else {                                                               \
            const T va = a[0], vb = b[0];                                      \
            const T v = (EXPR);                                                \
            for (size_t i = 0; i < n; i++) y[i] = v;                           \
        }                                                                      \
    } while (0)

void ember_f32_binary_ref(ember_binary_op op, size_t n, const float* a, size_t a_inc,
                          const float* b, size_t b_inc, float* y) {
    if (n == 0) return;
    switch (op) {
    case EMBER_BINARY_ADD: BINARY_ROW(float, va + vb); break;
    case EMBER_BINARY_SUB: BINARY_ROW(float, va - vb); break;
    case EMBER_BINARY_MUL: BINARY_ROW(float, va * vb); break;
    case EMBER_BINARY_DIV: BINARY_ROW(float, va / vb); break;
    case EMBER_BINARY_POW: BINARY_ROW(float, powf(va, vb)); break;
    }
}

/* Wrapping arithmetic through the unsigned type U; division with the one
 * overflowing case (MIN / -1) done as a wrapping negation. */
#define INT_BINARY(T, U)                                                        \
    if (n == 0) return;                                                              \
    switch (op) {                                                                    \
    case EMBER_BINARY_ADD: BINARY_ROW(T, (T)((U)va + (U)vb)); break;                 \
    case EMBER_BINARY_SUB: BINARY_ROW(T, (T)((U)va - (U)vb)); break;                 \
    case EMBER_BINARY_MUL: BINARY_ROW(T, (T)((U)va * (U)vb)); break;                 \
    case EMBER_BINARY_DIV:                                                           \
        BINARY_ROW(T, vb == -1 ? (T)(0u - (U)va) : (vb == 0 ? (T)0 : (T)(va / vb))); \
        break;                                                                       \
    case EMBER_BINARY_POW: break;                                                    \
    }

void ember_i32_binary_ref(ember_binary_op op, size_t n, const int32_t* a, size_t a_inc,
                          const int32_t* b, size_t b_inc, int32_t* y) {
    INT_BINARY(int32_t, uint32_t)
}

void ember_i64_binary_ref(ember_binary_op op, size_t n, const int64_t* a, size_t a_inc,
                          const int64_t* b, size_t b_inc, int64_t* y) {
    INT_BINARY(int64_t, uint64_t)
}

void ember_f32_pow_i32_ref(size_t n, const float* a, size_t a_inc, const int32_t* e, size_t e_inc,
                           float* y) {
    for (size_t i = 0; i < n; i++) y[i] = powf(a[i * a_inc], (float)e[i * e_inc]);
}

void ember_f32_pow_i64_ref(size_t n, const float* a, size_t a_inc, const int64_t* e, size_t e_inc,
                           float* y) {
    for (size_t i = 0; i < n; i++) y[i] = powf(a[i * a_inc], (float)e[i * e_inc]);
}

size_t ember_i32_count_zeros_ref(size_t n, const int32_t* x) {
    size_t z = 0;
    for (size_t i = 0; i < n; i++) z += x[i] == 0;
    return z;
}

size_t ember_i64_count_zeros_ref(size_t n, const int64_t* x) {
    size_t z = 0;
    for (size_t i = 0; i < n; i++) z += x[i] == 0;
    return z;
}

/* ------------------------------------------------------------------- unary */

static inline float sigmoid(float x) {
    /* never exp of a large positive number: no overflow, no inf / inf */
    if (x >= 0.0f) return 1.0f / (1.0f + expf(-x));
    float e = expf(x);
    return e / (1.0f + e);
}

#define UNARY_LOOP(EXPR)                     \
    for (size_t i = 0; i < n; i++) {         \
        const float v = x[i];                \
        y[i] = (EXPR);                       \
    }                                        \
    break

void ember_f32_unary_ref(ember_unary_op op, float alpha, float beta, size_t n, const float* x,
                         float* y) {
    const float sqrt_2_over_pi = 0.7978845608028654f;
    const float inv_sqrt2 = 0.7071067811865476f;
    switch (op) {
    case EMBER_UNARY_SQRT: UNARY_LOOP(sqrtf(v));
    case EMBER_UNARY_EXP: UNARY_LOOP(expf(v));
    case EMBER_UNARY_LOG: UNARY_LOOP(logf(v));
    case EMBER_UNARY_NEG: UNARY_LOOP(-v);
    case EMBER_UNARY_ABS: UNARY_LOOP(fabsf(v));
    case EMBER_UNARY_RECIPROCAL: UNARY_LOOP(1.0f / v);
    case EMBER_UNARY_RELU: UNARY_LOOP(v > 0.0f ? v : (v != v ? v : 0.0f));
    case EMBER_UNARY_LEAKY_RELU: UNARY_LOOP(v >= 0.0f ? v : alpha * v);
    case EMBER_UNARY_ELU: UNARY_LOOP(v > 0.0f ? v : alpha * expm1f(v));
    case EMBER_UNARY_SIGMOID: UNARY_LOOP(sigmoid(v));
    case EMBER_UNARY_TANH: UNARY_LOOP(tanhf(v));
    case EMBER_UNARY_HARD_SIGMOID: UNARY_LOOP(fmaxf(0.0f, fminf(1.0f, alpha * v + beta)));
    case EMBER_UNARY_HARD_SWISH:
        UNARY_LOOP(v * fmaxf(0.0f, fminf(1.0f, v * (1.0f / 6.0f) + 0.5f)));
    case EMBER_UNARY_GELU: UNARY_LOOP(0.5f * v * (1.0f + erff(v * inv_sqrt2)));
    case EMBER_UNARY_GELU_TANH:
        UNARY_LOOP(0.5f * v * (1.0f + tanhf(sqrt_2_over_pi * (v + 0.044715f * v * v * v))));
    case EMBER_UNARY_ERF: UNARY_LOOP(erff(v));
    }
}

#define INT_UNARY(T, U)                                                                  \
    switch (op) {                                                                        \
    case EMBER_UNARY_NEG:                                                                \
        for (size_t i = 0; i < n; i++) y[i] = (T)(0u - (U)x[i]);                         \
        break;                                                                           \
    case EMBER_UNARY_ABS:                                                                \
        for (size_t i = 0; i < n; i++) y[i] = x[i] < 0 ? (T)(0u - (U)x[i]) : x[i];       \
        break;                                                                           \
    case EMBER_UNARY_RELU:                                                               \
        for (size_t i = 0; i < n; i++) y[i] = x[i] > 0 ? x[i] : 0;                       \
        break;                                                                           \
    default: break;                                                                      \
    }

void ember_i32_unary_ref(ember_unary_op op, size_t n, const int32_t* x, int32_t* y) {
    INT_UNARY(int32_t, uint32_t)
}

void ember_i64_unary_ref(ember_unary_op op, size_t n, const int64_t* x, int64_t* y) {
    INT_UNARY(int64_t, uint64_t)
}

/* --------------------------------------------------------- Clip, PRelu, Where */

void ember_f32_clip_ref(size_t n, const float* x, float lo, float hi, float* y) {
    for (size_t i = 0; i < n; i++) {
        const float v = x[i] < lo ? lo : x[i];
        y[i] = v > hi ? hi : v;
    }
}

void ember_i32_clip_ref(size_t n, const int32_t* x, int32_t lo, int32_t hi, int32_t* y) {
    for (size_t i = 0; i < n; i++) {
        const int32_t v = x[i] < lo ? lo : x[i];
        y[i] = v > hi ? hi : v;
    }
}

void ember_i64_clip_ref(size_t n, const int64_t* x, int64_t lo, int64_t hi, int64_t* y) {
    for (size_t i = 0; i < n; i++) {
        const int64_t v = x[i] < lo ? lo : x[i];
        y[i] = v > hi ? hi : v;
    }
}

void ember_f32_prelu_ref(size_t n, const float* x, const float* slope, size_t s_inc, float* y) {
    if (s_inc) {
        for (size_t i = 0; i < n; i++) y[i] = x[i] >= 0.0f ? x[i] : slope[i] * x[i];
    } else {
        const float s = slope[0];
        for (size_t i = 0; i < n; i++) y[i] = x[i] >= 0.0f ? x[i] : s * x[i];
    }
}

#define WHERE_TYPED(T)                                                              \
    do {                                                                            \
        const T* xs = x;                                                            \
        const T* zs = z;                                                            \
        T* ys = y;                                                                  \
        for (size_t i = 0; i < n; i++)                                              \
            ys[i] = cond[i * c_inc] ? xs[i * x_inc] : zs[i * z_inc];                \
    } while (0)

void ember_where_ref(size_t n, size_t elem_size, const uint8_t* cond, size_t c_inc, const void* x,
                     size_t x_inc, const void* z, size_t z_inc, void* y) {
    switch (elem_size) {
    case 1: WHERE_TYPED(uint8_t); return;
    case 2: WHERE_TYPED(uint16_t); return;
    case 4: WHERE_TYPED(uint32_t); return;
    case 8: WHERE_TYPED(uint64_t); return;
    default:
        for (size_t i = 0; i < n; i++) {
            const uint8_t* src = cond[i * c_inc] ? (const uint8_t*)x + i * x_inc * elem_size
                                                 : (const uint8_t*)z + i * z_inc * elem_size;
            memcpy((uint8_t*)y + i * elem_size, src, elem_size);
        }
    }
}
