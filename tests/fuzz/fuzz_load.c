/* libFuzzer target: any bytes given to the loader are refused with a message
 * or load, plan and run to completion. Built with -Dfuzz=true (clang). */
#include <stdint.h>
#include <string.h>

#include "ember.h"

int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    ember_model* m = NULL;
    ember_load_options lo;
    ember_load_options_init(&lo);
    lo.max_arena_bytes = 64u << 20; /* keep the fuzzer's memory bounded */
    lo.max_tensor_elements = 1u << 22;
    if (ember_model_load_memory(data, size, &lo, &m) != EMBER_OK) {
        if (ember_last_error()[0] == '\0') __builtin_trap(); /* a refusal always says why */
        return 0;
    }
    ember_session* s = NULL;
    if (ember_session_create(m, NULL, &s) == EMBER_OK) {
        for (size_t i = 0; i < ember_model_input_count(m); i++) {
            ember_tensor t = {.struct_size = sizeof t};
            if (ember_session_input(s, i, &t) == EMBER_OK) memset(t.data, 0, t.bytes);
            ember_session_mark_input_set(s, i);
        }
        ember_session_run(s);
        ember_session_free(s);
    }
    ember_model_free(m);
    return 0;
}
