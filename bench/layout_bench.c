/* Activation layout, measured (issue 4): ember's NCHW kernels against NHWC and
 * NCHW16c (channel-blocked) prototypes on the distinct depthwise 3x3 and
 * pointwise (1x1) layers of mobilenet_v2 at 224x224, batch 1, single thread,
 * best of repeated runs, plus the cost of converting each layer's input and
 * output between NCHW and the other layout (what a mixed-layout graph pays at
 * each boundary). For 1x1 also a direct NCHW prototype (no packing), to tell
 * the layout's gain from the packing's. Every prototype's output is checked
 * against ember's (max abs diff printed).
 *
 * Layer shapes: torchvision mobilenet_v2 (Sandler et al. 2018, table 2:
 * t, c, n, s = 1,16,1,1 / 6,24,2,2 / 6,32,3,2 / 6,64,4,2 / 6,96,3,1 /
 * 6,160,3,2 / 6,320,1,1, then a 1x1 to 1280): the model scripts/make_model_zoo.py
 * exports (tvm.mobilenet_v2, 224x224); "n" is how often the shape occurs in the model.
 * Bias: in the depthwise kernels (ember's takes it), not in the pointwise ones
 * (ember adds it in the GEMM's output pass; the same for every layout).
 * Activations (ReLU6) are left out everywhere.
 *
 *   layout_bench [min_ms_per_measurement]   (default 30)
 *
 * x86-64 with AVX-512 only (the prototypes are AVX-512). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dispatch.h"
#include "f32_dwconv.h"
#include "f32_gemm.h"
#include "layout_proto.h"

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static double g_min_s = 0.03;

typedef void (*bench_fn)(void* ctx);

/* Best time in microseconds: a warm-up, then at least 5 runs and g_min_s. */
static double best_us(bench_fn f, void* ctx) {
    double best = 1e30, total = 0.0;
    f(ctx);
    for (int i = 0; i < 5 || (total < g_min_s && i < 2000); i++) {
        const double t0 = now_s();
        f(ctx);
        const double dt = now_s() - t0;
        total += dt;
        if (dt < best) best = dt;
    }
    return best * 1e6;
}

static float* falloc(size_t n) {
    const size_t bytes = (n * sizeof(float) + 63) / 64 * 64;
    float* p = aligned_alloc(64, bytes ? bytes : 64);
    if (!p) {
        fprintf(stderr, "out of memory\n");
        exit(1);
    }
    memset(p, 0, bytes ? bytes : 64);
    return p;
}

static void* balloc(size_t bytes) { return falloc((bytes + 3) / 4 + 1); }

static unsigned g_seed = 12345u;
static float frand(void) {
    g_seed = g_seed * 1664525u + 1013904223u;
    return (float)((g_seed >> 8) & 0xffff) / 65536.0f - 0.5f;
}
static void fill(float* p, size_t n) {
    for (size_t i = 0; i < n; i++) p[i] = frand();
}

static size_t up16(size_t n) { return (n + 15) / 16 * 16; }

/* ---- conversion timing ---- */

typedef struct conv_ctx {
    size_t c, hw;
    const float* x;
    float* y;
    void (*fn)(size_t, size_t, const float*, float*);
} conv_ctx;
static void conv_run(void* p) {
    conv_ctx* k = p;
    k->fn(k->c, k->hw, k->x, k->y);
}

/* Time of converting a c x hw NCHW tensor to `to` and one of the same size back
 * (from): the boundary cost of one tensor crossing into and out of a layout. */
static double conv_pair_us(size_t c, size_t hw, int blocked) {
    float* a = falloc(c * hw);
    float* b = falloc(up16(c) * hw);
    fill(a, c * hw);
    conv_ctx k = {c, hw, a, b, blocked ? lp_nchw_to_nchw16c : lp_nchw_to_nhwc};
    const double t_to = best_us(conv_run, &k);
    k.x = b;
    k.y = a;
    k.fn = blocked ? lp_nchw16c_to_nchw : lp_nhwc_to_nchw;
    const double t_from = best_us(conv_run, &k);
    free(a);
    free(b);
    return t_to + t_from;
}

/* Checks the converters against index arithmetic (exact). */
static int check_converters(void) {
    const size_t c = 24, hw = 49;
    float* x = falloc(c * hw);
    float* n = falloc(c * hw);
    float* b = falloc(up16(c) * hw);
    float* back = falloc(c * hw);
    fill(x, c * hw);
    lp_nchw_to_nhwc(c, hw, x, n);
    lp_nchw_to_nchw16c(c, hw, x, b);
    int bad = 0;
    for (size_t ch = 0; ch < up16(c); ch++)
        for (size_t p = 0; p < hw; p++) {
            const float want = ch < c ? x[ch * hw + p] : 0.0f;
            if (ch < c && n[p * c + ch] != want) bad++;
            if (b[(ch / 16) * hw * 16 + p * 16 + ch % 16] != want) bad++;
        }
    lp_nhwc_to_nchw(c, hw, n, back);
    if (memcmp(back, x, c * hw * sizeof(float))) bad++;
    lp_nchw16c_to_nchw(c, hw, b, back);
    if (memcmp(back, x, c * hw * sizeof(float))) bad++;
    /* a size with whole 16 x 16 tiles */
    float* x2 = falloc(32 * 64);
    float* t2 = falloc(32 * 64);
    fill(x2, 32 * 64);
    lp_nchw_to_nhwc(32, 64, x2, t2);
    for (size_t ch = 0; ch < 32; ch++)
        for (size_t p = 0; p < 64; p++)
            if (t2[p * 32 + ch] != x2[ch * 64 + p]) bad++;
    free(x);
    free(n);
    free(b);
    free(back);
    free(x2);
    free(t2);
    return bad;
}

/* ---- depthwise ---- */

typedef struct dw_layer {
    size_t c, ih, s, count;
} dw_layer;

static const dw_layer k_dw[] = {
    {32, 112, 1, 1}, {96, 112, 2, 1}, {144, 56, 1, 1}, {144, 56, 2, 1}, {192, 28, 1, 2},
    {192, 28, 2, 1}, {384, 14, 1, 4}, {576, 14, 1, 2}, {576, 14, 2, 1}, {960, 7, 1, 3},
};

typedef struct dw_ctx {
    const ember_kernels* kern;
    size_t c;
    ember_dwconv_geom g;
    const float *x, *w, *bias, *w16, *xl;
    float *y, *yl;
    void* scratch;
    int layout; /* 0 ember NCHW, 1 NHWC, 2 NCHW16c */
} dw_ctx;

static void dw_run(void* p) {
    dw_ctx* k = p;
    const ember_dwconv_geom* g = &k->g;
    if (k->layout == 0) {
        k->kern->f32_dwconv.run(k->c, g, k->x, k->w, k->bias, k->y, k->scratch);
    } else if (k->layout == 1) {
        lp_dw3x3(k->c, g->ih, g->iw, g->oh, g->ow, g->sh, k->xl, 16, g->iw * k->c, k->c, k->w16,
                 k->bias, k->yl, 16, g->ow * k->c, k->c, 0);
    } else {
        lp_dw3x3(k->c, g->ih, g->iw, g->oh, g->ow, g->sh, k->xl, g->ih * g->iw * 16, g->iw * 16,
                 16, k->w16, k->bias, k->yl, g->oh * g->ow * 16, g->ow * 16, 16, 1);
    }
}

typedef struct row {
    double nchw, nhwc, blk, conv_nhwc, conv_blk, diff_nhwc, diff_blk;
    double direct, diff_direct; /* pointwise only: the NCHW direct prototype */
} row;

static row bench_dw(const ember_kernels* kern, const dw_layer* L) {
    dw_ctx k = {.kern = kern, .c = L->c};
    ember_dwconv_geom* g = &k.g;
    g->ih = g->iw = L->ih;
    g->kh = g->kw = 3;
    g->sh = g->sw = L->s;
    g->pad_top = g->pad_left = 1;
    g->oh = g->ow = (L->ih + 2 - 3) / L->s + 1;
    const size_t c = L->c, ihw = g->ih * g->iw, ohw = g->oh * g->ow;
    float* x = falloc(c * ihw);
    float* w = falloc(c * 9);
    float* bias = falloc(c);
    float* y = falloc(c * ohw);
    float* w16 = falloc(c * 9);
    float* xl = falloc(c * ihw);
    float* yl = falloc(c * ohw);
    fill(x, c * ihw);
    fill(w, c * 9);
    fill(bias, c);
    for (size_t ch = 0; ch < c; ch++)
        for (int t = 0; t < 9; t++) w16[((ch / 16) * 9 + t) * 16 + ch % 16] = w[ch * 9 + t];
    k.x = x;
    k.w = w;
    k.bias = bias;
    k.y = y;
    k.w16 = w16;
    k.scratch = balloc(ember_f32_dwconv_scratch_size(kern->f32_dwconv.lanes, g));
    row r = {0};
    k.layout = 0;
    r.nchw = best_us(dw_run, &k);

    lp_nchw_to_nhwc(c, ihw, x, xl);
    k.xl = xl;
    k.yl = yl;
    k.layout = 1;
    r.nhwc = best_us(dw_run, &k);
    double d = 0.0;
    for (size_t ch = 0; ch < c; ch++)
        for (size_t p = 0; p < ohw; p++) d = fmax(d, fabs(yl[p * c + ch] - y[ch * ohw + p]));
    r.diff_nhwc = d;

    lp_nchw_to_nchw16c(c, ihw, x, xl);
    k.layout = 2;
    r.blk = best_us(dw_run, &k);
    d = 0.0;
    for (size_t ch = 0; ch < c; ch++)
        for (size_t p = 0; p < ohw; p++)
            d = fmax(d, fabs(yl[(ch / 16) * ohw * 16 + p * 16 + ch % 16] - y[ch * ohw + p]));
    r.diff_blk = d;

    /* boundary cost: the input converted into the layout and the output back,
     * taken as half of a to-and-back pair for each tensor */
    r.conv_nhwc = 0.5 * (conv_pair_us(c, ihw, 0) + conv_pair_us(c, ohw, 0));
    r.conv_blk = 0.5 * (conv_pair_us(c, ihw, 1) + conv_pair_us(c, ohw, 1));
    free(x);
    free(w);
    free(bias);
    free(y);
    free(w16);
    free(xl);
    free(yl);
    free(k.scratch);
    return r;
}

/* ---- pointwise ---- */

typedef struct pw_layer {
    size_t k, m, h, count;
} pw_layer;

static const pw_layer k_pw[] = {
    {32, 16, 112, 1},  {16, 96, 112, 1},  {96, 24, 56, 1},   {24, 144, 56, 2},
    {144, 24, 56, 1},  {144, 32, 28, 1},  {32, 192, 28, 3},  {192, 32, 28, 2},
    {192, 64, 14, 1},  {64, 384, 14, 4},  {384, 64, 14, 3},  {384, 96, 14, 1},
    {96, 576, 14, 3},  {576, 96, 14, 2},  {576, 160, 7, 1},  {160, 960, 7, 3},
    {960, 160, 7, 2},  {960, 320, 7, 1},  {320, 1280, 7, 1},
};

typedef struct pw_ctx {
    const ember_kernels* kern;
    size_t m, k, hw;
    const float *ap, *x, *bp, *xn, *x16, *w16, *w12;
    float *y, *yn, *y16, *yd;
    void* ws;
    int layout;
} pw_ctx;

static void pw_run(void* p) {
    pw_ctx* c = p;
    if (c->layout == 0) /* Y[M x HW] = W[M x K] * X[K x HW], W packed once */
        ember_f32_gemm_prepacked_a(c->kern, c->m, c->hw, c->k, c->ap, c->x, c->hw, 1, 0.0f, c->y,
                                   c->hw, c->ws);
    else if (c->layout == 1) /* Y[HW x M] = X[HW x K] * W^T[K x M], W^T packed once */
        ember_f32_gemm_prepacked_b(c->kern, c->hw, c->m, c->k, 1.0f, c->xn, c->k, 1, c->bp, 0.0f,
                                   c->yn, c->m, c->ws);
    else if (c->layout == 3)
        lp_pw_nchw_direct(c->m, c->k, c->hw, c->x, c->w12, c->yd);
    else
        lp_pw_nchw16c(up16(c->m), up16(c->k), c->hw, c->x16, c->w16, c->y16);
}

static row bench_pw(const ember_kernels* kern, const pw_layer* L) {
    const size_t m = L->m, kk = L->k, hw = L->h * L->h, mp = up16(m), kp = up16(kk);
    float* w = falloc(m * kk);
    float* x = falloc(kk * hw);
    float* y = falloc(m * hw);
    float* xn = falloc(kk * hw);
    float* yn = falloc(m * hw);
    float* x16 = falloc(kp * hw);
    float* y16 = falloc(mp * hw);
    float* w16 = falloc(mp * kp);
    float* w12 = falloc((m + 11) / 12 * 12 * kk);
    float* yd = falloc(m * hw);
    fill(w, m * kk);
    for (size_t o = 0; o < m; o++)
        for (size_t i = 0; i < kk; i++) w12[((o / 12) * kk + i) * 12 + o % 12] = w[o * kk + i];
    fill(x, kk * hw);
    for (size_t o = 0; o < m; o++)
        for (size_t i = 0; i < kk; i++) w16[((o / 16) * kp + i) * 16 + o % 16] = w[o * kk + i];
    float* ap = balloc(ember_f32_gemm_packed_a_size(kern, m, kk));
    float* bp = balloc(ember_f32_gemm_packed_b_size(kern, m, kk));
    ember_f32_gemm_pack_a_full(kern, m, kk, 1.0f, w, kk, 1, ap);
    ember_f32_gemm_pack_b_full(kern, m, kk, w, 1, kk, bp);
    const size_t ws1 = ember_f32_gemm_workspace_size(kern, m, hw, kk);
    const size_t ws2 = ember_f32_gemm_workspace_size(kern, hw, m, kk);
    pw_ctx c = {kern, m, kk, hw, ap, x, bp, xn, x16, w16, w12, y, yn, y16, yd,
                balloc(ws1 > ws2 ? ws1 : ws2), 0};
    lp_nchw_to_nhwc(kk, hw, x, xn);
    lp_nchw_to_nchw16c(kk, hw, x, x16);
    row r = {0};
    c.layout = 0;
    r.nchw = best_us(pw_run, &c);
    c.layout = 1;
    r.nhwc = best_us(pw_run, &c);
    c.layout = 2;
    r.blk = best_us(pw_run, &c);
    c.layout = 3;
    r.direct = best_us(pw_run, &c);
    double d1 = 0.0, d2 = 0.0, d3 = 0.0;
    for (size_t o = 0; o < m; o++)
        for (size_t p = 0; p < hw; p++) {
            d1 = fmax(d1, fabs(yn[p * m + o] - y[o * hw + p]));
            d2 = fmax(d2, fabs(y16[(o / 16) * hw * 16 + p * 16 + o % 16] - y[o * hw + p]));
            d3 = fmax(d3, fabs(yd[o * hw + p] - y[o * hw + p]));
        }
    r.diff_direct = d3;
    r.diff_nhwc = d1;
    r.diff_blk = d2;
    r.conv_nhwc = 0.5 * (conv_pair_us(kk, hw, 0) + conv_pair_us(m, hw, 0));
    r.conv_blk = 0.5 * (conv_pair_us(kk, hw, 1) + conv_pair_us(m, hw, 1));
    free(w);
    free(x);
    free(y);
    free(xn);
    free(yn);
    free(x16);
    free(y16);
    free(w16);
    free(w12);
    free(yd);
    free(ap);
    free(bp);
    free(c.ws);
    return r;
}

static void print_row(const char* name, size_t count, const row* r) {
    char direct[32] = "-";
    if (r->direct > 0.0)
        snprintf(direct, sizeof direct, "%.1f (%4.2fx)", r->direct, r->direct / r->nchw);
    printf("| %-22s | %2zu | %8.1f | %8.1f (%4.2fx) | %8.1f (%4.2fx) | %16s | %7.1f | %7.1f "
           "| %.0e / %.0e / %.0e |\n",
           name, count, r->nchw, r->nhwc, r->nhwc / r->nchw, r->blk, r->blk / r->nchw, direct,
           r->conv_nhwc, r->conv_blk, r->diff_nhwc, r->diff_blk, r->diff_direct);
}

static void add(row* t, const row* r, size_t n) {
    t->nchw += (double)n * r->nchw;
    t->nhwc += (double)n * r->nhwc;
    t->blk += (double)n * r->blk;
    t->conv_nhwc += (double)n * r->conv_nhwc;
    t->conv_blk += (double)n * r->conv_blk;
    t->diff_nhwc = fmax(t->diff_nhwc, r->diff_nhwc);
    t->diff_blk = fmax(t->diff_blk, r->diff_blk);
    t->direct += (double)n * (r->direct > 0.0 ? r->direct : r->nchw);
    t->diff_direct = fmax(t->diff_direct, r->diff_direct);
}

int main(int argc, char** argv) {
    if (argc > 1) g_min_s = atof(argv[1]) * 1e-3;
    const ember_kernels* kern = ember_kernels_default();
    if (strcmp(kern->isa, "avx512") != 0) {
        fprintf(stderr, "layout_bench: needs the avx512 path (default table: %s)\n", kern->isa);
        return 1;
    }
    const int bad = check_converters();
    if (bad) {
        fprintf(stderr, "layout_bench: converters wrong (%d mismatches)\n", bad);
        return 1;
    }
    printf("times in us, best of >= 5 runs and %.0f ms; ratio to ember NCHW in ()\n"
           "conv = converting the layer's input NCHW -> layout and its output back\n\n",
           g_min_s * 1e3);
    printf("| layer                  |  n | ember NCHW | NHWC | NCHW16c | NCHW direct | conv NHWC "
           "| conv 16c | max abs diff NHWC / 16c / direct |\n");
    printf("|---|---:|---:|---:|---:|---:|---:|---:|---|\n");
    row dw_tot = {0}, pw_tot = {0};
    char name[64];
    for (size_t i = 0; i < sizeof k_dw / sizeof k_dw[0]; i++) {
        const dw_layer* L = &k_dw[i];
        const row r = bench_dw(kern, L);
        snprintf(name, sizeof name, "dw3x3 %zuc %zux%zu s%zu", L->c, L->ih, L->ih, L->s);
        print_row(name, L->count, &r);
        fflush(stdout);
        add(&dw_tot, &r, L->count);
    }
    for (size_t i = 0; i < sizeof k_pw / sizeof k_pw[0]; i++) {
        const pw_layer* L = &k_pw[i];
        const row r = bench_pw(kern, L);
        snprintf(name, sizeof name, "1x1 %zu->%zu %zux%zu", L->k, L->m, L->h, L->h);
        print_row(name, L->count, &r);
        fflush(stdout);
        add(&pw_tot, &r, L->count);
    }
    print_row("all depthwise (x n)", 17, &dw_tot);
    print_row("all 1x1 (x n)", 34, &pw_tot);
    row all = dw_tot;
    add(&all, &pw_tot, 1);
    print_row("depthwise + 1x1", 51, &all);
    return 0;
}
