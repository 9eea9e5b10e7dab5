/* Winograd F(4x4, 3x3) transforms, the portable body (f32_winograd_tmpl.h)
 * compiled with -mavx2 -mfma: 8 tiles a vector. */
#define WINO_IN_FN ember_f32_wino43_input__avx2
#define WINO_OUT_FN ember_f32_wino43_output__avx2
#include "f32_winograd_tmpl.h"
