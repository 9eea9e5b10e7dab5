/* Classifies held-out 8x8 handwritten digits with the bundled models/digits.ember:
 * prints a few predictions beside the true labels, the accuracy over the whole
 * held-out set, and the latency per image.
 *
 *   cc classify_digits.c $(pkg-config --cflags --libs ember) -o classify_digits
 *   ./classify_digits models/digits.ember models/digits_test.bin
 */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <ember.h>

/* models/digits_test.bin holds records: [u32 name_len][name][u32 dtype][u32 rank][i64 dims][data]. */
typedef struct record {
    char name[64];
    uint32_t dtype, rank;
    int64_t dims[8];
    void* data;
} record;

static int read_records(const char* path, record* out, int max) {
    FILE* f = fopen(path, "rb");
    if (!f) return -1;
    int n = 0;
    uint32_t len;
    while (n < max && fread(&len, 4, 1, f) == 1) {
        record* r = &out[n];
        memset(r, 0, sizeof *r);
        if (len >= sizeof r->name || fread(r->name, 1, len, f) != len || fread(&r->dtype, 4, 1, f) != 1 ||
            fread(&r->rank, 4, 1, f) != 1 || r->rank > 8 || fread(r->dims, 8, r->rank, f) != r->rank)
            break;
        size_t count = 1;
        for (uint32_t d = 0; d < r->rank; d++) count *= (size_t)r->dims[d];
        size_t bytes = count * ember_dtype_size((ember_dtype)r->dtype);
        r->data = malloc(bytes ? bytes : 1);
        if (!r->data || fread(r->data, 1, bytes, f) != bytes) break;
        n++;
    }
    fclose(f);
    return n;
}

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int cmp_double(const void* a, const void* b) {
    double x = *(const double*)a, y = *(const double*)b;
    return x < y ? -1 : x > y;
}

static int fail(const char* what) {
    fprintf(stderr, "error: %s: %s\n", what, ember_last_error());
    return 1;
}

int main(int argc, char** argv) {
    const char* model_path = argc > 1 ? argv[1] : "models/digits.ember";
    const char* data_path = argc > 2 ? argv[2] : "models/digits_test.bin";
    record recs[4];
    int n_recs = read_records(data_path, recs, 4);
    if (n_recs < 2 || strcmp(recs[0].name, "images") || strcmp(recs[1].name, "labels")) {
        fprintf(stderr, "error: cannot read images and labels from %s\n", data_path);
        return 1;
    }
    const float* images = recs[0].data;
    const int64_t* labels = recs[1].data;
    int64_t count = recs[0].dims[0];

    double t0 = now_ms();
    ember_model* model = NULL;
    if (ember_model_load_file(model_path, NULL, &model) != EMBER_OK) return fail(model_path);
    ember_session* session = NULL;
    if (ember_session_create(model, NULL, &session) != EMBER_OK) return fail("creating a session");
    double load_ms = now_ms() - t0;

    const char* name = ember_model_metadata(model, "name");
    printf("ember %s: model '%s', %zu nodes, %llu parameters, loaded in %.2f ms\n", ember_version_string(),
           name ? name : "?", ember_model_node_count(model),
           (unsigned long long)ember_model_parameter_count(model), load_ms);

    int64_t dims[4] = {1, 1, 8, 8};
    double* times = malloc((size_t)count * sizeof *times);
    int correct = 0;
    for (int64_t i = 0; i < count; i++) {
        double s = now_ms();
        if (ember_session_set_input(session, 0, EMBER_DTYPE_F32, dims, 4, images + i * 64, 64 * sizeof(float)) !=
                EMBER_OK ||
            ember_session_run(session) != EMBER_OK)
            return fail("running");
        ember_tensor out = {.struct_size = sizeof out};
        if (ember_session_output(session, 0, &out) != EMBER_OK) return fail("reading the output");
        times[i] = now_ms() - s;
        const float* probs = out.data;
        int best = 0;
        for (int k = 1; k < (int)(out.bytes / sizeof(float)); k++)
            if (probs[k] > probs[best]) best = k;
        correct += best == labels[i];
        if (i < 8) {
            const char* label = ember_model_label(model, (size_t)best);
            printf("  image %2lld: predicted %s (p=%.3f), true %lld %s\n", (long long)i, label ? label : "?",
                   probs[best], (long long)labels[i], best == labels[i] ? "" : " <- wrong");
        }
    }
    qsort(times, (size_t)count, sizeof *times, cmp_double);
    printf("accuracy on %lld held-out digits: %.2f%%\n", (long long)count, 100.0 * correct / (double)count);
    printf("latency per image (set input + run + read output): median %.2f us, p90 %.2f us\n",
           times[count / 2] * 1e3, times[count * 9 / 10] * 1e3);
    free(times);
    for (int i = 0; i < n_recs; i++) free(recs[i].data);
    ember_session_free(session);
    ember_model_free(model);
    return 0;
}
