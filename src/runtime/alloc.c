/* 64-byte aligned allocation, so that kernels may assume cache-line alignment. */
#include <stdlib.h>

#include "internal.h"

void* em_aligned_alloc(size_t bytes) {
    void* p = NULL;
    if (bytes == 0) bytes = EM_ALIGN;
    if (posix_memalign(&p, EM_ALIGN, bytes) != 0) return NULL;
    return p;
}

void em_aligned_free(void* p) { free(p); }
