/* End-to-end tests of the public API on the models in tests/models: loading
 * from a path and from memory, introspection, running against references,
 * batch sizes, zero-copy inputs and outputs, caller arenas, the memory plan,
 * limits, profiling and every input error. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "dispatch.h"
#include "ember.h"
#include "support/records.h"

static const char* models_dir(void) {
    const char* d = getenv("EMBER_TEST_MODELS");
    return d ? d : "tests/models";
}

static void path_of(char* buf, size_t cap, const char* file) {
    snprintf(buf, cap, "%s/%s", models_dir(), file);
}

static ember_model* load(const char* name) {
    char p[512];
    path_of(p, sizeof p, name);
    ember_model* m = NULL;
    ember_status st = ember_model_load_file(p, NULL, &m);
    if (st != EMBER_OK) fail_msg("loading %s: %s", p, ember_last_error());
    return m;
}

static size_t records(const char* file, rec_tensor** out) {
    char p[512];
    path_of(p, sizeof p, file);
    size_t n = rec_read(p, out);
    if (n == 0) fail_msg("cannot read records from %s", p);
    return n;
}

static void set_inputs(ember_session* s, const rec_tensor* in, size_t n) {
    for (size_t i = 0; i < n; i++) {
        ember_status st = ember_session_set_input_by_name(s, in[i].name, in[i].dtype, in[i].dims,
                                                          in[i].rank, in[i].data, in[i].bytes);
        if (st != EMBER_OK) fail_msg("set_input %s: %s", in[i].name, ember_last_error());
    }
}

/* max |got - want| <= 1e-4 * max |want| (+ a tiny floor), for every output. */
static void check_outputs(ember_session* s, const rec_tensor* want, size_t n) {
    for (size_t i = 0; i < n; i++) {
        ember_tensor t = {.struct_size = sizeof t};
        ember_status st = ember_session_output_by_name(s, want[i].name, &t);
        if (st != EMBER_OK) fail_msg("output %s: %s", want[i].name, ember_last_error());
        assert_int_equal(t.dtype, want[i].dtype);
        assert_int_equal(t.rank, (int)want[i].rank);
        for (uint32_t d = 0; d < want[i].rank; d++) assert_int_equal(t.dims[d], want[i].dims[d]);
        assert_int_equal(t.bytes, want[i].bytes);
        if (t.dtype == EMBER_DTYPE_F32) {
            const float* g = t.data;
            const float* w = want[i].data;
            size_t count = t.bytes / 4;
            float scale = 0, err = 0;
            for (size_t k = 0; k < count; k++) scale = fmaxf(scale, fabsf(w[k]));
            for (size_t k = 0; k < count; k++) err = fmaxf(err, fabsf(g[k] - w[k]));
            if (!(err <= 1e-4f * scale + 1e-6f))
                fail_msg("output %s: max abs error %g, allowed %g", want[i].name, err, 1e-4f * scale + 1e-6f);
        } else {
            assert_memory_equal(t.data, want[i].data, t.bytes);
        }
    }
}

static void run_reference(const char* model, const char* stem, int64_t batch) {
    char in_name[256], out_name[256];
    snprintf(in_name, sizeof in_name, "%s.input.bin", stem);
    snprintf(out_name, sizeof out_name, "%s.expected.bin", stem);
    rec_tensor *in, *want;
    size_t n_in = records(in_name, &in), n_want = records(out_name, &want);
    ember_model* m = load(model);
    ember_session_options o;
    ember_session_options_init(&o);
    o.batch_size = batch;
    ember_session* s = NULL;
    if (ember_session_create(m, &o, &s) != EMBER_OK) fail_msg("session: %s", ember_last_error());
    set_inputs(s, in, n_in);
    if (ember_session_run(s) != EMBER_OK) fail_msg("run %s: %s", model, ember_last_error());
    check_outputs(s, want, n_want);
    /* a second run over the same session gives the same answer */
    assert_int_equal(ember_session_run(s), EMBER_OK);
    check_outputs(s, want, n_want);
    ember_session_free(s);
    ember_model_free(m);
    rec_free(in, n_in);
    rec_free(want, n_want);
}

static void test_mlp_reference(void** state) {
    (void)state;
    run_reference("mlp.ember", "mlp", 0);
}
static void test_mlp_batch3(void** state) {
    (void)state;
    run_reference("mlp.ember", "mlp.batch3", 3);
}
static void test_cnn_reference(void** state) {
    (void)state;
    run_reference("cnn.ember", "cnn", 0);
}
static void test_deep_reference(void** state) {
    (void)state;
    run_reference("deep.ember", "deep", 0);
}
static void test_ops_reference(void** state) {
    (void)state;
    run_reference("ops.ember", "ops", 0);
}

static void test_gather_reference(void** state) {
    (void)state;
    run_reference("gather.ember", "gather", 0);
}

/* A profiled session of model on `threads` threads with the extra session
 * flags, run once on in and checked against want; its outputs' floats, in
 * output order, copied into out (exactly n_out of them). The caller frees the
 * session and *model. */
static ember_session* run_profiled(const char* model, size_t threads, unsigned flags,
                                   const rec_tensor* in, size_t n_in, const rec_tensor* want,
                                   size_t n_want, float* out, size_t n_out, ember_model** mp) {
    ember_model* m = load(model);
    ember_session_options o;
    ember_session_options_init(&o);
    o.threads = (int)threads;
    o.flags = EMBER_SESSION_PROFILE | EMBER_SESSION_ALLOW_OVERSUBSCRIBE | flags;
    ember_session* s = NULL;
    if (ember_session_create(m, &o, &s) != EMBER_OK) fail_msg("session: %s", ember_last_error());
    set_inputs(s, in, n_in);
    assert_int_equal(ember_session_run(s), EMBER_OK);
    check_outputs(s, want, n_want);
    size_t at = 0;
    for (size_t k = 0; k < ember_model_output_count(m); k++) {
        ember_tensor t = {.struct_size = sizeof t};
        assert_int_equal(ember_session_output(s, k, &t), EMBER_OK);
        assert_true(at + t.bytes / sizeof(float) <= n_out);
        memcpy(out + at, t.data, t.bytes);
        at += t.bytes / sizeof(float);
    }
    assert_int_equal(at, n_out);
    *mp = m;
    return s;
}

/* The kernel the profile names for node `name` of m. */
static const char* node_kernel(const ember_session* s, const ember_model* m, const char* name) {
    for (size_t i = 0; i < ember_model_node_count(m); i++) {
        ember_node_profile np = {.struct_size = sizeof np};
        assert_int_equal(ember_session_node_profile(s, i, &np), EMBER_OK);
        if (strcmp(np.name, name) == 0) return np.kernel;
    }
    fail_msg("no node named %s", name);
    return NULL;
}

/* The planner's fusions (fused.ember has one of each): the reference values,
 * the profile naming the absorbed nodes "fused" and the nodes that did their
 * work, the same bits at 2 and 3 threads, and the same values unfused on the
 * portable path (a forced path runs the graph as written). */
static void run_fused(size_t threads, unsigned flags, const rec_tensor* in, size_t n_in,
                      const rec_tensor* want, size_t n_want, float* y, size_t n_y) {
    ember_model* m;
    ember_session* s = run_profiled("fused.ember", threads, flags, in, n_in, want, n_want, y, n_y, &m);
    static const char* const absorbed[] = {"stem", "se.scale", "expand"};
    static const char* const absorbers[][2] = {
        {"pool", "direct conv+maxpool"}, {"project", "scale+gemm"}, {"dw", "1x1+dwconv"}};
    /* A path with the channel-blocked layout runs the expand -> dw -> SE ->
     * project region blocked (plan.c): the expand -> dw pair fused on the
     * blocked kernels, the SE scale run by its own node. */
    const int blocked = strstr(node_kernel(s, m, "dw"), "nchw16c") != NULL;
    if (blocked && flags != 0) fail_msg("a forced path ran blocked");
    static const char* const region[] = {"dw", "se.scale", "project"};
    for (size_t k = 0; blocked && k < 3; k++)
        if (!strstr(node_kernel(s, m, region[k]), "nchw16c"))
            fail_msg("%s ran as '%s' in a blocked region", region[k], node_kernel(s, m, region[k]));
    const int fused = flags == 0;
    for (size_t k = 0; k < 3; k++) {
        if (blocked && k == 1) continue; /* the blocked region's SE scale */
        const char* ka = node_kernel(s, m, absorbed[k]);
        const char* kb = node_kernel(s, m, absorbers[k][0]);
        if ((strcmp(ka, "fused") == 0) != fused) fail_msg("%s ran as '%s'", absorbed[k], ka);
        if ((strstr(kb, absorbers[k][1]) != NULL) != fused)
            fail_msg("%s ran as '%s'", absorbers[k][0], kb);
    }
    ember_session_free(s);
    ember_model_free(m);
}

static void test_fused_reference(void** state) {
    (void)state;
    rec_tensor *in, *want;
    const size_t n_in = records("fused.input.bin", &in), n_want = records("fused.expected.bin", &want);
    float y1[256], y[256];
    run_fused(1, 0, in, n_in, want, n_want, y1, 256);
    for (size_t threads = 2; threads <= 3; threads++) {
        run_fused(threads, 0, in, n_in, want, n_want, y, 256);
        assert_memory_equal(y, y1, sizeof y);
    }
    run_fused(1, EMBER_SESSION_ISA_GENERIC, in, n_in, want, n_want, y, 256);
    rec_free(in, n_in);
    rec_free(want, n_want);
}

/* The channel-blocked layout (blocked.ember: a stem, depthwise and 1x1
 * layers, squeeze-excite, a residual Add and a second output inside the
 * region): the reference values, the same bits at 2 and 3 threads, the
 * portable path (never blocked) within rounding; on a path with the blocked
 * layout, the profile shows every node of the region blocked (the stem
 * writing blocked, the SE scale folded into the 1x1 after it, the residual
 * Add doing the work of the 1x1 before it). */
static void run_blocked(size_t threads, unsigned flags, const rec_tensor* in, size_t n_in,
                        const rec_tensor* want, size_t n_want, float* out, size_t n_out) {
    ember_model* m;
    ember_session* s =
        run_profiled("blocked.ember", threads, flags, in, n_in, want, n_want, out, n_out, &m);
    const int blocked = strstr(node_kernel(s, m, "dw1"), "nchw16c") != NULL;
    if (blocked && flags) fail_msg("a forced path ran blocked");
    static const char* const region[] = {"stem", "dw1", "p1", "e2", "dw2", "se.pool", "se.reduce",
                                         "se.expand", "e3", "dw3", "add", "head.pool"};
    for (size_t k = 0; blocked && k < sizeof region / sizeof *region; k++)
        if (!strstr(node_kernel(s, m, region[k]), "nchw16c"))
            fail_msg("%s ran as '%s' in a blocked region", region[k], node_kernel(s, m, region[k]));
    if (blocked && !strstr(node_kernel(s, m, "stem"), "direct conv nchw16c"))
        fail_msg("the stem ran as '%s'", node_kernel(s, m, "stem"));
    if (blocked && strcmp(node_kernel(s, m, "se.scale"), "fused") != 0)
        fail_msg("the SE scale ran as '%s'", node_kernel(s, m, "se.scale"));
    if (blocked && (strcmp(node_kernel(s, m, "p3"), "fused") != 0 ||
                    !strstr(node_kernel(s, m, "add"), "gemm+add nchw16c")))
        fail_msg("the residual Add ran as '%s', its 1x1 as '%s'", node_kernel(s, m, "add"),
                 node_kernel(s, m, "p3"));
    ember_session_free(s);
    ember_model_free(m);
}

static void test_blocked_reference(void** state) {
    (void)state;
    rec_tensor *in, *want;
    const size_t n_in = records("blocked.input.bin", &in), n_want = records("blocked.expected.bin", &want);
    enum { N = 24 + 24 * 40 * 40 };
    static float y1[N], y[N];
    run_blocked(1, 0, in, n_in, want, n_want, y1, N);
    for (size_t threads = 2; threads <= 3; threads++) {
        run_blocked(threads, 0, in, n_in, want, n_want, y, N);
        assert_memory_equal(y, y1, sizeof y);
    }
    run_blocked(1, EMBER_SESSION_ISA_GENERIC, in, n_in, want, n_want, y, N);
    rec_free(in, n_in);
    rec_free(want, n_want);
}

/* An operator failing on data names the node, and writes no output. */
static void test_runtime_error_names_node(void** state) {
    (void)state;
    ember_model* m = load("gather.ember");
    ember_session* s;
    assert_int_equal(ember_session_create(m, NULL, &s), EMBER_OK);
    float data[12] = {0};
    int64_t data_dims[2] = {4, 3}, idx_dims[1] = {2}, idx[2] = {1, 7};
    assert_int_equal(ember_session_set_input(s, 0, EMBER_DTYPE_F32, data_dims, 2, data, sizeof data), EMBER_OK);
    assert_int_equal(ember_session_set_input(s, 1, EMBER_DTYPE_I64, idx_dims, 1, idx, sizeof idx), EMBER_OK);
    float out[6];
    memset(out, 0x5a, sizeof out);
    unsigned char sentinel[sizeof out];
    memcpy(sentinel, out, sizeof out);
    assert_int_equal(ember_session_bind_output(s, 0, out, sizeof out), EMBER_OK);
    assert_int_equal(ember_session_run(s), EMBER_ERROR_RUNTIME);
    const char* msg = ember_last_error();
    if (!strstr(msg, "node 'pick_rows' (Gather)") || !strstr(msg, "7"))
        fail_msg("message does not name the node and the index: %s", msg);
    assert_memory_equal(out, sentinel, sizeof out);
    ember_tensor t = {.struct_size = sizeof t};
    assert_int_equal(ember_session_output(s, 0, &t), EMBER_ERROR_INVALID_ARGUMENT);
    idx[1] = -4;
    assert_int_equal(ember_session_set_input(s, 1, EMBER_DTYPE_I64, idx_dims, 1, idx, sizeof idx), EMBER_OK);
    assert_int_equal(ember_session_run(s), EMBER_OK);
    ember_session_free(s);
    ember_model_free(m);
}

static void test_version(void** state) {
    (void)state;
    assert_int_equal(ember_version_number(), EMBER_VERSION_NUMBER);
    assert_string_equal(ember_version_string(), EMBER_VERSION_STRING);
    assert_int_equal(ember_format_version(), 102);
    assert_string_equal(ember_status_string(EMBER_ERROR_INVALID_MODEL), "invalid model");
    assert_string_equal(ember_status_string((ember_status)999), "unknown status");
    assert_int_equal(ember_dtype_size(EMBER_DTYPE_I64), 8);
    assert_int_equal(ember_dtype_size((ember_dtype)77), 0);
    assert_string_equal(ember_dtype_name(EMBER_DTYPE_BOOL), "bool");
}

static void test_introspection(void** state) {
    (void)state;
    ember_model* m = load("mlp.ember");
    assert_int_equal(ember_model_input_count(m), 1);
    assert_int_equal(ember_model_output_count(m), 1);
    ember_io_info info = {.struct_size = sizeof info};
    assert_int_equal(ember_model_input_info(m, 0, &info), EMBER_OK);
    assert_string_equal(info.name, "x");
    assert_int_equal(info.dtype, EMBER_DTYPE_F32);
    assert_int_equal(info.rank, 2);
    assert_int_equal(info.dims[0], -1);
    assert_string_equal(info.dim_names[0], "batch");
    assert_int_equal(info.dims[1], 16);
    assert_null(info.dim_names[1]);
    assert_int_equal(ember_model_output_info(m, 0, &info), EMBER_OK);
    assert_string_equal(info.name, "probs");
    size_t idx = 99;
    assert_int_equal(ember_model_input_index(m, "x", &idx), EMBER_OK);
    assert_int_equal(idx, 0);
    assert_int_equal(ember_model_input_index(m, "nope", &idx), EMBER_ERROR_NOT_FOUND);
    assert_non_null(strstr(ember_last_error(), "nope"));
    assert_int_equal(ember_model_input_info(m, 5, &info), EMBER_ERROR_INVALID_ARGUMENT);
    assert_non_null(strstr(ember_last_error(), "out of range"));
    assert_true(ember_model_node_count(m) >= 3);
    assert_int_equal(ember_model_parameter_count(m), 16 * 32 + 32 + 32 * 10 + 10);
    ember_node_info ni = {.struct_size = sizeof ni};
    assert_int_equal(ember_model_node_info(m, 0, &ni), EMBER_OK);
    assert_string_equal(ni.op_type, "Gemm");
    assert_string_equal(ember_model_metadata(m, "name"), "mlp");
    assert_null(ember_model_metadata(m, "no-such-key"));
    assert_int_equal(ember_model_label_count(m), 10);
    assert_string_equal(ember_model_label(m, 3), "c3");
    assert_null(ember_model_label(m, 10));
    assert_true(ember_model_metadata_count(m) >= 2);
    const char *k, *v;
    assert_int_equal(ember_model_metadata_entry(m, 0, &k, &v), EMBER_OK);
    ember_model_free(m);
}

static void test_load_memory_matches_file(void** state) {
    (void)state;
    char p[512];
    path_of(p, sizeof p, "cnn.ember");
    size_t size;
    unsigned char* bytes = rec_slurp(p, &size);
    assert_non_null(bytes);
    /* an unaligned caller buffer works too: the loader copies */
    unsigned char* odd = malloc(size + 1);
    memcpy(odd + 1, bytes, size);
    ember_model* m = NULL;
    assert_int_equal(ember_model_load_memory(odd + 1, size, NULL, &m), EMBER_OK);
    free(odd);
    free(bytes);
    rec_tensor *in, *want;
    size_t n_in = records("cnn.input.bin", &in), n_want = records("cnn.expected.bin", &want);
    ember_session* s;
    assert_int_equal(ember_session_create(m, NULL, &s), EMBER_OK);
    set_inputs(s, in, n_in);
    assert_int_equal(ember_session_run(s), EMBER_OK);
    check_outputs(s, want, n_want);
    ember_session_free(s);
    ember_model_free(m);
    rec_free(in, n_in);
    rec_free(want, n_want);
}

static void test_load_errors(void** state) {
    (void)state;
    ember_model* m = (ember_model*)0x1;
    assert_int_equal(ember_model_load_file("/nonexistent/x.ember", NULL, &m), EMBER_ERROR_IO);
    assert_non_null(strstr(ember_last_error(), "/nonexistent/x.ember"));
    assert_ptr_equal(m, (ember_model*)0x1); /* untouched on failure */
    assert_int_equal(ember_model_load_file("/", NULL, &m), EMBER_ERROR_IO);
    assert_int_equal(ember_model_load_file(NULL, NULL, &m), EMBER_ERROR_INVALID_ARGUMENT);
    const char junk[100] = "this is not a model at all, just text, long enough to pass the header size";
    assert_int_equal(ember_model_load_memory(junk, sizeof junk, NULL, &m), EMBER_ERROR_INVALID_MODEL);
    assert_non_null(strstr(ember_last_error(), "magic"));
    assert_int_equal(ember_model_load_memory(junk, 10, NULL, &m), EMBER_ERROR_INVALID_MODEL);
    ember_load_options lo;
    ember_load_options_init(&lo);
    lo.flags = 7;
    char p[512];
    path_of(p, sizeof p, "mlp.ember");
    assert_int_equal(ember_model_load_file(p, &lo, &m), EMBER_ERROR_INVALID_ARGUMENT);
    lo.flags = 0;
    lo.struct_size = 3;
    assert_int_equal(ember_model_load_file(p, &lo, &m), EMBER_ERROR_INVALID_ARGUMENT);
    ember_model_free(NULL);
    ember_session_free(NULL);
}

static void test_limits(void** state) {
    (void)state;
    char p[512];
    path_of(p, sizeof p, "deep.ember");
    ember_model* m = NULL;
    ember_load_options lo;
    ember_load_options_init(&lo);
    lo.max_arena_bytes = 1000;
    assert_int_equal(ember_model_load_file(p, &lo, &m), EMBER_ERROR_LIMIT_EXCEEDED);
    assert_non_null(strstr(ember_last_error(), "working memory"));
    ember_load_options_init(&lo);
    lo.max_nodes = 10;
    assert_int_equal(ember_model_load_file(p, &lo, &m), EMBER_ERROR_LIMIT_EXCEEDED);
    assert_non_null(strstr(ember_last_error(), "nodes"));
    ember_load_options_init(&lo);
    lo.max_tensor_elements = 100;
    assert_int_equal(ember_model_load_file(p, &lo, &m), EMBER_ERROR_LIMIT_EXCEEDED);
    assert_non_null(strstr(ember_last_error(), "elements"));
    /* generous limits load fine, but a session with a huge batch is refused */
    path_of(p, sizeof p, "mlp.ember");
    ember_load_options_init(&lo);
    lo.max_arena_bytes = 1 << 20;
    assert_int_equal(ember_model_load_file(p, &lo, &m), EMBER_OK);
    ember_session_options o;
    ember_session_options_init(&o);
    o.batch_size = 1 << 20;
    ember_session* s = NULL;
    assert_int_equal(ember_session_create(m, &o, &s), EMBER_ERROR_LIMIT_EXCEEDED);
    assert_null(s);
    ember_model_free(m);
    /* without limits, an absurd batch fails cleanly as out of memory or over the limit */
    m = load("mlp.ember");
    o.batch_size = (int64_t)1 << 42;
    ember_status st = ember_session_create(m, &o, &s);
    assert_true(st == EMBER_ERROR_OUT_OF_MEMORY || st == EMBER_ERROR_LIMIT_EXCEEDED);
    assert_null(s);
    o.batch_size = INT64_MAX;
    st = ember_session_create(m, &o, &s);
    assert_true(st == EMBER_ERROR_LIMIT_EXCEEDED);
    assert_non_null(strstr(ember_last_error(), "too large"));
    ember_model_free(m);
}

static void test_memory_plan(void** state) {
    (void)state;
    ember_model* m = load("deep.ember");
    ember_memory_plan plan = {.struct_size = sizeof plan};
    assert_int_equal(ember_session_plan_memory(m, NULL, &plan), EMBER_OK);
    print_message("deep.ember: arena %llu bytes, naive %llu bytes (%.1fx smaller)\n",
                  (unsigned long long)plan.arena_bytes, (unsigned long long)plan.naive_bytes,
                  (double)plan.naive_bytes / (double)plan.arena_bytes);
    assert_true(plan.arena_bytes > 0);
    assert_true(plan.arena_bytes * 10 < plan.naive_bytes);
    assert_true(plan.weight_bytes > 0);
    {   /* constant Conv / Gemm weights are packed once per model, outside the arena */
        ember_model* cnn = load("cnn.ember");
        ember_memory_plan cp = {.struct_size = sizeof cp};
        assert_int_equal(ember_session_plan_memory(cnn, NULL, &cp), EMBER_OK);
        assert_true(cp.packed_weight_bytes > 0);
        ember_model_free(cnn);
    }

    /* a caller-supplied arena of exactly that size works; one byte less is refused */
    void* arena = NULL;
    assert_int_equal(posix_memalign(&arena, 64, (size_t)plan.arena_bytes), 0);
    ember_session_options o;
    ember_session_options_init(&o);
    o.arena = arena;
    o.arena_size = (size_t)plan.arena_bytes - 1;
    ember_session* s = NULL;
    assert_int_equal(ember_session_create(m, &o, &s), EMBER_ERROR_BUFFER_TOO_SMALL);
    o.arena_size = (size_t)plan.arena_bytes;
    assert_int_equal(ember_session_create(m, &o, &s), EMBER_OK);
    rec_tensor *in, *want;
    size_t n_in = records("deep.input.bin", &in), n_want = records("deep.expected.bin", &want);
    set_inputs(s, in, n_in);
    assert_int_equal(ember_session_run(s), EMBER_OK);
    check_outputs(s, want, n_want);
    ember_session_free(s);
    free(arena);
    o.arena = (char*)arena + 8; /* misaligned */
    assert_int_equal(ember_session_create(m, &o, &s), EMBER_ERROR_INVALID_ARGUMENT);
    ember_model_free(m);
    rec_free(in, n_in);
    rec_free(want, n_want);
}

static void test_input_errors(void** state) {
    (void)state;
    ember_model* m = load("mlp.ember");
    ember_session* s;
    assert_int_equal(ember_session_create(m, NULL, &s), EMBER_OK);
    float x[16] = {0};
    int64_t good[2] = {1, 16}, bad[2] = {1, 15};
    /* missing input */
    assert_int_equal(ember_session_run(s), EMBER_ERROR_MISSING_INPUT);
    assert_non_null(strstr(ember_last_error(), "'x'"));
    ember_tensor t = {.struct_size = sizeof t};
    assert_int_equal(ember_session_output(s, 0, &t), EMBER_ERROR_INVALID_ARGUMENT);
    /* wrong dtype */
    assert_int_equal(ember_session_set_input(s, 0, EMBER_DTYPE_I32, good, 2, x, sizeof x),
                     EMBER_ERROR_DTYPE_MISMATCH);
    assert_non_null(strstr(ember_last_error(), "expected dtype f32, got i32"));
    /* wrong shape */
    assert_int_equal(ember_session_set_input(s, 0, EMBER_DTYPE_F32, bad, 2, x, 15 * 4),
                     EMBER_ERROR_SHAPE_MISMATCH);
    assert_non_null(strstr(ember_last_error(), "expected shape [1,16], got [1,15]"));
    assert_non_null(strstr(ember_last_error(), "'x'"));
    /* wrong byte count, bad index, unknown name */
    assert_int_equal(ember_session_set_input(s, 0, EMBER_DTYPE_F32, good, 2, x, 12), EMBER_ERROR_SHAPE_MISMATCH);
    assert_int_equal(ember_session_set_input(s, 4, EMBER_DTYPE_F32, good, 2, x, sizeof x),
                     EMBER_ERROR_INVALID_ARGUMENT);
    assert_int_equal(ember_session_set_input_by_name(s, "y", EMBER_DTYPE_F32, good, 2, x, sizeof x),
                     EMBER_ERROR_NOT_FOUND);
    assert_int_equal(ember_session_set_input(s, 0, EMBER_DTYPE_F32, good, 9, x, sizeof x),
                     EMBER_ERROR_INVALID_ARGUMENT);
    /* a bound output is untouched by a failed run */
    float out[10];
    memset(out, 0x7f, sizeof out);
    float sentinel[10];
    memcpy(sentinel, out, sizeof out);
    assert_int_equal(ember_session_bind_output(s, 0, out, 4), EMBER_ERROR_BUFFER_TOO_SMALL);
    assert_int_equal(ember_session_bind_output(s, 0, out, sizeof out), EMBER_OK);
    assert_int_equal(ember_session_run(s), EMBER_ERROR_MISSING_INPUT);
    assert_memory_equal(out, sentinel, sizeof out);
    /* options errors */
    ember_session_options o;
    ember_session_options_init(&o);
    o.threads = -1;
    ember_session* s2 = NULL;
    assert_int_equal(ember_session_create(m, &o, &s2), EMBER_ERROR_INVALID_ARGUMENT);
    ember_session_options_init(&o);
    const char* names[] = {"nosuchdim"};
    int64_t values[] = {2};
    o.dim_names = names;
    o.dim_values = values;
    o.dim_count = 1;
    assert_int_equal(ember_session_create(m, &o, &s2), EMBER_ERROR_NOT_FOUND);
    assert_non_null(strstr(ember_last_error(), "nosuchdim"));
    names[0] = "batch";
    values[0] = 0;
    assert_int_equal(ember_session_create(m, &o, &s2), EMBER_ERROR_INVALID_ARGUMENT);
    values[0] = 2;
    assert_int_equal(ember_session_create(m, &o, &s2), EMBER_OK);
    ember_tensor it = {.struct_size = sizeof it};
    assert_int_equal(ember_session_input(s2, 0, &it), EMBER_OK);
    assert_int_equal(it.dims[0], 2);
    ember_session_free(s2);
    ember_session_free(s);
    ember_model_free(m);
}

/* EMBER_SESSION_ISA_*: every path this CPU runs gives the expected outputs of
 * cnn, deep and mlp (the forced path runs without the model's packed weights,
 * next to a default session that uses them), and the profile names that path;
 * a path it cannot run, or bits that name none, fail with a clear error. */
static void test_forced_isa(void** state) {
    (void)state;
    static const struct { const char* name; uint32_t flag; } paths[] = {
        {"generic", EMBER_SESSION_ISA_GENERIC}, {"avx2", EMBER_SESSION_ISA_AVX2},
        {"avx512", EMBER_SESSION_ISA_AVX512}, {"neon", EMBER_SESSION_ISA_NEON}};
    static const char* const models[] = {"cnn", "deep", "mlp"};
    for (size_t mi = 0; mi < 3; mi++) {
        char f_in[64], f_want[64], f_model[64];
        snprintf(f_in, sizeof f_in, "%s.input.bin", models[mi]);
        snprintf(f_want, sizeof f_want, "%s.expected.bin", models[mi]);
        snprintf(f_model, sizeof f_model, "%s.ember", models[mi]);
        rec_tensor *in, *want;
        const size_t n_in = records(f_in, &in), n_want = records(f_want, &want);
        ember_model* m = load(f_model);
        ember_session* def;
        assert_int_equal(ember_session_create(m, NULL, &def), EMBER_OK); /* packs the weights */
        for (size_t p = 0; p < 4; p++) {
            ember_session_options o;
            ember_session_options_init(&o);
            o.flags = EMBER_SESSION_PROFILE | paths[p].flag;
            ember_session* s = NULL;
            const ember_status st = ember_session_create(m, &o, &s);
            if (!ember_kernels_for(paths[p].name)) {
                assert_int_equal(st, EMBER_ERROR_UNSUPPORTED);
                assert_non_null(strstr(ember_last_error(), paths[p].name));
                continue;
            }
            assert_int_equal(st, EMBER_OK);
            set_inputs(s, in, n_in);
            assert_int_equal(ember_session_run(s), EMBER_OK);
            check_outputs(s, want, n_want);
            for (size_t i = 0; i < ember_model_node_count(m); i++) {
                ember_node_profile np = {.struct_size = sizeof np};
                assert_int_equal(ember_session_node_profile(s, i, &np), EMBER_OK);
                if (strncmp(np.kernel, "reference", 9) != 0 && strncmp(np.kernel, "portable", 8) != 0 &&
                    strcmp(np.kernel, "in place") != 0 &&
                    strncmp(np.kernel, paths[p].name, strlen(paths[p].name)) != 0)
                    fail_msg("%s forced to %s: node %zu reports kernel '%s'", models[mi],
                             paths[p].name, i, np.kernel);
            }
            ember_session_free(s);
        }
        ember_session_free(def);
        ember_model_free(m);
        rec_free(in, n_in);
        rec_free(want, n_want);
    }
    ember_model* m = load("mlp.ember");
    ember_session_options o;
    ember_session_options_init(&o);
    o.flags = 0x500u; /* no such path */
    ember_session* s = NULL;
    assert_int_equal(ember_session_create(m, &o, &s), EMBER_ERROR_INVALID_ARGUMENT);
    assert_non_null(strstr(ember_last_error(), "EMBER_SESSION_ISA_MASK"));
    assert_null(s);
    ember_model_free(m);
}

static void test_zero_copy_and_profile(void** state) {
    (void)state;
    rec_tensor *in, *want;
    size_t n_in = records("mlp.input.bin", &in), n_want = records("mlp.expected.bin", &want);
    ember_model* m = load("mlp.ember");
    ember_session_options o;
    ember_session_options_init(&o);
    o.flags = EMBER_SESSION_PROFILE;
    ember_session* s;
    assert_int_equal(ember_session_create(m, &o, &s), EMBER_OK);
    assert_int_equal(ember_session_bind_input(s, 0, in[0].dtype, in[0].dims, in[0].rank, in[0].data,
                                              in[0].bytes), EMBER_OK);
    float out[10] = {0};
    assert_int_equal(ember_session_bind_output(s, 0, out, sizeof out), EMBER_OK);
    assert_int_equal(ember_session_run(s), EMBER_OK);
    ember_tensor t = {.struct_size = sizeof t};
    assert_int_equal(ember_session_output(s, 0, &t), EMBER_OK);
    assert_ptr_equal(t.data, out);
    check_outputs(s, want, n_want);
    /* the copy-free input path through the session's own buffer */
    ember_tensor it = {.struct_size = sizeof it};
    assert_int_equal(ember_session_input(s, 0, &it), EMBER_OK);
    assert_int_equal(it.bytes, in[0].bytes);
    memcpy(it.data, in[0].data, it.bytes);
    assert_int_equal(ember_session_mark_input_set(s, 0), EMBER_OK);
    memset(out, 0, sizeof out);
    assert_int_equal(ember_session_run(s), EMBER_OK);
    check_outputs(s, want, n_want);
    float copy[10];
    assert_int_equal(ember_session_copy_output(s, 0, copy, 4), EMBER_ERROR_BUFFER_TOO_SMALL);
    assert_int_equal(ember_session_copy_output(s, 0, copy, sizeof copy), EMBER_OK);
    assert_memory_equal(copy, out, sizeof out);
    /* profile */
    uint64_t total = 0;
    for (size_t i = 0; i < ember_model_node_count(m); i++) {
        ember_node_profile p = {.struct_size = sizeof p};
        assert_int_equal(ember_session_node_profile(s, i, &p), EMBER_OK);
        assert_non_null(p.op_type);
        assert_non_null(p.kernel);
        /* a batch-1 Gemm runs the dispatched matrix-vector kernel, and says so */
        if (strcmp(p.op_type, "Gemm") == 0 && !strstr(p.kernel, " gemv"))
            fail_msg("Gemm at batch 1 reports kernel '%s'", p.kernel);
        /* Softmax runs the dispatched row-wise kernel, and says so */
        if (strcmp(p.op_type, "Softmax") == 0 && !strstr(p.kernel, " softmax"))
            fail_msg("Softmax reports kernel '%s'", p.kernel);
        total += p.time_ns;
    }
    assert_true(total > 0);
    ember_node_profile p = {.struct_size = sizeof p};
    assert_int_equal(ember_session_node_profile(s, 999, &p), EMBER_ERROR_INVALID_ARGUMENT);
    /* back to the session's own output buffer */
    assert_int_equal(ember_session_bind_output(s, 0, NULL, 0), EMBER_OK);
    assert_int_equal(ember_session_run(s), EMBER_OK);
    assert_int_equal(ember_session_output(s, 0, &t), EMBER_OK);
    assert_ptr_not_equal(t.data, out);
    check_outputs(s, want, n_want);
    ember_session_free(s);
    ember_model_free(m);
    rec_free(in, n_in);
    rec_free(want, n_want);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_version),
        cmocka_unit_test(test_introspection),
        cmocka_unit_test(test_load_errors),
        cmocka_unit_test(test_mlp_reference),
        cmocka_unit_test(test_mlp_batch3),
        cmocka_unit_test(test_cnn_reference),
        cmocka_unit_test(test_deep_reference),
        cmocka_unit_test(test_ops_reference),
        cmocka_unit_test(test_gather_reference),
        cmocka_unit_test(test_fused_reference),
        cmocka_unit_test(test_blocked_reference),
        cmocka_unit_test(test_runtime_error_names_node),
        cmocka_unit_test(test_load_memory_matches_file),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_memory_plan),
        cmocka_unit_test(test_input_errors),
        cmocka_unit_test(test_zero_copy_and_profile),
        cmocka_unit_test(test_forced_isa),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
