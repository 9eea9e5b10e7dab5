/* Statistics that need the runtime's internals: parameters by dtype and
 * multiply-accumulates per inference from a session's resolved shapes. */
#ifndef EMBER_CLI_MODEL_STATS_H
#define EMBER_CLI_MODEL_STATS_H

#include <stdint.h>

#include <ember.h>

typedef struct model_stats {
    uint64_t params[8];       /* elements of constant tensors, by ember_dtype */
    uint64_t param_bytes[8];
    uint64_t tensors[8];      /* constant tensors, by dtype */
    uint64_t macs;            /* Conv, ConvTranspose, Gemm, MatMul */
    uint64_t arena_bytes;
    size_t n_outputs;         /* resolved graph outputs (at most 32 recorded) */
    ember_dtype out_dtype[32];
    int32_t out_rank[32];
    int64_t out_dims[32][EMBER_MAX_RANK];
} model_stats;

/* The file's pre-packed weights (ember pack): how many nodes have a blob, their
 * bytes, the layout of the first (NULL if none), and whether this machine's
 * default path runs from them (its layout name in default_layout). */
typedef struct packed_stats {
    uint32_t nodes;
    uint64_t bytes;
    const char* layout;
    char default_layout[32];
} packed_stats;
void model_packed_stats(const ember_model* model, packed_stats* out);

/* Fills *out for a session with these options; sets ember_last_error on failure. */
ember_status model_stats_compute(const ember_model* model, const ember_session_options* options, model_stats* out);

#endif
