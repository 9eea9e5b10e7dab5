/* The body of the row-wise kernels (f32_rowwise.h): softmax, log-softmax and
 * layer normalization, included by f32_rowwise_{avx2,avx512,neon}.c after their
 * vector vocabulary (x86/f32_vec_avx2.h, x86/f32_vec_avx512.h, arm/f32_vec_neon.h).
 *
 * Softmax of a row: m = max (NaN ignored, as the reference; 0 for a row of only
 * -inf), e_j = exp(x_j - m) with the shared vector exp, x_j - m rounded and its
 * rounding error (TwoSum) applied to first order, so that a large |x_j - m| does
 * not cost accuracy; s = sum e_j in double (lanes and halves in a fixed order);
 * y_j = e_j * (1 / s). Log-softmax: y_j = (x_j - m) - (float)log(s) (|x_j - m| <=
 * |y_j|, so the first rounding is below half an ulp of the result).
 * Along another axis (inner > 1) the lanes run across inner, where the data are
 * contiguous; the same arithmetic a lane.
 *
 * Layer normalization of a row: mean and biased variance in double, in one pass
 * over x - x[0] (see there); then y = ((x - mh) - ml) * inv * scale + bias in float, with mean = mh + ml
 * split so that the rounding of the mean to float costs nothing (and a power of
 * two moved from inv to x - mean when inv would be subnormal).
 *
 * Every row is computed the same way whatever rows surround it, so sharing rows
 * out over threads does not change a bit. */
#include <float.h>
#include <math.h>
#include <string.h>

#include "f32_rowwise.h"
#include "f32_vexp_tmpl.h"

#define RW_CAT_(a, b) a##b
#define RW_CAT(a, b) RW_CAT_(a, b)
#define RW_FN(name) RW_CAT(RW_CAT(ember_f32_, name), RW_CAT(__, ISA))

/* The max of the lanes (none is NaN), halving in a fixed order; in
 * registers where the vocabulary has a reduction (V_HMAX, VD_HSUM: the same
 * halving order, so the same bits), through memory otherwise. */
static inline float rw_hmax(V v) {
#ifdef V_HMAX
    return V_HMAX(v);
#else
    float b[VL];
    V_STOREU(b, v);
    for (size_t w = VL / 2; w > 0; w /= 2)
        for (size_t i = 0; i < w; i++)
            if (b[i + w] > b[i]) b[i] = b[i + w];
    return b[0];
#endif
}

/* The sum of the lanes, halving in a fixed order. */
static inline double rw_hsum(VD v) {
#ifdef VD_HSUM
    return VD_HSUM(v);
#else
    double b[VDL];
    VD_STOREU(b, v);
    for (size_t w = VDL / 2; w > 0; w /= 2)
        for (size_t i = 0; i < w; i++) b[i] += b[i + w];
    return b[0];
#endif
}

/* cnt < VL floats from p, the other lanes pad. */
static inline V rw_load_part(const float* p, size_t cnt, float pad) {
    float b[VL];
    for (size_t i = 0; i < VL; i++) b[i] = i < cnt ? p[i] : pad;
    return V_LOADU(b);
}

static inline void rw_store_part(float* p, size_t cnt, V v) {
    float b[VL];
    V_STOREU(b, v);
    memcpy(p, b, cnt * sizeof(float));
}

/* exp(x + nm), nm = -m <= -x: d = x + nm rounded, err its rounding error
 * (TwoSum), exp(d + err) = exp(d) (1 + err) to first order (|err| <= ulp(d) / 2).
 * err is NaN when d is infinite (then 1e-3 by the min: exp(d) is 0 or NaN and
 * stays so), and only tiny where exp(d) is not 0 (d >= -105: |err| <= 2^-18),
 * so that one bound above is enough. d <= 0 (or NaN). */
static inline V rw_exp_sub(V x, V nm) {
    const V d = V_ADD(x, nm);
    const V bb = V_SUB(d, x);
    V err = V_ADD(V_SUB(x, V_SUB(d, bb)), V_SUB(nm, bb));
    err = V_MIN(err, V_SET1(1e-3f)); /* NaN -> 1e-3 */
    const V e = v_exp_nonpos(d);
    return V_FMA(e, err, e);
}

/* One row of n contiguous floats. */
static void rw_softmax_row(size_t n, const float* x, float* y, int log_form) {
    V m0 = V_SET1(-INFINITY), m1 = m0;
    size_t j = 0;
    for (; j + 2 * VL <= n; j += 2 * VL) { /* V_MAX(x, m) is m for a NaN x */
        m0 = V_MAX(V_LOADU(x + j), m0);
        m1 = V_MAX(V_LOADU(x + j + VL), m1);
    }
    if (j + VL <= n) {
        m0 = V_MAX(V_LOADU(x + j), m0);
        j += VL;
    }
    float m = rw_hmax(V_MAX(m0, m1));
    for (; j < n; j++)
        if (x[j] > m) m = x[j];
    if (m == -INFINITY) m = 0.0f; /* all -inf: no -inf - -inf */
    const V nm = V_SET1(-m);

    VD s0 = VD_ZERO(), s1 = VD_ZERO();
    for (j = 0; j + VL <= n; j += VL) {
        const V e = rw_exp_sub(V_LOADU(x + j), nm);
        if (!log_form) V_STOREU(y + j, e);
        s0 = VD_ADD(s0, VD_CVT_LO(e));
        s1 = VD_ADD(s1, VD_CVT_HI(e));
    }
    if (j < n) { /* the lanes past n read -inf: e = 0 there */
        const V e = rw_exp_sub(rw_load_part(x + j, n - j, -INFINITY), nm);
        if (!log_form) rw_store_part(y + j, n - j, e);
        s0 = VD_ADD(s0, VD_CVT_LO(e));
        s1 = VD_ADD(s1, VD_CVT_HI(e));
    }
    const double s = rw_hsum(VD_ADD(s0, s1));

    if (log_form) {
        const V ls = V_SET1((float)log(s)); /* s = 0 (all -inf): NaN below, as the reference */
        for (j = 0; j + VL <= n; j += VL) V_STOREU(y + j, V_SUB(V_ADD(V_LOADU(x + j), nm), ls));
        if (j < n)
            rw_store_part(y + j, n - j, V_SUB(V_ADD(rw_load_part(x + j, n - j, 0.0f), nm), ls));
    } else {
        const V inv = V_SET1((float)(1.0 / s)); /* s = 0: 0 * inf = NaN, as the reference */
        for (j = 0; j + VL <= n; j += VL) V_STOREU(y + j, V_MUL(V_LOADU(y + j), inv));
        if (j < n) rw_store_part(y + j, n - j, V_MUL(rw_load_part(y + j, n - j, 0.0f), inv));
    }
}

/* cnt <= VL columns of an n x inner block (x[j * inner + l], l < cnt): the
 * same arithmetic as a row, a column a lane. */
static inline V rw_ld(const float* p, size_t cnt) {
    return cnt == VL ? V_LOADU(p) : rw_load_part(p, cnt, 0.0f);
}
static inline void rw_st(float* p, size_t cnt, V v) {
    if (cnt == VL)
        V_STOREU(p, v);
    else
        rw_store_part(p, cnt, v);
}

static void rw_softmax_cols(size_t n, size_t inner, size_t cnt, const float* x, float* y,
                            int log_form) {
    V m = V_SET1(-INFINITY);
    for (size_t j = 0; j < n; j++) m = V_MAX(rw_ld(x + j * inner, cnt), m);
    m = V_BLEND(V_LT(m, V_SET1(-FLT_MAX)), m, V_SET1(0.0f)); /* -inf -> 0 */
    const V nm = V_XOR(m, V_SET1(-0.0f));
    VD s0 = VD_ZERO(), s1 = VD_ZERO();
    for (size_t j = 0; j < n; j++) {
        const V e = rw_exp_sub(rw_ld(x + j * inner, cnt), nm);
        if (!log_form) rw_st(y + j * inner, cnt, e);
        s0 = VD_ADD(s0, VD_CVT_LO(e));
        s1 = VD_ADD(s1, VD_CVT_HI(e));
    }
    double s[VL];
    float f[VL];
    VD_STOREU(s, s0);
    VD_STOREU(s + VDL, s1);
    if (log_form) {
        for (size_t l = 0; l < VL; l++) f[l] = (float)log(s[l]);
        const V ls = V_LOADU(f);
        for (size_t j = 0; j < n; j++)
            rw_st(y + j * inner, cnt, V_SUB(V_ADD(rw_ld(x + j * inner, cnt), nm), ls));
    } else {
        for (size_t l = 0; l < VL; l++) f[l] = (float)(1.0 / s[l]);
        const V inv = V_LOADU(f);
        for (size_t j = 0; j < n; j++)
            rw_st(y + j * inner, cnt, V_MUL(rw_ld(y + j * inner, cnt), inv));
    }
}

static void rw_softmax(size_t outer, size_t n, size_t inner, const float* x, float* y,
                       int log_form) {
    for (size_t o = 0; o < outer; o++) {
        const float* xo = x + o * n * inner;
        float* yo = y + o * n * inner;
        if (inner == 1) {
            rw_softmax_row(n, xo, yo, log_form);
            continue;
        }
        for (size_t i = 0; i < inner; i += VL)
            rw_softmax_cols(n, inner, inner - i < VL ? inner - i : VL, xo + i, yo + i, log_form);
    }
}

void RW_FN(softmax)(size_t outer, size_t n, size_t inner, const float* x, float* y) {
    rw_softmax(outer, n, inner, x, y, 0);
}

void RW_FN(log_softmax)(size_t outer, size_t n, size_t inner, const float* x, float* y) {
    rw_softmax(outer, n, inner, x, y, 1);
}

void RW_FN(layernorm)(size_t rows, size_t cols, const float* x, const float* scale,
                      const float* bias, float eps, float* y, float* mean, float* inv_std_dev) {
    for (size_t r = 0; r < rows; r++) {
        const float* xp = x + r * cols;
        float* yp = y + r * cols;
        /* one pass over d = x - c, c = x[0]: sum d^2 = n var + n (mean - c)^2
         * and (x[0] - mean)^2 <= n var, so var = sum d^2 / n - (sum d / n)^2
         * cancels at most log2(n + 1) of the double's 53 bits (c = 0 when x[0]
         * is inf or NaN: the row's moments are then inf or NaN either way) */
        const double c = cols && isfinite(xp[0]) ? (double)xp[0] : 0.0;
        const VD vc = VD_SET1(c);
        VD a0 = VD_ZERO(), a1 = VD_ZERO(), q0 = VD_ZERO(), q1 = VD_ZERO();
        VD a2 = VD_ZERO(), a3 = VD_ZERO(), q2 = VD_ZERO(), q3 = VD_ZERO();
        size_t j = 0;
        for (; j + 2 * VL <= cols; j += 2 * VL) {
            const V v = V_LOADU(xp + j), w = V_LOADU(xp + j + VL);
            const VD d0 = VD_SUB(VD_CVT_LO(v), vc), d1 = VD_SUB(VD_CVT_HI(v), vc);
            const VD d2 = VD_SUB(VD_CVT_LO(w), vc), d3 = VD_SUB(VD_CVT_HI(w), vc);
            a0 = VD_ADD(a0, d0);
            a1 = VD_ADD(a1, d1);
            a2 = VD_ADD(a2, d2);
            a3 = VD_ADD(a3, d3);
            q0 = VD_FMA(d0, d0, q0);
            q1 = VD_FMA(d1, d1, q1);
            q2 = VD_FMA(d2, d2, q2);
            q3 = VD_FMA(d3, d3, q3);
        }
        if (j + VL <= cols) {
            const V v = V_LOADU(xp + j);
            const VD d0 = VD_SUB(VD_CVT_LO(v), vc), d1 = VD_SUB(VD_CVT_HI(v), vc);
            a0 = VD_ADD(a0, d0);
            a1 = VD_ADD(a1, d1);
            q0 = VD_FMA(d0, d0, q0);
            q1 = VD_FMA(d1, d1, q1);
            j += VL;
        }
        double s = rw_hsum(VD_ADD(VD_ADD(a0, a2), VD_ADD(a1, a3)));
        double q = rw_hsum(VD_ADD(VD_ADD(q0, q2), VD_ADD(q1, q3)));
        for (; j < cols; j++) {
            const double d = (double)xp[j] - c;
            s += d;
            q += d * d;
        }
        const double ds = cols ? s / (double)cols : 0.0, m = c + ds;
        double var = cols ? q / (double)cols - ds * ds : 0.0;
        if (var < 0.0) var = 0.0; /* rounding, when every x is about the same */
        const double inv = 1.0 / sqrt(var + (double)eps);
        if (mean) mean[r] = (float)m;
        if (inv_std_dev) inv_std_dev[r] = (float)inv;

        /* (x - mean) * pre, inv / pre: a power of two keeping inv a normal float
         * when the spread is huge (pre scales exactly: x * pre - mh * pre is
         * (x - mh) * pre rounded once) */
        const double pre = inv < 0x1p-100 ? 0x1p-64 : 1.0;
        const float mh = (float)m, ml = (float)(m - (double)mh), fi = (float)(inv / pre);
        const float fp = (float)pre, nmhp = (float)(-(double)mh * pre), mlp = (float)(ml * pre);
        const V vp = V_SET1(fp), vnmhp = V_SET1(nmhp), vmlp = V_SET1(mlp), vi = V_SET1(fi);
        for (j = 0; j + VL <= cols; j += VL) {
            const V t = V_MUL(V_SUB(V_FMA(V_LOADU(xp + j), vp, vnmhp), vmlp), vi);
            V_STOREU(yp + j, bias ? V_FMA(t, V_LOADU(scale + j), V_LOADU(bias + j))
                                  : V_MUL(t, V_LOADU(scale + j)));
        }
        for (; j < cols; j++) {
            const float t = (fmaf(xp[j], fp, nmhp) - mlp) * fi;
            yp[j] = bias ? fmaf(t, scale[j], bias[j]) : t * scale[j];
        }
    }
}
