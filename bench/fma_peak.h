/* The FMA peak of this machine per vector width, measured (bench/ only).
 *
 * Each width has its own translation unit, compiled with that ISA's flags
 * (fma_peak_scalar.c, fma_peak_avx2.c, fma_peak_avx512.c); each runs enough
 * independent chains of dependent FMAs (12 for scalar and AVX2, which have 16
 * registers; 16 for AVX-512) to keep both FMA pipes busy whatever the FMA
 * latency (4 cycles on Zen 4: 2 pipes x 4 = 8 chains suffice). */
#ifndef EMBER_BENCH_FMA_PEAK_H
#define EMBER_BENCH_FMA_PEAK_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum ember_fma_width {
    EMBER_FMA_SCALAR = 0, /* one float: vfmadd231ss (x86-64), fmadd s (AArch64) */
    EMBER_FMA_AVX2 = 1,   /* 8 floats: 256-bit vfmadd231ps */
    EMBER_FMA_AVX512 = 2, /* 16 floats: 512-bit vfmadd231ps (two 256-bit halves on Zen 4) */
    EMBER_FMA_WIDTH_COUNT = 3
} ember_fma_width;

/* "scalar", "avx2", "avx512". */
const char* ember_fma_width_name(ember_fma_width w);

/* Whether this build and CPU can run width w (scalar on x86-64 needs FMA3,
 * i.e. ember_kernels_for("avx2"); avx2 and avx512 need their dispatch table). */
int ember_fma_width_available(ember_fma_width w);

/* Runs iters iterations of the chains of width w; returns the FLOPs done
 * (2 per lane per FMA), 0 if w is not available. *sink receives a value that
 * depends on every chain (so that nothing is optimised away). */
double ember_fma_run(ember_fma_width w, uint64_t iters, float* sink);

/* The measured peak of width w in GFLOP/s on the calling thread: the best of
 * runs runs of about ms_per_run milliseconds each; 0 if w is not available. */
double ember_fma_peak_gflops(ember_fma_width w, int runs, double ms_per_run);

/* The per-ISA entry points (one translation unit each). */
double ember_fma_run_scalar(uint64_t iters, float* sink);
double ember_fma_run_avx2(uint64_t iters, float* sink);
double ember_fma_run_avx512(uint64_t iters, float* sink);

#ifdef __cplusplus
}
#endif

#endif
