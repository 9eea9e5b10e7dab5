/* Reference softmax and log-softmax along the middle axis of outer x n x inner. */
#include <math.h>

#include "nn_ref.h"

static void softmax(size_t outer, size_t n, size_t inner, const float* x, float* y, int log_form) {
    for (size_t o = 0; o < outer; o++)
        for (size_t i = 0; i < inner; i++) {
            const float* xp = x + o * n * inner + i;
            float* yp = y + o * n * inner + i;
            float m = -INFINITY;
            for (size_t j = 0; j < n; j++)
                if (xp[j * inner] > m) m = xp[j * inner];
            if (isinf(m) && m < 0) m = 0.0f; /* all -inf: avoid -inf - -inf */
            double s = 0.0;
            for (size_t j = 0; j < n; j++) s += exp((double)xp[j * inner] - m);
            if (log_form) {
                const double ls = log(s);
                for (size_t j = 0; j < n; j++)
                    yp[j * inner] = (float)((double)xp[j * inner] - m - ls);
            } else {
                for (size_t j = 0; j < n; j++)
                    yp[j * inner] = (float)(exp((double)xp[j * inner] - m) / s);
            }
        }
}

void ember_f32_softmax_ref(size_t outer, size_t n, size_t inner, const float* x, float* y) {
    softmax(outer, n, inner, x, y, 0);
}

void ember_f32_log_softmax_ref(size_t outer, size_t n, size_t inner, const float* x, float* y) {
    softmax(outer, n, inner, x, y, 1);
}
