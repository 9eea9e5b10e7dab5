/* Sliding-window attributes and output sizes (see nn_window.h). */
#include <string.h>

#include "nn_window.h"

static ember_status read_list(em_op_ctx* ctx, const char* name, uint32_t cap, int64_t lo,
                              int64_t* out, uint32_t* count) {
    const int64_t* v;
    uint32_t n;
    ember_status st = em_attr_ints(ctx, name, &v, &n);
    if (st != EMBER_OK) return st;
    if (n > cap)
        return em_op_fail(ctx, EMBER_ERROR_UNSUPPORTED,
                          "attribute '%s' has %u entries; at most %u (3 spatial dims) are supported",
                          name, n, cap);
    for (uint32_t i = 0; i < n; i++) {
        if (v[i] < lo || v[i] > NN_ATTR_LIMIT)
            return em_op_fail(ctx, EMBER_ERROR_INVALID_MODEL,
                              "attribute '%s'[%u] must be in [%lld, %lld], got %lld", name, i,
                              (long long)lo, (long long)NN_ATTR_LIMIT, (long long)v[i]);
        out[i] = v[i];
    }
    *count = n;
    return EMBER_OK;
}

ember_status nn_window_parse(em_op_ctx* ctx, nn_window_attrs* a) {
    memset(a, 0, sizeof *a);
    const char* pad;
    ember_status st = em_attr_string(ctx, "auto_pad", "NOTSET", &pad);
    if (st != EMBER_OK) return st;
    if (strcmp(pad, "NOTSET") == 0) a->auto_pad = NN_PAD_NOTSET;
    else if (strcmp(pad, "SAME_UPPER") == 0) a->auto_pad = NN_PAD_SAME_UPPER;
    else if (strcmp(pad, "SAME_LOWER") == 0) a->auto_pad = NN_PAD_SAME_LOWER;
    else if (strcmp(pad, "VALID") == 0) a->auto_pad = NN_PAD_VALID;
    else
        return em_op_fail(ctx, EMBER_ERROR_INVALID_MODEL,
                          "attribute 'auto_pad' must be NOTSET, SAME_UPPER, SAME_LOWER or VALID, "
                          "got '%s'", pad);
    if ((st = read_list(ctx, "kernel_shape", NN_MAX_SPATIAL, 1, a->kernel, &a->n_kernel)) ||
        (st = read_list(ctx, "strides", NN_MAX_SPATIAL, 1, a->strides, &a->n_strides)) ||
        (st = read_list(ctx, "pads", 2 * NN_MAX_SPATIAL, 0, a->pads, &a->n_pads)) ||
        (st = read_list(ctx, "dilations", NN_MAX_SPATIAL, 1, a->dilations, &a->n_dilations)))
        return st;
    if (a->n_pads % 2)
        return em_op_fail(ctx, EMBER_ERROR_INVALID_MODEL,
                          "attribute 'pads' must have 2 entries per spatial dim, got %u", a->n_pads);
    return EMBER_OK;
}

static ember_status check_len(em_op_ctx* ctx, const char* name, uint32_t n, int want) {
    if (n != 0 && n != (uint32_t)want)
        return em_op_fail(ctx, EMBER_ERROR_INVALID_MODEL,
                          "attribute '%s' has %u entries, expected %d for the input's spatial dims",
                          name, n, want);
    return EMBER_OK;
}

ember_status nn_window_check(em_op_ctx* ctx, const nn_window_attrs* a, int nsp) {
    ember_status st;
    if ((st = check_len(ctx, "kernel_shape", a->n_kernel, nsp)) ||
        (st = check_len(ctx, "strides", a->n_strides, nsp)) ||
        (st = check_len(ctx, "pads", a->n_pads, 2 * nsp)) ||
        (st = check_len(ctx, "dilations", a->n_dilations, nsp)))
        return st;
    return EMBER_OK;
}

int64_t nn_stride(const nn_window_attrs* a, int i) { return a->n_strides ? a->strides[i] : 1; }
int64_t nn_dilation(const nn_window_attrs* a, int i) {
    return a->n_dilations ? a->dilations[i] : 1;
}

ember_status nn_window_forward(em_op_ctx* ctx, const nn_window_attrs* a, int nsp,
                               const int64_t* in, const int64_t* kernel, bool ceil_mode,
                               int64_t* out, ember_window* w) {
    ember_status st = nn_window_check(ctx, a, nsp);
    if (st != EMBER_OK) return st;
    for (int i = 0; i < EMBER_WINDOW_DIMS; i++) {
        w->image[i] = w->out[i] = w->kernel[i] = w->stride[i] = w->dilation[i] = 1;
        w->pad[i] = w->pad_end[i] = 0;
    }
    for (int i = 0; i < nsp; i++) {
        const int64_t n = in[i], k = kernel[i], s = nn_stride(a, i), d = nn_dilation(a, i);
        if (n < 0 || n > NN_DIM_LIMIT || k < 1 || k > NN_ATTR_LIMIT)
            return em_op_fail(ctx, EMBER_ERROR_SHAPE_MISMATCH,
                              "spatial dim %d: input size %lld or kernel size %lld out of range", i,
                              (long long)n, (long long)k);
        const int64_t ek = (k - 1) * d + 1;
        int64_t pb = 0, pe = 0, o;
        if (a->auto_pad == NN_PAD_SAME_UPPER || a->auto_pad == NN_PAD_SAME_LOWER) {
            o = (n + s - 1) / s;
            int64_t total = (o - 1) * s + ek - n;
            if (total < 0) total = 0;
            pb = a->auto_pad == NN_PAD_SAME_UPPER ? total / 2 : total - total / 2;
            pe = total - pb;
        } else {
            if (a->auto_pad == NN_PAD_NOTSET && a->n_pads) {
                pb = a->pads[i];
                pe = a->pads[i + nsp];
            }
            const int64_t span = n + pb + pe - ek;
            if (span < 0)
                return em_op_fail(ctx, EMBER_ERROR_SHAPE_MISMATCH,
                                  "spatial dim %d: the window (kernel %lld, dilation %lld) spans %lld "
                                  "but the padded input has only %lld",
                                  i, (long long)k, (long long)d, (long long)ek,
                                  (long long)(n + pb + pe));
            if (ceil_mode) {
                o = (span + s - 1) / s + 1;
                if ((o - 1) * s >= n + pb) o--; /* last window would start in the end padding */
            } else {
                o = span / s + 1;
            }
        }
        if (o < 1)
            return em_op_fail(ctx, EMBER_ERROR_SHAPE_MISMATCH,
                              "spatial dim %d: output size would be %lld (input %lld, kernel %lld, "
                              "stride %lld, dilation %lld, pads %lld+%lld); must be >= 1",
                              i, (long long)o, (long long)n, (long long)k, (long long)s,
                              (long long)d, (long long)pb, (long long)pe);
        out[i] = o;
        const int j = EMBER_WINDOW_DIMS - nsp + i;
        w->image[j] = (size_t)n;
        w->out[j] = (size_t)o;
        w->kernel[j] = (size_t)k;
        w->stride[j] = (size_t)s;
        w->dilation[j] = (size_t)d;
        w->pad[j] = (ptrdiff_t)pb;
        w->pad_end[j] = (ptrdiff_t)pe;
    }
    return EMBER_OK;
}

ember_status nn_conv_operands_check(em_op_ctx* ctx) {
    const em_value* x = ctx->inputs[0];
    const em_value* wt = ctx->inputs[1];
    const bool has_b = ctx->n_inputs > 2 && ctx->inputs[2];
    ember_status st;
    if ((st = em_expect_dtype(ctx, 0, EMBER_DTYPE_F32)) || (st = em_expect_dtype(ctx, 1, EMBER_DTYPE_F32)))
        return st;
    if (has_b && (st = em_expect_dtype(ctx, 2, EMBER_DTYPE_F32))) return st;
    const int rank = x->shape.rank;
    if (rank < 3 || rank > 2 + NN_MAX_SPATIAL)
        return em_op_fail(ctx, EMBER_ERROR_UNSUPPORTED,
                          "input X must have rank 3 to 5 (N, C and 1 to 3 spatial dims), got rank %d",
                          rank);
    if (wt->shape.rank != rank)
        return em_op_fail(ctx, EMBER_ERROR_SHAPE_MISMATCH,
                          "weight W must have rank %d like X, got rank %d", rank, wt->shape.rank);
    return EMBER_OK;
}

void nn_band_window(const ember_window* w, size_t r0, size_t r1, size_t* e0, size_t* e1,
                    ember_window* wb) {
    const ptrdiff_t kh = (ptrdiff_t)w->kernel[1], sh = (ptrdiff_t)w->stride[1], pt = w->pad[1];
    const ptrdiff_t h = (ptrdiff_t)w->image[1];
    ptrdiff_t lo = (ptrdiff_t)r0 * sh - pt, hi = ((ptrdiff_t)r1 - 1) * sh - pt + kh;
    if (lo < 0) lo = 0;
    if (hi > h) hi = h;
    *e0 = (size_t)lo;
    *e1 = (size_t)hi;
    *wb = *w;
    wb->image[1] = (size_t)(hi - lo);
    wb->out[1] = r1 - r0;
    wb->pad[1] = lo + pt - (ptrdiff_t)r0 * sh;
    const ptrdiff_t end = ((ptrdiff_t)(r1 - r0) - 1) * sh + kh - wb->pad[1] - (hi - lo);
    wb->pad_end[1] = end > 0 ? end : 0;
}

size_t nn_band_copy_shared(size_t planes, size_t width, size_t e0, size_t e1, const float* prev,
                           size_t pe0, size_t pe1, float* buf) {
    if (!prev || e0 < pe0 || e0 >= pe1) return 0;
    const size_t have = (pe1 < e1 ? pe1 : e1) - e0, rows = e1 - e0, prows = pe1 - pe0;
    for (size_t c = 0; c < planes; c++)
        memcpy(buf + c * rows * width, prev + (c * prows + (e0 - pe0)) * width,
               have * width * sizeof(float));
    return have;
}
