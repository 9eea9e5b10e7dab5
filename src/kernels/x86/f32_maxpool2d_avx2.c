/* F32 2-D max pooling, AVX2 (f32_pool2d.h): the body is
 * x86/f32_maxpool2d_tmpl.h on 8 lanes. Stride 2 takes the even lanes of two
 * vectors (a shuffle and a lane permute); a row's last columns are masked
 * loads and -inf stored past them (the row buffer's own padding), and masked
 * stores are kept to a row's last outputs: AVX2's are slow on Zen 4 (a first
 * version with them everywhere ran squeezenet1_1's pools 197-200 / 106-109
 * us, against 72-83 / 49-55). Compiled with -mavx2 -mfma. */
#include <immintrin.h>
#include <math.h>

/* Lanes i < n set, as maskload / maskstore want them. */
static inline __m256i lanes_below(size_t n) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32((int)n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

/* max_nan lane for lane: maxps(v, m) is v > m ? v : m (m on ties), then v
 * where v is NaN */
static inline __m256 vmax_nan(__m256 m, __m256 v) {
    return _mm256_blendv_ps(_mm256_max_ps(v, m), v, _mm256_cmp_ps(v, v, _CMP_UNORD_Q));
}

/* Columns 0, 2, .., 14 of the 16 at p. */
static inline __m256 evens(const float* p) {
    const __m256 s = _mm256_shuffle_ps(_mm256_loadu_ps(p), _mm256_loadu_ps(p + 8),
                                       _MM_SHUFFLE(2, 0, 2, 0)); /* a0 a2 b0 b2 | a4 a6 b4 b6 */
    return _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(s), _MM_SHUFFLE(3, 1, 2, 0)));
}

#define MP_V __m256
#define MP_L 8
#define MP_LOADU(p) _mm256_loadu_ps(p)
#define MP_STOREU(p, v) _mm256_storeu_ps(p, v)
#define MP_SET1(x) _mm256_set1_ps(x)
#define MP_MAX_NAN(m, v) vmax_nan(m, v)
#define MP_LOAD_PART(p, n) _mm256_maskload_ps(p, lanes_below(n))
#define MP_STORE_PART(p, n, v) _mm256_maskstore_ps(p, lanes_below(n), v)
#define MP_PAD_NINF(v, n) \
    _mm256_blendv_ps(_mm256_set1_ps(-INFINITY), v, _mm256_castsi256_ps(lanes_below(n)))
#define MP_EVENS(p) evens(p)
#define MP_FN ember_f32_maxpool2d__avx2

#include "f32_maxpool2d_tmpl.h"
