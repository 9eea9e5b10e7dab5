/* ember bench MODEL: latency percentiles, throughput, load time, peak memory. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static void help(FILE* out) {
    fprintf(out,
            "usage: ember bench MODEL [--threads N] [--isa NAME] [--batch B] [--shape NAME=DIMS]... [--runs R]\n"
            "                   [--warmup W] [--json]\n"
            "\n"
            "Times ember_session_run on seeded random inputs (floats uniform in [-1, 1),\n"
            "integers and bools 0) after W warm-up runs.\n"
            "\n"
            "  --threads N        threads per run (default 1)\n"
            "  --isa NAME         force the kernel path: generic, avx2, avx512 or neon\n"
            "  --batch B          value of a symbolic first dimension (default 1)\n"
            "  --shape NAME=DIMS  input shape (x=1x3x320x320) or symbol value (batch=8)\n"
            "  --runs R           timed runs (default 50)\n"
            "  --warmup W         untimed runs first (default 5)\n"
            "  --json             print one JSON object instead of text\n"
            "\n"
            "Reports median, p90 and p99 latency, throughput (items per second, items =\n"
            "batch x runs / total run time), load time (file to ready session) and peak\n"
            "resident memory (VmHWM).\n");
}

static int cmp_double(const void* a, const void* b) {
    double x = *(const double*)a, y = *(const double*)b;
    return x < y ? -1 : x > y;
}

static double percentile(const double* sorted, size_t n, double p) {
    /* nearest rank */
    size_t k = (size_t)(p / 100.0 * (double)n + 0.999999);
    if (k < 1) k = 1;
    if (k > n) k = n;
    return sorted[k - 1];
}

int cmd_bench(int argc, char** argv) {
    const char* path = NULL;
    const char* shapes[CLI_LIST_MAX];
    size_t n_shapes = 0;
    long long threads = 1, batch = 0, runs = 50, warmup = 5;
    uint32_t isa_flag = 0;
    bool json = false;
    const cli_option opts[] = {
        {"--isa", CLI_ISA, &isa_flag, 0, 0, NULL},
        {"--threads", CLI_INT, &threads, 1, 1024, NULL},
        {"--batch", CLI_INT, &batch, 1, 1LL << 40, NULL},
        {"--runs", CLI_INT, &runs, 1, 100000000, NULL},
        {"--warmup", CLI_INT, &warmup, 0, 100000000, NULL},
        {"--shape", CLI_LIST, shapes, 0, 0, &n_shapes},
        {"--json", CLI_FLAG, &json, 0, 0, NULL},
    };
    size_t n_path;
    const int pr = cli_parse(argc, argv, opts, sizeof opts / sizeof opts[0], &path, 1, &n_path, help);
    if (pr != CLI_OK) return pr < 0 ? CLI_OK : pr;
    if (!path) return cli_fail(CLI_USAGE, "missing MODEL (see ember bench --help)");

    double t0 = cli_now_ms();
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
    o.flags |= isa_flag;
    o.batch_size = batch;
    cli_dims_to_options(&dims, &o);
    ember_session* s = NULL;
    if (ember_session_create(m, &o, &s) != EMBER_OK) {
        rc = cli_fail_ember("cannot create a session");
        ember_model_free(m);
        return rc;
    }
    double load_ms = cli_now_ms() - t0;
    /* Items per run: the first dimension of the first input (the batch). */
    long long items = 1;
    ember_tensor t0in = {.struct_size = sizeof t0in};
    if (ember_model_input_count(m) && ember_session_input(s, 0, &t0in) == EMBER_OK && t0in.rank >= 1)
        items = t0in.dims[0];
    double* times = malloc((size_t)runs * sizeof *times);
    if (!times) {
        rc = cli_fail(CLI_RUNTIME, "out of memory");
        goto done;
    }
    if ((rc = cli_random_inputs(s, m, 42))) goto done;
    for (long long i = 0; i < warmup; i++)
        if (ember_session_run(s) != EMBER_OK) {
            rc = cli_fail_ember("run failed");
            goto done;
        }
    double total = 0;
    for (long long i = 0; i < runs; i++) {
        double a = cli_now_ms();
        if (ember_session_run(s) != EMBER_OK) {
            rc = cli_fail_ember("run failed");
            goto done;
        }
        times[i] = cli_now_ms() - a;
        total += times[i];
    }
    qsort(times, (size_t)runs, sizeof *times, cmp_double);
    double median = runs % 2 ? times[runs / 2] : (times[runs / 2 - 1] + times[runs / 2]) / 2;
    double p90 = percentile(times, (size_t)runs, 90), p99 = percentile(times, (size_t)runs, 99);
    double mean = total / (double)runs;
    double throughput = total > 0 ? (double)items * (double)runs / (total / 1e3) : 0;
    long rss = cli_peak_rss_kb();
    const char* name = ember_model_metadata(m, "name");
    if (json) {
        printf("{\"model\": \"");
        for (const char* p = path; *p; p++) {
            unsigned char c = (unsigned char)*p;
            if (c == '"' || c == '\\') printf("\\%c", c);
            else if (c < 0x20) printf("\\u%04x", c);
            else putchar(c);
        }
        printf("\", \"median_ms\": %.6f, \"p90_ms\": %.6f, \"p99_ms\": %.6f, \"mean_ms\": %.6f, "
               "\"min_ms\": %.6f, \"max_ms\": %.6f, \"load_ms\": %.6f, \"peak_rss_kb\": %ld, "
               "\"throughput\": %.3f, \"runs\": %lld, \"warmup\": %lld, \"threads\": %lld, \"batch\": %lld}\n",
               median, p90, p99, mean, times[0], times[runs - 1], load_ms, rss, throughput, runs, warmup, threads,
               items);
    } else {
        printf("model: %s%s%s%s\n", path, name ? " (" : "", name ? name : "", name ? ")" : "");
        printf("threads %lld, batch %lld, %lld runs after %lld warm-up\n", threads, items, runs, warmup);
        printf("latency: median %.4f ms, p90 %.4f ms, p99 %.4f ms (min %.4f, mean %.4f, max %.4f)\n", median, p90,
               p99, times[0], mean, times[runs - 1]);
        printf("throughput: %.1f items/s\n", throughput);
        printf("load: %.3f ms (file to ready session)\n", load_ms);
        printf("peak RSS: %ld kB\n", rss);
    }
    rc = CLI_OK;
done:
    free(times);
    ember_session_free(s);
    ember_model_free(m);
    return rc;
}
