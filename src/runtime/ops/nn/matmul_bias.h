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

#include <stddef.h>

#include "op.h"

/* For an Add node (add) one of whose inputs is the output of node mm (the
 * em_op_def.absorb_scratch contract): the scratch the fused run needs, or 0
 * when it does not apply (mm not a MatMul, its weight not packed, the other
 * input not a constant f32 vector of the output's last dim, the Add
 * broadcasting the product to a larger shape). */
size_t em_matmul_bias_scratch(em_op_ctx* add, em_op_ctx* mm);

/* The fused run, by the Add node of ctx (ctx->producer: the MatMul). */
ember_status em_matmul_bias_run(em_op_ctx* ctx);

#endif
