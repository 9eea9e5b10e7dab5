/* Winograd F(4x4, 3x3) transforms, portable C (the body is f32_winograd_tmpl.h),
 * and the filter transform. */
#include "f32_winograd.h"

#define WINO_IN_FN ember_f32_wino43_input__scalar
#define WINO_OUT_FN ember_f32_wino43_output__scalar
#include "f32_winograd_tmpl.h"

void ember_f32_wino43_filter(const float* g, float* u) {
    static const double G[6][3] = {{1.0 / 4, 0, 0},
                                   {-1.0 / 6, -1.0 / 6, -1.0 / 6},
                                   {-1.0 / 6, 1.0 / 6, -1.0 / 6},
                                   {1.0 / 24, 1.0 / 12, 1.0 / 6},
                                   {1.0 / 24, -1.0 / 12, 1.0 / 6},
                                   {0, 0, 1}};
    double t[6][3]; /* G g */
    for (int a = 0; a < 6; a++)
        for (int j = 0; j < 3; j++) {
            double s = 0;
            for (int i = 0; i < 3; i++) s += G[a][i] * (double)g[3 * i + j];
            t[a][j] = s;
        }
    for (int a = 0; a < 6; a++)
        for (int b = 0; b < 6; b++) {
            double s = 0;
            for (int j = 0; j < 3; j++) s += t[a][j] * G[b][j];
            u[6 * a + b] = (float)s;
        }
}
