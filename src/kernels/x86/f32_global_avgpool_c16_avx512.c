/* GlobalAveragePool of NCHW16c planes, AVX-512F: one zmm accumulator per
 * position mod 16, so each lane adds its plane in the portable order
 * (ember_f32_global_avgpool_blocked, f32_pool2d.h): the same bits, 16
 * channels a vector. Compiled with -mavx512f -mavx512bw -mavx512vl -mfma. */
#include <immintrin.h>
#include <math.h>

#include "f32_pool2d.h"

void ember_f32_global_avgpool_c16__avx512(size_t blocks, size_t size, const float* x, float* y) {
    const __m512 count = _mm512_set1_ps((float)size);
    for (size_t b = 0; b < blocks; b++, x += size * 16, y += 16) {
        __m512 acc[16];
        for (int r = 0; r < 16; r++) acc[r] = _mm512_setzero_ps();
        size_t i = 0;
        for (; i + 16 <= size; i += 16)
            for (int r = 0; r < 16; r++)
                acc[r] = _mm512_add_ps(acc[r], _mm512_loadu_ps(x + (i + (size_t)r) * 16));
        for (int r = 0; i < size; i++, r++) acc[r] = _mm512_add_ps(acc[r], _mm512_loadu_ps(x + i * 16));
        for (int h = 8; h > 0; h /= 2)
            for (int r = 0; r < h; r++) acc[r] = _mm512_add_ps(acc[r], acc[r + h]);
        _mm512_storeu_ps(y, size ? _mm512_div_ps(acc[0], count) : _mm512_set1_ps(NAN));
    }
}
