/* Depthwise Conv through the direct kernels; see conv_depthwise.h. */
#include "conv_depthwise.h"

#include "f32_dwconv.h"

static ember_dwconv_geom geom(const ember_window* w) {
    return (ember_dwconv_geom){
        .ih = w->image[1], .iw = w->image[2], .oh = w->out[1], .ow = w->out[2],
        .kh = w->kernel[1], .kw = w->kernel[2], .sh = w->stride[1], .sw = w->stride[2],
        .pad_top = (size_t)w->pad[1], .pad_left = (size_t)w->pad[2]};
}

bool em_conv_depthwise_applies(size_t c, size_t m, size_t group, const ember_window* w) {
    if (group != c || m != c || c < 1) return false;
    /* 2-D: the leading window dim is a unit one */
    if (w->image[0] != 1 || w->kernel[0] != 1 || w->out[0] != 1 || w->pad[0] != 0) return false;
    for (int a = 1; a < 3; a++)
        if (w->dilation[a] != 1 || w->pad[a] < 0 || w->kernel[a] < 1 || w->kernel[a] > 16 ||
            w->stride[a] < 1 || w->stride[a] > 16 || w->image[a] < 1 || w->out[a] < 1)
            return false;
    /* keep the packed plane's arithmetic far from overflow (im2col takes the rest) */
    const size_t lim = (size_t)1 << 24;
    if (w->out[1] > lim || w->out[2] > lim || (size_t)w->pad[1] > lim || (size_t)w->pad[2] > lim)
        return false;
    const ember_dwconv_geom g = geom(w);
    return ember_f32_dwconv_scratch_size(16, &g) <= (size_t)1 << 32;
}

size_t em_conv_depthwise_scratch(const ember_window* w) {
    const ember_kernels* kern = ember_kernels_default();
    const ember_dwconv_geom g = geom(w);
    return ember_f32_dwconv_scratch_size(kern->f32_dwconv.lanes, &g);
}

void em_conv_depthwise_run(size_t n, size_t c, const ember_window* w, const float* x,
                           const float* wt, const float* bias, float* y, void* scratch) {
    const ember_kernels* kern = ember_kernels_default();
    const ember_dwconv_geom g = geom(w);
    const size_t in_vol = g.ih * g.iw, out_vol = g.oh * g.ow;
    for (size_t i = 0; i < n; i++)
        kern->f32_dwconv.run(c, &g, x + i * c * in_vol, wt, bias, y + i * c * out_vol, scratch);
}
