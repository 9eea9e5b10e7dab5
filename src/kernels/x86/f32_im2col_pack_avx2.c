/* Implicit im2col packing built with AVX2 flags (f32_im2col_pack_tmpl.h).
 * The avx512 table uses it too: GCC's 512-bit vectorisation of the strided
 * copies measured slower here (138 against 124 us on a 3x3/2 stem). */
#define IM2COL_FN ember_f32_im2col_pack_b__avx2
#include "f32_im2col_pack_tmpl.h"
