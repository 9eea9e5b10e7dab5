/* CRC-32 with VPCLMULQDQ on 512-bit registers (compiled with -mvpclmulqdq
 * -mpclmul -msse4.1 -mavx512f): four ZMM accumulators take 256 bytes a step,
 * folded forward by 2048 bits in each 128-bit lane; they then fold into one
 * ZMM, whose four lanes fold onto the last, and crc32_x86.h finishes. */
#include "crc32_x86.h"

static inline __m512i fold512(__m512i x, __m512i k) {
    return _mm512_xor_si512(_mm512_clmulepi64_epi128(x, k, 0x00), _mm512_clmulepi64_epi128(x, k, 0x11));
}

static inline __m512i k4lanes(unsigned long long hi_degree, unsigned long long lo_degree) {
    return _mm512_broadcast_i32x4(_mm_set_epi64x((long long)lo_degree, (long long)hi_degree));
}

uint32_t em_crc32_vpclmul(uint32_t crc, const void* data, size_t size) {
    const unsigned char* p = data;
    if (size < 256) return em_crc32_pclmul(crc, data, size);
    const __m512i k2048 = k4lanes(0x7cc8e1e700000000ull, 0x03f9f86300000000ull);
    const __m512i k512 = k4lanes(EM_CRC_X575, EM_CRC_X511);
    __m512i z0 = _mm512_xor_si512(_mm512_loadu_si512(p),
                                  _mm512_zextsi128_si512(_mm_cvtsi32_si128((int)~crc)));
    __m512i z1 = _mm512_loadu_si512(p + 64);
    __m512i z2 = _mm512_loadu_si512(p + 128);
    __m512i z3 = _mm512_loadu_si512(p + 192);
    size_t n = size - 256;
    for (p += 256; n >= 256; p += 256, n -= 256) {
        z0 = _mm512_xor_si512(fold512(z0, k2048), _mm512_loadu_si512(p));
        z1 = _mm512_xor_si512(fold512(z1, k2048), _mm512_loadu_si512(p + 64));
        z2 = _mm512_xor_si512(fold512(z2, k2048), _mm512_loadu_si512(p + 128));
        z3 = _mm512_xor_si512(fold512(z3, k2048), _mm512_loadu_si512(p + 192));
    }
    __m512i z = _mm512_xor_si512(fold512(z0, k512), z1);
    z = _mm512_xor_si512(fold512(z, k512), z2);
    z = _mm512_xor_si512(fold512(z, k512), z3);
    for (; n >= 64; p += 64, n -= 64) z = _mm512_xor_si512(fold512(z, k512), _mm512_loadu_si512(p));
    /* lanes 0..2 are 384, 256 and 128 bits before lane 3 */
    const __m512i kl = _mm512_set_epi64(0, 0, (long long)EM_CRC_X127, (long long)EM_CRC_X191,
                                        (long long)EM_CRC_X255, (long long)EM_CRC_X319,
                                        (long long)EM_CRC_X383, (long long)EM_CRC_X447);
    const __m512i f = fold512(z, kl); /* lane 3: zero */
    __m128i v = _mm_xor_si128(_mm512_extracti32x4_epi32(z, 3),
                              _mm_xor_si128(_mm_xor_si128(_mm512_castsi512_si128(f),
                                                          _mm512_extracti32x4_epi32(f, 1)),
                                            _mm512_extracti32x4_epi32(f, 2)));
    return em_crc_finish(v, p, n);
}
