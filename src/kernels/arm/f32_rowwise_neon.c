/* Softmax, log-softmax and layer normalization (f32_rowwise.h), AArch64 NEON; the
 * body is the one the x86 kernels share (x86/f32_rowwise_tmpl.h). */
#include "f32_vec_neon.h"

#include "x86/f32_rowwise_tmpl.h"
