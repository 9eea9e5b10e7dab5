/* The unary activations a GEMM's output pass can do in place of their node
 * (em_op_def.then_ok): Relu, Sigmoid, HardSwish and Gelu (approximate "none"),
 * on f32. The output pass computes them with the formulas of the elementwise
 * kernels the node would run (dispatch.h, ember_f32_gemm_act), so a fused
 * output holds the unfused bits. */
#ifndef EMBER_OPS_ELEMENTWISE_UNARY_ACT_H
#define EMBER_OPS_ELEMENTWISE_UNARY_ACT_H

#include <stdbool.h>

#include "../../op.h"
#include "f32_gemm.h"

/* Whether node nd is such an activation; if so, and ex is not NULL, sets ex's
 * clamp, lo, hi, zero_plus and act to do its work. */
bool em_unary_gemm_act(const em_node* nd, ember_f32_gemm_extra* ex);

#endif
