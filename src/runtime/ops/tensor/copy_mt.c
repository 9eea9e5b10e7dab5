/* em_tensor_copy (tensor_common.h): ember_copy_nd on the session's threads. */
#include <stddef.h>

#include "tensor_common.h"
#include "threadpool.h"

/* Least bytes worth a second thread: the copies read what the threads of the
 * node before wrote, half of it in the other core's cache, and two threads
 * wait for those lines side by side (the transformer's 128 KB slices of its
 * query-key-value product). */
#define COPY_MT_MIN_BYTES ((size_t)1 << 16)

typedef struct copy_job {
    char* dst;
    const char* src;
    const int64_t *dst_strides, *src_strides, *dims;
    int rank, axis;
    size_t es, parts;
    ember_copy_transpose_fn tr;
    bool used_tr[16]; /* a part's ember_copy_nd ran tr (at most 16 parts) */
} copy_job;

static void copy_part(void* arg, size_t p, size_t thread) {
    (void)thread;
    copy_job* j = arg;
    const int64_t n = j->dims[j->axis];
    const int64_t lo = n * (int64_t)p / (int64_t)j->parts, hi = n * (int64_t)(p + 1) / (int64_t)j->parts;
    int64_t dims[EMBER_MAX_RANK];
    for (int d = 0; d < j->rank; d++) dims[d] = j->dims[d];
    dims[j->axis] = hi - lo;
    const ptrdiff_t es = (ptrdiff_t)j->es;
    j->used_tr[p] = ember_copy_nd(j->dst + (ptrdiff_t)(lo * j->dst_strides[j->axis]) * es,
                                  j->dst_strides,
                                  j->src + (ptrdiff_t)(lo * j->src_strides[j->axis]) * es,
                                  j->src_strides, dims, j->rank, j->es, j->tr);
}

bool em_tensor_copy(em_op_ctx* ctx, void* dst, const int64_t* dst_strides, const void* src,
                    const int64_t* src_strides, const int64_t* dims, int rank, size_t es,
                    ember_copy_transpose_fn tr) {
    const size_t threads = em_pool_threads(ctx->pool);
    size_t count = 1;
    int axis = -1;
    for (int d = 0; d < rank; d++) {
        count *= (size_t)dims[d];
        if (axis < 0 && dims[d] > 1) axis = d;
    }
    if (threads < 2 || axis < 0 || count * es < COPY_MT_MIN_BYTES)
        return ember_copy_nd(dst, dst_strides, src, src_strides, dims, rank, es, tr);
    copy_job j = {.dst = dst, .src = src, .dst_strides = dst_strides, .src_strides = src_strides,
                  .dims = dims, .rank = rank, .axis = axis, .es = es, .tr = tr};
    j.parts = (size_t)dims[axis] < threads ? (size_t)dims[axis] : threads;
    if (j.parts > sizeof j.used_tr / sizeof j.used_tr[0]) j.parts = sizeof j.used_tr / sizeof j.used_tr[0];
    em_pool_run(ctx->pool, j.parts, copy_part, &j);
    bool used = false;
    for (size_t p = 0; p < j.parts; p++) used = used || j.used_tr[p];
    return used;
}
