/* Vectorised f32 elementwise kernels, AArch64 NEON, 4 lanes; the body is the
 * one the x86 kernels share (x86/f32_vunary_tmpl.h). Its V_MAX / V_MIN have
 * the x86 semantics (maxps: a > b ? a : b, the second operand when either is
 * NaN), which NEON's FMAX / FMAXNM do not have, so they are a compare and a
 * select here; that keeps the results bit-identical with the other paths. */
#include "f32_vec_neon.h"

#include "x86/f32_vunary_tmpl.h"
