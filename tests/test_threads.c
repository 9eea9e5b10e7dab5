/* One model shared by sessions on 4 threads at once, many runs each, every
 * output checked bit-for-bit against a single-threaded run. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ember.h"
#include "support/records.h"

#define THREADS 4
#define RUNS 200

typedef struct job {
    const ember_model* model;
    const rec_tensor* in;
    size_t n_in;
    const void* want;
    size_t want_bytes;
    int seed;
    int failures;
} job;

static void* worker(void* arg) {
    job* j = arg;
    ember_session* s = NULL;
    if (ember_session_create(j->model, NULL, &s) != EMBER_OK) {
        fprintf(stderr, "thread %d: %s\n", j->seed, ember_last_error());
        j->failures++;
        return NULL;
    }
    for (int r = 0; r < RUNS; r++) {
        for (size_t i = 0; i < j->n_in; i++)
            if (ember_session_set_input_by_name(s, j->in[i].name, j->in[i].dtype, j->in[i].dims,
                                                j->in[i].rank, j->in[i].data, j->in[i].bytes) != EMBER_OK)
                j->failures++;
        ember_tensor t = {.struct_size = sizeof t};
        if (ember_session_run(s) != EMBER_OK || ember_session_output(s, 0, &t) != EMBER_OK ||
            t.bytes != j->want_bytes || memcmp(t.data, j->want, t.bytes) != 0) {
            fprintf(stderr, "thread %d run %d: wrong or failed (%s)\n", j->seed, r, ember_last_error());
            j->failures++;
        }
    }
    ember_session_free(s);
    return NULL;
}

static int check_model(const char* dir, const char* stem) {
    char path[512];
    snprintf(path, sizeof path, "%s/%s.ember", dir, stem);
    ember_model* m = NULL;
    if (ember_model_load_file(path, NULL, &m) != EMBER_OK) {
        fprintf(stderr, "%s: %s\n", path, ember_last_error());
        return 1;
    }
    snprintf(path, sizeof path, "%s/%s.input.bin", dir, stem);
    rec_tensor* in;
    size_t n_in = rec_read(path, &in);
    if (!n_in) return 1;
    /* reference: one session, one run */
    ember_session* s;
    if (ember_session_create(m, NULL, &s) != EMBER_OK) return 1;
    for (size_t i = 0; i < n_in; i++)
        ember_session_set_input_by_name(s, in[i].name, in[i].dtype, in[i].dims, in[i].rank, in[i].data,
                                        in[i].bytes);
    ember_tensor t = {.struct_size = sizeof t};
    if (ember_session_run(s) != EMBER_OK || ember_session_output(s, 0, &t) != EMBER_OK) return 1;
    void* want = malloc(t.bytes);
    memcpy(want, t.data, t.bytes);
    ember_session_free(s);

    pthread_t th[THREADS];
    job jobs[THREADS];
    for (int i = 0; i < THREADS; i++) {
        jobs[i] = (job){.model = m, .in = in, .n_in = n_in, .want = want, .want_bytes = t.bytes, .seed = i};
        pthread_create(&th[i], NULL, worker, &jobs[i]);
    }
    int failures = 0;
    for (int i = 0; i < THREADS; i++) {
        pthread_join(th[i], NULL);
        failures += jobs[i].failures;
    }
    printf("%s: %d threads x %d runs, %d failures\n", stem, THREADS, RUNS, failures);
    free(want);
    rec_free(in, n_in);
    ember_model_free(m);
    return failures != 0;
}

int main(void) {
    const char* dir = getenv("EMBER_TEST_MODELS");
    if (!dir) dir = "tests/models";
    int bad = check_model(dir, "mlp") + check_model(dir, "cnn") + check_model(dir, "ops");
    return bad ? 1 : 0;
}
