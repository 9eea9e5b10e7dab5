/* Line-by-line reader of numeric CSV for `ember predict`. */
#ifndef EMBER_CLI_CSV_H
#define EMBER_CLI_CSV_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

typedef struct csv_reader {
    FILE* f;
    const char* path;
    char* line;
    size_t cap;
    uint64_t line_no;      /* of the line last read, 1-based */
    bool first_seen;       /* the first non-blank line was looked at (header check) */
    bool had_header;
    uint64_t file_size;    /* for progress; 0 if unknown */
} csv_reader;

int csv_open(csv_reader* r, const char* path, char* err, size_t cap);
void csv_close(csv_reader* r);

/* Reads the next data row: exactly n comma-separated numbers into vals.
 * Blank lines are skipped; the first non-blank line is a header (skipped) when
 * one of its fields is not a number. Returns 1 for a row, 0 at end of file, -1
 * on an error (message names the line). */
int csv_next(csv_reader* r, double* vals, size_t n, char* err, size_t cap);

/* Bytes read so far. */
uint64_t csv_position(const csv_reader* r);

#endif
