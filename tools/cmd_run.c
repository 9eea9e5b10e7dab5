/* ember run MODEL --input NAME=FILE.npy ...: one run on .npy inputs. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "npy.h"

static void help(FILE* out) {
    fprintf(out,
            "usage: ember run MODEL --input [NAME=]FILE.npy ... [--shape NAME=DIMS]... [--output-dir DIR]\n"
            "                 [--top K] [--threads N]\n"
            "\n"
            "Runs the model once. Symbolic dimensions (batch, ...) are taken from the shapes\n"
            "of the .npy inputs. NAME= may be left out when the model has one input.\n"
            "\n"
            "  --input [NAME=]FILE  a .npy file for input NAME (f32 '<f4', f16, i8, u8, i32, i64, bool)\n"
            "  --shape NAME=DIMS    input shape or symbol value, checked against the data\n"
            "  --output-dir DIR     write each output as DIR/<name>.npy (DIR is created; characters\n"
            "                       other than A-Z a-z 0-9 . _ - in names become '_')\n"
            "  --top K              for a model with labels, print the top K classes of every\n"
            "                       2-D float output row with one score per label (default 5, 0: off)\n"
            "  --threads N          threads (default 1)\n"
            "\n"
            "Without --output-dir, each output's dtype, shape and first values are printed.\n");
}

/* mkdir -p */
static int make_dirs(const char* path) {
    char p[4096];
    if (snprintf(p, sizeof p, "%s", path) >= (int)sizeof p) {
        errno = ENAMETOOLONG;
        return -1;
    }
    for (char* c = p + 1; *c; c++)
        if (*c == '/') {
            *c = '\0';
            if (mkdir(p, 0777) != 0 && errno != EEXIST) return -1;
            *c = '/';
        }
    if (mkdir(p, 0777) != 0 && errno != EEXIST) return -1;
    struct stat st;
    if (stat(p, &st) != 0) return -1;
    if (!S_ISDIR(st.st_mode)) {
        errno = ENOTDIR;
        return -1;
    }
    return 0;
}

typedef struct given_input {
    size_t index;
    const char* path;
    npy_file npy;
    void* data;
} given_input;

/* File-system-safe name: A-Z a-z 0-9 . _ - kept, others become '_'. */
static void sanitise(const char* name, size_t index, char* out, size_t cap) {
    size_t k = 0;
    for (const char* p = name; *p && k + 1 < cap && k < 200; p++) {
        char c = *p;
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                  c == '_' || c == '-';
        out[k++] = ok ? c : '_';
    }
    out[k] = '\0';
    if (k == 0 || strcmp(out, ".") == 0 || strcmp(out, "..") == 0 || out[0] == '.')
        snprintf(out, cap, "output_%zu%s", index, k ? "_" : "");
}

static int cmp_score_desc(const void* a, const void* b, const float* s) {
    size_t x = *(const size_t*)a, y = *(const size_t*)b;
    if (s[x] != s[y]) return s[x] < s[y] ? 1 : -1;
    return x < y ? -1 : x > y;
}

static void print_top(const ember_model* m, const char* out_name, const ember_tensor* t, long long top) {
    size_t rows = (size_t)t->dims[0], cols = (size_t)t->dims[1];
    size_t k = (size_t)top < cols ? (size_t)top : cols;
    size_t* idx = malloc(cols * sizeof *idx);
    float* row = malloc(cols * sizeof *row);
    if (!idx || !row) {
        free(idx);
        free(row);
        return;
    }
    for (size_t r = 0; r < rows; r++) {
        for (size_t c = 0; c < cols; c++) {
            row[c] = (float)cli_get(t->dtype, t->data, r * cols + c);
            idx[c] = c;
        }
        /* selection of the k best, stable on ties */
        for (size_t a = 0; a < k; a++) {
            size_t best = a;
            for (size_t b = a + 1; b < cols; b++)
                if (cmp_score_desc(&idx[b], &idx[best], row) < 0) best = b;
            size_t tmp = idx[a];
            idx[a] = idx[best];
            idx[best] = tmp;
        }
        printf("%s[%zu] top %zu:", out_name, r, k);
        for (size_t a = 0; a < k; a++) {
            const char* label = ember_model_label(m, idx[a]);
            printf(" %s%s=%.6g", a ? "" : "", label ? label : "?", (double)row[idx[a]]);
            if (a + 1 < k) printf(",");
        }
        printf("\n");
    }
    free(idx);
    free(row);
}

int cmd_run(int argc, char** argv) {
    const char* path = NULL;
    const char* inputs[CLI_LIST_MAX];
    size_t n_inputs = 0;
    const char* shapes[CLI_LIST_MAX];
    size_t n_shapes = 0;
    const char* out_dir = NULL;
    long long top = 5, threads = 1;
    const cli_option opts[] = {
        {"--input", CLI_LIST, inputs, 0, 0, &n_inputs},
        {"--shape", CLI_LIST, shapes, 0, 0, &n_shapes},
        {"--output-dir", CLI_PATH, &out_dir, 0, 0, NULL},
        {"--top", CLI_INT, &top, 0, 1000000, NULL},
        {"--threads", CLI_INT, &threads, 1, 1024, NULL},
    };
    size_t n_path;
    const int pr = cli_parse(argc, argv, opts, sizeof opts / sizeof opts[0], &path, 1, &n_path, help);
    if (pr != CLI_OK) return pr < 0 ? CLI_OK : pr;
    if (!path) return cli_fail(CLI_USAGE, "missing MODEL (see ember run --help)");
    if (!n_inputs) return cli_fail(CLI_USAGE, "no --input given (see ember run --help)");

    ember_model* m = NULL;
    int rc = cli_load_model(path, &m);
    if (rc) return rc;
    size_t n_model_inputs = ember_model_input_count(m);
    given_input given[CLI_LIST_MAX];
    size_t n_given = 0;
    cli_dims dims = {0};
    ember_session* s = NULL;
    char err[1024];

    for (size_t i = 0; i < n_inputs; i++) {
        const char* spec = inputs[i];
        const char* eq = strchr(spec, '=');
        size_t index = 0;
        const char* file = spec;
        bool named = false;
        if (eq) {
            char name[512];
            size_t n = (size_t)(eq - spec);
            if (n < sizeof name) {
                memcpy(name, spec, n);
                name[n] = '\0';
                if (ember_model_input_index(m, name, &index) == EMBER_OK) {
                    named = true;
                    file = eq + 1;
                } else if (n_model_inputs != 1 || access(spec, F_OK) != 0) {
                    rc = cli_fail(CLI_RUNTIME, "--input '%s': the model has no input named '%s'", spec, name);
                    goto done;
                }
            }
        }
        if (!named) {
            if (n_model_inputs != 1) {
                rc = cli_fail(CLI_USAGE, "--input '%s': the model has %zu inputs; give --input NAME=FILE", spec,
                              n_model_inputs);
                goto done;
            }
            index = 0;
        }
        for (size_t k = 0; k < n_given; k++)
            if (given[k].index == index) {
                rc = cli_fail(CLI_USAGE, "--input '%s': that input is already given", spec);
                goto done;
            }
        given_input* g = &given[n_given];
        memset(g, 0, sizeof *g);
        g->index = index;
        g->path = file;
        if (npy_open(file, &g->npy, err, sizeof err) != 0) {
            rc = cli_fail(CLI_RUNTIME, "%s", err);
            goto done;
        }
        n_given++;
        if (npy_read_all(&g->npy, &g->data, err, sizeof err) != 0) {
            rc = cli_fail(CLI_RUNTIME, "'%s': %s", file, err);
            goto done;
        }
        if ((rc = cli_dims_from_input(&dims, m, index, g->npy.dims, g->npy.rank))) goto done;
    }
    for (size_t i = 0; i < n_model_inputs; i++) {
        bool have = false;
        for (size_t k = 0; k < n_given; k++) have |= given[k].index == i;
        if (!have) {
            ember_io_info info = {.struct_size = sizeof info};
            ember_model_input_info(m, i, &info);
            rc = cli_fail(CLI_USAGE, "input '%s' is not given (--input %s=FILE.npy)", info.name, info.name);
            goto done;
        }
    }
    if ((rc = cli_dims_apply_shapes(&dims, m, shapes, n_shapes))) goto done;

    ember_session_options o;
    ember_session_options_init(&o);
    o.threads = (int32_t)threads;
    cli_dims_to_options(&dims, &o);
    if (ember_session_create(m, &o, &s) != EMBER_OK) {
        rc = cli_fail_ember("cannot create a session");
        goto done;
    }
    for (size_t k = 0; k < n_given; k++) {
        given_input* g = &given[k];
        if (ember_session_set_input(s, g->index, g->npy.dtype, g->npy.dims, (size_t)g->npy.rank, g->data,
                                    (size_t)g->npy.data_bytes) != EMBER_OK) {
            rc = cli_fail_ember("'%s'", g->path);
            goto done;
        }
    }
    if (ember_session_run(s) != EMBER_OK) {
        rc = cli_fail_ember("run failed");
        goto done;
    }
    if (out_dir && make_dirs(out_dir) != 0) {
        rc = cli_fail(CLI_RUNTIME, "cannot create directory '%s': %s", out_dir, strerror(errno));
        goto done;
    }
    size_t n_out = ember_model_output_count(m);
    char written[64][256];
    for (size_t i = 0; i < n_out; i++) {
        ember_io_info info = {.struct_size = sizeof info};
        ember_tensor t = {.struct_size = sizeof t};
        if (ember_model_output_info(m, i, &info) != EMBER_OK || ember_session_output(s, i, &t) != EMBER_OK) {
            rc = cli_fail_ember("output %zu", i);
            goto done;
        }
        char shape[256];
        cli_dims_str(t.dims, t.rank, shape, sizeof shape);
        if (out_dir) {
            char file[256], full[4096];
            sanitise(info.name, i, file, sizeof file);
            /* two names that sanitise alike get the output's index appended */
            for (size_t k = 0; k < i && k < 64; k++)
                if (strcmp(written[k], file) == 0) {
                    size_t l = strlen(file);
                    snprintf(file + l, sizeof file - l, "_%zu", i);
                    break;
                }
            if (i < 64) snprintf(written[i], sizeof written[i], "%s", file);
            snprintf(full, sizeof full, "%s/%s.npy", out_dir, file);
            if (npy_write(full, t.dtype, t.rank, t.dims, t.data, err, sizeof err) != 0) {
                rc = cli_fail(CLI_RUNTIME, "%s", err);
                goto done;
            }
            printf("%s: %s %s -> %s\n", info.name, ember_dtype_name(t.dtype), shape, full);
        } else {
            size_t count = ember_dtype_size(t.dtype) ? t.bytes / ember_dtype_size(t.dtype) : 0;
            printf("%s: %s %s [", info.name, ember_dtype_name(t.dtype), shape);
            for (size_t k = 0; k < count && k < 8; k++) printf("%s%.6g", k ? ", " : "", cli_get(t.dtype, t.data, k));
            printf("%s]\n", count > 8 ? ", ..." : "");
        }
    }
    size_t n_labels = ember_model_label_count(m);
    for (size_t i = 0; top > 0 && n_labels && i < n_out; i++) {
        ember_io_info info = {.struct_size = sizeof info};
        ember_tensor t = {.struct_size = sizeof t};
        if (ember_model_output_info(m, i, &info) != EMBER_OK || ember_session_output(s, i, &t) != EMBER_OK) continue;
        if (t.rank == 2 && (t.dtype == EMBER_DTYPE_F32 || t.dtype == EMBER_DTYPE_F16) &&
            (size_t)t.dims[1] == n_labels)
            print_top(m, info.name, &t, top);
    }
    rc = CLI_OK;
done:
    for (size_t k = 0; k < n_given; k++) {
        free(given[k].data);
        npy_close(&given[k].npy);
    }
    ember_session_free(s);
    ember_model_free(m);
    return rc;
}
