#ifndef EMBER_CRC32_H
#define EMBER_CRC32_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
/* CRC-32 as zlib computes it (polynomial 0xEDB88320, reflected, ~0 in and out),
 * with the fastest path this CPU supports (crc32.c chooses once). */
uint32_t em_crc32(const void* data, size_t size);

/* One implementation, zlib's crc32() contract: crc is the CRC of the bytes
 * before data (0 to start), the result that of those bytes followed by data.
 * Every path gives the same value for the same bytes. */
typedef uint32_t (*em_crc32_fn)(uint32_t crc, const void* data, size_t size);

/* Continues a CRC with the path em_crc32 uses (to check a file in pieces). */
uint32_t em_crc32_update(uint32_t crc, const void* data, size_t size);

/* The portable slice-by-8 path: the reference every other path is tested against. */
uint32_t em_crc32_portable(uint32_t crc, const void* data, size_t size);

/* Bit at a time, for the few bytes the folding paths leave over (no tables). */
static inline uint32_t em_crc32_bitwise(uint32_t crc, const void* data, size_t size) {
    const unsigned char* p = data;
    crc = ~crc;
    while (size--) {
        crc ^= *p++;
        for (int k = 0; k < 8; k++) crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
    }
    return ~crc;
}

/* The paths compiled into this build, for the tests and benchmarks: names[i]
 * and fns[i], supported[i] false where this CPU cannot run it. Returns the count
 * (at most 4); the first is always the portable path. */
size_t em_crc32_paths(const char** names, em_crc32_fn* fns, bool* supported, size_t cap);

#if defined(__x86_64__)
/* PCLMULQDQ folding (crc32_pclmul.c, -mpclmul -msse4.1) and VPCLMULQDQ on
 * 512-bit registers (crc32_vpclmul.c, AVX-512). */
uint32_t em_crc32_pclmul(uint32_t crc, const void* data, size_t size);
uint32_t em_crc32_vpclmul(uint32_t crc, const void* data, size_t size);
#elif defined(__aarch64__)
/* The ARMv8 CRC32 instructions (crc32_armv8.c, -march=armv8-a+crc). */
uint32_t em_crc32_armv8(uint32_t crc, const void* data, size_t size);
#endif
#endif
