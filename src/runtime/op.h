/* The operator interface. An operator knows shapes, attributes and which kernel
 * to call; the kernels (src/kernels) know nothing but pointers and sizes.
 *
 * Life of a node:
 *   init   once at load: parse and validate attributes into params (may be NULL).
 *   infer  at load (symbolic dims = 1) and at session creation: from the
 *          inputs' dtypes and shapes (and the data of constant inputs), set
 *          every output's dtype and shape, and the scratch bytes run needs.
 *   packed_bytes (optional) after infer, when a session is planned: bytes of
 *          weights pack will pre-arrange (0: none). It may depend only on the
 *          constant inputs and the attributes (the packed block belongs to the
 *          model and serves every session), and returns 0 unless the weight
 *          input is constant (data non-NULL here).
 *   pack   (optional) once per model, at its first session's creation: writes
 *          that many bytes to dst (64-aligned) from the constant inputs.
 *   run    compute. Inputs and outputs have data; scratch is 64-aligned.
 *          ctx->packed is what pack wrote, or NULL (op tests, no packing):
 *          run must then work from the inputs as they are.
 *          Must not allocate. If it can fail on data (an index out of range),
 *          it checks before writing any output.
 * Errors: return em_op_fail(ctx, status, "...") with a message that says what
 * was expected and what was found; the caller prefixes the node's name and type. */
#ifndef EMBER_OP_H
#define EMBER_OP_H

#include "dispatch.h"
#include "internal.h"

typedef struct em_value {
    ember_dtype dtype;
    em_shape shape;
    void* data;               /* infer: non-NULL only for constant inputs */
    const em_quant* quant;
    /* 0: plain (NCHW). Else the planner gave this activation the channel-
     * blocked layout (plan.c assign_layouts): rank 4, [N][ceil(C / block)]
     * [H][W][block], channel c of a position at lane c % block of block
     * c / block, the lanes past C finite (0 where a 1x1 convolution wrote
     * them). Only nodes that run blocked (em_op_ctx.block) ever see one. */
    uint32_t block;
} em_value;

/* Floats v's data holds: its shape's count, with dim 1 rounded up to whole
 * blocks when v is channel-blocked. */
static inline size_t em_value_stored_count(const em_value* v) {
    size_t n = 1;
    for (int32_t d = 0; d < v->shape.rank; d++) {
        size_t e = (size_t)v->shape.dims[d];
        if (d == 1 && v->block) e = (e + v->block - 1) / v->block * v->block;
        n *= e;
    }
    return n;
}

typedef struct em_op_ctx {
    const em_node* node;
    const void* params;       /* node->params (init: the block to fill) */
    uint32_t n_inputs;
    uint32_t n_outputs;
    em_value* const* inputs;  /* inputs[i] == NULL for an absent optional input */
    em_value* const* outputs;
    size_t scratch_bytes;     /* infer sets it; run gets that much in scratch */
    void* scratch;
    const void* packed;       /* run: this node's pre-packed weights, or NULL */
    struct em_pool* pool;     /* run: the session's threads (NULL: one thread) */
    const struct ember_kernels* kern; /* infer and run: the session's kernel table (NULL: the
                                 default); use em_kern(ctx) */
    size_t threads;           /* infer and run: how many threads run may use (>= 1); scratch
                                 may be sized per thread (em_pool_run's thread index) */
    char* msg;                /* EM_MSG_CAP bytes */
    const char* kernel;       /* run may name the dispatched kernel it used ("gemm", "dwconv",
                                 ...; a static string); NULL: the portable reference code */
    bool act_done;            /* run sets it when it applied the node's fused activation
                                 itself (in its output pass); else em_node_run applies it */
    /* run: the node whose work this one took over (em_op_def.absorb_scratch),
     * its inputs and its packed weights (NULL if it packs none); NULL: none.
     * Input 0 of this node, the producer's output, then has no data. */
    const em_node* producer;
    em_value* const* producer_inputs;
    const void* producer_packed;
    /* run: an activation node (em_op_def.then_ok) whose work this node does
     * on its output 0 as it writes it; NULL: none. That node's output shares
     * the buffer of this node's output 0, and the node is not run. */
    const em_node* then;
    /* packed_bytes, pack and run: the node runs on channel-blocked activations
     * (em_value.block) in blocks of this many channels: every non-constant
     * input and output it sees has that layout (the executor converts the
     * others around it), but the inputs of a kind-3 node (em_op_def.blocked),
     * which stay plain. 0: plain. */
    uint32_t block;
} em_op_ctx;

typedef struct em_op_def {
    const char* name;         /* ONNX op type */
    uint8_t min_inputs, max_inputs;
    uint8_t min_outputs, max_outputs;
    uint32_t params_size;     /* bytes of params init fills (0: no params) */
    bool fusable;             /* accepts a fused activation */
    ember_status (*init)(em_op_ctx* ctx, void* params);
    ember_status (*infer)(em_op_ctx* ctx);
    ember_status (*run)(em_op_ctx* ctx);
    size_t (*packed_bytes)(em_op_ctx* ctx);            /* optional, see above */
    ember_status (*pack)(em_op_ctx* ctx, void* dst);   /* optional, see above */
    /* Optional, called after infer: true when input i's bytes appear unchanged
     * and contiguous at byte *offset of output 0 (Reshape and its kin: input 0
     * at 0; Concat with nothing before the axis: each input at its slice). The
     * planner may then give input i no buffer of its own: its producer writes
     * straight into the output's, and run must not copy a part onto itself
     * (it sees the input's data at that address). */
    bool (*input_in_output)(const em_op_ctx* ctx, uint32_t i, uint64_t* offset);
    /* Optional, called after infer on a session of the default path: whether
     * this node can also do the work of `producer`, the node whose output is
     * its input 0 and which nothing else reads, returning the scratch run
     * then needs (0: it cannot). The planner then skips the producer, gives
     * its output no buffer, and runs this node with ctx->producer set
     * (a 1x1 convolution into a depthwise one, conv_pw_dw.c). */
    size_t (*absorb_scratch)(em_op_ctx* ctx, em_op_ctx* producer);
    /* With absorb_scratch: the producer may be that of any input, the first
     * that qualifies (an Add of a bias, either operand order); run tells which
     * from ctx->node->inputs and ctx->producer->outputs. */
    bool absorb_any_input;
    /* Optional, called after the fusions above on a session of the default
     * path: whether run can also do the work of `act`, a unary activation node
     * that alone reads this node's output 0 (its values f32, of that shape), on
     * the values as it writes them (ctx->then). ctx->producer is set here as
     * for run. The planner then gives act's output the buffer of this node's
     * output 0 and does not run act. */
    bool (*then_ok)(em_op_ctx* ctx, const em_node* act);
    /* Optional, called after infer on a session of a path with a blocked
     * layout (ember_kernels.f32_conv1x1_blocked): whether this node can run on
     * channel-blocked activations. shapes false: from its attributes, its
     * constant inputs and the ranks and dtypes alone (the answer fixes the
     * layout of its packed weights, which every session of the model shares):
     * 0 no, 1 yes, 2 yes, and a region of blocked nodes pays with it
     * (depthwise convolutions: plan.c blocks only regions holding one), 3
     * yes, writing blocked outputs from plain inputs (a stem convolution:
     * it joins a region through its output only, and sees its inputs plain).
     * shapes true: whether it can with the shapes it has now (non-zero).
     * A blocked run gets no scratch (what infer asked for is for plain
     * runs), but for kind 3, which gets infer's. */
    int (*blocked)(em_op_ctx* ctx, bool shapes);
} em_op_def;

/* The kernel table infer and run use: the session's (a forced ISA path) or the
 * default. packed_bytes / pack always see the default: the model's packed
 * weights are laid out for it. */
static inline const ember_kernels* em_kern(const em_op_ctx* ctx) {
    return ctx->kern ? ctx->kern : ember_kernels_default();
}

/* Looks an operator up by its ONNX name; NULL if unsupported. */
const em_op_def* em_op_find(const char* name);

/* Formats ctx->msg and returns status. */
ember_status em_op_fail(em_op_ctx* ctx, ember_status status, const char* fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* ---- attributes (attrs.c); each fails with a clear message on a wrong type ---- */
const em_attr* em_attr_find(const em_node* node, const char* name);
ember_status em_attr_int(em_op_ctx* ctx, const char* name, int64_t def, int64_t* out);
ember_status em_attr_float(em_op_ctx* ctx, const char* name, float def, float* out);
ember_status em_attr_string(em_op_ctx* ctx, const char* name, const char* def, const char** out);
/* *out = NULL and *count = 0 when absent. */
ember_status em_attr_ints(em_op_ctx* ctx, const char* name, const int64_t** out, uint32_t* count);
ember_status em_attr_floats(em_op_ctx* ctx, const char* name, const float** out, uint32_t* count);

/* ---- helpers for infer (shape.c) ---- */

/* Numpy-style broadcast of n shapes into out; fails naming both shapes. */
ember_status em_broadcast(em_op_ctx* ctx, uint32_t n, const em_shape* const* shapes, em_shape* out);
/* Element strides of in when read as the (broadcast) shape out: 0 on broadcast dims.
 * strides has out->rank entries. */
void em_broadcast_strides(const em_shape* in, const em_shape* out, int64_t* strides);
/* Normalises a possibly negative axis into [0, rank); fails if out of range. */
ember_status em_axis(em_op_ctx* ctx, int64_t axis, int32_t rank, int32_t* out);
/* Reads a constant integer input (INT64 or INT32) of at most cap elements into
 * out; fails if the input is not constant or too long. */
ember_status em_const_ints(em_op_ctx* ctx, uint32_t input, int64_t* out, uint32_t cap,
                           uint32_t* count);
/* Requires input i to have dtype; fails naming the input otherwise. */
ember_status em_expect_dtype(em_op_ctx* ctx, uint32_t input, ember_dtype dtype);

/* A run's context for ctx->producer, the node it absorbed (its params and
 * inputs, ctx's kernel table, msg: EM_MSG_CAP bytes): what an operator's
 * plan helpers need to look at the producer's geometry again. */
em_op_ctx em_producer_ctx(const em_op_ctx* ctx, char* msg);

/* ---- node execution (node_exec.c): shared by the executor and op tests ---- */
ember_status em_node_init(em_node* node, void* params, char* msg);
/* threads: how many threads the runs will have (>= 1; sizes per-thread scratch);
 * kern: the session's kernel table (NULL: the default). */
ember_status em_node_infer(const em_node* node, em_value* const* in, em_value* const* out,
                           const ember_kernels* kern, size_t threads, size_t* scratch_bytes,
                           char* msg);
/* pool: the threads run may use (NULL: the caller's only). */
/* kern: the session's kernel table (NULL: the default); on another table than
 * the default, the node's pre-packed weights are not used. */
ember_status em_node_run(const em_node* node, em_value* const* in, em_value* const* out,
                         const ember_kernels* kern, void* scratch, size_t scratch_bytes,
                         struct em_pool* pool, char* msg, const char** kernel);
/* The same for a node that does the work of `producer` too (the planner's
 * fusion, em_op_def.absorb_scratch): producer_in are the producer's inputs;
 * its packed weights are checked before first use as the node's own. then:
 * an activation node whose work it also does (em_op_def.then_ok), or NULL. */
ember_status em_node_run_absorbing(const em_node* node, em_value* const* in, em_value* const* out,
                                   const ember_kernels* kern, void* scratch, size_t scratch_bytes,
                                   struct em_pool* pool, char* msg, const char** kernel,
                                   const em_node* producer, em_value* const* producer_in,
                                   const em_node* then);

#endif
