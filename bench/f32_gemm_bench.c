/* F32 GEMM throughput: C[n x n] = A[n x n] * B[n x n] for n = 256, 512, 1024 (or
 * the sizes given as arguments), single thread, best of several runs, for the
 * reference kernel, every dispatch path this CPU can run, and OpenBLAS's
 * cblas_sgemm when the build found it.
 *
 *   f32_gemm_bench [n ...] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dispatch.h"
#include "f32_gemm.h"
#include "generic/nn_ref.h"

#if defined(EMBER_BENCH_OPENBLAS)
#include <cblas.h>
void openblas_set_num_threads(int num_threads);
#endif

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

enum { PATH_REF = -1, PATH_OPENBLAS = -2 };

typedef struct run_args {
    size_t n;
    const float *a, *b;
    float* c;
    void* ws;
} run_args;

static void run_once(int which, const ember_kernels* kern, const run_args* r) {
    const size_t n = r->n;
    if (which == PATH_REF) {
        ember_f32_gemm_ref(n, n, n, 1.0f, r->a, n, 1, r->b, n, 1, 0.0f, r->c, n);
#if defined(EMBER_BENCH_OPENBLAS)
    } else if (which == PATH_OPENBLAS) {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)n, (int)n, (int)n, 1.0f, r->a,
                    (int)n, r->b, (int)n, 0.0f, r->c, (int)n);
#endif
    } else {
        ember_f32_gemm(kern, n, n, n, 1.0f, r->a, n, 1, r->b, n, 1, 0.0f, r->c, n, r->ws);
    }
}

/* Best GFLOP/s over repeated runs: at least 3 runs and about 0.5 s. */
static double measure(int which, const ember_kernels* kern, const run_args* r) {
    const double flops = 2.0 * (double)r->n * (double)r->n * (double)r->n;
    double best = 1e30, total = 0.0;
    run_once(which, kern, r); /* warm-up */
    for (int i = 0; i < 3 || (total < 0.5 && i < 200); i++) {
        const double t0 = now_s();
        run_once(which, kern, r);
        const double dt = now_s() - t0;
        total += dt;
        if (dt < best) best = dt;
    }
    return flops / best * 1e-9;
}

int main(int argc, char** argv) {
    size_t sizes[16] = {256, 512, 1024};
    int n_sizes = 3;
    if (argc > 1) {
        n_sizes = 0;
        for (int i = 1; i < argc && n_sizes < 16; i++) sizes[n_sizes++] = (size_t)strtoul(argv[i], NULL, 10);
    }
#if defined(EMBER_BENCH_OPENBLAS)
    openblas_set_num_threads(1);
#endif
    static const char* const isas[] = {"generic", "avx2", "avx512", "neon"};
    printf("%-10s %8s %8s %8s\n", "path", "n", "GFLOP/s", "vs blas");
    for (int s = 0; s < n_sizes; s++) {
        const size_t n = sizes[s];
        float* a = malloc(sizeof(float) * n * n);
        float* b = malloc(sizeof(float) * n * n);
        float* c = malloc(sizeof(float) * n * n);
        size_t ws_max = 0;
        for (size_t i = 0; i < sizeof isas / sizeof isas[0]; i++) {
            const ember_kernels* k = ember_kernels_for(isas[i]);
            if (k) {
                const size_t w = ember_f32_gemm_workspace_size(k, n, n, n);
                if (w > ws_max) ws_max = w;
            }
        }
        void* ws = malloc(ws_max ? ws_max : 1);
        if (!a || !b || !c || !ws) return 1;
        for (size_t i = 0; i < n * n; i++) {
            a[i] = (float)((i * 7919u) % 1000u) / 1000.0f - 0.5f;
            b[i] = (float)((i * 104729u) % 1000u) / 1000.0f - 0.5f;
        }
        const run_args r = {n, a, b, c, ws};
        double blas = 0.0;
#if defined(EMBER_BENCH_OPENBLAS)
        blas = measure(PATH_OPENBLAS, NULL, &r);
        printf("%-10s %8zu %8.1f %8.2f\n", "openblas", n, blas, 1.0);
#endif
        const double ref = measure(PATH_REF, NULL, &r);
        if (blas > 0) printf("%-10s %8zu %8.1f %8.2f\n", "reference", n, ref, ref / blas);
        else printf("%-10s %8zu %8.1f %8s\n", "reference", n, ref, "-");
        for (size_t i = 0; i < sizeof isas / sizeof isas[0]; i++) {
            const ember_kernels* k = ember_kernels_for(isas[i]);
            if (!k) continue;
            const double g = measure(0, k, &r);
            if (blas > 0) printf("%-10s %8zu %8.1f %8.2f\n", isas[i], n, g, g / blas);
            else printf("%-10s %8zu %8.1f %8s\n", isas[i], n, g, "-");
        }
        fflush(stdout);
        free(a);
        free(b);
        free(c);
        free(ws);
    }
    return 0;
}
