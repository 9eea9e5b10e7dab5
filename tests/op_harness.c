#include "op_harness.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GUARD 64
#define GUARD_BYTE 0xA5

void oh_begin(oh_node* n, const char* op, uint32_t n_outputs) {
    memset(n, 0, sizeof *n);
    n->op = op;
    n->n_outputs = n_outputs;
}

static em_attr* add_attr(oh_node* n, const char* name, uint32_t type) {
    assert_true(n->n_attrs < OH_MAX_ATTRS);
    em_attr* a = &n->attrs[n->n_attrs++];
    memset(a, 0, sizeof *a);
    a->name = name;
    a->type = type;
    return a;
}

void oh_int(oh_node* n, const char* name, int64_t v) { add_attr(n, name, EMF_ATTR_INT)->i = v; }
void oh_float(oh_node* n, const char* name, float v) { add_attr(n, name, EMF_ATTR_FLOAT)->f = v; }
void oh_string(oh_node* n, const char* name, const char* v) {
    add_attr(n, name, EMF_ATTR_STRING)->s = v;
}
void oh_ints(oh_node* n, const char* name, uint32_t count, const int64_t* v) {
    em_attr* a = add_attr(n, name, EMF_ATTR_INTS);
    a->count = count;
    a->ints = v;
}
void oh_floats(oh_node* n, const char* name, uint32_t count, const float* v) {
    em_attr* a = add_attr(n, name, EMF_ATTR_FLOATS);
    a->count = count;
    a->floats = v;
}

static void add_input(oh_node* n, ember_dtype dtype, em_shape shape, const void* data, bool constant,
                      bool present) {
    assert_true(n->n_inputs < OH_MAX_IO);
    uint32_t i = n->n_inputs++;
    n->in[i] = (em_value){.dtype = dtype, .shape = shape, .data = (void*)data};
    n->in_present[i] = present;
    n->in_constant[i] = constant;
}

void oh_input(oh_node* n, ember_dtype dtype, em_shape shape, const void* data) {
    add_input(n, dtype, shape, data, false, true);
}
void oh_constant(oh_node* n, ember_dtype dtype, em_shape shape, const void* data) {
    add_input(n, dtype, shape, data, true, true);
}
void oh_absent(oh_node* n) { add_input(n, EMBER_DTYPE_UNDEFINED, (em_shape){0}, NULL, false, false); }

ember_status oh_run(oh_node* n) {
    n->msg[0] = '\0';
    n->node = (em_node){.name = "test_node", .op_type = n->op, .n_inputs = n->n_inputs,
                        .n_outputs = n->n_outputs, .inputs = n->idx_in, .outputs = n->idx_out,
                        .n_attrs = n->n_attrs, .attrs = n->attrs, .act = n->act};
    n->node.op = em_op_find(n->op);
    if (!n->node.op) {
        snprintf(n->msg, sizeof n->msg, "operator %s is not registered", n->op);
        return EMBER_ERROR_UNSUPPORTED;
    }
    for (uint32_t i = 0; i < n->n_inputs; i++) n->idx_in[i] = n->in_present[i] ? i : EM_NONE;
    for (uint32_t i = 0; i < n->n_outputs; i++) n->idx_out[i] = i;
    if (n->node.op->params_size) {
        n->params = calloc(1, n->node.op->params_size);
        assert_non_null(n->params);
    }
    n->node.params = n->params;
    ember_status st = em_node_init(&n->node, n->params, n->msg);
    if (st != EMBER_OK) return st;

    /* infer sees only constants' data, as at load */
    em_value infer_in[OH_MAX_IO];
    em_value* in_ptrs[OH_MAX_IO];
    em_value* out_ptrs[OH_MAX_IO];
    for (uint32_t i = 0; i < n->n_inputs; i++) {
        infer_in[i] = n->in[i];
        if (!n->in_constant[i]) infer_in[i].data = NULL;
        in_ptrs[i] = n->in_present[i] ? &infer_in[i] : NULL;
    }
    for (uint32_t i = 0; i < n->n_outputs; i++) out_ptrs[i] = &n->out[i];
    size_t scratch_bytes = 0;
    st = em_node_infer(&n->node, in_ptrs, out_ptrs, NULL, 1, &scratch_bytes, n->msg);
    if (st != EMBER_OK) return st;

    for (uint32_t i = 0; i < n->n_outputs; i++) {
        size_t bytes = em_shape_count(&n->out[i].shape) * ember_dtype_size(n->out[i].dtype);
        unsigned char* p = malloc(bytes + 2 * GUARD);
        assert_non_null(p);
        memset(p, GUARD_BYTE, bytes + 2 * GUARD);
        n->out_alloc[i] = p;
        n->out[i].data = p + GUARD;
    }
    n->scratch = em_aligned_alloc(scratch_bytes);
    assert_non_null(n->scratch);
    for (uint32_t i = 0; i < n->n_inputs; i++) in_ptrs[i] = n->in_present[i] ? &n->in[i] : NULL;
    st = em_node_run(&n->node, in_ptrs, out_ptrs, NULL, n->scratch, scratch_bytes, NULL, n->msg, NULL);
    for (uint32_t i = 0; i < n->n_outputs; i++) {
        size_t bytes = em_shape_count(&n->out[i].shape) * ember_dtype_size(n->out[i].dtype);
        const unsigned char* p = n->out_alloc[i];
        for (size_t k = 0; k < GUARD; k++) {
            if (p[k] != GUARD_BYTE || p[GUARD + bytes + k] != GUARD_BYTE)
                fail_msg("%s wrote outside output %u", n->op, i);
        }
    }
    return st;
}

void oh_free(oh_node* n) {
    for (uint32_t i = 0; i < n->n_outputs; i++) free(n->out_alloc[i]);
    free(n->params);
    em_aligned_free(n->scratch);
    memset(n->out_alloc, 0, sizeof n->out_alloc);
    n->params = NULL;
    n->scratch = NULL;
}

em_shape oh_shape_of(int rank, const int64_t* dims) {
    em_shape s = {.rank = rank};
    for (int i = 0; i < rank; i++) s.dims[i] = dims[i];
    return s;
}

void oh_assert_close(const float* got, const float* want, size_t n, float atol, float rtol) {
    for (size_t i = 0; i < n; i++) {
        if (isnan(want[i]) && isnan(got[i])) continue;
        float tol = atol + rtol * fabsf(want[i]);
        if (!(fabsf(got[i] - want[i]) <= tol) && !(got[i] == want[i]))
            fail_msg("element %zu: got %.9g, want %.9g (tolerance %.3g)", i, got[i], want[i], tol);
    }
}

void oh_fill_random(float* x, size_t n, uint32_t seed, float lo, float hi) {
    uint32_t s = seed * 2654435761u + 12345u;
    for (size_t i = 0; i < n; i++) {
        s ^= s << 13;
        s ^= s >> 17;
        s ^= s << 5;
        x[i] = lo + (hi - lo) * (float)(s >> 8) / 16777216.0f;
    }
}
