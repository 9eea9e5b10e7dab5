/* Reference normalizations. Sums are accumulated in double: these kernels are
 * the ground truth, not the fast path. */
#include <math.h>

#include "nn_ref.h"

void ember_f32_batchnorm_ref(size_t n, size_t c, size_t spatial, const float* x,
                             const float* scale, const float* bias, const float* mean,
                             const float* var, float eps, float* y) {
    for (size_t b = 0; b < n; b++)
        for (size_t ch = 0; ch < c; ch++) {
            const float k = scale[ch] / sqrtf(var[ch] + eps);
            const float shift = bias[ch] - mean[ch] * k;
            const float* xp = x + (b * c + ch) * spatial;
            float* yp = y + (b * c + ch) * spatial;
            for (size_t i = 0; i < spatial; i++) yp[i] = xp[i] * k + shift;
        }
}

/* Mean and biased variance of n values, two passes. */
static void moments(const float* x, size_t n, double* mean, double* var) {
    double s = 0.0;
    for (size_t i = 0; i < n; i++) s += x[i];
    const double m = n ? s / (double)n : 0.0;
    double q = 0.0;
    for (size_t i = 0; i < n; i++) q += ((double)x[i] - m) * ((double)x[i] - m);
    *mean = m;
    *var = n ? q / (double)n : 0.0;
}

void ember_f32_instancenorm_ref(size_t n, size_t c, size_t spatial, const float* x,
                                const float* scale, const float* bias, float eps, float* y) {
    for (size_t b = 0; b < n; b++)
        for (size_t ch = 0; ch < c; ch++) {
            const float* xp = x + (b * c + ch) * spatial;
            float* yp = y + (b * c + ch) * spatial;
            double m, v;
            moments(xp, spatial, &m, &v);
            const double inv = 1.0 / sqrt(v + (double)eps);
            for (size_t i = 0; i < spatial; i++)
                yp[i] = (float)(((double)xp[i] - m) * inv * scale[ch] + bias[ch]);
        }
}

void ember_f32_layernorm_ref(size_t rows, size_t cols, const float* x, const float* scale,
                             const float* bias, float eps, float* y, float* mean,
                             float* inv_std_dev) {
    for (size_t r = 0; r < rows; r++) {
        const float* xp = x + r * cols;
        float* yp = y + r * cols;
        double m, v;
        moments(xp, cols, &m, &v);
        const double inv = 1.0 / sqrt(v + (double)eps);
        for (size_t j = 0; j < cols; j++) {
            double t = ((double)xp[j] - m) * inv * scale[j];
            if (bias) t += bias[j];
            yp[j] = (float)t;
        }
        if (mean) mean[r] = (float)m;
        if (inv_std_dev) inv_std_dev[r] = (float)inv;
    }
}
