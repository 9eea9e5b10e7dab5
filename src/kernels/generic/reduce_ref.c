/* Reference kernels of the reductions (ReduceSum, ReduceMean, ReduceMax) and ArgMax
 * over the middle axis of an outer x n x inner array. */
#include <math.h>

#include "generic/elementwise_ref.h"

/* inner == 1 sums contiguous rows with 8 partial sums (vectorisable, and more
 * accurate than one running sum); otherwise whole inner rows are accumulated. */
#define REDUCE_SUM(T)                                                          \
    for (size_t o = 0; o < outer; o++) {                                       \
        const T* xo = x + o * n * inner;                                       \
        T* yo = y + o * inner;                                                 \
        if (inner == 1) {                                                      \
            T part[8] = {0};                                                   \
            size_t k = 0;                                                      \
            for (; k + 8 <= n; k += 8)                                         \
                for (size_t j = 0; j < 8; j++) part[j] += xo[k + j];           \
            T s = 0;                                                           \
            for (; k < n; k++) s += xo[k];                                     \
            yo[0] = s + (((part[0] + part[1]) + (part[2] + part[3])) +         \
                         ((part[4] + part[5]) + (part[6] + part[7])));         \
            continue;                                                          \
        }                                                                      \
        for (size_t i = 0; i < inner; i++) yo[i] = 0;                          \
        for (size_t k = 0; k < n; k++)                                         \
            for (size_t i = 0; i < inner; i++) yo[i] += xo[k * inner + i];     \
    }

void ember_f32_reduce_sum_ref(size_t outer, size_t n, size_t inner, const float* x, float* y) {
    REDUCE_SUM(float)
}

/* Integer sums wrap: done in the unsigned type. */
#define REDUCE_SUM_INT(T, U)                                                   \
    for (size_t o = 0; o < outer; o++) {                                       \
        const T* xo = x + o * n * inner;                                       \
        T* yo = y + o * inner;                                                 \
        for (size_t i = 0; i < inner; i++) {                                   \
            U s = 0;                                                           \
            for (size_t k = 0; k < n; k++) s += (U)xo[k * inner + i];          \
            yo[i] = (T)s;                                                      \
        }                                                                      \
    }

void ember_i32_reduce_sum_ref(size_t outer, size_t n, size_t inner, const int32_t* x, int32_t* y) {
    REDUCE_SUM_INT(int32_t, uint32_t)
}

void ember_i64_reduce_sum_ref(size_t outer, size_t n, size_t inner, const int64_t* x, int64_t* y) {
    REDUCE_SUM_INT(int64_t, uint64_t)
}

void ember_f32_reduce_max_ref(size_t outer, size_t n, size_t inner, const float* x, float* y) {
    for (size_t o = 0; o < outer; o++) {
        const float* xo = x + o * n * inner;
        float* yo = y + o * inner;
        for (size_t i = 0; i < inner; i++) yo[i] = -INFINITY;
        for (size_t k = 0; k < n; k++)
            for (size_t i = 0; i < inner; i++) {
                const float v = xo[k * inner + i];
                /* once NaN, stays NaN: v > NaN and v != v are both false */
                yo[i] = (v > yo[i] || v != v) ? v : yo[i];
            }
    }
}

#define REDUCE_MAX_INT(T, MIN)                                                 \
    for (size_t o = 0; o < outer; o++) {                                       \
        const T* xo = x + o * n * inner;                                       \
        T* yo = y + o * inner;                                                 \
        for (size_t i = 0; i < inner; i++) yo[i] = MIN;                        \
        for (size_t k = 0; k < n; k++)                                         \
            for (size_t i = 0; i < inner; i++) {                               \
                const T v = xo[k * inner + i];                                 \
                yo[i] = v > yo[i] ? v : yo[i];                                 \
            }                                                                  \
    }

void ember_i32_reduce_max_ref(size_t outer, size_t n, size_t inner, const int32_t* x, int32_t* y) {
    REDUCE_MAX_INT(int32_t, INT32_MIN)
}

void ember_i64_reduce_max_ref(size_t outer, size_t n, size_t inner, const int64_t* x, int64_t* y) {
    REDUCE_MAX_INT(int64_t, INT64_MIN)
}

void ember_f32_scale_ref(size_t n, float s, float* y) {
    for (size_t i = 0; i < n; i++) y[i] *= s;
}

/* GREATER(v, best): v beats the best so far; ties win only with select_last.
 * Once the best is NaN only a later NaN (with select_last) can replace it. */
#define ARGMAX(T, GREATER, NAN_TEST)                                                 \
    for (size_t o = 0; o < outer; o++)                                               \
        for (size_t i = 0; i < inner; i++) {                                         \
            const T* xs = x + o * n * inner + i;                                     \
            T best = xs[0];                                                          \
            size_t bk = 0;                                                           \
            for (size_t k = 1; k < n; k++) {                                         \
                const T v = xs[k * inner];                                           \
                if (NAN_TEST(best)) {                                                \
                    if (select_last && NAN_TEST(v)) bk = k;                          \
                    continue;                                                        \
                }                                                                    \
                if (GREATER(v, best) || (select_last && v == best)) {                \
                    best = v;                                                        \
                    bk = k;                                                          \
                }                                                                    \
            }                                                                        \
            y[o * inner + i] = (int64_t)bk;                                          \
        }

#define F_GREATER(v, b) ((v) > (b) || (v) != (v))
#define F_ISNAN(v) ((v) != (v))
#define I_GREATER(v, b) ((v) > (b))
#define I_NEVER(v) ((void)(v), 0)

void ember_f32_argmax_ref(size_t outer, size_t n, size_t inner, bool select_last, const float* x,
                          int64_t* y) {
    ARGMAX(float, F_GREATER, F_ISNAN)
}

void ember_i32_argmax_ref(size_t outer, size_t n, size_t inner, bool select_last, const int32_t* x,
                          int64_t* y) {
    ARGMAX(int32_t, I_GREATER, I_NEVER)
}

void ember_i64_argmax_ref(size_t outer, size_t n, size_t inner, bool select_last, const int64_t* x,
                          int64_t* y) {
    ARGMAX(int64_t, I_GREATER, I_NEVER)
}
