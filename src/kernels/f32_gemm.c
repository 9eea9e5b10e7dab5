/* Blocked F32 GEMM driver (the Goto / BLIS loop nest):
 *
 *   for jc in N by nc:                pack B[pc.., jc..] (kc x nc) into NR panels
 *     for pc in K by kc:                (stays in L3 / L2)
 *       for ic in M by mc:            pack alpha * A[ic.., pc..] (mc x kc) into MR panels
 *         for jr in nc by nr:           (stays in L2)
 *           for ir in mc by mr:       micro-kernel on one MR x NR tile of C
 *
 * The first K block applies beta, the later ones accumulate (beta = 1).
 * Packing copies into the caller's workspace; nothing is allocated. */
#include "f32_gemm.h"

#include <stdint.h>

#define WS_ALIGN 64

static size_t min_sz(size_t a, size_t b) { return a < b ? a : b; }
static size_t round_up(size_t x, size_t m) { return (x + m - 1) / m * m; }

/* K block: at most g->kc, the blocks of K made about equal (no thin last block). */
static size_t kc_of(const ember_f32_gemm_config* g, size_t k) {
    const size_t blocks = (k + g->kc - 1) / g->kc;
    return (k + blocks - 1) / blocks;
}

size_t ember_f32_gemm_workspace_size(const ember_kernels* kern, size_t m, size_t n, size_t k) {
    const ember_f32_gemm_config* g = &kern->f32_gemm;
    if (m == 0 || n == 0 || k == 0) return 0;
    const size_t kc = kc_of(g, k);
    const size_t a_floats = round_up(min_sz(m, g->mc), g->mr) * kc;
    const size_t b_floats = round_up(min_sz(n, g->nc), g->nr) * kc;
    return (a_floats + b_floats) * sizeof(float) + 2 * WS_ALIGN;
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

void ember_f32_gemm(const ember_kernels* kern, size_t m, size_t n, size_t k, float alpha,
                    const float* a, size_t a_rs, size_t a_cs, const float* b, size_t b_rs,
                    size_t b_cs, float beta, float* c, size_t ldc, void* workspace) {
    if (m == 0 || n == 0) return;
    if (k == 0) {
        scale_c(m, n, beta, c, ldc);
        return;
    }
    const ember_f32_gemm_config* g = &kern->f32_gemm;
    const size_t mr = g->mr, nr = g->nr;
    const size_t kc_max = kc_of(g, k);
    float* bp = align_up(workspace);
    float* ap = align_up(bp + round_up(min_sz(n, g->nc), nr) * kc_max);
    for (size_t jc = 0; jc < n; jc += g->nc) {
        const size_t nc = min_sz(n - jc, g->nc);
        for (size_t pc = 0; pc < k; pc += kc_max) {
            const size_t kc = min_sz(k - pc, kc_max);
            const float beta_k = pc == 0 ? beta : 1.0f;
            g->pack_b(nr, nc, kc, b + pc * b_rs + jc * b_cs, b_rs, b_cs, bp);
            for (size_t ic = 0; ic < m; ic += g->mc) {
                const size_t mc = min_sz(m - ic, g->mc);
                g->pack_a(mr, mc, kc, alpha, a + ic * a_rs + pc * a_cs, a_rs, a_cs, ap);
                for (size_t jr = 0; jr < nc; jr += nr) {
                    const size_t nt = min_sz(nc - jr, nr);
                    const float* bpanel = bp + jr * kc;
                    for (size_t ir = 0; ir < mc; ir += mr) {
                        const size_t mt = min_sz(mc - ir, mr);
                        g->ukernel(mt, nt, kc, ap + ir * kc, bpanel, beta_k,
                                   c + (ic + ir) * ldc + jc + jr, ldc);
                    }
                }
            }
        }
    }
}
