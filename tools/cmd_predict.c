/* ember predict MODEL --input data.csv|data.npy --output preds.csv|preds.npy:
 * batch prediction over a whole file, streamed in batches. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "csv.h"
#include "npy.h"

static void help(FILE* out) {
    fprintf(out,
            "usage: ember predict MODEL --input DATA.csv|DATA.npy --output PREDS.csv|PREDS.npy\n"
            "                     [--batch-size N] [--threads N] [--output-name NAME] [--raw]\n"
            "                     [--shape SYMBOL=VALUE]...\n"
            "\n"
            "Runs a model with one input, whose first dimension is the batch, over every\n"
            "item of a file, N items at a time (default 64), writing one output row per\n"
            "input row. The input is streamed: CSV line by line, .npy by seeking.\n"
            "\n"
            "input:\n"
            "  .csv  one item per line: exactly as many comma-separated numbers as one item\n"
            "        has elements (C order); an optional header line (any non-numeric field\n"
            "        on the first line) is skipped; blank lines are skipped\n"
            "  .npy  shape [N, ...item shape], dtype equal to the model input's\n"
            "output:\n"
            "  .csv  with a header line. A model with labels whose output is [batch, labels]\n"
            "        floats gets 'label,score' columns: the top-1 label and its score.\n"
            "        Otherwise (or with --raw) every output's values of the item, flattened\n"
            "        in C order, columns named NAME_0, NAME_1, ...\n"
            "  .npy  one output (the first, or --output-name) as an array [N, ...]\n"
            "\n"
            "  --batch-size N        items per run (default 64). With a symbolic batch the last\n"
            "                        partial batch runs on a session of its own size; with a\n"
            "                        fixed batch B, N is B and the last batch is zero-padded\n"
            "  --output-name NAME    write only this output\n"
            "  --raw                 CSV: raw output values even for a classifier\n"
            "  --shape SYMBOL=VALUE  value of another symbolic dimension of the input\n"
            "  --threads N           threads per run (default 1)\n"
            "\n"
            "A progress bar is drawn on stderr when stderr is a terminal.\n");
}

static bool ends_with(const char* s, const char* suffix) {
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcasecmp(s + a - b, suffix) == 0;
}

/* Stores v as element i of dtype; false if v does not fit. */
static bool put_value(ember_dtype dtype, void* data, size_t i, double v) {
    switch (dtype) {
    case EMBER_DTYPE_F32: ((float*)data)[i] = (float)v; return true;
    case EMBER_DTYPE_F16: ((uint16_t*)data)[i] = cli_f32_to_f16((float)v); return true;
    default: break;
    }
    if (v != floor(v) || !isfinite(v)) return false;
    switch (dtype) {
    case EMBER_DTYPE_I8: if (v < -128 || v > 127) return false; ((int8_t*)data)[i] = (int8_t)v; return true;
    case EMBER_DTYPE_U8: if (v < 0 || v > 255) return false; ((uint8_t*)data)[i] = (uint8_t)v; return true;
    case EMBER_DTYPE_I32:
        if (v < -2147483648.0 || v > 2147483647.0) return false;
        ((int32_t*)data)[i] = (int32_t)v;
        return true;
    case EMBER_DTYPE_I64:
        if (v < -9.2233720368547758e18 || v >= 9.2233720368547758e18) return false;
        ((int64_t*)data)[i] = (int64_t)v;
        return true;
    case EMBER_DTYPE_BOOL: if (v != 0 && v != 1) return false; ((uint8_t*)data)[i] = (uint8_t)v; return true;
    default: return false;
    }
}

static void print_value(FILE* f, ember_dtype dtype, const void* data, size_t i) {
    switch (dtype) {
    case EMBER_DTYPE_F32: fprintf(f, "%.9g", (double)((const float*)data)[i]); break;
    case EMBER_DTYPE_F16: fprintf(f, "%.5g", (double)cli_f16_to_f32(((const uint16_t*)data)[i])); break;
    case EMBER_DTYPE_I64: fprintf(f, "%lld", (long long)((const int64_t*)data)[i]); break;
    default: fprintf(f, "%.0f", cli_get(dtype, data, i)); break;
    }
}

static void progress(uint64_t done_rows, double fraction) {
    if (fraction < 0) fraction = 0;
    if (fraction > 1) fraction = 1;
    char bar[41];
    int filled = (int)(fraction * 40);
    for (int i = 0; i < 40; i++) bar[i] = i < filled ? '#' : '.';
    bar[40] = '\0';
    fprintf(stderr, "\r[%s] %3d%% %llu rows", bar, (int)(fraction * 100), (unsigned long long)done_rows);
    fflush(stderr);
}

typedef struct predictor {
    const ember_model* m;
    ember_io_info in;
    cli_dims dims;         /* other symbolic dims */
    int threads;
} predictor;

static int make_session(const predictor* p, int64_t batch, ember_session** out) {
    cli_dims d = p->dims;
    if (p->in.dims[0] < 0 && p->in.dim_names[0]) {
        int rc = cli_dims_set(&d, p->in.dim_names[0], batch, "the batch");
        if (rc) return rc;
    }
    ember_session_options o;
    ember_session_options_init(&o);
    o.threads = p->threads;
    cli_dims_to_options(&d, &o);
    if (ember_session_create(p->m, &o, out) != EMBER_OK)
        return cli_fail_ember("cannot create a session of batch %lld", (long long)batch);
    return CLI_OK;
}

int cmd_predict(int argc, char** argv) {
    const char *path = NULL, *in_path = NULL, *out_path = NULL, *out_name = NULL;
    const char* shapes[CLI_LIST_MAX];
    size_t n_shapes = 0;
    long long batch_opt = 64, threads = 1;
    bool raw = false;
    const cli_option opts[] = {
        {"--input", CLI_STR, &in_path, 0, 0, NULL},
        {"--output-name", CLI_STR, &out_name, 0, 0, NULL},
        {"--output", CLI_STR, &out_path, 0, 0, NULL},
        {"--batch-size", CLI_INT, &batch_opt, 1, 1 << 24, NULL},
        {"--threads", CLI_INT, &threads, 1, 1024, NULL},
        {"--shape", CLI_LIST, shapes, 0, 0, &n_shapes},
        {"--raw", CLI_FLAG, &raw, 0, 0, NULL},
    };
    size_t n_path;
    const int pr = cli_parse(argc, argv, opts, sizeof opts / sizeof opts[0], &path, 1, &n_path, help);
    if (pr != CLI_OK) return pr < 0 ? CLI_OK : pr;
    if (!path) return cli_fail(CLI_USAGE, "missing MODEL (see ember predict --help)");
    if (!in_path) return cli_fail(CLI_USAGE, "missing --input DATA.csv|DATA.npy");
    if (!out_path) return cli_fail(CLI_USAGE, "missing --output PREDS.csv|PREDS.npy");
    bool in_npy = ends_with(in_path, ".npy"), out_npy = ends_with(out_path, ".npy");
    if (!in_npy && !ends_with(in_path, ".csv"))
        return cli_fail(CLI_USAGE, "--input '%s': the file name must end in .csv or .npy", in_path);
    if (!out_npy && !ends_with(out_path, ".csv"))
        return cli_fail(CLI_USAGE, "--output '%s': the file name must end in .csv or .npy", out_path);

    predictor p = {.threads = (int)threads};
    ember_model* m = NULL;
    int rc = cli_load_model(path, &m);
    if (rc) return rc;
    p.m = m;
    npy_file npy = {0};
    csv_reader csv = {0};
    npy_writer nw = {0};
    FILE* out_csv = NULL;
    ember_session* s = NULL;
    void* buf = NULL;
    double* vals = NULL;
    char err[1024];
    char bshape[256];

    if (ember_model_input_count(m) != 1) {
        rc = cli_fail(CLI_RUNTIME, "predict needs a model with one input; this one has %zu",
                      ember_model_input_count(m));
        goto done;
    }
    p.in.struct_size = sizeof p.in;
    if (ember_model_input_info(m, 0, &p.in) != EMBER_OK) {
        rc = cli_fail_ember("input 0");
        goto done;
    }
    if (p.in.rank < 1) {
        rc = cli_fail(CLI_RUNTIME, "input '%s' is a scalar; predict needs a batch as its first dimension", p.in.name);
        goto done;
    }
    size_t n_out = ember_model_output_count(m), sel_out = SIZE_MAX;
    if (out_name && ember_model_output_index(m, out_name, &sel_out) != EMBER_OK) {
        rc = cli_fail_ember("--output-name");
        goto done;
    }
    if ((rc = cli_dims_apply_shapes(&p.dims, m, shapes, n_shapes))) goto done;

    /* Open the input; for .npy, its item shape gives the other symbolic dims. */
    uint64_t total_rows = 0;
    if (in_npy) {
        if (npy_open(in_path, &npy, err, sizeof err)) {
            rc = cli_fail(CLI_RUNTIME, "%s", err);
            goto done;
        }
        char b1[256], b2[256];
        if (npy.rank != p.in.rank) {
            rc = cli_fail(CLI_RUNTIME, "'%s' has shape %s; input '%s' has shape %s", in_path,
                          cli_dims_str(npy.dims, npy.rank, b1, sizeof b1), p.in.name,
                          cli_info_shape(&p.in, b2, sizeof b2));
            goto done;
        }
        if (npy.dtype != p.in.dtype) {
            rc = cli_fail(CLI_RUNTIME, "'%s' holds %s; input '%s' takes %s", in_path, ember_dtype_name(npy.dtype),
                          p.in.name, ember_dtype_name(p.in.dtype));
            goto done;
        }
        for (int32_t k = 1; k < p.in.rank; k++) {
            if (p.in.dims[k] >= 0 && p.in.dims[k] != npy.dims[k]) {
                rc = cli_fail(CLI_RUNTIME, "'%s' has shape %s; input '%s' has shape %s (dimension %d differs)",
                              in_path, cli_dims_str(npy.dims, npy.rank, b1, sizeof b1), p.in.name,
                              cli_info_shape(&p.in, b2, sizeof b2), k);
                goto done;
            }
            if (p.in.dims[k] < 0 && (rc = cli_dims_set(&p.dims, p.in.dim_names[k], npy.dims[k], in_path)))
                goto done;
        }
        total_rows = (uint64_t)npy.dims[0];
    } else if (csv_open(&csv, in_path, err, sizeof err)) {
        rc = cli_fail(CLI_RUNTIME, "%s", err);
        goto done;
    }
    /* Item shape. */
    int64_t item[EMBER_MAX_RANK];
    size_t item_elems = 1;
    for (int32_t k = 1; k < p.in.rank; k++) {
        int64_t v = p.in.dims[k];
        if (v < 0) {
            for (size_t i = 0; i < p.dims.count; i++)
                if (strcmp(p.dims.names[i], p.in.dim_names[k]) == 0) v = p.dims.values[i];
            if (v < 0) {
                rc = cli_fail(CLI_USAGE, "input '%s' %s: give the value of dimension '%s' with --shape %s=VALUE",
                              p.in.name, cli_info_shape(&p.in, bshape, sizeof bshape), p.in.dim_names[k],
                              p.in.dim_names[k]);
                goto done;
            }
        }
        item[k] = v;
        if ((uint64_t)v > (1ull << 32) || item_elems > (SIZE_MAX >> 34) / (size_t)v) {
            rc = cli_fail(CLI_RUNTIME, "input '%s': one item is too large", p.in.name);
            goto done;
        }
        item_elems *= (size_t)v;
    }
    size_t esize = ember_dtype_size(p.in.dtype);
    size_t item_bytes = item_elems * esize;
    bool symbolic = p.in.dims[0] < 0;
    int64_t B = symbolic ? batch_opt : p.in.dims[0];
    if (item_bytes && (uint64_t)B > (uint64_t)(SIZE_MAX / 4) / item_bytes) {
        rc = cli_fail(CLI_RUNTIME, "--batch-size %lld: a batch is too large", (long long)B);
        goto done;
    }
    buf = malloc((size_t)B * item_bytes + 1);
    vals = malloc((item_elems + 1) * sizeof *vals);
    if (!buf || !vals) {
        rc = cli_fail(CLI_RUNTIME, "out of memory for a batch of %lld", (long long)B);
        goto done;
    }
    bool tty = isatty(2);
    uint64_t done_rows = 0;
    int64_t cur_b = 0;
    bool classifier = false, started = false;
    size_t n_labels = ember_model_label_count(m);
    size_t first_sel = sel_out == SIZE_MAX ? 0 : sel_out;
    for (;;) {
        /* Fill a batch. */
        int64_t n = 0;
        if (in_npy) {
            uint64_t left = total_rows - done_rows;
            n = left < (uint64_t)B ? (int64_t)left : B;
            if (n && npy_read_rows(&npy, done_rows, (uint64_t)n, buf, err, sizeof err)) {
                rc = cli_fail(CLI_RUNTIME, "'%s': %s", in_path, err);
                goto done;
            }
        } else {
            while (n < B) {
                int got = csv_next(&csv, vals, item_elems, err, sizeof err);
                if (got < 0) {
                    rc = cli_fail(CLI_RUNTIME, "%s", err);
                    goto done;
                }
                if (got == 0) break;
                for (size_t e = 0; e < item_elems; e++)
                    if (!put_value(p.in.dtype, buf, (size_t)n * item_elems + e, vals[e])) {
                        rc = cli_fail(CLI_RUNTIME, "'%s' line %llu: value %d (%g) is not a valid %s", in_path,
                                      (unsigned long long)csv.line_no, (int)e + 1, vals[e],
                                      ember_dtype_name(p.in.dtype));
                        goto done;
                    }
                n++;
            }
        }
        if (n == 0) break;
        int64_t run_b = symbolic ? n : B;
        if (run_b > n) memset((char*)buf + (size_t)n * item_bytes, 0, (size_t)(run_b - n) * item_bytes);
        if (!s || cur_b != run_b) {
            ember_session_free(s);
            s = NULL;
            if ((rc = make_session(&p, run_b, &s))) goto done;
            cur_b = run_b;
        }
        int64_t dims[EMBER_MAX_RANK];
        dims[0] = run_b;
        for (int32_t k = 1; k < p.in.rank; k++) dims[k] = item[k];
        if (ember_session_set_input(s, 0, p.in.dtype, dims, (size_t)p.in.rank, buf, (size_t)run_b * item_bytes) !=
            EMBER_OK) {
            rc = cli_fail_ember("'%s'", in_path);
            goto done;
        }
        if (ember_session_run(s) != EMBER_OK) {
            rc = cli_fail_ember("run failed on rows %llu..%llu", (unsigned long long)done_rows,
                                (unsigned long long)(done_rows + (uint64_t)n - 1));
            goto done;
        }
        /* Outputs: every one must have the batch as its first dimension. */
        ember_tensor outs[64];
        size_t no = n_out < 64 ? n_out : 64;
        for (size_t o = 0; o < no; o++) {
            outs[o] = (ember_tensor){.struct_size = sizeof outs[o]};
            ember_io_info oi = {.struct_size = sizeof oi};
            if (ember_session_output(s, o, &outs[o]) != EMBER_OK || ember_model_output_info(m, o, &oi) != EMBER_OK) {
                rc = cli_fail_ember("output %zu", o);
                goto done;
            }
            bool wanted = sel_out == SIZE_MAX ? !out_npy || o == 0 : o == sel_out;
            if (wanted && (outs[o].rank < 1 || outs[o].dims[0] != run_b)) {
                rc = cli_fail(CLI_RUNTIME, "output '%s' has shape %s: its first dimension is not the batch (%lld)",
                              oi.name, cli_dims_str(outs[o].dims, outs[o].rank, bshape, sizeof bshape),
                              (long long)run_b);
                goto done;
            }
        }
        if (!started) {
            started = true;
            const ember_tensor* t = &outs[first_sel];
            if (out_npy) {
                if (npy_writer_open(&nw, out_path, t->dtype, t->rank, t->dims, err, sizeof err)) {
                    rc = cli_fail(CLI_RUNTIME, "%s", err);
                    goto done;
                }
            } else {
                out_csv = fopen(out_path, "w");
                if (!out_csv) {
                    rc = cli_fail(CLI_RUNTIME, "cannot create '%s'", out_path);
                    goto done;
                }
                classifier = !raw && n_labels && t->rank == 2 && (size_t)t->dims[1] == n_labels &&
                             (t->dtype == EMBER_DTYPE_F32 || t->dtype == EMBER_DTYPE_F16);
                if (classifier) {
                    fprintf(out_csv, "label,score\n");
                } else {
                    bool first_col = true;
                    for (size_t o = 0; o < no; o++) {
                        if (sel_out != SIZE_MAX && o != sel_out) continue;
                        ember_io_info oi = {.struct_size = sizeof oi};
                        ember_model_output_info(m, o, &oi);
                        size_t per = outs[o].bytes / ember_dtype_size(outs[o].dtype) / (size_t)run_b;
                        for (size_t e = 0; e < per; e++) {
                            fprintf(out_csv, "%s", first_col ? "" : ",");
                            first_col = false;
                            /* quote names holding commas or quotes */
                            if (strpbrk(oi.name, ",\"\n")) {
                                fputc('"', out_csv);
                                for (const char* c = oi.name; *c; c++) {
                                    if (*c == '"') fputc('"', out_csv);
                                    fputc(*c == '\n' ? ' ' : *c, out_csv);
                                }
                                fprintf(out_csv, "_%zu\"", e);
                            } else {
                                fprintf(out_csv, "%s_%zu", oi.name, e);
                            }
                        }
                    }
                    fputc('\n', out_csv);
                }
            }
        }
        if (out_npy) {
            if (npy_writer_rows(&nw, outs[first_sel].data, (uint64_t)n, err, sizeof err)) {
                rc = cli_fail(CLI_RUNTIME, "'%s': %s", out_path, err);
                goto done;
            }
        } else {
            for (int64_t r = 0; r < n; r++) {
                if (classifier) {
                    const ember_tensor* t = &outs[first_sel];
                    size_t best = 0;
                    for (size_t c = 1; c < n_labels; c++)
                        if (cli_get(t->dtype, t->data, (size_t)r * n_labels + c) >
                            cli_get(t->dtype, t->data, (size_t)r * n_labels + best))
                            best = c;
                    const char* label = ember_model_label(m, best);
                    bool quote = label && strpbrk(label, ",\"");
                    if (quote) {
                        fputc('"', out_csv);
                        for (const char* c = label; *c; c++) {
                            if (*c == '"') fputc('"', out_csv);
                            fputc(*c, out_csv);
                        }
                        fputc('"', out_csv);
                    } else {
                        fprintf(out_csv, "%s", label ? label : "");
                    }
                    fprintf(out_csv, ",%.9g\n", cli_get(t->dtype, t->data, (size_t)r * n_labels + best));
                    continue;
                }
                bool first_col = true;
                for (size_t o = 0; o < no; o++) {
                    if (sel_out != SIZE_MAX && o != sel_out) continue;
                    size_t per = outs[o].bytes / ember_dtype_size(outs[o].dtype) / (size_t)run_b;
                    for (size_t e = 0; e < per; e++) {
                        if (!first_col) fputc(',', out_csv);
                        first_col = false;
                        print_value(out_csv, outs[o].dtype, outs[o].data, (size_t)r * per + e);
                    }
                }
                fputc('\n', out_csv);
            }
            if (ferror(out_csv)) {
                rc = cli_fail(CLI_RUNTIME, "'%s': write failed", out_path);
                goto done;
            }
        }
        done_rows += (uint64_t)n;
        if (tty) {
            double frac = in_npy ? (total_rows ? (double)done_rows / (double)total_rows : 1)
                                 : (csv.file_size ? (double)csv_position(&csv) / (double)csv.file_size : 0);
            progress(done_rows, frac);
        }
        if (!in_npy && n < B) break;
    }
    if (tty && started) fputc('\n', stderr);
    if (!started) {
        rc = cli_fail(CLI_RUNTIME, "'%s' has no data rows", in_path);
        goto done;
    }
    if (out_npy) {
        if (npy_writer_finish(&nw, err, sizeof err)) {
            rc = cli_fail(CLI_RUNTIME, "'%s': %s", out_path, err);
            goto done;
        }
    } else {
        int bad = fclose(out_csv);
        out_csv = NULL;
        if (bad) {
            rc = cli_fail(CLI_RUNTIME, "'%s': write failed", out_path);
            goto done;
        }
    }
    printf("%llu rows -> %s\n", (unsigned long long)done_rows, out_path);
    rc = CLI_OK;
done:
    if (out_csv) fclose(out_csv);
    npy_writer_abort(&nw);
    npy_close(&npy);
    csv_close(&csv);
    free(buf);
    free(vals);
    ember_session_free(s);
    ember_model_free(m);
    return rc;
}
