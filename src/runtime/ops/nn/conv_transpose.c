/* ConvTranspose: per image and group, the dispatched GEMM (f32_gemm.h) computes
 * the columns W_g^T * X_g (into scratch) and col2im scatters them into the
 * output, which starts as the bias. Scratch: the columns (64-byte rounded), then
 * the GEMM's packing workspace. Constant weights (A = W_g^T a group) are packed
 * once per model (packed_bytes / pack). The fused activation is applied by
 * em_node_run. */
#include <string.h>

#include "f32_gemm.h"
#include "nn_window.h"

typedef struct conv_transpose_params {
    nn_window_attrs win;
    int64_t group;
    uint32_t n_output_padding, n_output_shape;
    int64_t output_padding[NN_MAX_SPATIAL];
    int64_t output_shape[NN_MAX_SPATIAL + 2];
} conv_transpose_params;

typedef struct ct_plan {
    size_t n, c, m, cg, mg, group, kvol, in_vol, out_vol;
    ember_window w;        /* image: the output; out: the input's spatial dims */
    em_shape out;
} ct_plan;

static ember_status ct_init(em_op_ctx* ctx, void* params) {
    conv_transpose_params* p = params;
    ember_status st = nn_window_parse(ctx, &p->win);
    if (st != EMBER_OK) return st;
    if ((st = em_attr_int(ctx, "group", 1, &p->group)) != EMBER_OK) return st;
    if (p->group < 1 || p->group > ((int64_t)1 << 31))
        return em_op_fail(ctx, EMBER_ERROR_INVALID_MODEL, "attribute 'group' must be >= 1, got %lld",
                          (long long)p->group);
    const int64_t* v;
    uint32_t n;
    if ((st = em_attr_ints(ctx, "output_padding", &v, &n)) != EMBER_OK) return st;
    if (n > NN_MAX_SPATIAL)
        return em_op_fail(ctx, EMBER_ERROR_UNSUPPORTED,
                          "attribute 'output_padding' has %u entries; at most 3 spatial dims are supported", n);
    for (uint32_t i = 0; i < n; i++) {
        if (v[i] < 0 || v[i] > NN_ATTR_LIMIT)
            return em_op_fail(ctx, EMBER_ERROR_INVALID_MODEL,
                              "attribute 'output_padding'[%u] must be >= 0, got %lld", i, (long long)v[i]);
        p->output_padding[i] = v[i];
    }
    p->n_output_padding = n;
    if ((st = em_attr_ints(ctx, "output_shape", &v, &n)) != EMBER_OK) return st;
    if (n > NN_MAX_SPATIAL + 2)
        return em_op_fail(ctx, EMBER_ERROR_UNSUPPORTED,
                          "attribute 'output_shape' has %u entries; at most 3 spatial dims are supported", n);
    for (uint32_t i = 0; i < n; i++) {
        if (v[i] < 1 || v[i] > NN_DIM_LIMIT)
            return em_op_fail(ctx, EMBER_ERROR_INVALID_MODEL,
                              "attribute 'output_shape'[%u] must be >= 1, got %lld", i, (long long)v[i]);
        p->output_shape[i] = v[i];
    }
    p->n_output_shape = n;
    return EMBER_OK;
}

static ember_status ct_plan_make(em_op_ctx* ctx, ct_plan* pl) {
    const conv_transpose_params* p = ctx->params;
    const em_value* x = ctx->inputs[0];
    const em_value* wt = ctx->inputs[1];
    const em_value* b = ctx->n_inputs > 2 ? ctx->inputs[2] : NULL;
    ember_status st = nn_conv_operands_check(ctx);
    if (st != EMBER_OK) return st;
    const int rank = x->shape.rank;
    const int nsp = rank - 2;
    const int64_t c = x->shape.dims[1], g = p->group;
    if (c % g != 0)
        return em_op_fail(ctx, EMBER_ERROR_SHAPE_MISMATCH,
                          "input channels %lld are not divisible by group %lld", (long long)c,
                          (long long)g);
    if (wt->shape.dims[0] != c)
        return em_op_fail(ctx, EMBER_ERROR_SHAPE_MISMATCH,
                          "W dim 0 must equal the input channels %lld, got %lld", (long long)c,
                          (long long)wt->shape.dims[0]);
    const int64_t mg = wt->shape.dims[1];
    if (mg < 1 || mg > NN_DIM_LIMIT)
        return em_op_fail(ctx, EMBER_ERROR_SHAPE_MISMATCH, "W dim 1 must be >= 1, got %lld",
                          (long long)mg);
    const int64_t m = mg * g;
    if (b && (b->shape.rank != 1 || b->shape.dims[0] != m))
        return em_op_fail(ctx, EMBER_ERROR_SHAPE_MISMATCH,
                          "bias B must have shape [%lld] (output channels = W dim 1 * group), got rank %d",
                          (long long)m, b->shape.rank);
    if ((st = nn_window_check(ctx, &p->win, nsp))) return st;
    if (p->n_output_padding && p->n_output_padding != (uint32_t)nsp)
        return em_op_fail(ctx, EMBER_ERROR_INVALID_MODEL,
                          "attribute 'output_padding' has %u entries, expected %d", p->n_output_padding, nsp);
    if (p->n_output_shape && p->n_output_shape != (uint32_t)nsp && p->n_output_shape != (uint32_t)rank)
        return em_op_fail(ctx, EMBER_ERROR_INVALID_MODEL,
                          "attribute 'output_shape' has %u entries, expected %d (or %d with N and C)",
                          p->n_output_shape, nsp, rank);
    const int64_t* k = wt->shape.dims + 2;
    ember_window* w = &pl->w;
    for (int i = 0; i < EMBER_WINDOW_DIMS; i++) {
        w->image[i] = w->out[i] = w->kernel[i] = w->stride[i] = w->dilation[i] = 1;
        w->pad[i] = w->pad_end[i] = 0;
    }
    pl->out.rank = rank;
    pl->out.dims[0] = x->shape.dims[0];
    pl->out.dims[1] = m;
    for (int i = 0; i < nsp; i++) {
        const int64_t n = x->shape.dims[2 + i], s = nn_stride(&p->win, i), d = nn_dilation(&p->win, i);
        const int64_t op = p->n_output_padding ? p->output_padding[i] : 0;
        if (p->win.n_kernel && p->win.kernel[i] != k[i])
            return em_op_fail(ctx, EMBER_ERROR_SHAPE_MISMATCH,
                              "attribute 'kernel_shape'[%d] = %lld does not match W dim %d = %lld",
                              i, (long long)p->win.kernel[i], i + 2, (long long)k[i]);
        if (n < 1 || n > NN_DIM_LIMIT || k[i] < 1 || k[i] > NN_ATTR_LIMIT)
            return em_op_fail(ctx, EMBER_ERROR_SHAPE_MISMATCH,
                              "spatial dim %d: input size %lld and kernel size %lld must be >= 1", i,
                              (long long)n, (long long)k[i]);
        const int64_t ek = (k[i] - 1) * d + 1, full = s * (n - 1) + op + ek;
        int64_t pb = 0, pe = 0, o;
        const bool same = p->win.auto_pad == NN_PAD_SAME_UPPER || p->win.auto_pad == NN_PAD_SAME_LOWER;
        if (p->n_output_shape || same) {
            o = p->n_output_shape ? p->output_shape[p->n_output_shape - (uint32_t)nsp + (uint32_t)i]
                                  : n * s;
            const int64_t total = full - o;
            /* floor(total / 2), as ONNX computes it: a negative total (an output
             * larger than the natural one) pads the end with zeros */
            const int64_t half = total >= 0 ? total / 2 : -((-total + 1) / 2);
            if (p->win.auto_pad == NN_PAD_SAME_UPPER) {
                pb = half;
                pe = total - pb;
            } else {
                pe = half;
                pb = total - pe;
            }
        } else {
            if (p->win.auto_pad == NN_PAD_NOTSET && p->win.n_pads) {
                pb = p->win.pads[i];
                pe = p->win.pads[i + nsp];
            }
            o = full - pb - pe;
        }
        if (o < 1)
            return em_op_fail(ctx, EMBER_ERROR_SHAPE_MISMATCH,
                              "spatial dim %d: output size would be %lld (input %lld, kernel %lld, "
                              "stride %lld, dilation %lld, pads %lld+%lld); must be >= 1",
                              i, (long long)o, (long long)n, (long long)k[i], (long long)s,
                              (long long)d, (long long)pb, (long long)pe);
        pl->out.dims[2 + i] = o;
        const int j = EMBER_WINDOW_DIMS - nsp + i;
        w->image[j] = (size_t)o;
        w->out[j] = (size_t)n;
        w->kernel[j] = (size_t)k[i];
        w->stride[j] = (size_t)s;
        w->dilation[j] = (size_t)d;
        w->pad[j] = (ptrdiff_t)pb;
        w->pad_end[j] = (ptrdiff_t)pe;
    }
    if (p->n_output_shape == (uint32_t)rank &&
        (p->output_shape[0] != pl->out.dims[0] || p->output_shape[1] != m))
        return em_op_fail(ctx, EMBER_ERROR_SHAPE_MISMATCH,
                          "attribute 'output_shape' gives N, C = %lld, %lld but the output has %lld, %lld",
                          (long long)p->output_shape[0], (long long)p->output_shape[1],
                          (long long)pl->out.dims[0], (long long)m);
    pl->n = (size_t)x->shape.dims[0];
    pl->c = (size_t)c;
    pl->m = (size_t)m;
    pl->group = (size_t)g;
    pl->cg = (size_t)(c / g);
    pl->mg = (size_t)mg;
    pl->kvol = w->kernel[0] * w->kernel[1] * w->kernel[2];
    pl->in_vol = w->out[0] * w->out[1] * w->out[2];
    pl->out_vol = w->image[0] * w->image[1] * w->image[2];
    return EMBER_OK;
}

static ember_status ct_infer(em_op_ctx* ctx) {
    ct_plan pl;
    ember_status st = ct_plan_make(ctx, &pl);
    if (st != EMBER_OK) return st;
    ctx->outputs[0]->dtype = EMBER_DTYPE_F32;
    ctx->outputs[0]->shape = pl.out;
    uint64_t bytes;
    if (!em_mul_u64(pl.mg * pl.kvol, pl.in_vol, &bytes) || !em_mul_u64(bytes, 4, &bytes) ||
        bytes > (uint64_t)SIZE_MAX / 4)
        return em_op_fail(ctx, EMBER_ERROR_LIMIT_EXCEEDED, "the column buffer is too large");
    bytes = (bytes + EM_ALIGN - 1) / EM_ALIGN * EM_ALIGN;
    ctx->scratch_bytes = (size_t)bytes + ember_f32_gemm_workspace_size(em_kern(ctx),
                                                                       pl.mg * pl.kvol, pl.in_vol,
                                                                       pl.cg);
    return EMBER_OK;
}

/* Bytes of one group's packed W_g^T, 64-byte rounded. */
static size_t ct_group_packed(const ember_kernels* kern, const ct_plan* pl) {
    const size_t b = ember_f32_gemm_packed_a_size(kern, pl->mg * pl->kvol, pl->cg);
    return (b + EM_ALIGN - 1) / EM_ALIGN * EM_ALIGN;
}

static ember_status ct_run(em_op_ctx* ctx) {
    ctx->kernel = "gemm+col2im";
    ct_plan pl;
    ember_status st = ct_plan_make(ctx, &pl);
    if (st != EMBER_OK) return st;
    const float* x = ctx->inputs[0]->data;
    const float* wt = ctx->inputs[1]->data;
    const float* bias = ctx->n_inputs > 2 && ctx->inputs[2] ? ctx->inputs[2]->data : NULL;
    float* y = ctx->outputs[0]->data;
    float* col = ctx->scratch;
    const size_t rows = pl.mg * pl.kvol; /* columns matrix: rows x in_vol */
    const ember_kernels* kern = em_kern(ctx);
    void* work = (char*)ctx->scratch +
                 (rows * pl.in_vol * sizeof(float) + EM_ALIGN - 1) / EM_ALIGN * EM_ALIGN;
    for (size_t n = 0; n < pl.n; n++)
        for (size_t g = 0; g < pl.group; g++) {
            const float* xg = x + (n * pl.c + g * pl.cg) * pl.in_vol;
            float* yg = y + (n * pl.m + g * pl.mg) * pl.out_vol;
            for (size_t o = 0; o < pl.mg; o++) {
                const float v = bias ? bias[g * pl.mg + o] : 0.0f;
                for (size_t j = 0; j < pl.out_vol; j++) yg[o * pl.out_vol + j] = v;
            }
            if (ctx->packed) { /* this group's W_g^T, packed once for the model */
                const float* ap = (const float*)((const char*)ctx->packed + g * ct_group_packed(kern, &pl));
                ember_f32_gemm_prepacked_a_mt(ctx->pool, kern, rows, pl.in_vol, pl.cg, ap, xg, pl.in_vol,
                                              1, 0.0f, col, pl.in_vol, work);
                ember_f32_col2im_ref(pl.mg, &pl.w, col, yg);
                continue;
            }
            /* W_g is cg x rows (row-major); A = W_g^T */
            ember_f32_gemm_mt(ctx->pool, kern, rows, pl.in_vol, pl.cg, 1.0f, wt + g * pl.cg * rows,
                              1, rows, xg, pl.in_vol, 1, 0.0f, col, pl.in_vol, work);
            ember_f32_col2im_ref(pl.mg, &pl.w, col, yg);
        }
    return EMBER_OK;
}

static size_t ct_packed_bytes(em_op_ctx* ctx) {
    ct_plan pl;
    if (ct_plan_make(ctx, &pl) != EMBER_OK || !ctx->inputs[1]->data) return 0;
    return pl.group * ct_group_packed(em_kern(ctx), &pl);
}

static ember_status ct_pack(em_op_ctx* ctx, void* dst) {
    ct_plan pl;
    ember_status st = ct_plan_make(ctx, &pl);
    if (st != EMBER_OK) return st;
    const ember_kernels* kern = em_kern(ctx);
    const size_t rows = pl.mg * pl.kvol;
    const float* wt = ctx->inputs[1]->data;
    for (size_t g = 0; g < pl.group; g++) /* W_g is cg x rows (row-major); A = W_g^T */
        ember_f32_gemm_pack_a_full(kern, rows, pl.cg, 1.0f, wt + g * pl.cg * rows, 1, rows,
                                   (float*)((char*)dst + g * ct_group_packed(kern, &pl)));
    return EMBER_OK;
}

const em_op_def em_op_conv_transpose = {
    .name = "ConvTranspose", .min_inputs = 2, .max_inputs = 3, .min_outputs = 1, .max_outputs = 1,
    .params_size = sizeof(conv_transpose_params), .fusable = true,
    .init = ct_init, .infer = ct_infer, .run = ct_run,
    .packed_bytes = ct_packed_bytes, .pack = ct_pack,
};
