/* Shape resolution and the memory planner. Every activation and every node's
 * scratch is an interval of node indices [first, last] with a size; intervals
 * are placed greedily, largest first, at the lowest arena offset that does not
 * collide with an already placed interval alive at the same time. */
#include <pthread.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "format.h"
#include "model.h"
#include "threadpool.h"

typedef struct item {
    uint64_t size;
    uint32_t first, last;
    uint64_t* offset_out;
} item;

static int cmp_item(const void* a, const void* b) {
    const item* x = a;
    const item* y = b;
    if (x->size != y->size) return x->size > y->size ? -1 : 1;
    return x->first < y->first ? -1 : x->first > y->first;
}

static int cmp_by_offset(const void* a, const void* b) {
    const item* x = *(const item* const*)a;
    const item* y = *(const item* const*)b;
    return *x->offset_out < *y->offset_out ? -1 : *x->offset_out > *y->offset_out;
}

static ember_status place(item* items, size_t n, uint64_t* arena) {
    qsort(items, n, sizeof *items, cmp_item);
    item** placed = malloc((n ? n : 1) * sizeof *placed);
    item** live = malloc((n ? n : 1) * sizeof *live);
    if (!placed || !live) {
        free(placed);
        free(live);
        return em_error(EMBER_ERROR_OUT_OF_MEMORY, "out of memory planning the arena");
    }
    size_t n_placed = 0;
    uint64_t top = 0;
    for (size_t i = 0; i < n; i++) {
        item* it = &items[i];
        size_t n_live = 0;
        for (size_t k = 0; k < n_placed; k++)
            if (placed[k]->first <= it->last && it->first <= placed[k]->last) live[n_live++] = placed[k];
        qsort(live, n_live, sizeof *live, cmp_by_offset);
        uint64_t off = 0;
        for (size_t k = 0; k < n_live; k++) {
            uint64_t lo = *live[k]->offset_out, hi = lo + live[k]->size;
            if (off + it->size <= lo) break;
            if (hi > off) off = hi;
        }
        *it->offset_out = off;
        if (off + it->size > top) top = off + it->size;
        placed[n_placed++] = it;
    }
    free(placed);
    free(live);
    *arena = top;
    return EMBER_OK;
}

static int64_t symbol_value(const ember_session_options* o, const char* name, uint32_t dim, bool* found) {
    for (size_t i = 0; o && i < o->dim_count; i++) {
        if (o->dim_names && o->dim_names[i] && strcmp(o->dim_names[i], name) == 0) {
            *found = true;
            return o->dim_values[i];
        }
    }
    *found = false;
    if (dim == 0 && o && o->batch_size > 0) return o->batch_size;
    return 1;
}

void em_plan_free(em_plan* p) {
    free(p->values);
    free(p->offsets);
    free(p->scratch_offsets);
    free(p->scratch_bytes);
    free(p->packed_bytes);
    free(p->absorbs);
    free(p->absorbed_by);
    free(p->then);
    free(p->then_by);
    free(p->node_block);
    free(p->node_plain_in);
    free(p->converts);
    memset(p, 0, sizeof *p);
}

static ember_status resolve_inputs(const ember_model* m, const ember_session_options* o, em_plan* p) {
    for (uint32_t i = 0; i < m->n_inputs; i++) {
        const em_tensor* t = &m->tensors[m->inputs[i]];
        em_value* v = &p->values[m->inputs[i]];
        v->dtype = t->dtype;
        v->shape = t->shape;
        for (int32_t d = 0; d < t->shape.rank; d++) {
            if (t->shape.dims[d] != -1) continue;
            bool found;
            int64_t val = symbol_value(o, t->dim_names[d], (uint32_t)d, &found);
            if (val < 1)
                return em_error(EMBER_ERROR_INVALID_ARGUMENT,
                                "dimension '%s' of input '%s' is set to %lld; it must be >= 1",
                                t->dim_names[d], t->name, (long long)val);
            v->shape.dims[d] = val;
        }
        uint64_t n, bytes;
        char b[160];
        if (!em_shape_numel(&v->shape, &n) || !em_mul_u64(n, ember_dtype_size(v->dtype), &bytes) ||
            bytes > (uint64_t)SIZE_MAX / 4)
            return em_error(EMBER_ERROR_LIMIT_EXCEEDED, "input '%s' of shape %s is too large", t->name,
                            em_shape_str(&v->shape, b, sizeof b));
        if (m->limits.max_tensor_elements && n > m->limits.max_tensor_elements)
            return em_error(EMBER_ERROR_LIMIT_EXCEEDED,
                            "input '%s' of shape %s has %llu elements, over the limit of %llu", t->name,
                            em_shape_str(&v->shape, b, sizeof b), (unsigned long long)n,
                            (unsigned long long)m->limits.max_tensor_elements);
    }
    /* Values for names that match no symbol are a caller's mistake worth reporting. */
    for (size_t k = 0; o && k < o->dim_count; k++) {
        bool used = false;
        if (!o->dim_names || !o->dim_names[k] || !o->dim_values)
            return em_error(EMBER_ERROR_INVALID_ARGUMENT, "session option dim %zu has no name or value", k);
        for (uint32_t i = 0; i < m->n_inputs && !used; i++) {
            const em_tensor* t = &m->tensors[m->inputs[i]];
            for (int32_t d = 0; d < t->shape.rank; d++)
                if (t->dim_names[d] && strcmp(t->dim_names[d], o->dim_names[k]) == 0) used = true;
        }
        if (!used)
            return em_error(EMBER_ERROR_NOT_FOUND, "no input has a symbolic dimension named '%s'",
                            o->dim_names[k]);
    }
    return EMBER_OK;
}

em_op_ctx em_plan_node_ctx(const em_plan* p, const em_node* nd, const ember_kernels* kern,
                           em_value** in, em_value** out, char* msg) {
    for (uint32_t k = 0; k < nd->n_inputs; k++)
        in[k] = nd->inputs[k] == EM_NONE ? NULL : &p->values[nd->inputs[k]];
    for (uint32_t k = 0; k < nd->n_outputs; k++) out[k] = &p->values[nd->outputs[k]];
    msg[0] = '\0';
    const uint32_t block = p->node_block && p->nodes ? p->node_block[nd - p->nodes] : 0;
    return (em_op_ctx){.node = nd, .params = nd->params, .n_inputs = nd->n_inputs,
                       .n_outputs = nd->n_outputs, .inputs = in, .outputs = out, .kern = kern,
                       .msg = msg, .block = block};
}

/* An activation that may share another's buffer: produced by a node, and
 * neither a graph input nor a graph output (those live in the caller's or the
 * session's own place, and may be bound to a caller's buffer). */
static bool shareable(const ember_model* m, uint32_t t) {
    const em_tensor* e = &m->tensors[t];
    return t != EM_NONE && !e->data && !e->is_input && !e->is_output && e->producer != EM_NONE;
}

static uint32_t root_of(const uint32_t* host, uint32_t t) {
    while (host[t] != EM_NONE) t = host[t];
    return t;
}

/* Buffers shared instead of copied: where a node's output 0 holds an input's
 * bytes unchanged (em_op_def.input_in_output: Reshape and its kin, Concat
 * with nothing before the axis), the input gets no buffer of its own but
 * lives at host[t] = that output, at byte at[t] of it (EM_NONE: its own
 * buffer), so its producer writes straight into the output and the copy
 * disappears. An input joins one host at most (the first consumer that
 * offers one; an input a Concat takes twice is placed at its first part and
 * copied to the second), only at cache-line offsets. The
 * host's lifetime (first / last) grows to cover every tensor placed in it. */
static void share_buffers(const ember_model* m, const em_plan* p, uint32_t* host, uint64_t* at,
                          uint32_t* first, uint32_t* last) {
    const uint32_t nt = m->n_tensors;
    for (uint32_t t = 0; t < nt; t++) host[t] = EM_NONE;
    /* an activation done by its producer (fuse_activations): the producer
     * writes its output, activated, into the activation's */
    for (uint32_t i = 0; i < m->n_nodes; i++)
        if (p->then_by[i] != EM_NONE) {
            host[m->nodes[i].inputs[0]] = m->nodes[i].outputs[0];
            at[m->nodes[i].inputs[0]] = 0;
        }
    em_value* in[EM_MAX_IO];
    em_value* out[EM_MAX_IO];
    for (uint32_t i = 0; i < m->n_nodes; i++) {
        const em_node* nd = &m->nodes[i];
        if (!nd->op->input_in_output || nd->n_outputs < 1) continue;
        const uint32_t y = nd->outputs[0];
        if (!shareable(m, y)) continue;
        char msg[EM_MSG_CAP];
        const em_op_ctx ctx = em_plan_node_ctx(p, nd, p->kern, in, out, msg);
        const uint64_t y_bytes = em_shape_count(&p->values[y].shape) * ember_dtype_size(p->values[y].dtype);
        for (uint32_t k = 0; k < nd->n_inputs; k++) {
            const uint32_t x = nd->inputs[k];
            if (x == EM_NONE || x == y || !shareable(m, x) || host[x] != EM_NONE ||
                root_of(host, y) == x)
                continue;
            uint64_t off;
            if (!nd->op->input_in_output(&ctx, k, &off) || off % EM_ALIGN) continue;
            const uint64_t x_bytes = em_shape_count(&p->values[x].shape) * ember_dtype_size(p->values[x].dtype);
            if (off > y_bytes || x_bytes > y_bytes - off) continue;
            host[x] = y;
            at[x] = off;
        }
    }
    /* every group's lifetime on its root */
    for (uint32_t t = 0; t < nt; t++) {
        if (host[t] == EM_NONE) continue;
        const uint32_t r = root_of(host, t);
        if (first[t] < first[r]) first[r] = first[t];
        if (last[t] > last[r]) last[r] = last[t];
    }
}

static ember_status infer_all(const ember_model* m, size_t threads, em_plan* p) {
    const ember_kernels* kern = p->kern == ember_kernels_default() ? NULL : p->kern;
    em_value* in[EM_MAX_IO];
    em_value* out[EM_MAX_IO];
    for (uint32_t i = 0; i < m->n_nodes; i++) {
        const em_node* nd = &m->nodes[i];
        if (nd->n_inputs > EM_MAX_IO || nd->n_outputs > EM_MAX_IO)
            return em_error(EMBER_ERROR_UNSUPPORTED, "node '%s' (%s) has more than 256 inputs or outputs",
                            nd->name, nd->op_type);
        char msg[EM_MSG_CAP];
        em_plan_node_ctx(p, nd, NULL, in, out, msg);
        ember_status st = em_node_infer(nd, in, out, kern, threads, &p->scratch_bytes[i], msg);
        if (st != EMBER_OK)
            return em_error(st, "node '%s' (%s): %s", nd->name, nd->op_type, msg);
        for (uint32_t k = 0; k < nd->n_outputs; k++) {
            uint64_t n;
            em_shape_numel(&out[k]->shape, &n);
            if (m->limits.max_tensor_elements && n > m->limits.max_tensor_elements)
                return em_error(EMBER_ERROR_LIMIT_EXCEEDED,
                                "node '%s' (%s): output '%s' has %llu elements, over the limit of %llu",
                                nd->name, nd->op_type, m->tensors[nd->outputs[k]].name,
                                (unsigned long long)n, (unsigned long long)m->limits.max_tensor_elements);
        }
    }
    return EMBER_OK;
}

/* The bytes of weights each node packs, once every node's layout is known
 * (packed_bytes sees the default table: the model's packed block is laid out
 * for it). */
static ember_status plan_packed_bytes(const ember_model* m, em_plan* p) {
    em_value* in[EM_MAX_IO];
    em_value* out[EM_MAX_IO];
    for (uint32_t i = 0; i < m->n_nodes; i++) {
        const em_node* nd = &m->nodes[i];
        if (!nd->op->packed_bytes || !nd->op->pack) continue;
        char msg[EM_MSG_CAP];
        em_op_ctx ctx = em_plan_node_ctx(p, nd, NULL, in, out, msg);
        p->packed_bytes[i] = nd->op->packed_bytes(&ctx);
        if (!em_add_u64(p->packed_total, em_align_up(p->packed_bytes[i], EM_ALIGN), &p->packed_total) ||
            p->packed_total > (uint64_t)SIZE_MAX / 4)
            return em_error(EMBER_ERROR_LIMIT_EXCEEDED, "the packed weights are too large");
    }
    return EMBER_OK;
}

static uint32_t uf_find(uint32_t* parent, uint32_t i) {
    while (parent[i] != i) i = parent[i] = parent[parent[i]];
    return i;
}

/* An activation that may take the blocked layout: computed, f32, rank 4
 * (properties of the graph, not of the session's shapes: the answer decides
 * how weights are packed for every session). */
static bool blockable(const ember_model* m, const em_plan* p, uint32_t t) {
    const em_tensor* e = &m->tensors[t];
    return !e->data && p->values[t].dtype == EMBER_DTYPE_F32 && p->values[t].shape.rank == 4;
}

/* Whether t's size with its channels padded to whole blocks stays far from
 * overflowing the planner's byte counts (em_value_stored_count does not
 * check). */
static bool padded_fits(const em_value* v, uint32_t block) {
    uint64_t n = 1;
    for (int32_t d = 0; d < v->shape.rank; d++) {
        uint64_t dim = (uint64_t)v->shape.dims[d];
        if (d == 1) dim = (dim + block - 1) / block * block;
        if (v->shape.dims[d] < 0 || !em_mul_u64(n, dim, &n)) return false;
    }
    return n <= (uint64_t)SIZE_MAX / 64;
}

/* The channel-blocked layout (docs/PERFORMANCE.md, "Activation layout"): on a
 * path that has blocked kernels, the nodes that can run blocked
 * (em_op_def.blocked) are joined into regions through the tensors between
 * them, and every node of a region holding a depthwise convolution, or a
 * 1x1 convolution read by a GlobalAveragePool (a classifier head), runs
 * blocked. Regions and the nodes' answers without shapes depend on the graph
 * alone, so every session of a model packs its weights the same way. A tensor
 * is blocked when its producer and all its readers run blocked and it is no
 * graph input or output; every other tensor a blocked node reads or writes is
 * converted around it (plan_converts). */
static ember_status assign_layouts(const ember_model* m, em_plan* p) {
    const uint32_t nn = m->n_nodes, nt = m->n_tensors;
    const ember_kernels* kern = p->kern;
    p->node_block = calloc(nn ? nn : 1, sizeof *p->node_block);
    p->node_plain_in = calloc(nn ? nn : 1, sizeof *p->node_plain_in);
    if (!p->node_block || !p->node_plain_in)
        return em_error(EMBER_ERROR_OUT_OF_MEMORY, "out of memory planning a session");
    if (kern != ember_kernels_default() || !kern->f32_conv1x1_blocked || !kern->f32_dwconv.blocked ||
        !kern->f32_dwconv.gather || !kern->f32_dwconv.scatter || !kern->f32_dwconv.block)
        return EMBER_OK;
    uint32_t* parent = malloc((nn ? nn : 1) * sizeof *parent);
    uint8_t* kind = calloc(nn ? nn : 1, 1);
    uint8_t* anchor = calloc(nn ? nn : 1, 1);
    if (!parent || !kind || !anchor) {
        free(parent);
        free(kind);
        free(anchor);
        return em_error(EMBER_ERROR_OUT_OF_MEMORY, "out of memory planning a session");
    }
    em_value* in[EM_MAX_IO];
    em_value* out[EM_MAX_IO];
    for (uint32_t i = 0; i < nn; i++) {
        parent[i] = i;
        const em_node* nd = &m->nodes[i];
        if (!nd->op->blocked) continue;
        char msg[EM_MSG_CAP];
        em_op_ctx ctx = em_plan_node_ctx(p, nd, NULL, in, out, msg);
        kind[i] = (uint8_t)nd->op->blocked(&ctx, false);
    }
    for (uint32_t i = 0; i < nn; i++) {
        if (!kind[i] || kind[i] == 3) continue; /* a stem joins through its output only */
        const em_node* nd = &m->nodes[i];
        for (uint32_t k = 0; k < nd->n_inputs; k++) {
            const uint32_t t = nd->inputs[k];
            if (t == EM_NONE || m->tensors[t].producer == EM_NONE || !kind[m->tensors[t].producer])
                continue;
            const uint32_t a = uf_find(parent, i), b = uf_find(parent, m->tensors[t].producer);
            if (a != b) parent[a] = b;
        }
    }
    for (uint32_t i = 0; i < nn; i++) {
        if (kind[i] == 2) anchor[uf_find(parent, i)] = 1;
        /* a classifier head, 1x1 Conv -> GlobalAveragePool (squeezenet1_1's):
         * the blocked 1x1 needs no packed copy of the image and no short last
         * tile of positions, and the blocked mean reads whole vectors; only
         * the conv's input is converted, small before a global pool */
        const em_node* nd = &m->nodes[i];
        if (kind[i] == 1 && strcmp(nd->op_type, "GlobalAveragePool") == 0 &&
            nd->inputs[0] != EM_NONE) {
            const uint32_t pr = m->tensors[nd->inputs[0]].producer;
            if (pr != EM_NONE && kind[pr] == 1 && strcmp(m->nodes[pr].op_type, "Conv") == 0)
                anchor[uf_find(parent, i)] = 1;
        }
    }
    for (uint32_t i = 0; i < nn; i++) {
        if (!kind[i] || !anchor[uf_find(parent, i)]) continue;
        const em_node* nd = &m->nodes[i];
        bool ok = true;
        for (uint32_t k = 0; k < nd->n_inputs && ok; k++)
            if (nd->inputs[k] != EM_NONE && !m->tensors[nd->inputs[k]].data)
                ok = blockable(m, p, nd->inputs[k]);
        for (uint32_t k = 0; k < nd->n_outputs && ok; k++) ok = blockable(m, p, nd->outputs[k]);
        char msg[EM_MSG_CAP];
        em_op_ctx ctx = em_plan_node_ctx(p, nd, NULL, in, out, msg);
        /* a node whose weights pack by its answer without shapes keeps it */
        if (ok && (kind[i] >= 2 || (nd->op->packed_bytes && nd->op->pack) || nd->op->blocked(&ctx, true))) {
            p->node_block[i] = kern->f32_dwconv.block;
            p->node_plain_in[i] = kind[i] == 3;
        }
    }
    free(parent);
    free(kind);
    free(anchor);
    /* tensors: blocked when every node touching them is */
    for (uint32_t t = 0; t < nt; t++) {
        const em_tensor* e = &m->tensors[t];
        p->values[t].block = e->producer != EM_NONE && !e->is_output && !e->is_input &&
                                     p->node_block[e->producer]
                                 ? kern->f32_dwconv.block
                                 : 0;
    }
    for (uint32_t i = 0; i < nn; i++) {
        const em_node* nd = &m->nodes[i];
        for (uint32_t k = 0; k < nd->n_inputs; k++)
            if (nd->inputs[k] != EM_NONE && (!p->node_block[i] || p->node_plain_in[i]))
                p->values[nd->inputs[k]].block = 0;
    }
    /* every tensor a blocked node touches is stored, or copied, padded */
    for (uint32_t i = 0; i < nn; i++) {
        const em_node* nd = &m->nodes[i];
        for (uint32_t k = 0; p->node_block[i] && k < nd->n_inputs + nd->n_outputs; k++) {
            const uint32_t t = k < nd->n_inputs ? nd->inputs[k] : nd->outputs[k - nd->n_inputs];
            if (t != EM_NONE && !m->tensors[t].data && !padded_fits(&p->values[t], p->node_block[i]))
                return em_error(EMBER_ERROR_LIMIT_EXCEEDED,
                                "tensor '%s' is too large for the channel-blocked layout node '%s' "
                                "(%s) runs on", m->tensors[t].name, nd->name, nd->op_type);
        }
    }
    return EMBER_OK;
}

/* The layout changes around the blocked nodes: a blocked copy in the node's
 * scratch, after what its operator asked for, of each plain tensor it reads
 * or writes. */
static ember_status plan_converts(const ember_model* m, em_plan* p) {
    uint32_t n = 0;
    for (int pass = 0; pass < 2; pass++) {
        if (pass == 1) {
            if (!n) return EMBER_OK;
            if (!(p->converts = calloc(n, sizeof *p->converts)))
                return em_error(EMBER_ERROR_OUT_OF_MEMORY, "out of memory planning a session");
            p->n_converts = n;
            n = 0;
        }
        for (uint32_t i = 0; i < m->n_nodes; i++) {
            if (!p->node_block[i] || p->absorbed_by[i] != EM_NONE) continue;
            const em_node* nd = &m->nodes[i];
            /* a blocked run needs no scratch of its own (op.h), but for a fusion
             * or a stem (the direct convolution's padded copy) */
            uint64_t off = p->absorbs[i] != EM_NONE || p->node_plain_in[i]
                               ? em_align_up(p->scratch_bytes[i], EM_ALIGN)
                               : 0;
            for (uint32_t k = p->node_plain_in[i] ? nd->n_inputs : 0; k < nd->n_inputs + nd->n_outputs; k++) {
                const uint32_t t = k < nd->n_inputs ? nd->inputs[k] : nd->outputs[k - nd->n_inputs];
                if (t == EM_NONE || m->tensors[t].data || p->values[t].block) continue;
                if (pass == 1) {
                    p->converts[n] = (em_plan_convert){.node = i, .slot = k, .offset = off};
                    em_value v = p->values[t];
                    v.block = p->node_block[i];
                    off += em_align_up(em_value_stored_count(&v) * sizeof(float), EM_ALIGN);
                }
                n++;
            }
            p->scratch_bytes[i] = (size_t)off; /* pass 0: 0, pass 1: the copies */
        }
    }
    return EMBER_OK;
}

/* Per tensor, how many node inputs read it (NULL: out of memory). */
static uint32_t* count_readers(const ember_model* m) {
    uint32_t* readers = calloc(m->n_tensors ? m->n_tensors : 1, sizeof *readers);
    if (!readers) return NULL;
    for (uint32_t i = 0; i < m->n_nodes; i++)
        for (uint32_t k = 0; k < m->nodes[i].n_inputs; k++)
            if (m->nodes[i].inputs[k] != EM_NONE) readers[m->nodes[i].inputs[k]]++;
    return readers;
}

/* Fusions (em_op_def.absorb_scratch): node i takes over the work of the
 * producer of its input 0 (or of any input, em_op_def.absorb_any_input) when
 * that output is read by node i alone, once, is no graph output, and the
 * hook agrees. The default path only: the fused
 * runs use packed weights, laid out for it. The producer's scratch goes,
 * node i's grows to what the fused run needs. */
static void fuse_nodes(const ember_model* m, em_plan* p, size_t threads) {
    const uint32_t nn = m->n_nodes;
    for (uint32_t i = 0; i < nn; i++) p->absorbs[i] = p->absorbed_by[i] = EM_NONE;
    if (p->kern != ember_kernels_default()) return;
    uint32_t* readers = count_readers(m);
    if (!readers) return; /* no fusion: the same results, unfused */
    em_value* in[EM_MAX_IO];
    em_value* out[EM_MAX_IO];
    em_value* pin[EM_MAX_IO];
    em_value* pout[EM_MAX_IO];
    for (uint32_t i = 0; i < nn; i++) {
        const em_node* nd = &m->nodes[i];
        if (!nd->op->absorb_scratch) continue;
        const uint32_t candidates = nd->op->absorb_any_input ? nd->n_inputs : 1;
        for (uint32_t k = 0; k < candidates && k < nd->n_inputs; k++) {
            const uint32_t x = nd->inputs[k];
            if (x == EM_NONE) continue;
            const em_tensor* e = &m->tensors[x];
            if (e->data || e->is_input || e->is_output || e->producer == EM_NONE || readers[x] != 1)
                continue;
            const uint32_t pi = e->producer;
            const em_node* pn = &m->nodes[pi];
            /* both plain, or both blocked (the hook sees ctx.block) */
            if (pn->n_outputs != 1 || p->absorbs[pi] != EM_NONE || p->absorbed_by[pi] != EM_NONE ||
                p->node_block[pi] != p->node_block[i])
                continue;
            char msg[EM_MSG_CAP], pmsg[EM_MSG_CAP];
            em_op_ctx ctx = em_plan_node_ctx(p, nd, NULL, in, out, msg);
            em_op_ctx pctx = em_plan_node_ctx(p, pn, NULL, pin, pout, pmsg);
            ctx.threads = pctx.threads = threads;
            const size_t bytes = nd->op->absorb_scratch(&ctx, &pctx);
            if (!bytes) continue;
            p->absorbs[i] = pi;
            p->absorbed_by[pi] = i;
            if (bytes > p->scratch_bytes[i]) p->scratch_bytes[i] = bytes;
            p->scratch_bytes[pi] = 0;
            break;
        }
    }
    free(readers);
}

/* Activations done by their producer (em_op_def.then_ok): a node with one
 * input and one output, read alone from node i's output 0 (no graph input or
 * output on either side, f32 of one shape), whose work node i agrees to do as
 * it writes that output: a MatMul + bias Add followed by Relu, Sigmoid,
 * HardSwish or Gelu (ops/elementwise/unary_act.h). Both
 * nodes plain and neither taken by another fusion; the default path only, as
 * fuse_nodes. The activation's output then hosts node i's (share_buffers). */
static void fuse_activations(const ember_model* m, em_plan* p, size_t threads) {
    const uint32_t nn = m->n_nodes;
    for (uint32_t i = 0; i < nn; i++) p->then[i] = p->then_by[i] = EM_NONE;
    if (p->kern != ember_kernels_default()) return;
    uint32_t* readers = count_readers(m);
    if (!readers) return; /* no fusion: the same results, unfused */
    em_value* in[EM_MAX_IO];
    em_value* out[EM_MAX_IO];
    for (uint32_t g = 0; g < nn; g++) {
        const em_node* act = &m->nodes[g];
        if (act->n_inputs != 1 || act->n_outputs != 1 || act->inputs[0] == EM_NONE ||
            act->act.kind != EMF_ACT_NONE || p->absorbs[g] != EM_NONE ||
            p->absorbed_by[g] != EM_NONE || p->node_block[g])
            continue;
        const uint32_t x = act->inputs[0], y = act->outputs[0];
        if (!shareable(m, x) || !shareable(m, y) || readers[x] != 1) continue;
        const uint32_t i = m->tensors[x].producer;
        const em_node* nd = &m->nodes[i];
        if (!nd->op->then_ok || nd->n_outputs < 1 || nd->outputs[0] != x ||
            nd->act.kind != EMF_ACT_NONE || p->absorbed_by[i] != EM_NONE ||
            p->then[i] != EM_NONE || p->node_block[i] ||
            p->values[x].dtype != EMBER_DTYPE_F32 || p->values[y].dtype != EMBER_DTYPE_F32 ||
            !em_shape_equal(&p->values[x].shape, &p->values[y].shape))
            continue;
        char msg[EM_MSG_CAP];
        em_op_ctx ctx = em_plan_node_ctx(p, nd, NULL, in, out, msg);
        ctx.threads = threads;
        ctx.producer = p->absorbs[i] != EM_NONE ? &m->nodes[p->absorbs[i]] : NULL;
        if (!nd->op->then_ok(&ctx, act)) continue;
        p->then[i] = g;
        p->then_by[g] = i;
    }
    free(readers);
}

/* The kernel table the options' EMBER_SESSION_ISA_* bits force, or the default. */
static ember_status session_kernels(const ember_session_options* o, const ember_kernels** out) {
    *out = ember_kernels_default();
    const uint32_t isa = o ? o->flags & EMBER_SESSION_ISA_MASK : 0;
    if (!isa) return EMBER_OK;
    static const char* const names[] = {"generic", "avx2", "avx512", "neon"};
    const uint32_t i = (isa >> 8) - 1;
    if (i >= sizeof names / sizeof names[0])
        return em_error(EMBER_ERROR_INVALID_ARGUMENT,
                        "flags 0x%x: the EMBER_SESSION_ISA_MASK bits hold %u, which names no kernel "
                        "path (1 generic, 2 avx2, 3 avx512, 4 neon)", o->flags, isa >> 8);
    if (!(*out = ember_kernels_for(names[i])))
        return em_error(EMBER_ERROR_UNSUPPORTED,
                        "kernel path '%s' (EMBER_SESSION_ISA_*) cannot run on this CPU or build; "
                        "the default here is %s", names[i], ember_kernels_default()->isa);
    return EMBER_OK;
}

ember_status em_plan_build(const ember_model* m, const ember_session_options* o, em_plan* p) {
    memset(p, 0, sizeof *p);
    const ember_kernels* kern;
    ember_status kst = session_kernels(o, &kern);
    if (kst != EMBER_OK) return kst;
    p->kern = kern;
    p->nodes = m->nodes;
    uint32_t nt = m->n_tensors, nn = m->n_nodes;
    p->values = calloc(nt, sizeof *p->values);
    p->offsets = malloc(nt * sizeof *p->offsets);
    p->scratch_offsets = calloc(nn ? nn : 1, sizeof *p->scratch_offsets);
    p->scratch_bytes = calloc(nn ? nn : 1, sizeof *p->scratch_bytes);
    p->packed_bytes = calloc(nn ? nn : 1, sizeof *p->packed_bytes);
    p->absorbs = calloc(nn ? nn : 1, sizeof *p->absorbs);
    p->absorbed_by = calloc(nn ? nn : 1, sizeof *p->absorbed_by);
    p->then = calloc(nn ? nn : 1, sizeof *p->then);
    p->then_by = calloc(nn ? nn : 1, sizeof *p->then_by);
    item* items = malloc(((size_t)nt + nn) * sizeof *items);
    uint32_t* host = NULL; /* share_buffers */
    uint64_t* at = NULL;
    ember_status st = EMBER_OK;
    if (!p->values || !p->offsets || !p->scratch_offsets || !p->scratch_bytes || !p->packed_bytes ||
        !p->absorbs || !p->absorbed_by || !p->then || !p->then_by || !items) {
        st = em_error(EMBER_ERROR_OUT_OF_MEMORY, "out of memory planning a session");
        goto done;
    }
    for (uint32_t t = 0; t < nt; t++) {
        p->offsets[t] = UINT64_MAX;
        const em_tensor* e = &m->tensors[t];
        if (e->data)
            p->values[t] = (em_value){.dtype = e->dtype, .shape = e->shape,
                                      .data = (void*)e->data, .quant = e->quant};
        else
            p->values[t].quant = e->quant;
    }
    if ((st = resolve_inputs(m, o, p)) != EMBER_OK) goto done;
    /* the session's thread count, as session.c starts its pool */
    const size_t threads = em_pool_effective_threads(
        o ? o->threads : 0, o && (o->flags & EMBER_SESSION_ALLOW_OVERSUBSCRIBE));
    if ((st = infer_all(m, threads, p)) != EMBER_OK || (st = assign_layouts(m, p)) != EMBER_OK ||
        (st = plan_packed_bytes(m, p)) != EMBER_OK)
        goto done;
    fuse_nodes(m, p, threads);
    fuse_activations(m, p, threads);
    if ((st = plan_converts(m, p)) != EMBER_OK) goto done;

    /* Lifetimes: from the producing node (inputs: 0) to the last reader;
     * graph outputs live to the end, and so do graph inputs, which keep their
     * values between runs. */
    uint32_t* first = malloc(nt * sizeof *first);
    uint32_t* last = malloc(nt * sizeof *last);
    if (!first || !last) {
        free(first);
        free(last);
        st = em_error(EMBER_ERROR_OUT_OF_MEMORY, "out of memory planning a session");
        goto done;
    }
    for (uint32_t t = 0; t < nt; t++) {
        const em_tensor* e = &m->tensors[t];
        first[t] = e->producer == EM_NONE ? 0 : e->producer;
        last[t] = e->is_output || e->is_input ? (nn ? nn - 1 : 0) : first[t];
    }
    for (uint32_t i = 0; i < nn; i++) {
        /* a node that does its producer's work reads the producer's inputs */
        const uint32_t src = p->absorbs[i] != EM_NONE ? p->absorbs[i] : i;
        for (int pass = src == i; pass < 2; pass++) {
            const em_node* rd = &m->nodes[pass == 0 ? src : i];
            for (uint32_t k = 0; k < rd->n_inputs; k++) {
                uint32_t t = rd->inputs[k];
                if (t != EM_NONE && last[t] < i) last[t] = i;
            }
        }
    }
    host = malloc(nt * sizeof *host);
    at = malloc(nt * sizeof *at);
    if (!host || !at) {
        free(first);
        free(last);
        st = em_error(EMBER_ERROR_OUT_OF_MEMORY, "out of memory planning a session");
        goto done;
    }
    share_buffers(m, p, host, at, first, last);
    size_t n_items = 0;
    p->naive_bytes = 0;
    for (uint32_t t = 0; t < nt; t++) {
        const em_tensor* e = &m->tensors[t];
        if (e->data || (!e->is_input && e->producer == EM_NONE)) continue; /* constant or unused */
        uint64_t bytes = em_align_up(em_value_stored_count(&p->values[t]) *
                                         ember_dtype_size(p->values[t].dtype), EM_ALIGN);
        if (!em_add_u64(p->naive_bytes, bytes, &p->naive_bytes)) { p->naive_bytes = UINT64_MAX; break; }
        if (host[t] != EM_NONE) continue; /* placed with its host */
        if (e->producer != EM_NONE && p->absorbed_by[e->producer] != EM_NONE)
            continue; /* never written: its reader computes it a band at a time */
        items[n_items++] = (item){.size = bytes, .first = first[t], .last = last[t],
                                  .offset_out = &p->offsets[t]};
    }
    for (uint32_t i = 0; i < nn; i++) {
        uint64_t bytes = em_align_up(p->scratch_bytes[i], EM_ALIGN);
        if (!bytes) continue;
        items[n_items++] = (item){.size = bytes, .first = i, .last = i,
                                  .offset_out = &p->scratch_offsets[i]};
        if (!em_add_u64(p->naive_bytes, bytes, &p->naive_bytes)) { p->naive_bytes = UINT64_MAX; break; }
    }
    free(first);
    free(last);
    if (p->naive_bytes > (uint64_t)SIZE_MAX / 4) {
        st = em_error(EMBER_ERROR_LIMIT_EXCEEDED, "the session's buffers add up to more memory than can be addressed");
        goto done;
    }
    if ((st = place(items, n_items, &p->arena_bytes)) != EMBER_OK) goto done;
    for (uint32_t t = 0; t < nt; t++) {
        uint32_t r = t;
        uint64_t off = 0;
        while (host[r] != EM_NONE) {
            off += at[r];
            r = host[r];
        }
        if (r != t) p->offsets[t] = p->offsets[r] + off;
    }
    if (m->limits.max_arena_bytes && p->arena_bytes > m->limits.max_arena_bytes)
        st = em_error(EMBER_ERROR_LIMIT_EXCEEDED,
                      "a session needs %llu bytes of working memory, over the limit of %llu",
                      (unsigned long long)p->arena_bytes, (unsigned long long)m->limits.max_arena_bytes);
done:
    free(items);
    free(host);
    free(at);
    if (st != EMBER_OK) em_plan_free(p);
    return st;
}

/* One lock for every model: taken only while a session is created. */
static pthread_mutex_t g_pack_lock = PTHREAD_MUTEX_INITIALIZER;

/* The weights a packed copy replaces: every operator that packs (Conv,
 * ConvTranspose, Gemm, MatMul) packs its input 1 and runs from the copy. For
 * each constant tensor read only as input 1 of nodes that pack, drop[t] is the
 * last such node (else EM_NONE): once it has packed, the tensor's pages in a
 * mapped file are given back (em_model_drop_pages), so the weights are not held
 * twice. A run that reads them after all only faults them back in. NULL when
 * there is nothing to drop (a model from memory) or no memory for the table.
 * The loader uses the same table to copy every other constant out of the file
 * (loader.c, copy_run_constants). */
uint32_t* em_plan_weights_to_drop(const ember_model* m, const em_plan* p) {
    if (!m->mapped || !p->packed_total) return NULL;
    uint32_t* drop = malloc((m->n_tensors ? m->n_tensors : 1) * sizeof *drop);
    if (!drop) return NULL;
    for (uint32_t t = 0; t < m->n_tensors; t++) drop[t] = EM_NONE;
    bool* keep = calloc(m->n_tensors ? m->n_tensors : 1, sizeof *keep);
    if (!keep) {
        free(drop);
        return NULL;
    }
    for (uint32_t i = 0; i < m->n_nodes; i++) {
        const em_node* nd = &m->nodes[i];
        for (uint32_t k = 0; k < nd->n_inputs; k++) {
            const uint32_t t = nd->inputs[k];
            if (t == EM_NONE || !m->tensors[t].data) continue;
            if (k == 1 && p->packed_bytes[i])
                drop[t] = i;
            else
                keep[t] = true;
        }
    }
    for (uint32_t t = 0; t < m->n_tensors; t++)
        if (keep[t] || m->tensors[t].is_output) drop[t] = EM_NONE;
    free(keep);
    return drop;
}

/* Transparent huge pages over the packed block (madvise MADV_HUGEPAGE) were
 * measured and left out: with the common defrag setting "madvise" the first
 * touch may compact memory synchronously, and resnet18's load swung from 39 to
 * 133 ms between runs (60-63 ms without, every run); smaller models gained
 * 1-3 ms at best. A library should not stall its host unpredictably. */
/* The file's pre-packed blob for node i, when it is laid out for the default
 * path and has the size packing would give (else the node packs). */
static bool use_file_blob(const em_node* nd, size_t bytes, const char* layout) {
    return nd->file_packed && nd->file_packed_size == bytes &&
           strcmp(nd->file_packed_layout, layout) == 0;
}

/* Checks the pending checksums of the constants this model's runs and packing
 * read: all but those read only as input 1 of nodes that run from the file's
 * blobs (a file's raw weights it never reads need no check). */
static ember_status verify_read_constants(ember_model* m, const bool* from_file) {
    bool* needed = calloc(m->n_tensors ? m->n_tensors : 1, sizeof *needed);
    if (!needed) return em_error(EMBER_ERROR_OUT_OF_MEMORY, "out of memory checking the weights");
    for (uint32_t i = 0; i < m->n_nodes; i++) {
        const em_node* nd = &m->nodes[i];
        for (uint32_t k = 0; k < nd->n_inputs; k++)
            if (nd->inputs[k] != EM_NONE && !(k == 1 && from_file && from_file[i]))
                needed[nd->inputs[k]] = true;
    }
    ember_status st = EMBER_OK;
    for (uint32_t t = 0; t < m->n_tensors && st == EMBER_OK; t++)
        if (needed[t] || m->tensors[t].is_output) st = em_tensor_verify(&m->tensors[t]);
    free(needed);
    return st;
}

static ember_status pack_all(ember_model* m, const em_plan* p) {
    char layout[EMF_PACK_LAYOUT_SIZE];
    em_pack_layout(ember_kernels_default(), layout);
    bool* from_file = calloc(m->n_nodes ? m->n_nodes : 1, sizeof *from_file);
    if (!from_file) return em_error(EMBER_ERROR_OUT_OF_MEMORY, "out of memory packing the weights");
    uint64_t block_bytes = 0;
    for (uint32_t i = 0; i < m->n_nodes; i++) {
        if (!p->packed_bytes[i]) continue;
        from_file[i] = use_file_blob(&m->nodes[i], p->packed_bytes[i], layout);
        if (!from_file[i]) block_bytes += em_align_up(p->packed_bytes[i], EM_ALIGN);
    }
    ember_status st = verify_read_constants(m, from_file);
    if (st != EMBER_OK) {
        free(from_file);
        return st;
    }
    uint8_t* block = NULL;
    if (block_bytes && !(block = em_aligned_alloc((size_t)block_bytes))) {
        free(from_file);
        return em_error(EMBER_ERROR_OUT_OF_MEMORY, "out of memory allocating %llu bytes of packed weights",
                        (unsigned long long)block_bytes);
    }
    uint32_t* drop = em_plan_weights_to_drop(m, p);
    em_value* in[EM_MAX_IO];
    em_value* out[EM_MAX_IO];
    uint64_t off = 0;
    for (uint32_t i = 0; i < m->n_nodes; i++) {
        em_node* nd = &m->nodes[i];
        if (!p->packed_bytes[i]) continue;
        if (from_file[i]) {
            nd->packed = nd->file_packed; /* in place in the mapping: nothing to pack or drop */
            continue;
        }
        nd->packed_check = 0; /* packed from the weights here, not the file's blob */
        char msg[EM_MSG_CAP];
        em_op_ctx ctx = em_plan_node_ctx(p, nd, NULL, in, out, msg);
        st = nd->op->pack(&ctx, block + off);
        if (st != EMBER_OK) {
            for (uint32_t j = 0; j < m->n_nodes; j++) m->nodes[j].packed = NULL;
            em_aligned_free(block);
            free(drop);
            free(from_file);
            return em_error(st, "node '%s' (%s): packing the weights: %s", nd->name, nd->op_type, msg);
        }
        nd->packed = block + off;
        off += em_align_up(p->packed_bytes[i], EM_ALIGN);
        const uint32_t w = nd->n_inputs > 1 ? nd->inputs[1] : EM_NONE;
        if (drop && w != EM_NONE && drop[w] == i)
            em_model_drop_pages(m, m->tensors[w].data, m->tensors[w].data_size);
    }
    free(drop);
    free(from_file);
    /* Packing faulted in whole page-cache folios around the weights it read
     * (up to 2 MB each): give back the rest of them too. The constants runs
     * read were copied out at load; any read in place faults back. */
    if (block_bytes) em_model_drop_pages(m, m->weights, m->weights_size);
    for (uint32_t i = 0; i < m->n_nodes; i++) m->nodes[i].packed_bytes = p->packed_bytes[i];
    m->packed_block = block;
    return EMBER_OK;
}

ember_status em_model_verify_constants(const ember_model* cm) {
    ember_model* m = (ember_model*)cm; /* the pending flags change under the lock only */
    pthread_mutex_lock(&g_pack_lock);
    ember_status st = verify_read_constants(m, NULL);
    pthread_mutex_unlock(&g_pack_lock);
    return st;
}

ember_status em_model_pack(const ember_model* cm, const em_plan* p) {
    ember_model* m = (ember_model*)cm; /* the packed block is filled once, under the lock */
    ember_status st = EMBER_OK;
    pthread_mutex_lock(&g_pack_lock);
    if (!m->packed_done && (st = pack_all(m, p)) == EMBER_OK) m->packed_done = true;
    for (uint32_t i = 0; st == EMBER_OK && i < m->n_nodes; i++)
        if (m->nodes[i].packed_bytes != p->packed_bytes[i])
            st = em_error(EMBER_ERROR_RUNTIME,
                          "internal error: node '%s' (%s) packs %zu bytes of weights in this session, "
                          "%zu in the model's first", m->nodes[i].name, m->nodes[i].op_type,
                          p->packed_bytes[i], m->nodes[i].packed_bytes);
    pthread_mutex_unlock(&g_pack_lock);
    return st;
}
