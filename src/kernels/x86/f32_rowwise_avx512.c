/* Softmax, log-softmax and layer normalization (f32_rowwise.h), AVX-512F; the body
 * is x86/f32_rowwise_tmpl.h. */
#include "f32_vec_avx512.h"

#include "f32_rowwise_tmpl.h"
