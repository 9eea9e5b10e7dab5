/*
 * ember.h - the whole public C API of ember, an embeddable CPU inference library.
 *
 * Conventions that hold for every function below:
 *  - Every call that can fail returns an ember_status; EMBER_OK is 0.
 *  - After a failure, ember_last_error() gives a readable message for the
 *    calling thread (which tensor, which node, what was expected, what was found).
 *    The message stays valid until the same thread makes its next ember call.
 *  - On failure, out-parameters are left untouched and nothing leaks.
 *  - Every *_free function accepts NULL.
 *  - The library never prints, aborts or exits.
 *  - Option structs begin with struct_size; fill them with the matching *_init
 *    function so that a program built against an older header keeps working.
 *
 * Thread safety: an ember_model is immutable once loaded and may be used by any
 * number of threads at once. An ember_session may be used by one thread at a
 * time; different sessions of one model may run concurrently. The model must
 * outlive every session created from it.
 */
#ifndef EMBER_H
#define EMBER_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(EMBER_BUILDING) && defined(__GNUC__)
#define EMBER_API __attribute__((visibility("default")))
#else
#define EMBER_API
#endif

/* ---------------------------------------------------------------- version */

#define EMBER_VERSION_MAJOR 0
#define EMBER_VERSION_MINOR 1
#define EMBER_VERSION_PATCH 0
#define EMBER_VERSION_NUMBER \
    (EMBER_VERSION_MAJOR * 10000 + EMBER_VERSION_MINOR * 100 + EMBER_VERSION_PATCH)
#define EMBER_VERSION_STRING "0.1.0"

/* Version of the library actually linked, as EMBER_VERSION_NUMBER computes it.
 * Compare with EMBER_VERSION_NUMBER to check header and library agree. */
EMBER_API int ember_version_number(void);

/* Same, as a static "MAJOR.MINOR.PATCH" string. */
EMBER_API const char* ember_version_string(void);

/* Highest .ember format version this library reads (major * 100 + minor). */
EMBER_API int ember_format_version(void);

/* ----------------------------------------------------------------- errors */

typedef enum ember_status {
    EMBER_OK = 0,
    EMBER_ERROR_INVALID_ARGUMENT = 1, /* NULL handle, bad index, bad option value */
    EMBER_ERROR_IO = 2,               /* a file could not be opened, read or mapped */
    EMBER_ERROR_INVALID_MODEL = 3,    /* the file failed verification */
    EMBER_ERROR_UNSUPPORTED = 4,      /* valid, but uses something this build cannot run */
    EMBER_ERROR_OUT_OF_MEMORY = 5,
    EMBER_ERROR_LIMIT_EXCEEDED = 6,   /* a resource limit from ember_load_options */
    EMBER_ERROR_SHAPE_MISMATCH = 7,   /* a tensor's shape is not what was expected */
    EMBER_ERROR_DTYPE_MISMATCH = 8,   /* a tensor's dtype is not what was expected */
    EMBER_ERROR_MISSING_INPUT = 9,    /* run without every input set */
    EMBER_ERROR_NOT_FOUND = 10,       /* no input/output/metadata of that name */
    EMBER_ERROR_BUFFER_TOO_SMALL = 11,
    EMBER_ERROR_RUNTIME = 12          /* an operator failed while running (message names the node) */
} ember_status;

/* Static text for a status code ("invalid model", ...); never NULL. */
EMBER_API const char* ember_status_string(ember_status status);

/* Detailed message of the calling thread's most recent failure, or "" if the
 * last call succeeded. Never NULL. */
EMBER_API const char* ember_last_error(void);

/* ----------------------------------------------------------------- dtypes */

/* Numbers are part of the file format and the ABI: never reused. */
typedef enum ember_dtype {
    EMBER_DTYPE_UNDEFINED = 0,
    EMBER_DTYPE_F32 = 1,
    EMBER_DTYPE_F16 = 2,
    EMBER_DTYPE_I8 = 3,
    EMBER_DTYPE_U8 = 4,
    EMBER_DTYPE_I32 = 5,
    EMBER_DTYPE_I64 = 6,
    EMBER_DTYPE_BOOL = 7
} ember_dtype;

/* Bytes per element (BOOL is one byte, 0 or 1); 0 for an unknown dtype. */
EMBER_API size_t ember_dtype_size(ember_dtype dtype);

/* Lower-case name ("f32", "i64", ...); "undefined" for an unknown dtype. */
EMBER_API const char* ember_dtype_name(ember_dtype dtype);

/* Largest tensor rank the format and runtime support. */
#define EMBER_MAX_RANK 8

/* ------------------------------------------------------------------ model */

typedef struct ember_model ember_model;
typedef struct ember_session ember_session;

/* Resource limits applied at load, before any large allocation. A file whose
 * graph or memory plan exceeds one is refused with EMBER_ERROR_LIMIT_EXCEEDED.
 * Zero means "no limit" for each field. */
typedef struct ember_load_options {
    size_t struct_size;           /* sizeof(ember_load_options) */
    uint64_t max_arena_bytes;     /* working memory of any session (checked at load for
                                     the default session, and at every session creation) */
    uint64_t max_tensor_elements; /* elements in any one tensor */
    uint32_t max_nodes;           /* nodes in the graph */
    uint32_t flags;               /* reserved, must be 0 */
} ember_load_options;

/* Fills *options with defaults (no limits). */
EMBER_API void ember_load_options_init(ember_load_options* options);

/* Loads and verifies a .ember file, mapping it into memory (weights are used in
 * place from the mapping). options may be NULL. Every file is verified before
 * anything in it is used: a truncated, damaged or hostile file is refused with
 * EMBER_ERROR_INVALID_MODEL and a message naming the problem. A file written
 * by ember_model_pack_file has a checksum per part: its structure is checked
 * here, each weight before it is first read (a damaged one fails the session
 * creation or run that reads it, with the same error). */
EMBER_API ember_status ember_model_load_file(const char* path,
                                             const ember_load_options* options,
                                             ember_model** out_model);

/* Same, from size bytes at data. The bytes are copied (to 64-byte aligned
 * memory), so the caller may free data as soon as this returns. */
EMBER_API ember_status ember_model_load_memory(const void* data, size_t size,
                                               const ember_load_options* options,
                                               ember_model** out_model);

/* Frees the model. Every session created from it must have been freed. */
EMBER_API void ember_model_free(ember_model* model);

/* Description of a graph input or output. */
typedef struct ember_io_info {
    size_t struct_size;                       /* set by caller: sizeof(ember_io_info) */
    const char* name;                         /* owned by the model */
    ember_dtype dtype;
    int32_t rank;
    int64_t dims[EMBER_MAX_RANK];             /* -1 where the dimension is symbolic */
    const char* dim_names[EMBER_MAX_RANK];    /* symbol name, or NULL where fixed */
} ember_io_info;

EMBER_API size_t ember_model_input_count(const ember_model* model);
EMBER_API size_t ember_model_output_count(const ember_model* model);

/* Fills *info for input/output number index. info->struct_size must be set. */
EMBER_API ember_status ember_model_input_info(const ember_model* model, size_t index,
                                              ember_io_info* info);
EMBER_API ember_status ember_model_output_info(const ember_model* model, size_t index,
                                               ember_io_info* info);

/* Index of the input/output called name; EMBER_ERROR_NOT_FOUND if none. */
EMBER_API ember_status ember_model_input_index(const ember_model* model, const char* name,
                                               size_t* out_index);
EMBER_API ember_status ember_model_output_index(const ember_model* model, const char* name,
                                                size_t* out_index);

/* Number of nodes (operators) in the graph. */
EMBER_API size_t ember_model_node_count(const ember_model* model);

/* Number of parameters: elements in all constant tensors (weights). */
EMBER_API uint64_t ember_model_parameter_count(const ember_model* model);

/* Description of one node. */
typedef struct ember_node_info {
    size_t struct_size;   /* set by caller: sizeof(ember_node_info) */
    const char* name;     /* owned by the model; "" if the file gave none */
    const char* op_type;  /* ONNX operator name, e.g. "Conv" */
    uint32_t input_count;
    uint32_t output_count;
} ember_node_info;

EMBER_API ember_status ember_model_node_info(const ember_model* model, size_t index,
                                             ember_node_info* info);

/* Metadata value for key ("name", "version", "producer", "description" or any
 * other key the file carries), or NULL if the file has none. Owned by the model. */
EMBER_API const char* ember_model_metadata(const ember_model* model, const char* key);

/* Number of metadata entries, and entry number index (key and value owned by
 * the model). */
EMBER_API size_t ember_model_metadata_count(const ember_model* model);
EMBER_API ember_status ember_model_metadata_entry(const ember_model* model, size_t index,
                                                  const char** out_key,
                                                  const char** out_value);

/* Class labels (from the "labels" metadata, one per line): count and label
 * number index (NULL if out of range). Owned by the model. */
EMBER_API size_t ember_model_label_count(const ember_model* model);
EMBER_API const char* ember_model_label(const ember_model* model, size_t index);

/* --------------------------------------------------------------- sessions */

/* Session flags. */
#define EMBER_SESSION_PROFILE 1u /* record per-node times on every run */
/* Let threads exceed the number of CPUs this process may run on (by default
 * the session clamps it there). */
#define EMBER_SESSION_ALLOW_OVERSUBSCRIBE 2u
/* Force this session's kernel path, for tests and comparisons: one of the
 * EMBER_SESSION_ISA_* values in the EMBER_SESSION_ISA_MASK bits of flags (0:
 * the process default, the best path this CPU runs or what the EMBER_ISA
 * environment variable forces). A path this build or CPU cannot run fails the
 * session with EMBER_ERROR_UNSUPPORTED. A session on another path than the
 * default does not use the model's pre-packed weights (laid out for the
 * default path): it runs from the weights as stored, more slowly. */
#define EMBER_SESSION_ISA_MASK 0xF00u
#define EMBER_SESSION_ISA_GENERIC 0x100u
#define EMBER_SESSION_ISA_AVX2 0x200u
#define EMBER_SESSION_ISA_AVX512 0x300u
#define EMBER_SESSION_ISA_NEON 0x400u

typedef struct ember_session_options {
    size_t struct_size;     /* sizeof(ember_session_options) */
    int32_t threads;        /* threads a run uses, the caller's included; 0 = default (1).
                               1 starts no thread; more start threads - 1 workers owned
                               by the session, which sleep while it is idle. Outputs are
                               bit-identical whatever the count. */
    uint32_t flags;         /* EMBER_SESSION_* bits */
    int64_t batch_size;     /* value of a symbolic first dimension of the inputs; 0 = 1 */
    /* Values for other symbolic dimensions, by symbol name (dim_count pairs). */
    const char* const* dim_names;
    const int64_t* dim_values;
    size_t dim_count;
    /* Caller-supplied working memory, at least arena_bytes of
     * ember_session_plan_memory; NULL to let the session allocate it. It must
     * stay valid, and not be shared with another live session, until the
     * session is freed. It must be 64-byte aligned. */
    void* arena;
    size_t arena_size;
} ember_session_options;

/* Fills *options with defaults. */
EMBER_API void ember_session_options_init(ember_session_options* options);

/* What a session with these options would need, computed without allocating it. */
typedef struct ember_memory_plan {
    size_t struct_size;          /* set by caller: sizeof(ember_memory_plan) */
    uint64_t arena_bytes;        /* activations and scratch, buffers reused (pass this
                                    much as options.arena to supply it yourself) */
    uint64_t packed_weight_bytes;/* weights repacked for the kernels, once per model: the
                                    model's first session allocates and fills this block
                                    (outside the arena) and every later session shares it */
    uint64_t naive_bytes;        /* sum of every activation and scratch buffer, unshared */
    uint64_t weight_bytes;       /* weights used in place from the file */
} ember_memory_plan;

EMBER_API ember_status ember_session_plan_memory(const ember_model* model,
                                                 const ember_session_options* options,
                                                 ember_memory_plan* out_plan);

/* Creates a session: resolves every shape for the chosen batch size and
 * symbolic dimensions, plans memory and allocates it (unless options->arena
 * supplies it). options may be NULL. After this, running allocates nothing. */
EMBER_API ember_status ember_session_create(const ember_model* model,
                                            const ember_session_options* options,
                                            ember_session** out_session);

EMBER_API void ember_session_free(ember_session* session);

/* Writes dst_path: the model in src_path with its weights pre-packed for one
 * kernel path, so that loading it packs nothing and reads no weight it does
 * not use (the same bytes a session would pack at creation; outputs are
 * bit-identical). The path is options' EMBER_SESSION_ISA_* bits, or this
 * process's default path when they are 0 (options may be NULL; its other
 * fields fix symbolic dimensions as for a session). The file stays valid
 * everywhere: a reader on another path, or an ember with another packing
 * version, packs from the weights as before. The new file also carries
 * per-part checksums: loading it checks the structure, and each weight or
 * packed blob when it is first read (a damaged one fails that session
 * creation or run with EMBER_ERROR_INVALID_MODEL naming it), instead of
 * reading the whole file at load. The file is written beside dst_path and
 * renamed over it, so a failure leaves dst_path as it was; dst_path may be
 * src_path. The file is larger than src_path by the packed weights. */
EMBER_API ember_status ember_model_pack_file(const char* src_path, const char* dst_path,
                                             const ember_session_options* options);

/* The shape, dtype and location of an input or output in a session. */
typedef struct ember_tensor {
    size_t struct_size;           /* set by caller: sizeof(ember_tensor) */
    ember_dtype dtype;
    int32_t rank;
    int64_t dims[EMBER_MAX_RANK];
    void* data;                   /* valid until the next run, set or bind call */
    size_t bytes;
} ember_tensor;

/* Copies an input into the session. dtype and shape must equal the input's
 * resolved dtype and shape (see ember_session_input), and bytes must be their
 * product; otherwise the error names the input, the expected and the given value. */
EMBER_API ember_status ember_session_set_input(ember_session* session, size_t index,
                                               ember_dtype dtype, const int64_t* dims,
                                               size_t rank, const void* data, size_t bytes);
EMBER_API ember_status ember_session_set_input_by_name(ember_session* session,
                                                       const char* name, ember_dtype dtype,
                                                       const int64_t* dims, size_t rank,
                                                       const void* data, size_t bytes);

/* Zero-copy input: the session reads the caller's memory directly during run.
 * Same checks as set_input; data must stay valid and unchanged until the run
 * that uses it returns. */
EMBER_API ember_status ember_session_bind_input(ember_session* session, size_t index,
                                                ember_dtype dtype, const int64_t* dims,
                                                size_t rank, const void* data, size_t bytes);

/* Zero-copy output: run writes output number index straight into data, which
 * must hold at least the output's bytes and stay valid until the run returns.
 * Pass data = NULL to go back to the session's own buffer. */
EMBER_API ember_status ember_session_bind_output(ember_session* session, size_t index,
                                                 void* data, size_t bytes);

/* Describes input number index as resolved in this session. data points at the
 * session's own buffer for it: writing there and then calling
 * ember_session_mark_input_set is a copy-free alternative to set_input. */
EMBER_API ember_status ember_session_input(ember_session* session, size_t index,
                                           ember_tensor* out);

/* Declares that input index was written in place through ember_session_input. */
EMBER_API ember_status ember_session_mark_input_set(ember_session* session, size_t index);

/* Runs the graph. Every input must have been set or bound since the session was
 * created (inputs keep their values between runs). On failure the message
 * names the node (name and op type); no output is written when an input is
 * missing or wrong. */
EMBER_API ember_status ember_session_run(ember_session* session);

/* Describes output number index after a successful run; data points into the
 * session (or at the bound buffer) and stays valid until the next run. */
EMBER_API ember_status ember_session_output(ember_session* session, size_t index,
                                            ember_tensor* out);
EMBER_API ember_status ember_session_output_by_name(ember_session* session, const char* name,
                                                    ember_tensor* out);

/* Copies output number index into dst, which must hold its bytes. */
EMBER_API ember_status ember_session_copy_output(ember_session* session, size_t index,
                                                 void* dst, size_t dst_bytes);

/* Time of one node in the last run (needs EMBER_SESSION_PROFILE). */
typedef struct ember_node_profile {
    size_t struct_size;   /* set by caller: sizeof(ember_node_profile) */
    const char* name;
    const char* op_type;
    const char* kernel;   /* which implementation ran: the dispatched path and kernel
                             ("avx512 gemm", "avx2 dwconv", "neon gemv", "generic gemm"),
                             "portable ..." for a fast path written in portable C that
                             every ISA shares ("portable pool"), "in place" for a node
                             whose output already held its result (a Reshape, or a
                             Concat whose inputs were written into its output), "fused"
                             for a node whose work the node reading its output did
                             (a 1x1 Conv inside the depthwise Conv after it, whose
                             kernel is then "avx512 1x1+dwconv"; its time is 0), a
                             kernel ending in " nchw16c" for a node that ran on the
                             channel-blocked layout ("avx512 gemm nchw16c"; its time
                             includes converting the plain tensors it reads or
                             writes), or "reference" for the reference code */
    uint64_t time_ns;
} ember_node_profile;

EMBER_API ember_status ember_session_node_profile(const ember_session* session, size_t index,
                                                  ember_node_profile* out);

#ifdef __cplusplus
}
#endif

#endif /* EMBER_H */
