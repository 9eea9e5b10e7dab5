/* The 2-D f32 transpose (f32_transpose.h), AVX2: 8 x 8 tiles transposed in
 * registers (x86/f32_tr8_avx2.h); the edges that fill no whole tile go
 * element by element (AVX2's masked stores are slow on some cores).
 * Compiled with -mavx2. */
#include <immintrin.h>

#include "f32_tr8_avx2.h"
#include "f32_transpose.h"

void ember_f32_transpose2d__avx2(size_t rows, size_t cols, const float* x, size_t ldx, float* y,
                                 size_t ldy) {
    const size_t rows8 = rows / 8 * 8, cols8 = cols / 8 * 8;
    __m256 r[8];
    for (size_t i0 = 0; i0 < rows8; i0 += 8)
        for (size_t j0 = 0; j0 < cols8; j0 += 8) {
            for (size_t i = 0; i < 8; i++) r[i] = _mm256_loadu_ps(x + (i0 + i) * ldx + j0);
            tr8(r);
            for (size_t j = 0; j < 8; j++) _mm256_storeu_ps(y + (j0 + j) * ldy + i0, r[j]);
        }
    if (cols8 < cols) /* the right edge of x: rows8 x (cols - cols8) */
        ember_f32_transpose2d__scalar(rows8, cols - cols8, x + cols8, ldx, y + cols8 * ldy, ldy);
    if (rows8 < rows) /* the bottom edge, all columns */
        ember_f32_transpose2d__scalar(rows - rows8, cols, x + rows8 * ldx, ldx, y + rows8, ldy);
}
