/* Winograd F(4x4, 3x3) transforms, the portable body (f32_winograd_tmpl.h)
 * compiled with -mavx512f -mavx512bw -mavx512vl -mfma: 16 tiles a vector. */
#define WINO_IN_FN ember_f32_wino43_input__avx512
#define WINO_OUT_FN ember_f32_wino43_output__avx512
#include "f32_winograd_tmpl.h"
