/* Damaged files: every truncation of each model, and single-byte changes at
 * many positions, both as they are (the checksum must catch them) and with the
 * checksum recomputed (so the verifier itself must catch them). Each damaged
 * file must be refused with a message, or load and run to completion: never a
 * crash, a hang or an out-of-bounds read (run this under ASan/UBSan too). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../src/runtime/crc32.h"
#include "ember.h"
#include "support/records.h"

typedef struct counts {
    long refused, ran;
} counts;

/* Loads the image; if it loads, runs it with zeroed inputs. */
static int try_image(const unsigned char* img, size_t size, counts* c) {
    ember_model* m = NULL;
    /* Limits keep a damaged dimension from asking for (and then computing
     * over) gigabytes; that such a plan is refused is itself tested. */
    ember_load_options lo;
    ember_load_options_init(&lo);
    lo.max_arena_bytes = 256u << 20;
    lo.max_tensor_elements = 1u << 24;
    ember_status st = ember_model_load_memory(img, size, &lo, &m);
    if (st != EMBER_OK) {
        if (ember_last_error()[0] == '\0') {
            fprintf(stderr, "refused with status %d but no message\n", st);
            return 1;
        }
        c->refused++;
        return 0;
    }
    ember_session* s = NULL;
    if (ember_session_create(m, NULL, &s) == EMBER_OK) {
        for (size_t i = 0; i < ember_model_input_count(m); i++) {
            ember_tensor t = {.struct_size = sizeof t};
            ember_session_input(s, i, &t);
            memset(t.data, 0, t.bytes);
            ember_session_mark_input_set(s, i);
        }
        ember_session_run(s);
        ember_session_free(s);
    }
    ember_model_free(m);
    c->ran++;
    return 0;
}

static void fix_checksum(unsigned char* img, size_t size) {
    if (size < 64) return;
    uint32_t crc = em_crc32(img + 64, size - 64);
    memcpy(img + 36, &crc, 4);
}

static int check_file(const char* path, int stride) {
    size_t size;
    unsigned char* orig = rec_slurp(path, &size);
    if (!orig) {
        fprintf(stderr, "cannot read %s\n", path);
        return 1;
    }
    unsigned char* img = malloc(size);
    counts trunc = {0}, flip = {0}, flip_fixed = {0};
    int bad = 0;
    for (size_t n = 0; n < size && !bad; n += (n < 4096 ? 1 : (size_t)stride)) bad |= try_image(orig, n, &trunc);
    static const unsigned char deltas[] = {0x01, 0x80, 0xFF, 0x10};
    for (size_t pos = 0; pos < size && !bad; pos += (pos < 4096 ? 1 : (size_t)stride)) {
        memcpy(img, orig, size);
        img[pos] ^= deltas[pos % 4];
        bad |= try_image(img, size, &flip);
        fix_checksum(img, size);
        bad |= try_image(img, size, &flip_fixed);
    }
    printf("%s (%zu bytes): truncations %ld refused / %ld ran; flips %ld refused / %ld ran; "
           "flips with fixed checksum %ld refused / %ld ran\n",
           path, size, trunc.refused, trunc.ran, flip.refused, flip.ran, flip_fixed.refused, flip_fixed.ran);
    /* every truncation must be refused; a raw flip outside the checksum field is caught by it */
    if (trunc.ran != 0) bad = 1;
    if (flip.ran > 8) bad = 1;
    free(img);
    free(orig);
    return bad;
}

int main(int argc, char** argv) {
    const char* dir = getenv("EMBER_TEST_MODELS");
    if (!dir) dir = "tests/models";
    int stride = argc > 1 ? atoi(argv[1]) : 1;
    if (stride < 1) stride = 1;
    static const char* const models[] = {"mlp.ember", "cnn.ember", "ops.ember"};
    int bad = 0;
    for (size_t i = 0; i < sizeof models / sizeof models[0]; i++) {
        char path[512];
        snprintf(path, sizeof path, "%s/%s", dir, models[i]);
        bad |= check_file(path, stride);
    }
    return bad;
}
