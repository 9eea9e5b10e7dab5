/* FMA peak, scalar: 12 independent chains of dependent single-float FMAs.
 * Compiled with -mfma on x86-64 so that __builtin_fmaf is one vfmadd231ss. */
#include "fma_peak.h"

#define CHAINS 12

double ember_fma_run_scalar(uint64_t iters, float* sink) {
    /* acc = acc * x + y converges to y / (1 - x): no overflow, no subnormals. */
    volatile float vx = 0.999999f, vy = 1e-6f;
    const float x = vx, y = vy;
    float a0 = 0.0f, a1 = 0.1f, a2 = 0.2f, a3 = 0.3f, a4 = 0.4f, a5 = 0.5f;
    float a6 = 0.6f, a7 = 0.7f, a8 = 0.8f, a9 = 0.9f, a10 = 1.0f, a11 = 1.1f;
    for (uint64_t i = 0; i < iters; i++) {
        a0 = __builtin_fmaf(a0, x, y);
        a1 = __builtin_fmaf(a1, x, y);
        a2 = __builtin_fmaf(a2, x, y);
        a3 = __builtin_fmaf(a3, x, y);
        a4 = __builtin_fmaf(a4, x, y);
        a5 = __builtin_fmaf(a5, x, y);
        a6 = __builtin_fmaf(a6, x, y);
        a7 = __builtin_fmaf(a7, x, y);
        a8 = __builtin_fmaf(a8, x, y);
        a9 = __builtin_fmaf(a9, x, y);
        a10 = __builtin_fmaf(a10, x, y);
        a11 = __builtin_fmaf(a11, x, y);
    }
    *sink = a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9 + a10 + a11;
    return 2.0 * CHAINS * (double)iters;
}
