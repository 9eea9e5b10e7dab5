/* See model_stats.h. Uses the runtime's internal headers: the CLI is built with
 * the library, so it may walk tensors and nodes directly. */
#include "model_stats.h"

#include <string.h>

#include "../src/runtime/internal.h"
#include "../src/runtime/model.h"

static uint64_t numel(const em_shape* s) {
    uint64_t n = 1;
    for (int32_t d = 0; d < s->rank; d++) n *= (uint64_t)(s->dims[d] < 0 ? 0 : s->dims[d]);
    return n;
}

static int64_t attr_int(const em_node* nd, const char* name, int64_t def) {
    const em_attr* a = em_attr_find(nd, name);
    return a ? a->i : def;
}

ember_status model_stats_compute(const ember_model* m, const ember_session_options* options, model_stats* out) {
    memset(out, 0, sizeof *out);
    for (uint32_t t = 0; t < m->n_tensors; t++) {
        const em_tensor* e = &m->tensors[t];
        if (!e->data) continue;
        uint32_t k = (uint32_t)e->dtype < 8 ? (uint32_t)e->dtype : 0;
        out->tensors[k]++;
        out->params[k] += numel(&e->shape);
        out->param_bytes[k] += e->data_size;
    }
    em_plan plan;
    ember_status st = em_plan_build(m, options, &plan);
    if (st != EMBER_OK) return st;
    out->arena_bytes = plan.arena_bytes;
    out->n_outputs = m->n_outputs < 32 ? m->n_outputs : 32;
    for (size_t i = 0; i < out->n_outputs; i++) {
        const em_value* v = &plan.values[m->outputs[i]];
        out->out_dtype[i] = v->dtype;
        out->out_rank[i] = v->shape.rank;
        memcpy(out->out_dims[i], v->shape.dims, sizeof out->out_dims[i]);
    }
    for (uint32_t i = 0; i < m->n_nodes; i++) {
        const em_node* nd = &m->nodes[i];
        if (strcmp(nd->op_type, "ember.Attention") == 0 && nd->n_inputs >= 1 &&
            nd->inputs[0] != EM_NONE) {
            /* per head of each entry: Q K^T (S x S x hd) and P V (S x hdv x S) */
            const em_shape* x = &plan.values[nd->inputs[0]].shape;
            if (x->rank == 3) {
                const uint64_t s = (uint64_t)(x->dims[0] < 0 ? 0 : x->dims[0]);
                const uint64_t b = (uint64_t)(x->dims[1] < 0 ? 0 : x->dims[1]);
                const uint64_t h = (uint64_t)attr_int(nd, "num_heads", 0);
                const uint64_t hd = (uint64_t)attr_int(nd, "head_size", 0);
                const uint64_t hdv = (uint64_t)attr_int(nd, "v_head_size", 0);
                out->macs += b * h * s * s * (hd + hdv);
            }
            continue;
        }
        if (nd->n_inputs < 2 || nd->n_outputs < 1 || nd->inputs[0] == EM_NONE || nd->inputs[1] == EM_NONE) continue;
        const em_shape* a = &plan.values[nd->inputs[0]].shape;
        const em_shape* w = &plan.values[nd->inputs[1]].shape;
        const em_shape* y = &plan.values[nd->outputs[0]].shape;
        uint64_t per = 0, base = 0;
        if (strcmp(nd->op_type, "Conv") == 0 && w->rank >= 2) {
            /* W is [M, C/group, k...]: each output element sums C/group * prod(k) products. */
            per = 1;
            for (int32_t d = 1; d < w->rank; d++) per *= (uint64_t)w->dims[d];
            base = numel(y);
        } else if (strcmp(nd->op_type, "ConvTranspose") == 0 && w->rank >= 2) {
            /* W is [C, M/group, k...]: each input element scatters M/group * prod(k) products. */
            per = 1;
            for (int32_t d = 1; d < w->rank; d++) per *= (uint64_t)w->dims[d];
            base = numel(a);
        } else if (strcmp(nd->op_type, "Gemm") == 0 && w->rank == 2) {
            per = (uint64_t)(attr_int(nd, "transB", 0) ? w->dims[1] : w->dims[0]);
            base = numel(y);
        } else if (strcmp(nd->op_type, "MatMul") == 0 && a->rank >= 1) {
            per = (uint64_t)a->dims[a->rank - 1];
            base = numel(y);
        }
        out->macs += base * per;
    }
    em_plan_free(&plan);
    return EMBER_OK;
}

void model_packed_stats(const ember_model* m, packed_stats* out) {
    memset(out, 0, sizeof *out);
    em_pack_layout(ember_kernels_default(), out->default_layout);
    for (uint32_t i = 0; i < m->n_nodes; i++) {
        if (!m->nodes[i].file_packed) continue;
        if (!out->layout) out->layout = m->nodes[i].file_packed_layout;
        out->nodes++;
        out->bytes += m->nodes[i].file_packed_size;
    }
}
