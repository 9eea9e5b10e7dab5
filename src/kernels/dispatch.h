/* Kernel dispatch: tables of function pointers and tile sizes, one per ISA path,
 * chosen once from the CPU detection. Operators take a table from here and call
 * through it; they never name an ISA or a kernel.
 *
 * EMBER_ISA=generic|avx2|avx512|neon (read once, at the first call) forces a
 * path. If this CPU or build cannot run it, the best available path is used and
 * ember_kernels_note() says why. */
#ifndef EMBER_KERNELS_DISPATCH_H
#define EMBER_KERNELS_DISPATCH_H

#include <stddef.h>
#include <stdint.h>

/* F32 GEMM micro-kernel. a: kc steps of one packed A panel (mr floats a step),
 * b: kc steps of one packed B panel (nr floats a step); with
 *     acc[i][j] = sum_p a[p * mr + i] * b[p * nr + j]
 * it writes C[i][j] = c[i * ldc + j] for i < m <= mr, j < n <= nr:
 *     beta == 0: C = acc (C is not read);  beta == 1: C += acc;  else C = beta * C + acc.
 * kc may be 0 (acc = 0). Nothing outside the m x n tile is read or written. */
typedef void (*ember_f32_gemm_ukernel_fn)(size_t m, size_t n, size_t kc, const float* a,
                                          const float* b, float beta, float* c, size_t ldc);

/* The activations a micro-kernel's epilogue applies after the clamp. Each is
 * the formula of the table's elementwise kernel of the same name
 * (f32_elementwise.unary[EMBER_VOP_SIGMOID / _HARD_SWISH / _SILU / _GELU]), so a tile
 * activated in registers holds the bits that kernel gives on the stored tile. */
typedef enum ember_f32_gemm_act {
    EMBER_GEMM_ACT_NONE = 0,
    EMBER_GEMM_ACT_SIGMOID = 1,
    EMBER_GEMM_ACT_HARD_SWISH = 2,
    EMBER_GEMM_ACT_SILU = 3, /* x * sigmoid(x) */
    EMBER_GEMM_ACT_GELU = 4, /* x Phi(x), the erf form (ONNX Gelu, approximate "none") */
    EMBER_GEMM_ACT_COUNT = 5
} ember_f32_gemm_act;

/* The output pass a micro-kernel can apply in registers as it stores a tile:
 *     C[i][j] = min(hi, max(lo, (C[i][j] + col_bias[j]) + bias[i]))
 * (col_bias / bias NULL: that term is not added; col_bias: a MatMul's or a
 * Gemm's bias vector, bias: a convolution's, one value an output channel)
 * with max(l, v) = l > v ? l : v and min(h, v) = h < v ? h : v, so NaN stays
 * (the reference Clip's formulas), then + 0.0f when zero_plus (Relu: -0 -> +0),
 * then C[i][j] = act(C[i][j]). */
typedef struct ember_f32_gemm_epilogue {
    const float* bias;
    const float* col_bias; /* the tile's first column's */
    float lo, hi;
    int zero_plus;
    ember_f32_gemm_act act;
    /* The blocked 1x1 kernels only (ember_f32_conv1x1_blocked_fn; NULL for
     * every other kernel): a tensor laid out as y, added after the biases and
     * before the clamp, resid[e] to the output element y[e] (e counted from
     * the kernel's y): a residual Add fused into the convolution before it,
     * the same float addition the Add would do. */
    const float* resid;
} ember_f32_gemm_epilogue;
/* A micro-kernel as ember_f32_gemm_ukernel_fn that then applies ep to the tile
 * (bias + row i of the tile is bias[i]), every activation of ember_f32_gemm_act
 * included, to partial tiles as to whole ones. */
typedef void (*ember_f32_gemm_ukernel_ep_fn)(size_t m, size_t n, size_t kc, const float* a,
                                             const float* b, float beta, float* c, size_t ldc,
                                             const ember_f32_gemm_epilogue* ep);

/* Packs an m x kc block of alpha * A (A[i][p] at a[i * rs + p * cs]) into
 * ceil(m / mr) panels of kc * mr floats: panel q holds rows q * mr .. q * mr + mr - 1
 * at dst[q * kc * mr + p * mr + i]; rows past m are zero. */
typedef void (*ember_f32_pack_a_fn)(size_t mr, size_t m, size_t kc, float alpha, const float* a,
                                    size_t rs, size_t cs, float* dst);
/* Packs a kc x n block of B (B[p][j] at b[p * rs + j * cs]) into ceil(n / nr)
 * panels of kc * nr floats: dst[q * kc * nr + p * nr + j]; columns past n are zero. */
typedef void (*ember_f32_pack_b_fn)(size_t nr, size_t n, size_t kc, const float* b, size_t rs,
                                    size_t cs, float* dst);

/* F32 matrix-vector products (GEMM with M == 1 or N == 1), streaming the matrix once:
 *   gemv_n: y[j] = sum_p x[p] * b[p * ldb + j]      (j < n, p < k; B's rows contiguous,
 *           or one packed B / A panel with ldb = nr / mr)
 *   gemv_t: y[i] = sum_p a[i * lda + p] * x[p]      (i < m, p < k; A's rows contiguous)
 * then beta == 0: y = acc (y is not read); beta == 1: y += acc; else y = beta * y + acc.
 * k may be 0. Nothing outside y[0 .. n) (or [0 .. m)) is written. */
typedef void (*ember_f32_gemv_n_fn)(size_t n, size_t k, const float* x, const float* b, size_t ldb,
                                    float beta, float* y);
typedef void (*ember_f32_gemv_t_fn)(size_t m, size_t k, const float* a, size_t lda, const float* x,
                                    float beta, float* y);

/* The same micro-kernel reading B in place instead of from a packed panel:
 * step p of B is the nr floats at b + boff[p] (a direct convolution's image
 * rows, f32_conv_rows.h), nr of them read whatever n is. Each C element is the
 * packed kernel's FMA chain on the same values, so the tile has the same bits.
 * ep: as the epilogue entry's, only on tables that have one (else NULL). */
typedef void (*ember_f32_gemm_ukernel_rows_fn)(size_t m, size_t n, size_t kc, const float* a,
                                               const float* b, const int32_t* boff, float beta,
                                               float* c, size_t ldc,
                                               const ember_f32_gemm_epilogue* ep);

typedef struct ember_f32_gemm_config {
    ember_f32_gemm_ukernel_fn ukernel;
    ember_f32_gemm_ukernel_ep_fn ukernel_ep; /* NULL: ukernel, then ember_f32_gemm_epilogue_tile */
    ember_f32_gemm_ukernel_rows_fn ukernel_rows; /* NULL: no direct convolution on this path */
    ember_f32_pack_a_fn pack_a;
    ember_f32_pack_b_fn pack_b;
    uint32_t mr, nr;       /* register tile */
    uint32_t kc, mc, nc;   /* cache blocks: mc a multiple of mr, nc of nr */
} ember_f32_gemm_config;

/* F32 depthwise 2-D convolution, planar (NCHW), channel multiplier 1: for
 * c < channels, i < oh, j < ow (positions outside the ih x iw image read 0)
 *     y[c][i][j] = bias[c] + sum_{u < kh, t < kw} w[c][u][t] * x[c][i * sh + u - pad_top][j * sw + t - pad_left]
 * x: channels x ih x iw, w: channels x kh x kw, y: channels x oh x ow, bias may be
 * NULL (0). scratch: ember_f32_dwconv_scratch_size(lanes, g) bytes (f32_dwconv.h),
 * with the lanes of the table that gave the kernel. Any geometry with every
 * size >= 1; dilation 1. */
typedef struct ember_dwconv_geom {
    size_t ih, iw, oh, ow;
    size_t kh, kw, sh, sw;
    size_t pad_top, pad_left;
} ember_dwconv_geom;
typedef void (*ember_f32_dwconv_fn)(size_t channels, const ember_dwconv_geom* g, const float* x,
                                    const float* w, const float* bias, float* y, void* scratch);

/* The same convolution on one block of `block` channels, channel-blocked:
 * x: ih x iw x block, w: (kh * kw) x block, bias: block floats (NULL: 0),
 * y: oh x ow x block (element [i][j][l] at (i * ow + j) * block + l). Any
 * geometry as above; pads are bounds on the taps (no scratch). Each output is
 * the reference's sum in its order (bias, then taps (u, t) row-major, multiply
 * then add): bit-identical to ember_f32_dwconv_ref. */
typedef void (*ember_f32_dwconv_blocked_fn)(const ember_dwconv_geom* g, const float* x,
                                            const float* w, const float* bias, float* y);

/* The layout changes around `blocked`, L = block: gather packs nb <= L channel
 * planes (channel l at x + l * stride) into n positions of L channels,
 * xb[p * L + l] = x[l * stride + p] for p < n, l < nb, and 0 for nb <= l < L;
 * scatter writes back the first nb channels of n positions,
 * y[l * stride + p] = yb[p * L + l] for p < n, l < nb. Any n >= 0; plain copies,
 * so exact. */
typedef void (*ember_f32_dwconv_gather_fn)(size_t nb, size_t n, const float* x, size_t stride,
                                           float* xb);
typedef void (*ember_f32_dwconv_scatter_fn)(size_t nb, size_t n, const float* yb, float* y,
                                            size_t stride);

typedef struct ember_f32_dwconv_config {
    ember_f32_dwconv_fn run;
    uint32_t lanes;        /* floats a vector; 0: the kernel needs no scratch */
    ember_f32_dwconv_blocked_fn blocked; /* NULL: planar only */
    uint32_t block;        /* channels a block of `blocked`; 0 with it NULL */
    ember_f32_dwconv_gather_fn gather;   /* with blocked: its layout change in */
    ember_f32_dwconv_scatter_fn scatter; /* and out (the blocked path needs all three) */
} ember_f32_dwconv_config;

/* F32 1x1 convolution (stride 1, no padding, one group) on channel-blocked
 * activations, blocks of L = f32_dwconv.block channels (NCHWc): input channel
 * p at position j is x[(p / L) * n * L + j * L + p % L], output channel i at
 * y[(i / L) * n * L + j * L + i % L]. w: the weights packed by
 * ember_f32_conv1x1_blocked_pack (f32_conv1x1_blocked.h), panels q of 2L
 * output channels. Writes positions [j0, j1) of the output blocks of panels
 * [q0, q1), every lane: those of channels >= m are 0. Each output is the
 * GEMM's value for the same operands: per K block of kc steps (the split of
 * ember_f32_gemm_kc) one FMA chain over p from 0, each later block's chain
 * added to the total before it (C += block), then ep (NULL: none) as the GEMM
 * epilogue applies it, its resid included. So the values equal the NCHW
 * path's bit for bit (and, with resid, the unfused Add's). */
typedef void (*ember_f32_conv1x1_blocked_fn)(size_t m, size_t k, size_t n, size_t kc,
                                             const float* x, const float* w, float* y,
                                             const ember_f32_gemm_epilogue* ep, size_t j0,
                                             size_t j1, size_t q0, size_t q1);

/* The same products for `count` positions from x's position 0 (x: a
 * position of the input, its blocks n positions apart) written to y from its
 * position 0, y's blocks ny positions apart: a band of an image into a
 * buffer of its own. The same values as ember_f32_conv1x1_blocked_fn. */
typedef void (*ember_f32_conv1x1_blocked_band_fn)(size_t m, size_t k, size_t n, size_t kc,
                                                  const float* x, const float* w, float* y,
                                                  size_t ny, const ember_f32_gemm_epilogue* ep,
                                                  size_t count, size_t q0, size_t q1);

/* The direct convolution of f32_conv_rows.h (one K block: k <= the table's
 * kc) into the blocked layout, `count` positions of one output row: step p
 * of position i reads x[boff[p] + i] (x: the row's first position in the
 * padded copy), the weights w as ember_f32_conv1x1_blocked_pack packs the
 * m x k matrix, y: the first position in block 0, blocks ny positions apart
 * (every lane written, 0 past m). Each output is the one FMA chain over p of
 * the plain direct convolution, then ep: its bits. */
typedef void (*ember_f32_conv_rows_blocked_fn)(size_t m, size_t k, const float* x,
                                               const int32_t* boff, size_t count, size_t ny,
                                               const float* w, float* y,
                                               const ember_f32_gemm_epilogue* ep);

/* Vectorised f32 elementwise kernels (f32_vunary.h): y[i] = op(x[i]) for i < n;
 * y may be x. alpha, beta: CLAMP's min and max, HARD_SIGMOID's alpha * x + beta,
 * LEAKY_RELU's slope (alpha); ignored by the others. */
typedef enum ember_f32_vop {
    EMBER_VOP_RELU = 0,
    EMBER_VOP_CLAMP = 1,
    EMBER_VOP_SIGMOID = 2,
    EMBER_VOP_TANH = 3,
    EMBER_VOP_HARD_SIGMOID = 4,
    EMBER_VOP_HARD_SWISH = 5,
    EMBER_VOP_EXP = 6,
    EMBER_VOP_ERF = 7,
    EMBER_VOP_GELU = 8,
    EMBER_VOP_GELU_TANH = 9,
    EMBER_VOP_LEAKY_RELU = 10,
    EMBER_VOP_SILU = 11,        /* x * sigmoid(x), one pass */
    EMBER_VOP_COUNT = 12
} ember_f32_vop;
typedef void (*ember_f32_vunary_fn)(size_t n, const float* x, float* y, float alpha, float beta);
/* y[i] = a[i] op b[i] (shape 0), a[i] op b[0] (1), a[0] op b[i] (2), i < n; y may be
 * an operand read as a vector. */
typedef void (*ember_f32_vbinary_fn)(size_t n, const float* a, const float* b, float* y);
typedef struct ember_f32_elementwise_config {
    ember_f32_vunary_fn unary[EMBER_VOP_COUNT];
    ember_f32_vbinary_fn binary[4][3]; /* [add, sub, mul, div][shape] */
} ember_f32_elementwise_config;

/* Softmax / log-softmax along the middle axis of outer x n x inner floats (rows
 * of n contiguous floats when inner == 1); y may be x. Semantics and error
 * bounds: f32_rowwise.h. */
typedef void (*ember_f32_softmax_fn)(size_t outer, size_t n, size_t inner, const float* x,
                                     float* y);
typedef struct ember_f32_softmax_config {
    ember_f32_softmax_fn softmax;
    ember_f32_softmax_fn log_softmax;
} ember_f32_softmax_config;
/* Layer normalization of rows rows of cols floats: y = (x - mean) * inv_std_dev *
 * scale[j] + bias[j] (bias may be NULL: 0), inv_std_dev = 1 / sqrt(var + eps)
 * with the biased variance; mean and inv_std_dev (each may be NULL) receive one
 * value a row. y may be x. */
typedef void (*ember_f32_layernorm_fn)(size_t rows, size_t cols, const float* x,
                                       const float* scale, const float* bias, float eps, float* y,
                                       float* mean, float* inv_std_dev);

/* F32 Winograd F(4x4, 3x3) tile transforms (f32_winograd.h), ntx <= EMBER_WINO_TILES
 * tiles of one channel a call, rows of rowlen tiles stacked: tile j sits at
 * tile row j / rowlen, column j % rowlen, i.e. its 6x6 input patch has its
 * top-left at (y0 + 4 (j / rowlen), x0 + 4 (j % rowlen)) of the input plane and
 * its 4x4 outputs at the same offsets from (y0, x0) of the output plane.
 *   input:  reads the ih x iw plane x (positions outside it read 0); writes
 *           element p (< 36) of V = B^T d B to v[p * vs + j], j < ntx.
 *   output: reads element p of tile j's M at m[p * ms + j] (j < EMBER_WINO_TILES:
 *           the tiles past ntx are read and ignored, the caller keeps them
 *           readable), writes Y = A^T M A + bias to the oh x ow plane y, clipped
 *           to it (y0 < oh, x0 < ow); then, ep not NULL, ep's clamp and + 0 (its
 *           lo, hi and zero_plus, the GEMM epilogue's formulas: a fused Relu or
 *           Clip, the bits of the elementwise pass; its other fields unused). */
typedef void (*ember_f32_wino_input_fn)(const float* x, size_t ih, size_t iw, ptrdiff_t y0,
                                        ptrdiff_t x0, size_t ntx, size_t rowlen, float* v,
                                        size_t vs);
typedef void (*ember_f32_wino_output_fn)(const float* m, size_t ms, size_t ntx, size_t rowlen,
                                         float bias, const ember_f32_gemm_epilogue* ep, float* y,
                                         size_t oh, size_t ow, size_t y0, size_t x0);
typedef struct ember_f32_winograd_config {
    ember_f32_wino_input_fn input;
    ember_f32_wino_output_fn output;
} ember_f32_winograd_config;

/* Implicit im2col packing of a convolution's B operand (f32_im2col_pack.h). */
struct ember_window;
typedef void (*ember_f32_im2col_pack_fn)(const struct ember_window* w, const float* x, size_t nr,
                                         size_t p0, size_t kc, size_t j0, size_t n, float* dst);

/* 2-D max pooling (f32_pool2d.h: ember_f32_maxpool2d's contract, windows
 * ember_f32_pool2d_applies takes); every path gives the portable one's bits. */
struct ember_window;
typedef void (*ember_f32_maxpool2d_fn)(size_t planes, const struct ember_window* w, const float* x,
                                       float* y);

/* 2-D f32 transpose (f32_transpose.h): y[j * ldy + i] = x[i * ldx + j],
 * i < rows, j < cols; the reference's bits on every path. */
typedef void (*ember_f32_transpose2d_fn)(size_t rows, size_t cols, const float* x, size_t ldx,
                                         float* y, size_t ldy);

typedef struct ember_kernels {
    const char* isa;       /* "generic", "avx2", "avx512", "neon" */
    ember_f32_gemm_config f32_gemm;
    ember_f32_dwconv_config f32_dwconv;
    ember_f32_gemv_n_fn f32_gemv_n;
    ember_f32_gemv_t_fn f32_gemv_t;
    ember_f32_elementwise_config f32_elementwise;
    ember_f32_winograd_config f32_winograd;
    ember_f32_softmax_config f32_softmax;
    ember_f32_layernorm_fn f32_layernorm;
    ember_f32_im2col_pack_fn f32_im2col_pack_b;
    /* NULL: this path has no channel-blocked (NCHWc) convolution path; else the
     * blocked 1x1 kernel, blocks of f32_dwconv.block channels (the table then
     * has f32_dwconv.blocked, gather and scatter too) */
    ember_f32_conv1x1_blocked_fn f32_conv1x1_blocked;
    ember_f32_conv1x1_blocked_band_fn f32_conv1x1_blocked_band; /* with it */
    ember_f32_conv_rows_blocked_fn f32_conv_rows_blocked; /* with it; NULL: none */
    ember_f32_maxpool2d_fn f32_maxpool2d;
    /* the same pool on one NCHW16c plane (f32_pool2d.h); NULL: none */
    void (*f32_maxpool2d_c16)(const struct ember_window* w, const float* x, float* y);
    /* GlobalAveragePool of NCHW16c blocks (f32_pool2d.h), the path's build;
     * NULL: the portable ember_f32_global_avgpool_blocked */
    void (*f32_global_avgpool_c16)(size_t blocks, size_t size, const float* x, float* y);
    ember_f32_transpose2d_fn f32_transpose2d;
} ember_kernels;

/* The table the runtime uses: the best path of this CPU, or the one EMBER_ISA
 * forces. Never NULL; the same table for the life of the process. */
const ember_kernels* ember_kernels_default(void);

/* NULL: the default table. Otherwise the table of the named ISA path if this
 * build and CPU can run it, else NULL (for tests and benchmarks). */
const ember_kernels* ember_kernels_for(const char* isa_or_null);

/* Why the default differs from what EMBER_ISA asked for; "" when it does not. */
const char* ember_kernels_note(void);

#endif
