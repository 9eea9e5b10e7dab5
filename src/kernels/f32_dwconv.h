/* F32 depthwise 2-D convolution (one filter per channel, channel multiplier 1),
 * planar NCHW: the reference, the packing helper the SIMD kernels share and the
 * kernels the tables of dispatch.h pick among (see ember_f32_dwconv_fn there).
 *
 * How the SIMD kernels work: each channel plane is first copied into scratch
 * with its zero padding made explicit and, for a column stride s > 1, its
 * columns split into s phases (phase p holds padded columns p, p + s, ...), so
 * that every tap of a row of outputs is a contiguous, unaligned vector load:
 *     output column j, tap t  ->  phase t % s, element j + t / s.
 * Rows are over-allocated to a whole number of vectors, so the inner loop never
 * tests a bound; the last vector of an output row is stored under a mask. */
#ifndef EMBER_KERNELS_F32_DWCONV_H
#define EMBER_KERNELS_F32_DWCONV_H

#include <stddef.h>

#include "dispatch.h"

/* The ground truth: direct loops with bound checks, any geometry, no scratch. */
void ember_f32_dwconv_ref(size_t channels, const ember_dwconv_geom* g, const float* x,
                          const float* w, const float* bias, float* y);

/* Scratch bytes a kernel of `lanes` floats a vector needs for geometry g
 * (the padded, phase-split plane of one channel). */
size_t ember_f32_dwconv_scratch_size(size_t lanes, const ember_dwconv_geom* g);

/* Layout of the packed plane: phase width pw, row stride rs (= sw * pw) and
 * number of padded rows, all in floats. */
typedef struct ember_dwconv_packed {
    size_t pw, rs, rows;
} ember_dwconv_packed;
ember_dwconv_packed ember_f32_dwconv_layout(size_t lanes, const ember_dwconv_geom* g);

/* Packs one channel plane x (ih x iw) into buf with layout l (see above).
 * borders == 0 writes only the image's part: for the next channel of the same
 * geometry in the same buffer, whose zeros are already in place. */
void ember_f32_dwconv_pack(const ember_dwconv_geom* g, const ember_dwconv_packed* l,
                           const float* x, float* buf, int borders);

/* ---- kernels (see ember_f32_dwconv_fn) ---- */
void ember_f32_dwconv__scalar(size_t channels, const ember_dwconv_geom* g, const float* x,
                              const float* w, const float* bias, float* y, void* scratch);
#if defined(__x86_64__)
void ember_f32_dwconv__avx2(size_t channels, const ember_dwconv_geom* g, const float* x,
                            const float* w, const float* bias, float* y, void* scratch);
void ember_f32_dwconv__avx512(size_t channels, const ember_dwconv_geom* g, const float* x,
                              const float* w, const float* bias, float* y, void* scratch);
/* channel-blocked (see ember_f32_dwconv_blocked_fn): blocks of 8 and 16 channels */
void ember_f32_dwconv_blocked__avx2(const ember_dwconv_geom* g, const float* x, const float* w,
                                    const float* bias, float* y);
void ember_f32_dwconv_blocked__avx512(const ember_dwconv_geom* g, const float* x,
                                      const float* w, const float* bias, float* y);
/* the layout changes around them (ember_f32_dwconv_gather_fn / _scatter_fn) */
void ember_f32_dwconv_gather__avx2(size_t nb, size_t n, const float* x, size_t stride, float* xb);
void ember_f32_dwconv_scatter__avx2(size_t nb, size_t n, const float* yb, float* y, size_t stride);
void ember_f32_dwconv_gather__avx512(size_t nb, size_t n, const float* x, size_t stride,
                                     float* xb);
void ember_f32_dwconv_scatter__avx512(size_t nb, size_t n, const float* yb, float* y,
                                      size_t stride);
#endif
#if defined(__aarch64__)
void ember_f32_dwconv__neon(size_t channels, const ember_dwconv_geom* g, const float* x,
                            const float* w, const float* bias, float* y, void* scratch);
#endif

#endif
