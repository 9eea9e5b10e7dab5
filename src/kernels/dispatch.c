/* The kernel tables and the one-time choice of the default; see dispatch.h. */
#include "dispatch.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpu.h"
#include "f32_conv1x1_blocked.h"
#include "f32_dwconv.h"
#include "f32_gemm.h"
#include "f32_pool2d.h"
#include "f32_transpose.h"
#include "f32_im2col_pack.h"
#include "f32_rowwise.h"
#include "f32_vunary.h"
#include "f32_winograd.h"

/* Cache blocks: mc * kc floats of A in L2, kc * nc floats of B in L3; a B
 * micro-panel (kc * nr) is reused across the A panels from L1/L2. The x86
 * blocks were tuned on Zen 4 (32 KiB L1d, 1 MiB L2): a long kc (fewer
 * read-modify-writes of C) beat an L1-sized B micro-panel; see docs/PERFORMANCE.md. */
static const ember_kernels k_generic = {
    .isa = "generic",
    .f32_gemm = {.ukernel = ember_f32_gemm_ukernel_4x4__scalar,
                 .ukernel_rows = ember_f32_gemm_ukernel_rows_4x4__scalar,
                 .pack_a = ember_f32_gemm_pack_a__scalar,
                 .pack_b = ember_f32_gemm_pack_b__scalar,
                 .mr = 4, .nr = 4, .kc = 256, .mc = 128, .nc = 2048},
    .f32_dwconv = {.run = ember_f32_dwconv__scalar, .lanes = 0, .blocked = NULL, .block = 0},
    .f32_gemv_n = ember_f32_gemv_n__scalar,
    .f32_gemv_t = ember_f32_gemv_t__scalar,
    .f32_elementwise = EMBER_F32_ELEMENTWISE_TABLE(scalar),
    .f32_winograd = {ember_f32_wino43_input__scalar, ember_f32_wino43_output__scalar},
    .f32_softmax = EMBER_F32_SOFTMAX_TABLE(scalar),
    .f32_layernorm = EMBER_F32_LAYERNORM_FN(scalar),
    .f32_im2col_pack_b = ember_f32_im2col_pack_b,
    .f32_maxpool2d = ember_f32_maxpool2d,
    .f32_transpose2d = ember_f32_transpose2d__scalar,
};

#if defined(__x86_64__)
#define EMBER_HAVE_X86_KERNELS 1
static const ember_kernels k_avx2 = {
    .isa = "avx2",
    .f32_gemm = {.ukernel = ember_f32_gemm_ukernel_6x16__avx2,
                 .ukernel_ep = ember_f32_gemm_ukernel_ep_6x16__avx2,
                 .ukernel_rows = ember_f32_gemm_ukernel_rows_6x16__avx2,
                 .pack_a = ember_f32_gemm_pack_a__avx2,
                 .pack_b = ember_f32_gemm_pack_b__avx2,
                 .mr = 6, .nr = 16, .kc = 512, .mc = 72, .nc = 2048},
    .f32_dwconv = {.run = ember_f32_dwconv__avx2, .lanes = 8,
                   .blocked = ember_f32_dwconv_blocked__avx2, .block = 8,
                   .gather = ember_f32_dwconv_gather__avx2,
                   .scatter = ember_f32_dwconv_scatter__avx2},
    .f32_gemv_n = ember_f32_gemv_n__avx2,
    .f32_gemv_t = ember_f32_gemv_t__avx2,
    .f32_elementwise = EMBER_F32_ELEMENTWISE_TABLE(avx2),
    .f32_winograd = {ember_f32_wino43_input__avx2, ember_f32_wino43_output__avx2},
    .f32_softmax = EMBER_F32_SOFTMAX_TABLE(avx2),
    .f32_layernorm = EMBER_F32_LAYERNORM_FN(avx2),
    .f32_im2col_pack_b = ember_f32_im2col_pack_b__avx2,
    .f32_maxpool2d = ember_f32_maxpool2d__avx2,
    .f32_transpose2d = ember_f32_transpose2d__avx2,
};
static const ember_kernels k_avx512 = {
    .isa = "avx512",
    .f32_gemm = {.ukernel = ember_f32_gemm_ukernel_12x32__avx512,
                 .ukernel_ep = ember_f32_gemm_ukernel_ep_12x32__avx512,
                 .ukernel_rows = ember_f32_gemm_ukernel_rows_12x32__avx512,
                 .pack_a = ember_f32_gemm_pack_a__avx512,
                 .pack_b = ember_f32_gemm_pack_b__avx512,
                 .mr = 12, .nr = 32, .kc = 1024, .mc = 144, .nc = 2048},
    .f32_dwconv = {.run = ember_f32_dwconv__avx512, .lanes = 16,
                   .blocked = ember_f32_dwconv_blocked__avx512, .block = 16,
                   .gather = ember_f32_dwconv_gather__avx512,
                   .scatter = ember_f32_dwconv_scatter__avx512},
    .f32_gemv_n = ember_f32_gemv_n__avx512,
    .f32_gemv_t = ember_f32_gemv_t__avx512,
    .f32_elementwise = EMBER_F32_ELEMENTWISE_TABLE(avx512),
    .f32_winograd = {ember_f32_wino43_input__avx512, ember_f32_wino43_output__avx512},
    .f32_softmax = EMBER_F32_SOFTMAX_TABLE(avx512),
    .f32_layernorm = EMBER_F32_LAYERNORM_FN(avx512),
    .f32_im2col_pack_b = ember_f32_im2col_pack_b__avx2,
    .f32_conv1x1_blocked = ember_f32_conv1x1_blocked__avx512,
    .f32_conv1x1_blocked_band = ember_f32_conv1x1_blocked_band__avx512,
    .f32_maxpool2d = ember_f32_maxpool2d__avx512,
    .f32_transpose2d = ember_f32_transpose2d__avx512,
    .f32_global_avgpool_c16 = ember_f32_global_avgpool_c16__avx512,
    .f32_conv_rows_blocked = ember_f32_conv_rows_blocked__avx512,
    .f32_maxpool2d_c16 = ember_f32_maxpool2d_c16__avx512,
};
#endif

#if defined(__aarch64__)
#define EMBER_HAVE_ARM_KERNELS 1
/* Depthwise convolution: the planar kernel of the x86 template, 4 columns a
 * vector (no channel-blocked path yet). Cache blocks not tuned (tested under
 * qemu only, see docs/PERFORMANCE.md). */
static const ember_kernels k_neon = {
    .isa = "neon",
    .f32_gemm = {.ukernel = ember_f32_gemm_ukernel_8x12__neon,
                 .ukernel_rows = ember_f32_gemm_ukernel_rows_8x12__neon,
                 .pack_a = ember_f32_gemm_pack_a__scalar,
                 .pack_b = ember_f32_gemm_pack_b__scalar,
                 .mr = 8, .nr = 12, .kc = 256, .mc = 128, .nc = 2040},
    .f32_dwconv = {.run = ember_f32_dwconv__neon, .lanes = 4, .blocked = NULL, .block = 0},
    .f32_gemv_n = ember_f32_gemv_n__neon,
    .f32_gemv_t = ember_f32_gemv_t__neon,
    .f32_elementwise = EMBER_F32_ELEMENTWISE_TABLE(neon),
    .f32_winograd = {ember_f32_wino43_input__scalar, ember_f32_wino43_output__scalar},
    .f32_softmax = EMBER_F32_SOFTMAX_TABLE(neon),
    .f32_layernorm = EMBER_F32_LAYERNORM_FN(neon),
    .f32_im2col_pack_b = ember_f32_im2col_pack_b,
    .f32_maxpool2d = ember_f32_maxpool2d,
    .f32_transpose2d = ember_f32_transpose2d__scalar,
};
#endif

/* Can this build and CPU run the named path? Sets *table when it can. */
static bool supported(const char* isa, const ember_kernels** table) {
    const ember_cpu_info* cpu = ember_cpu();
    if (strcmp(isa, "generic") == 0) {
        *table = &k_generic;
        return true;
    }
#if defined(EMBER_HAVE_X86_KERNELS)
    if (strcmp(isa, "avx2") == 0 && cpu->avx2_fma) {
        *table = &k_avx2;
        return true;
    }
    if (strcmp(isa, "avx512") == 0 && cpu->avx512) {
        *table = &k_avx512;
        return true;
    }
#endif
#if defined(EMBER_HAVE_ARM_KERNELS)
    if (strcmp(isa, "neon") == 0 && cpu->neon) {
        *table = &k_neon;
        return true;
    }
#endif
    (void)cpu;
    return false;
}

static const ember_kernels* best(void) {
    static const char* const order[] = {"avx512", "avx2", "neon", "generic"};
    const ember_kernels* t = &k_generic;
    for (size_t i = 0; i < sizeof order / sizeof order[0]; i++)
        if (supported(order[i], &t)) break;
    return t;
}

static const ember_kernels* g_default;
static char g_note[160];
static pthread_once_t g_once = PTHREAD_ONCE_INIT;

static void choose(void) {
    g_default = best();
    const char* want = getenv("EMBER_ISA");
    if (!want || !*want) return;
    const ember_kernels* t = NULL;
    static const char* const known[] = {"generic", "avx2", "avx512", "neon"};
    bool is_known = false;
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        is_known = is_known || strcmp(want, known[i]) == 0;
    if (!is_known)
        snprintf(g_note, sizeof g_note,
                 "EMBER_ISA=%.32s is not one of generic, avx2, avx512, neon; using %s", want,
                 g_default->isa);
    else if (!supported(want, &t))
        snprintf(g_note, sizeof g_note,
                 "EMBER_ISA=%s cannot run on this CPU or build; using %s", want, g_default->isa);
    else
        g_default = t;
}

const ember_kernels* ember_kernels_default(void) {
    pthread_once(&g_once, choose);
    return g_default;
}

const ember_kernels* ember_kernels_for(const char* isa_or_null) {
    if (!isa_or_null) return ember_kernels_default();
    const ember_kernels* t = NULL;
    return supported(isa_or_null, &t) ? t : NULL;
}

const char* ember_kernels_note(void) {
    pthread_once(&g_once, choose);
    return g_note;
}
