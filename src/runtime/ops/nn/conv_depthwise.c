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

/* ---- the channel-blocked path ----
 * With a blocked kernel in the table (ember_f32_dwconv_blocked_fn) and at least
 * one block of channels, each block of L channels of an image is gathered into
 * [ih][iw][L] (a transpose; a last, partial block zero-filled), its weights
 * into [kh * kw][L], run, and scattered back from [oh][ow][L] to the NCHW
 * output, all in the thread's scratch (the table's gather and scatter, which a
 * table with a blocked kernel has); bit-identical to the
 * reference. Taken for output planes up to 56x56 only (BLOCKED_MAX_OUT,
 * measured) and blocks of at most BLOCKED_MAX bytes of scratch. */
#define BLOCKED_MAX ((size_t)16 << 20)
/* Output planes of at most this many positions only (56x56). Measured (Zen 4,
 * 1 thread, ember profile, planar -> blocked us, with the gather and scatter
 * of the table's vectorised transposes): 56x56 and 28x28 outputs 1.3-2.3x
 * faster (mobilenet_v2 features.2 452 -> 268, features.4 179 -> 78,
 * features.5 100 -> 61; efficientnet_b0 features.2.0 510 -> 335), 14x14 and
 * 7x7 a few % faster; 112x112 outputs slower (mobilenet_v2 features.1
 * 209 -> 225, efficientnet_b0 features.1.0 342 -> 351): a block's [ih][iw][L]
 * input and [oh][ow][L] output copies (0.8 MB each) outgrow L2. */
#define BLOCKED_MAX_OUT ((size_t)3136)

static size_t round64(size_t bytes) { return (bytes + 63) / 64 * 64; }

/* Scratch of one block: input, output, weights, bias, each 64-byte rounded. */
static size_t block_bytes(size_t L, const ember_dwconv_geom* g) {
    return round64(L * g->ih * g->iw * sizeof(float)) + round64(L * g->oh * g->ow * sizeof(float)) +
           round64(L * g->kh * g->kw * sizeof(float)) + round64(L * sizeof(float));
}

/* Whether geometry g can take the blocked path (what sizes the scratch), and
 * whether c channels of it do. */
static bool blocked_geom(const ember_kernels* kern, const ember_dwconv_geom* g) {
    const size_t L = kern->f32_dwconv.block;
    /* the products below stay far from overflow: applies() bounds out and pads to
     * 2^24 and image sides are at most out * stride + kernel */
    if (!kern->f32_dwconv.blocked || !kern->f32_dwconv.gather || !kern->f32_dwconv.scatter || L == 0)
        return false;
    if (g->ih > ((size_t)1 << 20) || g->iw > ((size_t)1 << 20) || g->oh > ((size_t)1 << 20) ||
        g->ow > ((size_t)1 << 20))
        return false;
    return g->oh * g->ow <= BLOCKED_MAX_OUT && block_bytes(L, g) <= BLOCKED_MAX;
}
static bool use_blocked(const ember_kernels* kern, size_t c, const ember_dwconv_geom* g) {
    return blocked_geom(kern, g) && c >= kern->f32_dwconv.block;
}

size_t em_conv_depthwise_scratch(const ember_kernels* kern, const ember_window* w, size_t threads) {
    const ember_dwconv_geom g = geom(w);
    size_t per = plane_bytes(kern, &g);
    if (blocked_geom(kern, &g)) {
        const size_t b = block_bytes(kern->f32_dwconv.block, &g);
        if (b > per) per = b;
    }
    return per * (threads ? threads : 1);
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
    size_t y_plane;            /* floats from one output channel to the next (>= oh * ow) */
} dw_job;

/* One block: channels ch .. ch + nb - 1 (nb <= L) of image img. */
static void dw_block(const dw_job* j, size_t img, size_t ch, size_t nb, char* scratch) {
    const ember_dwconv_geom* g = &j->g;
    const size_t L = j->kern->f32_dwconv.block, kvol = g->kh * g->kw;
    const size_t in_vol = g->ih * g->iw, out_vol = g->oh * g->ow;
    float* xb = (float*)scratch;
    float* yb = (float*)(scratch + round64(L * in_vol * sizeof(float)));
    float* wb = (float*)((char*)yb + round64(L * out_vol * sizeof(float)));
    float* bb = (float*)((char*)wb + round64(L * kvol * sizeof(float)));
    const float* x = j->x + (img * j->c + ch) * in_vol;
    j->kern->f32_dwconv.gather(nb, in_vol, x, in_vol, xb);
    const float* wt = j->wt + ch * kvol;
    for (size_t k = 0; k < kvol; k++) {
        for (size_t l = 0; l < nb; l++) wb[k * L + l] = wt[l * kvol + k];
        for (size_t l = nb; l < L; l++) wb[k * L + l] = 0.0f;
    }
    if (j->bias) {
        for (size_t l = 0; l < nb; l++) bb[l] = j->bias[ch + l];
        for (size_t l = nb; l < L; l++) bb[l] = 0.0f;
    }
    j->kern->f32_dwconv.blocked(g, xb, wb, j->bias ? bb : NULL, yb);
    float* y = j->y + (img * j->c + ch) * j->y_plane;
    j->kern->f32_dwconv.scatter(nb, out_vol, yb, y, j->y_plane);
    if (j->act && j->y_plane == out_vol)
        em_apply_activation(j->kern, j->act, y, nb * out_vol);
    else if (j->act)
        for (size_t l = 0; l < nb; l++) em_apply_activation(j->kern, j->act, y + l * j->y_plane, out_vol);
}

/* Blocks of all images shared out in contiguous runs; each block is computed
 * the same way whatever the split. */
static void dw_blocked_task(void* arg, size_t t, size_t thread) {
    const dw_job* j = arg;
    const size_t L = j->kern->f32_dwconv.block, nblk = (j->c + L - 1) / L, total = j->n * nblk;
    const size_t q1 = total * (t + 1) / j->tasks;
    for (size_t q = total * t / j->tasks; q < q1; q++) {
        const size_t img = q / nblk, ch = q % nblk * L;
        dw_block(j, img, ch, j->c - ch < L ? j->c - ch : L, j->scratch + thread * j->plane);
    }
}

static void dw_task(void* arg, size_t t, size_t thread) {
    const dw_job* j = arg;
    const size_t total = j->n * j->c, in_vol = j->g.ih * j->g.iw, out_vol = j->g.oh * j->g.ow;
    size_t q = total * t / j->tasks;
    const size_t q1 = total * (t + 1) / j->tasks;
    while (q < q1) { /* a run of channels within one image */
        const size_t img = q / j->c, ch = q % j->c;
        size_t len = (q1 - q < j->c - ch) ? q1 - q : j->c - ch;
        /* with an activation: runs of at most ~64 KB of output, activated right
         * after, while in cache; channels apart in y: one at a time */
        if (j->act && len > 1) {
            const size_t most = ((size_t)1 << 14) / out_vol;
            len = most < 1 ? 1 : most < len ? most : len;
        }
        if (j->y_plane != out_vol) len = 1;
        float* y = j->y + (img * j->c + ch) * j->y_plane;
        j->kern->f32_dwconv.run(len, &j->g, j->x + (img * j->c + ch) * in_vol, j->wt + ch * j->g.kh * j->g.kw,
                                j->bias ? j->bias + ch : NULL, y, j->scratch + thread * j->plane);
        if (j->act) em_apply_activation(j->kern, j->act, y, len * out_vol);
        q += len;
    }
}

void em_conv_depthwise_run(struct em_pool* pool, const ember_kernels* kern, size_t n, size_t c,
                           const ember_window* w, const float* x, const float* wt,
                           const float* bias, float* y, const em_activation* act, void* scratch) {
    em_conv_depthwise_run_into(pool, kern, n, c, w, x, wt, bias, y, w->out[1] * w->out[2], w, act,
                               scratch);
}

void em_conv_depthwise_run_into(struct em_pool* pool, const ember_kernels* kern, size_t n, size_t c,
                                const ember_window* w, const float* x, const float* wt,
                                const float* bias, float* y, size_t y_plane,
                                const ember_window* choose, const em_activation* act,
                                void* scratch) {
    dw_job j = {.kern = kern, .g = geom(w), .x = x, .wt = wt, .bias = bias,
                .y = y, .scratch = scratch, .act = act && act->kind != EMF_ACT_NONE ? act : NULL,
                .n = n, .c = c, .y_plane = y_plane};
    j.plane = plane_bytes(j.kern, &j.g);
    const size_t threads = em_pool_threads(pool), total = n * c;
    const size_t work = total * j.g.oh * j.g.ow * j.g.kh * j.g.kw;
    const ember_dwconv_geom cg = geom(choose);
    if (use_blocked(kern, c, &cg)) {
        const size_t L = kern->f32_dwconv.block, blocks = n * ((c + L - 1) / L);
        /* the stride the thread's scratch was sized with */
        const size_t b = block_bytes(L, &j.g);
        j.plane = b > j.plane ? b : j.plane;
        j.tasks = work < ((size_t)1 << 16) || blocks < 2 ? 1 : blocks < 4 * threads ? blocks : 4 * threads;
        em_pool_run(j.tasks > 1 ? pool : NULL, j.tasks, dw_blocked_task, &j);
        return;
    }
    j.tasks = work < ((size_t)1 << 16) || total < 2 ? 1 : total < 4 * threads ? total : 4 * threads;
    em_pool_run(j.tasks > 1 ? pool : NULL, j.tasks, dw_task, &j);
}
