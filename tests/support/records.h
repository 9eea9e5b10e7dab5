/* Reader for the raw tensor-record files the test-model scripts write
 * (the .input.bin and .expected.bin files in tests/models): repeated
 * [u32 name_len][name][u32 dtype][u32 rank][i64 dims[rank]][data]. */
#ifndef EMBER_TEST_RECORDS_H
#define EMBER_TEST_RECORDS_H

#include <stddef.h>
#include <stdint.h>

#include "ember.h"

typedef struct rec_tensor {
    char name[128];
    ember_dtype dtype;
    uint32_t rank;
    int64_t dims[EMBER_MAX_RANK];
    void* data;
    size_t bytes;
} rec_tensor;

/* Reads every record of path; returns the count (0 on error), *out malloc-ed. */
size_t rec_read(const char* path, rec_tensor** out);
void rec_free(rec_tensor* t, size_t n);
/* Whole file into memory; NULL on error. */
void* rec_slurp(const char* path, size_t* size);

#endif
