"""Models and sessions: numpy in, numpy out, through ctypes (see _lib.py).

::

    import ember, numpy as np
    with ember.Model("mlp.ember") as model:
        print(model.inputs)          # [TensorInfo(name='x', shape=('batch', 16), dtype='float32')]
        out = model.run({"x": np.zeros((3, 16), np.float32)})   # {'probs': array (3, 10)}
        sess = model.session(batch=8, threads=2)
        for batch in batches:
            probs = sess.run({"x": batch})["probs"]

Rules the binding follows:

* Every C failure raises an ember.Error subclass carrying the library's message
  (``ember_last_error()``) and the status code in ``.status``. Inputs are checked
  in Python first (missing or unknown name, dtype, shape) and refused with the
  same classes, naming the input, what was expected and what was given.
* Dtypes are never converted implicitly for numpy arrays: a float64 array for a
  float32 input is refused (use ``.astype(np.float32)``), as onnxruntime does.
  Only byte order is normalised. Python lists and scalars, which have no dtype
  of their own, are converted when that loses nothing (numbers to a float input,
  integers to an integer input; never floats to integers).
* Arrays that are not C-contiguous (slices, Fortran order) are copied first;
  C-contiguous, aligned arrays of the right dtype are read in place (zero copy,
  ``ember_session_bind_input``) and referenced until the run returns.
* A Model is immutable and may be shared by threads; ``Model.run`` takes a
  session from a per-shape pool, so it is thread-safe. A Session may be used by
  one thread at a time: using it from two at once raises SessionBusy. ctypes
  releases the GIL during the C calls, so sessions on different threads really
  run in parallel.
* A Session keeps its Model alive. ``Model.close()`` (or leaving ``with``) makes
  the model unusable for new work; the C model is freed once its last session
  is closed too.
* ``Model.outputs`` shapes are what the file declares, usually nothing (None):
  output shapes are inferred by the runtime; ``Session.outputs`` has the resolved
  shapes after the session's first run.
* Without numpy, inputs may be any buffer (array.array, memoryview, bytes) of
  the right format, either shaped or flat, and outputs are memoryviews shaped
  like the output (float16 outputs come back as float32 values).
"""
import collections
import collections.abc
import ctypes
import os
import threading

from . import _lib as L

__all__ = ["Model", "Session", "TensorInfo", "version", "library_path",
           "Error", "InvalidArgument", "FileError", "InvalidModel", "Unsupported",
           "OutOfMemory", "LimitExceeded", "ShapeMismatch", "DtypeMismatch", "MissingInput",
           "NotFound", "BufferTooSmall", "RuntimeFailure", "SessionBusy", "LibraryNotFound"]

# ------------------------------------------------------------------ errors


class Error(Exception):
    """A failure of ember; ``.status`` is the ember_status code (None if not from C)."""
    status = None

    def __init__(self, message, status=None):
        super().__init__(message)
        self.message = message
        if status is not None:
            self.status = status


class InvalidArgument(Error, ValueError):
    status = 1


class FileError(Error, OSError):
    status = 2


class InvalidModel(Error, ValueError):
    status = 3


class Unsupported(Error):
    status = 4


class OutOfMemory(Error, MemoryError):
    status = 5


class LimitExceeded(Error):
    status = 6


class ShapeMismatch(Error, ValueError):
    status = 7


class DtypeMismatch(Error, TypeError):
    status = 8


class MissingInput(Error, ValueError):
    status = 9


class NotFound(Error, LookupError):
    status = 10


class BufferTooSmall(Error, ValueError):
    status = 11


class RuntimeFailure(Error, RuntimeError):
    status = 12


class SessionBusy(Error, RuntimeError):
    """A Session was used by two threads at once (use one session per thread)."""


class LibraryNotFound(Error, ImportError):
    """libember could not be found or loaded; the message lists every place tried."""


for _c in (Error, InvalidArgument, FileError, InvalidModel, Unsupported, OutOfMemory,
           LimitExceeded, ShapeMismatch, DtypeMismatch, MissingInput, NotFound, BufferTooSmall,
           RuntimeFailure, SessionBusy, LibraryNotFound):
    _c.__module__ = "ember"
del _c

_STATUS_CLASSES = {c.status: c for c in (InvalidArgument, FileError, InvalidModel, Unsupported,
                                         OutOfMemory, LimitExceeded, ShapeMismatch,
                                         DtypeMismatch, MissingInput, NotFound, BufferTooSmall,
                                         RuntimeFailure)}


def _lib():
    try:
        return L.get()
    except L.LibraryError as e:
        raise LibraryNotFound(str(e)) from None


def _error(status):
    lib = _lib()
    msg = lib.ember_last_error().decode("utf-8", "replace")
    if not msg:
        msg = lib.ember_status_string(status).decode("utf-8", "replace")
    return _STATUS_CLASSES.get(status, Error)(msg, status)


def _check(status):
    if status != L.OK:
        raise _error(status)


def _str(b):
    return None if b is None else b.decode("utf-8", "replace")


def version():
    """Version string of the loaded libember ("MAJOR.MINOR.PATCH")."""
    return _str(_lib().ember_version_string())


def _cpath(path, what):
    if not isinstance(path, (str, bytes, os.PathLike)):
        raise InvalidArgument("%s must be a path (str or os.PathLike), not %s"
                              % (what, type(path).__name__))
    p = os.fspath(path)
    return p if isinstance(p, bytes) else p.encode("utf-8", "surrogateescape")


def pack(src, dst, isa=None):
    """Writes dst: the .ember file src with its weights pre-packed for a kernel
    path (this machine's default, or isa: "generic", "avx2", "avx512", "neon"),
    so that loading dst packs nothing and reads only the weights it uses
    (ember_model_pack_file). dst may be src; it is replaced only once the new
    file is complete. dst runs everywhere src does (elsewhere it is packed at
    load as before), with bit-identical outputs."""
    o, keep = _session_options(isa=isa)
    _check(_lib().ember_model_pack_file(_cpath(src, "src"), _cpath(dst, "dst"), ctypes.byref(o)))
    del keep


def library_path():
    """Path (or loader name) libember was loaded from."""
    _lib()
    return L.path()


# ------------------------------------------------------------------ dtypes

_DTYPE_NAMES = {L.DTYPE_F32: "float32", L.DTYPE_F16: "float16", L.DTYPE_I8: "int8",
                L.DTYPE_U8: "uint8", L.DTYPE_I32: "int32", L.DTYPE_I64: "int64",
                L.DTYPE_BOOL: "bool"}
_DTYPE_SIZES = {L.DTYPE_F32: 4, L.DTYPE_F16: 2, L.DTYPE_I8: 1, L.DTYPE_U8: 1, L.DTYPE_I32: 4,
                L.DTYPE_I64: 8, L.DTYPE_BOOL: 1}
# struct/memoryview format characters, for use without numpy
_FORMATS = {L.DTYPE_F32: "f", L.DTYPE_F16: "e", L.DTYPE_I8: "b", L.DTYPE_U8: "B",
            L.DTYPE_I32: "i", L.DTYPE_I64: "q", L.DTYPE_BOOL: "?"}

_np_module = None
_np_tried = False


def _numpy():
    """numpy, imported on first use; None if it is not installed."""
    global _np_module, _np_tried
    if not _np_tried:
        try:
            import numpy
            _np_module = numpy
        except ImportError:
            _np_module = None
        _np_tried = True
    return _np_module


def _np_dtype(code):
    return _numpy().dtype(_DTYPE_NAMES[code])


TensorInfo = collections.namedtuple("TensorInfo", "name shape dtype")
TensorInfo.__doc__ = ("A graph input or output: name, shape (a tuple of ints, with the symbol "
                      "name as a str where a dimension is symbolic; None for an output whose "
                      "file gives no shape: a Session has it after its first run) and dtype "
                      "(numpy name, e.g. 'float32').")


def _shape_str(shape):
    if shape is None:
        return "[?]"
    return "[" + ", ".join(str(d) for d in shape) + "]"


def _io_info(lib, ptr, index, is_input):
    info = L.new(L.IoInfo)
    fn = lib.ember_model_input_info if is_input else lib.ember_model_output_info
    _check(fn(ptr, index, ctypes.byref(info)))
    shape = tuple(_str(info.dim_names[d]) if info.dims[d] < 0 else int(info.dims[d])
                  for d in range(info.rank))
    if not is_input and info.rank == 0:
        shape = None   # output shapes in a file are informative, usually left out
    return TensorInfo(_str(info.name), shape, _DTYPE_NAMES.get(info.dtype, "undefined")), info.dtype


# ------------------------------------------------------------------ model handle


class _Handle:
    """Owns one ember_model*: freed once the Model is closed and its sessions are gone."""

    def __init__(self, ptr):
        self.ptr = ptr
        self.lock = threading.Lock()
        self.sessions = 0
        self.closing = False
        lib = _lib()
        self.inputs, self.input_codes = [], []
        for i in range(lib.ember_model_input_count(ptr)):
            t, code = _io_info(lib, ptr, i, True)
            self.inputs.append(t)
            self.input_codes.append(code)
        self.outputs, self.output_codes = [], []
        for i in range(lib.ember_model_output_count(ptr)):
            t, code = _io_info(lib, ptr, i, False)
            self.outputs.append(t)
            self.output_codes.append(code)
        self.input_index = {t.name: i for i, t in enumerate(self.inputs)}

    def acquire(self):
        with self.lock:
            if self.closing or not self.ptr:
                raise InvalidArgument("the model is closed")
            self.sessions += 1
            return self.ptr

    def release(self):
        with self.lock:
            self.sessions -= 1
            self._free_if_done()

    def close(self):
        with self.lock:
            self.closing = True
            self._free_if_done()

    def _free_if_done(self):
        if self.closing and self.sessions == 0 and self.ptr:
            ptr, self.ptr = self.ptr, None
            try:
                L.get().ember_model_free(ptr)
            except Exception:  # interpreter shutdown
                pass

    def __del__(self):
        try:
            self.close()
        except Exception:
            pass


def _session_options(threads=1, batch=None, dims=None, profile=False, isa=None):
    """An ember_session_options and the ctypes objects it points into (keep both alive)."""
    lib = _lib()
    o = L.SessionOptions()
    o.struct_size = ctypes.sizeof(o)
    lib.ember_session_options_init(ctypes.byref(o))
    o.struct_size = ctypes.sizeof(o)
    if threads is None:
        threads = 0
    if isinstance(threads, bool) or not isinstance(threads, int) or threads < 0:
        raise InvalidArgument("threads must be an int >= 0 (0 = default), not %r" % (threads,))
    o.threads = threads
    if batch is not None:
        if isinstance(batch, bool) or not isinstance(batch, int) or batch < 1:
            raise InvalidArgument("batch must be an int >= 1, not %r" % (batch,))
        o.batch_size = batch
    if profile:
        o.flags |= L.SESSION_PROFILE
    if isa:
        if isa not in L.SESSION_ISA:
            raise InvalidArgument("isa must be one of %s, not %r" % (", ".join(L.SESSION_ISA), isa))
        o.flags |= L.SESSION_ISA[isa]
    keep = []
    if dims:
        names = list(dims)
        for n in names:
            v = dims[n]
            if not isinstance(n, str):
                raise InvalidArgument("dims keys must be symbol names (str), not %r" % (n,))
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise InvalidArgument("dimension %r must be an int >= 1, not %r" % (n, v))
        c_names = (ctypes.c_char_p * len(names))(*[n.encode("utf-8") for n in names])
        c_values = (ctypes.c_int64 * len(names))(*[dims[n] for n in names])
        keep += [c_names, c_values]
        o.dim_names = ctypes.cast(c_names, ctypes.POINTER(ctypes.c_char_p))
        o.dim_values = ctypes.cast(c_values, ctypes.POINTER(ctypes.c_int64))
        o.dim_count = len(names)
    return o, keep


class Model:
    """A loaded .ember model.

    ``Model(path_or_bytes, max_arena_bytes=None, max_tensor_elements=None, max_nodes=None)``:
    a str or os.PathLike is loaded from the file (mapped); bytes, bytearray or
    memoryview are copied into the library. The limits refuse a model (or a
    session) that would exceed them, with LimitExceeded.

    Immutable and safe to share between threads. Use as a context manager or
    call close(); sessions created from it keep it alive.
    """

    _POOL_KEYS = 8   # distinct input shapes whose sessions Model.run keeps

    def __init__(self, path_or_bytes, max_arena_bytes=None, max_tensor_elements=None,
                 max_nodes=None):
        self._handle = None
        lib = _lib()
        opts = L.LoadOptions()
        opts.struct_size = ctypes.sizeof(opts)
        lib.ember_load_options_init(ctypes.byref(opts))
        opts.struct_size = ctypes.sizeof(opts)
        for field, value in (("max_arena_bytes", max_arena_bytes),
                             ("max_tensor_elements", max_tensor_elements),
                             ("max_nodes", max_nodes)):
            if value is not None:
                if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                    raise InvalidArgument("%s must be an int >= 0, not %r" % (field, value))
                setattr(opts, field, value)
        ptr = ctypes.c_void_p()
        if isinstance(path_or_bytes, (str, os.PathLike)):
            self.path = os.fspath(path_or_bytes)
            _check(lib.ember_model_load_file(_cpath(self.path, "path"), ctypes.byref(opts),
                                             ctypes.byref(ptr)))
        elif isinstance(path_or_bytes, (bytes, bytearray, memoryview)):
            self.path = None
            data = path_or_bytes
            if not isinstance(data, bytes):
                data = memoryview(data).cast("B").tobytes() if memoryview(data).c_contiguous \
                    else memoryview(data).tobytes()
            _check(lib.ember_model_load_memory(data, len(data), ctypes.byref(opts),
                                               ctypes.byref(ptr)))
        else:
            raise InvalidArgument("Model() takes a path (str or os.PathLike) or the file's "
                                  "bytes, not %s" % type(path_or_bytes).__name__)
        try:
            self._handle = _Handle(ptr.value)
        except BaseException:
            lib.ember_model_free(ptr)
            raise
        p = ptr.value
        self._metadata = {}
        for i in range(lib.ember_model_metadata_count(p)):
            k, v = ctypes.c_char_p(), ctypes.c_char_p()
            _check(lib.ember_model_metadata_entry(p, i, ctypes.byref(k), ctypes.byref(v)))
            self._metadata[_str(k.value)] = _str(v.value)
        self._labels = [_str(lib.ember_model_label(p, i))
                        for i in range(lib.ember_model_label_count(p))]
        self._node_count = int(lib.ember_model_node_count(p))
        self._parameter_count = int(lib.ember_model_parameter_count(p))
        self._nodes = None
        self._pool = collections.OrderedDict()   # shape key -> [idle Session]
        self._pool_lock = threading.Lock()

    # -- description
    @property
    def inputs(self):
        """List of TensorInfo of the graph inputs (symbolic dimensions as str)."""
        return list(self._h().inputs)

    @property
    def outputs(self):
        return list(self._h().outputs)

    @property
    def metadata(self):
        """Every metadata entry of the file, as a dict of str."""
        return dict(self._metadata)

    @property
    def labels(self):
        """Class labels (the 'labels' metadata, one per line); [] if none."""
        return list(self._labels)

    @property
    def node_count(self):
        return self._node_count

    @property
    def parameter_count(self):
        """Elements in all constant tensors (weights)."""
        return self._parameter_count

    @property
    def nodes(self):
        """List of (name, op_type) of every node, in execution order."""
        if self._nodes is None:
            lib = _lib()
            ptr = self._ptr()
            nodes = []
            for i in range(self._node_count):
                info = L.new(L.NodeInfo)
                _check(lib.ember_model_node_info(ptr, i, ctypes.byref(info)))
                nodes.append((_str(info.name), _str(info.op_type)))
            self._nodes = nodes
        return list(self._nodes)

    @property
    def closed(self):
        return self._handle is None or self._handle.closing

    def __repr__(self):
        name = self._metadata.get("name") or self.path or "<bytes>"
        return "<ember.Model %s%s: inputs %s, outputs %s>" % (
            name, " (closed)" if self.closed else "",
            ", ".join("%s %s%s" % (t.name, t.dtype, _shape_str(t.shape)) for t in
                      (self._handle.inputs if self._handle else [])),
            ", ".join("%s %s%s" % (t.name, t.dtype, _shape_str(t.shape)) for t in
                      (self._handle.outputs if self._handle else [])))

    def _h(self):
        if self._handle is None:
            raise InvalidArgument("the model failed to load")
        return self._handle

    def _ptr(self):
        h = self._h()
        if h.closing or not h.ptr:
            raise InvalidArgument("the model is closed")
        return h.ptr

    # -- sessions
    def session(self, threads=1, batch=None, dims=None, profile=False, isa=None):
        """A new Session. batch: value of the symbolic first dimension of the inputs
        (default 1); dims: {symbol name: value} for other symbolic dimensions;
        profile: record per-node times (Session.profile()); isa: force a kernel
        path ("generic", "avx2", "avx512", "neon"; None: the default), for tests
        and comparisons (ember.Unsupported where this CPU cannot run it)."""
        return Session(self, threads=threads, batch=batch, dims=dims, profile=profile, isa=isa)

    def plan_memory(self, batch=None, dims=None, threads=1):
        """What a session with these options needs, without creating it: dict of
        arena_bytes, naive_bytes, weight_bytes, packed_weight_bytes."""
        lib = _lib()
        opts, keep = _session_options(threads, batch, dims)
        plan = L.new(L.MemoryPlan)
        _check(lib.ember_session_plan_memory(self._ptr(), ctypes.byref(opts),
                                             ctypes.byref(plan)))
        del keep
        return {"arena_bytes": plan.arena_bytes, "naive_bytes": plan.naive_bytes,
                "weight_bytes": plan.weight_bytes,
                "packed_weight_bytes": plan.packed_weight_bytes}

    def run(self, inputs, threads=1):
        """Runs the model once: ``{name: array}`` (or one array for a one-input model)
        to ``{output name: array}``. Symbolic dimensions (the batch, ...) are taken
        from the shapes given; a session per distinct set of values is created and
        kept (thread-safe: concurrent calls use different sessions)."""
        h = self._h()
        self._ptr()
        inputs = _as_dict(inputs, h)
        dims = _infer_symbols(inputs, h)
        key = (tuple(sorted(dims.items())), threads)
        sess = None
        with self._pool_lock:
            idle = self._pool.get(key)
            if idle:
                sess = idle.pop()
                self._pool.move_to_end(key)
        if sess is None:
            sess = Session._create(h, None, threads=threads, dims=dims)
        try:
            return sess.run(inputs)
        finally:
            self._give_back(key, sess)

    def _give_back(self, key, sess):
        """Returns a session to Model.run's pool (a failed run leaves it usable:
        every run sets all inputs again)."""
        with self._pool_lock:
            if self.closed:
                evicted = [sess]
            else:
                self._pool.setdefault(key, []).append(sess)
                self._pool.move_to_end(key)
                evicted = []
                while len(self._pool) > self._POOL_KEYS:
                    evicted += self._pool.popitem(last=False)[1]
        for s in evicted:
            s.close()

    def close(self):
        """Frees the model (once every session from it is closed too); idempotent."""
        if self._handle is None:
            return
        with self._pool_lock:
            pooled = [s for idle in self._pool.values() for s in idle]
            self._pool.clear()
        for s in pooled:
            s.close()
        self._handle.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        try:
            self.close()
        except Exception:
            pass


def _as_dict(inputs, h):
    if isinstance(inputs, collections.abc.Mapping):
        return inputs
    if len(h.inputs) == 1:
        return {h.inputs[0].name: inputs}
    raise InvalidArgument("the model has %d inputs (%s): pass a dict {name: array}"
                          % (len(h.inputs), ", ".join(t.name for t in h.inputs)))


def _value_shape(v):
    np = _numpy()
    if np is not None:
        if isinstance(v, np.ndarray):
            return v.shape
        try:
            return np.shape(v)
        except Exception:
            return None
    try:
        return memoryview(v).shape
    except TypeError:
        return None


def _infer_symbols(inputs, h):
    """{symbol: value} for every symbolic dimension, from the shapes of the inputs."""
    dims, where = {}, {}
    for t in h.inputs:
        if t.name not in inputs or not any(isinstance(d, str) for d in t.shape):
            continue
        shape = _value_shape(inputs[t.name])
        if shape is None or len(shape) != len(t.shape):
            continue   # the session reports the mismatch
        for d, sym in enumerate(t.shape):
            if not isinstance(sym, str):
                continue
            val = int(shape[d])
            if sym in dims and dims[sym] != val:
                raise ShapeMismatch("dimension '%s' is %d in input '%s' but %d in input '%s'"
                                    % (sym, dims[sym], where[sym], val, t.name))
            if val < 1:
                raise ShapeMismatch("input '%s': dimension '%s' is %d; it must be >= 1"
                                    % (t.name, sym, val))
            dims[sym] = val
            where[sym] = t.name
    return dims


# ------------------------------------------------------------------ session


class _View:
    """Exposes session memory to numpy and keeps the session referenced."""

    def __init__(self, session, ptr, shape, dtype):
        self._session = session
        self.__array_interface__ = {"data": (ptr, True), "shape": tuple(shape),
                                    "typestr": dtype.str, "version": 3}


class Session:
    """Working memory for running one model at fixed input shapes.

    Create with ``model.session(threads=1, batch=None, dims=None, profile=False)``.
    Not thread-safe: one thread at a time (a second concurrent call raises
    SessionBusy); create one session per thread, they share the model's weights.
    """

    def __init__(self, model, threads=1, batch=None, dims=None, profile=False, isa=None):
        if not isinstance(model, Model):
            raise InvalidArgument("Session() takes an ember.Model")
        self._init(model._h(), model, threads, batch, dims, profile, isa)

    @classmethod
    def _create(cls, handle, model, **kw):
        s = cls.__new__(cls)
        s._init(handle, model, **kw)
        return s

    def _init(self, handle, model, threads=1, batch=None, dims=None, profile=False, isa=None):
        self._ptr = None
        self._handle = None
        self.model = model   # keeps the Model (and so its C handle) alive
        self._guard = threading.Lock()
        lib = _lib()
        opts, keep = _session_options(threads, batch, dims, profile, isa)
        mptr = handle.acquire()
        ptr = ctypes.c_void_p()
        try:
            _check(lib.ember_session_create(mptr, ctypes.byref(opts), ctypes.byref(ptr)))
        except BaseException:
            handle.release()
            raise
        del keep
        self._ptr = ptr.value
        self._handle = handle
        self._profile = bool(profile)
        self._ran = False
        # resolved inputs
        self._in_shapes, self._in_dims, self._inputs = [], [], []
        for i, t in enumerate(handle.inputs):
            info = L.new(L.Tensor)
            _check(lib.ember_session_input(self._ptr, i, ctypes.byref(info)))
            shape = tuple(int(info.dims[d]) for d in range(info.rank))
            self._in_shapes.append(shape)
            self._in_dims.append((ctypes.c_int64 * max(1, len(shape)))(*shape))
            self._inputs.append(TensorInfo(t.name, shape, t.dtype))
        # outputs: the model's shapes with the session's symbol values, until a run
        # gives the resolved ones
        symbols = dict(dims or {})
        for t, shape in zip(handle.inputs, self._in_shapes):
            for d, sym in enumerate(t.shape):
                if isinstance(sym, str):
                    symbols.setdefault(sym, shape[d])
        self._outputs = [TensorInfo(t.name, None if t.shape is None else
                                    tuple(symbols.get(d, d) if isinstance(d, str) else d
                                          for d in t.shape), t.dtype)
                         for t in handle.outputs]

    @property
    def inputs(self):
        """TensorInfo of each input with the shape resolved for this session."""
        return list(self._inputs)

    @property
    def outputs(self):
        """TensorInfo of each output (resolved shapes once the session has run)."""
        return list(self._outputs)

    @property
    def closed(self):
        return self._ptr is None

    def __repr__(self):
        return "<ember.Session%s inputs %s>" % (
            " (closed)" if self.closed else "",
            ", ".join("%s %s%s" % (t.name, t.dtype, _shape_str(t.shape)) for t in self._inputs))

    def _enter(self):
        if not self._guard.acquire(blocking=False):
            raise SessionBusy("this Session is being used by another thread; a Session is "
                              "not thread-safe: create one per thread (model.session()) or "
                              "use Model.run, which is")
        if self._ptr is None:
            self._guard.release()
            raise InvalidArgument("the session is closed")

    def run(self, inputs, copy=True):
        """Runs once: ``{name: array}`` (or one array for a one-input model) to
        ``{output name: array}``. Every input must be given, with the exact dtype
        and the session's shape.

        copy=True (default) returns new arrays. copy=False returns read-only views
        of the session's own output memory: no copy, but they are overwritten by
        the next run of this session and invalid once it is closed.
        """
        self._enter()
        try:
            return self._run(inputs, copy)
        finally:
            self._guard.release()

    def _run(self, inputs, copy):
        lib = _lib()
        h = self._handle
        inputs = _as_dict(inputs, h)
        for name in inputs:
            if name not in h.input_index:
                raise NotFound("unknown input '%s'; the model's inputs are: %s"
                               % (name, ", ".join(t.name for t in self._inputs)))
        prepared = []
        for i, t in enumerate(self._inputs):
            if t.name not in inputs:
                raise MissingInput("missing input '%s' (%s %s); given: %s"
                                   % (t.name, t.dtype, _shape_str(t.shape),
                                      ", ".join(map(str, inputs)) or "nothing"))
            prepared.append(_prepare(t.name, inputs[t.name], h.input_codes[i], t.shape))
        ptr = self._ptr
        for i, (kind, obj, addr, nbytes) in enumerate(prepared):
            rank = len(self._in_shapes[i])
            fn = lib.ember_session_bind_input if kind == "bind" else lib.ember_session_set_input
            _check(fn(ptr, i, h.input_codes[i], self._in_dims[i], rank, addr, nbytes))
        _check(lib.ember_session_run(ptr))
        del prepared   # arrays read in place (bind_input) stay referenced until the run returned
        self._ran = True
        out = {}
        info = L.new(L.Tensor)
        outputs = []
        for i, t in enumerate(h.outputs):
            _check(lib.ember_session_output(ptr, i, ctypes.byref(info)))
            shape = tuple(int(info.dims[d]) for d in range(info.rank))
            outputs.append(TensorInfo(t.name, shape, t.dtype))
            out[t.name] = _output(lib, self, i, info, shape, copy)
        self._outputs = outputs
        return out

    def profile(self):
        """Per-node times of the last run (session created with profile=True):
        list of dicts with name, op_type, kernel and time_ns, in execution order."""
        self._enter()
        try:
            lib = _lib()
            res = []
            for i in range(lib.ember_model_node_count(self._handle.ptr)):
                p = L.new(L.NodeProfile)
                _check(lib.ember_session_node_profile(self._ptr, i, ctypes.byref(p)))
                res.append({"name": _str(p.name), "op_type": _str(p.op_type),
                            "kernel": _str(p.kernel), "time_ns": int(p.time_ns)})
            return res
        finally:
            self._guard.release()

    def close(self):
        """Frees the session's memory (views from run(copy=False) become invalid)."""
        if self._ptr is None:
            return
        self._enter()
        try:
            ptr, self._ptr = self._ptr, None
            _lib().ember_session_free(ptr)
            self._handle.release()
            self.model = None
        finally:
            self._guard.release()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        try:
            if getattr(self, "_ptr", None) is not None:
                ptr, self._ptr = self._ptr, None
                L.get().ember_session_free(ptr)
                self._handle.release()
        except Exception:
            pass


def _prepare(name, value, code, shape):
    """(kind, keepalive, address, nbytes) for one input; kind 'bind' (zero copy,
    object must stay alive until the run returns) or 'set' (copied by the library)."""
    np = _numpy()
    if np is None:
        return _prepare_buffer(name, value, code, shape)
    want = _np_dtype(code)
    if isinstance(value, np.ndarray):
        a = value
    elif isinstance(value, (list, tuple, int, float, bool, np.generic)):
        a = _from_python(name, value, want, np)
    else:
        try:
            a = np.asarray(value)
        except Exception:
            raise InvalidArgument("input '%s': expected a numpy array, got %s"
                                  % (name, type(value).__name__)) from None
    if a.dtype != want:
        if a.dtype.kind == want.kind and a.dtype.itemsize == want.itemsize and \
                a.dtype.newbyteorder("=") == want:
            a = a.astype(want)   # other byte order: same values
        else:
            raise DtypeMismatch("input '%s' expects %s, got %s: convert it with "
                                ".astype(np.%s) (ember does not convert dtypes implicitly)"
                                % (name, want.name, a.dtype.name, want.name))
    if a.shape != shape:
        raise ShapeMismatch("input '%s' expects shape %s, got %s"
                            % (name, _shape_str(shape), _shape_str(a.shape)))
    if not a.flags.c_contiguous:
        a = np.ascontiguousarray(a)
    addr = a.ctypes.data if a.size else None
    if a.size == 0:
        return ("set", a, None, 0)
    return ("bind" if a.flags.aligned else "set", a, addr, a.nbytes)


def _from_python(name, value, want, np):
    """A list/tuple/scalar as an array of dtype want, when that loses nothing."""
    try:
        a = np.asarray(value)
    except Exception as e:
        raise InvalidArgument("input '%s': cannot make an array of the value given: %s"
                              % (name, e)) from None
    if a.dtype == want:
        return a
    kind = a.dtype.kind
    if want.kind == "f" and kind in "fiu":
        return a.astype(want)
    if want.kind in "iu" and kind in "iub":
        b = a.astype(want)
        if np.array_equal(b, a):
            return b
        raise DtypeMismatch("input '%s' (%s): the values given do not fit in %s"
                            % (name, want.name, want.name))
    if want.kind == "b" and kind == "b":
        return a
    raise DtypeMismatch("input '%s' expects %s, got values of type %s"
                        % (name, want.name, a.dtype.name))


_BUFFER_CODES = {"f": L.DTYPE_F32, "e": L.DTYPE_F16, "b": L.DTYPE_I8, "B": L.DTYPE_U8,
                 "c": L.DTYPE_U8, "?": L.DTYPE_BOOL}


def _buffer_code(fmt, itemsize):
    fmt = fmt.lstrip("@=<")
    if fmt in _BUFFER_CODES:
        return _BUFFER_CODES[fmt]
    if fmt in ("i", "l", "q", "h") and itemsize in (4, 8):
        return L.DTYPE_I32 if itemsize == 4 else L.DTYPE_I64
    return None


def _prepare_buffer(name, value, code, shape):
    """Without numpy: any buffer of the right element format, shaped or flat."""
    try:
        mv = memoryview(value)
    except TypeError:
        raise InvalidArgument("input '%s': numpy is not installed, so pass a buffer "
                              "(array.array, memoryview, bytes), not %s"
                              % (name, type(value).__name__)) from None
    got = _buffer_code(mv.format, mv.itemsize)
    if got != code:
        raise DtypeMismatch("input '%s' expects %s (buffer format '%s'), got buffer format '%s'"
                            % (name, _DTYPE_NAMES[code], _FORMATS[code], mv.format))
    n = 1
    for d in shape:
        n *= d
    if tuple(mv.shape) != shape and not (mv.ndim == 1 and mv.shape[0] == n):
        raise ShapeMismatch("input '%s' expects shape %s (or a flat buffer of %d elements), "
                            "got %s" % (name, _shape_str(shape), n, _shape_str(mv.shape)))
    data = mv.tobytes()   # C order, one copy
    return ("set", data, data, len(data))


def _output(lib, session, index, info, shape, copy):
    np = _numpy()
    code = info.dtype
    nbytes = info.bytes
    if np is not None:
        dt = _np_dtype(code)
        if nbytes == 0:
            return np.empty(shape, dt)
        if copy:
            a = np.empty(shape, dt)
            _check(lib.ember_session_copy_output(session._ptr, index, a.ctypes.data, a.nbytes))
            return a
        return np.asarray(_View(session, info.data, shape, dt))
    # no numpy: memoryviews
    buf = bytearray(nbytes)
    if nbytes:
        if copy:
            cbuf = (ctypes.c_char * nbytes).from_buffer(buf)
            _check(lib.ember_session_copy_output(session._ptr, index, cbuf, nbytes))
            del cbuf
        else:
            cbuf = (ctypes.c_char * nbytes).from_address(info.data)
            cbuf._session = session
            buf = cbuf
    mv = memoryview(buf).cast("B")
    fmt = _FORMATS[code]
    if fmt == "e":   # memoryview cannot hold half floats: give float32 values
        import array
        import struct
        mv = memoryview(array.array("f", struct.unpack("<%de" % (nbytes // 2), mv)))
        mv = mv.cast("B")
        fmt = "f"
    if 0 in shape:
        return mv.cast(fmt)
    return mv.cast(fmt, shape)
