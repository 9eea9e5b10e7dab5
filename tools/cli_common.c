/* Helpers shared by the subcommands of the ember CLI. */
#include "cli.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

const char* cli_cmd = NULL;

static void vfail(const char* fmt, va_list ap, const char* tail) {
    char msg[2048];
    vsnprintf(msg, sizeof msg, fmt, ap);
    size_t n = strlen(msg);
    if (tail) snprintf(msg + n, sizeof msg - n, ": %s", tail);
    for (char* p = msg; *p; p++)
        if (*p == '\n' || *p == '\r') *p = ' ';
    if (cli_cmd) fprintf(stderr, "ember: %s: %s\n", cli_cmd, msg);
    else fprintf(stderr, "ember: %s\n", msg);
}

int cli_fail(int code, const char* fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vfail(fmt, ap, NULL);
    va_end(ap);
    return code;
}

int cli_fail_ember(const char* fmt, ...) {
    const char* e = ember_last_error();
    va_list ap;
    va_start(ap, fmt);
    vfail(fmt, ap, e && *e ? e : "unknown error");
    va_end(ap);
    return CLI_RUNTIME;
}

bool cli_is_help(const char* arg) { return strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0; }

int cli_opt(int argc, char** argv, int* i, const char* name, const char** val) {
    const char* a = argv[*i];
    size_t n = strlen(name);
    if (strncmp(a, name, n) != 0) return 0;
    if (a[n] == '=') {
        *val = a + n + 1;
        return 1;
    }
    if (a[n] != '\0') return 0;
    if (*i + 1 >= argc) {
        cli_fail(CLI_USAGE, "option %s needs a value (see ember %s --help)", name, cli_cmd);
        return -1;
    }
    *val = argv[++*i];
    return 1;
}

/* One option's value into its out (cli_parse); false after a usage error. */
static bool cli_take(const cli_option* o, const char* v) {
    switch (o->kind) {
    case CLI_STR: *(const char**)o->out = v; return true;
    case CLI_PATH:
        if (!*v) {
            cli_fail(CLI_USAGE, "%s: empty path", o->name);
            return false;
        }
        *(const char**)o->out = v;
        return true;
    case CLI_INT: return cli_int(o->name, v, o->min, o->max, (long long*)o->out);
    case CLI_ISA: return cli_isa_flag(v, (uint32_t*)o->out);
    case CLI_LIST:
        if (*o->count == CLI_LIST_MAX) {
            cli_fail(CLI_USAGE, "too many %s options", o->name);
            return false;
        }
        ((const char**)o->out)[(*o->count)++] = v;
        return true;
    case CLI_FLAG: break;
    }
    return false;
}

int cli_parse(int argc, char** argv, const cli_option* opts, size_t n_opts, const char** pos,
              size_t max_pos, size_t* n_pos, void (*help)(FILE*)) {
    *n_pos = 0;
    for (int i = 1; i < argc; i++) {
        if (cli_is_help(argv[i])) {
            help(stdout);
            return -1;
        }
        int r = 0;
        for (size_t k = 0; k < n_opts && !r; k++) {
            const cli_option* o = &opts[k];
            if (o->kind == CLI_FLAG) {
                if (strcmp(argv[i], o->name) == 0) {
                    *(bool*)o->out = true;
                    r = 1;
                }
                continue;
            }
            const char* v;
            if ((r = cli_opt(argc, argv, &i, o->name, &v)) < 0) return CLI_USAGE;
            if (r && !cli_take(o, v)) return CLI_USAGE;
        }
        if (r) continue;
        if (argv[i][0] == '-' && argv[i][1])
            return cli_fail(CLI_USAGE, "unknown option '%s' (see ember %s --help)", argv[i], cli_cmd);
        if (*n_pos == max_pos) return cli_fail(CLI_USAGE, "unexpected argument '%s'", argv[i]);
        pos[(*n_pos)++] = argv[i];
    }
    return CLI_OK;
}

bool cli_isa_flag(const char* s, uint32_t* flag) {
    static const struct { const char* name; uint32_t flag; } isas[] = {
        {"generic", EMBER_SESSION_ISA_GENERIC}, {"avx2", EMBER_SESSION_ISA_AVX2},
        {"avx512", EMBER_SESSION_ISA_AVX512}, {"neon", EMBER_SESSION_ISA_NEON}};
    for (size_t i = 0; i < sizeof isas / sizeof isas[0]; i++)
        if (strcmp(s, isas[i].name) == 0) {
            *flag = isas[i].flag;
            return true;
        }
    cli_fail(CLI_USAGE, "--isa: '%s' is not one of generic, avx2, avx512, neon", s);
    return false;
}

bool cli_int(const char* opt, const char* s, long long min, long long max, long long* out) {
    errno = 0;
    char* end;
    long long v = strtoll(s, &end, 10);
    if (!*s || *end || errno || v < min || v > max) {
        cli_fail(CLI_USAGE, "%s: '%s' is not an integer in [%lld, %lld]", opt, s, min, max);
        return false;
    }
    *out = v;
    return true;
}

bool cli_parse_dims(const char* s, int64_t* dims, int32_t* rank) {
    int32_t r = 0;
    const char* p = s;
    if (!*p) return false;
    for (;;) {
        if (*p < '0' || *p > '9') return false;
        errno = 0;
        char* end;
        long long v = strtoll(p, &end, 10);
        if (errno || v < 1 || r >= EMBER_MAX_RANK) return false;
        dims[r++] = v;
        p = end;
        if (!*p) break;
        if (*p != 'x' && *p != 'X' && *p != ',') return false;
        p++;
    }
    *rank = r;
    return true;
}

int cli_dims_set(cli_dims* d, const char* name, int64_t value, const char* why) {
    for (size_t i = 0; i < d->count; i++)
        if (strcmp(d->names[i], name) == 0) {
            if (d->values[i] != value)
                return cli_fail(CLI_RUNTIME, "conflicting values for dimension '%s': %lld, and %lld from %s", name,
                                (long long)d->values[i], (long long)value, why);
            return CLI_OK;
        }
    if (d->count >= sizeof d->names / sizeof d->names[0])
        return cli_fail(CLI_RUNTIME, "too many symbolic dimensions");
    d->names[d->count] = name;
    d->values[d->count++] = value;
    return CLI_OK;
}

int cli_dims_from_input(cli_dims* d, const ember_model* model, size_t index, const int64_t* dims, int32_t rank) {
    ember_io_info info = {.struct_size = sizeof info};
    if (ember_model_input_info(model, index, &info) != EMBER_OK) return cli_fail_ember("input %zu", index);
    if (info.rank != rank) return CLI_OK; /* set_input reports the mismatch with the library's words */
    char why[256];
    snprintf(why, sizeof why, "input '%s'", info.name);
    for (int32_t k = 0; k < rank; k++)
        if (info.dims[k] < 0 && info.dim_names[k]) {
            if (dims[k] < 1)
                return cli_fail(CLI_RUNTIME, "input '%s': dimension '%s' is %lld; it must be >= 1", info.name,
                                info.dim_names[k], (long long)dims[k]);
            int rc = cli_dims_set(d, info.dim_names[k], dims[k], why);
            if (rc) return rc;
        }
    return CLI_OK;
}

int cli_dims_apply_shape(cli_dims* d, const ember_model* model, const char* spec) {
    const char* eq = strchr(spec, '=');
    if (!eq || eq == spec) return cli_fail(CLI_USAGE, "--shape '%s': expected NAME=DIMS, e.g. x=1x3x224x224", spec);
    char name[256];
    size_t n = (size_t)(eq - spec);
    if (n >= sizeof name) return cli_fail(CLI_USAGE, "--shape: name too long");
    memcpy(name, spec, n);
    name[n] = '\0';
    int64_t dims[EMBER_MAX_RANK];
    int32_t rank;
    if (!cli_parse_dims(eq + 1, dims, &rank))
        return cli_fail(CLI_USAGE, "--shape '%s': dimensions must be positive integers separated by 'x'", spec);
    size_t index;
    if (ember_model_input_index(model, name, &index) == EMBER_OK) {
        ember_io_info info = {.struct_size = sizeof info};
        if (ember_model_input_info(model, index, &info) != EMBER_OK) return cli_fail_ember("input '%s'", name);
        char b1[256], b2[256];
        if (info.rank != rank)
            return cli_fail(CLI_RUNTIME, "--shape: input '%s' has rank %d %s, given %s", name, info.rank,
                            cli_info_shape(&info, b1, sizeof b1), cli_dims_str(dims, rank, b2, sizeof b2));
        for (int32_t k = 0; k < rank; k++)
            if (info.dims[k] >= 0 && info.dims[k] != dims[k])
                return cli_fail(CLI_RUNTIME, "--shape: input '%s' has shape %s; dimension %d is fixed at %lld, given %lld",
                                name, cli_info_shape(&info, b1, sizeof b1), k, (long long)info.dims[k],
                                (long long)dims[k]);
        return cli_dims_from_input(d, model, index, dims, rank);
    }
    /* A symbol name? */
    size_t ni = ember_model_input_count(model);
    for (size_t i = 0; i < ni; i++) {
        ember_io_info info = {.struct_size = sizeof info};
        if (ember_model_input_info(model, i, &info) != EMBER_OK) continue;
        for (int32_t k = 0; k < info.rank; k++)
            if (info.dim_names[k] && strcmp(info.dim_names[k], name) == 0) {
                if (rank != 1)
                    return cli_fail(CLI_USAGE, "--shape '%s': a symbolic dimension takes one value", spec);
                return cli_dims_set(d, info.dim_names[k], dims[0], "--shape");
            }
    }
    return cli_fail(CLI_RUNTIME, "--shape: the model has no input or symbolic dimension named '%s'", name);
}

void cli_dims_to_options(const cli_dims* d, ember_session_options* o) {
    o->dim_names = d->count ? d->names : NULL;
    o->dim_values = d->count ? d->values : NULL;
    o->dim_count = d->count;
}

int cli_dims_apply_shapes(cli_dims* d, const ember_model* model, const char* const* specs, size_t n) {
    int rc = CLI_OK;
    for (size_t i = 0; i < n && !rc; i++) rc = cli_dims_apply_shape(d, model, specs[i]);
    return rc;
}

int cli_load_model(const char* path, ember_model** out) {
    if (ember_model_load_file(path, NULL, out) != EMBER_OK) return cli_fail_ember("cannot load '%s'", path);
    return CLI_OK;
}

const char* cli_info_shape(const ember_io_info* info, char* buf, size_t cap) {
    size_t k = 0;
    k += (size_t)snprintf(buf + k, cap - k, "[");
    for (int32_t d = 0; d < info->rank && k < cap; d++) {
        if (info->dims[d] < 0) k += (size_t)snprintf(buf + k, cap - k, "%s", info->dim_names[d] ? info->dim_names[d] : "?");
        else k += (size_t)snprintf(buf + k, cap - k, "%lld", (long long)info->dims[d]);
        if (d + 1 < info->rank && k < cap) k += (size_t)snprintf(buf + k, cap - k, ",");
    }
    if (k < cap) snprintf(buf + k, cap - k, "]");
    return buf;
}

const char* cli_dims_str(const int64_t* dims, int32_t rank, char* buf, size_t cap) {
    size_t k = (size_t)snprintf(buf, cap, "[");
    for (int32_t d = 0; d < rank && k < cap; d++)
        k += (size_t)snprintf(buf + k, cap - k, "%lld%s", (long long)dims[d], d + 1 < rank ? "," : "");
    if (k < cap) snprintf(buf + k, cap - k, "]");
    return buf;
}

double cli_now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

long cli_peak_rss_kb(void) {
    FILE* f = fopen("/proc/self/status", "r");
    if (!f) return -1;
    char line[256];
    long kb = -1;
    while (fgets(line, sizeof line, f))
        if (strncmp(line, "VmHWM:", 6) == 0) {
            kb = strtol(line + 6, NULL, 10);
            break;
        }
    fclose(f);
    return kb;
}

uint16_t cli_f32_to_f16(float f) {
    uint32_t x;
    memcpy(&x, &f, 4);
    uint32_t sign = (x >> 16) & 0x8000u;
    uint32_t exp = (x >> 23) & 0xffu;
    uint32_t man = x & 0x7fffffu;
    if (exp == 0xff) return (uint16_t)(sign | 0x7c00u | (man ? 0x200u : 0));
    int32_t e = (int32_t)exp - 127 + 15;
    if (e >= 31) return (uint16_t)(sign | 0x7c00u);
    if (e <= 0) {
        if (e < -10) return (uint16_t)sign;
        man |= 0x800000u;
        uint32_t shift = (uint32_t)(14 - e);
        uint32_t h = man >> shift;
        uint32_t rem = man & ((1u << shift) - 1), half = 1u << (shift - 1);
        if (rem > half || (rem == half && (h & 1))) h++;
        return (uint16_t)(sign | h);
    }
    uint32_t h = ((uint32_t)e << 10) | (man >> 13);
    uint32_t rem = man & 0x1fffu;
    if (rem > 0x1000u || (rem == 0x1000u && (h & 1))) h++;
    return (uint16_t)(sign | h);
}

float cli_f16_to_f32(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    uint32_t exp = (h >> 10) & 0x1fu, man = h & 0x3ffu;
    uint32_t x;
    if (exp == 0) {
        if (!man) x = sign;
        else {
            int e = -1;
            do { e++; man <<= 1; } while (!(man & 0x400u));
            x = sign | ((uint32_t)(127 - 15 - e) << 23) | ((man & 0x3ffu) << 13);
        }
    } else if (exp == 31) x = sign | 0x7f800000u | (man << 13);
    else x = sign | ((exp + 127 - 15) << 23) | (man << 13);
    float f;
    memcpy(&f, &x, 4);
    return f;
}

double cli_get(ember_dtype dtype, const void* data, size_t i) {
    switch (dtype) {
    case EMBER_DTYPE_F32: return ((const float*)data)[i];
    case EMBER_DTYPE_F16: return cli_f16_to_f32(((const uint16_t*)data)[i]);
    case EMBER_DTYPE_I8: return ((const int8_t*)data)[i];
    case EMBER_DTYPE_U8: return ((const uint8_t*)data)[i];
    case EMBER_DTYPE_I32: return ((const int32_t*)data)[i];
    case EMBER_DTYPE_I64: return (double)((const int64_t*)data)[i];
    case EMBER_DTYPE_BOOL: return ((const uint8_t*)data)[i] ? 1 : 0;
    default: return NAN;
    }
}

int cli_random_inputs(ember_session* s, const ember_model* m, uint64_t seed) {
    uint64_t state = seed * 0x9E3779B97F4A7C15ull + 1;
    size_t n = ember_model_input_count(m);
    for (size_t i = 0; i < n; i++) {
        ember_tensor t = {.struct_size = sizeof t};
        if (ember_session_input(s, i, &t) != EMBER_OK) return cli_fail_ember("input %zu", i);
        size_t count = ember_dtype_size(t.dtype) ? t.bytes / ember_dtype_size(t.dtype) : 0;
        if (t.dtype == EMBER_DTYPE_F32 || t.dtype == EMBER_DTYPE_F16) {
            for (size_t k = 0; k < count; k++) {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                float v = (float)((double)(state >> 40) / (double)(1ull << 24) * 2.0 - 1.0);
                if (t.dtype == EMBER_DTYPE_F32) ((float*)t.data)[k] = v;
                else ((uint16_t*)t.data)[k] = cli_f32_to_f16(v);
            }
        } else {
            memset(t.data, 0, t.bytes);
        }
        if (ember_session_mark_input_set(s, i) != EMBER_OK) return cli_fail_ember("input %zu", i);
    }
    return CLI_OK;
}
