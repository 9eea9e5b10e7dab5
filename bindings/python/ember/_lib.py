"""Loading of libember and ctypes prototypes of every function in include/ember.h.

Nothing here needs numpy. The library is loaded on first use (``get()``), not
at import, so that ``import ember`` (and ember.format / ember.convert, which do
not need the C library) works on a machine without libember.

Where the library is looked for, in order:

1. the path in the ``EMBER_LIBRARY`` environment variable (nothing else is
   tried when it is set: a wrong path is an error, never silently replaced);
2. next to this package: ``ember/libember.so*`` (a wheel or an install that
   copies the library into the package);
3. from a source checkout: ``<repo>/build/libember.so``, then the other
   ``<repo>/build*/libember.so`` newest first, skipping sanitizer builds
   (an ASan library cannot be loaded into an uninstrumented Python);
4. the system: ``ctypes.util.find_library("ember")``, then ``libember.so.0``
   and ``libember.so`` through the dynamic loader's search path.

The library's major version (``ember_version_number() // 10000``) must equal
``EXPECTED_MAJOR``.
"""
import ctypes
import ctypes.util
import glob
import os
import threading

EXPECTED_MAJOR = 0
MAX_RANK = 8

# ember_status
OK = 0
# ember_dtype
DTYPE_F32, DTYPE_F16, DTYPE_I8, DTYPE_U8, DTYPE_I32, DTYPE_I64, DTYPE_BOOL = range(1, 8)
SESSION_PROFILE = 1
# EMBER_SESSION_ISA_*: the kernel path a session is forced onto
SESSION_ISA = {"generic": 0x100, "avx2": 0x200, "avx512": 0x300, "neon": 0x400}

c_size_t = ctypes.c_size_t
c_int = ctypes.c_int
c_int32 = ctypes.c_int32
c_uint32 = ctypes.c_uint32
c_int64 = ctypes.c_int64
c_uint64 = ctypes.c_uint64
c_char_p = ctypes.c_char_p
c_void_p = ctypes.c_void_p
POINTER = ctypes.POINTER
c_status = ctypes.c_int   # enum ember_status
c_dtype = ctypes.c_int    # enum ember_dtype


class IoInfo(ctypes.Structure):
    _fields_ = [("struct_size", c_size_t),
                ("name", c_char_p),
                ("dtype", c_dtype),
                ("rank", c_int32),
                ("dims", c_int64 * MAX_RANK),
                ("dim_names", c_char_p * MAX_RANK)]


class Tensor(ctypes.Structure):
    _fields_ = [("struct_size", c_size_t),
                ("dtype", c_dtype),
                ("rank", c_int32),
                ("dims", c_int64 * MAX_RANK),
                ("data", c_void_p),
                ("bytes", c_size_t)]


class LoadOptions(ctypes.Structure):
    _fields_ = [("struct_size", c_size_t),
                ("max_arena_bytes", c_uint64),
                ("max_tensor_elements", c_uint64),
                ("max_nodes", c_uint32),
                ("flags", c_uint32)]


class SessionOptions(ctypes.Structure):
    _fields_ = [("struct_size", c_size_t),
                ("threads", c_int32),
                ("flags", c_uint32),
                ("batch_size", c_int64),
                ("dim_names", POINTER(c_char_p)),
                ("dim_values", POINTER(c_int64)),
                ("dim_count", c_size_t),
                ("arena", c_void_p),
                ("arena_size", c_size_t)]


class MemoryPlan(ctypes.Structure):
    _fields_ = [("struct_size", c_size_t),
                ("arena_bytes", c_uint64),
                ("packed_weight_bytes", c_uint64),
                ("naive_bytes", c_uint64),
                ("weight_bytes", c_uint64)]


class NodeInfo(ctypes.Structure):
    _fields_ = [("struct_size", c_size_t),
                ("name", c_char_p),
                ("op_type", c_char_p),
                ("input_count", c_uint32),
                ("output_count", c_uint32)]


class NodeProfile(ctypes.Structure):
    _fields_ = [("struct_size", c_size_t),
                ("name", c_char_p),
                ("op_type", c_char_p),
                ("kernel", c_char_p),
                ("time_ns", c_uint64)]


def new(struct_type):
    """An instance of one of the structs above with struct_size set."""
    s = struct_type()
    s.struct_size = ctypes.sizeof(struct_type)
    return s


_model_p = c_void_p     # const ember_model* / ember_model*
_session_p = c_void_p   # ember_session*
_dims_p = POINTER(c_int64)

# name -> (restype, argtypes); one entry per EMBER_API function of ember.h.
PROTOTYPES = {
    "ember_version_number": (c_int, []),
    "ember_version_string": (c_char_p, []),
    "ember_format_version": (c_int, []),
    "ember_status_string": (c_char_p, [c_status]),
    "ember_last_error": (c_char_p, []),
    "ember_dtype_size": (c_size_t, [c_dtype]),
    "ember_dtype_name": (c_char_p, [c_dtype]),
    "ember_load_options_init": (None, [POINTER(LoadOptions)]),
    "ember_model_load_file": (c_status, [c_char_p, POINTER(LoadOptions), POINTER(_model_p)]),
    "ember_model_load_memory": (c_status, [c_void_p, c_size_t, POINTER(LoadOptions),
                                           POINTER(_model_p)]),
    "ember_model_free": (None, [_model_p]),
    "ember_model_input_count": (c_size_t, [_model_p]),
    "ember_model_output_count": (c_size_t, [_model_p]),
    "ember_model_input_info": (c_status, [_model_p, c_size_t, POINTER(IoInfo)]),
    "ember_model_output_info": (c_status, [_model_p, c_size_t, POINTER(IoInfo)]),
    "ember_model_input_index": (c_status, [_model_p, c_char_p, POINTER(c_size_t)]),
    "ember_model_output_index": (c_status, [_model_p, c_char_p, POINTER(c_size_t)]),
    "ember_model_node_count": (c_size_t, [_model_p]),
    "ember_model_parameter_count": (c_uint64, [_model_p]),
    "ember_model_node_info": (c_status, [_model_p, c_size_t, POINTER(NodeInfo)]),
    "ember_model_metadata": (c_char_p, [_model_p, c_char_p]),
    "ember_model_metadata_count": (c_size_t, [_model_p]),
    "ember_model_metadata_entry": (c_status, [_model_p, c_size_t, POINTER(c_char_p),
                                              POINTER(c_char_p)]),
    "ember_model_label_count": (c_size_t, [_model_p]),
    "ember_model_label": (c_char_p, [_model_p, c_size_t]),
    "ember_session_options_init": (None, [POINTER(SessionOptions)]),
    "ember_session_plan_memory": (c_status, [_model_p, POINTER(SessionOptions),
                                             POINTER(MemoryPlan)]),
    "ember_session_create": (c_status, [_model_p, POINTER(SessionOptions),
                                        POINTER(_session_p)]),
    "ember_session_free": (None, [_session_p]),
    "ember_model_pack_file": (c_status, [c_char_p, c_char_p, POINTER(SessionOptions)]),
    "ember_session_set_input": (c_status, [_session_p, c_size_t, c_dtype, _dims_p, c_size_t,
                                           c_void_p, c_size_t]),
    "ember_session_set_input_by_name": (c_status, [_session_p, c_char_p, c_dtype, _dims_p,
                                                   c_size_t, c_void_p, c_size_t]),
    "ember_session_bind_input": (c_status, [_session_p, c_size_t, c_dtype, _dims_p, c_size_t,
                                            c_void_p, c_size_t]),
    "ember_session_bind_output": (c_status, [_session_p, c_size_t, c_void_p, c_size_t]),
    "ember_session_input": (c_status, [_session_p, c_size_t, POINTER(Tensor)]),
    "ember_session_mark_input_set": (c_status, [_session_p, c_size_t]),
    "ember_session_run": (c_status, [_session_p]),
    "ember_session_output": (c_status, [_session_p, c_size_t, POINTER(Tensor)]),
    "ember_session_output_by_name": (c_status, [_session_p, c_char_p, POINTER(Tensor)]),
    "ember_session_copy_output": (c_status, [_session_p, c_size_t, c_void_p, c_size_t]),
    "ember_session_node_profile": (c_status, [_session_p, c_size_t, POINTER(NodeProfile)]),
}


class LibraryError(ImportError):
    """libember could not be found or loaded (raised as ember.LibraryNotFound)."""


_SANITIZER_MARKS = (b"__asan_init", b"__tsan_init", b"__msan_init", b"__ubsan_handle",
                    b"__sanitizer_cov")


def _is_sanitizer_build(path):
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError:
        return False
    return any(m in data for m in _SANITIZER_MARKS)


def candidates():
    """Every (place, path-or-name) tried, in order, as a list of strings."""
    env = os.environ.get("EMBER_LIBRARY")
    if env:
        return [env]
    out = []
    here = os.path.dirname(os.path.abspath(__file__))
    for pat in ("libember.so", "libember.so.*", "libember.dylib", "ember.dll"):
        out.extend(sorted(glob.glob(os.path.join(here, pat))))
    if not out:
        out.append(os.path.join(here, "libember.so"))
    root = os.path.dirname(os.path.dirname(os.path.dirname(here)))
    if os.path.isfile(os.path.join(root, "include", "ember.h")):
        main = os.path.join(root, "build", "libember.so")
        others = [p for p in glob.glob(os.path.join(root, "build*", "libember.so")) if p != main]
        others.sort(key=lambda p: -os.path.getmtime(p) if os.path.exists(p) else 0)
        out.append(main)
        out.extend(others)
    found = ctypes.util.find_library("ember")
    if found:
        out.append(found)
    out.extend(["libember.so.0", "libember.so"])
    seen, uniq = set(), []
    for c in out:
        if c not in seen:
            seen.add(c)
            uniq.append(c)
    return uniq


def _bind(lib):
    for name, (restype, argtypes) in PROTOTYPES.items():
        fn = getattr(lib, name)   # AttributeError if the library lacks it
        fn.restype = restype
        fn.argtypes = argtypes
    return lib


def _load():
    tried = []
    explicit = bool(os.environ.get("EMBER_LIBRARY"))
    for cand in candidates():
        is_path = os.sep in cand
        if is_path and not os.path.exists(cand):
            tried.append("%s (no such file)" % cand)
            continue
        if is_path and not explicit and _is_sanitizer_build(cand):
            tried.append("%s (skipped: sanitizer build)" % cand)
            continue
        try:
            lib = ctypes.CDLL(cand)   # CDLL, not PyDLL: the GIL is released during calls
        except OSError as e:
            tried.append("%s (%s)" % (cand, e))
            continue
        try:
            _bind(lib)
        except AttributeError as e:
            tried.append("%s (not a matching libember: %s)" % (cand, e))
            continue
        major = lib.ember_version_number() // 10000
        if major != EXPECTED_MAJOR:
            tried.append("%s (version %s, major %d; this binding needs major %d)"
                         % (cand, lib.ember_version_string().decode(), major, EXPECTED_MAJOR))
            continue
        lib._ember_path = cand
        return lib
    raise LibraryError("libember could not be loaded; looked in:\n  " + "\n  ".join(tried) +
                       "\nBuild it (meson setup build && ninja -C build) or set EMBER_LIBRARY "
                       "to the path of libember.so.")


_lib = None
_lock = threading.Lock()


def get():
    """The loaded library (ctypes.CDLL with every prototype set); loads it once."""
    global _lib
    if _lib is None:
        with _lock:
            if _lib is None:
                _lib = _load()
    return _lib


def path():
    """Path or name the library was loaded from."""
    return get()._ember_path


def last_error():
    return get().ember_last_error().decode("utf-8", "replace")

