/* Comparisons and Min/Max over one broadcast row: a and b advance by inc_a and
 * inc_b (0: a repeated scalar, 1: contiguous). */
#ifndef EMBER_COMPARE_REF_H
#define EMBER_COMPARE_REF_H

#include <stddef.h>
#include <stdint.h>

typedef enum ember_compare_op {
    EMBER_CMP_LESS, EMBER_CMP_LESS_EQUAL, EMBER_CMP_GREATER, EMBER_CMP_GREATER_EQUAL,
    EMBER_CMP_EQUAL
} ember_compare_op;

/* out[i] = a[i] OP b[i] as 0 or 1 (NaN compares false, as in IEEE and ONNX). */
void ember_f32_compare_ref(ember_compare_op op, size_t n, const float* a, size_t inc_a,
                           const float* b, size_t inc_b, uint8_t* out);
void ember_i32_compare_ref(ember_compare_op op, size_t n, const int32_t* a, size_t inc_a,
                           const int32_t* b, size_t inc_b, uint8_t* out);
void ember_i64_compare_ref(ember_compare_op op, size_t n, const int64_t* a, size_t inc_a,
                           const int64_t* b, size_t inc_b, uint8_t* out);
void ember_u8_compare_ref(ember_compare_op op, size_t n, const uint8_t* a, size_t inc_a,
                          const uint8_t* b, size_t inc_b, uint8_t* out);

/* y[i] = min or max(y[i], b[i]); NaN propagates (numpy.minimum / maximum). */
void ember_f32_minmax_ref(int is_max, size_t n, float* y, const float* b, size_t inc_b);
void ember_i32_minmax_ref(int is_max, size_t n, int32_t* y, const int32_t* b, size_t inc_b);
void ember_i64_minmax_ref(int is_max, size_t n, int64_t* y, const int64_t* b, size_t inc_b);

#endif
