/* Winograd F(4x4, 3x3) transforms, portable C (the body is f32_winograd_tmpl.h),
 * and the filter transform. */
#include "f32_winograd.h"

#define WINO_IN_FN ember_f32_wino43_input__scalar
#define WINO_OUT_FN ember_f32_wino43_output__scalar
#include "f32_winograd_tmpl.h"

/* U = G g G^T of n filters g[q * 9 ..] (row-major 3x3), element p of filter q to
 * u[p * ldu + q]: the separable products written out, in double, rounded to
 * float once. */
void ember_f32_wino43_filter(size_t n, const float* g, float* u, size_t ldu) {
    const double s6 = 1.0 / 6, s12 = 1.0 / 12, s24 = 1.0 / 24;
    for (size_t q = 0; q < n; q++) {
        const float* f = g + 9 * q;
        double t[6][3]; /* G g: row a, column j */
        for (int j = 0; j < 3; j++) {
            const double v0 = f[j], v1 = f[3 + j], v2 = f[6 + j];
            t[0][j] = 0.25 * v0;
            t[1][j] = -s6 * (v0 + v1 + v2);
            t[2][j] = -s6 * (v0 - v1 + v2);
            t[3][j] = s24 * v0 + s12 * v1 + s6 * v2;
            t[4][j] = s24 * v0 - s12 * v1 + s6 * v2;
            t[5][j] = v2;
        }
        float* uq = u + q;
        for (int a = 0; a < 6; a++) { /* row a of U = G (row a of G g)^T */
            const double v0 = t[a][0], v1 = t[a][1], v2 = t[a][2];
            float* ua = uq + (size_t)(6 * a) * ldu;
            ua[0] = (float)(0.25 * v0);
            ua[ldu] = (float)(-s6 * (v0 + v1 + v2));
            ua[2 * ldu] = (float)(-s6 * (v0 - v1 + v2));
            ua[3 * ldu] = (float)(s24 * v0 + s12 * v1 + s6 * v2);
            ua[4 * ldu] = (float)(s24 * v0 - s12 * v1 + s6 * v2);
            ua[5 * ldu] = (float)v2;
        }
    }
}
