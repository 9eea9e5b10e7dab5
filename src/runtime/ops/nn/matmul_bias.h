/* A MatMul with a constant weight and the Add of a bias vector that alone
 * reads its output (a Linear layer exported as MatMul + Add, as PyTorch does
 * for inputs of rank 3), run by the Add node as one product with the bias
 * added to each tile of the output in the micro-kernel's output pass
 * (ember_f32_gemm_extra.col_bias): the MatMul's output is never written and
 * read back on its own, and at 2 threads no core reads the other's half of
 * it. The values are the unfused ones bit for bit: each output is the
 * product's sum, then + bias[j] (an Add is commutative). The profile says
 * "gemm+bias" for the Add and "fused" for the MatMul. */
#ifndef EMBER_OPS_NN_MATMUL_BIAS_H
#define EMBER_OPS_NN_MATMUL_BIAS_H

#include <stdbool.h>
#include <stddef.h>

#include "op.h"

/* For an Add node (add) one of whose inputs is the output of node mm (the
 * em_op_def.absorb_scratch contract): the scratch the fused run needs, or 0
 * when it does not apply (mm not a MatMul, its weight not packed, the other
 * input not a constant f32 vector of the output's last dim, the Add
 * broadcasting the product to a larger shape). */
size_t em_matmul_bias_scratch(em_op_ctx* add, em_op_ctx* mm);

/* The fused run, by the Add node of ctx (ctx->producer: the MatMul), with the
 * work of ctx->then (an activation after the Add; NULL: none) in the same
 * output pass. */
ember_status em_matmul_bias_run(em_op_ctx* ctx);

/* The em_op_def.then_ok contract for an Add node (add; add->producer: the
 * node it absorbs, or NULL): whether its fused run can also do act's work
 * (unary_act.h). The profile then says "gemm+bias+gelu" (the activation's
 * name) for the Add and "fused" for the activation. */
bool em_matmul_bias_then_ok(em_op_ctx* add, const em_node* act);

#endif
