/* Portable C reference kernels of the data-movement operators (Transpose,
 * Slice, Expand, Concat, Split, Pad, Gather, Reshape and friends).
 *
 * They work on any dtype: elements are elem_size bytes (1, 2, 4 or 8; any
 * other size works too, byte by byte). They know nothing of tensors or nodes:
 * only pointers, sizes and strides. Strides are in elements and may be
 * negative (a reversed slice) or zero (a broadcast read). Ranks are at most
 * EMBER_COPY_MAX_RANK. The caller guarantees every address read or written is
 * inside its buffer; the kernels check nothing and never allocate. */
#ifndef EMBER_KERNELS_GENERIC_TENSOR_REF_H
#define EMBER_KERNELS_GENERIC_TENSOR_REF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define EMBER_COPY_MAX_RANK 8

/* For every index i of the box dims[0..rank) (rank 0: one element),
 *     dst[sum i[d] * dst_strides[d]] = src[sum i[d] * src_strides[d]].
 * Dims of size 1 are dropped and contiguous dims merged, so a contiguous copy
 * becomes one memcpy. A box with a zero dim copies nothing. */
void ember_copy_nd_ref(void* dst, const int64_t* dst_strides, const void* src,
                       const int64_t* src_strides, const int64_t* dims, int rank,
                       size_t elem_size);

/* ember_copy_nd_ref with a 2-D f32 transpose for the 4-byte copies that swap
 * the contiguous axis (the contract of f32_transpose.h's kernels: y[j * ldy + i]
 * = x[i * ldx + j], i < rows, j < cols; a dispatch table's f32_transpose2d),
 * NULL: the portable tiles. The same bytes either way; true when tr ran. */
typedef void (*ember_copy_transpose_fn)(size_t rows, size_t cols, const float* x, size_t ldx,
                                        float* y, size_t ldy);
bool ember_copy_nd(void* dst, const int64_t* dst_strides, const void* src,
                   const int64_t* src_strides, const int64_t* dims, int rank, size_t elem_size,
                   ember_copy_transpose_fn tr);

/* Contiguous strides (in elements) of a row-major array of dims. */
void ember_contiguous_strides(const int64_t* dims, int rank, int64_t* strides);

/* out[i0..i{r-1}] = in[j] where j[perm[d]] = i[d]: out has dims in_dims[perm[d]],
 * both arrays contiguous. perm must be a permutation of 0..rank-1. */
void ember_transpose_ref(void* dst, const void* src, const int64_t* in_dims, const int32_t* perm,
                         int rank, size_t elem_size);
/* ember_transpose's copy as ember_copy_nd's arguments: out_dims[d] =
 * in_dims[perm[d]], src_strides[d] the input's stride along axis perm[d],
 * dst_strides the output's contiguous ones. */
void ember_transpose_strides(const int64_t* in_dims, const int32_t* perm, int rank,
                             int64_t* out_dims, int64_t* src_strides, int64_t* dst_strides);
/* The same with tr for the 2-D transposes (ember_copy_nd); true when tr ran. */
bool ember_transpose(void* dst, const void* src, const int64_t* in_dims, const int32_t* perm,
                     int rank, size_t elem_size, ember_copy_transpose_fn tr);

/* rows rows of row_bytes bytes: row r of dst (at r * dst_pitch bytes) gets
 * row r of src (at r * src_pitch bytes). Concat and Split are this with
 * pitches set to the (axis dim x inner) block of each side. */
void ember_copy_rows_ref(void* dst, size_t dst_pitch, const void* src, size_t src_pitch,
                         size_t rows, size_t row_bytes);

/* Gather along an axis. src is [outer, axis_dim, row]; dst is [outer, n_idx, row]
 * with row = row_bytes bytes. indices are int64 (idx64) or int32, in
 * [-axis_dim, axis_dim): negative ones count from the end. */
void ember_gather_ref(void* dst, const void* src, size_t outer, int64_t axis_dim,
                      size_t row_bytes, const void* indices, size_t n_idx, bool idx64);

/* Returns true if every index is in [-axis_dim, axis_dim); otherwise false with
 * the position and value of the first bad one. */
bool ember_gather_check_ref(const void* indices, size_t n_idx, bool idx64, int64_t axis_dim,
                            size_t* bad_pos, int64_t* bad_value);

enum ember_pad_mode {
    EMBER_PAD_CONSTANT = 0, /* outside the input: value */
    EMBER_PAD_REFLECT = 1,  /* mirror without repeating the edge: 2 1 | 0 1 2 | 1 0 */
    EMBER_PAD_EDGE = 2,     /* repeat the edge: 0 0 | 0 1 2 | 2 2 */
    EMBER_PAD_WRAP = 3      /* periodic: 1 2 | 0 1 2 | 0 1 */
};

/* Pads (or crops, where pad_begin is negative) a contiguous array of in_dims
 * into a contiguous array of out_dims: output index o along dim d reads input
 * index o - pad_begin[d], mapped into range by the mode. value (elem_size
 * bytes) is used by EMBER_PAD_CONSTANT only. For the other modes every input
 * dim that the output reaches outside of must be at least 1. rank 0 copies
 * one element. */
void ember_pad_ref(void* dst, const void* src, size_t elem_size, int rank, const int64_t* in_dims,
                   const int64_t* out_dims, const int64_t* pad_begin, enum ember_pad_mode mode,
                   const void* value);

#endif
