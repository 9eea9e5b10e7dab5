/* Status codes, the per-thread last-error message, versions and dtypes. */
#include <stdarg.h>
#include <stdio.h>

#include "format.h"
#include "internal.h"

/* Per-thread, so concurrent callers never see each other's messages. */
static _Thread_local char last_error[EM_MSG_CAP * 2];

ember_status em_error(ember_status status, const char* fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(last_error, sizeof last_error, fmt, ap);
    va_end(ap);
    return status;
}

void em_clear_error(void) { last_error[0] = '\0'; }

ember_status em_errorf(char* buf, size_t cap, ember_status status, const char* fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, cap, fmt, ap);
    va_end(ap);
    return status;
}

EMBER_API const char* ember_last_error(void) { return last_error; }

EMBER_API int ember_version_number(void) { return EMBER_VERSION_NUMBER; }
EMBER_API const char* ember_version_string(void) { return EMBER_VERSION_STRING; }
EMBER_API int ember_format_version(void) { return EMF_VERSION_MAJOR * 100 + EMF_VERSION_MINOR; }

EMBER_API const char* ember_status_string(ember_status status) {
    switch (status) {
    case EMBER_OK: return "ok";
    case EMBER_ERROR_INVALID_ARGUMENT: return "invalid argument";
    case EMBER_ERROR_IO: return "I/O error";
    case EMBER_ERROR_INVALID_MODEL: return "invalid model";
    case EMBER_ERROR_UNSUPPORTED: return "unsupported";
    case EMBER_ERROR_OUT_OF_MEMORY: return "out of memory";
    case EMBER_ERROR_LIMIT_EXCEEDED: return "resource limit exceeded";
    case EMBER_ERROR_SHAPE_MISMATCH: return "shape mismatch";
    case EMBER_ERROR_DTYPE_MISMATCH: return "dtype mismatch";
    case EMBER_ERROR_MISSING_INPUT: return "missing input";
    case EMBER_ERROR_NOT_FOUND: return "not found";
    case EMBER_ERROR_BUFFER_TOO_SMALL: return "buffer too small";
    case EMBER_ERROR_RUNTIME: return "runtime error";
    }
    return "unknown status";
}

EMBER_API size_t ember_dtype_size(ember_dtype dtype) {
    switch (dtype) {
    case EMBER_DTYPE_F32: return 4;
    case EMBER_DTYPE_F16: return 2;
    case EMBER_DTYPE_I8: return 1;
    case EMBER_DTYPE_U8: return 1;
    case EMBER_DTYPE_I32: return 4;
    case EMBER_DTYPE_I64: return 8;
    case EMBER_DTYPE_BOOL: return 1;
    case EMBER_DTYPE_UNDEFINED: break;
    }
    return 0;
}

EMBER_API const char* ember_dtype_name(ember_dtype dtype) {
    switch (dtype) {
    case EMBER_DTYPE_F32: return "f32";
    case EMBER_DTYPE_F16: return "f16";
    case EMBER_DTYPE_I8: return "i8";
    case EMBER_DTYPE_U8: return "u8";
    case EMBER_DTYPE_I32: return "i32";
    case EMBER_DTYPE_I64: return "i64";
    case EMBER_DTYPE_BOOL: return "bool";
    case EMBER_DTYPE_UNDEFINED: break;
    }
    return "undefined";
}
