/* Internal structures of the runtime: the loaded model, and what operators see. */
#ifndef EMBER_INTERNAL_H
#define EMBER_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ember.h"

#define EM_NONE 0xFFFFFFFFu
#define EM_MSG_CAP 512
#define EM_ALIGN 64

typedef struct em_shape {
    int32_t rank;
    int64_t dims[EMBER_MAX_RANK];
} em_shape;

typedef struct em_quant {
    int32_t axis;            /* -1 per tensor */
    uint32_t count;
    const float* scales;     /* count entries, in place in the file */
    const int32_t* zero_points;
} em_quant;

/* A tensor of the graph, as declared in the file (immutable). */
typedef struct em_tensor {
    const char* name;
    ember_dtype dtype;
    em_shape shape;                           /* -1 where symbolic */
    const char* dim_names[EMBER_MAX_RANK];    /* NULL where fixed */
    const void* data;                         /* constant data in place, else NULL */
    size_t data_size;
    const em_quant* quant;                    /* NULL if not quantized */
    uint32_t producer;                        /* node index, or EM_NONE */
    bool is_input;
    bool is_output;
    /* A mapped 1.2 file with per-part checksums (integrity.c): the data's
     * CRC-32, still to be checked before anything reads the data. */
    bool crc_pending;
    uint32_t crc;
} em_tensor;

typedef struct em_attr {
    const char* name;
    uint32_t type;          /* enum emf_attr_type */
    uint32_t count;         /* INTS / FLOATS */
    int64_t i;
    float f;
    const char* s;
    const int64_t* ints;    /* in place in the file (8-aligned) */
    const float* floats;
} em_attr;

typedef struct em_activation {
    uint32_t kind;          /* enum emf_activation */
    float alpha;
    float beta;
} em_activation;

struct em_op_def;

typedef struct em_node {
    const char* name;
    const char* op_type;
    const struct em_op_def* op;
    uint32_t n_inputs;
    uint32_t n_outputs;
    const uint32_t* inputs;  /* tensor indices; EM_NONE for an absent optional input */
    const uint32_t* outputs;
    uint32_t n_attrs;
    const em_attr* attrs;
    em_activation act;
    void* params;            /* operator-specific, parsed once at load */
    const void* packed;      /* pre-packed weights (the model's packed block or the file's), or NULL */
    size_t packed_bytes;
    /* The file's pre-packed blob for this node (PACKED section), or NULL. */
    const void* file_packed;
    size_t file_packed_size;
    uint32_t file_packed_crc;
    const char* file_packed_layout;
    /* packed is the file's blob and its CRC is still to be checked (1), or
     * found wrong (2); 0 otherwise. Read and written atomically: the first
     * run to use the blob checks it (integrity.c). */
    int packed_check;
} em_node;

typedef struct em_meta {
    const char* key;
    const char* value;
} em_meta;

struct ember_model {
    void* storage;           /* mmap-ed file or aligned copy */
    size_t storage_size;
    bool mapped;
    const uint8_t* base;

    uint32_t n_tensors;
    em_tensor* tensors;
    uint32_t n_nodes;
    em_node* nodes;
    em_attr* attrs;
    em_quant* quants;
    uint32_t n_inputs;
    const uint32_t* inputs;
    uint32_t n_outputs;
    const uint32_t* outputs;
    uint32_t n_meta;
    em_meta* meta;
    uint32_t n_labels;
    char** labels;
    char* labels_text;
    void* params_block;      /* all nodes' params, one allocation */
    void* run_consts;        /* mapped models: the constants runs read, copied out (loader.c) */
    const uint8_t* weights;  /* the WEIGHTS section in storage (NULL: none) */
    size_t weights_size;
    uint64_t n_params;
    uint64_t weight_bytes;
    ember_load_options limits;
    /* Weights pre-packed for the kernels: filled once, at the first session's
     * creation (em_model_pack), under a lock; read-only afterwards. */
    void* packed_block;
    bool packed_done;
};

/* ---- errors (status.c) ---- */

/* Formats the calling thread's last-error message and returns status. */
ember_status em_error(ember_status status, const char* fmt, ...)
    __attribute__((format(printf, 2, 3)));
void em_clear_error(void);
/* Formats into buf (always NUL-terminated) and returns status. */
ember_status em_errorf(char* buf, size_t cap, ember_status status, const char* fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* ---- shapes (shape.c) ---- */

/* Product of dims; false on overflow of int64 or a negative dim. */
bool em_shape_numel(const em_shape* s, uint64_t* out);
/* Product of dims (caller knows it is valid). */
size_t em_shape_count(const em_shape* s);
bool em_shape_equal(const em_shape* a, const em_shape* b);
/* "[1,3,224,224]" into buf. */
const char* em_shape_str(const em_shape* s, char* buf, size_t cap);
/* Overflow-checked arithmetic. */
bool em_mul_u64(uint64_t a, uint64_t b, uint64_t* out);
bool em_add_u64(uint64_t a, uint64_t b, uint64_t* out);
static inline uint64_t em_align_up(uint64_t x, uint64_t a) { return (x + a - 1) / a * a; }

/* ---- memory (alloc.c) ---- */
void* em_aligned_alloc(size_t bytes); /* 64-aligned, NULL on failure or 0 bytes -> minimal */
void em_aligned_free(void* p);

/* ---- fused activation (activation.c) ---- */
struct ember_kernels;
/* kern: the kernel table (NULL: the default). */
void em_apply_activation(const struct ember_kernels* kern, const em_activation* act, float* y,
                         size_t n);
const char* em_activation_name(uint32_t kind);

#endif
