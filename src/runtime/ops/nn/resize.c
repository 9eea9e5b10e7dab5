/* Resize, modes nearest and linear, applied separably axis by axis (exact for
 * nearest; for linear the same multilinear interpolation up to rounding).
 * scales / sizes must be constant inputs. Opset-10 style (X, scales) is
 * accepted as well as X, roi, scales, sizes; roi is ignored (the transform
 * that reads it, tf_crop_and_resize, is refused). */
#include <math.h>
#include <string.h>

#include "nn_window.h"

enum { RS_NEAREST, RS_LINEAR };
enum { CT_HALF_PIXEL, CT_PYTORCH_HALF_PIXEL, CT_ALIGN_CORNERS, CT_ASYMMETRIC,
       CT_TF_HALF_PIXEL_FOR_NEAREST, CT_HALF_PIXEL_SYMMETRIC };
enum { NM_ROUND_PREFER_FLOOR, NM_ROUND_PREFER_CEIL, NM_FLOOR, NM_CEIL };

typedef struct resize_params {
    int32_t mode, ctm, nearest;
} resize_params;

static int lookup(const char* s, const char* const* names, int n) {
    for (int i = 0; i < n; i++)
        if (strcmp(s, names[i]) == 0) return i;
    return -1;
}

static ember_status resize_init(em_op_ctx* ctx, void* params) {
    resize_params* p = params;
    const char *mode, *ctm, *nearest, *policy;
    ember_status st;
    if ((st = em_attr_string(ctx, "mode", "nearest", &mode)) ||
        (st = em_attr_string(ctx, "coordinate_transformation_mode", "half_pixel", &ctm)) ||
        (st = em_attr_string(ctx, "nearest_mode", "round_prefer_floor", &nearest)) ||
        (st = em_attr_string(ctx, "keep_aspect_ratio_policy", "stretch", &policy)))
        return st;
    static const char* const modes[] = {"nearest", "linear"};
    static const char* const ctms[] = {"half_pixel", "pytorch_half_pixel", "align_corners",
                                       "asymmetric", "tf_half_pixel_for_nearest",
                                       "half_pixel_symmetric"};
    static const char* const nearests[] = {"round_prefer_floor", "round_prefer_ceil", "floor", "ceil"};
    if ((p->mode = lookup(mode, modes, 2)) < 0)
        return em_op_fail(ctx, strcmp(mode, "cubic") == 0 ? EMBER_ERROR_UNSUPPORTED : EMBER_ERROR_INVALID_MODEL,
                          "attribute 'mode' must be nearest or linear (cubic is not supported), got '%s'",
                          mode);
    if ((p->ctm = lookup(ctm, ctms, 6)) < 0)
        return em_op_fail(ctx, strcmp(ctm, "tf_crop_and_resize") == 0 ? EMBER_ERROR_UNSUPPORTED
                                                                        : EMBER_ERROR_INVALID_MODEL,
                          "attribute 'coordinate_transformation_mode' must be half_pixel, "
                          "pytorch_half_pixel, align_corners, asymmetric, tf_half_pixel_for_nearest "
                          "or half_pixel_symmetric (tf_crop_and_resize is not supported), got '%s'", ctm);
    if ((p->nearest = lookup(nearest, nearests, 4)) < 0)
        return em_op_fail(ctx, EMBER_ERROR_INVALID_MODEL,
                          "attribute 'nearest_mode' must be round_prefer_floor, round_prefer_ceil, "
                          "floor or ceil, got '%s'", nearest);
    if (strcmp(policy, "stretch") != 0)
        return em_op_fail(ctx, EMBER_ERROR_UNSUPPORTED,
                          "attribute 'keep_aspect_ratio_policy' = '%s' is not supported (only stretch)",
                          policy);
    int64_t antialias;
    if ((st = em_attr_int(ctx, "antialias", 0, &antialias))) return st;
    if (antialias != 0)
        return em_op_fail(ctx, EMBER_ERROR_UNSUPPORTED, "attribute 'antialias' = %lld is not supported (only 0)",
                          (long long)antialias);
    if (em_attr_find(ctx->node, "axes"))
        return em_op_fail(ctx, EMBER_ERROR_UNSUPPORTED,
                          "attribute 'axes' is not supported (give scales or sizes for every axis)");
    return EMBER_OK;
}

typedef struct resize_plan {
    int rank;
    int64_t in[EMBER_MAX_RANK], out[EMBER_MAX_RANK];
    float scale[EMBER_MAX_RANK];
    bool work[EMBER_MAX_RANK];     /* axis whose mapping is not the identity */
    size_t table_bytes;            /* index tables, 64-aligned */
    size_t buf_elems;              /* each of the two intermediate buffers */
} resize_plan;

/* Source coordinate of output index x along an axis of n -> m with scale s. */
static float source_coord(int ctm, int64_t x, int64_t n, int64_t m, float s) {
    const float xf = (float)x;
    switch (ctm) {
    case CT_PYTORCH_HALF_PIXEL: return m > 1 ? (xf + 0.5f) / s - 0.5f : 0.0f;
    case CT_ALIGN_CORNERS: {
        /* ONNX (and ONNX Runtime) use the unrounded output length n * scale,
         * which differs from m when the scale does not divide evenly. */
        const float len = (float)n * s;
        (void)m;
        return len <= 1.0f ? 0.0f : xf * (float)(n - 1) / (len - 1.0f);
    }
    case CT_ASYMMETRIC: return xf / s;
    case CT_TF_HALF_PIXEL_FOR_NEAREST: return (xf + 0.5f) / s;
    case CT_HALF_PIXEL_SYMMETRIC: {
        const float adjustment = (float)m / (s * (float)n);
        const float center = (float)n / 2.0f;
        const float offset = center * (1.0f - adjustment);
        return offset + (xf + 0.5f) / s - 0.5f;
    }
    default: return (xf + 0.5f) / s - 0.5f; /* half_pixel */
    }
}

/* Table entry of output index x: nearest gives i0; linear i0, i1 and w. */
static void map_index(const resize_params* p, int64_t x, int64_t n, int64_t m, float s,
                      int64_t* i0, int64_t* i1, float* w) {
    float c = source_coord(p->ctm, x, n, m, s);
    if (p->mode == RS_NEAREST) {
        float r;
        const float fl = floorf(c);
        switch (p->nearest) {
        case NM_ROUND_PREFER_CEIL: r = c == fl + 0.5f ? fl + 1.0f : roundf(c); break;
        case NM_FLOOR: r = fl; break;
        case NM_CEIL: r = ceilf(c); break;
        default: r = c == fl + 0.5f ? fl : roundf(c); break;
        }
        int64_t i = !(r >= 0.0f) ? 0 : r > (float)(n - 1) ? n - 1 : (int64_t)r;
        *i0 = *i1 = i;
        *w = 0.0f;
        return;
    }
    if (!(c >= 0.0f)) c = 0.0f;
    if (c > (float)(n - 1)) c = (float)(n - 1);
    int64_t lo = (int64_t)c;
    if (lo > n - 1) lo = n - 1;
    *i0 = lo;
    *i1 = lo + 1 < n ? lo + 1 : n - 1;
    *w = c - (float)lo;
}

static ember_status read_scales(em_op_ctx* ctx, uint32_t i, int rank, float* scales, bool* given) {
    const em_value* v = i < ctx->n_inputs ? ctx->inputs[i] : NULL;
    *given = false;
    if (!v) return EMBER_OK;
    if (v->dtype != EMBER_DTYPE_F32)
        return em_op_fail(ctx, EMBER_ERROR_DTYPE_MISMATCH, "scales (input %u) must be f32, got %s", i,
                          ember_dtype_name(v->dtype));
    if (v->shape.rank != 1)
        return em_op_fail(ctx, EMBER_ERROR_SHAPE_MISMATCH, "scales (input %u) must be 1-D, got rank %d",
                          i, v->shape.rank);
    if (v->shape.dims[0] == 0) return EMBER_OK; /* empty: sizes are used */
    if (!v->data)
        return em_op_fail(ctx, EMBER_ERROR_UNSUPPORTED,
                          "scales (input %u) must be a constant (computed scales are not supported)", i);
    if (v->shape.dims[0] != rank)
        return em_op_fail(ctx, EMBER_ERROR_SHAPE_MISMATCH,
                          "scales has %lld entries, expected %d (the rank of X)",
                          (long long)v->shape.dims[0], rank);
    const float* s = v->data;
    for (int d = 0; d < rank; d++) {
        if (!(s[d] > 0.0f) || isinf(s[d]))
            return em_op_fail(ctx, EMBER_ERROR_INVALID_MODEL, "scales[%d] must be positive and finite, got %g",
                              d, (double)s[d]);
        scales[d] = s[d];
    }
    *given = true;
    return EMBER_OK;
}

static ember_status resize_plan_make(em_op_ctx* ctx, resize_plan* pl) {
    const resize_params* p = ctx->params;
    ember_status st = em_expect_dtype(ctx, 0, EMBER_DTYPE_F32);
    if (st != EMBER_OK) return st;
    const em_value* x = ctx->inputs[0];
    const int rank = x->shape.rank;
    if (rank < 1)
        return em_op_fail(ctx, EMBER_ERROR_SHAPE_MISMATCH, "input X must have rank >= 1, got 0");
    pl->rank = rank;
    const uint32_t scales_at = ctx->n_inputs == 2 ? 1 : 2;
    bool have_scales, have_sizes = false;
    if ((st = read_scales(ctx, scales_at, rank, pl->scale, &have_scales))) return st;
    if (ctx->n_inputs > 3 && ctx->inputs[3]) {
        uint32_t count;
        if ((st = em_const_ints(ctx, 3, pl->out, EMBER_MAX_RANK, &count))) return st;
        if (count != (uint32_t)rank)
            return em_op_fail(ctx, EMBER_ERROR_SHAPE_MISMATCH,
                              "sizes has %u entries, expected %d (the rank of X)", count, rank);
        have_sizes = true;
    }
    if (have_scales == have_sizes)
        return em_op_fail(ctx, EMBER_ERROR_INVALID_MODEL,
                          "exactly one of scales and sizes must be given, got %s",
                          have_scales ? "both" : "neither");
    for (int d = 0; d < rank; d++) {
        const int64_t n = x->shape.dims[d];
        pl->in[d] = n;
        if (n < 1 || n > NN_DIM_LIMIT)
            return em_op_fail(ctx, EMBER_ERROR_SHAPE_MISMATCH,
                              "dim %d of X is %lld; Resize needs dims in [1, 2^40]", d, (long long)n);
        if (have_scales) {
            const double o = floor((double)n * (double)pl->scale[d]);
            pl->out[d] = o > (double)NN_DIM_LIMIT ? NN_DIM_LIMIT + 1 : (int64_t)o;
        } else {
            pl->scale[d] = (float)pl->out[d] / (float)n;
        }
        if (pl->out[d] < 1 || pl->out[d] > NN_DIM_LIMIT)
            return em_op_fail(ctx, EMBER_ERROR_SHAPE_MISMATCH,
                              "output dim %d would be %lld (input %lld, scale %g); must be in [1, 2^40]",
                              d, (long long)pl->out[d], (long long)n, (double)pl->scale[d]);
    }
    /* axes that need a pass, table and buffer sizes */
    uint64_t table = 0, cur = em_shape_count(&x->shape), buf = 0;
    int last = -1;
    for (int d = 0; d < rank; d++) {
        bool work = pl->in[d] != pl->out[d];
        for (int64_t i = 0; !work && i < pl->out[d]; i++) {
            int64_t i0, i1;
            float w;
            map_index(p, i, pl->in[d], pl->out[d], pl->scale[d], &i0, &i1, &w);
            work = i0 != i || w != 0.0f;
        }
        pl->work[d] = work;
        if (!work) continue;
        table += em_align_up((uint64_t)pl->out[d] * (2 * sizeof(int64_t) + sizeof(float)), EM_ALIGN);
        if (last >= 0 && cur > buf) buf = cur; /* the previous pass's result lives in a buffer */
        if (!em_mul_u64(cur / (uint64_t)pl->in[d], (uint64_t)pl->out[d], &cur))
            return em_op_fail(ctx, EMBER_ERROR_LIMIT_EXCEEDED, "the output is too large");
        last = d;
    }
    uint64_t bytes;
    if (!em_mul_u64(buf, 2 * sizeof(float), &bytes) || !em_add_u64(bytes, table, &bytes) ||
        bytes > (uint64_t)SIZE_MAX / 4)
        return em_op_fail(ctx, EMBER_ERROR_LIMIT_EXCEEDED, "Resize needs too much scratch memory");
    pl->table_bytes = (size_t)table;
    pl->buf_elems = (size_t)buf;
    return EMBER_OK;
}

static ember_status resize_infer(em_op_ctx* ctx) {
    resize_plan pl;
    ember_status st = resize_plan_make(ctx, &pl);
    if (st != EMBER_OK) return st;
    em_value* y = ctx->outputs[0];
    y->dtype = EMBER_DTYPE_F32;
    y->shape.rank = pl.rank;
    for (int d = 0; d < pl.rank; d++) y->shape.dims[d] = pl.out[d];
    ctx->scratch_bytes = pl.table_bytes + 2 * pl.buf_elems * sizeof(float);
    return EMBER_OK;
}

static ember_status resize_run(em_op_ctx* ctx) {
    const resize_params* p = ctx->params;
    resize_plan pl;
    ember_status st = resize_plan_make(ctx, &pl);
    if (st != EMBER_OK) return st;
    const float* src = ctx->inputs[0]->data;
    float* y = ctx->outputs[0]->data;
    unsigned char* tables = ctx->scratch;
    float* bufs[2] = {(float*)(tables + pl.table_bytes),
                      (float*)(tables + pl.table_bytes) + pl.buf_elems};
    int last = -1;
    for (int d = 0; d < pl.rank; d++)
        if (pl.work[d]) last = d;
    if (last < 0) {
        memcpy(y, src, em_shape_count(&ctx->inputs[0]->shape) * sizeof(float));
        return EMBER_OK;
    }
    int64_t cur[EMBER_MAX_RANK];
    memcpy(cur, pl.in, sizeof cur);
    int pass = 0;
    for (int d = 0; d < pl.rank; d++) {
        if (!pl.work[d]) continue;
        const size_t m = (size_t)pl.out[d];
        int64_t* i0 = (int64_t*)tables;
        int64_t* i1 = i0 + m;
        float* w = (float*)(i1 + m);
        tables += em_align_up(m * (2 * sizeof(int64_t) + sizeof(float)), EM_ALIGN);
        for (size_t j = 0; j < m; j++)
            map_index(p, (int64_t)j, pl.in[d], pl.out[d], pl.scale[d], &i0[j], &i1[j], &w[j]);
        size_t outer = 1, inner = 1;
        for (int e = 0; e < d; e++) outer *= (size_t)cur[e];
        for (int e = d + 1; e < pl.rank; e++) inner *= (size_t)cur[e];
        float* dst = d == last ? y : bufs[pass++ % 2];
        if (p->mode == RS_NEAREST)
            ember_f32_resize_gather_axis_ref(outer, (size_t)pl.in[d], inner, m, i0, src, dst);
        else
            ember_f32_resize_linear_axis_ref(outer, (size_t)pl.in[d], inner, m, i0, i1, w, src, dst);
        cur[d] = pl.out[d];
        src = dst;
    }
    return EMBER_OK;
}

const em_op_def em_op_resize = {
    .name = "Resize", .min_inputs = 1, .max_inputs = 4, .min_outputs = 1, .max_outputs = 1,
    .params_size = sizeof(resize_params), .fusable = false,
    .init = resize_init, .infer = resize_infer, .run = resize_run,
};
