/* .npy reader and writer: see npy.h. */
#include "npy.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#define NPY_MAX_HEADER (1u << 20)

static int fail(char* err, size_t cap, const char* fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(char* err, size_t cap, const char* fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, cap, fmt, ap);
    va_end(ap);
    return -1;
}

static const struct {
    const char* descr;
    ember_dtype dtype;
} descrs[] = {
    {"<f4", EMBER_DTYPE_F32}, {"<f2", EMBER_DTYPE_F16}, {"|i1", EMBER_DTYPE_I8},  {"|u1", EMBER_DTYPE_U8},
    {"<i4", EMBER_DTYPE_I32}, {"<i8", EMBER_DTYPE_I64}, {"|b1", EMBER_DTYPE_BOOL},
    /* also accepted on reading */
    {"<i1", EMBER_DTYPE_I8},  {"<u1", EMBER_DTYPE_U8},  {"<b1", EMBER_DTYPE_BOOL}, {"|?", EMBER_DTYPE_BOOL},
};

const char* npy_descr(ember_dtype dtype) {
    for (size_t i = 0; i < 7; i++)
        if (descrs[i].dtype == dtype) return descrs[i].descr;
    return NULL;
}

/* ---- header parsing: a Python dict literal with three keys ---- */

typedef struct parser {
    const char* s;
    size_t n, i;
} parser;

static void skip_ws(parser* p) {
    while (p->i < p->n && (p->s[p->i] == ' ' || p->s[p->i] == '\t' || p->s[p->i] == '\n' || p->s[p->i] == '\r'))
        p->i++;
}

static bool eat(parser* p, char c) {
    skip_ws(p);
    if (p->i < p->n && p->s[p->i] == c) {
        p->i++;
        return true;
    }
    return false;
}

/* A quoted string (no escapes needed for the keys and descrs numpy writes). */
static bool parse_str(parser* p, char* out, size_t cap) {
    skip_ws(p);
    if (p->i >= p->n || (p->s[p->i] != '\'' && p->s[p->i] != '"')) return false;
    char q = p->s[p->i++];
    size_t k = 0;
    while (p->i < p->n && p->s[p->i] != q) {
        if (p->s[p->i] == '\\' || k + 1 >= cap) return false;
        out[k++] = p->s[p->i++];
    }
    if (p->i >= p->n) return false;
    p->i++;
    out[k] = '\0';
    return true;
}

static bool parse_word(parser* p, const char* w) {
    skip_ws(p);
    size_t l = strlen(w);
    if (p->n - p->i >= l && memcmp(p->s + p->i, w, l) == 0) {
        p->i += l;
        return true;
    }
    return false;
}

static int parse_header(const char* s, size_t n, npy_file* out, char* err, size_t cap) {
    parser p = {s, n, 0};
    bool have_descr = false, have_order = false, have_shape = false;
    char descr[32] = "";
    bool fortran = false;
    if (!eat(&p, '{')) return fail(err, cap, "header is not a Python dict");
    for (;;) {
        if (eat(&p, '}')) break;
        char key[32];
        if (!parse_str(&p, key, sizeof key) || !eat(&p, ':')) return fail(err, cap, "malformed header dict");
        if (strcmp(key, "descr") == 0) {
            if (have_descr) return fail(err, cap, "header has 'descr' twice");
            if (!parse_str(&p, descr, sizeof descr))
                return fail(err, cap, "header 'descr' is not a simple dtype string (structured dtypes are not supported)");
            have_descr = true;
        } else if (strcmp(key, "fortran_order") == 0) {
            if (have_order) return fail(err, cap, "header has 'fortran_order' twice");
            if (parse_word(&p, "True")) fortran = true;
            else if (parse_word(&p, "False")) fortran = false;
            else return fail(err, cap, "header 'fortran_order' is not True or False");
            have_order = true;
        } else if (strcmp(key, "shape") == 0) {
            if (have_shape) return fail(err, cap, "header has 'shape' twice");
            if (!eat(&p, '(')) return fail(err, cap, "header 'shape' is not a tuple");
            int32_t rank = 0;
            for (;;) {
                if (eat(&p, ')')) break;
                skip_ws(&p);
                if (p.i >= p.n || !isdigit((unsigned char)p.s[p.i]))
                    return fail(err, cap, "header 'shape' holds something other than non-negative integers");
                int64_t v = 0;
                while (p.i < p.n && isdigit((unsigned char)p.s[p.i])) {
                    int d = p.s[p.i++] - '0';
                    if (v > (INT64_MAX - d) / 10) return fail(err, cap, "header 'shape' has a dimension too large");
                    v = v * 10 + d;
                }
                if (p.i < p.n && p.s[p.i] == 'L') p.i++;
                if (rank >= EMBER_MAX_RANK)
                    return fail(err, cap, "array has more than %d dimensions", EMBER_MAX_RANK);
                out->dims[rank++] = v;
                if (eat(&p, ')')) break;
                if (!eat(&p, ',')) return fail(err, cap, "header 'shape' is not a tuple of integers");
            }
            out->rank = rank;
            have_shape = true;
        } else {
            return fail(err, cap, "header has an unknown key '%s'", key);
        }
        if (eat(&p, '}')) break;
        if (!eat(&p, ',')) return fail(err, cap, "malformed header dict");
    }
    skip_ws(&p);
    if (p.i != p.n) return fail(err, cap, "unexpected text after the header dict");
    if (!have_descr || !have_order || !have_shape)
        return fail(err, cap, "header lacks '%s'", !have_descr ? "descr" : !have_order ? "fortran_order" : "shape");
    if (fortran) return fail(err, cap, "Fortran-order arrays are not supported (save a C-contiguous array)");
    if (descr[0] == '>' && descr[1] && descr[2] != '1')
        return fail(err, cap, "big-endian dtype '%s' is not supported (use a little-endian array)", descr);
    out->dtype = EMBER_DTYPE_UNDEFINED;
    for (size_t i = 0; i < sizeof descrs / sizeof descrs[0]; i++)
        if (strcmp(descrs[i].descr, descr) == 0) out->dtype = descrs[i].dtype;
    if (descr[0] == '>' || descr[0] == '=')
        for (size_t i = 0; i < sizeof descrs / sizeof descrs[0]; i++)
            if (descrs[i].descr[2] == '1' && strcmp(descrs[i].descr + 1, descr + 1) == 0) out->dtype = descrs[i].dtype;
    if (out->dtype == EMBER_DTYPE_UNDEFINED)
        return fail(err, cap, "dtype '%s' is not supported (f32 '<f4', f16 '<f2', i8 '|i1', u8 '|u1', i32 '<i4', "
                    "i64 '<i8', bool '|b1')", descr);
    uint64_t count = 1;
    for (int32_t d = 0; d < out->rank; d++) {
        uint64_t v = (uint64_t)out->dims[d];
        if (v && count > UINT64_MAX / 8 / v) return fail(err, cap, "array is too large");
        count *= v;
    }
    out->count = count;
    out->data_bytes = count * ember_dtype_size(out->dtype);
    return 0;
}

int npy_open(const char* path, npy_file* out, char* err, size_t cap) {
    memset(out, 0, sizeof *out);
    FILE* f = fopen(path, "rb");
    if (!f) return fail(err, cap, "cannot open '%s': %s", path, strerror(errno));
    unsigned char pre[12];
    size_t got = fread(pre, 1, 10, f);
    if (got < 10 || memcmp(pre, "\x93NUMPY", 6) != 0) {
        fclose(f);
        return fail(err, cap, "'%s' is not a .npy file (bad magic)", path);
    }
    uint32_t major = pre[6];
    uint64_t hlen, hstart;
    if (major == 1) {
        hlen = (uint64_t)pre[8] | (uint64_t)pre[9] << 8;
        hstart = 10;
    } else if (major == 2 || major == 3) {
        if (fread(pre + 10, 1, 2, f) != 2) {
            fclose(f);
            return fail(err, cap, "'%s': truncated header", path);
        }
        hlen = (uint64_t)pre[8] | (uint64_t)pre[9] << 8 | (uint64_t)pre[10] << 16 | (uint64_t)pre[11] << 24;
        hstart = 12;
    } else {
        fclose(f);
        return fail(err, cap, "'%s': .npy format version %u.%u is not supported (1.0, 2.0, 3.0 are)", path, major,
                    (unsigned)pre[7]);
    }
    if (hlen == 0 || hlen > NPY_MAX_HEADER) {
        fclose(f);
        return fail(err, cap, "'%s': header length %llu is not valid", path, (unsigned long long)hlen);
    }
    char* h = malloc(hlen + 1);
    if (!h) {
        fclose(f);
        return fail(err, cap, "out of memory");
    }
    if (fread(h, 1, hlen, f) != hlen) {
        free(h);
        fclose(f);
        return fail(err, cap, "'%s': truncated header", path);
    }
    h[hlen] = '\0';
    if (memchr(h, '\0', hlen)) {
        free(h);
        fclose(f);
        return fail(err, cap, "'%s': header contains a NUL byte", path);
    }
    char msg[256];
    int rc = parse_header(h, hlen, out, msg, sizeof msg);
    free(h);
    if (rc) {
        fclose(f);
        return fail(err, cap, "'%s': %s", path, msg);
    }
    out->data_offset = hstart + hlen;
    if (fseeko(f, 0, SEEK_END) != 0) {
        fclose(f);
        return fail(err, cap, "'%s': cannot seek: %s", path, strerror(errno));
    }
    off_t size = ftello(f);
    if (size < 0 || (uint64_t)size < out->data_offset || (uint64_t)size - out->data_offset < out->data_bytes) {
        fclose(f);
        return fail(err, cap, "'%s': truncated data: the header promises %llu bytes, the file holds %llu", path,
                    (unsigned long long)out->data_bytes,
                    (unsigned long long)(size < 0 || (uint64_t)size < out->data_offset ? 0
                                                                                   : (uint64_t)size - out->data_offset));
    }
    out->f = f;
    return 0;
}

void npy_close(npy_file* npy) {
    if (npy && npy->f) fclose(npy->f);
    if (npy) npy->f = NULL;
}

int npy_read_rows(npy_file* npy, uint64_t first, uint64_t n, void* dst, char* err, size_t cap) {
    if (npy->rank < 1) return fail(err, cap, "array has no first axis");
    uint64_t rows = (uint64_t)npy->dims[0];
    if (first > rows || n > rows - first) return fail(err, cap, "rows out of range");
    uint64_t row_bytes = rows ? npy->data_bytes / rows : 0;
    if (n == 0 || row_bytes == 0) return 0;
    if (fseeko(npy->f, (off_t)(npy->data_offset + first * row_bytes), SEEK_SET) != 0)
        return fail(err, cap, "cannot seek: %s", strerror(errno));
    if (fread(dst, 1, (size_t)(n * row_bytes), npy->f) != n * row_bytes) return fail(err, cap, "short read");
    return 0;
}

int npy_read_all(npy_file* npy, void** out, char* err, size_t cap) {
    if (npy->data_bytes > (uint64_t)SIZE_MAX / 2) return fail(err, cap, "array is too large for memory");
    void* buf = malloc(npy->data_bytes ? (size_t)npy->data_bytes : 1);
    if (!buf) return fail(err, cap, "out of memory reading %llu bytes", (unsigned long long)npy->data_bytes);
    if (npy->data_bytes &&
        (fseeko(npy->f, (off_t)npy->data_offset, SEEK_SET) != 0 ||
         fread(buf, 1, (size_t)npy->data_bytes, npy->f) != npy->data_bytes)) {
        free(buf);
        return fail(err, cap, "short read");
    }
    *out = buf;
    return 0;
}

/* ---- writing ---- */

/* Header of length *hlen_io when non-zero (so that it can be rewritten in place);
 * otherwise chosen, with room, and stored there. */
static int write_header(FILE* f, ember_dtype dtype, int32_t rank, const int64_t* dims, size_t* hlen_io, char* err,
                        size_t cap) {
    const char* descr = npy_descr(dtype);
    if (!descr) return fail(err, cap, "dtype %s cannot be written to .npy", ember_dtype_name(dtype));
    char dict[512];
    int k = snprintf(dict, sizeof dict, "{'descr': '%s', 'fortran_order': False, 'shape': (", descr);
    for (int32_t d = 0; d < rank; d++)
        k += snprintf(dict + k, sizeof dict - (size_t)k, "%lld%s", (long long)dims[d], rank == 1 ? "," : d + 1 < rank ? ", " : "");
    k += snprintf(dict + k, sizeof dict - (size_t)k, "), }");
    /* Pad with spaces so that the first dimension can grow to 20 digits when
     * rewritten, and the total is a multiple of 64. */
    size_t body = (size_t)k + 24 + 1; /* + room + '\n' */
    size_t hlen = *hlen_io ? *hlen_io : (10 + body + 63) / 64 * 64 - 10;
    if ((size_t)k + 1 >= hlen || hlen > 65535) return fail(err, cap, "header too long");
    *hlen_io = hlen;
    unsigned char pre[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, (unsigned char)(hlen & 0xff),
                             (unsigned char)(hlen >> 8)};
    if (fwrite(pre, 1, 10, f) != 10 || fwrite(dict, 1, (size_t)k, f) != (size_t)k) goto io;
    for (size_t i = (size_t)k; i + 1 < hlen; i++)
        if (fputc(' ', f) == EOF) goto io;
    if (fputc('\n', f) == EOF) goto io;
    return 0;
io:
    return fail(err, cap, "write failed: %s", strerror(errno));
}

int npy_write(const char* path, ember_dtype dtype, int32_t rank, const int64_t* dims, const void* data, char* err,
              size_t cap) {
    FILE* f = fopen(path, "wb");
    if (!f) return fail(err, cap, "cannot create '%s': %s", path, strerror(errno));
    uint64_t count = 1;
    for (int32_t d = 0; d < rank; d++) count *= (uint64_t)dims[d];
    size_t bytes = (size_t)count * ember_dtype_size(dtype);
    char msg[256] = "";
    size_t hlen = 0;
    int bad = write_header(f, dtype, rank, dims, &hlen, msg, sizeof msg);
    if (!bad && bytes && fwrite(data, 1, bytes, f) != bytes) {
        snprintf(msg, sizeof msg, "write failed: %s", strerror(errno));
        bad = 1;
    }
    if (bad) {
        fclose(f);
        return fail(err, cap, "'%s': %s", path, msg);
    }
    if (fclose(f) != 0) return fail(err, cap, "'%s': write failed: %s", path, strerror(errno));
    return 0;
}

int npy_writer_open(npy_writer* w, const char* path, ember_dtype dtype, int32_t rank, const int64_t* dims, char* err,
                    size_t cap) {
    memset(w, 0, sizeof *w);
    if (rank < 1 || rank > EMBER_MAX_RANK) return fail(err, cap, "bad rank");
    w->f = fopen(path, "wb");
    if (!w->f) return fail(err, cap, "cannot create '%s': %s", path, strerror(errno));
    w->dtype = dtype;
    w->rank = rank;
    memcpy(w->dims, dims, (size_t)rank * sizeof *dims);
    w->dims[0] = 0;
    char msg[256];
    /* The placeholder first dimension is written with 20 digits of room. */
    if (write_header(w->f, dtype, rank, w->dims, &w->hlen, msg, sizeof msg)) {
        fclose(w->f);
        w->f = NULL;
        return fail(err, cap, "'%s': %s", path, msg);
    }
    return 0;
}

int npy_writer_rows(npy_writer* w, const void* data, uint64_t rows, char* err, size_t cap) {
    uint64_t per = ember_dtype_size(w->dtype);
    for (int32_t d = 1; d < w->rank; d++) per *= (uint64_t)w->dims[d];
    if (per * rows != 0 && fwrite(data, 1, (size_t)(per * rows), w->f) != per * rows)
        return fail(err, cap, "write failed: %s", strerror(errno));
    w->rows += rows;
    return 0;
}

int npy_writer_finish(npy_writer* w, char* err, size_t cap) {
    /* Rewrite the header in place: same length, because the padding leaves room. */
    long end = ftell(w->f);
    int64_t dims[EMBER_MAX_RANK];
    memcpy(dims, w->dims, sizeof dims);
    dims[0] = (int64_t)w->rows;
    char msg[256];
    if (fseek(w->f, 0, SEEK_SET) != 0 || write_header(w->f, w->dtype, w->rank, dims, &w->hlen, msg, sizeof msg) ||
        fseek(w->f, end, SEEK_SET) != 0) {
        fclose(w->f);
        w->f = NULL;
        return fail(err, cap, "rewriting the .npy header failed");
    }
    int rc = fclose(w->f);
    w->f = NULL;
    if (rc != 0) return fail(err, cap, "write failed: %s", strerror(errno));
    return 0;
}

void npy_writer_abort(npy_writer* w) {
    if (w->f) fclose(w->f);
    w->f = NULL;
}
