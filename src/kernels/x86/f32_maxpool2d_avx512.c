/* F32 2-D max pooling, AVX-512F (f32_pool2d.h): the body is
 * x86/f32_maxpool2d_tmpl.h on 16 lanes, masked loads and stores for the
 * tails (mobile and ImageNet pools have rows of 13 to 112 floats), stride 2
 * gathered by a two-source permute; and the same pool on one NCHW16c plane.
 * The max lets NaN through exactly as the portable max_nan, ties keep the
 * running value: the same bits. Compiled with -mavx512f -mavx512bw
 * -mavx512vl -mfma. */
#include <immintrin.h>
#include <math.h>
#include <stdint.h>

/* max_nan lane for lane: maxps(v, m) is v > m ? v : m (m on ties), then v
 * where v is NaN */
static inline __m512 vmax_nan(__m512 m, __m512 v) {
    return _mm512_mask_mov_ps(_mm512_max_ps(v, m), _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q), v);
}

static inline __mmask16 tail(size_t n) {
    return n >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << n) - 1u);
}

/* Columns 0, 2, .., 30 of the 32 at p. */
static inline __m512 evens(const float* p) {
    const __m512i ev = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    return _mm512_permutex2var_ps(_mm512_loadu_ps(p), ev, _mm512_loadu_ps(p + 16));
}

#define MP_V __m512
#define MP_L 16
#define MP_LOADU(p) _mm512_loadu_ps(p)
#define MP_STOREU(p, v) _mm512_storeu_ps(p, v)
#define MP_SET1(x) _mm512_set1_ps(x)
#define MP_MAX_NAN(m, v) vmax_nan(m, v)
#define MP_LOAD_PART(p, n) _mm512_maskz_loadu_ps(tail(n), p)
#define MP_STORE_PART(p, n, v) _mm512_mask_storeu_ps(p, tail(n), v)
#define MP_PAD_NINF(v, n) _mm512_mask_blend_ps(tail(n), _mm512_set1_ps(-INFINITY), v)
#define MP_EVENS(p) evens(p)
#define MP_FN ember_f32_maxpool2d__avx512

#include "f32_maxpool2d_tmpl.h"

/* The same pool on one channel-blocked plane of 16 lanes (x: ih x iw x 16, y:
 * oh x ow x 16): each lane the portable pool's value by the same operations
 * in the same order (the window's valid rows reduced per column, -inf for a
 * padded column, then the columns in tap order), computed per output. */
void ember_f32_maxpool2d_c16__avx512(const ember_window* w, const float* x, float* y) {
    const size_t ih = w->image[1], iw = w->image[2], oh = w->out[1], ow = w->out[2];
    const size_t kh = w->kernel[1], kw = w->kernel[2], sh = w->stride[1], sw = w->stride[2];
    const size_t dh = w->dilation[1], dw = w->dilation[2];
    const __m512 ninf = _mm512_set1_ps(-INFINITY);
    for (size_t i = 0; i < oh; i++) {
        const ptrdiff_t r0 = (ptrdiff_t)(i * sh) - w->pad[1];
        size_t u0 = 0, u1 = kh;
        while (u0 < u1 && r0 + (ptrdiff_t)(u0 * dh) < 0) u0++;
        while (u1 > u0 && r0 + (ptrdiff_t)((u1 - 1) * dh) >= (ptrdiff_t)ih) u1--;
        float* yr = y + i * ow * 16;
        if (u0 == u1) {
            for (size_t j = 0; j < ow; j++) _mm512_storeu_ps(yr + j * 16, ninf);
            continue;
        }
        const float* first = x + (size_t)(r0 + (ptrdiff_t)(u0 * dh)) * iw * 16;
        for (size_t j = 0; j < ow; j++) {
            __m512 m = ninf;
            for (size_t t = 0; t < kw; t++) {
                const ptrdiff_t c = (ptrdiff_t)(j * sw + t * dw) - w->pad[2];
                __m512 v = ninf;
                if (c >= 0 && c < (ptrdiff_t)iw) {
                    const float* xc = first + (size_t)c * 16;
                    v = _mm512_loadu_ps(xc);
                    for (size_t u = u0 + 1; u < u1; u++)
                        v = vmax_nan(v, _mm512_loadu_ps(xc + (u - u0) * dh * iw * 16));
                }
                m = t == 0 ? v : vmax_nan(m, v);
            }
            _mm512_storeu_ps(yr + j * 16, m);
        }
    }
}
