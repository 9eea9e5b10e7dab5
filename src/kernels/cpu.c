/* One-time CPU feature detection; see cpu.h. */
#include "cpu.h"

#include <pthread.h>

#if defined(__x86_64__) || defined(_M_X64)
#include <cpuid.h>
#define EMBER_CPU_X86 1
#elif defined(__aarch64__) && defined(__linux__)
#include <sys/auxv.h>
#define EMBER_CPU_ARM64 1
#endif

static ember_cpu_info g_cpu;
static pthread_once_t g_cpu_once = PTHREAD_ONCE_INIT;

#if defined(EMBER_CPU_X86)
static unsigned long long xgetbv0(void) {
    unsigned int lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return ((unsigned long long)hi << 32) | lo;
}

static void detect_x86(ember_cpu_info* info) {
    unsigned int a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return;
    const bool fma = (c >> 12) & 1, osxsave = (c >> 27) & 1, avx = (c >> 28) & 1;
    /* PCLMULQDQ (ECX bit 1) and SSE4.1 (bit 19) use XMM state, which x86-64 always has */
    info->pclmul = ((c >> 1) & 1) && ((c >> 19) & 1);
    if (!osxsave || !avx) return;
    const unsigned long long xcr0 = xgetbv0();
    const bool ymm_os = (xcr0 & 0x6) == 0x6;       /* SSE + AVX state */
    const bool zmm_os = (xcr0 & 0xE6) == 0xE6;     /* + opmask, ZMM_Hi256, Hi16_ZMM */
    if (__get_cpuid_max(0, 0) < 7) return;
    __cpuid_count(7, 0, a, b, c, d);
    const bool avx2 = (b >> 5) & 1, avx512f = (b >> 16) & 1, avx512bw = (b >> 30) & 1,
               avx512vl = (b >> 31) & 1, vnni = (c >> 11) & 1;
    info->avx2_fma = ymm_os && avx2 && fma;
    info->avx512 = info->avx2_fma && zmm_os && avx512f && avx512bw && avx512vl;
    info->avx512_vnni = info->avx512 && vnni;
    info->vpclmul = info->avx512 && info->pclmul && ((c >> 10) & 1); /* leaf 7 ECX bit 10 */
}
#endif

#if defined(EMBER_CPU_ARM64)
static void detect_arm64(ember_cpu_info* info) {
    const unsigned long hw = getauxval(AT_HWCAP);
    /* Bits from the Linux arm64 uapi <asm/hwcap.h>. */
    info->neon = (hw >> 1) & 1;                          /* HWCAP_ASIMD */
    info->fp16 = ((hw >> 9) & 1) && ((hw >> 10) & 1);    /* HWCAP_FPHP, HWCAP_ASIMDHP */
    info->asimddp = (hw >> 20) & 1;                      /* HWCAP_ASIMDDP */
    info->crc32 = (hw >> 7) & 1;                         /* HWCAP_CRC32 */
}
#endif

static void detect(void) {
#if defined(EMBER_CPU_X86)
    detect_x86(&g_cpu);
#elif defined(EMBER_CPU_ARM64)
    detect_arm64(&g_cpu);
#endif
}

const ember_cpu_info* ember_cpu(void) {
    pthread_once(&g_cpu_once, detect);
    return &g_cpu;
}
