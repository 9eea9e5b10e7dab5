/* The layout changes the executor makes around nodes that run channel-blocked
 * (plan.c, assign_layouts): a plain NCHW tensor to its blocked copy and back,
 * a block of channels of one image at a time (the table's transposes of the
 * depthwise path), shared out over the session's threads. Plain copies, so
 * exact. */
#include "dispatch.h"
#include "model.h"
#include "threadpool.h"

typedef struct layout_job {
    const ember_kernels* kern;
    const float* src;
    float* dst;
    size_t c, cb, hw, parts;
    bool to_blocked;
} layout_job;

/* Unit u: a contiguous part of the positions of image u / parts, in every
 * block of channels (threads split by space, as the blocked layers do). */
static void layout_task(void* arg, size_t u, size_t thread) {
    (void)thread;
    const layout_job* j = arg;
    const size_t L = j->kern->f32_dwconv.block, img = u / j->parts, part = u % j->parts;
    const size_t p0 = j->hw * part / j->parts, p1 = j->hw * (part + 1) / j->parts;
    for (size_t cb = 0; cb < j->cb; cb++) {
        const size_t nb = j->c - cb * L < L ? j->c - cb * L : L, q = img * j->cb + cb;
        const float* plain = (j->to_blocked ? j->src : j->dst) + (img * j->c + cb * L) * j->hw + p0;
        float* blocked = (j->to_blocked ? j->dst : (float*)j->src) + (q * j->hw + p0) * L;
        if (j->to_blocked)
            j->kern->f32_dwconv.gather(nb, p1 - p0, plain, j->hw, blocked);
        else
            j->kern->f32_dwconv.scatter(nb, p1 - p0, blocked, (float*)plain, j->hw);
    }
}

void em_layout_convert(struct em_pool* pool, const ember_kernels* kern, const em_value* src,
                       em_value* dst) {
    const em_shape* s = &src->shape;
    const size_t L = kern->f32_dwconv.block, c = (size_t)s->dims[1], n = (size_t)s->dims[0];
    layout_job j = {.kern = kern, .src = src->data, .dst = dst->data, .c = c,
                    .cb = (c + L - 1) / L, .hw = (size_t)s->dims[2] * (size_t)s->dims[3],
                    .parts = 1, .to_blocked = dst->block != 0};
    const size_t threads = em_pool_threads(pool), bytes = n * j.cb * L * j.hw * sizeof(float);
    if (threads > 1 && bytes >= ((size_t)1 << 17)) j.parts = j.hw < threads ? j.hw : threads;
    em_pool_run(j.parts > 1 ? pool : NULL, n * j.parts, layout_task, &j);
}
