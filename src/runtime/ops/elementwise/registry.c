/* Operators of the elementwise group. */
#include <stddef.h>

#include "../../op.h"

const em_op_def* const em_ops_elementwise[] = {
    NULL,
};
