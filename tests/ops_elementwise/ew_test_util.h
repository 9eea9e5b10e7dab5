/* Small helpers of the elementwise operator tests: naive broadcast indexing
 * written from the definition, independent of the operators' row walking. */
#ifndef EMBER_TEST_EW_UTIL_H
#define EMBER_TEST_EW_UTIL_H

#include <stdio.h>
#include <string.h>

#include "../op_harness.h"

/* Offset into a tensor of shape in for the output multi-index idx of shape out
 * (numpy broadcasting: dims are aligned at the right, size-1 dims repeat). */
static inline size_t ewt_offset(const em_shape* in, const em_shape* out, const int64_t* idx) {
    size_t off = 0;
    const int32_t shift = out->rank - in->rank;
    for (int32_t d = 0; d < in->rank; d++) {
        const int64_t i = in->dims[d] == 1 ? 0 : idx[d + shift];
        off = off * (size_t)in->dims[d] + (size_t)i;
    }
    return off;
}

/* Advances a multi-index over shape s; false once it wraps around. */
static inline bool ewt_next(const em_shape* s, int64_t* idx) {
    for (int32_t d = s->rank - 1; d >= 0; d--) {
        if (++idx[d] < s->dims[d]) return true;
        idx[d] = 0;
    }
    return false;
}

/* The broadcast of two shapes (assumed compatible). */
static inline em_shape ewt_broadcast2(const em_shape* a, const em_shape* b) {
    em_shape r = {.rank = a->rank > b->rank ? a->rank : b->rank};
    for (int32_t d = 0; d < r.rank; d++) {
        const int32_t da = d - (r.rank - a->rank), db = d - (r.rank - b->rank);
        const int64_t va = da >= 0 ? a->dims[da] : 1, vb = db >= 0 ? b->dims[db] : 1;
        r.dims[d] = va == 1 ? vb : va;
    }
    return r;
}

static inline void ewt_assert_shape(const em_shape* got, const em_shape* want) {
    char a[128], b[128];
    if (!em_shape_equal(got, want))
        fail_msg("shape %s, want %s", em_shape_str(got, a, sizeof a), em_shape_str(want, b, sizeof b));
}

/* Fails unless status is want and the message mentions every given word. */
#define EWT_EXPECT_FAIL(st, want, node, ...)                                              \
    do {                                                                                  \
        ember_status st_ = (st);                                                          \
        if (st_ != (want))                                                                \
            fail_msg("status %d, want %d (message: %s)", (int)st_, (int)(want), (node)->msg); \
        const char* words_[] = {__VA_ARGS__};                                             \
        for (size_t w_ = 0; w_ < sizeof words_ / sizeof words_[0]; w_++)                  \
            if (!strstr((node)->msg, words_[w_]))                                         \
                fail_msg("message \"%s\" does not mention \"%s\"", (node)->msg, words_[w_]); \
    } while (0)

#endif
