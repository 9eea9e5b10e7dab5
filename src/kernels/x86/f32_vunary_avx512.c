/* Vectorised f32 elementwise kernels, AVX-512F, 16 lanes; the body is
 * x86/f32_vunary_tmpl.h. Compiled with -mavx512f -mavx512bw -mavx512vl -mfma. */
#include "f32_vec_avx512.h"

#include "f32_vunary_tmpl.h"
