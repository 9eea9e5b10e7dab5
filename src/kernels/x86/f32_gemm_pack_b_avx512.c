/* The GEMM's B packing (ember_f32_pack_b_fn) for panels of up to 32 columns,
 * AVX-512F. B is packed on every run where it is not a weight: Winograd's 36
 * transformed inputs a block, attention's keys and values, a MatMul of two
 * activations. Rows contiguous: a panel step is one or two (masked) loads and
 * stores, where the portable code called memcpy for 128 bytes. Columns
 * contiguous (B^T, attention's keys): 16 x 16 tiles transposed in registers,
 * so the caller needs no transposed copy first. Other strides take the
 * portable code. A copy: the same bytes. Compiled with -mavx512f -mavx512bw
 * -mavx512vl -mfma. */
#include <immintrin.h>

#include "dispatch.h"
#include "f32_gemm.h"
#include "f32_tr16_avx512.h"

static inline __mmask16 first(size_t n) {
    return n >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << n) - 1u);
}

/* Columns contiguous: column j of B at b + j * cs, its steps one float apart.
 * Up to 16 columns (j0 ..) by 16 steps a tile: the tile's rows are columns of
 * B, transposed they are panel steps. */
static void pack_transposed(size_t nr, size_t cols, size_t kc, const float* b, size_t cs,
                            float* dst) {
    __m512 r[16];
    for (size_t j0 = 0; j0 < nr; j0 += 16) {
        const size_t nj = cols > j0 ? (cols - j0 < 16 ? cols - j0 : 16) : 0;
        const __mmask16 out = first(nr - j0);
        for (size_t p = 0; p < kc; p += 16) {
            const size_t np = kc - p < 16 ? kc - p : 16;
            const __mmask16 in = first(np);
#pragma GCC unroll 16
            for (size_t j = 0; j < 16; j++)
                r[j] = j < nj ? _mm512_maskz_loadu_ps(in, b + (j0 + j) * cs + p)
                              : _mm512_setzero_ps();
            tr16(r);
            for (size_t k = 0; k < np; k++) _mm512_mask_storeu_ps(dst + (p + k) * nr + j0, out, r[k]);
        }
    }
}

void ember_f32_gemm_pack_b__avx512(size_t nr, size_t n, size_t kc, const float* b, size_t rs,
                                   size_t cs, float* dst) {
    if (nr > 32 || (cs != 1 && rs != 1)) {
        ember_f32_gemm_pack_b__scalar(nr, n, kc, b, rs, cs, dst);
        return;
    }
    for (size_t j0 = 0; j0 < n; j0 += nr, dst += kc * nr) {
        const size_t cols = n - j0 < nr ? n - j0 : nr;
        if (cs != 1) {
            pack_transposed(nr, cols, kc, b + j0 * cs, cs, dst);
            continue;
        }
        /* rows contiguous: columns past n read as 0, lanes past nr not stored */
        const __mmask16 in0 = first(cols), in1 = cols > 16 ? first(cols - 16) : 0;
        const __mmask16 out0 = first(nr), out1 = nr > 16 ? first(nr - 16) : 0;
        const float* src = b + j0;
        if (cols == 32 && nr == 32) {
            for (size_t p = 0; p < kc; p++, src += rs) {
                _mm512_storeu_ps(dst + p * 32, _mm512_loadu_ps(src));
                _mm512_storeu_ps(dst + p * 32 + 16, _mm512_loadu_ps(src + 16));
            }
            continue;
        }
        for (size_t p = 0; p < kc; p++, src += rs) {
            _mm512_mask_storeu_ps(dst + p * nr, out0, _mm512_maskz_loadu_ps(in0, src));
            if (out1) _mm512_mask_storeu_ps(dst + p * nr + 16, out1, _mm512_maskz_loadu_ps(in1, src + 16));
        }
    }
}
