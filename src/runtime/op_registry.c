/* The table of supported operators: each group of operators contributes a
 * NULL-terminated list (defined beside its operators). */
#include <string.h>

#include "op.h"

extern const em_op_def* const em_ops_nn[];
extern const em_op_def* const em_ops_elementwise[];
extern const em_op_def* const em_ops_tensor[];

static const em_op_def* const* const groups[] = {em_ops_nn, em_ops_elementwise, em_ops_tensor};

const em_op_def* em_op_find(const char* name) {
    for (size_t g = 0; g < sizeof groups / sizeof groups[0]; g++)
        for (const em_op_def* const* p = groups[g]; *p; p++)
            if (strcmp((*p)->name, name) == 0) return *p;
    return NULL;
}
