#include "records.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void* rec_slurp(const char* path, size_t* size) {
    FILE* f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    void* p = malloc(n > 0 ? (size_t)n : 1);
    if (p && n > 0 && fread(p, 1, (size_t)n, f) != (size_t)n) {
        free(p);
        p = NULL;
    }
    fclose(f);
    *size = (size_t)(n > 0 ? n : 0);
    return p;
}

size_t rec_read(const char* path, rec_tensor** out) {
    size_t size, pos = 0, n = 0;
    unsigned char* buf = rec_slurp(path, &size);
    if (!buf) return 0;
    rec_tensor* list = NULL;
    while (pos + 12 <= size) {
        uint32_t len, dtype, rank;
        memcpy(&len, buf + pos, 4);
        if (len >= 128 || pos + 4 + len + 8 > size) break;
        rec_tensor t = {0};
        memcpy(t.name, buf + pos + 4, len);
        pos += 4 + len;
        memcpy(&dtype, buf + pos, 4);
        memcpy(&rank, buf + pos + 4, 4);
        pos += 8;
        if (rank > EMBER_MAX_RANK || pos + 8 * rank > size) break;
        memcpy(t.dims, buf + pos, 8 * rank);
        pos += 8 * rank;
        t.dtype = (ember_dtype)dtype;
        t.rank = rank;
        size_t count = 1;
        for (uint32_t d = 0; d < rank; d++) count *= (size_t)t.dims[d];
        t.bytes = count * ember_dtype_size(t.dtype);
        if (pos + t.bytes > size) break;
        t.data = malloc(t.bytes ? t.bytes : 1);
        memcpy(t.data, buf + pos, t.bytes);
        pos += t.bytes;
        list = realloc(list, (n + 1) * sizeof *list);
        list[n++] = t;
    }
    free(buf);
    *out = list;
    return n;
}

void rec_free(rec_tensor* t, size_t n) {
    for (size_t i = 0; i < n; i++) free(t[i].data);
    free(t);
}
