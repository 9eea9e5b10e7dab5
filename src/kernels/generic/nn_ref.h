/* Portable C reference kernels of the nn operators (Conv, ConvTranspose, Gemm,
 * MatMul, pooling, normalization, softmax, resize).
 *
 * These are the ground truth that optimized kernels are tested against: clear
 * loops, no intrinsics, f32 in and out. They know nothing of tensors or nodes:
 * only pointers, sizes and strides (in elements). Layouts are row-major;
 * images are planar (channel, then up to three spatial dims, outermost first),
 * and fewer spatial dims are expressed with leading unit dims. */
#ifndef EMBER_KERNELS_GENERIC_NN_REF_H
#define EMBER_KERNELS_GENERIC_NN_REF_H

#include <stddef.h>
#include <stdint.h>

#define EMBER_WINDOW_DIMS 3

/* Geometry of a sliding window over an image (Conv, ConvTranspose, pooling).
 * Output position o along axis a covers image positions
 *     o * stride[a] - pad[a] + t * dilation[a],   t in [0, kernel[a]).
 * Positions outside [0, image[a]) are padding. pad_end is used only by the
 * average pool with count_include_pad. */
typedef struct ember_window {
    size_t image[EMBER_WINDOW_DIMS];
    size_t out[EMBER_WINDOW_DIMS];
    size_t kernel[EMBER_WINDOW_DIMS];
    size_t stride[EMBER_WINDOW_DIMS];
    size_t dilation[EMBER_WINDOW_DIMS];
    ptrdiff_t pad[EMBER_WINDOW_DIMS];     /* begin padding; may be negative (ConvTranspose) */
    ptrdiff_t pad_end[EMBER_WINDOW_DIMS];
} ember_window;

/* C[i][j] = alpha * sum_k A[i][k] * B[k][j] + beta * C[i][j]   (i < m, j < n, k < k)
 * A[i][k] is a[i * a_rs + k * a_cs], B[k][j] is b[k * b_rs + j * b_cs], C[i][j] is
 * c[i * ldc + j]. With beta == 0, C is not read (NaNs in it do not propagate). */
void ember_f32_gemm_ref(size_t m, size_t n, size_t k, float alpha, const float* a, size_t a_rs,
                        size_t a_cs, const float* b, size_t b_rs, size_t b_cs, float beta, float* c,
                        size_t ldc);

/* Unfolds channels planes of an image (channels x image volume) into columns:
 * col has (channels * kernel volume) rows and (out volume) columns; padding reads 0. */
void ember_f32_im2col_ref(size_t channels, const ember_window* w, const float* x, float* col);

/* The adjoint of im2col: adds each column entry into the image position it was
 * read from (entries that fall in the padding are dropped). y is not cleared. */
void ember_f32_col2im_ref(size_t channels, const ember_window* w, const float* col, float* y);

/* Pooling over planes independent planes (image volume in, out volume out each).
 * Max: padding is ignored; a window with no image position gives -inf.
 * Average: divides by the count of image positions, or with count_include_pad
 * by the count of positions inside [-pad, image + pad_end). */
void ember_f32_maxpool_ref(size_t planes, const ember_window* w, const float* x, float* y);
void ember_f32_avgpool_ref(size_t planes, const ember_window* w, int count_include_pad,
                           const float* x, float* y);
/* y[p] = mean / max of x[p * size .. p * size + size). */
void ember_f32_global_avgpool_ref(size_t planes, size_t size, const float* x, float* y);
void ember_f32_global_maxpool_ref(size_t planes, size_t size, const float* x, float* y);

/* x and y are n x c x spatial. y = (x - mean[c]) / sqrt(var[c] + eps) * scale[c] + bias[c]. */
void ember_f32_batchnorm_ref(size_t n, size_t c, size_t spatial, const float* x,
                             const float* scale, const float* bias, const float* mean,
                             const float* var, float eps, float* y);
/* Each (n, c) plane normalized by its own mean and (biased) variance, then
 * scaled by scale[c] and shifted by bias[c]. */
void ember_f32_instancenorm_ref(size_t n, size_t c, size_t spatial, const float* x,
                                const float* scale, const float* bias, float eps, float* y);
/* Each of rows rows of cols elements normalized; then * scale[j] + bias[j]
 * (bias may be NULL). mean and inv_std_dev (rows entries) may be NULL. */
void ember_f32_layernorm_ref(size_t rows, size_t cols, const float* x, const float* scale,
                             const float* bias, float eps, float* y, float* mean,
                             float* inv_std_dev);

/* x and y are outer x n x inner; (log-)softmax along the middle axis. */
void ember_f32_softmax_ref(size_t outer, size_t n, size_t inner, const float* x, float* y);
void ember_f32_log_softmax_ref(size_t outer, size_t n, size_t inner, const float* x, float* y);

/* Resampling along the middle axis of outer x in_n x inner into outer x out_n x inner.
 * Gather: y[o][j][i] = x[o][idx[j]][i].
 * Linear: y[o][j][i] = x[o][i0[j]][i] * (1 - w[j]) + x[o][i1[j]][i] * w[j].
 * Indices must be in [0, in_n). */
void ember_f32_resize_gather_axis_ref(size_t outer, size_t in_n, size_t inner, size_t out_n,
                                      const int64_t* idx, const float* x, float* y);
void ember_f32_resize_linear_axis_ref(size_t outer, size_t in_n, size_t inner, size_t out_n,
                                      const int64_t* i0, const int64_t* i1, const float* w,
                                      const float* x, float* y);

#endif
