/* Sessions with several threads: every model of tests/models (and of
 * $EMBER_THREADS_ZOO, a directory of larger .ember files, when set) gives
 * bit-identical outputs with threads = 1, 2 and 3; a session starts threads - 1
 * threads, none for 1, at most the CPUs unless allowed more, and stops them
 * when freed. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ember.h"
#include "support/records.h"
#include "support/tasks.h"

static int failures;

#define CHECK(cond, ...)                                          \
    do {                                                          \
        if (!(cond)) {                                            \
            fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);  \
            fprintf(stderr, __VA_ARGS__);                         \
            fprintf(stderr, " (%s)\n", ember_last_error());       \
            failures++;                                           \
        }                                                         \
    } while (0)


static ember_session* make_session(const ember_model* m, int threads, uint32_t flags) {
    ember_session_options o;
    ember_session_options_init(&o);
    o.threads = threads;
    o.flags = flags;
    ember_session* s = NULL;
    if (ember_session_create(m, &o, &s) != EMBER_OK) return NULL;
    return s;
}

/* Inputs from path (a records file), or made up (deterministic) when NULL. */
static int set_inputs(ember_session* s, const ember_model* m, const rec_tensor* in, size_t n_in) {
    if (in) {
        for (size_t i = 0; i < n_in; i++)
            if (ember_session_set_input_by_name(s, in[i].name, in[i].dtype, in[i].dims, in[i].rank,
                                                in[i].data, in[i].bytes) != EMBER_OK)
                return -1;
        return 0;
    }
    uint32_t r = 7;
    for (size_t i = 0; i < ember_model_input_count(m); i++) {
        ember_tensor t = {.struct_size = sizeof t};
        if (ember_session_input(s, i, &t) != EMBER_OK) return -1;
        if (t.dtype == EMBER_DTYPE_F32) {
            float* f = t.data;
            for (size_t j = 0; j < t.bytes / sizeof *f; j++) {
                r = r * 1664525u + 1013904223u;
                f[j] = (float)(r >> 8) / 8388608.0f - 1.0f;
            }
        } else {
            memset(t.data, 0, t.bytes);
        }
        if (ember_session_mark_input_set(s, i) != EMBER_OK) return -1;
    }
    return 0;
}

/* Runs m with `threads` threads; returns the outputs, concatenated (malloc-ed). */
static unsigned char* run_outputs(const ember_model* m, int threads, const rec_tensor* in,
                                  size_t n_in, size_t* bytes) {
    ember_session* s = make_session(m, threads, EMBER_SESSION_ALLOW_OVERSUBSCRIBE);
    if (!s) return NULL;
    unsigned char* out = NULL;
    size_t total = 0;
    /* two runs: the second with warm, possibly sleeping, workers */
    for (int run = 0; run < 2; run++) {
        if (set_inputs(s, m, in, n_in) != 0 || ember_session_run(s) != EMBER_OK) {
            free(out);
            ember_session_free(s);
            return NULL;
        }
        if (run == 0) usleep(2000);
    }
    for (size_t i = 0; i < ember_model_output_count(m); i++) {
        ember_tensor t = {.struct_size = sizeof t};
        if (ember_session_output(s, i, &t) != EMBER_OK) break;
        unsigned char* grown = realloc(out, total + t.bytes + 1);
        if (!grown) break;
        out = grown;
        memcpy(out + total, t.data, t.bytes);
        total += t.bytes;
    }
    ember_session_free(s);
    *bytes = total;
    return out;
}

static void check_model(const char* dir, const char* stem, int need) {
    char path[1024];
    snprintf(path, sizeof path, "%s/%s.ember", dir, stem);
    ember_model* m = NULL;
    if (ember_model_load_file(path, NULL, &m) != EMBER_OK) {
        CHECK(!need, "%s: load", path);
        return;
    }
    rec_tensor* in = NULL;
    size_t n_in = 0;
    snprintf(path, sizeof path, "%s/%s.input.bin", dir, stem);
    if (access(path, R_OK) == 0) n_in = rec_read(path, &in);
    size_t want_bytes = 0;
    unsigned char* want = run_outputs(m, 1, in, n_in, &want_bytes);
    if (!want) {
        /* a zoo model this test cannot feed (symbolic dims): skip it */
        CHECK(!need, "%s: run with 1 thread", stem);
        if (!need) printf("%s: skipped (%s)\n", stem, ember_last_error());
    } else {
        for (int threads = 2; threads <= 3; threads++) {
            size_t got_bytes = 0;
            unsigned char* got = run_outputs(m, threads, in, n_in, &got_bytes);
            CHECK(got && got_bytes == want_bytes && memcmp(got, want, want_bytes) == 0,
                  "%s: %d threads differ from 1", stem, threads);
            free(got);
        }
        printf("%s: threads 1, 2, 3 bit-identical (%zu output bytes)\n", stem, want_bytes);
    }
    free(want);
    if (in) rec_free(in, n_in);
    ember_model_free(m);
}

static void check_dir(const char* dir, int need) {
    DIR* d = opendir(dir);
    CHECK(d != NULL || !need, "cannot open %s", dir);
    if (!d) return;
    struct dirent* e;
    while ((e = readdir(d))) {
        size_t len = strlen(e->d_name);
        if (len <= 6 || strcmp(e->d_name + len - 6, ".ember") != 0) continue;
        char stem[512];
        snprintf(stem, sizeof stem, "%.*s", (int)(len - 6), e->d_name);
        check_model(dir, stem, need);
    }
    closedir(d);
}

static void check_thread_counts(const char* dir) {
    char path[1024];
    snprintf(path, sizeof path, "%s/cnn.ember", dir);
    ember_model* m = NULL;
    if (ember_model_load_file(path, NULL, &m) != EMBER_OK) {
        CHECK(0, "%s: load", path);
        return;
    }
    const int base = task_count();
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    struct {
        int threads;
        uint32_t flags;
        int started;
    } cases[] = {
        {0, 0, 0},
        {1, 0, 0},
        {1, EMBER_SESSION_ALLOW_OVERSUBSCRIBE, 0},
        {3, EMBER_SESSION_ALLOW_OVERSUBSCRIBE, 2},
        {2, 0, cpus >= 2 ? 1 : 0},
        {1024, 0, (int)(cpus > 0 ? cpus : 1) - 1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        ember_session* s = make_session(m, cases[i].threads, cases[i].flags);
        CHECK(s != NULL, "session with %d threads", cases[i].threads);
        if (!s) continue;
        CHECK(task_count() - base <= cases[i].started && task_count() - base >= 0 &&
                  (cases[i].threads == 1024 || task_count() - base == cases[i].started),
              "threads %d flags %u: %d threads started, expected %d", cases[i].threads,
              cases[i].flags, task_count() - base, cases[i].started);
        ember_session_free(s);
        const int left = task_count_settled(base) - base;
        CHECK(left == 0, "threads %d: %d threads left after free", cases[i].threads, left);
    }
    /* unknown flags are still refused */
    CHECK(make_session(m, 1, 0x80u) == NULL, "unknown session flag accepted");
    ember_model_free(m);
}

int main(void) {
    const char* dir = getenv("EMBER_TEST_MODELS");
    if (!dir) dir = "tests/models";
    check_thread_counts(dir);
    check_dir(dir, 1);
    const char* zoo = getenv("EMBER_THREADS_ZOO");
    if (zoo && *zoo) check_dir(zoo, 0);
    if (failures) fprintf(stderr, "%d failures\n", failures);
    return failures ? 1 : 0;
}
