/* Implicit im2col packing, portable build; see f32_im2col_pack_tmpl.h. */
#define IM2COL_FN ember_f32_im2col_pack_b
#include "f32_im2col_pack_tmpl.h"
