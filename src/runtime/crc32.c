/* CRC-32 (zlib's). The portable path slices by 8 bytes; x86-64 folds with
 * PCLMULQDQ (crc32_pclmul.c) or VPCLMULQDQ (crc32_vpclmul.c), AArch64 uses the
 * ARMv8 CRC32 instructions (crc32_armv8.c). The path is chosen from the CPU's
 * features (src/kernels/cpu.h) on each call: no global state of our own.
 * The portable tables are built on the stack per call (8 KiB, ~2 us). */
#include "crc32.h"

#include <string.h>

#include "cpu.h"

uint32_t em_crc32_portable(uint32_t crc, const void* data, size_t size) {
    uint32_t t[8][256];
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++) c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1u)));
        t[0][i] = c;
    }
    for (uint32_t i = 0; i < 256; i++)
        for (int s = 1; s < 8; s++) t[s][i] = (t[s - 1][i] >> 8) ^ t[0][t[s - 1][i] & 0xFF];

    const unsigned char* p = data;
    crc = ~crc;
    while (size >= 8) {
        uint32_t lo, hi;
        memcpy(&lo, p, 4);
        memcpy(&hi, p + 4, 4);
        lo ^= crc;
        crc = t[7][lo & 0xFF] ^ t[6][(lo >> 8) & 0xFF] ^ t[5][(lo >> 16) & 0xFF] ^ t[4][lo >> 24] ^
              t[3][hi & 0xFF] ^ t[2][(hi >> 8) & 0xFF] ^ t[1][(hi >> 16) & 0xFF] ^ t[0][hi >> 24];
        p += 8;
        size -= 8;
    }
    while (size--) crc = (crc >> 8) ^ t[0][(crc ^ *p++) & 0xFF];
    return ~crc;
}

static em_crc32_fn best(void) {
    const ember_cpu_info* cpu = ember_cpu();
#if defined(__x86_64__)
    if (cpu->vpclmul) return em_crc32_vpclmul;
    if (cpu->pclmul) return em_crc32_pclmul;
#elif defined(__aarch64__)
    if (cpu->crc32) return em_crc32_armv8;
#else
    (void)cpu;
#endif
    return em_crc32_portable;
}

uint32_t em_crc32_update(uint32_t crc, const void* data, size_t size) {
    return best()(crc, data, size);
}

uint32_t em_crc32(const void* data, size_t size) { return best()(0, data, size); }

size_t em_crc32_paths(const char** names, em_crc32_fn* fns, bool* supported, size_t cap) {
    const ember_cpu_info* cpu = ember_cpu();
    struct { const char* name; em_crc32_fn fn; bool ok; } all[] = {
        {"portable", em_crc32_portable, true},
#if defined(__x86_64__)
        {"pclmul", em_crc32_pclmul, cpu->pclmul},
        {"vpclmul", em_crc32_vpclmul, cpu->vpclmul},
#elif defined(__aarch64__)
        {"armv8-crc", em_crc32_armv8, cpu->crc32},
#endif
    };
    (void)cpu;
    size_t n = 0;
    for (; n < sizeof all / sizeof all[0] && n < cap; n++) {
        names[n] = all[n].name;
        fns[n] = all[n].fn;
        supported[n] = all[n].ok;
    }
    return n;
}
