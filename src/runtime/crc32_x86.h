/* CRC-32 (zlib's) by carry-less multiplication, after Intel's "Fast CRC
 * Computation for Generic Polynomials Using PCLMULQDQ": the data is folded 128
 * bits at a time (x * 2^n mod P keeps the CRC), then 128 bits are reduced to 32
 * with two folds and a Barrett reduction. Included by crc32_pclmul.c and
 * crc32_vpclmul.c, which are compiled with the instructions they use.
 *
 * Bit order: a 16-byte little-endian load puts the first byte's bit 0 (the
 * message's highest-degree coefficient) at register bit 0, so bit t stands for
 * x^(127-t) (x^(63-t) in a 64-bit half); a carry-less product of two such
 * halves then stands for x * A * B. A constant "x^n" below is x^n mod P in that
 * 64-bit order (coefficient x^d at bit 63-d), and folding 128 bits forward by N
 * bits multiplies the high-degree half by x^(N+63) and the other by x^(N-1).
 * mu = floor(x^64 / P) and P itself are 33-bit, coefficient x^d at bit 32-d.
 * scripts/crc32_constants.py derives every constant and checks a bit-exact
 * model of these steps against zlib. */
#ifndef EMBER_CRC32_X86_H
#define EMBER_CRC32_X86_H

#include <immintrin.h>
#include <stdint.h>

#include "crc32.h"

#define EM_CRC_X575 0x653d982200000000ull /* fold by 512 */
#define EM_CRC_X511 0xcad38e8f00000000ull
#define EM_CRC_X447 0x69ccfc0d00000000ull /* fold by 384 */
#define EM_CRC_X383 0x2a28386200000000ull
#define EM_CRC_X319 0x9570d49500000000ull /* fold by 256 */
#define EM_CRC_X255 0x01b5fd1d00000000ull
#define EM_CRC_X191 0x65673b4600000000ull /* fold by 128 */
#define EM_CRC_X127 0x9ba54c6f00000000ull
#define EM_CRC_X95 0xccaa009e00000000ull  /* 128 -> 96 bits, times x^32 */
#define EM_CRC_X63 0xb8bc676500000000ull  /* 96 -> 64 bits */
#define EM_CRC_MU 0x1f7011641ull          /* Barrett */
#define EM_CRC_P 0x1db710641ull

/* k holds x^(N+63) in its low half, x^(N-1) in its high half. */
static inline __m128i em_crc_fold(__m128i x, __m128i k) {
    return _mm_xor_si128(_mm_clmulepi64_si128(x, k, 0x00), _mm_clmulepi64_si128(x, k, 0x11));
}

/* 128 bits (the rest of the message, CRC state already folded in) to the CRC
 * register (not inverted). */
static inline uint32_t em_crc_reduce(__m128i v) {
    const __m128i k = _mm_set_epi64x((long long)EM_CRC_X63, (long long)EM_CRC_X95);
    const __m128i b = _mm_set_epi64x((long long)EM_CRC_P, (long long)EM_CRC_MU);
    const __m128i low32 = _mm_set_epi32(0, 0, 0, -1);
    /* y = H * x^96 + L * x^32 (96 bits) */
    __m128i y = _mm_xor_si128(_mm_clmulepi64_si128(v, k, 0x00),
                              _mm_slli_si128(_mm_srli_si128(v, 8), 4));
    /* t = y's top 32 bits * x^64 + the rest (64 bits, in the high half) */
    __m128i t = _mm_srli_si128(_mm_xor_si128(_mm_clmulepi64_si128(y, k, 0x10), y), 8);
    /* q = floor(t / P); crc = t + q * P */
    __m128i q = _mm_and_si128(_mm_clmulepi64_si128(_mm_and_si128(t, low32), b, 0x00), low32);
    __m128i r = _mm_xor_si128(_mm_clmulepi64_si128(q, b, 0x10), t);
    return (uint32_t)_mm_extract_epi32(r, 1);
}

/* Folds v forward over the 16-byte blocks of [p, p + n), then reduces and
 * finishes the last n % 16 bytes. Returns the final (inverted) CRC. */
static inline uint32_t em_crc_finish(__m128i v, const unsigned char* p, size_t n) {
    const __m128i k128 = _mm_set_epi64x((long long)EM_CRC_X127, (long long)EM_CRC_X191);
    for (; n >= 16; p += 16, n -= 16)
        v = _mm_xor_si128(em_crc_fold(v, k128), _mm_loadu_si128((const __m128i*)p));
    return em_crc32_bitwise(~em_crc_reduce(v), p, n);
}

/* The 4 x 128-bit fold over n >= 64 bytes, CRC state crc (not inverted). */
static inline uint32_t em_crc_fold4(uint32_t crc, const unsigned char* p, size_t n) {
    const __m128i k512 = _mm_set_epi64x((long long)EM_CRC_X511, (long long)EM_CRC_X575);
    const __m128i k128 = _mm_set_epi64x((long long)EM_CRC_X127, (long long)EM_CRC_X191);
    __m128i x0 = _mm_xor_si128(_mm_loadu_si128((const __m128i*)p), _mm_cvtsi32_si128((int)crc));
    __m128i x1 = _mm_loadu_si128((const __m128i*)(p + 16));
    __m128i x2 = _mm_loadu_si128((const __m128i*)(p + 32));
    __m128i x3 = _mm_loadu_si128((const __m128i*)(p + 48));
    for (p += 64, n -= 64; n >= 64; p += 64, n -= 64) {
        x0 = _mm_xor_si128(em_crc_fold(x0, k512), _mm_loadu_si128((const __m128i*)p));
        x1 = _mm_xor_si128(em_crc_fold(x1, k512), _mm_loadu_si128((const __m128i*)(p + 16)));
        x2 = _mm_xor_si128(em_crc_fold(x2, k512), _mm_loadu_si128((const __m128i*)(p + 32)));
        x3 = _mm_xor_si128(em_crc_fold(x3, k512), _mm_loadu_si128((const __m128i*)(p + 48)));
    }
    __m128i v = _mm_xor_si128(em_crc_fold(x0, k128), x1);
    v = _mm_xor_si128(em_crc_fold(v, k128), x2);
    v = _mm_xor_si128(em_crc_fold(v, k128), x3);
    return em_crc_finish(v, p, n);
}

#endif
