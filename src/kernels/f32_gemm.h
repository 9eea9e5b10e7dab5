/* Blocked, packed F32 GEMM driver and the micro-kernels and packing routines
 * it runs on (the tables of dispatch.h pick among them). */
#ifndef EMBER_KERNELS_F32_GEMM_H
#define EMBER_KERNELS_F32_GEMM_H

#include <math.h>
#include <stdbool.h>
#include <stddef.h>

#include "dispatch.h"

struct em_pool;

/* The driver's blocks (f32_gemm.c, f32_gemm_mt.c and the pre-packed layouts):
 * K blocks of at most g->kc, made about equal (no thin last block); N blocks of
 * g->nc columns, more when K is short, so that a B block holds about
 * g->nc * g->kc floats either way (a product with K = 27 is then one block, big
 * enough to share out, instead of six too small to). */
static inline size_t ember_f32_gemm_kc(const ember_f32_gemm_config* g, size_t k) {
    const size_t blocks = (k + g->kc - 1) / g->kc;
    return (k + blocks - 1) / blocks;
}
static inline size_t ember_f32_gemm_nc(const ember_f32_gemm_config* g, size_t kc) {
    if (kc == 0 || kc >= g->kc) return g->nc;
    return g->nc * g->kc / kc / g->nr * g->nr;
}

/* Bytes of workspace ember_f32_gemm needs for these sizes with kernels kern
 * (0 when no packing is needed). The workspace need not be aligned. It also
 * covers ember_f32_gemm_prepacked_a / _b with the same sizes. */
size_t ember_f32_gemm_workspace_size(const ember_kernels* kern, size_t m, size_t n, size_t k);

/* C[i][j] = alpha * sum_p A[i][p] * B[p][j] + beta * C[i][j]   (i < m, j < n, p < k)
 * with the conventions of ember_f32_gemm_ref: A[i][p] = a[i * a_rs + p * a_cs],
 * B[p][j] = b[p * b_rs + j * b_cs], C[i][j] = c[i * ldc + j]; with beta == 0, C is
 * not read. workspace holds ember_f32_gemm_workspace_size(kern, m, n, k) bytes.
 * Never allocates. */
void ember_f32_gemm(const ember_kernels* kern, size_t m, size_t n, size_t k, float alpha,
                    const float* a, size_t a_rs, size_t a_cs, const float* b, size_t b_rs,
                    size_t b_cs, float beta, float* c, size_t ldc, void* workspace);
/* M == 1, or N == 1 with ldc == 1, and an operand with a contiguous direction
 * run as a matrix-vector product (kern->f32_gemv_n / _t) that reads the matrix
 * once; every other case packs as described above. */

/* ---- pre-packed operands: a constant weight packed once, reused by every run ----
 * The whole matrix is packed in the K blocks the driver uses (kc of kern), each
 * block as the panels of pack_a / pack_b, so a run reads the panels in place.
 * The layout depends on kern and the sizes only: pack and run with the same. */

/* Bytes of B (k x n) packed by ember_f32_gemm_pack_b_full (0 if n or k is 0). */
size_t ember_f32_gemm_packed_b_size(const ember_kernels* kern, size_t n, size_t k);
/* Packs B[p][j] = b[p * rs + j * cs] into dst (64-byte aligned, packed_b_size bytes). */
void ember_f32_gemm_pack_b_full(const ember_kernels* kern, size_t n, size_t k, const float* b,
                                size_t rs, size_t cs, float* dst);
/* ember_f32_gemm with B given as bp from ember_f32_gemm_pack_b_full (same kern,
 * n, k). M == 1 streams the panels once (matrix-vector). */
void ember_f32_gemm_prepacked_b(const ember_kernels* kern, size_t m, size_t n, size_t k,
                                float alpha, const float* a, size_t a_rs, size_t a_cs,
                                const float* bp, float beta, float* c, size_t ldc, void* workspace);

/* The matrix-vector product over an operand packed ahead, streaming panels
 * [q0, q1) only: y[i] = beta * y[i] + sum_p x[p] * P[p][i] for the rows i of
 * those panels, where P is len wide, packed in panels r wide (pack_b_full's
 * layout with r = nr and len = n, or pack_a_full's with r = mr and len = m).
 * All panels (q1 = ceil(len / r)) is the whole product; disjoint ranges give
 * the same values as one call, so threads may share the panels out. */
void ember_f32_gemm_gemv_panels(const ember_kernels* kern, size_t len, size_t k, size_t r,
                                const float* x, const float* panels, float beta, float* y,
                                size_t q0, size_t q1);

/* Bytes of alpha * A (m x k) packed by ember_f32_gemm_pack_a_full (0 if m or k is 0). */
size_t ember_f32_gemm_packed_a_size(const ember_kernels* kern, size_t m, size_t k);
/* Packs alpha * A[i][p], A[i][p] = a[i * rs + p * cs], into dst (64-byte aligned). */
void ember_f32_gemm_pack_a_full(const ember_kernels* kern, size_t m, size_t k, float alpha,
                                const float* a, size_t rs, size_t cs, float* dst);
/* Packs rows [i0, i0 + rows) of an m x k matrix into their place in dst, the
 * layout of ember_f32_gemm_pack_a_full: a[r * rs + p * cs] is A[i0 + r][p];
 * i0 a multiple of the table's mr, rows up to m - i0. Packing every row block
 * of a matrix this way gives exactly ember_f32_gemm_pack_a_full's bytes. */
void ember_f32_gemm_pack_a_rows(const ember_kernels* kern, size_t m, size_t k, size_t i0,
                                size_t rows, float alpha, const float* a, size_t rs, size_t cs,
                                float* dst);
/* C = (packed alpha * A) * B + beta * C, A given as ap from ember_f32_gemm_pack_a_full
 * (same kern, m, k). N == 1 with ldc == 1 streams the panels once. */
void ember_f32_gemm_prepacked_a(const ember_kernels* kern, size_t m, size_t n, size_t k,
                                const float* ap, const float* b, size_t b_rs, size_t b_cs,
                                float beta, float* c, size_t ldc, void* workspace);

/* ---- a product with extras: B packed by a callback, a fused output pass ----
 * For convolutions: B read straight from the image (implicit GEMM: the
 * im2col matrix is never written out), and the bias and activation applied to
 * each tile of C while it is still in L1 (no extra passes over the output). */
typedef struct ember_f32_gemm_extra {
    /* Packs rows [p0, p0 + kc) and columns [j0, j0 + n) of B into dst exactly as
     * the table's pack_b would pack that block of a B matrix (ceil(n / nr)
     * panels of kc x nr floats, columns past n zero). NULL: B is the matrix b. */
    void (*pack_b)(const void* ctx, size_t nr, size_t p0, size_t kc, size_t j0, size_t n,
                   float* dst);
    const void* pack_b_ctx;
    /* Once a tile of C has its last K block: first C[i][j] += row_bias[i] (row_bias
     * NULL: nothing), then finish(finish_ctx, c, ldc, m, n) on the tile (rows i0
     * .. i0 + m of C, c = &C[i0][j0]), if finish is not NULL. */
    const float* row_bias;
    /* and before it C[i][j] += col_bias[j] (NULL: nothing): a MatMul's or a
     * Gemm's bias vector, n floats */
    const float* col_bias;
    /* then, when clamp: C = min(hi, max(lo, C)), + 0.0f when zero_plus, then
     * C = act(C) (the formulas of ember_f32_gemm_epilogue: micro-kernels with
     * an epilogue entry do all of it in registers, other tables run
     * ember_f32_gemm_epilogue_tile on the stored tile, with the same values) */
    int clamp, zero_plus;
    float lo, hi;
    ember_f32_gemm_act act;
    void (*finish)(const void* ctx, float* c, size_t ldc, size_t m, size_t n);
    const void* finish_ctx;
} ember_f32_gemm_extra;

/* Whether ex asks for an output pass in the micro-kernel's epilogue (a row
 * or column bias, a clamp or an activation). */
static inline bool ember_f32_gemm_has_epilogue(const ember_f32_gemm_extra* ex) {
    return ex->row_bias || ex->col_bias || ex->clamp || ex->act;
}

/* ex's output pass as the epilogue a micro-kernel (or a kernel with the same
 * contract, f32_conv1x1_blocked.h, which takes no column bias) applies to a
 * tile whose first element is C[i0][j0]: the row bias from i0, the column bias
 * from j0, no clamp as (-inf, inf). */
static inline ember_f32_gemm_epilogue ember_f32_gemm_epilogue_of(const ember_f32_gemm_extra* ex,
                                                                 size_t i0, size_t j0) {
    return (ember_f32_gemm_epilogue){.bias = ex->row_bias ? ex->row_bias + i0 : NULL,
                                     .col_bias = ex->col_bias ? ex->col_bias + j0 : NULL,
                                     .lo = ex->clamp ? ex->lo : -INFINITY,
                                     .hi = ex->clamp ? ex->hi : INFINITY,
                                     .zero_plus = ex->clamp && ex->zero_plus,
                                     .act = ex->act, .resid = NULL};
}

/* ep's biases and clamp on row i of a tile (c: n floats), in plain C (the
 * activation is ember_f32_gemm_epilogue_tile's). */
static inline void ember_f32_gemm_epilogue_row(const ember_f32_gemm_epilogue* ep, size_t i,
                                               float* c, size_t n) {
    const float b = ep->bias ? ep->bias[i] : 0.0f, lo = ep->lo, hi = ep->hi;
    for (size_t j = 0; j < n; j++) {
        float v = ep->col_bias ? c[j] + ep->col_bias[j] : c[j];
        v = ep->bias ? v + b : v;
        v = v < lo ? lo : v;
        v = v > hi ? hi : v;
        c[j] = ep->zero_plus ? v + 0.0f : v;
    }
}

/* The portable twin of an epilogue entry: ep's whole pass on the m x n tile at
 * c (rows ldc apart) after the plain micro-kernel stored it, bias and clamp
 * by ember_f32_gemm_epilogue_row, the activation by kern's elementwise kernel
 * on each row. It gives the bits kern's epilogue entry gives (the tables
 * without one use it instead). */
void ember_f32_gemm_epilogue_tile(const ember_kernels* kern, const ember_f32_gemm_epilogue* ep,
                                  float* c, size_t ldc, size_t m, size_t n);

/* C = A * B + beta * C with A packed ahead (ap, from ember_f32_gemm_pack_a_full)
 * or, when ap is NULL, the matrix A[i][p] = a[i * a_rs + p * a_cs]; B from
 * ex->pack_b (b, b_rs, b_cs unused then) or the matrix b; and ex's output pass.
 * On pool's threads (NULL: the caller's), bit-identical at any thread count.
 * Always the packed loop nest (no matrix-vector path); the same workspace as
 * ember_f32_gemm. */
void ember_f32_gemm_ex_mt(struct em_pool* pool, const ember_kernels* kern, size_t m, size_t n,
                          size_t k, const float* a, size_t a_rs, size_t a_cs, const float* ap,
                          const float* b, size_t b_rs, size_t b_cs, float beta, float* c,
                          size_t ldc, const ember_f32_gemm_extra* ex, void* workspace);
/* The single-threaded one, and the output pass of one tile (for the drivers). */
void ember_f32_gemm_ex(const ember_kernels* kern, size_t m, size_t n, size_t k, const float* a,
                       size_t a_rs, size_t a_cs, const float* ap, const float* b, size_t b_rs,
                       size_t b_cs, float beta, float* c, size_t ldc,
                       const ember_f32_gemm_extra* ex, void* workspace);
void ember_f32_gemm_finish_tile(const ember_kernels* kern, const ember_f32_gemm_extra* ex,
                                size_t i0, size_t j0, float* c, size_t ldc, size_t m, size_t n);
/* ex's pass on every tile of the m x n C (kern's mr x nr tiles), for a
 * product computed without it (K == 0, or one row streamed). */
void ember_f32_gemm_finish_all(const ember_kernels* kern, const ember_f32_gemm_extra* ex,
                               size_t m, size_t n, float* c, size_t ldc);
/* One tile (rows i0 .. i0 + m, columns j0 .. j0 + n of C; c = &C[i0][j0]):
 * kern's micro-kernel, then ex's pass (ex NULL: none; the table's epilogue
 * entry when it has one). */
void ember_f32_gemm_run_tile(const ember_kernels* kern, const ember_f32_gemm_extra* ex,
                             size_t i0, size_t j0, size_t m, size_t n, size_t kc, const float* a,
                             const float* b, float beta, float* c, size_t ldc);
/* The same with B read in place (the table's ukernel_rows, which must exist):
 * step p of B at b + boff[p]. */
void ember_f32_gemm_run_tile_rows(const ember_kernels* kern, const ember_f32_gemm_extra* ex,
                                  size_t i0, size_t j0, size_t m, size_t n, size_t kc, const float* a,
                                  const float* b, const int32_t* boff, float beta, float* c,
                                  size_t ldc);

/* The single-threaded ember_f32_gemm_prepacked_b_ex_mt (f32_gemm.c). */
void ember_f32_gemm_prepacked_b_ex(const ember_kernels* kern, size_t m, size_t n, size_t k,
                                   float alpha, const float* a, size_t a_rs, size_t a_cs,
                                   const float* bp, float beta, float* c, size_t ldc,
                                   const ember_f32_gemm_extra* ex, void* workspace);

/* ---- on several threads (f32_gemm_mt.c) ----
 * The same products on the threads of pool (NULL, or a product too small to pay
 * for threads: the caller's only), with the same workspace; the results are
 * bit-identical to the single-threaded functions'. */
struct em_pool;
void ember_f32_gemm_mt(struct em_pool* pool, const ember_kernels* kern, size_t m, size_t n,
                       size_t k, float alpha, const float* a, size_t a_rs, size_t a_cs,
                       const float* b, size_t b_rs, size_t b_cs, float beta, float* c, size_t ldc,
                       void* workspace);
void ember_f32_gemm_prepacked_b_mt(struct em_pool* pool, const ember_kernels* kern, size_t m,
                                   size_t n, size_t k, float alpha, const float* a, size_t a_rs,
                                   size_t a_cs, const float* bp, float beta, float* c, size_t ldc,
                                   void* workspace);
/* ember_f32_gemm_prepacked_b_mt with ex's output pass (a column bias, clamp,
 * activation; ex->pack_b, ex->row_bias unused) on each tile of C after its
 * last K block: the bits of the product followed by that pass. M == 1 streams
 * the panels, then runs the pass on the row. */
void ember_f32_gemm_prepacked_b_ex_mt(struct em_pool* pool, const ember_kernels* kern, size_t m,
                                      size_t n, size_t k, float alpha, const float* a,
                                      size_t a_rs, size_t a_cs, const float* bp, float beta,
                                      float* c, size_t ldc, const ember_f32_gemm_extra* ex,
                                      void* workspace);
void ember_f32_gemm_prepacked_a_mt(struct em_pool* pool, const ember_kernels* kern, size_t m,
                                   size_t n, size_t k, const float* ap, const float* b,
                                   size_t b_rs, size_t b_cs, float beta, float* c, size_t ldc,
                                   void* workspace);

/* ---- micro-kernels (see ember_f32_gemm_ukernel_fn) ---- */
void ember_f32_gemm_ukernel_4x4__scalar(size_t m, size_t n, size_t kc, const float* a,
                                        const float* b, float beta, float* c, size_t ldc);
void ember_f32_gemm_ukernel_rows_4x4__scalar(size_t m, size_t n, size_t kc, const float* a,
                                             const float* b, const int32_t* boff, float beta,
                                             float* c, size_t ldc, const ember_f32_gemm_epilogue* ep);
#if defined(__x86_64__)
void ember_f32_gemm_ukernel_6x16__avx2(size_t m, size_t n, size_t kc, const float* a,
                                       const float* b, float beta, float* c, size_t ldc);
void ember_f32_gemm_ukernel_ep_6x16__avx2(size_t m, size_t n, size_t kc, const float* a,
                                          const float* b, float beta, float* c, size_t ldc,
                                          const ember_f32_gemm_epilogue* ep);
void ember_f32_gemm_ukernel_ep_12x32__avx512(size_t m, size_t n, size_t kc, const float* a,
                                             const float* b, float beta, float* c, size_t ldc,
                                             const ember_f32_gemm_epilogue* ep);
void ember_f32_gemm_ukernel_12x32__avx512(size_t m, size_t n, size_t kc, const float* a,
                                          const float* b, float beta, float* c, size_t ldc);
void ember_f32_gemm_ukernel_rows_6x16__avx2(size_t m, size_t n, size_t kc, const float* a,
                                            const float* b, const int32_t* boff, float beta,
                                            float* c, size_t ldc, const ember_f32_gemm_epilogue* ep);
void ember_f32_gemm_ukernel_rows_12x32__avx512(size_t m, size_t n, size_t kc, const float* a,
                                               const float* b, const int32_t* boff, float beta,
                                               float* c, size_t ldc,
                                               const ember_f32_gemm_epilogue* ep);
#endif
#if defined(__aarch64__)
void ember_f32_gemm_ukernel_8x12__neon(size_t m, size_t n, size_t kc, const float* a,
                                       const float* b, float beta, float* c, size_t ldc);
void ember_f32_gemm_ukernel_rows_8x12__neon(size_t m, size_t n, size_t kc, const float* a,
                                            const float* b, const int32_t* boff, float beta,
                                            float* c, size_t ldc, const ember_f32_gemm_epilogue* ep);
#endif

/* ---- matrix-vector (see ember_f32_gemv_n_fn / _t_fn) ---- */
void ember_f32_gemv_n__scalar(size_t n, size_t k, const float* x, const float* b, size_t ldb,
                              float beta, float* y);
void ember_f32_gemv_t__scalar(size_t m, size_t k, const float* a, size_t lda, const float* x,
                              float beta, float* y);
#if defined(__x86_64__)
void ember_f32_gemv_n__avx2(size_t n, size_t k, const float* x, const float* b, size_t ldb,
                            float beta, float* y);
void ember_f32_gemv_t__avx2(size_t m, size_t k, const float* a, size_t lda, const float* x,
                            float beta, float* y);
void ember_f32_gemv_n__avx512(size_t n, size_t k, const float* x, const float* b, size_t ldb,
                              float beta, float* y);
void ember_f32_gemv_t__avx512(size_t m, size_t k, const float* a, size_t lda, const float* x,
                              float beta, float* y);
#endif
#if defined(__aarch64__)
void ember_f32_gemv_n__neon(size_t n, size_t k, const float* x, const float* b, size_t ldb,
                            float beta, float* y);
void ember_f32_gemv_t__neon(size_t m, size_t k, const float* a, size_t lda, const float* x,
                            float beta, float* y);
#endif

/* ---- packing (see ember_f32_pack_a_fn / ember_f32_pack_b_fn) ---- */
void ember_f32_gemm_pack_a__scalar(size_t mr, size_t m, size_t kc, float alpha, const float* a,
                                   size_t rs, size_t cs, float* dst);
void ember_f32_gemm_pack_b__scalar(size_t nr, size_t n, size_t kc, const float* b, size_t rs,
                                   size_t cs, float* dst);
/* AVX-512F: panels of up to 16 contiguous rows transposed in registers, the
 * scalar function's bytes; other cases go to it */
void ember_f32_gemm_pack_a__avx512(size_t mr, size_t m, size_t kc, float alpha, const float* a,
                                   size_t rs, size_t cs, float* dst);
/* AVX-512F: panels of up to 32 columns, rows contiguous (vector copies) or
 * columns contiguous (16 x 16 tiles transposed in registers), the scalar
 * function's bytes; other strides go to it */
void ember_f32_gemm_pack_b__avx512(size_t nr, size_t n, size_t kc, const float* b, size_t rs,
                                   size_t cs, float* dst);
/* AVX2: panels of up to 8 contiguous rows transposed in registers, the
 * scalar function's bytes; other cases go to it */
void ember_f32_gemm_pack_a__avx2(size_t mr, size_t m, size_t kc, float alpha, const float* a,
                                 size_t rs, size_t cs, float* dst);
/* AVX2: the same for panels of 8 or 16 columns (8 x 8 transposes) */
void ember_f32_gemm_pack_b__avx2(size_t nr, size_t n, size_t kc, const float* b, size_t rs,
                                 size_t cs, float* dst);

#endif
