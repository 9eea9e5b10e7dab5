/* ReduceSum, ReduceMean, ReduceMax. Axes come from the attribute (older
 * opsets) or from the optional constant input 1 (ReduceSum from opset 13, the
 * others from 18). keepdims defaults to 1; no axes means every axis, unless
 * noop_with_empty_axes is set, which makes the node an identity.
 * f32; ReduceSum and ReduceMax also i32 and i64 (wrapping sums).
 *
 * The input is seen as groups of merged neighbouring dims, alternately kept
 * and reduced; each reduced group is one kernel call over outer x n x inner,
 * innermost first, through scratch buffers when there are several. */
#include <math.h>
#include <string.h>

#include "ew_common.h"

typedef enum reduce_kind { REDUCE_SUM, REDUCE_MEAN, REDUCE_MAX } reduce_kind;

typedef struct reduce_params {
    reduce_kind kind;
    int64_t keepdims;
    int64_t noop_with_empty_axes;
    const int64_t* axes; /* the attribute, in place in the model */
    uint32_t n_axes;
} reduce_params;

typedef struct reduce_plan {
    bool identity;
    int32_t n_groups;
    int64_t size[EMBER_MAX_RANK];
    bool reduced[EMBER_MAX_RANK];
    uint64_t count;           /* elements reduced into each output element */
    size_t scratch_elems[2];  /* ping-pong buffers (elements) */
    em_shape out;
} reduce_plan;

static ember_status reduce_init_kind(em_op_ctx* ctx, void* params, reduce_kind kind) {
    reduce_params* p = params;
    p->kind = kind;
    ember_status st;
    if ((st = em_attr_int(ctx, "keepdims", 1, &p->keepdims)) ||
        (st = em_attr_int(ctx, "noop_with_empty_axes", 0, &p->noop_with_empty_axes)) ||
        (st = em_attr_ints(ctx, "axes", &p->axes, &p->n_axes)))
        return st;
    if (p->n_axes && ctx->n_inputs > 1 && ctx->node->inputs[1] != EM_NONE)
        return em_op_fail(ctx, EMBER_ERROR_INVALID_MODEL,
                          "axes given both as an attribute and as input 1");
    if (p->n_axes > EMBER_MAX_RANK)
        return em_op_fail(ctx, EMBER_ERROR_INVALID_MODEL,
                          "attribute 'axes' has %u entries, at most %d allowed", p->n_axes,
                          EMBER_MAX_RANK);
    return EMBER_OK;
}

static ember_status sum_init(em_op_ctx* ctx, void* p) {
    return reduce_init_kind(ctx, p, REDUCE_SUM);
}
static ember_status mean_init(em_op_ctx* ctx, void* p) {
    return reduce_init_kind(ctx, p, REDUCE_MEAN);
}
static ember_status max_init(em_op_ctx* ctx, void* p) {
    return reduce_init_kind(ctx, p, REDUCE_MAX);
}

static ember_status reduce_make_plan(em_op_ctx* ctx, reduce_plan* pl) {
    const reduce_params* p = ctx->params;
    const em_value* x = ctx->inputs[0];
    const uint32_t dt_mask = p->kind == REDUCE_MEAN
                                 ? EW_DT(EMBER_DTYPE_F32)
                                 : EW_DT(EMBER_DTYPE_F32) | EW_DT(EMBER_DTYPE_I32) |
                                       EW_DT(EMBER_DTYPE_I64);
    ember_status st = ew_expect_dtypes(ctx, 0, dt_mask,
                                       p->kind == REDUCE_MEAN ? "f32" : "f32, i32 or i64");
    if (st != EMBER_OK) return st;

    int64_t axes[EMBER_MAX_RANK];
    uint32_t n_axes = p->n_axes;
    const em_value* ax = ctx->n_inputs > 1 ? ctx->inputs[1] : NULL;
    if (ax && ax->shape.rank == 1 && ax->shape.dims[0] == 0) {
        n_axes = 0; /* an empty constant may have no data at all */
    } else if (ax) {
        if ((st = em_const_ints(ctx, 1, axes, EMBER_MAX_RANK, &n_axes))) return st;
    } else {
        for (uint32_t i = 0; i < n_axes; i++) axes[i] = p->axes[i];
    }

    const int32_t rank = x->shape.rank;
    bool mask[EMBER_MAX_RANK] = {false};
    for (uint32_t i = 0; i < n_axes; i++) {
        int32_t a;
        if ((st = em_axis(ctx, axes[i], rank, &a))) return st;
        if (mask[a])
            return em_op_fail(ctx, EMBER_ERROR_INVALID_MODEL, "axis %lld is given twice",
                              (long long)axes[i]);
        mask[a] = true;
    }
    memset(pl, 0, sizeof *pl);
    if (n_axes == 0) {
        if (p->noop_with_empty_axes) {
            pl->identity = true;
            pl->out = x->shape;
            return EMBER_OK;
        }
        for (int32_t d = 0; d < rank; d++) mask[d] = true;
    }

    pl->out.rank = 0;
    pl->count = 1;
    for (int32_t d = 0; d < rank; d++) {
        const int64_t dim = x->shape.dims[d];
        if (mask[d]) {
            pl->count *= (uint64_t)dim;
            if (p->keepdims) pl->out.dims[pl->out.rank++] = 1;
        } else {
            pl->out.dims[pl->out.rank++] = dim;
        }
        if (dim == 1) continue;
        if (pl->n_groups > 0 && pl->reduced[pl->n_groups - 1] == mask[d]) {
            pl->size[pl->n_groups - 1] *= dim;
        } else {
            pl->size[pl->n_groups] = dim;
            pl->reduced[pl->n_groups] = mask[d];
            pl->n_groups++;
        }
    }

    /* Intermediate sizes: reducing group g divides the current total by size[g]
     * (a zero-sized group leaves a zero total behind it: nothing to read). */
    uint64_t total = 1, inter[2] = {0, 0};
    for (int32_t g = 0; g < pl->n_groups; g++) total *= (uint64_t)pl->size[g];
    int32_t steps = 0;
    for (int32_t g = pl->n_groups - 1; g >= 0; g--) {
        if (!pl->reduced[g]) continue;
        total = pl->size[g] ? total / (uint64_t)pl->size[g] : 0;
        if (steps < 2) inter[steps] = total;
        steps++;
    }
    /* Step k writes buffer k % 2, except the last step, which writes the output;
     * sizes only shrink, so each buffer holds its first use. */
    pl->scratch_elems[0] = steps >= 2 ? (size_t)inter[0] : 0;
    pl->scratch_elems[1] = steps >= 3 ? (size_t)inter[1] : 0;
    return EMBER_OK;
}

static ember_status reduce_infer(em_op_ctx* ctx) {
    reduce_plan pl;
    ember_status st = reduce_make_plan(ctx, &pl);
    if (st != EMBER_OK) return st;
    const size_t es = ember_dtype_size(ctx->inputs[0]->dtype);
    ctx->outputs[0]->dtype = ctx->inputs[0]->dtype;
    ctx->outputs[0]->shape = pl.out;
    ctx->scratch_bytes = (size_t)em_align_up(pl.scratch_elems[0] * es, EM_ALIGN) +
                         (size_t)em_align_up(pl.scratch_elems[1] * es, EM_ALIGN);
    return EMBER_OK;
}

static void reduce_step(reduce_kind kind, ember_dtype dt, size_t outer, size_t n, size_t inner,
                        const void* x, void* y) {
    const bool max = kind == REDUCE_MAX;
    switch (dt) {
    case EMBER_DTYPE_F32:
        (max ? ember_f32_reduce_max_ref : ember_f32_reduce_sum_ref)(outer, n, inner, x, y);
        break;
    case EMBER_DTYPE_I32:
        (max ? ember_i32_reduce_max_ref : ember_i32_reduce_sum_ref)(outer, n, inner, x, y);
        break;
    case EMBER_DTYPE_I64:
        (max ? ember_i64_reduce_max_ref : ember_i64_reduce_sum_ref)(outer, n, inner, x, y);
        break;
    default: break;
    }
}

static ember_status reduce_run(em_op_ctx* ctx) {
    const reduce_params* p = ctx->params;
    reduce_plan pl;
    ember_status st = reduce_make_plan(ctx, &pl);
    if (st != EMBER_OK) return st;
    const em_value* x = ctx->inputs[0];
    em_value* y = ctx->outputs[0];
    const size_t es = ember_dtype_size(x->dtype);
    const size_t n_out = em_shape_count(&y->shape);
    if (pl.identity) {
        if (n_out) memcpy(y->data, x->data, n_out * es);
        return EMBER_OK;
    }
    if (n_out == 0) return EMBER_OK;

    void* buf[2] = {ctx->scratch,
                    (uint8_t*)ctx->scratch + em_align_up(pl.scratch_elems[0] * es, EM_ALIGN)};
    int32_t last = -1; /* the outermost reduced group: its step writes y */
    for (int32_t g = 0; g < pl.n_groups && last < 0; g++)
        if (pl.reduced[g]) last = g;

    int64_t size[EMBER_MAX_RANK];
    memcpy(size, pl.size, sizeof size);
    const void* src = x->data;
    int step = 0;
    if (last < 0) { /* only size-1 dims reduced: a copy */
        memcpy(y->data, x->data, n_out * es);
    }
    for (int32_t g = pl.n_groups - 1; g >= 0 && last >= 0; g--) {
        if (!pl.reduced[g]) continue;
        size_t outer = 1, inner = 1;
        for (int32_t k = 0; k < g; k++) outer *= (size_t)size[k];
        for (int32_t k = g + 1; k < pl.n_groups; k++) inner *= (size_t)size[k];
        void* dst = g == last ? y->data : buf[step & 1];
        reduce_step(p->kind, x->dtype, outer, (size_t)size[g], inner, src, dst);
        size[g] = 1;
        src = dst;
        step++;
    }
    if (p->kind == REDUCE_MEAN)
        ember_f32_scale_ref(n_out, pl.count ? 1.0f / (float)pl.count : NAN, y->data);
    return EMBER_OK;
}

#define REDUCE_DEF(sym, NAME, INIT)                                                             \
    const em_op_def sym = {                                                                     \
        .name = NAME, .min_inputs = 1, .max_inputs = 2, .min_outputs = 1, .max_outputs = 1,     \
        .params_size = sizeof(reduce_params), .fusable = false,                                 \
        .init = INIT, .infer = reduce_infer, .run = reduce_run,                                 \
    }

REDUCE_DEF(em_op_reduce_sum, "ReduceSum", sum_init);
REDUCE_DEF(em_op_reduce_mean, "ReduceMean", mean_init);
REDUCE_DEF(em_op_reduce_max, "ReduceMax", max_init);
