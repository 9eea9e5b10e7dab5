/* The Winograd F(4x4, 3x3) tile transforms (f32_winograd.h) of every path,
 * bit for bit against the portable body compiled without vector flags
 * (ember_f32_wino43_*__scalar): the paths do the same additions and
 * multiplications in the same order, and only move data differently (the
 * AVX-512 ones by hand, with masked loads at the image's edges and lane
 * shuffles). Whole planes are transformed the way conv_winograd.c calls the
 * kernels: runs of 16 tiles along wide rows, short rows stacked, 1x1 to 75x69
 * images, pads 0-2, windows that start left of, above and past the image.
 * The output transform's clamp (a fused Relu or Clip) on every path, and
 * against the unfused pass. Guards after the outputs catch a write past them (and V's gaps between
 * tile positions one past the tiles); the input plane is allocated to its
 * exact size, so ASan sees a read past it. The accuracy of the transforms is tested with the convolution
 * (tests/ops_nn/test_conv_winograd.c). */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "kernel_test.h"

#include "dispatch.h"
#include "f32_gemm.h"
#include "f32_winograd.h"

#define T EMBER_WINO_TILES

/* The calls conv_winograd.c makes for one th x tw plane of tiles: f(first
 * tile row, first tile column, tiles, row length, first tile's index). */
typedef void (*call_fn)(void* ctx, size_t r, size_t tx, size_t ntx, size_t rowlen, size_t j0);
static void for_calls(size_t th, size_t tw, call_fn f, void* ctx) {
    if (tw <= T) {
        const size_t per = T / tw;
        for (size_t r = 0; r < th; r += per) {
            const size_t rows = th - r < per ? th - r : per;
            f(ctx, r, 0, rows * tw, tw, r * tw);
        }
    } else {
        for (size_t r = 0; r < th; r++)
            for (size_t tx = 0; tx < tw; tx += T)
                f(ctx, r, tx, tw - tx < T ? tw - tx : T, T, r * tw + tx);
    }
}

typedef struct plane {
    ember_f32_wino_input_fn in;
    ember_f32_wino_output_fn out;
    const float* x;
    size_t ih, iw, oh, ow, pt, pl, tb;
    float* v;        /* input: V, element p of tile j at v[p * tb + j] */
    const float* m;  /* output: M, the same layout */
    float* y;
    float bias;
    const ember_f32_gemm_epilogue* ep; /* the output transform's clamp, or NULL */
} plane;

static void in_call(void* ctx, size_t r, size_t tx, size_t ntx, size_t rowlen, size_t j0) {
    plane* p = ctx;
    p->in(p->x, p->ih, p->iw, (ptrdiff_t)(4 * r) - (ptrdiff_t)p->pt,
          (ptrdiff_t)(4 * tx) - (ptrdiff_t)p->pl, ntx, rowlen, p->v + j0, p->tb);
}

static void out_call(void* ctx, size_t r, size_t tx, size_t ntx, size_t rowlen, size_t j0) {
    plane* p = ctx;
    p->out(p->m + j0, p->tb, ntx, rowlen, p->bias, p->ep, p->y, p->oh, p->ow, 4 * r, 4 * tx);
}

/* The output transform's clamps (e: 0 none, 1 Relu, 2 Clip(-2, 2)) and the
 * elementwise kernel each stands for. */
static ember_f32_gemm_extra clamp_of(int e) {
    return (ember_f32_gemm_extra){.clamp = e != 0, .zero_plus = e == 1,
                                  .lo = e == 1 ? 0.0f : -2.0f, .hi = e == 1 ? INFINITY : 2.0f};
}

/* One image and pads through both transforms of kern and of the scalar body,
 * with clamp e; returns 1 when they agree bit for bit and nothing past the
 * outputs moved. With a clamp, the scalar body also equals the body without
 * it followed by the portable Relu / Clip kernel (the unfused pass). */
static int check_plane(const ember_kernels* kern, size_t ih, size_t iw, size_t pt, size_t pl,
                       size_t pb, size_t pr, int e, int neg_zero, uint32_t* seed) {
    const size_t oh = ih + pt + pb - 2, ow = iw + pl + pr - 2;
    const size_t th = (oh + 3) / 4, tw = (ow + 3) / 4;
    const size_t tb = th * tw + T; /* M: the output kernel reads whole runs of 16 */
    const size_t xn = ih * iw, vn = 36 * tb, yn = oh * ow;
    float* x = malloc(xn * sizeof(float));
    float* v[2] = {malloc((vn + 16) * sizeof(float)), malloc((vn + 16) * sizeof(float))};
    float* m = malloc(vn * sizeof(float));
    float* y[2] = {malloc((yn + 16) * sizeof(float)), malloc((yn + 16) * sizeof(float))};
    assert_true(x && v[0] && v[1] && m && y[0] && y[1]);
    for (size_t i = 0; i < xn; i++) x[i] = 8.0f * kt_frand(seed);
    for (size_t i = 0; i < vn; i++) m[i] = neg_zero ? -0.0f : 8.0f * kt_frand(seed);
    const float bias = neg_zero ? -0.0f : kt_frand(seed); /* neg_zero: every output -0 */
    const ember_f32_gemm_extra ex = clamp_of(e);
    const ember_f32_gemm_epilogue ep = ember_f32_gemm_epilogue_of(&ex, 0, 0);
    for (int k = 0; k < 2; k++) {
        kt_set_guard(v[k], vn + 16);
        kt_set_guard(y[k], yn + 16);
        plane p = {.in = k ? kern->f32_winograd.input : ember_f32_wino43_input__scalar,
                   .out = k ? kern->f32_winograd.output : ember_f32_wino43_output__scalar,
                   .x = x, .ih = ih, .iw = iw, .oh = oh, .ow = ow, .pt = pt, .pl = pl,
                   .tb = tb, .v = v[k], .m = m, .y = y[k], .bias = bias,
                   .ep = e ? &ep : NULL};
        for_calls(th, tw, in_call, &p);
        for_calls(th, tw, out_call, &p);
    }
    int ok = memcmp(v[0], v[1], (vn + 16) * sizeof(float)) == 0 &&
             memcmp(y[0], y[1], (yn + 16) * sizeof(float)) == 0 &&
             kt_guard_ok(v[1] + vn, 16) && kt_guard_ok(y[1] + yn, 16);
    if (e) { /* the unfused way: no clamp, then the elementwise kernel */
        float* yu = malloc((yn + 1) * sizeof(float));
        assert_non_null(yu);
        plane p = {.out = ember_f32_wino43_output__scalar, .oh = oh, .ow = ow, .tb = tb,
                   .m = m, .y = yu, .bias = bias};
        for_calls(th, tw, out_call, &p);
        const ember_kernels* gen = ember_kernels_for("generic");
        if (e == 1) gen->f32_elementwise.unary[EMBER_VOP_RELU](yn, yu, yu, 0.0f, 0.0f);
        else gen->f32_elementwise.unary[EMBER_VOP_CLAMP](yn, yu, yu, -2.0f, 2.0f);
        ok = ok && memcmp(yu, y[0], yn * sizeof(float)) == 0;
        free(yu);
    }
    if (!ok)
        print_message("path %s: %zux%zu image, pads %zu %zu %zu %zu, clamp %d: transforms differ "
                      "from the scalar body (or wrote past their outputs, or the clamp from the "
                      "unfused pass)\n",
                      kern->isa, ih, iw, pt, pl, pb, pr, e);
    free(x);
    free(v[0]);
    free(v[1]);
    free(m);
    free(y[0]);
    free(y[1]);
    return ok;
}

static void run(const char* isa) {
    const ember_kernels* kern = kt_kernels_or_skip(isa, "Winograd path");
    static const size_t sizes[][2] = {
        {1, 1},   {2, 3},   {3, 3},   {5, 7},   {7, 7},   {9, 66},  {10, 150}, {13, 13},
        {14, 14}, {17, 33}, {20, 64}, {27, 27}, {28, 28}, {30, 19}, {3, 70},   {55, 55},
        {56, 56}, {6, 9},   {75, 69}, {11, 62}, {4, 131}};
    static const size_t pads[][4] = {{0, 0, 0, 0}, {1, 1, 1, 1}, {2, 2, 2, 2},
                                     {0, 1, 2, 1}, {2, 0, 1, 2}};
    uint32_t seed = 777u;
    int bad = 0, run_planes = 0;
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++)
        for (size_t q = 0; q < sizeof pads / sizeof pads[0]; q++) {
            const size_t* pd = pads[q];
            if (sizes[s][0] + pd[0] + pd[2] < 3 || sizes[s][1] + pd[1] + pd[3] < 3) continue;
            for (int e = 0; e < 3; e++)
                bad += !check_plane(kern, sizes[s][0], sizes[s][1], pd[0], pd[1], pd[2], pd[3], e,
                                    0, &seed);
            run_planes++;
        }
    /* outputs of -0: Relu's + 0 makes them +0, as the elementwise Relu */
    for (int e = 0; e < 3; e++) bad += !check_plane(kern, 27, 27, 1, 1, 1, 1, e, 1, &seed);
    assert_true(run_planes > 90);
    assert_int_equal(bad, 0);
}

KT_PATH_TESTS(run)

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_generic), cmocka_unit_test(test_avx2),
        cmocka_unit_test(test_avx512), cmocka_unit_test(test_neon)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
