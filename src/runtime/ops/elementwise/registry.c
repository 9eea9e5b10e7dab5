/* Operators of the elementwise group. */
#include <stddef.h>

#include "../../op.h"

extern const em_op_def em_op_add, em_op_sub, em_op_mul, em_op_div, em_op_pow;
extern const em_op_def em_op_sqrt, em_op_exp, em_op_log, em_op_neg, em_op_abs, em_op_reciprocal,
    em_op_relu, em_op_leaky_relu, em_op_elu, em_op_sigmoid, em_op_tanh, em_op_hard_sigmoid,
    em_op_hard_swish, em_op_gelu, em_op_erf;
extern const em_op_def em_op_clip, em_op_prelu, em_op_where, em_op_cast;
extern const em_op_def em_op_reduce_sum, em_op_reduce_mean, em_op_reduce_max, em_op_argmax;
extern const em_op_def em_op_less, em_op_less_equal, em_op_greater, em_op_greater_equal, em_op_equal,
    em_op_min, em_op_max;

const em_op_def* const em_ops_elementwise[] = {
    &em_op_add, &em_op_sub, &em_op_mul, &em_op_div, &em_op_pow,
    &em_op_sqrt, &em_op_exp, &em_op_log, &em_op_neg, &em_op_abs, &em_op_reciprocal,
    &em_op_relu, &em_op_leaky_relu, &em_op_elu, &em_op_sigmoid, &em_op_tanh,
    &em_op_hard_sigmoid, &em_op_hard_swish, &em_op_gelu, &em_op_erf,
    &em_op_clip, &em_op_prelu, &em_op_where, &em_op_cast,
    &em_op_reduce_sum, &em_op_reduce_mean, &em_op_reduce_max, &em_op_argmax,
    &em_op_less, &em_op_less_equal, &em_op_greater, &em_op_greater_equal, &em_op_equal,
    &em_op_min, &em_op_max,
    NULL,
};
