/* Reference resampling along one axis; Resize applies it axis by axis. */
#include "nn_ref.h"

void ember_f32_resize_gather_axis_ref(size_t outer, size_t in_n, size_t inner, size_t out_n,
                                      const int64_t* idx, const float* x, float* y) {
    for (size_t o = 0; o < outer; o++) {
        const float* xo = x + o * in_n * inner;
        for (size_t j = 0; j < out_n; j++) {
            const float* src = xo + (size_t)idx[j] * inner;
            for (size_t i = 0; i < inner; i++) *y++ = src[i];
        }
    }
}

void ember_f32_resize_linear_axis_ref(size_t outer, size_t in_n, size_t inner, size_t out_n,
                                      const int64_t* i0, const int64_t* i1, const float* w,
                                      const float* x, float* y) {
    for (size_t o = 0; o < outer; o++) {
        const float* xo = x + o * in_n * inner;
        for (size_t j = 0; j < out_n; j++) {
            const float* a = xo + (size_t)i0[j] * inner;
            const float* b = xo + (size_t)i1[j] * inner;
            const float wb = w[j], wa = 1.0f - w[j];
            if (wb == 0.0f) {
                for (size_t i = 0; i < inner; i++) *y++ = a[i];
            } else {
                for (size_t i = 0; i < inner; i++) *y++ = a[i] * wa + b[i] * wb;
            }
        }
    }
}
