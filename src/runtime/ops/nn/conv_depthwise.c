/* Depthwise Conv through the direct kernels; see conv_depthwise.h. */
#include "conv_depthwise.h"

#include "f32_dwconv.h"
#include "format.h"
#include "internal.h"
#include "threadpool.h"

static ember_dwconv_geom geom(const ember_window* w) {
    return (ember_dwconv_geom){
        .ih = w->image[1], .iw = w->image[2], .oh = w->out[1], .ow = w->out[2],
        .kh = w->kernel[1], .kw = w->kernel[2], .sh = w->stride[1], .sw = w->stride[2],
        .pad_top = (size_t)w->pad[1], .pad_left = (size_t)w->pad[2]};
}

bool em_conv_depthwise_applies(size_t c, size_t m, size_t group, const ember_window* w) {
    if (group != c || m != c || c < 1) return false;
    /* 2-D: the leading window dim is a unit one */
    if (w->image[0] != 1 || w->kernel[0] != 1 || w->out[0] != 1 || w->pad[0] != 0) return false;
    for (int a = 1; a < 3; a++)
        if (w->dilation[a] != 1 || w->pad[a] < 0 || w->kernel[a] < 1 || w->kernel[a] > 16 ||
            w->stride[a] < 1 || w->stride[a] > 16 || w->image[a] < 1 || w->out[a] < 1)
            return false;
    /* keep the packed plane's arithmetic far from overflow (im2col takes the rest) */
    const size_t lim = (size_t)1 << 24;
    if (w->out[1] > lim || w->out[2] > lim || (size_t)w->pad[1] > lim || (size_t)w->pad[2] > lim)
        return false;
    const ember_dwconv_geom g = geom(w);
    return ember_f32_dwconv_scratch_size(16, &g) <= (size_t)1 << 32;
}

/* One thread's packed plane, 64-byte rounded so the planes stay aligned. */
static size_t plane_bytes(const ember_kernels* kern, const ember_dwconv_geom* g) {
    return (ember_f32_dwconv_scratch_size(kern->f32_dwconv.lanes, g) + 63) / 64 * 64;
}

size_t em_conv_depthwise_scratch(const ember_kernels* kern, const ember_window* w, size_t threads) {
    const ember_dwconv_geom g = geom(w);
    return plane_bytes(kern, &g) * (threads ? threads : 1);
}

/* Channels of all images shared out in contiguous runs: each channel is
 * computed the same way whatever the split, so results do not depend on the
 * thread count. */
typedef struct dw_job {
    const ember_kernels* kern;
    ember_dwconv_geom g;
    const float *x, *wt, *bias;
    float* y;
    char* scratch;
    const em_activation* act;  /* applied to each channel while it is in cache, or NULL */
    size_t n, c, tasks, plane;
} dw_job;

static void dw_task(void* arg, size_t t, size_t thread) {
    const dw_job* j = arg;
    const size_t total = j->n * j->c, in_vol = j->g.ih * j->g.iw, out_vol = j->g.oh * j->g.ow;
    size_t q = total * t / j->tasks;
    const size_t q1 = total * (t + 1) / j->tasks;
    while (q < q1) { /* a run of channels within one image */
        const size_t img = q / j->c, ch = q % j->c;
        size_t len = (q1 - q < j->c - ch) ? q1 - q : j->c - ch;
        /* with an activation: runs of at most ~64 KB of output, activated right
         * after, while in cache */
        if (j->act && len > 1) {
            const size_t most = ((size_t)1 << 14) / out_vol;
            len = most < 1 ? 1 : most < len ? most : len;
        }
        float* y = j->y + (img * j->c + ch) * out_vol;
        j->kern->f32_dwconv.run(len, &j->g, j->x + (img * j->c + ch) * in_vol, j->wt + ch * j->g.kh * j->g.kw,
                                j->bias ? j->bias + ch : NULL, y, j->scratch + thread * j->plane);
        if (j->act) em_apply_activation(j->kern, j->act, y, len * out_vol);
        q += len;
    }
}

void em_conv_depthwise_run(struct em_pool* pool, const ember_kernels* kern, size_t n, size_t c,
                           const ember_window* w, const float* x, const float* wt,
                           const float* bias, float* y, const em_activation* act, void* scratch) {
    dw_job j = {.kern = kern, .g = geom(w), .x = x, .wt = wt, .bias = bias,
                .y = y, .scratch = scratch, .act = act && act->kind != EMF_ACT_NONE ? act : NULL,
                .n = n, .c = c};
    j.plane = plane_bytes(j.kern, &j.g);
    const size_t threads = em_pool_threads(pool), total = n * c;
    const size_t work = total * j.g.oh * j.g.ow * j.g.kh * j.g.kw;
    j.tasks = work < ((size_t)1 << 16) || total < 2 ? 1 : total < 4 * threads ? total : 4 * threads;
    em_pool_run(j.tasks > 1 ? pool : NULL, j.tasks, dw_task, &j);
}
