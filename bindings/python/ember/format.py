"""Writer and reader of the .ember model format, version 1.0.

docs/FORMAT.md is the specification; src/runtime/format.h holds the same
structs in C. This module depends only on the standard library and numpy.

Writing::

    b = ModelBuilder()
    b.input("x", "f32", ["batch", 16])          # str dim: symbolic
    b.constant("w", np.ones((32, 16), np.float32))
    b.node("Gemm", ["x", "w", ""], ["h"], name="fc1",
           attrs={"transB": 1}, activation="relu")
    b.output("h")
    b.metadata(name="mlp", labels=["a", "b"])
    b.save("mlp.ember")

Reading (checks every rule of the specification, raises FormatError)::

    m = read("mlp.ember")
    m["tensors"][1]["data"], m["nodes"][0]["attrs"], m["metadata"]["name"]
"""
import os
import struct
import zlib

import numpy as np

__all__ = ["ModelBuilder", "FormatError", "read", "DTYPES", "ACTIVATIONS"]

MAGIC = b"\x89EMBER\r\n"
VERSION_MAJOR = 1
VERSION_MINOR = 2
HEADER_SIZE = 64
ALIGN = 64
MAX_RANK = 8
NONE = 0xFFFFFFFF

# Section kinds.
STRINGS, TENSORS, NODES, INDICES, ATTRIBUTES, ATTR_DATA, QUANT, METADATA, GRAPH, WEIGHTS = range(1, 11)
# Since 1.2, written by `ember pack` (the C library) only: pre-packed weights and
# per-part checksums. This reader checks them as sections and the whole-file
# checksum, which every writer keeps valid.
PACKED, PACKED_DATA, CHECKSUMS = range(11, 14)
SECTION_KIND_MAX = 13
SECTION_NAMES = {STRINGS: "STRINGS", TENSORS: "TENSORS", NODES: "NODES", INDICES: "INDICES",
                 ATTRIBUTES: "ATTRIBUTES", ATTR_DATA: "ATTR_DATA", QUANT: "QUANT",
                 METADATA: "METADATA", GRAPH: "GRAPH", WEIGHTS: "WEIGHTS", PACKED: "PACKED",
                 PACKED_DATA: "PACKED_DATA", CHECKSUMS: "CHECKSUMS"}
REQUIRED_SECTIONS = (STRINGS, TENSORS, NODES, INDICES, GRAPH)

TENSOR_CONSTANT = 1

# dtype name -> (number, numpy dtype)
DTYPES = {"f32": 1, "f16": 2, "i8": 3, "u8": 4, "i32": 5, "i64": 6, "bool": 7}
DTYPE_NAMES = {v: k for k, v in DTYPES.items()}
NUMPY_DTYPES = {1: np.dtype("<f4"), 2: np.dtype("<f2"), 3: np.dtype("i1"), 4: np.dtype("u1"),
                5: np.dtype("<i4"), 6: np.dtype("<i8"), 7: np.dtype("?")}
DTYPE_SIZES = {k: v.itemsize for k, v in NUMPY_DTYPES.items()}
_DTYPE_ALIASES = {"float32": "f32", "float": "f32", "float16": "f16", "half": "f16",
                  "int8": "i8", "uint8": "u8", "int32": "i32", "int64": "i64", "bool_": "bool"}

ACTIVATIONS = {"none": 0, "relu": 1, "clip": 2, "sigmoid": 3, "hard_sigmoid": 4,
               "hard_swish": 5, "leaky_relu": 6, "tanh": 7, "silu": 8}
ACTIVATION_NAMES = {v: k for k, v in ACTIVATIONS.items()}
ACTIVATION_MAX = 8
# Operators whose output an activation may be fused into.
FUSABLE_OPS = ("Conv", "ConvTranspose", "Gemm", "MatMul")

ATTR_INT, ATTR_FLOAT, ATTR_STRING, ATTR_INTS, ATTR_FLOATS = range(1, 6)
ATTR_TYPE_NAMES = {1: "INT", 2: "FLOAT", 3: "STRING", 4: "INTS", 5: "FLOATS"}

# struct layouts (little-endian, no implicit padding)
_HEADER = struct.Struct("<8sHHIQQIII5I")     # 64
_SECTION = struct.Struct("<IIQQ")            # 24
_TENSOR = struct.Struct("<IBBBBIIQQ8q8I")    # 128
_NODE = struct.Struct("<9Iff I")             # 48
_ATTR = struct.Struct("<IIQII")              # 24
_QUANT = struct.Struct("<iIQQII")            # 32
_GRAPH = struct.Struct("<IIII")              # 16
_META = struct.Struct("<II")                 # 8
_INDEX = struct.Struct("<I")                 # 4

RECORD_SIZES = {STRINGS: 1, TENSORS: _TENSOR.size, NODES: _NODE.size, INDICES: _INDEX.size,
                ATTRIBUTES: _ATTR.size, ATTR_DATA: 1, QUANT: _QUANT.size, METADATA: _META.size,
                GRAPH: _GRAPH.size, WEIGHTS: 1, PACKED: 64, PACKED_DATA: 1, CHECKSUMS: 16}

assert _HEADER.size == 64 and _SECTION.size == 24 and _TENSOR.size == 128
assert _NODE.size == 48 and _ATTR.size == 24 and _QUANT.size == 32
assert _GRAPH.size == 16 and _META.size == 8


class FormatError(ValueError):
    """A file (or a model being built) breaks a rule of docs/FORMAT.md."""


def _align(n, a):
    return (n + a - 1) // a * a


def dtype_number(dtype):
    """ember dtype number of a name ("f32"), numpy dtype, or number."""
    if isinstance(dtype, (int, np.integer)) and not isinstance(dtype, bool):
        if int(dtype) in DTYPE_NAMES:
            return int(dtype)
        raise FormatError("unknown dtype number %r" % dtype)
    if isinstance(dtype, str):
        name = _DTYPE_ALIASES.get(dtype, dtype)
        if name in DTYPES:
            return DTYPES[name]
    try:
        npd = np.dtype(dtype)
    except TypeError:
        raise FormatError("unknown dtype %r" % (dtype,)) from None
    for num, d in NUMPY_DTYPES.items():
        if npd == d or npd.newbyteorder("<") == d:
            return num
    raise FormatError("dtype %s has no ember equivalent" % npd)


# --------------------------------------------------------------------------- writer

class _Strings:
    def __init__(self):
        self.data = bytearray(b"\0")
        self.offsets = {"": 0}

    def add(self, s):
        if not isinstance(s, str):
            raise FormatError("string expected, got %r" % (s,))
        off = self.offsets.get(s)
        if off is None:
            b = s.encode("utf-8")
            if b"\0" in b:
                raise FormatError("string %r contains a NUL byte" % s)
            off = len(self.data)
            self.data += b + b"\0"
            self.offsets[s] = off
        return off


class _Tensor:
    __slots__ = ("name", "dtype", "shape", "data", "quant", "is_input", "declared")

    def __init__(self, name):
        self.name = name
        self.dtype = DTYPES["f32"]
        self.shape = []        # list of int or str
        self.data = None       # numpy array for a constant
        self.quant = None      # dict(scale, zero_point, axis)
        self.is_input = False
        self.declared = False


class ModelBuilder:
    """Collects a graph and writes it as a .ember file (see module docstring)."""

    def __init__(self):
        self._tensors = {}      # name -> _Tensor, in order of first mention
        self._nodes = []
        self._inputs = []
        self._outputs = []
        self._meta = {}

    # -- tensors
    def _get(self, name):
        if not isinstance(name, str) or not name:
            raise FormatError("tensor names must be non-empty strings, got %r" % (name,))
        t = self._tensors.get(name)
        if t is None:
            t = self._tensors[name] = _Tensor(name)
        return t

    def _declare(self, name):
        t = self._get(name)
        if t.declared:
            raise FormatError("tensor %r declared twice" % name)
        t.declared = True
        return t

    @staticmethod
    def _shape(shape):
        shape = list(shape)
        if len(shape) > MAX_RANK:
            raise FormatError("rank %d exceeds %d" % (len(shape), MAX_RANK))
        out = []
        for d in shape:
            if isinstance(d, str):
                if not d:
                    raise FormatError("a symbolic dimension needs a non-empty name")
                out.append(d)
            elif isinstance(d, (int, np.integer)) and int(d) >= 0:
                out.append(int(d))
            else:
                raise FormatError("dimension %r is neither a name nor an int >= 0" % (d,))
        return out

    @staticmethod
    def _quant(q):
        if q is None:
            return None
        scale = np.ascontiguousarray(np.asarray(q["scale"], dtype="<f4").reshape(-1))
        zp = q.get("zero_point")
        zp = np.zeros(scale.shape, "<i4") if zp is None else np.asarray(zp)
        if zp.dtype.kind not in "iub":
            raise FormatError("zero_point must be integers")
        zp = np.ascontiguousarray(zp.astype("<i4").reshape(-1))
        axis = q.get("axis")
        axis = -1 if axis is None else int(axis)
        if axis < -1:
            raise FormatError("quant axis must be None (per tensor) or >= 0")
        if axis == -1 and scale.size != 1:
            raise FormatError("per-tensor quantization needs exactly one scale")
        if scale.size == 0 or zp.size != scale.size:
            raise FormatError("quant scale and zero_point need the same non-zero length")
        return {"scale": scale, "zero_point": zp, "axis": axis}

    def input(self, name, dtype, shape):
        """A graph input: dtype name and shape (ints fixed, strs symbolic)."""
        t = self._declare(name)
        t.dtype = dtype_number(dtype)
        t.shape = self._shape(shape)
        t.is_input = True
        self._inputs.append(name)
        return name

    def constant(self, name, array, quant=None):
        """A constant (weight) tensor; dtype follows the array's dtype.
        quant: dict(scale=, zero_point=, axis=None|int) for quantized data."""
        t = self._declare(name)
        a = np.asarray(array)
        t.dtype = dtype_number(a.dtype)
        a = np.array(a, dtype=NUMPY_DTYPES[t.dtype], order="C")  # keeps rank 0
        t.data = a
        t.shape = list(a.shape)
        if len(t.shape) > MAX_RANK:
            raise FormatError("constant %r has rank %d > %d" % (name, a.ndim, MAX_RANK))
        t.quant = self._quant(quant)
        return name

    def tensor(self, name, dtype="f32", shape=None, quant=None):
        """Declares an activation (non-constant, non-input) tensor's dtype and,
        optionally, a shape (informative: the runtime infers shapes)."""
        t = self._declare(name)
        t.dtype = dtype_number(dtype)
        t.shape = self._shape(shape) if shape is not None else []
        t.quant = self._quant(quant)
        return name

    # -- nodes
    @staticmethod
    def _activation(act):
        if act is None:
            return 0, 0.0, 0.0
        if isinstance(act, str):
            act = (act,)
        act = tuple(act)
        kind = ACTIVATIONS.get(act[0])
        if kind is None:
            raise FormatError("unknown activation %r" % (act[0],))
        params = [float(p) for p in act[1:]]
        defaults = {"clip": (float("-inf"), float("inf")), "hard_sigmoid": (0.2, 0.5),
                    "leaky_relu": (0.01,)}.get(act[0], ())
        if len(params) > len(defaults):
            raise FormatError("activation %r takes %d parameters" % (act[0], len(defaults)))
        params += list(defaults[len(params):])
        params += [0.0] * (2 - len(params))
        return kind, params[0], params[1]

    def node(self, op_type, inputs, outputs, name="", attrs=None, activation=None):
        """An operator. "" in inputs is an absent optional input."""
        if not isinstance(op_type, str) or not op_type:
            raise FormatError("op_type must be a non-empty string")
        ins = []
        for i in inputs:
            if i == "" or i is None:
                ins.append("")
            else:
                self._get(i)
                ins.append(i)
        outs = list(outputs)
        if not outs:
            raise FormatError("node %r (%s) has no outputs" % (name, op_type))
        for o in outs:
            self._get(o)
        act = self._activation(activation)
        if act[0] != 0 and op_type not in FUSABLE_OPS:
            raise FormatError("activation can only be fused into %s, not %s"
                              % ("/".join(FUSABLE_OPS), op_type))
        attrs = dict(attrs or {})
        for k, v in attrs.items():
            if not isinstance(k, str) or not k:
                raise FormatError("attribute names must be non-empty strings")
            self._attr_value(k, v)
        self._nodes.append({"op_type": op_type, "name": name or "", "inputs": ins,
                            "outputs": outs, "attrs": attrs, "activation": act})
        return outs[0] if len(outs) == 1 else outs

    def output(self, name):
        """Marks a tensor as a graph output."""
        self._get(name)
        if name in self._outputs:
            raise FormatError("output %r given twice" % name)
        self._outputs.append(name)
        return name

    def metadata(self, **kv):
        """Metadata entries; labels=[...] is stored newline-joined under "labels"."""
        for k, v in kv.items():
            if k == "labels" and not isinstance(v, str):
                v = "\n".join(str(x) for x in v)
            if not isinstance(v, str):
                raise FormatError("metadata %r must be a string" % k)
            self._meta[k] = v

    # -- serialisation
    @staticmethod
    def _attr_value(name, v):
        """(type, payload) of a python attribute value."""
        if isinstance(v, (bool, np.bool_)):
            return ATTR_INT, int(v)
        if isinstance(v, (int, np.integer)):
            return ATTR_INT, int(v)
        if isinstance(v, (float, np.floating)):
            return ATTR_FLOAT, float(v)
        if isinstance(v, str):
            return ATTR_STRING, v
        if isinstance(v, np.ndarray):
            v = v.reshape(-1).tolist()
        if isinstance(v, (list, tuple)):
            if all(isinstance(x, (bool, int, np.integer)) for x in v):
                return ATTR_INTS, [int(x) for x in v]
            if all(isinstance(x, (bool, int, float, np.integer, np.floating)) for x in v):
                return ATTR_FLOATS, [float(x) for x in v]
        raise FormatError("attribute %r: unsupported value %r" % (name, v))

    def to_bytes(self, verify=True):
        """The file's bytes. verify=True reads them back with read() first."""
        if not self._outputs:
            raise FormatError("the graph has no outputs")
        strings = _Strings()
        attr_data = bytearray()
        weights = bytearray()
        quant_recs = bytearray()
        names = list(self._tensors)
        index_of = {n: i for i, n in enumerate(names)}

        def put_data(buf, arr, align):
            buf += b"\0" * (_align(len(buf), align) - len(buf))
            off = len(buf)
            buf += arr.tobytes()
            return off

        tensor_recs = bytearray()
        for n in names:
            t = self._tensors[n]
            name_ref = strings.add(n)
            dims = [0] * MAX_RANK
            dim_names = [0] * MAX_RANK
            for i, d in enumerate(t.shape):
                if isinstance(d, str):
                    dims[i], dim_names[i] = -1, strings.add(d)
                else:
                    dims[i] = d
            flags = 0
            data_off = data_size = 0
            if t.data is not None:
                flags = TENSOR_CONSTANT
                weights += b"\0" * (_align(len(weights), ALIGN) - len(weights))
                data_off = len(weights)
                data_size = t.data.nbytes
                weights += t.data.tobytes()
            q = NONE
            if t.quant is not None:
                qd = t.quant
                s_off = put_data(attr_data, qd["scale"], 4)
                z_off = put_data(attr_data, qd["zero_point"], 4)
                q = len(quant_recs) // _QUANT.size
                quant_recs += _QUANT.pack(qd["axis"], qd["scale"].size, s_off, z_off, 0, 0)
            tensor_recs += _TENSOR.pack(name_ref, t.dtype, len(t.shape), flags, 0, q, 0,
                                        data_off, data_size, *dims, *dim_names)

        indices = []

        def put_indices(lst):
            first = len(indices)
            for n in lst:
                indices.append(NONE if n == "" else index_of[n])
            return first, len(lst)

        node_recs = bytearray()
        attr_recs = bytearray()
        for nd in self._nodes:
            in_first, in_count = put_indices(nd["inputs"])
            out_first, out_count = put_indices(nd["outputs"])
            attr_first = len(attr_recs) // _ATTR.size
            for k, v in nd["attrs"].items():
                typ, val = self._attr_value(k, v)
                count = 0
                if typ == ATTR_INT:
                    value = val & 0xFFFFFFFFFFFFFFFF
                elif typ == ATTR_FLOAT:
                    value = struct.unpack("<I", struct.pack("<f", val))[0]
                elif typ == ATTR_STRING:
                    value = strings.add(val)
                elif typ == ATTR_INTS:
                    value = put_data(attr_data, np.asarray(val, "<i8"), 8)
                    count = len(val)
                else:
                    value = put_data(attr_data, np.asarray(val, "<f4"), 4)
                    count = len(val)
                attr_recs += _ATTR.pack(strings.add(k), typ, value, count, 0)
            kind, alpha, beta = nd["activation"]
            node_recs += _NODE.pack(strings.add(nd["name"]), strings.add(nd["op_type"]),
                                    in_first, in_count, out_first, out_count,
                                    attr_first, len(nd["attrs"]), kind, alpha, beta, 0)

        g_in = put_indices(self._inputs)
        g_out = put_indices(self._outputs)
        graph_rec = _GRAPH.pack(g_in[0], g_in[1], g_out[0], g_out[1])
        meta_recs = bytearray()
        for k, v in self._meta.items():
            meta_recs += _META.pack(strings.add(k), strings.add(v))
        index_bytes = struct.pack("<%dI" % len(indices), *indices)

        sections = [(STRINGS, bytes(strings.data)), (TENSORS, bytes(tensor_recs)),
                    (NODES, bytes(node_recs)), (INDICES, index_bytes),
                    (ATTRIBUTES, bytes(attr_recs)), (ATTR_DATA, bytes(attr_data)),
                    (QUANT, bytes(quant_recs)), (METADATA, bytes(meta_recs)),
                    (GRAPH, graph_rec), (WEIGHTS, bytes(weights))]
        sections = [(k, d) for k, d in sections if d or k in REQUIRED_SECTIONS]
        table_end = HEADER_SIZE + _SECTION.size * len(sections)
        out = bytearray(_align(table_end, ALIGN))
        table = bytearray()
        for kind, d in sections:
            out += b"\0" * (_align(len(out), ALIGN) - len(out))
            table += _SECTION.pack(kind, 0, len(out), len(d))
            out += d
        out[HEADER_SIZE:table_end] = table
        crc = zlib.crc32(bytes(out[HEADER_SIZE:])) & 0xFFFFFFFF
        out[:HEADER_SIZE] = _HEADER.pack(MAGIC, VERSION_MAJOR, VERSION_MINOR, HEADER_SIZE,
                                         len(out), HEADER_SIZE, len(sections), crc, 0,
                                         0, 0, 0, 0, 0)
        data = bytes(out)
        if verify:
            read(data)
        return data

    def save(self, path, verify=True):
        data = self.to_bytes(verify=verify)
        with open(path, "wb") as f:
            f.write(data)
        return len(data)


# --------------------------------------------------------------------------- reader

def _fail(msg, *args):
    raise FormatError(msg % args if args else msg)


def _crc_fixup(data):
    """Recomputes the checksum of a (possibly modified) file; for tests that
    need a file whose only defect is something other than the checksum."""
    data = bytearray(data)
    struct.pack_into("<I", data, 36, zlib.crc32(bytes(data[HEADER_SIZE:])) & 0xFFFFFFFF)
    return bytes(data)


def read(src):
    """Reads and verifies a .ember file (bytes, or a path). Returns a dict:
    header, sections, tensors, nodes, inputs, outputs, metadata, quant.
    Raises FormatError naming the first broken rule."""
    if isinstance(src, (str, os.PathLike)):
        with open(src, "rb") as f:
            data = f.read()
    else:
        data = bytes(src)
    n = len(data)

    # header
    if n < HEADER_SIZE:
        _fail("file is %d bytes, shorter than the 64-byte header", n)
    (magic, vmaj, vmin, hsize, fsize, table_off, sec_count, checksum, flags,
     *hres) = _HEADER.unpack_from(data, 0)
    if magic != MAGIC:
        _fail("bad magic %r", magic)
    if vmaj != VERSION_MAJOR:
        _fail("major version %d is not supported (this reader reads %d.x)", vmaj, VERSION_MAJOR)
    if hsize != HEADER_SIZE:
        _fail("header_size %d, expected 64", hsize)
    if fsize != n:
        _fail("header file_size %d but the file is %d bytes", fsize, n)
    if table_off != HEADER_SIZE:
        _fail("section_table_offset %d, expected 64", table_off)
    if flags != 0 or any(hres):
        _fail("header flags/reserved must be 0")
    table_end = HEADER_SIZE + sec_count * _SECTION.size
    if sec_count == 0 or table_end > n:
        _fail("section table (%d entries) does not fit in the file", sec_count)
    crc = zlib.crc32(data[HEADER_SIZE:]) & 0xFFFFFFFF
    if crc != checksum:
        _fail("checksum mismatch: header 0x%08x, computed 0x%08x", checksum, crc)

    # section table
    sections = []
    by_kind = {}
    for i in range(sec_count):
        kind, res, off, size = _SECTION.unpack_from(data, HEADER_SIZE + i * _SECTION.size)
        if kind == 0:
            _fail("section %d has kind 0", i)
        if res != 0:
            _fail("section %d reserved field is not 0", i)
        if off % ALIGN:
            _fail("section %d offset %d is not 64-aligned", i, off)
        if off < table_end or off > n or size > n - off:
            _fail("section %d [%d, +%d) is outside the file or over the header/table", i, off, size)
        if kind in by_kind:
            _fail("section kind %d appears twice", kind)
        by_kind[kind] = (off, size)
        sections.append({"kind": kind, "name": SECTION_NAMES.get(kind, "unknown"),
                         "offset": off, "size": size})
    spans = sorted((s["offset"], s["offset"] + s["size"]) for s in sections if s["size"])
    pos = table_end
    for a, b in spans:
        if a < pos:
            _fail("sections overlap at offset %d", a)
        if any(data[pos:a]):
            _fail("non-zero padding between offsets %d and %d", pos, a)
        pos = b
    if any(data[pos:]):
        _fail("non-zero bytes after the last section")
    for k in REQUIRED_SECTIONS:
        if k not in by_kind:
            _fail("required section %s is missing", SECTION_NAMES[k])
    for k, (off, size) in by_kind.items():
        if k <= SECTION_KIND_MAX and size % RECORD_SIZES[k]:
            _fail("section %s size %d is not a multiple of %d", SECTION_NAMES[k], size,
                  RECORD_SIZES[k])
        if k <= SECTION_KIND_MAX and size // RECORD_SIZES[k] > 0xFFFFFFFE and \
                k not in (STRINGS, ATTR_DATA, WEIGHTS, PACKED_DATA):
            _fail("section %s has too many records", SECTION_NAMES[k])

    def sec(k):
        off, size = by_kind.get(k, (0, 0))
        return data[off:off + size]

    strings = sec(STRINGS)
    if len(strings) < 1 or strings[0] != 0:
        _fail("STRINGS must begin with a NUL byte")

    def string(ref, what, nonempty=False):
        if ref >= len(strings):
            _fail("%s: string offset %d outside STRINGS (%d bytes)", what, ref, len(strings))
        end = strings.find(b"\0", ref)
        if end < 0:
            _fail("%s: string at %d is not NUL-terminated inside STRINGS", what, ref)
        s = strings[ref:end].decode("utf-8", errors="replace")
        if nonempty and not s:
            _fail("%s: empty string", what)
        return s

    attr_data = sec(ATTR_DATA)
    weights = sec(WEIGHTS)
    weights_off = by_kind.get(WEIGHTS, (0, 0))[0]

    def adata(off, count, itemsize, align, fmt, what):
        if off % align:
            _fail("%s: ATTR_DATA offset %d is not %d-aligned", what, off, align)
        if off > len(attr_data) or count * itemsize > len(attr_data) - off:
            _fail("%s: %d elements at %d overflow ATTR_DATA (%d bytes)", what, count, off,
                  len(attr_data))
        return np.frombuffer(attr_data, dtype=fmt, count=count, offset=off).copy()

    # indices
    idx_raw = sec(INDICES)
    indices = list(struct.unpack("<%dI" % (len(idx_raw) // 4), idx_raw))

    def index_range(first, count, what):
        if first > len(indices) or count > len(indices) - first:
            _fail("%s: range [%d, +%d) outside INDICES (%d entries)", what, first, count,
                  len(indices))
        return indices[first:first + count]

    # quant
    qraw = sec(QUANT)
    quants = []
    for i in range(len(qraw) // _QUANT.size):
        axis, count, s_off, z_off, block, res = _QUANT.unpack_from(qraw, i * _QUANT.size)
        what = "quant %d" % i
        if block != 0 or res != 0:
            _fail("%s: block_size/reserved must be 0", what)
        if axis < -1:
            _fail("%s: axis %d", what, axis)
        if count == 0 or (axis == -1 and count != 1):
            _fail("%s: count %d invalid for axis %d", what, count, axis)
        quants.append({"axis": None if axis == -1 else axis, "count": count,
                       "scale": adata(s_off, count, 4, 4, "<f4", what + " scale"),
                       "zero_point": adata(z_off, count, 4, 4, "<i4", what + " zero_point")})

    # tensors
    traw = sec(TENSORS)
    tensors = []
    seen = set()
    for i in range(len(traw) // _TENSOR.size):
        rec = _TENSOR.unpack_from(traw, i * _TENSOR.size)
        name_ref, dtype, rank, tflags, res0, q, res1, d_off, d_size = rec[:9]
        dims = list(rec[9:17])
        dnames = list(rec[17:25])
        name = string(name_ref, "tensor %d name" % i, nonempty=True)
        what = "tensor %d (%s)" % (i, name)
        if name in seen:
            _fail("%s: name is not unique", what)
        seen.add(name)
        if dtype not in DTYPE_NAMES:
            _fail("%s: dtype %d", what, dtype)
        if rank > MAX_RANK:
            _fail("%s: rank %d > %d", what, rank, MAX_RANK)
        if res0 or res1:
            _fail("%s: reserved fields must be 0", what)
        if tflags & ~TENSOR_CONSTANT:
            _fail("%s: unknown flags 0x%x", what, tflags)
        if any(dims[rank:]) or any(dnames[rank:]):
            _fail("%s: dims beyond rank must be 0", what)
        shape = []
        for d, dn in zip(dims[:rank], dnames[:rank]):
            if d >= 0 and dn == 0:
                shape.append(d)
            elif d == -1 and dn != 0:
                shape.append(string(dn, what + " dim name", nonempty=True))
            else:
                _fail("%s: dimension %d with dim_name %d (want >= 0 with 0, or -1 with a name)",
                      what, d, dn)
        const = bool(tflags & TENSOR_CONSTANT)
        arr = None
        if const:
            if any(isinstance(d, str) for d in shape):
                _fail("%s: a constant cannot have symbolic dimensions", what)
            numel = 1
            for d in shape:
                numel *= d
            if d_size != numel * DTYPE_SIZES[dtype]:
                _fail("%s: data_size %d, expected %d", what, d_size, numel * DTYPE_SIZES[dtype])
            if d_off % ALIGN:
                _fail("%s: data_offset %d is not 64-aligned", what, d_off)
            if d_off > len(weights) or d_size > len(weights) - d_off:
                _fail("%s: data [%d, +%d) outside WEIGHTS (%d bytes)", what, d_off, d_size,
                      len(weights))
            arr = np.frombuffer(weights, dtype=NUMPY_DTYPES[dtype], count=numel,
                                offset=d_off).reshape(shape).copy()
        elif d_off or d_size:
            _fail("%s: a non-constant tensor must have data_offset = data_size = 0", what)
        quant = None
        if q != NONE:
            if q >= len(quants):
                _fail("%s: quant index %d out of range", what, q)
            quant = quants[q]
            if quant["axis"] is not None:
                if quant["axis"] >= rank:
                    _fail("%s: quant axis %d >= rank %d", what, quant["axis"], rank)
                if dims[quant["axis"]] != quant["count"]:
                    _fail("%s: quant count %d != dims[%d]", what, quant["count"], quant["axis"])
        tensors.append({"index": i, "name": name, "dtype": DTYPE_NAMES[dtype],
                        "dtype_id": dtype, "rank": rank, "shape": shape, "flags": tflags,
                        "constant": const, "data_offset": d_off, "data_size": d_size,
                        "absolute_offset": weights_off + d_off if const else None,
                        "quant": quant, "quant_index": None if q == NONE else q, "data": arr})

    def tensor_ref(ix, what, optional=False):
        if ix == NONE and optional:
            return None
        if ix >= len(tensors):
            _fail("%s: tensor index %d out of range (%d tensors)", what, ix, len(tensors))
        return ix

    # attributes
    araw = sec(ATTRIBUTES)
    attrs = []
    for i in range(len(araw) // _ATTR.size):
        name_ref, typ, value, count, res = _ATTR.unpack_from(araw, i * _ATTR.size)
        name = string(name_ref, "attribute %d name" % i, nonempty=True)
        what = "attribute %d (%s)" % (i, name)
        if res:
            _fail("%s: reserved must be 0", what)
        if typ == ATTR_INT:
            v = value - (1 << 64) if value >= 1 << 63 else value
        elif typ == ATTR_FLOAT:
            if value >> 32:
                _fail("%s: FLOAT high 32 bits must be 0", what)
            v = struct.unpack("<f", struct.pack("<I", value))[0]
        elif typ == ATTR_STRING:
            v = string(value, what)
        elif typ == ATTR_INTS:
            v = [int(x) for x in adata(value, count, 8, 8, "<i8", what)]
        elif typ == ATTR_FLOATS:
            v = [float(x) for x in adata(value, count, 4, 4, "<f4", what)]
        else:
            _fail("%s: type %d", what, typ)
        if typ in (ATTR_INT, ATTR_FLOAT, ATTR_STRING) and count != 0:
            _fail("%s: count must be 0 for a scalar type", what)
        attrs.append((name, typ, v))

    # nodes
    nraw = sec(NODES)
    nodes = []
    for i in range(len(nraw) // _NODE.size):
        (name_ref, op_ref, in_first, in_count, out_first, out_count, a_first, a_count,
         act, alpha, beta, res) = _NODE.unpack_from(nraw, i * _NODE.size)
        name = string(name_ref, "node %d name" % i)
        op = string(op_ref, "node %d op_type" % i, nonempty=True)
        what = "node %d (%s %s)" % (i, op, name)
        if res:
            _fail("%s: reserved must be 0", what)
        if act > ACTIVATION_MAX:
            _fail("%s: activation %d", what, act)
        ins = [tensor_ref(x, what + " input", optional=True)
               for x in index_range(in_first, in_count, what + " inputs")]
        outs = [tensor_ref(x, what + " output")
                for x in index_range(out_first, out_count, what + " outputs")]
        if not outs:
            _fail("%s: no outputs", what)
        if a_first > len(attrs) or a_count > len(attrs) - a_first:
            _fail("%s: attribute range [%d, +%d) outside ATTRIBUTES", what, a_first, a_count)
        nattrs = {}
        types = {}
        for an, at, av in attrs[a_first:a_first + a_count]:
            if an in nattrs:
                _fail("%s: attribute %s given twice", what, an)
            nattrs[an] = av
            types[an] = ATTR_TYPE_NAMES[at]
        nodes.append({"index": i, "name": name, "op_type": op,
                      "inputs": ["" if x is None else tensors[x]["name"] for x in ins],
                      "outputs": [tensors[x]["name"] for x in outs],
                      "input_ids": ins, "output_ids": outs,
                      "attrs": nattrs, "attr_types": types,
                      "activation": ACTIVATION_NAMES[act], "act_alpha": alpha,
                      "act_beta": beta})

    # metadata
    mraw = sec(METADATA)
    metadata = {}
    for i in range(len(mraw) // _META.size):
        k_ref, v_ref = _META.unpack_from(mraw, i * _META.size)
        k = string(k_ref, "metadata %d key" % i, nonempty=True)
        if k in metadata:
            _fail("metadata key %r appears twice", k)
        metadata[k] = string(v_ref, "metadata %r value" % k)

    # graph
    graw = sec(GRAPH)
    if len(graw) != _GRAPH.size:
        _fail("GRAPH must hold exactly one record, it holds %d bytes", len(graw))
    gi_first, gi_count, go_first, go_count = _GRAPH.unpack(graw)
    g_in = [tensor_ref(x, "graph input") for x in index_range(gi_first, gi_count, "graph inputs")]
    g_out = [tensor_ref(x, "graph output")
             for x in index_range(go_first, go_count, "graph outputs")]
    if len(set(g_in)) != len(g_in):
        _fail("a graph input is listed twice")
    if not g_out:
        _fail("the graph has no outputs")
    if len(set(g_out)) != len(g_out):
        _fail("a graph output is listed twice")
    for x in g_in:
        if tensors[x]["constant"]:
            _fail("graph input %s is a constant", tensors[x]["name"])

    producer = {}
    for nd in nodes:
        for x in nd["output_ids"]:
            t = tensors[x]
            if x in producer:
                _fail("tensor %s is produced twice", t["name"])
            if t["constant"] or x in g_in:
                _fail("tensor %s is a constant or graph input but node %d produces it",
                      t["name"], nd["index"])
            producer[x] = nd["index"]
    avail = {t["index"] for t in tensors if t["constant"]} | set(g_in)
    for nd in nodes:
        for x in nd["input_ids"]:
            if x is not None and x not in avail:
                _fail("node %d (%s %s): input %s is not a constant, a graph input or the "
                      "output of an earlier node", nd["index"], nd["op_type"], nd["name"],
                      tensors[x]["name"])
        avail.update(nd["output_ids"])
    for x in g_out:
        if x not in producer and x not in g_in:
            _fail("graph output %s is produced by no node and is not a graph input",
                  tensors[x]["name"])

    return {
        "header": {"magic": magic, "version_major": vmaj, "version_minor": vmin,
                   "header_size": hsize, "file_size": fsize, "section_table_offset": table_off,
                   "section_count": sec_count, "checksum": checksum, "flags": flags},
        "sections": sections,
        "tensors": tensors,
        "tensor_by_name": {t["name"]: t for t in tensors},
        "nodes": nodes,
        "inputs": [tensors[x]["name"] for x in g_in],
        "outputs": [tensors[x]["name"] for x in g_out],
        "metadata": metadata,
        "labels": metadata["labels"].split("\n") if "labels" in metadata else [],
        "quant": quants,
    }
