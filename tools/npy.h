/* .npy reader and writer for the ember CLI (NumPy format versions 1.0, 2.0, 3.0).
 * Little-endian, C order only; dtypes f32, f16, i8, u8, i32, i64, bool. Every
 * header field is validated; a malformed file gives a message, never a crash. */
#ifndef EMBER_CLI_NPY_H
#define EMBER_CLI_NPY_H

#include <stdint.h>
#include <stdio.h>

#include <ember.h>

typedef struct npy_file {
    FILE* f;
    ember_dtype dtype;
    int32_t rank;
    int64_t dims[EMBER_MAX_RANK];
    uint64_t count;        /* elements */
    uint64_t data_offset;  /* bytes from the start of the file */
    uint64_t data_bytes;
} npy_file;

/* Opens path and parses its header; on failure writes a one-line message to
 * err and returns -1. */
int npy_open(const char* path, npy_file* out, char* err, size_t err_cap);
void npy_close(npy_file* npy);

/* Reads rows [first, first + n) of the first axis into dst (rank >= 1). */
int npy_read_rows(npy_file* npy, uint64_t first, uint64_t n, void* dst, char* err, size_t err_cap);

/* Reads the whole array into a new malloc-ed buffer (at least 1 byte). */
int npy_read_all(npy_file* npy, void** out, char* err, size_t err_cap);

/* Writes a whole array. */
int npy_write(const char* path, ember_dtype dtype, int32_t rank, const int64_t* dims, const void* data,
              char* err, size_t err_cap);

/* Streaming writer: the first dimension is filled in by npy_writer_finish. */
typedef struct npy_writer {
    FILE* f;
    ember_dtype dtype;
    int32_t rank;
    int64_t dims[EMBER_MAX_RANK];
    uint64_t rows;
    size_t hlen;
} npy_writer;

int npy_writer_open(npy_writer* w, const char* path, ember_dtype dtype, int32_t rank, const int64_t* dims,
                    char* err, size_t err_cap);
int npy_writer_rows(npy_writer* w, const void* data, uint64_t rows, char* err, size_t err_cap);
int npy_writer_finish(npy_writer* w, char* err, size_t err_cap); /* closes the file */
void npy_writer_abort(npy_writer* w);

/* numpy descr of an ember dtype ("<f4", ...), NULL if none. */
const char* npy_descr(ember_dtype dtype);

#endif
