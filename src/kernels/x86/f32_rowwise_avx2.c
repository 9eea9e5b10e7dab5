/* Softmax, log-softmax and layer normalization (f32_rowwise.h), AVX2 + FMA; the body
 * is x86/f32_rowwise_tmpl.h. */
#include "f32_vec_avx2.h"

#include "f32_rowwise_tmpl.h"
