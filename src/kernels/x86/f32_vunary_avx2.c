/* Vectorised f32 elementwise kernels, AVX2 + FMA, 8 lanes; the body is
 * x86/f32_vunary_tmpl.h. Compiled with -mavx2 -mfma. */
#include "f32_vec_avx2.h"

#include "f32_vunary_tmpl.h"
