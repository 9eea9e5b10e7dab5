/* Shared pieces of the ember command-line program. */
#ifndef EMBER_CLI_H
#define EMBER_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <ember.h>

#define CLI_OK 0
#define CLI_RUNTIME 1 /* a model, file, data or run failed */
#define CLI_USAGE 2   /* the command line is wrong */

/* Subcommand name used in messages ("ember: <cmd>: ..."). */
extern const char* cli_cmd;

/* Prints "ember: <cmd>: <message>" (newlines flattened) on stderr; returns code. */
int cli_fail(int code, const char* fmt, ...) __attribute__((format(printf, 2, 3)));
/* Same, with ": <ember_last_error()>" appended; returns CLI_RUNTIME. */
int cli_fail_ember(const char* fmt, ...) __attribute__((format(printf, 1, 2)));

/* Matches argv[*i] against --name (value in the next argument) or --name=value.
 * Returns 1 and sets *val on a match, 0 if it is another argument, -1 (after
 * printing a usage error) when the value is missing. */
int cli_opt(int argc, char** argv, int* i, const char* name, const char** val);
/* True if argv[i] is -h or --help. */
bool cli_is_help(const char* arg);

/* One option of a subcommand (cli_parse): --name VALUE or --name=VALUE, or a
 * bare flag. */
typedef enum cli_kind {
    CLI_STR,   /* out: const char**, the value as given */
    CLI_PATH,  /* out: const char**, a non-empty value */
    CLI_INT,   /* out: long long*, a whole decimal number in [min, max] */
    CLI_ISA,   /* out: uint32_t*, cli_isa_flag of the value */
    CLI_LIST,  /* out: const char** array of CLI_LIST_MAX, *count entries: repeatable */
    CLI_FLAG,  /* out: bool*, set by the bare --name */
} cli_kind;
#define CLI_LIST_MAX 64
typedef struct cli_option {
    const char* name;
    cli_kind kind;
    void* out;
    long long min, max; /* CLI_INT */
    size_t* count;      /* CLI_LIST */
} cli_option;

/* Parses a subcommand's argv[1..] against opts (tried in order), the other
 * arguments being up to max_pos positional ones (pos[*n_pos]). -h / --help
 * prints help on stdout and returns -1 (the command then returns CLI_OK);
 * a bad value, an unknown option or one positional too many prints a usage
 * error and returns CLI_USAGE; else CLI_OK. */
int cli_parse(int argc, char** argv, const cli_option* opts, size_t n_opts, const char** pos,
              size_t max_pos, size_t* n_pos, void (*help)(FILE*));

/* --isa NAME: the EMBER_SESSION_ISA_* flag of generic, avx2, avx512 or neon;
 * prints a usage error and returns false for another name. */
bool cli_isa_flag(const char* s, uint32_t* flag);

/* Parses a whole decimal integer in [min, max]; prints a usage error on failure. */
bool cli_int(const char* opt, const char* s, long long min, long long max, long long* out);
/* "1x3x320x320" (also "1,3,320,320"); false on a malformed list. */
bool cli_parse_dims(const char* s, int64_t* dims, int32_t* rank);

/* Values of symbolic dimensions, collected from --shape, --batch and input data. */
typedef struct cli_dims {
    const char* names[64];
    int64_t values[64];
    size_t count;
} cli_dims;

/* Sets symbol name to value; fails (CLI_RUNTIME) on a conflicting earlier value. */
int cli_dims_set(cli_dims* d, const char* name, int64_t value, const char* why);
/* Applies "--shape NAME=DIMS": NAME is an input (its symbolic dims take the values
 * at their positions, its fixed dims must match) or a symbol (DIMS is one value). */
int cli_dims_apply_shape(cli_dims* d, const ember_model* model, const char* spec);
/* Applies n --shape specs in order; stops at the first failure and returns it. */
int cli_dims_apply_shapes(cli_dims* d, const ember_model* model, const char* const* specs, size_t n);
/* Takes the symbolic dims of input index from a concrete shape. */
int cli_dims_from_input(cli_dims* d, const ember_model* model, size_t index, const int64_t* dims, int32_t rank);
void cli_dims_to_options(const cli_dims* d, ember_session_options* o);

/* Loads a model, printing the library's error on failure. */
int cli_load_model(const char* path, ember_model** out);

/* "[batch,16]" for an io info (symbolic names), or "[3,16]" for plain dims. */
const char* cli_info_shape(const ember_io_info* info, char* buf, size_t cap);
const char* cli_dims_str(const int64_t* dims, int32_t rank, char* buf, size_t cap);

double cli_now_ms(void);
long cli_peak_rss_kb(void); /* VmHWM, -1 if unknown */

uint16_t cli_f32_to_f16(float f);
float cli_f16_to_f32(uint16_t h);
/* Element i of data (of dtype) as double. */
double cli_get(ember_dtype dtype, const void* data, size_t i);

/* Fills a session's inputs with seeded random data (floats uniform [-1, 1),
 * integers and bools 0). */
int cli_random_inputs(ember_session* s, const ember_model* m, uint64_t seed);

/* Subcommands. argv[0] is the subcommand name. */
int cmd_inspect(int argc, char** argv);
int cmd_run(int argc, char** argv);
int cmd_bench(int argc, char** argv);
int cmd_predict(int argc, char** argv);
int cmd_pack(int argc, char** argv);
int cmd_profile(int argc, char** argv);

#endif
