/* Packing for the blocked 1x1 convolution and its reference twin; see
 * f32_conv1x1_blocked.h. */
#include <math.h>
#include <string.h>

#include "f32_conv1x1_blocked.h"

size_t ember_f32_conv1x1_blocked_packed_size(size_t L, size_t m, size_t k) {
    return (m + 2 * L - 1) / (2 * L) * 2 * L * k * sizeof(float);
}

void ember_f32_conv1x1_blocked_pack(size_t L, size_t m, size_t k, const float* w, float* dst) {
    const size_t panels = (m + 2 * L - 1) / (2 * L);
    for (size_t q = 0; q < panels; q++)
        for (size_t p = 0; p < k; p++)
            for (size_t c = 0; c < 2 * L; c++) {
                const size_t i = q * 2 * L + c;
                dst[(q * k + p) * 2 * L + c] = i < m ? w[i * k + p] : 0.0f;
            }
}

/* Output channel i at position j: the sum over each K block by one fmaf chain
 * from 0, the blocks added as the GEMM adds them to C (block + C). */
static float dot(size_t L, size_t k, size_t n, size_t kc, const float* x, const float* w,
                 size_t c, size_t j) {
    float tot = 0.0f;
    for (size_t p0 = 0; p0 < k; p0 += kc) {
        const size_t p1 = p0 + kc < k ? p0 + kc : k;
        float acc = 0.0f;
        for (size_t p = p0; p < p1; p++)
            acc = fmaf(w[p * 2 * L + c], x[(p / L) * n * L + j * L + p % L], acc);
        tot = p0 == 0 ? acc : acc + tot;
    }
    return tot;
}

/* The L lanes of one output position, output channels c0 .. c0 + L - 1: the
 * sums s (lanes of channels >= m ignored), then ep (NULL: none) as the GEMM
 * epilogue applies it (res: the residual's lanes at y's place, or NULL), its activation by kern's elementwise kernel (the
 * formula the epilogue applies in registers); lanes of channels >= m 0. */
static void finish_lanes(const ember_kernels* kern, size_t L, size_t m, size_t c0, const float* s,
                         const ember_f32_gemm_epilogue* ep, const float* res, float* y) {
    static const ember_f32_vop vop[EMBER_GEMM_ACT_COUNT] = {
        [EMBER_GEMM_ACT_SIGMOID] = EMBER_VOP_SIGMOID,
        [EMBER_GEMM_ACT_HARD_SWISH] = EMBER_VOP_HARD_SWISH,
        [EMBER_GEMM_ACT_SILU] = EMBER_VOP_SILU, [EMBER_GEMM_ACT_GELU] = EMBER_VOP_GELU};
    size_t nb = 0;
    for (size_t l = 0; l < L; l++) {
        if (c0 + l >= m) {
            y[l] = 0.0f;
            continue;
        }
        float r = s[l];
        if (ep) {
            r = ep->bias ? r + ep->bias[c0 + l] : r;
            r = res ? r + res[l] : r;
            r = r < ep->lo ? ep->lo : r;
            r = r > ep->hi ? ep->hi : r;
            r = ep->zero_plus ? r + 0.0f : r;
        }
        y[l] = r;
        nb++;
    }
    if (ep && ep->act > EMBER_GEMM_ACT_NONE && ep->act < EMBER_GEMM_ACT_COUNT)
        kern->f32_elementwise.unary[vop[ep->act]](nb, y, y, 0.0f, 0.0f);
}

/* Positions [j0, j1) of x to the same positions of y, its blocks ny
 * positions apart. */
static void products(const ember_kernels* kern, size_t L, size_t m, size_t k, size_t n,
                     size_t kc, const float* x, const float* w, float* y, size_t ny,
                     const ember_f32_gemm_epilogue* ep, size_t j0, size_t j1, size_t q0,
                     size_t q1) {
    if (kc == 0) kc = k;
    const size_t blocks = (m + L - 1) / L;
    float s[64];
    for (size_t q = q0; q < q1; q++)
        for (size_t v = 0; v < 2 && q * 2 + v < blocks; v++) {
            const size_t c0 = (q * 2 + v) * L;
            for (size_t j = j0; j < j1; j++) {
                for (size_t l = 0; l < L && c0 + l < m; l++)
                    s[l] = dot(L, k, n, kc, x, w + q * k * 2 * L, v * L + l, j);
                const size_t at = (c0 / L) * ny * L + j * L;
                finish_lanes(kern, L, m, c0, s, ep, ep && ep->resid ? ep->resid + at : NULL,
                             y + at);
            }
        }
}

void ember_f32_conv1x1_blocked_ref(const ember_kernels* kern, size_t L, size_t m, size_t k,
                                   size_t n, size_t kc, const float* x, const float* w, float* y,
                                   const ember_f32_gemm_epilogue* ep, size_t j0, size_t j1,
                                   size_t q0, size_t q1) {
    products(kern, L, m, k, n, kc, x, w, y, n, ep, j0, j1, q0, q1);
}

void ember_f32_conv1x1_blocked_band_ref(const ember_kernels* kern, size_t L, size_t m, size_t k,
                                        size_t n, size_t kc, const float* x, const float* w,
                                        float* y, size_t ny, const ember_f32_gemm_epilogue* ep,
                                        size_t count, size_t q0, size_t q1) {
    products(kern, L, m, k, n, kc, x, w, y, ny, ep, 0, count, q0, q1);
}

void ember_f32_conv_rows_blocked_ref(const ember_kernels* kern, size_t L, size_t m, size_t k,
                                     const float* x, const int32_t* boff, size_t count, size_t ny,
                                     const float* w, float* y, const ember_f32_gemm_epilogue* ep) {
    const size_t blocks = (m + L - 1) / L;
    float s[64];
    for (size_t b = 0; b < blocks; b++)
        for (size_t i = 0; i < count; i++) {
            for (size_t l = 0; l < L && b * L + l < m; l++) { /* one FMA chain over the steps */
                const size_t c = b * L + l;
                const float* wq = w + (c / (2 * L)) * k * 2 * L;
                float r = 0.0f;
                for (size_t p = 0; p < k; p++)
                    r = fmaf(wq[p * 2 * L + c % (2 * L)], x[boff[p] + (ptrdiff_t)i], r);
                s[l] = r;
            }
            finish_lanes(kern, L, m, b * L, s, ep, NULL, y + (b * ny + i) * L);
        }
}
