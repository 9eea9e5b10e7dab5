/* Winograd F(4x4, 3x3) transforms, portable C (the body is f32_winograd_tmpl.h),
 * and the filter transform. */
#include "f32_winograd.h"

#define WINO_IN_FN ember_f32_wino43_input__scalar
#define WINO_OUT_FN ember_f32_wino43_output__scalar
#include "f32_winograd_tmpl.h"

/* t = G v for one column v of 3 (G's rows written out), in double: U is
 * rounded to float once. */
static void g_times(double v0, double v1, double v2, double* t) {
    const double s6 = 1.0 / 6, s12 = 1.0 / 12, s24 = 1.0 / 24;
    t[0] = 0.25 * v0;
    t[1] = -s6 * (v0 + v1 + v2);
    t[2] = -s6 * (v0 - v1 + v2);
    t[3] = s24 * v0 + s12 * v1 + s6 * v2;
    t[4] = s24 * v0 - s12 * v1 + s6 * v2;
    t[5] = v2;
}

void ember_f32_wino43_filter(const float* g, float* u) {
    double t[3][6]; /* t[j] = G (column j of g) */
    for (int j = 0; j < 3; j++) g_times(g[j], g[3 + j], g[6 + j], t[j]);
    for (int a = 0; a < 6; a++) { /* row a of U = G (row a of G g)^T */
        double r[6];
        g_times(t[0][a], t[1][a], t[2][a], r);
        for (int b = 0; b < 6; b++) u[6 * a + b] = (float)r[b];
    }
}
