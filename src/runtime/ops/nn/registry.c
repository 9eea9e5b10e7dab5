/* Operators of the nn group. */
#include <stddef.h>

#include "../../op.h"

extern const em_op_def em_op_conv;
extern const em_op_def em_op_conv_transpose;
extern const em_op_def em_op_gemm;
extern const em_op_def em_op_matmul;
extern const em_op_def em_op_max_pool;
extern const em_op_def em_op_average_pool;
extern const em_op_def em_op_global_average_pool;
extern const em_op_def em_op_global_max_pool;
extern const em_op_def em_op_batch_normalization;
extern const em_op_def em_op_instance_normalization;
extern const em_op_def em_op_layer_normalization;
extern const em_op_def em_op_softmax;
extern const em_op_def em_op_log_softmax;
extern const em_op_def em_op_resize;
extern const em_op_def em_op_attention;

const em_op_def* const em_ops_nn[] = {
    &em_op_conv,
    &em_op_conv_transpose,
    &em_op_gemm,
    &em_op_matmul,
    &em_op_max_pool,
    &em_op_average_pool,
    &em_op_global_average_pool,
    &em_op_global_max_pool,
    &em_op_batch_normalization,
    &em_op_instance_normalization,
    &em_op_layer_normalization,
    &em_op_softmax,
    &em_op_log_softmax,
    &em_op_resize,
    &em_op_attention,
    NULL,
};
