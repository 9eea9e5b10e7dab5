/* CRC-32 with the ARMv8 CRC32 instructions (compiled with -march=armv8-a+crc),
 * which implement zlib's reflected polynomial 0xEDB88320 directly. */
#include <arm_acle.h>
#include <string.h>

#include "crc32.h"

uint32_t em_crc32_armv8(uint32_t crc, const void* data, size_t size) {
    const unsigned char* p = data;
    crc = ~crc;
    for (; size && ((uintptr_t)p & 7); size--) crc = __crc32b(crc, *p++);
    /* one dependency chain; interleaving streams (combined with a carry-less
     * multiply) could go faster, but this is untimed: tested under qemu only */
    for (; size >= 8; p += 8, size -= 8) {
        uint64_t v;
        memcpy(&v, p, 8);
        crc = __crc32d(crc, v);
    }
    for (; size; size--) crc = __crc32b(crc, *p++);
    return ~crc;
}
