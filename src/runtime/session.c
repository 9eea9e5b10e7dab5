/* Sessions: the working memory of one run, inputs and outputs, and the executor. */
#include <stdio.h>
#include <stdlib.h>
#include <stddef.h>
#include <string.h>
#include <time.h>

#include "dispatch.h"
#include "model.h"
#include "threadpool.h"

struct ember_session {
    const ember_model* model;
    em_value* values;         /* per tensor, data pointing into the arena, the file or a bound buffer */
    void** arena_data;        /* per tensor: its own arena buffer (NULL for constants/unused) */
    em_value** io;            /* per node: inputs then outputs, precomputed */
    uint32_t* io_first;       /* per node: index of its first entry in io */
    void** scratch;           /* per node */
    size_t* scratch_bytes;
    uint64_t* times_ns;       /* per node, last run */
    const char** kernels;     /* per node, last run: the kernel its operator named */
    char (*kernel_labels)[48];/* per node: "isa kernel", made when the profile is read */
    bool* input_set;          /* per graph input */
    void** bound_output;      /* per graph output, NULL if not bound */
    uint8_t* arena;
    em_pool* pool;            /* NULL for one thread */
    bool own_arena;
    uint32_t flags;
    bool ran;
    const ember_kernels* kern; /* the session's kernel path */
    uint32_t* absorbs;        /* per node: the producer whose work it does (EM_NONE: none) */
    bool* absorbed;           /* per node: done by another (the node that absorbs it, or its
                               * producer: then), not run */
    uint32_t* then;           /* per node: the activation node whose work it does after its own */
    /* The layout changes around nodes that run blocked (em_plan.converts, in
     * node order): conv_first[i] .. conv_first[i + 1] are node i's; sub[k]
     * is the blocked copy in the node's io, of tensor conv_tensor[k]. */
    uint32_t n_converts;
    em_plan_convert* converts;
    uint32_t* conv_first;
    uint32_t* conv_tensor;
    em_value* sub;
};

EMBER_API void ember_session_options_init(ember_session_options* o) {
    if (!o) return;
    memset(o, 0, sizeof *o);
    o->struct_size = sizeof *o;
    o->threads = 0;
}

ember_status em_session_options_check(const ember_session_options* o) {
    if (!o) return EMBER_OK;
    if (o->struct_size != sizeof *o)
        return em_error(EMBER_ERROR_INVALID_ARGUMENT,
                        "ember_session_options.struct_size is %zu, expected %zu; call ember_session_options_init first",
                        o->struct_size, sizeof *o);
    if (o->threads < 0 || o->threads > 1024)
        return em_error(EMBER_ERROR_INVALID_ARGUMENT, "threads is %d; it must be 0 (default) to 1024",
                        o->threads);
    if (o->batch_size < 0)
        return em_error(EMBER_ERROR_INVALID_ARGUMENT, "batch_size is %lld; it must be >= 0",
                        (long long)o->batch_size);
    if (o->flags & ~(EMBER_SESSION_PROFILE | EMBER_SESSION_ALLOW_OVERSUBSCRIBE | EMBER_SESSION_ISA_MASK))
        return em_error(EMBER_ERROR_INVALID_ARGUMENT, "unknown session flags 0x%x", o->flags);
    if (o->dim_count && (!o->dim_names || !o->dim_values))
        return em_error(EMBER_ERROR_INVALID_ARGUMENT, "dim_count is %zu but dim_names or dim_values is NULL",
                        o->dim_count);
    if (o->arena && ((uintptr_t)o->arena % EM_ALIGN) != 0)
        return em_error(EMBER_ERROR_INVALID_ARGUMENT, "the caller's arena must be 64-byte aligned");
    return EMBER_OK;
}

EMBER_API ember_status ember_session_plan_memory(const ember_model* m, const ember_session_options* o,
                                                 ember_memory_plan* out) {
    if (!m || !out)
        return em_error(EMBER_ERROR_INVALID_ARGUMENT, "ember_session_plan_memory: model and out_plan must not be NULL");
    if (out->struct_size != sizeof *out)
        return em_error(EMBER_ERROR_INVALID_ARGUMENT, "ember_memory_plan.struct_size is %zu, expected %zu",
                        out->struct_size, sizeof *out);
    ember_status st = em_session_options_check(o);
    if (st != EMBER_OK) return st;
    em_plan plan;
    if ((st = em_plan_build(m, o, &plan)) != EMBER_OK) return st;
    out->arena_bytes = plan.arena_bytes;
    out->naive_bytes = plan.naive_bytes;
    out->packed_weight_bytes = plan.packed_total; /* the model's block, shared by its sessions */
    out->weight_bytes = m->weight_bytes;
    em_plan_free(&plan);
    em_clear_error();
    return EMBER_OK;
}

EMBER_API void ember_session_free(ember_session* s) {
    if (!s) return;
    em_pool_destroy(s->pool);
    if (s->own_arena) em_aligned_free(s->arena);
    free(s->values);
    free(s->arena_data);
    free(s->io);
    free(s->io_first);
    free(s->scratch);
    free(s->scratch_bytes);
    free(s->times_ns);
    free(s->kernels);
    free(s->kernel_labels);
    free(s->absorbs);
    free(s->absorbed);
    free(s->then);
    free(s->converts);
    free(s->conv_first);
    free(s->conv_tensor);
    free(s->sub);
    free(s->input_set);
    free(s->bound_output);
    free(s);
}

EMBER_API ember_status ember_session_create(const ember_model* m, const ember_session_options* o,
                                            ember_session** out) {
    if (!m || !out)
        return em_error(EMBER_ERROR_INVALID_ARGUMENT, "ember_session_create: model and out_session must not be NULL");
    ember_status st = em_session_options_check(o);
    if (st != EMBER_OK) return st;
    em_plan plan;
    if ((st = em_plan_build(m, o, &plan)) != EMBER_OK) return st;
    /* the model's packed weights are for the default table; a session forced
     * onto another path runs from the weights as stored */
    st = plan.kern == ember_kernels_default() ? em_model_pack(m, &plan) : em_model_verify_constants(m);
    if (st != EMBER_OK) {
        em_plan_free(&plan);
        return st;
    }
    if (o && o->arena && o->arena_size < plan.arena_bytes) {
        st = em_error(EMBER_ERROR_BUFFER_TOO_SMALL,
                      "the caller's arena is %zu bytes; this session needs %llu (see ember_session_plan_memory)",
                      o->arena_size, (unsigned long long)plan.arena_bytes);
        em_plan_free(&plan);
        return st;
    }
    uint32_t nt = m->n_tensors, nn = m->n_nodes;
    size_t n_io = 0;
    for (uint32_t i = 0; i < nn; i++) n_io += (size_t)m->nodes[i].n_inputs + m->nodes[i].n_outputs;

    ember_session* s = calloc(1, sizeof *s);
    if (!s) {
        em_plan_free(&plan);
        return em_error(EMBER_ERROR_OUT_OF_MEMORY, "out of memory creating a session");
    }
    s->model = m;
    s->kern = plan.kern;
    s->values = plan.values;
    plan.values = NULL;
    s->arena_data = calloc(nt, sizeof *s->arena_data);
    s->io = calloc(n_io ? n_io : 1, sizeof *s->io);
    s->io_first = calloc(nn ? nn : 1, sizeof *s->io_first);
    s->scratch = calloc(nn ? nn : 1, sizeof *s->scratch);
    s->scratch_bytes = calloc(nn ? nn : 1, sizeof *s->scratch_bytes);
    s->times_ns = calloc(nn ? nn : 1, sizeof *s->times_ns);
    s->kernels = calloc(nn ? nn : 1, sizeof *s->kernels);
    s->kernel_labels = calloc(nn ? nn : 1, sizeof *s->kernel_labels);
    s->input_set = calloc(m->n_inputs ? m->n_inputs : 1, sizeof *s->input_set);
    s->bound_output = calloc(m->n_outputs, sizeof *s->bound_output);
    s->absorbs = calloc(nn ? nn : 1, sizeof *s->absorbs);
    s->absorbed = calloc(nn ? nn : 1, sizeof *s->absorbed);
    s->then = calloc(nn ? nn : 1, sizeof *s->then);
    s->n_converts = plan.n_converts;
    s->converts = plan.converts;
    plan.converts = NULL;
    s->conv_first = calloc((size_t)nn + 1, sizeof *s->conv_first);
    s->conv_tensor = calloc(s->n_converts ? s->n_converts : 1, sizeof *s->conv_tensor);
    s->sub = calloc(s->n_converts ? s->n_converts : 1, sizeof *s->sub);
    s->flags = o ? o->flags : 0;
    if (o && o->arena) {
        s->arena = o->arena;
    } else {
        s->arena = em_aligned_alloc((size_t)plan.arena_bytes);
        s->own_arena = true;
    }
    if (!s->arena_data || !s->io || !s->io_first || !s->scratch || !s->scratch_bytes ||
        !s->times_ns || !s->kernels || !s->kernel_labels || !s->input_set || !s->bound_output ||
        !s->absorbs || !s->absorbed || !s->then || !s->conv_first || !s->conv_tensor || !s->sub || !s->arena) {
        em_plan_free(&plan);
        ember_session_free(s);
        return em_error(EMBER_ERROR_OUT_OF_MEMORY, "out of memory allocating a session's %llu-byte arena",
                        (unsigned long long)plan.arena_bytes);
    }
    for (uint32_t t = 0; t < nt; t++)
        if (plan.offsets[t] != UINT64_MAX) {
            s->arena_data[t] = s->arena + plan.offsets[t];
            s->values[t].data = s->arena_data[t];
        }
    size_t k = 0;
    for (uint32_t i = 0; i < nn; i++) {
        const em_node* nd = &m->nodes[i];
        s->io_first[i] = (uint32_t)k;
        for (uint32_t j = 0; j < nd->n_inputs; j++)
            s->io[k++] = nd->inputs[j] == EM_NONE ? NULL : &s->values[nd->inputs[j]];
        for (uint32_t j = 0; j < nd->n_outputs; j++) s->io[k++] = &s->values[nd->outputs[j]];
        s->scratch_bytes[i] = plan.scratch_bytes[i];
        s->absorbs[i] = plan.absorbs[i];
        s->absorbed[i] = plan.absorbed_by[i] != EM_NONE || plan.then_by[i] != EM_NONE;
        s->then[i] = plan.then[i];
        /* never NULL, so that kernels may form pointers into an empty scratch */
        s->scratch[i] = s->arena + (plan.scratch_bytes[i] ? plan.scratch_offsets[i] : 0);
    }
    /* each layout change: a blocked value in the node's io, in its scratch */
    for (uint32_t c = 0, i = 0; i <= nn; i++) {
        s->conv_first[i] = c;
        while (i < nn && c < s->n_converts && s->converts[c].node == i) {
            const em_plan_convert* cv = &s->converts[c];
            const em_node* nd = &m->nodes[i];
            const uint32_t t = cv->slot < nd->n_inputs ? nd->inputs[cv->slot]
                                                       : nd->outputs[cv->slot - nd->n_inputs];
            s->conv_tensor[c] = t;
            s->sub[c] = s->values[t];
            s->sub[c].block = plan.node_block[i];
            s->sub[c].data = (uint8_t*)s->scratch[i] + cv->offset;
            s->io[s->io_first[i] + cv->slot] = &s->sub[c];
            c++;
        }
    }
    em_plan_free(&plan);
    size_t threads = em_pool_effective_threads(
        o ? o->threads : 0, o && (o->flags & EMBER_SESSION_ALLOW_OVERSUBSCRIBE));
    if (threads > 1 && !(s->pool = em_pool_create(threads))) {
        ember_session_free(s);
        return em_error(EMBER_ERROR_OUT_OF_MEMORY, "could not start the session's %zu threads",
                        threads - 1);
    }
    em_clear_error();
    *out = s;
    return EMBER_OK;
}

static ember_status check_input(ember_session* s, size_t index, ember_dtype dtype, const int64_t* dims,
                                size_t rank, const void* data, size_t bytes, const em_tensor** out_t) {
    if (!s) return em_error(EMBER_ERROR_INVALID_ARGUMENT, "session must not be NULL");
    const ember_model* m = s->model;
    if (index >= m->n_inputs)
        return em_error(EMBER_ERROR_INVALID_ARGUMENT, "input index %zu is out of range: the model has %u inputs",
                        index, m->n_inputs);
    const em_tensor* t = &m->tensors[m->inputs[index]];
    const em_value* v = &s->values[m->inputs[index]];
    if (dtype != v->dtype)
        return em_error(EMBER_ERROR_DTYPE_MISMATCH, "input '%s': expected dtype %s, got %s", t->name,
                        ember_dtype_name(v->dtype), ember_dtype_name(dtype));
    if (rank > EMBER_MAX_RANK || (rank && !dims))
        return em_error(EMBER_ERROR_INVALID_ARGUMENT, "input '%s': rank %zu with %s dims", t->name, rank,
                        dims ? "valid" : "NULL");
    em_shape given = {.rank = (int32_t)rank};
    for (size_t d = 0; d < rank; d++) given.dims[d] = dims[d];
    if (!em_shape_equal(&given, &v->shape)) {
        char a[160], b[160];
        return em_error(EMBER_ERROR_SHAPE_MISMATCH, "input '%s': expected shape %s, got %s", t->name,
                        em_shape_str(&v->shape, a, sizeof a), em_shape_str(&given, b, sizeof b));
    }
    size_t need = em_shape_count(&v->shape) * ember_dtype_size(v->dtype);
    if (bytes != need)
        return em_error(EMBER_ERROR_SHAPE_MISMATCH, "input '%s': expected %zu bytes of data, got %zu",
                        t->name, need, bytes);
    if (!data && need)
        return em_error(EMBER_ERROR_INVALID_ARGUMENT, "input '%s': data is NULL", t->name);
    *out_t = t;
    return EMBER_OK;
}

EMBER_API ember_status ember_session_set_input(ember_session* s, size_t index, ember_dtype dtype,
                                               const int64_t* dims, size_t rank, const void* data,
                                               size_t bytes) {
    const em_tensor* t;
    ember_status st = check_input(s, index, dtype, dims, rank, data, bytes, &t);
    if (st != EMBER_OK) return st;
    uint32_t ti = s->model->inputs[index];
    s->values[ti].data = s->arena_data[ti];
    if (bytes) memcpy(s->arena_data[ti], data, bytes);
    s->input_set[index] = true;
    em_clear_error();
    return EMBER_OK;
}

EMBER_API ember_status ember_session_set_input_by_name(ember_session* s, const char* name,
                                                       ember_dtype dtype, const int64_t* dims,
                                                       size_t rank, const void* data, size_t bytes) {
    size_t index;
    if (!s) return em_error(EMBER_ERROR_INVALID_ARGUMENT, "session must not be NULL");
    ember_status st = ember_model_input_index(s->model, name, &index);
    if (st != EMBER_OK) return st;
    return ember_session_set_input(s, index, dtype, dims, rank, data, bytes);
}

EMBER_API ember_status ember_session_bind_input(ember_session* s, size_t index, ember_dtype dtype,
                                                const int64_t* dims, size_t rank, const void* data,
                                                size_t bytes) {
    const em_tensor* t;
    ember_status st = check_input(s, index, dtype, dims, rank, data, bytes, &t);
    if (st != EMBER_OK) return st;
    /* Operators never write their inputs, so the caller's const buffer is safe. */
    s->values[s->model->inputs[index]].data = (void*)data;
    s->input_set[index] = true;
    em_clear_error();
    return EMBER_OK;
}

EMBER_API ember_status ember_session_input(ember_session* s, size_t index, ember_tensor* out) {
    if (!s || !out) return em_error(EMBER_ERROR_INVALID_ARGUMENT, "ember_session_input: arguments must not be NULL");
    if (out->struct_size != sizeof *out)
        return em_error(EMBER_ERROR_INVALID_ARGUMENT, "ember_tensor.struct_size is %zu, expected %zu",
                        out->struct_size, sizeof *out);
    if (index >= s->model->n_inputs)
        return em_error(EMBER_ERROR_INVALID_ARGUMENT, "input index %zu is out of range: the model has %u inputs",
                        index, s->model->n_inputs);
    uint32_t ti = s->model->inputs[index];
    const em_value* v = &s->values[ti];
    out->dtype = v->dtype;
    out->rank = v->shape.rank;
    for (int d = 0; d < EMBER_MAX_RANK; d++) out->dims[d] = d < v->shape.rank ? v->shape.dims[d] : 0;
    out->data = s->arena_data[ti];
    out->bytes = em_shape_count(&v->shape) * ember_dtype_size(v->dtype);
    em_clear_error();
    return EMBER_OK;
}

EMBER_API ember_status ember_session_mark_input_set(ember_session* s, size_t index) {
    if (!s) return em_error(EMBER_ERROR_INVALID_ARGUMENT, "session must not be NULL");
    if (index >= s->model->n_inputs)
        return em_error(EMBER_ERROR_INVALID_ARGUMENT, "input index %zu is out of range: the model has %u inputs",
                        index, s->model->n_inputs);
    uint32_t ti = s->model->inputs[index];
    s->values[ti].data = s->arena_data[ti];
    s->input_set[index] = true;
    em_clear_error();
    return EMBER_OK;
}

static size_t output_bytes(const ember_session* s, size_t index) {
    const em_value* v = &s->values[s->model->outputs[index]];
    return em_shape_count(&v->shape) * ember_dtype_size(v->dtype);
}

EMBER_API ember_status ember_session_bind_output(ember_session* s, size_t index, void* data, size_t bytes) {
    if (!s) return em_error(EMBER_ERROR_INVALID_ARGUMENT, "session must not be NULL");
    const ember_model* m = s->model;
    if (index >= m->n_outputs)
        return em_error(EMBER_ERROR_INVALID_ARGUMENT, "output index %zu is out of range: the model has %u outputs",
                        index, m->n_outputs);
    uint32_t ti = m->outputs[index];
    const em_tensor* t = &m->tensors[ti];
    if (data && bytes < output_bytes(s, index))
        return em_error(EMBER_ERROR_BUFFER_TOO_SMALL, "output '%s' needs %zu bytes, the buffer has %zu",
                        t->name, output_bytes(s, index), bytes);
    s->bound_output[index] = data;
    /* A graph input that is also an output keeps its own buffer; run copies it out. */
    if (!t->is_input) s->values[ti].data = data ? data : s->arena_data[ti];
    em_clear_error();
    return EMBER_OK;
}

static uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

EMBER_API ember_status ember_session_run(ember_session* s) {
    if (!s) return em_error(EMBER_ERROR_INVALID_ARGUMENT, "ember_session_run: session must not be NULL");
    const ember_model* m = s->model;
    for (uint32_t i = 0; i < m->n_inputs; i++)
        if (!s->input_set[i])
            return em_error(EMBER_ERROR_MISSING_INPUT, "input '%s' was not set before run",
                            m->tensors[m->inputs[i]].name);
    s->ran = false;
    bool profile = (s->flags & EMBER_SESSION_PROFILE) != 0;
    for (uint32_t i = 0; i < m->n_nodes; i++) {
        const em_node* nd = &m->nodes[i];
        em_value* const* in = s->io + s->io_first[i];
        char msg[EM_MSG_CAP];
        msg[0] = '\0';
        if (s->absorbed[i]) { /* its reader, or its producer, computes its output */
            if (profile) {
                s->times_ns[i] = 0;
                s->kernels[i] = "fused";
            }
            continue;
        }
        uint64_t t0 = profile ? now_ns() : 0;
        const char* kernel = NULL;
        const uint32_t pi = s->absorbs[i];
        const uint32_t c0 = s->conv_first[i], c1 = s->conv_first[i + 1];
        for (uint32_t c = c0; c < c1; c++) /* plain inputs into their blocked copies */
            if (s->converts[c].slot < nd->n_inputs)
                em_layout_convert(s->pool, s->kern, &s->values[s->conv_tensor[c]], &s->sub[c]);
        ember_status st = em_node_run_absorbing(
            nd, in, in + nd->n_inputs, s->kern, s->scratch[i], s->scratch_bytes[i], s->pool, msg,
            &kernel, pi == EM_NONE ? NULL : &m->nodes[pi], pi == EM_NONE ? NULL : s->io + s->io_first[pi],
            s->then[i] == EM_NONE ? NULL : &m->nodes[s->then[i]]);
        for (uint32_t c = c0; st == EMBER_OK && c < c1; c++) /* blocked outputs back */
            if (s->converts[c].slot >= nd->n_inputs)
                em_layout_convert(s->pool, s->kern, &s->sub[c], &s->values[s->conv_tensor[c]]);
        if (profile) {
            s->times_ns[i] = now_ns() - t0;
            s->kernels[i] = kernel;
        }
        if (st != EMBER_OK) return em_error(st, "node '%s' (%s): %s", nd->name, nd->op_type, msg);
    }
    for (uint32_t i = 0; i < m->n_outputs; i++) {
        const em_tensor* t = &m->tensors[m->outputs[i]];
        if (s->bound_output[i] && t->is_input)
            memmove(s->bound_output[i], s->values[m->outputs[i]].data, output_bytes(s, i));
    }
    s->ran = true;
    em_clear_error();
    return EMBER_OK;
}

EMBER_API ember_status ember_session_output(ember_session* s, size_t index, ember_tensor* out) {
    if (!s || !out) return em_error(EMBER_ERROR_INVALID_ARGUMENT, "ember_session_output: arguments must not be NULL");
    if (out->struct_size != sizeof *out)
        return em_error(EMBER_ERROR_INVALID_ARGUMENT, "ember_tensor.struct_size is %zu, expected %zu",
                        out->struct_size, sizeof *out);
    if (index >= s->model->n_outputs)
        return em_error(EMBER_ERROR_INVALID_ARGUMENT, "output index %zu is out of range: the model has %u outputs",
                        index, s->model->n_outputs);
    if (!s->ran) return em_error(EMBER_ERROR_INVALID_ARGUMENT, "no successful run yet: outputs are not available");
    const em_value* v = &s->values[s->model->outputs[index]];
    out->dtype = v->dtype;
    out->rank = v->shape.rank;
    for (int d = 0; d < EMBER_MAX_RANK; d++) out->dims[d] = d < v->shape.rank ? v->shape.dims[d] : 0;
    out->data = s->bound_output[index] ? s->bound_output[index] : v->data;
    out->bytes = output_bytes(s, index);
    em_clear_error();
    return EMBER_OK;
}

EMBER_API ember_status ember_session_output_by_name(ember_session* s, const char* name, ember_tensor* out) {
    size_t index;
    if (!s) return em_error(EMBER_ERROR_INVALID_ARGUMENT, "session must not be NULL");
    ember_status st = ember_model_output_index(s->model, name, &index);
    if (st != EMBER_OK) return st;
    return ember_session_output(s, index, out);
}

EMBER_API ember_status ember_session_copy_output(ember_session* s, size_t index, void* dst, size_t dst_bytes) {
    ember_tensor t = {.struct_size = sizeof t};
    ember_status st = ember_session_output(s, index, &t);
    if (st != EMBER_OK) return st;
    if (!dst || dst_bytes < t.bytes)
        return em_error(EMBER_ERROR_BUFFER_TOO_SMALL, "output '%s' needs %zu bytes, the buffer has %zu",
                        s->model->tensors[s->model->outputs[index]].name, t.bytes, dst ? dst_bytes : 0);
    if (t.bytes) memcpy(dst, t.data, t.bytes);
    return EMBER_OK;
}

EMBER_API ember_status ember_session_node_profile(const ember_session* s, size_t index, ember_node_profile* out) {
    if (!s || !out)
        return em_error(EMBER_ERROR_INVALID_ARGUMENT, "ember_session_node_profile: arguments must not be NULL");
    if (out->struct_size != sizeof *out)
        return em_error(EMBER_ERROR_INVALID_ARGUMENT, "ember_node_profile.struct_size is %zu, expected %zu",
                        out->struct_size, sizeof *out);
    if (index >= s->model->n_nodes)
        return em_error(EMBER_ERROR_INVALID_ARGUMENT, "node index %zu is out of range: the model has %u nodes",
                        index, s->model->n_nodes);
    if (!(s->flags & EMBER_SESSION_PROFILE))
        return em_error(EMBER_ERROR_INVALID_ARGUMENT,
                        "profiling is off: create the session with the EMBER_SESSION_PROFILE flag");
    const em_node* nd = &s->model->nodes[index];
    out->name = nd->name;
    out->op_type = nd->op_type;
    /* "avx512 gemm": the dispatched path and the kernel; "portable ...": a fast
     * path in portable C, "in place": no work, "fused": done by the node
     * that reads its output (named as is); "reference":
     * the reference code */
    const char* k = s->kernels[index];
    if (k && (strncmp(k, "portable ", 9) == 0 || strcmp(k, "in place") == 0 || strcmp(k, "fused") == 0))
        snprintf(s->kernel_labels[index], sizeof s->kernel_labels[index], "%s", k);
    else if (k)
        snprintf(s->kernel_labels[index], sizeof s->kernel_labels[index], "%s %s",
                 s->kern->isa, k);
    out->kernel = k ? s->kernel_labels[index] : "reference";
    out->time_ns = s->times_ns[index];
    em_clear_error();
    return EMBER_OK;
}
