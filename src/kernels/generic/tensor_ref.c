/* Portable C reference kernels of the data-movement operators. */
#include "tensor_ref.h"

#include <string.h>

/* One element of es bytes; constant sizes let the compiler emit a single move. */
static inline void copy_elem(char* dst, const char* src, size_t es) {
    switch (es) {
    case 1: *dst = *src; break;
    case 2: memcpy(dst, src, 2); break;
    case 4: memcpy(dst, src, 4); break;
    case 8: memcpy(dst, src, 8); break;
    default: memcpy(dst, src, es); break;
    }
}

/* n elements, steps in bytes. */
static void copy_line(char* dst, ptrdiff_t dstep, const char* src, ptrdiff_t sstep, int64_t n,
                      size_t es) {
    if (dstep == (ptrdiff_t)es && sstep == (ptrdiff_t)es) {
        memcpy(dst, src, (size_t)n * es);
        return;
    }
    ptrdiff_t di = 0, si = 0;
    switch (es) {
    case 1:
        for (int64_t i = 0; i < n; i++, di += dstep, si += sstep) dst[di] = src[si];
        break;
    case 2:
        for (int64_t i = 0; i < n; i++, di += dstep, si += sstep) memcpy(dst + di, src + si, 2);
        break;
    case 4:
        for (int64_t i = 0; i < n; i++, di += dstep, si += sstep) memcpy(dst + di, src + si, 4);
        break;
    case 8:
        for (int64_t i = 0; i < n; i++, di += dstep, si += sstep) memcpy(dst + di, src + si, 8);
        break;
    default:
        for (int64_t i = 0; i < n; i++, di += dstep, si += sstep) memcpy(dst + di, src + si, es);
        break;
    }
}

void ember_contiguous_strides(const int64_t* dims, int rank, int64_t* strides) {
    int64_t s = 1;
    for (int d = rank - 1; d >= 0; d--) {
        strides[d] = s;
        s *= dims[d];
    }
}

/* The copy of ember_copy_nd (merged dims n, strides ds / ss in elements,
 * m of them) for 4-byte elements where the destination's innermost dim is
 * contiguous and the source's contiguous dim is dim t: for every index of the
 * other dims, a 2-D transpose between dims t and m - 1 by tr (f32_transpose.h's
 * contract; it needs both leading dimensions positive, else the portable one
 * runs with the strides as they are: a 0 or negative step of a broadcast or
 * reversed read), whole cache lines on both sides. */
static bool copy_tiles_f32(char* dst, const int64_t* ds, const char* src, const int64_t* ss,
                           const int64_t* n, int m, int t, ember_copy_transpose_fn tr) {
    enum { T = 16 };
    const int inner = m - 1;
    const int64_t nt = n[t], ni = n[inner], dst_t = ds[t], src_i = ss[inner];
    if (dst_t <= 0 || src_i <= 0) tr = NULL;
    int64_t idx[EMBER_COPY_MAX_RANK] = {0};
    ptrdiff_t so = 0, dof = 0; /* element offsets of the current 2-D slice */
    for (;;) {
        uint32_t* d = (uint32_t*)(void*)dst + dof;
        const uint32_t* sp = (const uint32_t*)(const void*)src + so;
        if (tr) {
            /* y[a][b] = x[b][a]: x is ni x nt (rows src_i apart), y nt x ni */
            tr((size_t)ni, (size_t)nt, (const float*)(const void*)sp, (size_t)src_i,
               (float*)(void*)d, (size_t)dst_t);
        } else {
            for (int64_t a0 = 0; a0 < nt; a0 += T)
                for (int64_t b0 = 0; b0 < ni; b0 += T) {
                    const int64_t a1 = a0 + T < nt ? a0 + T : nt, b1 = b0 + T < ni ? b0 + T : ni;
                    for (int64_t a = a0; a < a1; a++)
                        for (int64_t b = b0; b < b1; b++) d[a * dst_t + b] = sp[a + b * src_i];
                }
        }
        int k = inner - 1;
        for (; k >= 0; k--) {
            if (k == t) continue;
            so += (ptrdiff_t)ss[k];
            dof += (ptrdiff_t)ds[k];
            if (++idx[k] < n[k]) break;
            so -= (ptrdiff_t)(ss[k] * n[k]);
            dof -= (ptrdiff_t)(ds[k] * n[k]);
            idx[k] = 0;
        }
        if (k < 0) break;
    }
    return tr != NULL;
}

void ember_copy_nd_ref(void* dst, const int64_t* dst_strides, const void* src,
                       const int64_t* src_strides, const int64_t* dims, int rank,
                       size_t elem_size) {
    ember_copy_nd(dst, dst_strides, src, src_strides, dims, rank, elem_size, NULL);
}

bool ember_copy_nd(void* dst, const int64_t* dst_strides, const void* src,
                   const int64_t* src_strides, const int64_t* dims, int rank, size_t elem_size,
                   ember_copy_transpose_fn tr) {
    int64_t n[EMBER_COPY_MAX_RANK], ss[EMBER_COPY_MAX_RANK], ds[EMBER_COPY_MAX_RANK];
    int m = 0;
    for (int i = 0; i < rank; i++) {
        if (dims[i] == 0) return false;
        if (dims[i] == 1) continue;
        /* Merge into the previous (outer) dim when it steps exactly over this one. */
        if (m > 0 && ss[m - 1] == src_strides[i] * dims[i] &&
            ds[m - 1] == dst_strides[i] * dims[i]) {
            n[m - 1] *= dims[i];
            ss[m - 1] = src_strides[i];
            ds[m - 1] = dst_strides[i];
            continue;
        }
        n[m] = dims[i];
        ss[m] = src_strides[i];
        ds[m] = dst_strides[i];
        m++;
    }
    char* d = dst;
    const char* s = src;
    const ptrdiff_t es = (ptrdiff_t)elem_size;
    if (m == 0) {
        copy_elem(d, s, elem_size);
        return false;
    }
    const int inner = m - 1;
    if (elem_size == 4 && ds[inner] == 1 && ss[inner] != 1)
        for (int t = 0; t < inner; t++)
            if (ss[t] == 1) { /* a transpose: tiles, not one strided line at a time */
                return copy_tiles_f32(d, ds, s, ss, n, m, t, tr);
            }
    int64_t idx[EMBER_COPY_MAX_RANK] = {0};
    ptrdiff_t so = 0, dof = 0; /* byte offsets of the current line */
    for (;;) {
        copy_line(d + dof, (ptrdiff_t)ds[inner] * es, s + so, (ptrdiff_t)ss[inner] * es,
                  n[inner], elem_size);
        int k = inner - 1;
        for (; k >= 0; k--) {
            so += (ptrdiff_t)ss[k] * es;
            dof += (ptrdiff_t)ds[k] * es;
            if (++idx[k] < n[k]) break;
            so -= (ptrdiff_t)(ss[k] * n[k]) * es;
            dof -= (ptrdiff_t)(ds[k] * n[k]) * es;
            idx[k] = 0;
        }
        if (k < 0) break;
    }
    return false;
}

void ember_transpose_ref(void* dst, const void* src, const int64_t* in_dims, const int32_t* perm,
                         int rank, size_t elem_size) {
    ember_transpose(dst, src, in_dims, perm, rank, elem_size, NULL);
}

void ember_transpose_strides(const int64_t* in_dims, const int32_t* perm, int rank,
                             int64_t* out_dims, int64_t* src_strides, int64_t* dst_strides) {
    int64_t in_strides[EMBER_COPY_MAX_RANK];
    ember_contiguous_strides(in_dims, rank, in_strides);
    for (int d = 0; d < rank; d++) {
        out_dims[d] = in_dims[perm[d]];
        src_strides[d] = in_strides[perm[d]];
    }
    ember_contiguous_strides(out_dims, rank, dst_strides);
}

bool ember_transpose(void* dst, const void* src, const int64_t* in_dims, const int32_t* perm,
                     int rank, size_t elem_size, ember_copy_transpose_fn tr) {
    int64_t out_dims[EMBER_COPY_MAX_RANK];
    int64_t src_strides[EMBER_COPY_MAX_RANK], dst_strides[EMBER_COPY_MAX_RANK];
    ember_transpose_strides(in_dims, perm, rank, out_dims, src_strides, dst_strides);
    return ember_copy_nd(dst, dst_strides, src, src_strides, out_dims, rank, elem_size, tr);
}

void ember_copy_rows_ref(void* dst, size_t dst_pitch, const void* src, size_t src_pitch,
                         size_t rows, size_t row_bytes) {
    if (row_bytes == 0) return;
    char* d = dst;
    const char* s = src;
    if (dst_pitch == row_bytes && src_pitch == row_bytes) {
        memcpy(d, s, rows * row_bytes);
        return;
    }
    for (size_t r = 0; r < rows; r++) memcpy(d + r * dst_pitch, s + r * src_pitch, row_bytes);
}

static inline int64_t read_index(const void* indices, size_t i, bool idx64) {
    return idx64 ? ((const int64_t*)indices)[i] : (int64_t)((const int32_t*)indices)[i];
}

bool ember_gather_check_ref(const void* indices, size_t n_idx, bool idx64, int64_t axis_dim,
                            size_t* bad_pos, int64_t* bad_value) {
    for (size_t i = 0; i < n_idx; i++) {
        int64_t v = read_index(indices, i, idx64);
        if (v < -axis_dim || v >= axis_dim) {
            *bad_pos = i;
            *bad_value = v;
            return false;
        }
    }
    return true;
}

void ember_gather_ref(void* dst, const void* src, size_t outer, int64_t axis_dim,
                      size_t row_bytes, const void* indices, size_t n_idx, bool idx64) {
    char* d = dst;
    const char* s = src;
    for (size_t o = 0; o < outer; o++) {
        const char* block = s + o * (size_t)axis_dim * row_bytes;
        for (size_t j = 0; j < n_idx; j++, d += row_bytes) {
            int64_t v = read_index(indices, j, idx64);
            if (v < 0) v += axis_dim;
            memcpy(d, block + (size_t)v * row_bytes, row_bytes);
        }
    }
}

/* Input index read by the (shifted) output index s along a dim of n; -1: the pad value. */
static inline int64_t pad_map(int64_t s, int64_t n, enum ember_pad_mode mode) {
    if (s >= 0 && s < n) return s;
    if (n <= 0) return -1;
    switch (mode) {
    case EMBER_PAD_EDGE: return s < 0 ? 0 : n - 1;
    case EMBER_PAD_REFLECT: {
        if (n == 1) return 0;
        int64_t period = 2 * (n - 1);
        s %= period;
        if (s < 0) s += period;
        return s < n ? s : period - s;
    }
    case EMBER_PAD_WRAP:
        s %= n;
        return s < 0 ? s + n : s;
    case EMBER_PAD_CONSTANT: break;
    }
    return -1;
}

static void put_value(char* dst, const void* value, size_t es) {
    if (value)
        copy_elem(dst, value, es);
    else
        memset(dst, 0, es);
}

void ember_pad_ref(void* dst, const void* src, size_t elem_size, int rank, const int64_t* in_dims,
                   const int64_t* out_dims, const int64_t* pad_begin, enum ember_pad_mode mode,
                   const void* value) {
    const size_t es = elem_size;
    if (rank == 0) {
        copy_elem(dst, src, es);
        return;
    }
    int64_t in_str[EMBER_COPY_MAX_RANK];
    ember_contiguous_strides(in_dims, rank, in_str);
    const int last = rank - 1;
    const int64_t n_in = in_dims[last], n_out = out_dims[last], pb = pad_begin[last];
    if (n_out == 0) return;
    /* Output positions [lo, hi) of a line read the input line directly. */
    int64_t lo = pb < 0 ? 0 : (pb > n_out ? n_out : pb);
    int64_t hi = pb + n_in;
    if (hi > n_out) hi = n_out;
    if (hi < lo) hi = lo;
    size_t rows = 1;
    for (int d = 0; d < last; d++) rows *= (size_t)out_dims[d];
    int64_t idx[EMBER_COPY_MAX_RANK] = {0};
    char* t = dst;
    const char* s = src;
    for (size_t r = 0; r < rows; r++, t += (size_t)n_out * es) {
        int64_t off = 0;
        bool fill = false;
        for (int d = 0; d < last; d++) {
            int64_t k = pad_map(idx[d] - pad_begin[d], in_dims[d], mode);
            if (k < 0) {
                fill = true;
                break;
            }
            off += k * in_str[d];
        }
        if (fill) {
            for (int64_t o = 0; o < n_out; o++) put_value(t + (size_t)o * es, value, es);
        } else {
            const char* line = s + (size_t)off * es;
            for (int64_t o = 0; o < n_out; o++) {
                if (o == lo && hi > lo) {
                    memcpy(t + (size_t)lo * es, line + (size_t)(lo - pb) * es,
                           (size_t)(hi - lo) * es);
                    o = hi - 1;
                    continue;
                }
                int64_t k = pad_map(o - pb, n_in, mode);
                if (k < 0)
                    put_value(t + (size_t)o * es, value, es);
                else
                    copy_elem(t + (size_t)o * es, line + (size_t)k * es, es);
            }
        }
        for (int d = last - 1; d >= 0; d--) {
            if (++idx[d] < out_dims[d]) break;
            idx[d] = 0;
        }
    }
}
