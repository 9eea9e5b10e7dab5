/* Operators of the tensor group. */
#include <stddef.h>

#include "../../op.h"

const em_op_def* const em_ops_tensor[] = {
    NULL,
};
