/* A stem convolution (the direct kernel of f32_conv_rows.h: few input
 * channels, packed weights, one image) and the MaxPool that alone reads its
 * output (squeezenet1_1 and resnet18: 3x3/2 and 7x7/2 stems, then a 3x3/2
 * pool), run by the MaxPool node a band of pooled rows at a time: the
 * convolution's rows the band's windows read go to the thread's scratch, the
 * pool reduces them straight into its output. The convolution's output (3 MB
 * for both stems) never leaves L2; unfused it is written to memory and read
 * back. Each thread takes a run of bands and copies the rows two bands share
 * from the previous band's buffer. The values are the unfused ones bit for
 * bit (the same micro-kernel chains; max is exact). Taken where the
 * convolution's output is at least a few MB (measured, conv_maxpool.c).
 * Where the path has the blocked stem and pool kernels, a band's rows are
 * computed in NCHW16c (whole 16 / 32-channel tiles instead of 12-row panels),
 * pooled a block of 16 channels at a time and written back planar: the
 * profile says "direct conv+maxpool nchw16c"; the same bits. */
#ifndef EMBER_OPS_NN_CONV_MAXPOOL_H
#define EMBER_OPS_NN_CONV_MAXPOOL_H

#include <stdbool.h>
#include <stddef.h>

#include "generic/nn_ref.h"
#include "op.h"

/* conv.c: whether the Conv node of ctx runs the direct kernel on one image
 * and group with constant weights, and its channels, output channels, window. */
bool em_conv_rows_geometry(em_op_ctx* ctx, size_t* channels, size_t* m, ember_window* w);
/* conv.c: the direct kernel's scratch made ready for image x (channels of one
 * group, window w): the step offsets, then the padded copy filled by row
 * ranges as `tasks` tasks on pool's threads. */
struct em_pool;
void em_conv_rows_prepare(struct em_pool* pool, size_t tasks, size_t channels,
                          const ember_window* w, const float* x, void* scratch);

/* MaxPool's absorb_scratch for a Conv producer, given the pool's window
 * (pool): the scratch bytes, or 0 when the pair does not fuse. */
size_t em_conv_maxpool_scratch(em_op_ctx* conv, const ember_window* pool, size_t threads);

/* The MaxPool node (ctx, with ctx->producer the Conv) doing both. */
ember_status em_conv_maxpool_run(em_op_ctx* ctx, const ember_window* pool);

#endif
