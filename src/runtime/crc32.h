#ifndef EMBER_CRC32_H
#define EMBER_CRC32_H
#include <stddef.h>
#include <stdint.h>
/* CRC-32 as zlib computes it (polynomial 0xEDB88320, reflected, ~0 in and out). */
uint32_t em_crc32(const void* data, size_t size);
#endif
