/* The 2-D f32 transpose (f32_transpose.h), AVX-512F: 16 x 16 tiles transposed
 * in registers (x86/f32_tr16_avx512.h); a partial tile loads its columns and
 * stores its rows through masks, the missing rows zero and never stored.
 * Compiled with -mavx512f. */
#include <immintrin.h>

#include "f32_tr16_avx512.h"
#include "f32_transpose.h"

void ember_f32_transpose2d__avx512(size_t rows, size_t cols, const float* x, size_t ldx, float* y,
                                   size_t ldy) {
    __m512 r[16];
    for (size_t i0 = 0; i0 < rows; i0 += 16) {
        const size_t ni = rows - i0 < 16 ? rows - i0 : 16;
        const __mmask16 mi = (__mmask16)((1u << ni) - 1u);
        for (size_t j0 = 0; j0 < cols; j0 += 16) {
            const size_t nj = cols - j0 < 16 ? cols - j0 : 16;
            const float* xs = x + i0 * ldx + j0;
            float* ys = y + j0 * ldy + i0;
            if (ni == 16 && nj == 16) {
                for (size_t i = 0; i < 16; i++) r[i] = _mm512_loadu_ps(xs + i * ldx);
                tr16(r);
                for (size_t j = 0; j < 16; j++) _mm512_storeu_ps(ys + j * ldy, r[j]);
            } else {
                const __mmask16 mj = (__mmask16)((1u << nj) - 1u);
                for (size_t i = 0; i < 16; i++)
                    r[i] = i < ni ? _mm512_maskz_loadu_ps(mj, xs + i * ldx) : _mm512_setzero_ps();
                tr16(r);
                for (size_t j = 0; j < nj; j++) _mm512_mask_storeu_ps(ys + j * ldy, mi, r[j]);
            }
        }
    }
}
