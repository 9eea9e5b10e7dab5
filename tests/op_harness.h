/* Runs one operator outside any model, through the same init/infer/run steps
 * the session executor uses, for the operator tests. Outputs get guard bytes
 * that must stay untouched. Use with cmocka. */
#ifndef EMBER_OP_HARNESS_H
#define EMBER_OP_HARNESS_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "../src/runtime/format.h"
#include "../src/runtime/op.h"

#define OH_MAX_ATTRS 16
#define OH_MAX_IO 8

typedef struct oh_node {
    const char* op;
    em_attr attrs[OH_MAX_ATTRS];
    uint32_t n_attrs;
    em_activation act;
    uint32_t n_inputs;
    em_value in[OH_MAX_IO];
    bool in_present[OH_MAX_IO];
    bool in_constant[OH_MAX_IO];
    uint32_t n_outputs;
    em_value out[OH_MAX_IO];   /* filled by oh_run: dtype, shape, data */
    char msg[EM_MSG_CAP];      /* the operator's message when oh_run fails */
    /* private */
    em_node node;
    uint32_t idx_in[OH_MAX_IO], idx_out[OH_MAX_IO];
    void* params;
    void* scratch;
    void* out_alloc[OH_MAX_IO];
} oh_node;

/* Starts a node of type op with n_outputs outputs. */
void oh_begin(oh_node* n, const char* op, uint32_t n_outputs);
void oh_int(oh_node* n, const char* name, int64_t v);
void oh_float(oh_node* n, const char* name, float v);
void oh_string(oh_node* n, const char* name, const char* v);
void oh_ints(oh_node* n, const char* name, uint32_t count, const int64_t* v);
void oh_floats(oh_node* n, const char* name, uint32_t count, const float* v);
/* Appends an input (data is not copied and must outlive oh_run). A constant
 * input's data is visible to infer, as a weight in a file would be. */
void oh_input(oh_node* n, ember_dtype dtype, em_shape shape, const void* data);
void oh_constant(oh_node* n, ember_dtype dtype, em_shape shape, const void* data);
void oh_absent(oh_node* n);

/* init, infer, allocate outputs and scratch, run. Returns the first failing
 * status (the message is in n->msg). */
ember_status oh_run(oh_node* n);
void oh_free(oh_node* n);

/* em_shape from its dims: OH_SHAPE(2, 3, 4) is [2,3,4]; OH_SCALAR is rank 0. */
#define OH_SHAPE(...) \
    oh_shape_of((int)(sizeof((int64_t[]){__VA_ARGS__}) / sizeof(int64_t)), (int64_t[]){__VA_ARGS__})
#define OH_SCALAR ((em_shape){.rank = 0})
em_shape oh_shape_of(int rank, const int64_t* dims);

/* cmocka failure unless |got - want| <= atol + rtol * |want| everywhere
 * (NaNs must match NaNs). */
void oh_assert_close(const float* got, const float* want, size_t n, float atol, float rtol);

/* Deterministic pseudo-random floats in [lo, hi). */
void oh_fill_random(float* x, size_t n, uint32_t seed, float lo, float hi);

#endif
