/* The body of the implicit im2col packer (f32_im2col_pack.h), compiled once
 * portable (generic/f32_im2col_pack.c) and once with AVX2 flags
 * (x86/f32_im2col_pack_avx2.c), which define IM2COL_FN, its name: the same C,
 * so the same bytes; the wider build vectorises the stride-2 copies of stem
 * convolutions (205 -> 124 us for a 3x3/2 stem on 3 x 224 x 224).
 *
 * A panel's nr columns are consecutive output positions, i.e. at most a few
 * runs along one output row each. For one B row (channel c, tap kd, kh, kw)
 * a run reads one image row at columns ow * sw - pad + kw * dw: a contiguous
 * (sw == 1) or strided slice, with zeros where it falls in the padding. The
 * runs are found once a panel; the rows are walked with counters, no divisions. */
#include "f32_im2col_pack.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

typedef struct run {
    size_t col;        /* first column of the run in the panel */
    size_t len;
    ptrdiff_t d0, h0;  /* od * sd - pad_d, oh * sh - pad_h */
    ptrdiff_t w0;      /* ow * sw - pad_w of the run's first column */
} run;

/* Copies len taps starting at image column w0 (step sw) of row xr (width iw),
 * zero outside [0, iw). */
static void copy_run(const float* xr, size_t iw, ptrdiff_t w0, size_t sw, size_t len, float* d) {
    /* t in [lo, hi) lands inside the image */
    size_t lo = 0, hi = len;
    if (w0 < 0) lo = ((size_t)(-w0) + sw - 1) / sw;
    if (lo > len) lo = len;
    if (w0 + (ptrdiff_t)((len - 1) * sw) >= (ptrdiff_t)iw) {
        /* first t with w0 + t * sw >= iw */
        const ptrdiff_t over = (ptrdiff_t)iw - w0; /* > 0 unless the run starts past the image */
        hi = over <= 0 ? 0 : ((size_t)over + sw - 1) / sw;
        if (hi < lo) hi = lo;
    }
    for (size_t t = 0; t < lo; t++) d[t] = 0.0f;
    if (hi > lo) { /* (only then is the first tap inside the row) */
        const float* s = xr + w0 + (ptrdiff_t)(lo * sw);
        if (sw == 1) {
            memcpy(d + lo, s, (hi - lo) * sizeof(float));
        } else if (sw == 2) { /* a constant step the compiler vectorises (stem convs) */
            float* dl = d + lo;
            for (size_t t = 0; t < hi - lo; t++) dl[t] = s[2 * t];
        } else {
            for (size_t t = lo; t < hi; t++, s += sw) d[t] = s[0];
        }
    }
    for (size_t t = hi; t < len; t++) d[t] = 0.0f;
}

/* Narrow output rows (a panel of nr columns spans several output rows, each
 * run a few floats long: resnet18's 7 x 7 and 14 x 14 layers): per panel, the
 * plane offset every tap reads for every column (-1: padding) is computed
 * once, then each of the kc rows is a gather from its channel's plane. The
 * table is GATHER_MAX ints, on the stack. */
#define GATHER_MAX 4096

static bool gather_applies(const ember_window* w, size_t nr) {
    const size_t kvol = w->kernel[0] * w->kernel[1] * w->kernel[2];
    return w->out[2] < nr && kvol * nr <= GATHER_MAX &&
           w->image[0] * w->image[1] * w->image[2] < ((size_t)1 << 31);
}

static void pack_gather(const ember_window* w, const float* x, size_t nr, size_t p0, size_t kc,
                        size_t j0, size_t n, float* dst) {
    const size_t k0 = w->kernel[0], k1 = w->kernel[1], k2 = w->kernel[2], kvol = k0 * k1 * k2;
    const size_t oh_n = w->out[1], ow_n = w->out[2];
    const size_t idn = w->image[0], ihn = w->image[1], iwn = w->image[2];
    const size_t in_vol = idn * ihn * iwn;
    int32_t idx[GATHER_MAX];
    for (size_t q = 0; q < n; q += nr, dst += kc * nr) {
        const size_t cols = n - q < nr ? n - q : nr;
        for (size_t col = 0; col < cols; col++) {
            const size_t j = j0 + q + col;
            const size_t ow = j % ow_n, oh = (j / ow_n) % oh_n, od = j / (ow_n * oh_n);
            for (size_t kd = 0, tap = 0; kd < k0; kd++)
                for (size_t kh = 0; kh < k1; kh++)
                    for (size_t kw = 0; kw < k2; kw++, tap++) {
                        const ptrdiff_t id = (ptrdiff_t)(od * w->stride[0] + kd * w->dilation[0]) - w->pad[0];
                        const ptrdiff_t ih = (ptrdiff_t)(oh * w->stride[1] + kh * w->dilation[1]) - w->pad[1];
                        const ptrdiff_t iw = (ptrdiff_t)(ow * w->stride[2] + kw * w->dilation[2]) - w->pad[2];
                        const bool in = id >= 0 && id < (ptrdiff_t)idn && ih >= 0 &&
                                        ih < (ptrdiff_t)ihn && iw >= 0 && iw < (ptrdiff_t)iwn;
                        idx[tap * nr + col] =
                            in ? (int32_t)(((size_t)id * ihn + (size_t)ih) * iwn + (size_t)iw) : -1;
                    }
        }
        size_t c = p0 / kvol, tap = p0 % kvol;
        for (size_t pp = 0; pp < kc; pp++) {
            float* d = dst + pp * nr;
            const float* xc = x + c * in_vol;
            const int32_t* ix = idx + tap * nr;
            for (size_t col = 0; col < cols; col++) d[col] = ix[col] >= 0 ? xc[ix[col]] : 0.0f;
            for (size_t col = cols; col < nr; col++) d[col] = 0.0f;
            if (++tap == kvol) {
                tap = 0;
                c++;
            }
        }
    }
}

void IM2COL_FN(const ember_window* w, const float* x, size_t nr, size_t p0, size_t kc, size_t j0,
               size_t n, float* dst) {
    if (gather_applies(w, nr)) {
        pack_gather(w, x, nr, p0, kc, j0, n, dst);
        return;
    }
    const size_t k0 = w->kernel[0], k1 = w->kernel[1], k2 = w->kernel[2];
    const size_t oh_n = w->out[1], ow_n = w->out[2];
    const size_t idn = w->image[0], ihn = w->image[1], iwn = w->image[2];
    const size_t in_vol = idn * ihn * iwn, kvol = k0 * k1 * k2;
    run runs[66];
    for (size_t q = 0; q < n; q += nr, dst += kc * nr) {
        const size_t cols = n - q < nr ? n - q : nr;
        /* the runs of this panel */
        size_t nruns = 0, j = j0 + q;
        size_t ow = j % ow_n, oh = (j / ow_n) % oh_n, od = j / (ow_n * oh_n);
        for (size_t col = 0; col < cols;) {
            const size_t len = ow_n - ow < cols - col ? ow_n - ow : cols - col;
            runs[nruns++] = (run){.col = col, .len = len,
                                  .d0 = (ptrdiff_t)(od * w->stride[0]) - w->pad[0],
                                  .h0 = (ptrdiff_t)(oh * w->stride[1]) - w->pad[1],
                                  .w0 = (ptrdiff_t)(ow * w->stride[2]) - w->pad[2]};
            col += len;
            ow += len;
            if (ow == ow_n) {
                ow = 0;
                if (++oh == oh_n) {
                    oh = 0;
                    od++;
                }
            }
        }
        /* the rows: p = c * kvol + (kd * k1 + kh) * k2 + kw, walked with counters */
        size_t c = p0 / kvol, r = p0 % kvol;
        size_t kd = r / (k1 * k2), kh = (r / k2) % k1, kw = r % k2;
        for (size_t pp = 0; pp < kc; pp++) {
            float* d = dst + pp * nr;
            const float* xc = x + c * in_vol;
            const ptrdiff_t dd = (ptrdiff_t)(kd * w->dilation[0]);
            const ptrdiff_t dh = (ptrdiff_t)(kh * w->dilation[1]);
            const ptrdiff_t dw = (ptrdiff_t)(kw * w->dilation[2]);
            for (size_t s = 0; s < nruns; s++) {
                const run* ru = &runs[s];
                const ptrdiff_t id = ru->d0 + dd, ih = ru->h0 + dh;
                if (id < 0 || id >= (ptrdiff_t)idn || ih < 0 || ih >= (ptrdiff_t)ihn) {
                    memset(d + ru->col, 0, ru->len * sizeof(float));
                    continue;
                }
                copy_run(xc + ((size_t)id * ihn + (size_t)ih) * iwn, iwn, ru->w0 + dw,
                         w->stride[2], ru->len, d + ru->col);
            }
            for (size_t t = cols; t < nr; t++) d[t] = 0.0f;
            if (++kw == k2) {
                kw = 0;
                if (++kh == k1) {
                    kh = 0;
                    if (++kd == k0) {
                        kd = 0;
                        c++;
                    }
                }
            }
        }
    }
}
