#include "compare_ref.h"

#define COMPARE(NAME, T)                                                                       \
    void NAME(ember_compare_op op, size_t n, const T* a, size_t inc_a, const T* b, size_t inc_b, \
              uint8_t* out) {                                                                   \
        switch (op) {                                                                          \
        case EMBER_CMP_LESS:                                                                   \
            for (size_t i = 0; i < n; i++) out[i] = a[i * inc_a] < b[i * inc_b];               \
            break;                                                                             \
        case EMBER_CMP_LESS_EQUAL:                                                             \
            for (size_t i = 0; i < n; i++) out[i] = a[i * inc_a] <= b[i * inc_b];              \
            break;                                                                             \
        case EMBER_CMP_GREATER:                                                                \
            for (size_t i = 0; i < n; i++) out[i] = a[i * inc_a] > b[i * inc_b];               \
            break;                                                                             \
        case EMBER_CMP_GREATER_EQUAL:                                                          \
            for (size_t i = 0; i < n; i++) out[i] = a[i * inc_a] >= b[i * inc_b];              \
            break;                                                                             \
        case EMBER_CMP_EQUAL:                                                                  \
            for (size_t i = 0; i < n; i++) out[i] = a[i * inc_a] == b[i * inc_b];              \
            break;                                                                             \
        }                                                                                      \
    }

COMPARE(ember_f32_compare_ref, float)
COMPARE(ember_i32_compare_ref, int32_t)
COMPARE(ember_i64_compare_ref, int64_t)
COMPARE(ember_u8_compare_ref, uint8_t)

void ember_f32_minmax_ref(int is_max, size_t n, float* y, const float* b, size_t inc_b) {
    for (size_t i = 0; i < n; i++) {
        const float a = y[i], v = b[i * inc_b];
        /* a NaN on either side wins */
        if (a != a) continue;
        y[i] = (v != v || (is_max ? v > a : v < a)) ? v : a;
    }
}

#define MINMAX(NAME, T)                                                          \
    void NAME(int is_max, size_t n, T* y, const T* b, size_t inc_b) {            \
        for (size_t i = 0; i < n; i++) {                                         \
            const T v = b[i * inc_b];                                            \
            if (is_max ? v > y[i] : v < y[i]) y[i] = v;                          \
        }                                                                        \
    }

MINMAX(ember_i32_minmax_ref, int32_t)
MINMAX(ember_i64_minmax_ref, int64_t)
