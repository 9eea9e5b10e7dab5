/* See csv.h. */
#include "csv.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>

int csv_open(csv_reader* r, const char* path, char* err, size_t cap) {
    memset(r, 0, sizeof *r);
    r->f = fopen(path, "r");
    if (!r->f) {
        snprintf(err, cap, "cannot open '%s': %s", path, strerror(errno));
        return -1;
    }
    r->path = path;
    struct stat st;
    if (fstat(fileno(r->f), &st) == 0 && S_ISREG(st.st_mode)) r->file_size = (uint64_t)st.st_size;
    return 0;
}

void csv_close(csv_reader* r) {
    if (r->f) fclose(r->f);
    free(r->line);
    r->f = NULL;
    r->line = NULL;
}

uint64_t csv_position(const csv_reader* r) {
    off_t p = r->f ? ftello(r->f) : -1;
    return p < 0 ? 0 : (uint64_t)p;
}

static bool is_blank(const char* s) {
    for (; *s; s++)
        if (*s != ' ' && *s != '\t' && *s != '\r' && *s != '\n') return false;
    return true;
}

/* Parses fields into vals (up to n); returns the number of fields, or -1 with
 * *bad set to the 1-based field that is not a number. */
static long parse_fields(char* s, double* vals, size_t n, size_t* bad) {
    size_t len = strlen(s);
    while (len && (s[len - 1] == '\n' || s[len - 1] == '\r')) s[--len] = '\0';
    long count = 0;
    char* p = s;
    for (;;) {
        char* end = strchr(p, ',');
        if (end) *end = '\0';
        char* a = p;
        while (*a == ' ' || *a == '\t') a++;
        char* z = a + strlen(a);
        while (z > a && (z[-1] == ' ' || z[-1] == '\t')) *--z = '\0';
        /* strip one level of double quotes */
        if (z - a >= 2 && *a == '"' && z[-1] == '"') {
            z[-1] = '\0';
            a++;
        }
        errno = 0;
        char* e;
        double v = a[0] ? strtod(a, &e) : 0;
        if (!a[0] || *e || errno == ERANGE) {
            *bad = (size_t)count + 1;
            return -1;
        }
        if ((size_t)count < n) vals[count] = v;
        count++;
        if (!end) break;
        p = end + 1;
    }
    return count;
}

int csv_next(csv_reader* r, double* vals, size_t n, char* err, size_t cap) {
    for (;;) {
        errno = 0;
        ssize_t got = getline(&r->line, &r->cap, r->f);
        if (got < 0) {
            if (ferror(r->f)) {
                snprintf(err, cap, "'%s': read failed: %s", r->path, strerror(errno));
                return -1;
            }
            return 0;
        }
        r->line_no++;
        if (memchr(r->line, '\0', (size_t)got)) {
            snprintf(err, cap, "'%s' line %llu: contains a NUL byte (not a text CSV file)", r->path,
                     (unsigned long long)r->line_no);
            return -1;
        }
        if (is_blank(r->line)) continue;
        bool first = !r->first_seen;
        r->first_seen = true;
        size_t bad = 0;
        long count = parse_fields(r->line, vals, n, &bad);
        if (count < 0) {
            if (first) {
                r->had_header = true;
                continue;
            }
            snprintf(err, cap, "'%s' line %llu: field %zu is not a number", r->path, (unsigned long long)r->line_no,
                     bad);
            return -1;
        }
        if ((size_t)count != n) {
            snprintf(err, cap, "'%s' line %llu: %ld values, expected %zu (the elements of one input item)", r->path,
                     (unsigned long long)r->line_no, count, n);
            return -1;
        }
        return 1;
    }
}
