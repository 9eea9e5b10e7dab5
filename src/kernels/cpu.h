/* CPU feature detection, run once per process (thread-safe) and read-only after.
 *
 * x86-64: CPUID + XGETBV, so a feature counts only when the OS also saves the
 * registers it needs (YMM state for AVX2, opmask + ZMM state for AVX-512).
 * AArch64 Linux: getauxval(AT_HWCAP). Other targets: nothing but the portable C.
 *
 * This is the only global mutable state of the kernels; it is filled by
 * pthread_once on first use. */
#ifndef EMBER_KERNELS_CPU_H
#define EMBER_KERNELS_CPU_H

#include <stdbool.h>

typedef struct ember_cpu_info {
    /* x86-64 */
    bool avx2_fma;      /* AVX2 and FMA3, with OS YMM state */
    bool avx512;        /* AVX-512 F, BW and VL, with OS opmask and ZMM state */
    bool avx512_vnni;   /* AVX512_VNNI in addition to the above */
    bool pclmul;        /* PCLMULQDQ and SSE4.1 (the CRC-32 fold) */
    bool vpclmul;       /* VPCLMULQDQ on ZMM: avx512 and pclmul in addition */
    /* AArch64 */
    bool neon;          /* Advanced SIMD */
    bool asimddp;       /* SDOT / UDOT */
    bool fp16;          /* FP16 arithmetic (FPHP + ASIMDHP) */
    bool crc32;         /* CRC32 instructions (HWCAP_CRC32) */
} ember_cpu_info;

/* The features of the CPU this process runs on (never NULL). */
const ember_cpu_info* ember_cpu(void);

#endif
