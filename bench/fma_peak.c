/* FMA peak per vector width: availability, timing (see fma_peak.h). */
#include "fma_peak.h"

#include <time.h>

#include "dispatch.h"

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

const char* ember_fma_width_name(ember_fma_width w) {
    switch (w) {
    case EMBER_FMA_SCALAR: return "scalar";
    case EMBER_FMA_AVX2: return "avx2";
    case EMBER_FMA_AVX512: return "avx512";
    default: return "?";
    }
}

int ember_fma_width_available(ember_fma_width w) {
#if defined(__x86_64__)
    switch (w) {
    case EMBER_FMA_SCALAR: /* vfmadd231ss is FMA3: the avx2 path's CPUs */
    case EMBER_FMA_AVX2: return ember_kernels_for("avx2") != NULL;
    case EMBER_FMA_AVX512: return ember_kernels_for("avx512") != NULL;
    default: return 0;
    }
#else
    return w == EMBER_FMA_SCALAR;
#endif
}

double ember_fma_run(ember_fma_width w, uint64_t iters, float* sink) {
    *sink = 0.0f;
    if (!ember_fma_width_available(w)) return 0.0;
    switch (w) {
    case EMBER_FMA_SCALAR: return ember_fma_run_scalar(iters, sink);
#if defined(__x86_64__)
    case EMBER_FMA_AVX2: return ember_fma_run_avx2(iters, sink);
    case EMBER_FMA_AVX512: return ember_fma_run_avx512(iters, sink);
#endif
    default: return 0.0;
    }
}

double ember_fma_peak_gflops(ember_fma_width w, int runs, double ms_per_run) {
    if (!ember_fma_width_available(w)) return 0.0;
    float sink;
    /* Calibrate: grow iters until one run takes about ms_per_run. */
    uint64_t iters = 1u << 16;
    double dt = 0.0;
    for (;;) {
        const double t0 = now_s();
        ember_fma_run(w, iters, &sink);
        dt = now_s() - t0;
        if (dt >= ms_per_run * 1e-3 * 0.5 || iters >= (1ull << 40)) break;
        iters *= 2;
    }
    if (dt > 0.0) iters = (uint64_t)((double)iters * (ms_per_run * 1e-3) / dt) + 1;
    double best = 0.0;
    for (int r = 0; r < runs; r++) {
        const double t0 = now_s();
        const double flops = ember_fma_run(w, iters, &sink);
        const double g = flops / (now_s() - t0) * 1e-9;
        if (g > best) best = g;
    }
    return best;
}
