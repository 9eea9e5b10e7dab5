/* The three steps of a node (init, infer, run), with the checks every operator
 * shares done once here. Used by the session executor and by operator tests. */
#include <string.h>

#include "format.h"
#include "model.h"
#include "op.h"
#include "threadpool.h"

ember_status em_node_init(em_node* node, void* params, char* msg) {
    const em_op_def* op = node->op;
    if (node->n_inputs < op->min_inputs || node->n_inputs > op->max_inputs)
        return em_errorf(msg, EM_MSG_CAP, EMBER_ERROR_INVALID_MODEL,
                         "has %u inputs, %s takes %u to %u", node->n_inputs, op->name,
                         op->min_inputs, op->max_inputs);
    if (node->n_outputs < op->min_outputs || node->n_outputs > op->max_outputs)
        return em_errorf(msg, EM_MSG_CAP, EMBER_ERROR_INVALID_MODEL,
                         "has %u outputs, %s gives %u to %u", node->n_outputs, op->name,
                         op->min_outputs, op->max_outputs);
    for (uint32_t i = 0; i < op->min_inputs; i++)
        if (node->inputs[i] == EM_NONE)
            return em_errorf(msg, EM_MSG_CAP, EMBER_ERROR_INVALID_MODEL,
                             "required input %u is absent", i);
    for (uint32_t i = 0; i < node->n_outputs; i++)
        if (node->outputs[i] == EM_NONE)
            return em_errorf(msg, EM_MSG_CAP, EMBER_ERROR_INVALID_MODEL,
                             "output %u is absent", i);
    if (node->act.kind != EMF_ACT_NONE && !op->fusable)
        return em_errorf(msg, EM_MSG_CAP, EMBER_ERROR_INVALID_MODEL,
                         "a fused activation (%s) is not allowed on %s",
                         em_activation_name(node->act.kind), op->name);
    if (!op->init) return EMBER_OK;
    em_op_ctx ctx = {.node = node, .params = params, .n_inputs = node->n_inputs,
                     .n_outputs = node->n_outputs, .msg = msg};
    return op->init(&ctx, params);
}

ember_status em_node_infer(const em_node* node, em_value* const* in, em_value* const* out,
                           const ember_kernels* kern, size_t threads, size_t* scratch_bytes,
                           char* msg) {
    em_op_ctx ctx = {.node = node, .params = node->params, .n_inputs = node->n_inputs,
                     .n_outputs = node->n_outputs, .inputs = in, .outputs = out, .msg = msg,
                     .kern = kern, .threads = threads ? threads : 1};
    for (uint32_t i = 0; i < node->n_outputs; i++) {
        if (!out[i]) continue;
        out[i]->dtype = EMBER_DTYPE_UNDEFINED;
        out[i]->shape.rank = -1;
    }
    ember_status st = node->op->infer(&ctx);
    if (st != EMBER_OK) return st;
    for (uint32_t i = 0; i < node->n_outputs; i++) {
        if (!out[i]) continue;
        uint64_t n, bytes;
        size_t es = ember_dtype_size(out[i]->dtype);
        if (es == 0 || out[i]->shape.rank < 0)
            return em_errorf(msg, EM_MSG_CAP, EMBER_ERROR_RUNTIME,
                             "internal error: output %u has no inferred dtype or shape", i);
        if (!em_shape_numel(&out[i]->shape, &n) || !em_mul_u64(n, es, &bytes) ||
            bytes > (uint64_t)SIZE_MAX / 4) {
            char b[160];
            return em_errorf(msg, EM_MSG_CAP, EMBER_ERROR_LIMIT_EXCEEDED,
                             "output %u would have shape %s, which is too large", i,
                             em_shape_str(&out[i]->shape, b, sizeof b));
        }
    }
    if (node->act.kind != EMF_ACT_NONE && out[0] && out[0]->dtype != EMBER_DTYPE_F32)
        return em_errorf(msg, EM_MSG_CAP, EMBER_ERROR_INVALID_MODEL,
                         "a fused activation needs an f32 output, got %s",
                         ember_dtype_name(out[0]->dtype));
    *scratch_bytes = ctx.scratch_bytes;
    return EMBER_OK;
}

/* The fused activation on the session's threads (elementwise: any split gives
 * the same values); none under 16K floats a chunk. */
typedef struct act_job {
    const ember_kernels* kern;
    const em_activation* act;
    float* y;
} act_job;

static void act_chunk(void* arg, size_t i0, size_t len) {
    const act_job* j = arg;
    em_apply_activation(j->kern, j->act, j->y + i0, len);
}

static void apply_activation(struct em_pool* pool, const ember_kernels* kern,
                             const em_activation* act, float* y, size_t n) {
    act_job j = {.kern = kern, .act = act, .y = y};
    em_pool_run_chunks(pool, n, (size_t)1 << 14, act_chunk, &j);
}

em_op_ctx em_producer_ctx(const em_op_ctx* ctx, char* msg) {
    const em_node* pn = ctx->producer;
    msg[0] = '\0';
    return (em_op_ctx){.node = pn, .params = pn->params, .n_inputs = pn->n_inputs,
                       .n_outputs = pn->n_outputs, .inputs = ctx->producer_inputs,
                       .kern = ctx->kern, .msg = msg};
}

ember_status em_node_run(const em_node* node, em_value* const* in, em_value* const* out,
                         const ember_kernels* kern, void* scratch, size_t scratch_bytes,
                         struct em_pool* pool, char* msg, const char** kernel) {
    return em_node_run_absorbing(node, in, out, kern, scratch, scratch_bytes, pool, msg, kernel,
                                 NULL, NULL, NULL);
}

ember_status em_node_run_absorbing(const em_node* node, em_value* const* in, em_value* const* out,
                                   const ember_kernels* kern, void* scratch, size_t scratch_bytes,
                                   struct em_pool* pool, char* msg, const char** kernel,
                                   const em_node* producer, em_value* const* producer_in,
                                   const em_node* then) {
    em_op_ctx ctx = {.node = node, .params = node->params, .n_inputs = node->n_inputs,
                     .n_outputs = node->n_outputs, .inputs = in, .outputs = out,
                     .scratch = scratch, .scratch_bytes = scratch_bytes, .pool = pool, .msg = msg,
                     .kern = kern, .threads = em_pool_threads(pool),
                     /* only a node that runs blocked writes a blocked output (plan.c) */
                     .block = node->n_outputs && out[0] ? out[0]->block : 0};
    /* the packed weights are laid out for the default table */
    const bool default_path = !kern || kern == ember_kernels_default();
    ctx.packed = default_path ? node->packed : NULL;
    ember_status st;
    if (ctx.packed && (st = em_node_verify_packed(node, msg)) != EMBER_OK) return st;
    if ((producer || then) && !default_path) /* the planner fuses on the default path only */
        return em_errorf(msg, EM_MSG_CAP, EMBER_ERROR_RUNTIME,
                         "internal error: fused with '%s' on another kernel path",
                         producer ? producer->name : then->name);
    ctx.then = then;
    if (producer) {
        if (producer->packed && (st = em_node_verify_packed(producer, msg)) != EMBER_OK) return st;
        ctx.producer = producer;
        ctx.producer_inputs = producer_in;
        ctx.producer_packed = producer->packed;
    }
    st = node->op->run(&ctx);
    if (kernel) *kernel = ctx.kernel;
    if (st != EMBER_OK) return st;
    /* Operators marked fusable leave the activation to this single place. */
    if (node->act.kind != EMF_ACT_NONE && !ctx.act_done)
        apply_activation(pool, em_kern(&ctx), &node->act, (float*)out[0]->data,
                         em_value_stored_count(out[0]));
    return EMBER_OK;
}
