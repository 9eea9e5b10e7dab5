/* ember profile MODEL: per-node times, and a Chrome trace with --trace. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static void help(FILE* out) {
    fprintf(out,
            "usage: ember profile MODEL [--runs R] [--warmup W] [--threads N] [--isa NAME] [--batch B]\n"
            "                     [--shape NAME=DIMS]... [--trace OUT.json]\n"
            "\n"
            "Runs the model R times (default 20, after W = 2 warm-up runs) with per-node\n"
            "profiling on random inputs, and prints a table of nodes sorted by mean time:\n"
            "node name, op type, kernel, mean time, share of the total.\n"
            "\n"
            "  --isa NAME         force the kernel path: generic, avx2, avx512 or neon\n"
            "  --trace OUT.json   also write a Chrome trace (chrome://tracing, Perfetto):\n"
            "                     one complete event (ph \"X\") per node per run, ts/dur in\n"
            "                     microseconds, name = node name, cat = op type, args.kernel\n");
}

typedef struct node_row {
    size_t index;
    const char* name;
    const char* op;
    const char* kernel;
    double total_ns;
} node_row;

static int cmp_rows(const void* a, const void* b) {
    const node_row *x = a, *y = b;
    if (x->total_ns != y->total_ns) return x->total_ns < y->total_ns ? 1 : -1;
    return x->index < y->index ? -1 : x->index > y->index;
}

static void json_str(FILE* f, const char* s) {
    fputc('"', f);
    for (const unsigned char* p = (const unsigned char*)(s ? s : ""); *p; p++) {
        if (*p == '"' || *p == '\\') fprintf(f, "\\%c", *p);
        else if (*p < 0x20) fprintf(f, "\\u%04x", *p);
        else fputc(*p, f);
    }
    fputc('"', f);
}

int cmd_profile(int argc, char** argv) {
    const char* path = NULL;
    const char* trace = NULL;
    const char* shapes[CLI_LIST_MAX];
    size_t n_shapes = 0;
    long long runs = 20, warmup = 2, threads = 1, batch = 0;
    uint32_t isa_flag = 0;
    const cli_option opts[] = {
        {"--runs", CLI_INT, &runs, 1, 1000000, NULL},
        {"--warmup", CLI_INT, &warmup, 0, 1000000, NULL},
        {"--isa", CLI_ISA, &isa_flag, 0, 0, NULL},
        {"--threads", CLI_INT, &threads, 1, 1024, NULL},
        {"--batch", CLI_INT, &batch, 1, 1LL << 40, NULL},
        {"--trace", CLI_PATH, &trace, 0, 0, NULL},
        {"--shape", CLI_LIST, shapes, 0, 0, &n_shapes},
    };
    size_t n_path;
    const int pr = cli_parse(argc, argv, opts, sizeof opts / sizeof opts[0], &path, 1, &n_path, help);
    if (pr != CLI_OK) return pr < 0 ? CLI_OK : pr;
    if (!path) return cli_fail(CLI_USAGE, "missing MODEL (see ember profile --help)");

    ember_model* m = NULL;
    int rc = cli_load_model(path, &m);
    if (rc) return rc;
    cli_dims dims = {0};
    if ((rc = cli_dims_apply_shapes(&dims, m, shapes, n_shapes))) {
        ember_model_free(m);
        return rc;
    }
    ember_session_options o;
    ember_session_options_init(&o);
    o.threads = (int32_t)threads;
    o.batch_size = batch;
    o.flags = EMBER_SESSION_PROFILE | isa_flag;
    cli_dims_to_options(&dims, &o);
    ember_session* s = NULL;
    FILE* tf = NULL;
    size_t nn = ember_model_node_count(m);
    node_row* rows = calloc(nn ? nn : 1, sizeof *rows);
    if (!rows) {
        ember_model_free(m);
        return cli_fail(CLI_RUNTIME, "out of memory");
    }
    if (ember_session_create(m, &o, &s) != EMBER_OK) {
        rc = cli_fail_ember("cannot create a session");
        goto done;
    }
    if ((rc = cli_random_inputs(s, m, 42))) goto done;
    if (trace) {
        tf = fopen(trace, "w");
        if (!tf) {
            rc = cli_fail(CLI_RUNTIME, "cannot create '%s': %s", trace, strerror(errno));
            goto done;
        }
        fprintf(tf, "{\"displayTimeUnit\": \"ms\", \"traceEvents\": [\n");
        fprintf(tf, "{\"name\": \"process_name\", \"ph\": \"M\", \"pid\": 1, \"tid\": 1, \"args\": {\"name\": ");
        json_str(tf, path);
        fprintf(tf, "}}");
    }
    for (long long i = 0; i < warmup; i++)
        if (ember_session_run(s) != EMBER_OK) {
            rc = cli_fail_ember("run failed");
            goto done;
        }
    double t_origin = cli_now_ms();
    double total_run_ms = 0;
    for (long long r = 0; r < runs; r++) {
        double start = cli_now_ms();
        if (ember_session_run(s) != EMBER_OK) {
            rc = cli_fail_ember("run failed");
            goto done;
        }
        double wall = cli_now_ms() - start;
        total_run_ms += wall;
        /* Nodes run one after another; each event starts where the previous ended. */
        double ts_us = (start - t_origin) * 1e3;
        if (tf) {
            fprintf(tf, ",\n{\"name\": \"run %lld\", \"cat\": \"run\", \"ph\": \"X\", \"pid\": 1, \"tid\": 1, "
                        "\"ts\": %.3f, \"dur\": %.3f}", r, ts_us, wall * 1e3);
        }
        for (size_t k = 0; k < nn; k++) {
            ember_node_profile p = {.struct_size = sizeof p};
            if (ember_session_node_profile(s, k, &p) != EMBER_OK) {
                rc = cli_fail_ember("node %zu", k);
                goto done;
            }
            rows[k].index = k;
            rows[k].name = p.name;
            rows[k].op = p.op_type;
            rows[k].kernel = p.kernel;
            rows[k].total_ns += (double)p.time_ns;
            double dur_us = (double)p.time_ns / 1e3;
            if (tf) {
                fprintf(tf, ",\n{\"name\": ");
                json_str(tf, p.name && *p.name ? p.name : p.op_type);
                fprintf(tf, ", \"cat\": ");
                json_str(tf, p.op_type);
                fprintf(tf, ", \"ph\": \"X\", \"pid\": 1, \"tid\": 2, \"ts\": %.3f, \"dur\": %.3f, \"args\": {\"kernel\": ",
                        ts_us, dur_us);
                json_str(tf, p.kernel);
                fprintf(tf, ", \"node\": %zu, \"run\": %lld}}", k, r);
            }
            ts_us += dur_us;
        }
    }
    if (tf) {
        fprintf(tf, ",\n{\"name\": \"thread_name\", \"ph\": \"M\", \"pid\": 1, \"tid\": 1, \"args\": {\"name\": \"runs\"}}");
        fprintf(tf, ",\n{\"name\": \"thread_name\", \"ph\": \"M\", \"pid\": 1, \"tid\": 2, \"args\": {\"name\": \"nodes\"}}");
        fprintf(tf, "\n]}\n");
        int bad = ferror(tf);
        if (fclose(tf) != 0 || bad) {
            tf = NULL;
            rc = cli_fail(CLI_RUNTIME, "writing '%s' failed", trace);
            goto done;
        }
        tf = NULL;
    }
    double sum_ns = 0;
    for (size_t k = 0; k < nn; k++) sum_ns += rows[k].total_ns;
    qsort(rows, nn, sizeof *rows, cmp_rows);
    size_t wn = 4, wo = 7, wk = 6;
    for (size_t k = 0; k < nn; k++) {
        size_t a = strlen(rows[k].name ? rows[k].name : ""), b = strlen(rows[k].op ? rows[k].op : ""),
               c = strlen(rows[k].kernel ? rows[k].kernel : "");
        if (a > wn) wn = a < 40 ? a : 40;
        if (b > wo) wo = b;
        if (c > wk) wk = c < 32 ? c : 32;
    }
    const char* name = ember_model_metadata(m, "name");
    printf("model: %s%s%s%s, %lld runs, %lld threads, mean run %.3f ms, nodes sum %.3f ms\n", path,
           name ? " (" : "", name ? name : "", name ? ")" : "", runs, threads, total_run_ms / (double)runs,
           sum_ns / 1e6 / (double)runs);
    printf("%-*s  %-*s  %-*s  %12s  %7s\n", (int)wn, "node", (int)wo, "op type", (int)wk, "kernel", "mean (us)",
           "share");
    for (size_t k = 0; k < nn; k++) {
        const char* n = rows[k].name && *rows[k].name ? rows[k].name : "(unnamed)";
        printf("%-*.*s  %-*s  %-*.*s  %12.3f  %6.2f%%\n", (int)wn, 40, n, (int)wo, rows[k].op ? rows[k].op : "",
               (int)wk, 32, rows[k].kernel ? rows[k].kernel : "", rows[k].total_ns / 1e3 / (double)runs,
               sum_ns > 0 ? 100.0 * rows[k].total_ns / sum_ns : 0.0);
    }
    if (trace) printf("trace: %s\n", trace);
    rc = CLI_OK;
done:
    if (tf) fclose(tf);
    free(rows);
    ember_session_free(s);
    ember_model_free(m);
    return rc;
}
