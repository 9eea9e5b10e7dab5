/* Helpers shared by the elementwise operators (private to this folder).
 *
 * Broadcasting is turned into rows: the output is walked as `rows` runs of
 * `inner` contiguous elements, and each operand advances by 0 or 1 along a run,
 * so that the kernels see only contiguous or repeated operands. Dims of size 1
 * are dropped and neighbouring dims that every operand walks the same way are
 * merged first, so a same-shape operation is one row and [3,1] + [1,4] is three
 * rows of four. */
#ifndef EMBER_OPS_ELEMENTWISE_COMMON_H
#define EMBER_OPS_ELEMENTWISE_COMMON_H

#include "../../op.h"
#include "generic/elementwise_ref.h"

#define EW_MAX_OPERANDS 3

typedef struct ew_rows {
    uint32_t n;                                  /* operands */
    int32_t rank;                                /* outer dims left after merging */
    int64_t dims[EMBER_MAX_RANK];
    int64_t strides[EW_MAX_OPERANDS][EMBER_MAX_RANK];
    size_t rows;                                 /* product of dims (0 if the output is empty) */
    size_t inner;                                /* elements per row */
    size_t inc[EW_MAX_OPERANDS];                 /* 0 or 1 */
    /* walking state */
    int64_t idx[EMBER_MAX_RANK];
    size_t off[EW_MAX_OPERANDS];                 /* element offset of each operand's row */
} ew_rows;

/* Plans the walk of operands in[0..n) broadcast to out (n <= EW_MAX_OPERANDS). */
void ew_rows_init(ew_rows* r, uint32_t n, const em_shape* const* in, const em_shape* out);
/* Moves r->off to the next row. */
void ew_rows_next(ew_rows* r);

/* Broadcasts inputs first..first+n-1 into *out (all must be present). */
ember_status ew_broadcast_inputs(em_op_ctx* ctx, uint32_t first, uint32_t n, em_shape* out);

/* Fails naming the op's accepted dtypes unless input i's dtype is one of mask
 * (bit 1 << dtype); what names the list ("f32, i32 or i64"). */
ember_status ew_expect_dtypes(em_op_ctx* ctx, uint32_t i, uint32_t mask, const char* what);

#define EW_DT(t) (1u << (t))

#endif
