/* Operators of the tensor group. */
#include <stddef.h>

#include "../../op.h"

extern const em_op_def em_op_concat;
extern const em_op_def em_op_expand;
extern const em_op_def em_op_flatten;
extern const em_op_def em_op_gather;
extern const em_op_def em_op_identity;
extern const em_op_def em_op_pad;
extern const em_op_def em_op_reshape;
extern const em_op_def em_op_slice;
extern const em_op_def em_op_split;
extern const em_op_def em_op_squeeze;
extern const em_op_def em_op_transpose;
extern const em_op_def em_op_unsqueeze;

const em_op_def* const em_ops_tensor[] = {
    &em_op_concat,
    &em_op_expand,
    &em_op_flatten,
    &em_op_gather,
    &em_op_identity,
    &em_op_pad,
    &em_op_reshape,
    &em_op_slice,
    &em_op_split,
    &em_op_squeeze,
    &em_op_transpose,
    &em_op_unsqueeze,
    NULL,
};
