/* Helpers of the tensor-operator tests: distinct fill values for every dtype,
 * multi-index arithmetic for naive references, byte-exact comparison. */
#ifndef EMBER_TESTS_TENSOR_UTIL_H
#define EMBER_TESTS_TENSOR_UTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../op_harness.h"

#define TU_DTYPES_N 7
static const ember_dtype tu_dtypes[TU_DTYPES_N] = {
    EMBER_DTYPE_F32, EMBER_DTYPE_F16, EMBER_DTYPE_I8,  EMBER_DTYPE_U8,
    EMBER_DTYPE_I32, EMBER_DTYPE_I64, EMBER_DTYPE_BOOL,
};

/* n elements of dtype whose values differ from their neighbours (bool alternates
 * in a seed-dependent pattern). Caller frees. */
static inline void* tu_make(ember_dtype dt, size_t n, uint32_t seed) {
    size_t es = ember_dtype_size(dt);
    unsigned char* p = malloc(n * es + 1);
    assert_non_null(p);
    for (size_t i = 0; i < n; i++) {
        uint64_t v = (uint64_t)i * 2654435761u + seed * 40503u + 1;
        switch (dt) {
        case EMBER_DTYPE_F32: {
            float f = (float)i + 0.25f * (float)(seed % 4) - 1000.0f * (float)(seed % 3);
            memcpy(p + i * es, &f, 4);
            break;
        }
        case EMBER_DTYPE_BOOL: p[i] = (unsigned char)((i * 7 + seed) % 3 == 0); break;
        case EMBER_DTYPE_I64: {
            int64_t x = (int64_t)i * 1000003 - (int64_t)seed * 77;
            memcpy(p + i * es, &x, 8);
            break;
        }
        default: /* i8, u8, i32, f16: any bit pattern that varies */
            v = (uint64_t)i + seed * 131u;
            memcpy(p + i * es, &v, es);
            break;
        }
    }
    return p;
}

static inline void tu_unravel(size_t flat, const em_shape* s, int64_t* idx) {
    for (int32_t d = s->rank - 1; d >= 0; d--) {
        idx[d] = (int64_t)(flat % (size_t)s->dims[d]);
        flat /= (size_t)s->dims[d];
    }
}

static inline size_t tu_ravel(const int64_t* idx, const em_shape* s) {
    size_t f = 0;
    for (int32_t d = 0; d < s->rank; d++) f = f * (size_t)s->dims[d] + (size_t)idx[d];
    return f;
}

/* got must equal want byte for byte; reports the first differing element. */
static inline void tu_assert_same(const void* got, const void* want, size_t n, size_t es,
                                  const char* what) {
    const unsigned char* g = got;
    const unsigned char* w = want;
    for (size_t i = 0; i < n; i++)
        if (memcmp(g + i * es, w + i * es, es) != 0)
            fail_msg("%s: element %zu differs", what, i);
}

static inline void tu_assert_shape(const em_shape* got, em_shape want) {
    if (!em_shape_equal(got, &want)) {
        char a[160], b[160];
        fail_msg("shape %s, want %s", em_shape_str(got, a, sizeof a), em_shape_str(&want, b, sizeof b));
    }
}

/* The operator failed with status and a non-empty message containing needle. */
static inline void tu_assert_fails(oh_node* n, ember_status status, const char* needle) {
    ember_status st = oh_run(n);
    if (st != status)
        fail_msg("%s: status %d, want %d (message: %s)", n->op, (int)st, (int)status, n->msg);
    if (n->msg[0] == '\0') fail_msg("%s failed without a message", n->op);
    if (needle && !strstr(n->msg, needle))
        fail_msg("%s: message \"%s\" does not mention \"%s\"", n->op, n->msg, needle);
    oh_free(n);
}

static inline void tu_run_ok(oh_node* n) {
    ember_status st = oh_run(n);
    if (st != EMBER_OK) fail_msg("%s failed (%d): %s", n->op, (int)st, n->msg);
}

#endif
