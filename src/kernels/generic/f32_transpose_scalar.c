/* The 2-D f32 transpose (f32_transpose.h): the reference and the portable path. */
#include "f32_transpose.h"

void ember_f32_transpose2d_ref(size_t rows, size_t cols, const float* x, size_t ldx, float* y,
                               size_t ldy) {
    for (size_t i = 0; i < rows; i++)
        for (size_t j = 0; j < cols; j++) y[j * ldy + i] = x[i * ldx + j];
}

void ember_f32_transpose2d__scalar(size_t rows, size_t cols, const float* x, size_t ldx, float* y,
                                   size_t ldy) {
    enum { T = 16 };
    for (size_t j0 = 0; j0 < cols; j0 += T) {
        const size_t j1 = j0 + T < cols ? j0 + T : cols;
        for (size_t i0 = 0; i0 < rows; i0 += T) {
            const size_t i1 = i0 + T < rows ? i0 + T : rows;
            for (size_t j = j0; j < j1; j++)
                for (size_t i = i0; i < i1; i++) y[j * ldy + i] = x[i * ldx + j];
        }
    }
}
