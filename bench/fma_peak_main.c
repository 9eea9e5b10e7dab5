/* Prints the measured FMA peak (GFLOP/s, one thread) of each vector width
 * this CPU can run: best of 20 runs of ~20 ms.
 *
 *   fma_peak */
#include <stdio.h>

#include "fma_peak.h"

int main(void) {
    printf("%-8s %10s\n", "width", "GFLOP/s");
    for (int w = 0; w < EMBER_FMA_WIDTH_COUNT; w++) {
        if (!ember_fma_width_available((ember_fma_width)w)) {
            printf("%-8s %10s\n", ember_fma_width_name((ember_fma_width)w), "n/a");
            continue;
        }
        printf("%-8s %10.1f\n", ember_fma_width_name((ember_fma_width)w),
               ember_fma_peak_gflops((ember_fma_width)w, 20, 20.0));
    }
    return 0;
}
