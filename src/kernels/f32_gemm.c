/* Blocked F32 GEMM driver (the Goto / BLIS loop nest):
 *
 *   for jc in N by nc:                pack B[pc.., jc..] (kc x nc) into NR panels
 *     for pc in K by kc:                (stays in L3 / L2)
 *       for ic in M by mc:            pack alpha * A[ic.., pc..] (mc x kc) into MR panels
 *         for jr in nc by nr:           (stays in L2)
 *           for ir in mc by mr:       micro-kernel on one MR x NR tile of C
 *
 * The first K block applies beta, the later ones accumulate (beta = 1).
 * Packing copies into the caller's workspace; nothing is allocated. An operand
 * packed ahead (ember_f32_gemm_pack_a_full / _b_full: the same panels for every
 * K block, laid end to end) is read in place instead of packed.
 *
 * M == 1 (or N == 1) goes to the matrix-vector kernels instead: packing would
 * copy the whole matrix to use it once. */
#include "f32_gemm.h"

#include <math.h>
#include <stdbool.h>
#include <stdint.h>

#define WS_ALIGN 64

static size_t min_sz(size_t a, size_t b) { return a < b ? a : b; }
static size_t round_up(size_t x, size_t m) { return (x + m - 1) / m * m; }

static size_t kc_of(const ember_f32_gemm_config* g, size_t k) { return ember_f32_gemm_kc(g, k); }

size_t ember_f32_gemm_workspace_size(const ember_kernels* kern, size_t m, size_t n, size_t k) {
    const ember_f32_gemm_config* g = &kern->f32_gemm;
    if (m == 0 || n == 0 || k == 0) return 0;
    const size_t kc = kc_of(g, k);
    const size_t a_floats = round_up(min_sz(m, g->mc), g->mr) * kc;
    const size_t b_floats = round_up(min_sz(n, ember_f32_gemm_nc(g, kc)), g->nr) * kc;
    const size_t gemm = (a_floats + b_floats) * sizeof(float) + 2 * WS_ALIGN;
    const size_t gemv = k * sizeof(float) + WS_ALIGN; /* a contiguous copy of the vector */
    return gemm > gemv ? gemm : gemv;
}

static float* align_up(void* p) {
    return (float*)(((uintptr_t)p + WS_ALIGN - 1) & ~(uintptr_t)(WS_ALIGN - 1));
}

static void scale_c(size_t m, size_t n, float beta, float* c, size_t ldc) {
    for (size_t i = 0; i < m; i++) {
        float* ci = c + i * ldc;
        if (beta == 0.0f) {
            for (size_t j = 0; j < n; j++) ci[j] = 0.0f;
        } else if (beta != 1.0f) {
            for (size_t j = 0; j < n; j++) ci[j] *= beta;
        }
    }
}

/* The vector x[p] = alpha * v[p * stride] (p < k), in place when it already is. */
static const float* vector_of(size_t k, float alpha, const float* v, size_t stride, void* workspace) {
    if (stride == 1 && alpha == 1.0f) return v;
    float* x = align_up(workspace);
    for (size_t p = 0; p < k; p++) x[p] = alpha * v[p * stride];
    return x;
}

/* M == 1, or N == 1 with a contiguous C column, as one matrix-vector product
 * over an operand with a contiguous direction; false when it does not apply. */
static bool try_gemv(const ember_kernels* kern, size_t m, size_t n, size_t k, float alpha,
                     const float* a, size_t a_rs, size_t a_cs, const float* b, size_t b_rs,
                     size_t b_cs, float beta, float* c, size_t ldc, void* workspace) {
    if (m == 1 && (b_cs == 1 || b_rs == 1)) {          /* c[j] = sum_p A[0][p] B[p][j] */
        const float* x = vector_of(k, alpha, a, a_cs, workspace);
        if (b_cs == 1)
            kern->f32_gemv_n(n, k, x, b, b_rs, beta, c);
        else
            kern->f32_gemv_t(n, k, b, b_cs, x, beta, c);
        return true;
    }
    if (n == 1 && (ldc == 1 || m == 1) && (a_cs == 1 || a_rs == 1)) { /* c[i] = sum_p A[i][p] B[p][0] */
        const float* x = vector_of(k, alpha, b, b_rs, workspace);
        if (a_cs == 1)
            kern->f32_gemv_t(m, k, a, a_rs, x, beta, c);
        else
            kern->f32_gemv_n(m, k, x, a, a_cs, beta, c);
        return true;
    }
    return false;
}

void ember_f32_gemm_epilogue_tile(const ember_kernels* kern, const ember_f32_gemm_epilogue* ep,
                                  float* c, size_t ldc, size_t m, size_t n) {
    /* the elementwise kernel whose formula each activation is (dispatch.h) */
    static const ember_f32_vop vop[EMBER_GEMM_ACT_COUNT] = {
        [EMBER_GEMM_ACT_SIGMOID] = EMBER_VOP_SIGMOID,
        [EMBER_GEMM_ACT_HARD_SWISH] = EMBER_VOP_HARD_SWISH,
        [EMBER_GEMM_ACT_SILU] = EMBER_VOP_SILU, [EMBER_GEMM_ACT_GELU] = EMBER_VOP_GELU};
    const bool act = ep->act > EMBER_GEMM_ACT_NONE && ep->act < EMBER_GEMM_ACT_COUNT;
    for (size_t i = 0; i < m; i++) {
        float* ci = c + i * ldc;
        ember_f32_gemm_epilogue_row(ep, i, ci, n);
        if (act) kern->f32_elementwise.unary[vop[ep->act]](n, ci, ci, 0.0f, 0.0f);
    }
}

void ember_f32_gemm_finish_tile(const ember_kernels* kern, const ember_f32_gemm_extra* ex,
                                size_t i0, size_t j0, float* c, size_t ldc, size_t m, size_t n) {
    if (ember_f32_gemm_has_epilogue(ex)) {
        const ember_f32_gemm_epilogue ep = ember_f32_gemm_epilogue_of(ex, i0, j0);
        ember_f32_gemm_epilogue_tile(kern, &ep, c, ldc, m, n);
    }
    if (ex->finish) ex->finish(ex->finish_ctx, c, ldc, m, n);
}

void ember_f32_gemm_finish_all(const ember_kernels* kern, const ember_f32_gemm_extra* ex,
                               size_t m, size_t n, float* c, size_t ldc) {
    const size_t mr = kern->f32_gemm.mr, nr = kern->f32_gemm.nr;
    for (size_t i0 = 0; i0 < m; i0 += mr)
        for (size_t j0 = 0; j0 < n; j0 += nr)
            ember_f32_gemm_finish_tile(kern, ex, i0, j0, c + i0 * ldc + j0, ldc,
                                       min_sz(m - i0, mr), min_sz(n - j0, nr));
}

void ember_f32_gemm_run_tile(const ember_kernels* kern, const ember_f32_gemm_extra* ex,
                             size_t i0, size_t j0, size_t m, size_t n, size_t kc, const float* a,
                             const float* b, float beta, float* c, size_t ldc) {
    const ember_f32_gemm_config* g = &kern->f32_gemm;
    if (!ex) {
        g->ukernel(m, n, kc, a, b, beta, c, ldc);
    } else if (g->ukernel_ep && ember_f32_gemm_has_epilogue(ex)) {
        const ember_f32_gemm_epilogue ep = ember_f32_gemm_epilogue_of(ex, i0, j0);
        g->ukernel_ep(m, n, kc, a, b, beta, c, ldc, &ep);
        if (ex->finish) ex->finish(ex->finish_ctx, c, ldc, m, n);
    } else {
        g->ukernel(m, n, kc, a, b, beta, c, ldc);
        ember_f32_gemm_finish_tile(kern, ex, i0, j0, c, ldc, m, n);
    }
}

void ember_f32_gemm_run_tile_rows(const ember_kernels* kern, const ember_f32_gemm_extra* ex,
                                  size_t i0, size_t j0, size_t m, size_t n, size_t kc,
                                  const float* a, const float* b, const int32_t* boff, float beta,
                                  float* c, size_t ldc) {
    const ember_f32_gemm_config* g = &kern->f32_gemm;
    if (ex && g->ukernel_ep && ember_f32_gemm_has_epilogue(ex)) {
        const ember_f32_gemm_epilogue ep = ember_f32_gemm_epilogue_of(ex, i0, j0);
        g->ukernel_rows(m, n, kc, a, b, boff, beta, c, ldc, &ep);
        if (ex->finish) ex->finish(ex->finish_ctx, c, ldc, m, n);
    } else {
        g->ukernel_rows(m, n, kc, a, b, boff, beta, c, ldc, NULL);
        if (ex) ember_f32_gemm_finish_tile(kern, ex, i0, j0, c, ldc, m, n);
    }
}

/* The loop nest. apk / bpk: that operand packed ahead (then a / b are unused);
 * ex: NULL or the extras of ember_f32_gemm_extra. */
static void driver(const ember_kernels* kern, size_t m, size_t n, size_t k, float alpha,
                   const float* a, size_t a_rs, size_t a_cs, const float* apk, const float* b,
                   size_t b_rs, size_t b_cs, const float* bpk, float beta, float* c, size_t ldc,
                   const ember_f32_gemm_extra* ex, void* workspace) {
    const ember_f32_gemm_config* g = &kern->f32_gemm;
    const size_t mr = g->mr, nr = g->nr;
    const size_t kc_max = kc_of(g, k);
    const size_t mpad = round_up(m, mr), npad = round_up(n, nr);
    float* bp = align_up(workspace);
    const size_t nc_max = ember_f32_gemm_nc(g, kc_max);
    float* ap = bpk ? bp : align_up(bp + round_up(min_sz(n, nc_max), nr) * kc_max);
    for (size_t jc = 0; jc < n; jc += nc_max) {
        const size_t nc = min_sz(n - jc, nc_max);
        for (size_t pc = 0; pc < k; pc += kc_max) {
            const size_t kc = min_sz(k - pc, kc_max);
            const float beta_k = pc == 0 ? beta : 1.0f;
            const bool last_k = pc + kc == k;
            const float* bblk = bp;
            if (bpk)
                bblk = bpk + pc * npad + jc * kc;
            else if (ex && ex->pack_b)
                ex->pack_b(ex->pack_b_ctx, nr, pc, kc, jc, nc, bp);
            else
                g->pack_b(nr, nc, kc, b + pc * b_rs + jc * b_cs, b_rs, b_cs, bp);
            for (size_t ic = 0; ic < m; ic += g->mc) {
                const size_t mc = min_sz(m - ic, g->mc);
                const float* ablk = ap;
                if (apk)
                    ablk = apk + pc * mpad + ic * kc;
                else
                    g->pack_a(mr, mc, kc, alpha, a + ic * a_rs + pc * a_cs, a_rs, a_cs, ap);
                for (size_t jr = 0; jr < nc; jr += nr) {
                    const size_t nt = min_sz(nc - jr, nr);
                    const float* bpanel = bblk + jr * kc;
                    for (size_t ir = 0; ir < mc; ir += mr) {
                        const size_t mt = min_sz(mc - ir, mr);
                        float* ct = c + (ic + ir) * ldc + jc + jr;
                        ember_f32_gemm_run_tile(kern, last_k ? ex : NULL, ic + ir, jc + jr, mt,
                                                nt, kc, ablk + ir * kc, bpanel, beta_k, ct, ldc);
                    }
                }
            }
        }
    }
}

void ember_f32_gemm(const ember_kernels* kern, size_t m, size_t n, size_t k, float alpha,
                    const float* a, size_t a_rs, size_t a_cs, const float* b, size_t b_rs,
                    size_t b_cs, float beta, float* c, size_t ldc, void* workspace) {
    if (m == 0 || n == 0) return;
    if (k == 0) {
        scale_c(m, n, beta, c, ldc);
        return;
    }
    if (try_gemv(kern, m, n, k, alpha, a, a_rs, a_cs, b, b_rs, b_cs, beta, c, ldc, workspace)) return;
    driver(kern, m, n, k, alpha, a, a_rs, a_cs, NULL, b, b_rs, b_cs, NULL, beta, c, ldc, NULL, workspace);
}

/* ---- pre-packed operands ---- */

void ember_f32_gemm_gemv_panels(const ember_kernels* kern, size_t len, size_t k, size_t r,
                                const float* x, const float* panels, float beta, float* y,
                                size_t q0, size_t q1) {
    const size_t kc_max = kc_of(&kern->f32_gemm, k), pad = round_up(len, r);
    for (size_t pc = 0; pc < k; pc += kc_max) {
        const size_t kc = min_sz(k - pc, kc_max);
        const float beta_k = pc == 0 ? beta : 1.0f;
        for (size_t q = q0; q < q1; q++) {
            const size_t i0 = q * r;
            kern->f32_gemv_n(min_sz(len - i0, r), kc, x + pc, panels + pc * pad + i0 * kc, r,
                             beta_k, y + i0);
        }
    }
}

size_t ember_f32_gemm_packed_b_size(const ember_kernels* kern, size_t n, size_t k) {
    return round_up(n, kern->f32_gemm.nr) * k * sizeof(float);
}

void ember_f32_gemm_pack_b_full(const ember_kernels* kern, size_t n, size_t k, const float* b,
                                size_t rs, size_t cs, float* dst) {
    const ember_f32_gemm_config* g = &kern->f32_gemm;
    if (n == 0 || k == 0) return;
    const size_t kc_max = kc_of(g, k), npad = round_up(n, g->nr);
    for (size_t pc = 0; pc < k; pc += kc_max)
        g->pack_b(g->nr, n, min_sz(k - pc, kc_max), b + pc * rs, rs, cs, dst + pc * npad);
}

void ember_f32_gemm_prepacked_b(const ember_kernels* kern, size_t m, size_t n, size_t k,
                                float alpha, const float* a, size_t a_rs, size_t a_cs,
                                const float* bp, float beta, float* c, size_t ldc, void* workspace) {
    if (m == 0 || n == 0) return;
    if (k == 0) {
        scale_c(m, n, beta, c, ldc);
        return;
    }
    if (m == 1) { /* stream the panels once: each is a kc x nr row-major matrix */
        const size_t nr = kern->f32_gemm.nr;
        ember_f32_gemm_gemv_panels(kern, n, k, nr, vector_of(k, alpha, a, a_cs, workspace), bp,
                                   beta, c, 0, (n + nr - 1) / nr);
        return;
    }
    driver(kern, m, n, k, alpha, a, a_rs, a_cs, NULL, NULL, 0, 0, bp, beta, c, ldc, NULL, workspace);
}

size_t ember_f32_gemm_packed_a_size(const ember_kernels* kern, size_t m, size_t k) {
    return round_up(m, kern->f32_gemm.mr) * k * sizeof(float);
}

void ember_f32_gemm_pack_a_full(const ember_kernels* kern, size_t m, size_t k, float alpha,
                                const float* a, size_t rs, size_t cs, float* dst) {
    const ember_f32_gemm_config* g = &kern->f32_gemm;
    if (m == 0 || k == 0) return;
    const size_t kc_max = kc_of(g, k), mpad = round_up(m, g->mr);
    for (size_t pc = 0; pc < k; pc += kc_max)
        g->pack_a(g->mr, m, min_sz(k - pc, kc_max), alpha, a + pc * cs, rs, cs, dst + pc * mpad);
}

void ember_f32_gemm_pack_a_rows(const ember_kernels* kern, size_t m, size_t k, size_t i0,
                                size_t rows, float alpha, const float* a, size_t rs, size_t cs,
                                float* dst) {
    const ember_f32_gemm_config* g = &kern->f32_gemm;
    if (rows == 0 || k == 0) return;
    const size_t kc_max = kc_of(g, k), mpad = round_up(m, g->mr);
    for (size_t pc = 0; pc < k; pc += kc_max) {
        const size_t kc = min_sz(k - pc, kc_max);
        g->pack_a(g->mr, rows, kc, alpha, a + pc * cs, rs, cs, dst + pc * mpad + i0 * kc);
    }
}

void ember_f32_gemm_prepacked_a(const ember_kernels* kern, size_t m, size_t n, size_t k,
                                const float* ap, const float* b, size_t b_rs, size_t b_cs,
                                float beta, float* c, size_t ldc, void* workspace) {
    if (m == 0 || n == 0) return;
    if (k == 0) {
        scale_c(m, n, beta, c, ldc);
        return;
    }
    if (n == 1 && (ldc == 1 || m == 1)) { /* stream the panels once: each is kc x mr row-major */
        const size_t mr = kern->f32_gemm.mr;
        ember_f32_gemm_gemv_panels(kern, m, k, mr, vector_of(k, 1.0f, b, b_rs, workspace), ap,
                                   beta, c, 0, (m + mr - 1) / mr);
        return;
    }
    driver(kern, m, n, k, 1.0f, NULL, 0, 0, ap, b, b_rs, b_cs, NULL, beta, c, ldc, NULL, workspace);
}

void ember_f32_gemm_ex(const ember_kernels* kern, size_t m, size_t n, size_t k, const float* a,
                       size_t a_rs, size_t a_cs, const float* ap, const float* b, size_t b_rs,
                       size_t b_cs, float beta, float* c, size_t ldc,
                       const ember_f32_gemm_extra* ex, void* workspace) {
    if (m == 0 || n == 0) return;
    if (k == 0) {
        scale_c(m, n, beta, c, ldc);
        ember_f32_gemm_finish_all(kern, ex, m, n, c, ldc);
        return;
    }
    driver(kern, m, n, k, 1.0f, a, a_rs, a_cs, ap, b, b_rs, b_cs, NULL, beta, c, ldc, ex, workspace);
}

void ember_f32_gemm_prepacked_b_ex(const ember_kernels* kern, size_t m, size_t n, size_t k,
                                   float alpha, const float* a, size_t a_rs, size_t a_cs,
                                   const float* bp, float beta, float* c, size_t ldc,
                                   const ember_f32_gemm_extra* ex, void* workspace) {
    if (m == 0 || n == 0) return;
    if (k == 0 || m == 1) { /* scaled C, or the streamed row; then the pass on it */
        ember_f32_gemm_prepacked_b(kern, m, n, k, alpha, a, a_rs, a_cs, bp, beta, c, ldc,
                                   workspace);
        ember_f32_gemm_finish_all(kern, ex, m, n, c, ldc);
        return;
    }
    driver(kern, m, n, k, alpha, a, a_rs, a_cs, NULL, NULL, 0, 0, bp, beta, c, ldc, ex, workspace);
}
