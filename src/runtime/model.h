/* Loading, planning and running: the pieces between the public API and the operators. */
#ifndef EMBER_MODEL_H
#define EMBER_MODEL_H

#include "dispatch.h"
#include "op.h"

/* Hard cap on graph size, whatever the caller's limits: keeps the verifier and
 * the planner bounded in time on hostile files. */
#define EM_MAX_NODES (1u << 16)

/* Verifies the image and fills m (which the caller frees with em_model_release
 * on failure too). */
ember_status em_model_verify_and_build(const uint8_t* base, size_t size, ember_model* m);

/* Gives back the resident pages wholly inside [p, p + n) when the model was
 * mapped from its file (ember_model_load_file); does nothing for a model loaded
 * from memory. The mapping is private and read-only, so a page read again is
 * read again from the file: this only trades memory for a later page fault. */
void em_model_drop_pages(const ember_model* m, const void* p, size_t n);

/* Shapes, buffers and offsets of one session, computed without allocating the arena. */
typedef struct em_plan {
    em_value* values;           /* per tensor: dtype, resolved shape; data for constants */
    uint64_t* offsets;          /* per tensor: arena offset, or UINT64_MAX (constants) */
    uint64_t* scratch_offsets;  /* per node */
    size_t* scratch_bytes;      /* per node */
    size_t* packed_bytes;       /* per node: pre-packed weights (op->packed_bytes) */
    uint64_t packed_total;      /* their sum, each rounded up to 64 bytes */
    uint64_t arena_bytes;
    uint64_t naive_bytes;
    const ember_kernels* kern;  /* the session's kernel table (options' isa, or the default) */
    uint32_t* absorbs;          /* per node: the producer whose work it does (EM_NONE: none) */
    uint32_t* absorbed_by;      /* per node: the node that does its work (EM_NONE: itself) */
    uint32_t* then;             /* per node: the activation node whose work it does after its
                                 * own (em_op_def.then_ok; EM_NONE: none) */
    uint32_t* then_by;          /* per node: the node that does its work so (EM_NONE: itself) */
    /* Channel-blocked layout (assign_layouts): per node, the block its run
     * uses (0: plain), and the layout changes the executor makes around the
     * nodes that run blocked: each a non-constant input or an output of node
     * `node` (slot: input index, or n_inputs + output index) whose tensor is
     * plain, given a blocked copy at byte `offset` of the node's scratch. */
    const em_node* nodes;       /* the model's, for em_plan_node_ctx */
    uint32_t* node_block;
    uint8_t* node_plain_in;     /* per node: runs blocked but reads its inputs plain (a stem) */
    struct em_plan_convert* converts;
    uint32_t n_converts;
} em_plan;

typedef struct em_plan_convert {
    uint32_t node, slot;
    uint64_t offset;
} em_plan_convert;

/* Checks a caller's session options (NULL: defaults) field by field (session.c). */
ember_status em_session_options_check(const ember_session_options* options);

/* Resolves symbolic dims from options (NULL = defaults), infers every shape,
 * checks the model's limits and assigns arena offsets. Sets the thread's error
 * on failure. */
ember_status em_plan_build(const ember_model* m, const ember_session_options* options, em_plan* plan);
void em_plan_free(em_plan* plan);
/* The context of node nd's packed_bytes / pack hooks on plan p's values:
 * fills in and out (EM_MAX_IO entries each) from the plan and points the
 * context at them, at msg (EM_MSG_CAP bytes, cleared) and at kern (NULL: the
 * default table). */
#define EM_MAX_IO 256
em_op_ctx em_plan_node_ctx(const em_plan* p, const em_node* nd, const ember_kernels* kern,
                           em_value** in, em_value** out, char* msg);
/* Per tensor of a mapped model: the last node that packs it, for a constant read
 * only as the packed input 1 of such nodes (its file pages can go once that node
 * has packed), else EM_NONE. NULL: nothing is packed, not mapped, or no memory.
 * The caller frees it. */
uint32_t* em_plan_weights_to_drop(const ember_model* m, const em_plan* p);

/* ---- layout.c ---- */

/* Copies the rank-4 f32 tensor src into dst, of the same shape, converting
 * between the plain and the channel-blocked layout (em_value.block: exactly
 * one of the two is blocked, in blocks of kern's f32_dwconv.block); the lanes
 * past the channels of a blocked dst are 0. */
struct em_pool;
void em_layout_convert(struct em_pool* pool, const ember_kernels* kern, const em_value* src,
                       em_value* dst);

/* ---- integrity.c ---- */

/* The version of every pack hook's output (op.h) and of the GEMM and Winograd
 * packing routines it calls: bump it whenever any of them changes the bytes
 * it writes, so that files packed by an older ember are repacked, not
 * misread. */
#define EM_PACK_VERSION 3
/* The name pre-packed weights carry in a file (emf_packed.layout) for packing
 * with kern's routines: "avx512 12x32 kc256 v1". NUL-terminated. */
void em_pack_layout(const ember_kernels* kern, char out[32]);
/* Checks a constant's data against its checksum if that is still pending
 * (then clears it). Not thread-safe: at load, or under the packing lock. */
ember_status em_tensor_verify(em_tensor* t);
/* Checks the file's packed blob a node runs from, the first time (any
 * thread; the state is read atomically, so call it on every run: once
 * checked it costs one load); msg gets the reason on failure. */
ember_status em_node_verify_packed(const em_node* node, char* msg);
/* Before a session on a path other than the default (it runs from the
 * weights as stored): checks every constant whose checksum is pending.
 * Thread-safe. */
ember_status em_model_verify_constants(const ember_model* m);

/* Packs the model's weights once, from a session's plan (the first call
 * allocates and fills the model's packed block; later calls check that plan
 * agrees). Thread-safe. Sets the thread's error on failure. */
ember_status em_model_pack(const ember_model* m, const em_plan* plan);

#endif
