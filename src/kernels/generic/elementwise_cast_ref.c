/* Reference kernel of Cast: every pair of f32, f16, i8, u8, i32, i64 and bool.
 * No conversion is undefined behaviour: floats are saturated (NaN to 0) before
 * they are converted to an integer type, and integers are narrowed through the
 * unsigned type of the target's width (modular, like numpy and ONNX Runtime). */
#include <string.h>

#include "generic/elementwise_ref.h"

static inline int64_t f32_to_i64(float v) {
    if (v != v) return 0;
    if (v >= 0x1p63f) return INT64_MAX;
    if (v < -0x1p63f) return INT64_MIN;
    return (int64_t)v;
}

static inline int32_t f32_to_i32(float v) {
    if (v != v) return 0;
    if (v >= 0x1p31f) return INT32_MAX;
    if (v < -0x1p31f) return INT32_MIN;
    return (int32_t)v;
}

static inline int8_t f32_to_i8(float v) {
    if (v != v) return 0;
    if (v >= 128.0f) return INT8_MAX;
    if (v <= -129.0f) return INT8_MIN;
    return (int8_t)v;
}

static inline uint8_t f32_to_u8(float v) {
    if (v != v) return 0;
    if (v >= 256.0f) return UINT8_MAX;
    if (v <= -1.0f) return 0;
    return (uint8_t)v;
}

#define ID(v) (v)
#define NONZERO(v) ((v) != 0)
#define HALF(v) ember_f16_to_f32(v)

#define CAST_LOOP(TS, TV, TD, LOAD, EXPR)      \
    do {                                       \
        const TS* s = x;                       \
        TD* d = y;                             \
        for (size_t i = 0; i < n; i++) {       \
            const TV v = (TV)LOAD(s[i]);       \
            d[i] = (TD)(EXPR);                 \
        }                                      \
    } while (0);                               \
    return true

/* From an integer type (or bool, loaded as 0/1). */
#define FROM_INT(TS, LOAD)                                                       \
    switch (to) {                                                                \
    case EMBER_DTYPE_F32: CAST_LOOP(TS, int64_t, float, LOAD, (float)v);                  \
    case EMBER_DTYPE_F16: CAST_LOOP(TS, int64_t, uint16_t, LOAD, ember_f32_to_f16((float)v)); \
    case EMBER_DTYPE_I8: CAST_LOOP(TS, int64_t, int8_t, LOAD, (int8_t)(uint8_t)v);         \
    case EMBER_DTYPE_U8: CAST_LOOP(TS, int64_t, uint8_t, LOAD, (uint8_t)v);                \
    case EMBER_DTYPE_I32: CAST_LOOP(TS, int64_t, int32_t, LOAD, (int32_t)(uint32_t)v);     \
    case EMBER_DTYPE_I64: CAST_LOOP(TS, int64_t, int64_t, LOAD, (int64_t)v);               \
    case EMBER_DTYPE_BOOL: CAST_LOOP(TS, int64_t, uint8_t, LOAD, v != 0);                  \
    default: return false;                                                       \
    }

/* From f32 or f16 (loaded as f32, which is exact). */
#define FROM_FLOAT(TS, LOAD)                                                     \
    switch (to) {                                                                \
    case EMBER_DTYPE_F32: CAST_LOOP(TS, float, float, LOAD, v);                         \
    case EMBER_DTYPE_F16: CAST_LOOP(TS, float, uint16_t, LOAD, ember_f32_to_f16(v));    \
    case EMBER_DTYPE_I8: CAST_LOOP(TS, float, int8_t, LOAD, f32_to_i8(v));              \
    case EMBER_DTYPE_U8: CAST_LOOP(TS, float, uint8_t, LOAD, f32_to_u8(v));             \
    case EMBER_DTYPE_I32: CAST_LOOP(TS, float, int32_t, LOAD, f32_to_i32(v));           \
    case EMBER_DTYPE_I64: CAST_LOOP(TS, float, int64_t, LOAD, f32_to_i64(v));           \
    case EMBER_DTYPE_BOOL: CAST_LOOP(TS, float, uint8_t, LOAD, v != 0.0f);              \
    default: return false;                                                       \
    }

static bool known(ember_dtype t) {
    return t == EMBER_DTYPE_F32 || t == EMBER_DTYPE_F16 || t == EMBER_DTYPE_I8 ||
           t == EMBER_DTYPE_U8 || t == EMBER_DTYPE_I32 || t == EMBER_DTYPE_I64 ||
           t == EMBER_DTYPE_BOOL;
}

bool ember_cast_ref(ember_dtype from, ember_dtype to, size_t n, const void* x, void* y) {
    if (!known(from) || !known(to)) return false;
    if (from == to && from != EMBER_DTYPE_BOOL) {
        if (n && x != y) memcpy(y, x, n * ember_dtype_size(from));
        return true;
    }
    switch (from) {
    case EMBER_DTYPE_F32: FROM_FLOAT(float, ID)
    case EMBER_DTYPE_F16: FROM_FLOAT(uint16_t, HALF)
    case EMBER_DTYPE_I8: FROM_INT(int8_t, ID)
    case EMBER_DTYPE_U8: FROM_INT(uint8_t, ID)
    case EMBER_DTYPE_I32: FROM_INT(int32_t, ID)
    case EMBER_DTYPE_I64: FROM_INT(int64_t, ID)
    case EMBER_DTYPE_BOOL: FROM_INT(uint8_t, NONZERO)
    default: return false;
    }
}
