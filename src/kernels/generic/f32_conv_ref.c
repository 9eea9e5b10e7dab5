/* Reference im2col / col2im over up to three spatial dims. */
#include "nn_ref.h"

static size_t volume(const size_t* d) { return d[0] * d[1] * d[2]; }

/* Image coordinate of output position o and kernel tap t along axis a, or -1
 * when it falls in the padding. */
static ptrdiff_t tap(const ember_window* w, int a, size_t o, size_t t) {
    ptrdiff_t p = (ptrdiff_t)(o * w->stride[a] + t * w->dilation[a]) - w->pad[a];
    return p >= 0 && p < (ptrdiff_t)w->image[a] ? p : -1;
}

void ember_f32_im2col_ref(size_t channels, const ember_window* w, const float* x, float* col) {
    const size_t in_vol = volume(w->image), out_vol = volume(w->out);
    for (size_t c = 0; c < channels; c++) {
        const float* xc = x + c * in_vol;
        for (size_t kd = 0; kd < w->kernel[0]; kd++)
            for (size_t kh = 0; kh < w->kernel[1]; kh++)
                for (size_t kw = 0; kw < w->kernel[2]; kw++) {
                    float* row = col;
                    col += out_vol;
                    for (size_t od = 0; od < w->out[0]; od++) {
                        const ptrdiff_t id = tap(w, 0, od, kd);
                        for (size_t oh = 0; oh < w->out[1]; oh++) {
                            const ptrdiff_t ih = id < 0 ? -1 : tap(w, 1, oh, kh);
                            for (size_t ow = 0; ow < w->out[2]; ow++) {
                                const ptrdiff_t iw = ih < 0 ? -1 : tap(w, 2, ow, kw);
                                *row++ = iw < 0 ? 0.0f
                                                : xc[((size_t)id * w->image[1] + (size_t)ih) *
                                                         w->image[2] + (size_t)iw];
                            }
                        }
                    }
                }
    }
}

void ember_f32_col2im_ref(size_t channels, const ember_window* w, const float* col, float* y) {
    const size_t img_vol = volume(w->image), out_vol = volume(w->out);
    for (size_t c = 0; c < channels; c++) {
        float* yc = y + c * img_vol;
        for (size_t kd = 0; kd < w->kernel[0]; kd++)
            for (size_t kh = 0; kh < w->kernel[1]; kh++)
                for (size_t kw = 0; kw < w->kernel[2]; kw++) {
                    const float* row = col;
                    col += out_vol;
                    for (size_t od = 0; od < w->out[0]; od++) {
                        const ptrdiff_t id = tap(w, 0, od, kd);
                        for (size_t oh = 0; oh < w->out[1]; oh++) {
                            const ptrdiff_t ih = id < 0 ? -1 : tap(w, 1, oh, kh);
                            for (size_t ow = 0; ow < w->out[2]; ow++, row++) {
                                const ptrdiff_t iw = ih < 0 ? -1 : tap(w, 2, ow, kw);
                                if (iw >= 0)
                                    yc[((size_t)id * w->image[1] + (size_t)ih) * w->image[2] +
                                       (size_t)iw] += *row;
                            }
                        }
                    }
                }
    }
}
