/* CRC-32 with PCLMULQDQ (compiled with -mpclmul -msse4.1); see crc32_x86.h. */
#include "crc32_x86.h"

uint32_t em_crc32_pclmul(uint32_t crc, const void* data, size_t size) {
    if (size < 64) return em_crc32_bitwise(crc, data, size);
    return em_crc_fold4(~crc, data, size);
}
