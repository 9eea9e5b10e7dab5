/* ember inspect MODEL: inputs, outputs, operator histogram, parameters by dtype,
 * multiply-accumulates, working memory and metadata. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "model_stats.h"

static void help(FILE* out) {
    fprintf(out,
            "usage: ember inspect MODEL [--batch B] [--shape NAME=DIMS]...\n"
            "\n"
            "Prints the model's inputs and outputs (dtype, shape with symbolic names), an\n"
            "operator histogram, parameters and bytes by dtype, multiply-accumulates per\n"
            "inference (Conv, ConvTranspose, Gemm, MatMul) and working memory for the\n"
            "given batch/shapes (default: every symbolic dimension 1), and all metadata.\n"
            "\n"
            "  --batch B            value of a symbolic first dimension (default 1)\n"
            "  --shape NAME=DIMS    input shape (e.g. x=4x3x32x32) or symbol value (batch=4)\n");
}

typedef struct op_count {
    const char* op;
    size_t count;
} op_count;

static int cmp_ops(const void* a, const void* b) {
    const op_count *x = a, *y = b;
    if (x->count != y->count) return x->count < y->count ? 1 : -1;
    return strcmp(x->op, y->op);
}

static void human_bytes(uint64_t b, char* buf, size_t cap) {
    if (b < 1024) snprintf(buf, cap, "%llu B", (unsigned long long)b);
    else if (b < 1024 * 1024) snprintf(buf, cap, "%.1f KiB", (double)b / 1024);
    else if (b < 1024ull * 1024 * 1024) snprintf(buf, cap, "%.1f MiB", (double)b / (1024.0 * 1024));
    else snprintf(buf, cap, "%.2f GiB", (double)b / (1024.0 * 1024 * 1024));
}

static void print_io(const ember_model* m, bool input) {
    size_t n = ember_model_input_count(m);
    printf("%s (%zu):\n", "inputs", n);
    for (size_t i = 0; i < n && input; i++) {
        ember_io_info info = {.struct_size = sizeof info};
        if (ember_model_input_info(m, i, &info) != EMBER_OK) continue;
        char b[256];
        printf("  %-24s %-5s %s\n", info.name, ember_dtype_name(info.dtype), cli_info_shape(&info, b, sizeof b));
    }
}

int cmd_inspect(int argc, char** argv) {
    const char* path = NULL;
    cli_dims dims = {0};
    const char* shapes[CLI_LIST_MAX];
    size_t n_shapes = 0;
    long long batch = 0;
    const cli_option opts[] = {
        {"--batch", CLI_INT, &batch, 1, 1LL << 40, NULL},
        {"--shape", CLI_LIST, shapes, 0, 0, &n_shapes},
    };
    size_t n_path;
    const int pr = cli_parse(argc, argv, opts, sizeof opts / sizeof opts[0], &path, 1, &n_path, help);
    if (pr != CLI_OK) return pr < 0 ? CLI_OK : pr;
    if (!path) {
        cli_fail(CLI_USAGE, "missing MODEL (see ember inspect --help)");
        return CLI_USAGE;
    }
    ember_model* m = NULL;
    int rc = cli_load_model(path, &m);
    if (rc) return rc;
    if ((rc = cli_dims_apply_shapes(&dims, m, shapes, n_shapes))) {
        ember_model_free(m);
        return rc;
    }

    /* Every symbol explicit (A), then each moved by a different amount (B): output
     * dims that follow a symbol are printed with its name. */
    ember_session_options o;
    ember_session_options_init(&o);
    cli_dims all = dims;
    size_t n_in = ember_model_input_count(m);
    for (size_t i = 0; i < n_in; i++) {
        ember_io_info info = {.struct_size = sizeof info};
        if (ember_model_input_info(m, i, &info) != EMBER_OK) continue;
        for (int32_t k = 0; k < info.rank; k++) {
            if (info.dims[k] >= 0 || !info.dim_names[k]) continue;
            bool known = false;
            for (size_t j = 0; j < all.count; j++) known |= strcmp(all.names[j], info.dim_names[k]) == 0;
            if (!known && all.count < 64) {
                all.names[all.count] = info.dim_names[k];
                all.values[all.count++] = k == 0 && batch ? batch : 1;
            }
        }
    }
    cli_dims moved = all;
    static const int64_t primes[] = {2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53};
    for (size_t j = 0; j < moved.count; j++) moved.values[j] += primes[j % 16] + 16 * (int64_t)(j / 16);
    model_stats st, st2;
    cli_dims_to_options(&all, &o);
    if (model_stats_compute(m, &o, &st) != EMBER_OK) {
        rc = cli_fail_ember("cannot resolve shapes");
        ember_model_free(m);
        return rc;
    }
    cli_dims_to_options(&moved, &o);
    bool have_moved = model_stats_compute(m, &o, &st2) == EMBER_OK;

    const char* name = ember_model_metadata(m, "name");
    printf("model: %s%s%s%s\n", path, name ? " (" : "", name ? name : "", name ? ")" : "");
    print_io(m, true);
    size_t n_out = ember_model_output_count(m);
    printf("outputs (%zu):\n", n_out);
    for (size_t i = 0; i < n_out; i++) {
        ember_io_info info = {.struct_size = sizeof info};
        if (ember_model_output_info(m, i, &info) != EMBER_OK) continue;
        char b[512];
        if (info.rank > 0 || i >= st.n_outputs) {
            cli_info_shape(&info, b, sizeof b);
        } else {
            size_t k = (size_t)snprintf(b, sizeof b, "[");
            for (int32_t d = 0; d < st.out_rank[i] && k < sizeof b; d++) {
                int64_t va = st.out_dims[i][d];
                const char* sym = NULL;
                if (have_moved && st2.out_rank[i] == st.out_rank[i] && st2.out_dims[i][d] != va)
                    for (size_t j = 0; j < all.count && !sym; j++)
                        if (all.values[j] == va && moved.values[j] == st2.out_dims[i][d]) sym = all.names[j];
                if (sym) k += (size_t)snprintf(b + k, sizeof b - k, "%s", sym);
                else if (have_moved && st2.out_dims[i][d] != va) k += (size_t)snprintf(b + k, sizeof b - k, "?%lld", (long long)va);
                else k += (size_t)snprintf(b + k, sizeof b - k, "%lld", (long long)va);
                if (d + 1 < st.out_rank[i] && k < sizeof b) k += (size_t)snprintf(b + k, sizeof b - k, ",");
            }
            if (k < sizeof b) snprintf(b + k, sizeof b - k, "]");
        }
        printf("  %-24s %-5s %s\n", info.name,
               ember_dtype_name(info.dtype != EMBER_DTYPE_UNDEFINED || i >= st.n_outputs ? info.dtype : st.out_dtype[i]), b);
    }

    size_t nn = ember_model_node_count(m);
    op_count* ops = calloc(nn ? nn : 1, sizeof *ops);
    size_t n_ops = 0;
    if (!ops) {
        ember_model_free(m);
        return cli_fail(CLI_RUNTIME, "out of memory");
    }
    for (size_t i = 0; i < nn; i++) {
        ember_node_info ni = {.struct_size = sizeof ni};
        if (ember_model_node_info(m, i, &ni) != EMBER_OK) continue;
        size_t k = 0;
        while (k < n_ops && strcmp(ops[k].op, ni.op_type) != 0) k++;
        if (k == n_ops) ops[n_ops++] = (op_count){ni.op_type, 0};
        ops[k].count++;
    }
    qsort(ops, n_ops, sizeof *ops, cmp_ops);
    printf("operators (%zu nodes, %zu types):\n", nn, n_ops);
    for (size_t k = 0; k < n_ops; k++) printf("  %-24s %zu\n", ops[k].op, ops[k].count);
    free(ops);

    char hb[64];
    uint64_t total_bytes = 0;
    for (int d = 0; d < 8; d++) total_bytes += st.param_bytes[d];
    human_bytes(total_bytes, hb, sizeof hb);
    printf("parameters: %llu (%s)\n", (unsigned long long)ember_model_parameter_count(m), hb);
    for (int d = 0; d < 8; d++)
        if (st.tensors[d]) {
            human_bytes(st.param_bytes[d], hb, sizeof hb);
            printf("  %-5s %llu in %llu tensors, %llu bytes (%s)\n", ember_dtype_name((ember_dtype)d),
                   (unsigned long long)st.params[d], (unsigned long long)st.tensors[d],
                   (unsigned long long)st.param_bytes[d], hb);
        }
    char sb[512] = "";
    size_t k = 0;
    for (size_t i = 0; i < all.count && k < sizeof sb; i++)
        k += (size_t)snprintf(sb + k, sizeof sb - k, "%s%s=%lld", k ? ", " : "", all.names[i], (long long)all.values[i]);
    printf("multiply-accumulates per inference%s%s%s: %llu (%.3f GMAC)\n", k ? " (" : "", sb, k ? ")" : "",
           (unsigned long long)st.macs, (double)st.macs / 1e9);
    human_bytes(st.arena_bytes, hb, sizeof hb);
    printf("working memory per session: %llu bytes (%s)\n", (unsigned long long)st.arena_bytes, hb);
    packed_stats ps;
    model_packed_stats(m, &ps);
    if (ps.nodes) {
        human_bytes(ps.bytes, hb, sizeof hb);
        const bool used = strcmp(ps.layout, ps.default_layout) == 0;
        printf("pre-packed weights: %u nodes, %s, layout '%s' (%s)\n", ps.nodes, hb, ps.layout,
               used ? "this machine's path: loading packs nothing"
                    : "not this machine's path: packed at session creation");
    } else {
        printf("pre-packed weights: none\n");
    }

    size_t nm = ember_model_metadata_count(m);
    printf("metadata (%zu entries):\n", nm);
    for (size_t i = 0; i < nm; i++) {
        const char *key, *value;
        if (ember_model_metadata_entry(m, i, &key, &value) != EMBER_OK) continue;
        if (strcmp(key, "labels") == 0) {
            size_t nl = ember_model_label_count(m);
            printf("  %s: %zu labels (", key, nl);
            for (size_t l = 0; l < nl && l < 5; l++) printf("%s%s", l ? ", " : "", ember_model_label(m, l));
            printf("%s)\n", nl > 5 ? ", ..." : "");
            continue;
        }
        const char* nl = strchr(value, '\n');
        if (nl) {
            size_t lines = 1;
            for (const char* p = value; *p; p++) lines += *p == '\n' && p[1];
            printf("  %s: %.*s ... (%zu lines)\n", key, (int)(nl - value), value, lines);
        } else {
            printf("  %s: %s\n", key, value);
        }
    }
    ember_model_free(m);
    return CLI_OK;
}
