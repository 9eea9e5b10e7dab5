"""ONNX -> .ember converter.

    python3 -m ember.convert model.onnx model.ember [--name N] [--version V]
        [--labels FILE] [--description TEXT] [--freeze NAME=FILE.npy ...] [--quiet]

or, from Python::

    from ember.convert import convert
    summary = convert("model.onnx", "model.ember", name="digits")

What it does, in order:

1. Loads the model (external data is read relative to the model's folder) and
   checks that it is an ONNX model whose tensors have dtypes ember knows.
2. Turns Constant nodes into constants and frozen graph inputs
   (``freeze_inputs``) into constants.
3. Repeats, until nothing changes: ONNX shape inference, then constant folding
   (every node whose inputs are all constants is evaluated with numpy, and
   Shape/Size of a tensor whose shape is static fold too), a partial
   evaluation of shape arithmetic on tensors with a symbolic dimension (so a
   Reshape or Expand whose target holds the batch size gets 0 / -1 / 1 in its
   place and the batch stays symbolic), and removal of dead nodes.
4. Rewrites old-opset forms into ones the runtime accepts (Upsample and
   Resize-10 into Resize, Softmax/LogSoftmax before opset 13, Sum into Adds,
   Resize's axes, ...), drops Identity and Dropout, folds BatchNormalization
   into a preceding Conv/ConvTranspose/Gemm and fuses a following activation
   into Conv/ConvTranspose/Gemm/MatMul.
5. Checks that every operator is one the runtime registers (else one error
   listing them all, and no file), that shape-determining inputs are
   constants, and writes the file through a temporary file in the same folder
   (so a failed conversion leaves nothing behind).

Graph input and output names are kept exactly.
"""
import argparse
import math
import os
import sys
import tempfile

import numpy as np

from . import format as emf

__all__ = ["convert", "ConversionError", "UnsupportedError", "SUPPORTED_OPS", "main"]

PRODUCER = "ember-convert 0.1"

# The operators the runtime registers (src/runtime/ops/*/*.c); a test checks
# that this list equals the C registry.
SUPPORTED_OPS = sorted([
    # elementwise
    "Add", "Sub", "Mul", "Div", "Pow",
    "Sqrt", "Exp", "Log", "Neg", "Abs", "Reciprocal",
    "Relu", "LeakyRelu", "Elu", "Sigmoid", "Tanh", "HardSigmoid", "HardSwish", "Gelu", "Erf",
    "Clip", "PRelu", "Where", "Cast",
    "ReduceSum", "ReduceMean", "ReduceMax", "ArgMax",
    "Less", "LessOrEqual", "Greater", "GreaterOrEqual", "Equal", "Min", "Max",
    # nn
    "Conv", "ConvTranspose", "Gemm", "MatMul", "MaxPool", "AveragePool",
    "GlobalAveragePool", "GlobalMaxPool", "BatchNormalization", "InstanceNormalization",
    "LayerNormalization", "Softmax", "LogSoftmax", "Resize",
    # tensor
    "Concat", "Expand", "Flatten", "Gather", "Identity", "Pad", "Reshape", "Slice", "Split",
    "Squeeze", "Transpose", "Unsqueeze",
    # ember's own (docs/FORMAT.md)
    "ember.Attention",
])

# ONNX TensorProto data type -> ember dtype name
ONNX_DTYPES = {1: "f32", 10: "f16", 3: "i8", 2: "u8", 6: "i32", 7: "i64", 9: "bool"}
ONNX_DTYPE_NAMES = {0: "UNDEFINED", 1: "FLOAT", 2: "UINT8", 3: "INT8", 4: "UINT16", 5: "INT16",
                    6: "INT32", 7: "INT64", 8: "STRING", 9: "BOOL", 10: "FLOAT16", 11: "DOUBLE",
                    12: "UINT32", 13: "UINT64", 14: "COMPLEX64", 15: "COMPLEX128",
                    16: "BFLOAT16"}
NP_OF_ONNX = {1: np.float32, 2: np.uint8, 3: np.int8, 4: np.uint16, 5: np.int16, 6: np.int32,
              7: np.int64, 9: np.bool_, 10: np.float16, 11: np.float64, 12: np.uint32,
              13: np.uint64}

FUSABLE = ("Conv", "ConvTranspose", "Gemm", "MatMul")
ACTIVATION_OPS = ("Relu", "Clip", "HardSwish", "HardSigmoid", "Sigmoid", "LeakyRelu", "Tanh")

# Inputs that the runtime needs as constants: op -> input indices.
CONST_INPUTS = {"Reshape": (1,), "Expand": (1,), "Slice": (1, 2, 3, 4), "Pad": (1, 3),
                "Split": (1,), "Squeeze": (1,), "Unsqueeze": (1,), "ReduceSum": (1,),
                "ReduceMean": (1,), "ReduceMax": (1,), "Resize": (2, 3)}


class ConversionError(Exception):
    """The model cannot be converted (the message says why, in one line)."""


class UnsupportedError(ConversionError):
    """The model uses operators (or forms of them) the runtime does not support."""


def _onnx():
    try:
        import onnx  # noqa: F401
        from onnx import numpy_helper  # noqa: F401
    except ImportError:
        raise ConversionError("the onnx Python package is required (apt install python3-onnx "
                              "or pip install onnx)") from None
    return onnx


def _dtype_name(t):
    return ONNX_DTYPE_NAMES.get(t, str(t))


def _onnx_of_np(dt):
    dt = np.dtype(dt)
    for k, v in NP_OF_ONNX.items():
        if np.dtype(v) == dt:
            return k
    return 0


# --------------------------------------------------------------------------- graph

class Node:
    __slots__ = ("op", "name", "inputs", "outputs", "attrs", "domain", "activation")

    def __init__(self, op, inputs, outputs, name="", attrs=None, domain=""):
        self.op = op
        self.name = name or ""
        self.inputs = list(inputs)
        self.outputs = list(outputs)
        self.attrs = dict(attrs or {})
        self.domain = domain or ""
        self.activation = None

    def __repr__(self):
        return "Node(%s %s %s->%s)" % (self.op, self.name, self.inputs, self.outputs)

    def input(self, i):
        return self.inputs[i] if i < len(self.inputs) else ""


class Sym:
    """A dimension whose value is known only at run time. key identifies it:
    the dim_param name, or (tensor, axis) for an unnamed dim."""
    __slots__ = ("key",)

    def __init__(self, key):
        self.key = key

    def __eq__(self, other):
        return isinstance(other, Sym) and self.key is not None and self.key == other.key

    def __hash__(self):
        return hash(self.key)

    def __repr__(self):
        return "Sym(%r)" % (self.key,)


def _attr_value(a):
    from onnx import AttributeProto
    t = a.type
    if t == AttributeProto.INT:
        return int(a.i)
    if t == AttributeProto.FLOAT:
        return float(a.f)
    if t == AttributeProto.STRING:
        return a.s.decode("utf-8", errors="replace")
    if t == AttributeProto.INTS:
        return [int(x) for x in a.ints]
    if t == AttributeProto.FLOATS:
        return [float(x) for x in a.floats]
    if t == AttributeProto.STRINGS:
        return [s.decode("utf-8", errors="replace") for s in a.strings]
    if t == AttributeProto.TENSOR:
        return a.t
    if t == AttributeProto.GRAPH:
        return a.g
    if t == AttributeProto.GRAPHS:
        return list(a.graphs)
    if t == AttributeProto.SPARSE_TENSOR:
        return a.sparse_tensor
    if t == AttributeProto.TENSORS:
        return list(a.tensors)
    return None


def _make_attr(name, v):
    from onnx import helper, AttributeProto
    if isinstance(v, (list, tuple)) and len(v) == 0:
        a = AttributeProto()
        a.name = name
        a.type = AttributeProto.INTS
        return a
    if isinstance(v, np.ndarray):
        v = v.tolist()
    return helper.make_attribute(name, v)


def _is_subgraph_attr(v):
    from onnx import GraphProto
    return isinstance(v, GraphProto) or (isinstance(v, list) and v and isinstance(v[0], GraphProto))


# --------------------------------------------------------------------------- numpy evaluator

def _ints(a):
    return [int(x) for x in np.asarray(a).reshape(-1)]


def _div(a, b):
    if a.dtype.kind in "iu" and b.dtype.kind in "iu":
        q = np.abs(a) // np.where(b == 0, 1, np.abs(b))
        return (np.sign(a) * np.sign(b) * q).astype(np.result_type(a, b))
    return (a / b).astype(np.result_type(a, b))


def _bin(op):
    def f(ctx, a, b):
        r = op(a, b)
        if isinstance(r, np.ndarray) and r.dtype.kind not in "b" and a.dtype == b.dtype:
            r = r.astype(a.dtype)
        return [np.asarray(r)]
    return f


def _axes_arg(ctx, n, i=1, attr="axes"):
    """Axes of Squeeze/Unsqueeze/Reduce*: input i (new opsets) or attribute."""
    v = ctx.inp(i)
    if v is not None:
        return _ints(v)
    a = n.attrs.get(attr)
    return None if a is None else list(a)


def _ev_reduce(fn):
    def f(ctx, x, *rest):
        n = ctx.node
        axes = _axes_arg(ctx, n)
        keep = n.attrs.get("keepdims", 1)
        if not axes:
            if n.attrs.get("noop_with_empty_axes", 0):
                return [x]
            axes = None
        else:
            axes = tuple(a + x.ndim if a < 0 else a for a in axes)
        r = fn(x, axis=axes, keepdims=bool(keep))
        return [np.asarray(r).astype(x.dtype)]
    return f


def _ev_slice(ctx, x, *rest):
    n = ctx.node
    if ctx.inp(1) is not None or len(n.inputs) > 1:
        starts, ends = _ints(ctx.inp(1)), _ints(ctx.inp(2))
        axes = _ints(ctx.inp(3)) if ctx.inp(3) is not None else list(range(len(starts)))
        steps = _ints(ctx.inp(4)) if ctx.inp(4) is not None else [1] * len(starts)
    else:
        starts, ends = n.attrs["starts"], n.attrs["ends"]
        axes = n.attrs.get("axes", list(range(len(starts))))
        steps = [1] * len(starts)
    sl = [slice(None)] * x.ndim
    for s, e, a, t in zip(starts, ends, axes, steps):
        a = a + x.ndim if a < 0 else a
        dim = x.shape[a]
        # clamp as ONNX does (python slicing handles most, but not huge values)
        if s < 0:
            s += dim
        if e < 0:
            e += dim
        if t > 0:
            s = min(max(s, 0), dim)
            e = min(max(e, 0), dim)
        else:
            s = min(max(s, 0), dim - 1)
            e = min(max(e, -1), dim - 1)
            if e == -1:
                e = None
        sl[a] = slice(s, e, t)
    return [x[tuple(sl)]]


def _ev_split(ctx, x, *rest):
    n = ctx.node
    axis = n.attrs.get("axis", 0)
    axis = axis + x.ndim if axis < 0 else axis
    k = len(n.outputs)
    sizes = _ints(ctx.inp(1)) if ctx.inp(1) is not None else n.attrs.get("split")
    if not sizes:
        dim = x.shape[axis]
        num = n.attrs.get("num_outputs", k)
        c = -(-dim // num)
        sizes = [min(c, dim - i * c) for i in range(num)]
    idx = np.cumsum(sizes)[:-1]
    return list(np.split(x, idx, axis=axis))


def _ev_pad(ctx, x, *rest):
    n = ctx.node
    if len(n.inputs) > 1 and n.inputs[1]:
        pads = _ints(ctx.inp(1))
        v = ctx.inp(2)
        value = v.reshape(-1)[0] if v is not None and v.size else 0
        axes = _ints(ctx.inp(3)) if ctx.inp(3) is not None else list(range(x.ndim))
    else:
        pads = n.attrs.get("pads", n.attrs.get("paddings"))
        value = n.attrs.get("value", 0.0)
        axes = list(range(x.ndim))
    mode = n.attrs.get("mode", "constant")
    na = len(axes)
    pw = [(0, 0)] * x.ndim
    for i, a in enumerate(axes):
        a = a + x.ndim if a < 0 else a
        pw[a] = (pads[i], pads[i + na])
    if any(b < 0 or e < 0 for b, e in pw):
        raise ValueError("negative pads are not folded")
    if mode == "constant":
        return [np.pad(x, pw, mode="constant", constant_values=value)]
    return [np.pad(x, pw, mode={"edge": "edge", "reflect": "reflect", "wrap": "wrap"}[mode])]


def _ev_reshape(ctx, x, s):
    shape = _ints(s)
    allowzero = ctx.node.attrs.get("allowzero", 0)
    if not allowzero:
        shape = [x.shape[i] if v == 0 else v for i, v in enumerate(shape)]
    return [x.reshape(shape)]


def _ev_unsqueeze(ctx, x, *rest):
    axes = _axes_arg(ctx, ctx.node)
    r = x.ndim + len(axes)
    axes = sorted(a + r if a < 0 else a for a in axes)
    for a in axes:
        x = np.expand_dims(x, a)
    return [x]


def _ev_squeeze(ctx, x, *rest):
    axes = _axes_arg(ctx, ctx.node)
    if axes is None:
        return [np.squeeze(x)]
    return [np.squeeze(x, axis=tuple(a + x.ndim if a < 0 else a for a in axes))]


def _ev_cast(ctx, x):
    to = ctx.node.attrs["to"]
    if to not in NP_OF_ONNX:
        raise ValueError("cast to %s" % _dtype_name(to))
    return [x.astype(NP_OF_ONNX[to])]


def _ev_constant_of_shape(ctx, s):
    v = ctx.node.attrs.get("value")
    if v is not None:
        from onnx import numpy_helper
        val = numpy_helper.to_array(v).reshape(-1)
        return [np.full(_ints(s), val[0], dtype=val.dtype)]
    return [np.zeros(_ints(s), np.float32)]


def _ev_range(ctx, start, limit, delta):
    s, l, d = start.reshape(()), limit.reshape(()), delta.reshape(())
    n = max(int(math.ceil((float(l) - float(s)) / float(d))), 0)
    return [(s + np.arange(n, dtype=np.float64 if start.dtype.kind == "f" else np.int64) * d)
            .astype(start.dtype)]


def _ev_gather(ctx, x, i):
    axis = ctx.node.attrs.get("axis", 0)
    i = np.where(i < 0, i + x.shape[axis], i) if i.dtype.kind in "iu" else i
    return [np.take(x, i, axis=axis)]


def _ev_expand(ctx, x, s):
    shape = np.broadcast_shapes(x.shape, tuple(_ints(s)))
    return [np.array(np.broadcast_to(x, shape))]


def _ev_concat(ctx, *xs):
    xs = [x for x in xs if x is not None]
    return [np.concatenate(xs, axis=ctx.node.attrs.get("axis", 1))]


def _ev_transpose(ctx, x):
    perm = ctx.node.attrs.get("perm")
    return [np.transpose(x, perm)]


def _ev_flatten(ctx, x):
    a = ctx.node.attrs.get("axis", 1)
    a = a + x.ndim if a < 0 else a
    return [x.reshape(int(np.prod(x.shape[:a])), -1) if x.size else
            x.reshape(int(np.prod(x.shape[:a])), int(np.prod(x.shape[a:])))]


def _ev_clip(ctx, x, *rest):
    n = ctx.node
    if len(n.inputs) > 1:
        lo, hi = ctx.inp(1), ctx.inp(2)
        lo = None if lo is None else lo.reshape(())
        hi = None if hi is None else hi.reshape(())
    else:
        lo, hi = n.attrs.get("min"), n.attrs.get("max")
    r = x
    if lo is not None:
        r = np.maximum(r, lo)
    if hi is not None:
        r = np.minimum(r, hi)
    return [np.asarray(r).astype(x.dtype)]


def _ev_variadic(fn):
    def f(ctx, *xs):
        r = xs[0]
        for x in xs[1:]:
            r = fn(r, x)
        return [np.asarray(r)]
    return f


def _ev_softmax(ctx, x):
    a = ctx.node.attrs.get("axis", -1 if ctx.opset >= 13 else 1)
    if ctx.opset < 13:
        a = a + x.ndim if a < 0 else a
        shp = x.shape
        x2 = x.reshape(int(np.prod(shp[:a])), -1)
        e = np.exp(x2 - x2.max(axis=1, keepdims=True))
        return [(e / e.sum(axis=1, keepdims=True)).reshape(shp).astype(x.dtype)]
    e = np.exp(x - x.max(axis=a, keepdims=True))
    return [(e / e.sum(axis=a, keepdims=True)).astype(x.dtype)]


def _ev_matmul(ctx, a, b):
    return [np.matmul(a, b).astype(np.result_type(a, b))]


def _ev_gemm(ctx, a, b, c=None):
    n = ctx.node
    if n.attrs.get("transA", 0):
        a = a.T
    if n.attrs.get("transB", 0):
        b = b.T
    r = n.attrs.get("alpha", 1.0) * (a @ b)
    if c is not None:
        r = r + n.attrs.get("beta", 1.0) * c
    return [r.astype(a.dtype)]


def _ev_tile(ctx, x, r):
    return [np.tile(x, _ints(r))]


def _ev_argmax(ctx, x):
    n = ctx.node
    a = n.attrs.get("axis", 0)
    r = np.argmax(x, axis=a)
    if n.attrs.get("keepdims", 1):
        r = np.expand_dims(r, a)
    return [r.astype(np.int64)]


def _ev_mod(ctx, a, b):
    if ctx.node.attrs.get("fmod", 0):
        return [np.fmod(a, b).astype(a.dtype)]
    return [np.mod(a, b).astype(a.dtype)]


def _ev_erf(ctx, x):
    return [np.vectorize(math.erf, otypes=[x.dtype])(x)]


def _unary(fn):
    return lambda ctx, x: [np.asarray(fn(x)).astype(x.dtype)]


def _cmp(fn):
    return lambda ctx, a, b: [np.asarray(fn(a, b))]


EVAL = {
    "Identity": lambda ctx, x: [x],
    "Dropout": lambda ctx, x, *r: [x, np.ones(x.shape, np.bool_)],
    "Add": _bin(np.add), "Sub": _bin(np.subtract), "Mul": _bin(np.multiply),
    "Div": lambda ctx, a, b: [_div(a, b)],
    "Pow": lambda ctx, a, b: [np.power(a, b).astype(a.dtype)],
    "Mod": _ev_mod,
    "Neg": _unary(np.negative), "Abs": _unary(np.abs), "Sqrt": _unary(np.sqrt),
    "Exp": _unary(np.exp), "Log": _unary(np.log), "Floor": _unary(np.floor),
    "Ceil": _unary(np.ceil), "Round": _unary(np.round), "Sign": _unary(np.sign),
    "Reciprocal": _unary(lambda x: 1 / x), "Relu": _unary(lambda x: np.maximum(x, 0)),
    "Sigmoid": _unary(lambda x: 1 / (1 + np.exp(-x))), "Tanh": _unary(np.tanh),
    "Erf": _ev_erf,
    "Not": lambda ctx, x: [np.logical_not(x)],
    "And": _cmp(np.logical_and), "Or": _cmp(np.logical_or), "Xor": _cmp(np.logical_xor),
    "Equal": _cmp(np.equal), "Less": _cmp(np.less), "Greater": _cmp(np.greater),
    "LessOrEqual": _cmp(np.less_equal), "GreaterOrEqual": _cmp(np.greater_equal),
    "Where": lambda ctx, c, a, b: [np.where(c, a, b).astype(np.result_type(a, b))],
    "Min": _ev_variadic(np.minimum), "Max": _ev_variadic(np.maximum),
    "Sum": _ev_variadic(np.add),
    "Mean": lambda ctx, *xs: [(sum(xs) / len(xs)).astype(xs[0].dtype)],
    "Cast": _ev_cast, "CastLike": lambda ctx, x, like: [x.astype(like.dtype)],
    "Reshape": _ev_reshape, "Unsqueeze": _ev_unsqueeze,
    "Squeeze": _ev_squeeze, "Slice": _ev_slice, "Gather": _ev_gather, "Concat": _ev_concat,
    "Range": _ev_range, "ConstantOfShape": _ev_constant_of_shape, "Expand": _ev_expand,
    "Transpose": _ev_transpose, "Flatten": _ev_flatten, "Split": _ev_split, "Pad": _ev_pad,
    "Clip": _ev_clip, "Tile": _ev_tile, "ArgMax": _ev_argmax,
    "Size": lambda ctx, x: [np.array(x.size, np.int64)],
    "Shape": lambda ctx, x: [np.array(x.shape, np.int64)],
    "NonZero": lambda ctx, x: [np.array(np.nonzero(x), np.int64)],
    "ReduceProd": _ev_reduce(np.prod), "ReduceSum": _ev_reduce(np.sum),
    "ReduceMean": _ev_reduce(np.mean), "ReduceMax": _ev_reduce(np.max),
    "ReduceMin": _ev_reduce(np.min),
    "Softmax": _ev_softmax,
    "MatMul": _ev_matmul, "Gemm": _ev_gemm,
}

# Ops that may be evaluated on partially known shape vectors (object arrays).
PARTIAL_OPS = ("Identity", "Cast", "Gather", "Concat", "Unsqueeze", "Squeeze", "Slice",
               "Reshape", "Add", "Sub", "Mul", "Div", "Flatten")


def _compose_clip(first, second):
    """One activation equal to `second` applied after `first`, where both are
    relu or clip; None if there is none."""
    def interval(a):
        if a[0] == "relu":
            return 0.0, float("inf")
        if a[0] == "clip":
            return a[1], a[2]
        return None
    i1, i2 = interval(first), interval(second)
    if i1 is None or i2 is None:
        return None
    lo, hi = max(i1[0], i2[0]), min(i1[1], i2[1])
    if lo > hi:
        return None
    if lo == 0.0 and hi == float("inf"):
        return ("relu",)
    return ("clip", lo, hi)


class _EvalCtx:
    def __init__(self, node, values, opset):
        self.node = node
        self.values = values
        self.opset = opset

    def inp(self, i):
        return self.values[i] if i < len(self.values) else None


def _partial_arith(op, a, b):
    def f(x, y):
        if isinstance(x, Sym) or isinstance(y, Sym):
            if op == "Mul" and (x == 1 or (not isinstance(x, Sym) and x == 1)):
                return y
            if op == "Mul" and not isinstance(y, Sym) and y == 1:
                return x
            if op in ("Add", "Sub") and not isinstance(y, Sym) and y == 0:
                return x
            if op == "Div" and not isinstance(y, Sym) and y == 1:
                return x
            return Sym(None)
        if op == "Add":
            return x + y
        if op == "Sub":
            return x - y
        if op == "Mul":
            return x * y
        return int(x / y) if y else 0
    fv = np.frompyfunc(f, 2, 1)
    return fv(a, b)


# --------------------------------------------------------------------------- converter

class _Converter:
    def __init__(self, model, freeze_inputs=None, quiet=True, log=None):
        onnx = _onnx()
        from onnx import numpy_helper
        self.onnx = onnx
        self.nh = numpy_helper
        self.model = model
        self.quiet = quiet
        self.log = log or (lambda s: None)
        self.opset = None
        for o in model.opset_import:
            if o.domain in ("", "ai.onnx"):
                self.opset = int(o.version)
        if self.opset is None:
            self.opset = 1 if not model.opset_import else None
        if self.opset is None:
            raise ConversionError("the model imports no opset of the default ONNX domain")
        g = model.graph
        self.consts = {}
        for t in g.initializer:
            self.consts[t.name] = self._tensor(t, "initializer %s" % t.name)
        if len(g.sparse_initializer):
            raise UnsupportedError("sparse initializers are not supported (%s)"
                                   % g.sparse_initializer[0].values.name)
        self.inputs = []     # [name, onnx elem type, shape list (int | str)]
        for vi in g.input:
            if vi.name in self.consts:
                continue
            self.inputs.append(self._input_info(vi))
        self.outputs = [o.name for o in g.output]
        if not self.outputs:
            raise ConversionError("the graph has no outputs")
        self.nodes = []
        for i, nd in enumerate(g.node):
            attrs = {}
            for a in nd.attribute:
                if a.ref_attr_name:
                    raise UnsupportedError("node %s (%s) refers to a function attribute"
                                           % (nd.name, nd.op_type))
                attrs[a.name] = _attr_value(a)
            self.nodes.append(Node(nd.op_type, nd.input, nd.output, nd.name, attrs, nd.domain))
        self.names = set(self.consts) | {i[0] for i in self.inputs}
        for n in self.nodes:
            self.names.update(n.outputs)
            self.names.update(x for x in n.inputs if x)
        self.value_info = {}
        self.nodes_before = len(self.nodes)
        if freeze_inputs:
            self._freeze(freeze_inputs)

    # -- helpers
    def _tensor(self, t, what):
        if t.data_type not in ONNX_DTYPES and t.data_type not in NP_OF_ONNX:
            raise ConversionError("%s has dtype %s, which ember does not support"
                                  % (what, _dtype_name(t.data_type)))
        try:
            return self.nh.to_array(t)
        except Exception as e:  # noqa: BLE001
            raise ConversionError("cannot read %s: %s" % (what, str(e).splitlines()[0]
                                                          if str(e) else type(e).__name__))

    def _input_info(self, vi):
        tt = vi.type.tensor_type if vi.type.HasField("tensor_type") else None
        if tt is None:
            raise UnsupportedError("graph input %s is not a tensor" % vi.name)
        if tt.elem_type not in ONNX_DTYPES:
            raise ConversionError("graph input %s has dtype %s, which ember does not support"
                                  % (vi.name, _dtype_name(tt.elem_type)))
        if not tt.HasField("shape"):
            raise ConversionError("graph input %s has no shape (its rank is unknown); give it "
                                  "a shape in the ONNX model" % vi.name)
        shape = []
        for i, d in enumerate(tt.shape.dim):
            if d.HasField("dim_value") and d.dim_value >= 0:
                shape.append(int(d.dim_value))
            elif d.HasField("dim_param") and d.dim_param:
                shape.append(d.dim_param)
            else:
                shape.append("%s_dim%d" % (vi.name, i))
        return [vi.name, tt.elem_type, shape]

    def _fresh(self, base):
        name = base
        k = 1
        while name in self.names:
            name = "%s_%d" % (base, k)
            k += 1
        self.names.add(name)
        return name

    def _freeze(self, freeze):
        for name, arr in freeze.items():
            idx = [i for i, x in enumerate(self.inputs) if x[0] == name]
            if not idx:
                raise ConversionError("--freeze %s: the graph has no input of that name" % name)
            info = self.inputs.pop(idx[0])
            a = np.asarray(arr)
            want = NP_OF_ONNX.get(info[1])
            if want is not None and a.dtype != want:
                a = a.astype(want)
            self.consts[name] = a

    def _consumers(self):
        cons = {}
        for n in self.nodes:
            for x in n.inputs:
                if x:
                    cons.setdefault(x, []).append(n)
        return cons

    def _producers(self):
        return {o: n for n in self.nodes for o in n.outputs if o}

    def _rename_use(self, old, new):
        for n in self.nodes:
            n.inputs = [new if x == old else x for x in n.inputs]

    def _shape_of(self, name):
        """Shape as a list of int | Sym, or None if the rank is unknown."""
        if name in self.consts:
            return list(self.consts[name].shape)
        for i in self.inputs:
            if i[0] == name:
                return [Sym(d) if isinstance(d, str) else d for d in i[2]]
        vi = self.value_info.get(name)
        if vi is None or vi[1] is None:
            return None
        return [Sym(d) if isinstance(d, str) else (Sym((name, k)) if d is None else d)
                for k, d in enumerate(vi[1])]

    def _elem_type(self, name):
        if name in self.consts:
            return _onnx_of_np(self.consts[name].dtype)
        for i in self.inputs:
            if i[0] == name:
                return i[1]
        vi = self.value_info.get(name)
        return vi[0] if vi else 0

    # -- 1. Constant nodes
    def constant_nodes(self):
        keep = []
        for n in self.nodes:
            if n.op == "Constant" and n.domain in ("", "ai.onnx"):
                a = n.attrs
                if "value" in a:
                    v = self._tensor(a["value"], "Constant %s" % (n.name or n.outputs[0]))
                elif "value_float" in a:
                    v = np.array(a["value_float"], np.float32)
                elif "value_floats" in a:
                    v = np.array(a["value_floats"], np.float32)
                elif "value_int" in a:
                    v = np.array(a["value_int"], np.int64)
                elif "value_ints" in a:
                    v = np.array(a["value_ints"], np.int64)
                else:
                    raise UnsupportedError("Constant node %s: only tensor, float(s) and int(s) "
                                           "values are supported" % (n.name or n.outputs[0]))
                self.consts[n.outputs[0]] = v
            else:
                keep.append(n)
        self.nodes = keep

    # -- 2. shape inference
    def infer_shapes(self):
        onnx = self.onnx
        from onnx import helper
        g_inputs = []
        for name, et, shape in self.inputs:
            g_inputs.append(helper.make_tensor_value_info(name, et, shape))
        inits = []
        for name, v in self.consts.items():
            et = _onnx_of_np(v.dtype)
            if v.size <= 4096 and et:
                inits.append(self.nh.from_array(v, name))
            elif et:
                g_inputs.append(helper.make_tensor_value_info(name, et, list(v.shape)))
        nodes = []
        for n in self.nodes:
            nd = helper.make_node(n.op, n.inputs, n.outputs, name=n.name, domain=n.domain)
            for k, v in n.attrs.items():
                if v is None:
                    continue
                try:
                    nd.attribute.append(_make_attr(k, v))
                except Exception:  # noqa: BLE001
                    pass
            nodes.append(nd)
        outs = [helper.make_empty_tensor_value_info(o) for o in self.outputs]
        g = helper.make_graph(nodes, "g", g_inputs, outs, inits)
        m = helper.make_model(g, opset_imports=list(self.model.opset_import))
        m.ir_version = max(self.model.ir_version, 3)
        for f in self.model.functions if hasattr(self.model, "functions") else []:
            m.functions.append(f)
        inferred = None
        for kw in ({"data_prop": True}, {}):
            try:
                inferred = onnx.shape_inference.infer_shapes(m, strict_mode=False, **kw)
                break
            except Exception:  # noqa: BLE001
                continue
        self.value_info = {}
        if inferred is None:
            return
        for vi in list(inferred.graph.value_info) + list(inferred.graph.output):
            if not vi.type.HasField("tensor_type"):
                continue
            tt = vi.type.tensor_type
            shape = None
            if tt.HasField("shape"):
                shape = []
                for d in tt.shape.dim:
                    if d.HasField("dim_value"):
                        shape.append(int(d.dim_value))
                    elif d.HasField("dim_param") and d.dim_param:
                        shape.append(d.dim_param)
                    else:
                        shape.append(None)
            self.value_info[vi.name] = (tt.elem_type, shape)

    # -- 3. folding
    def fold(self):
        """One pass of constant folding and partial shape evaluation; True if
        anything changed."""
        changed = False
        partial = {}   # name -> (object ndarray, numpy dtype)
        keep = []
        for n in self.nodes:
            if n.domain not in ("", "ai.onnx") or any(_is_subgraph_attr(v) for v in n.attrs.values()):
                keep.append(n)
                continue
            ins = n.inputs
            present = [x for x in ins if x]
            # Shape / Size of a tensor with a static shape
            if n.op in ("Shape", "Size") and ins and ins[0] not in self.consts:
                sh = self._shape_of(ins[0])
                if sh is not None:
                    if n.op == "Shape":
                        start = n.attrs.get("start", 0)
                        end = n.attrs.get("end", None)
                        r = len(sh)
                        start = min(max(start + r if start < 0 else start, 0), r)
                        end = r if end is None else min(max(end + r if end < 0 else end, 0), r)
                        sh = sh[start:end]
                        arr = np.empty(len(sh), dtype=object)
                        arr[:] = sh
                        if all(not isinstance(d, Sym) for d in sh):
                            self.consts[n.outputs[0]] = np.array(sh, np.int64).reshape(len(sh))
                            changed = True
                            continue
                        partial[n.outputs[0]] = (arr, np.dtype(np.int64))
                    elif all(not isinstance(d, Sym) for d in sh):
                        self.consts[n.outputs[0]] = np.array(int(np.prod(sh)), np.int64)
                        changed = True
                        continue
                keep.append(n)
                continue
            if n.op in EVAL and present and all(x in self.consts for x in present):
                vals = [self.consts[x] if x else None for x in ins]
                try:
                    outs = EVAL[n.op](_EvalCtx(n, vals, self.opset), *vals)
                except Exception as e:  # noqa: BLE001
                    self.log("note: could not fold %s %s: %s" % (n.op, n.name, e))
                    keep.append(n)
                    continue
                for o, v in zip(n.outputs, outs):
                    if o:
                        self.consts[o] = np.asarray(v)
                changed = True
                continue
            if (n.op in PARTIAL_OPS and present and ins[0] in partial
                    and all(x in self.consts or x in partial for x in present)):
                r = self._eval_partial(n, [partial.get(x) or (self.consts[x], self.consts[x].dtype)
                                           if x else None for x in ins])
                if r is not None:
                    arr, dt = r
                    if not isinstance(arr, np.ndarray):  # a scalar, e.g. Gather of one dim
                        arr = np.empty((), dtype=object)
                        arr[()] = r[0]
                        r = (arr, dt)
                    if all(not isinstance(v, Sym) for v in arr.reshape(-1)):
                        self.consts[n.outputs[0]] = arr.astype(dt)
                        changed = True
                        continue
                    partial[n.outputs[0]] = r
            elif (n.op in PARTIAL_OPS and n.op in ("Add", "Sub", "Mul", "Div", "Concat")
                  and present and all(x in self.consts or x in partial for x in present)
                  and any(x in partial for x in present)):
                r = self._eval_partial(n, [partial.get(x) or (self.consts[x], self.consts[x].dtype)
                                           if x else None for x in ins])
                if r is not None:
                    partial[n.outputs[0]] = r
            # Reshape / Expand whose target holds a run-time dim
            if n.op in ("Reshape", "Expand") and len(ins) > 1 and ins[1] in partial:
                tgt = self._symbolic_target(n, partial[ins[1]][0])
                if tgt is not None:
                    cname = self._fresh((n.name or n.outputs[0]) + "_shape")
                    self.consts[cname] = np.array(tgt, np.int64)
                    n.inputs[1] = cname
                    changed = True
            keep.append(n)
        self.nodes = keep
        return changed

    def _eval_partial(self, n, vals):
        op = n.op
        arrs = [None if v is None else np.asarray(v[0]).astype(object) for v in vals]
        dt = vals[0][1]
        try:
            if op in ("Add", "Sub", "Mul", "Div"):
                return _partial_arith(op, arrs[0], arrs[1]), np.result_type(vals[0][1], vals[1][1])
            if op == "Cast":
                to = n.attrs.get("to")
                if to not in (6, 7):
                    return None
                return arrs[0], np.dtype(NP_OF_ONNX[to])
            if op in ("Gather", "Concat", "Unsqueeze", "Squeeze", "Slice", "Reshape", "Identity",
                      "Flatten"):
                cvals = []
                for i, a in enumerate(arrs):
                    if a is None:
                        cvals.append(None)
                    elif i == 0 or op == "Concat":
                        cvals.append(a)
                    else:
                        cvals.append(np.asarray(vals[i][0]))
                if op == "Concat":
                    dt = np.result_type(*[v[1] for v in vals if v is not None])
                out = EVAL[op](_EvalCtx(n, cvals, self.opset), *cvals)[0]
                return np.asarray(out, dtype=object), dt
        except Exception:  # noqa: BLE001
            return None
        return None

    def _symbolic_target(self, n, target):
        """Constant target shape for a Reshape/Expand whose target has run-time
        dims, or None if none can be written."""
        target = list(np.asarray(target).reshape(-1))
        xs = self._shape_of(n.inputs[0])
        if n.op == "Reshape":
            allowzero = n.attrs.get("allowzero", 0)
            out = []
            unknown = []
            for i, v in enumerate(target):
                if isinstance(v, Sym):
                    if (not allowzero and xs is not None and i < len(xs) and isinstance(xs[i], Sym)
                            and xs[i] == v):
                        out.append(0)
                    else:
                        out.append(None)
                        unknown.append(i)
                else:
                    out.append(int(v))
            if len(unknown) > 1 or (unknown and -1 in out):
                return None
            if allowzero and 0 in out and unknown:
                return None
            for i in unknown:
                out[i] = -1
            return out
        # Expand: a run-time entry may be 1 where the input's aligned dim is the same symbol
        if xs is None:
            return None
        out = []
        off = len(target) - len(xs)
        for i, v in enumerate(target):
            if isinstance(v, Sym):
                j = i - off
                if 0 <= j < len(xs) and isinstance(xs[j], Sym) and xs[j] == v:
                    out.append(1)
                else:
                    return None
            else:
                out.append(int(v))
        return out

    def dce(self):
        needed = set(self.outputs)
        keep = []
        for n in reversed(self.nodes):
            if any(o in needed for o in n.outputs if o):
                keep.append(n)
                needed.update(x for x in n.inputs if x)
        changed = len(keep) != len(self.nodes)
        self.nodes = keep[::-1]
        for k in [k for k in self.consts if k not in needed]:
            del self.consts[k]
        return changed

    def fold_loop(self):
        for _ in range(8):
            self.infer_shapes()
            c1 = self.fold()
            c2 = self.dce()
            if not (c1 or c2):
                break
        self.infer_shapes()

    # -- 4. rewrites of old forms
    def rewrite(self):
        new = []
        for n in self.nodes:
            if n.domain not in ("", "ai.onnx"):
                new.append(n)
                continue
            for a in ("consumed_inputs", "is_test"):
                n.attrs.pop(a, None)
            if n.op == "Upsample" or (n.op == "Resize" and self.opset < 11):
                new.extend(self._rewrite_upsample(n))
            elif n.op == "Resize":
                new.extend(self._rewrite_resize(n))
            elif n.op in ("Softmax", "LogSoftmax"):
                new.extend(self._rewrite_softmax(n))
            elif n.op == "Sum" and len([x for x in n.inputs if x]) >= 1:
                ins = [x for x in n.inputs if x]
                if len(ins) == 1:
                    new.append(Node("Identity", ins, n.outputs, n.name))
                else:
                    acc = ins[0]
                    for k, x in enumerate(ins[1:]):
                        last = k == len(ins) - 2
                        out = n.outputs[0] if last else self._fresh("%s_sum%d" % (n.outputs[0], k))
                        new.append(Node("Add", [acc, x], [out], n.name if last else
                                        "%s_%d" % (n.name, k)))
                        acc = out
            elif n.op == "Dropout":
                self._check_dropout(n)
                new.append(n)
            elif n.op == "Gemm":
                n.attrs.pop("broadcast", None)
                new.append(n)
            elif n.op in ("Cast", "CastLike"):
                if n.attrs.get("saturate", 1) == 1:
                    n.attrs.pop("saturate", None)
                if n.op == "CastLike":
                    to = self._elem_type(n.input(1))
                    if to:
                        n.op = "Cast"
                        n.inputs = n.inputs[:1]
                        n.attrs["to"] = to
                new.append(n)
            elif n.op in ("ReduceSum", "ReduceMean", "ReduceMax") and n.input(1) in self.consts \
                    and self.consts[n.input(1)].size == 0:
                n.inputs = n.inputs[:1]   # empty axes: the same as no axes input
                new.append(n)
            else:
                new.append(n)
        self.nodes = new

    def _check_dropout(self, n):
        """Dropout is dropped (inference); refuse it in training mode with a ratio."""
        what = n.name or n.outputs[0]
        tm = n.input(2)
        if not tm:
            return
        if tm not in self.consts:
            raise ConversionError("Dropout %s: training_mode (input 2) must be a constant" % what)
        if not bool(self.consts[tm].reshape(-1)[0]):
            return
        r = n.input(1)
        if r and r not in self.consts:
            raise ConversionError("Dropout %s: ratio (input 1) must be a constant" % what)
        ratio = float(self.consts[r].reshape(-1)[0]) if r else 0.5
        if ratio != 0.0:
            raise UnsupportedError("Dropout %s in training mode (random) is not supported" % what)

    def _rewrite_upsample(self, n):
        mode = n.attrs.get("mode", "nearest")
        if mode == "bilinear":
            mode = "linear"
        if n.op == "Upsample" and "scales" in n.attrs:
            scales = np.array(n.attrs["scales"], np.float32)
        else:
            sname = n.input(1)
            if sname not in self.consts:
                raise ConversionError("%s %s: scales (input 1) must be a constant"
                                      % (n.op, n.name or n.outputs[0]))
            scales = self.consts[sname].astype(np.float32)
        cname = self._fresh((n.name or n.outputs[0]) + "_scales")
        self.consts[cname] = scales
        attrs = {"mode": mode, "coordinate_transformation_mode": "asymmetric"}
        if mode == "nearest":
            down = bool(np.all(scales <= 1)) and bool(np.any(scales < 1))
            attrs["nearest_mode"] = "ceil" if down else "floor"
        return [Node("Resize", [n.inputs[0], "", cname], n.outputs, n.name, attrs)]

    def _rewrite_resize(self, n):
        ctm = n.attrs.get("coordinate_transformation_mode", "half_pixel")
        ins = list(n.inputs) + [""] * (4 - len(n.inputs))
        if ctm != "tf_crop_and_resize":
            ins[1] = ""      # roi is read only by tf_crop_and_resize
        for i in (2, 3):
            if ins[i] and ins[i] in self.consts and self.consts[ins[i]].size == 0:
                ins[i] = ""
        axes = n.attrs.pop("axes", None)
        if axes is not None:
            xs = self._shape_of(ins[0])
            if xs is None:
                raise UnsupportedError("Resize %s: the axes attribute needs the input's rank"
                                       % (n.name or n.outputs[0]))
            r = len(xs)
            axes = [a + r if a < 0 else a for a in axes]
            if ins[2] and ins[2] in self.consts:
                full = np.ones(r, np.float32)
                full[axes] = self.consts[ins[2]].astype(np.float32)
                c = self._fresh((n.name or n.outputs[0]) + "_scales")
                self.consts[c] = full
                ins[2] = c
            elif ins[3] and ins[3] in self.consts:
                if any(isinstance(d, Sym) for i, d in enumerate(xs) if i not in axes):
                    raise UnsupportedError("Resize %s: sizes with axes on an input with run-time "
                                           "dims" % (n.name or n.outputs[0]))
                full = np.array(xs, np.int64)
                full[axes] = self.consts[ins[3]].astype(np.int64)
                c = self._fresh((n.name or n.outputs[0]) + "_sizes")
                self.consts[c] = full
                ins[3] = c
        while len(ins) > 1 and not ins[-1]:
            ins.pop()
        if len(ins) == 2:   # X, "" -> would look like the opset-10 (X, scales) form
            ins = ins[:1]
        n.inputs = ins
        return [n]

    def _rewrite_softmax(self, n):
        if self.opset >= 13:
            return [n]
        axis = n.attrs.get("axis", 1)
        xs = self._shape_of(n.inputs[0])
        if xs is None:
            raise UnsupportedError("%s %s (opset %d): the input's rank must be known"
                                   % (n.op, n.name or n.outputs[0], self.opset))
        r = len(xs)
        a = axis + r if axis < 0 else axis
        if a >= r - 1:
            n.attrs["axis"] = -1 if r else 0
            return [n]
        # softmax over the flattened dims [a, r): Flatten -> op(axis=-1) -> Reshape
        tgt = [None if isinstance(d, Sym) else int(d) for d in xs]
        unknown = [i for i, d in enumerate(tgt) if d is None]
        if len(unknown) > 1 and a == 1 and tgt[0] is None:
            tgt[0] = 0
            unknown = unknown[1:]
        if len(unknown) > 1:
            raise UnsupportedError("%s %s (opset %d) with axis %d over several run-time dims"
                                   % (n.op, n.name or n.outputs[0], self.opset, axis))
        for i in unknown:
            tgt[i] = -1
        base = n.name or n.outputs[0]
        flat = self._fresh(base + "_flat")
        sm = self._fresh(base + "_2d")
        shp = self._fresh(base + "_shape")
        self.consts[shp] = np.array(tgt, np.int64)
        return [Node("Flatten", [n.inputs[0]], [flat], base + "_flatten", {"axis": a}),
                Node(n.op, [flat], [sm], n.name, {"axis": -1}),
                Node("Reshape", [sm, shp], n.outputs, base + "_reshape")]

    # -- 5. Identity / Dropout
    def drop_identities(self):
        graph_inputs = {i[0] for i in self.inputs}
        changed = True
        while changed:
            changed = False
            cons = self._consumers()
            prod = self._producers()
            for n in self.nodes:
                if n.op not in ("Identity", "Dropout") or n.domain not in ("", "ai.onnx"):
                    continue
                if n.op == "Dropout" and len(n.outputs) > 1 and n.outputs[1] and \
                        (n.outputs[1] in cons or n.outputs[1] in self.outputs):
                    continue
                src, dst = n.inputs[0], n.outputs[0]
                if dst not in self.outputs:
                    self.nodes.remove(n)
                    self._rename_use(dst, src)
                    changed = True
                    break
                # dst is a graph output: its name must stay
                p = prod.get(src)
                if (p is not None and src not in self.outputs and src not in graph_inputs
                        and src not in self.consts):
                    self.nodes.remove(n)
                    p.outputs = [dst if o == src else o for o in p.outputs]
                    self._rename_use(src, dst)
                    changed = True
                    break
                if n.op == "Dropout":
                    n.op = "Identity"
                    n.inputs = [src]
                    n.outputs = [dst]
                    n.attrs = {}
                    changed = True
                    break

    # -- 6. BatchNormalization folding
    def fold_batchnorm(self):
        def rewrite_one(cons, prod):
            for bn in self.nodes:
                if bn.op != "BatchNormalization" or len([o for o in bn.outputs if o]) != 1:
                    continue
                x = bn.inputs[0]
                p = prod.get(x)
                if p is None or p.op not in ("Conv", "ConvTranspose", "Gemm") or p.activation:
                    continue
                if len(cons.get(x, [])) != 1 or x in self.outputs:
                    continue
                if not all(i in self.consts for i in bn.inputs[1:5]) or len(bn.inputs) < 5:
                    continue
                if p.input(1) not in self.consts or (p.input(2) and p.input(2) not in self.consts):
                    continue
                scale, bias, mean, var = [self.consts[i].astype(np.float64) for i in bn.inputs[1:5]]
                eps = bn.attrs.get("epsilon", 1e-5)
                s = scale / np.sqrt(var + eps)
                w = self.consts[p.input(1)]
                if w.dtype != np.float32:
                    continue
                b = self.consts[p.input(2)].astype(np.float64) if p.input(2) else None
                w64 = w.astype(np.float64)
                if p.op == "Conv":
                    m = w.shape[0]
                    if s.shape != (m,):
                        continue
                    w2 = w64 * s.reshape((m,) + (1,) * (w.ndim - 1))
                elif p.op == "ConvTranspose":
                    g = p.attrs.get("group", 1)
                    cin, mg = w.shape[0], w.shape[1]
                    m = mg * g
                    if s.shape != (m,):
                        continue
                    w2 = (w64.reshape((g, cin // g, mg) + w.shape[2:]) *
                          s.reshape((g, 1, mg) + (1,) * (w.ndim - 2))).reshape(w.shape)
                else:  # Gemm
                    if w.ndim != 2:
                        continue
                    tb = p.attrs.get("transB", 0)
                    m = w.shape[0] if tb else w.shape[1]
                    if s.shape != (m,):
                        continue
                    alpha = p.attrs.get("alpha", 1.0)
                    w2 = w64 * alpha * (s[:, None] if tb else s[None, :])
                    if b is not None:
                        beta = p.attrs.get("beta", 1.0)
                        if b.size == 1:
                            b = np.full(m, b.reshape(-1)[0])
                        elif b.shape in ((m,), (1, m)):
                            b = b.reshape(m)
                        else:
                            continue
                        b = b * beta
                    p.attrs["alpha"] = 1.0
                    p.attrs["beta"] = 1.0
                if b is None:
                    b = np.zeros(m)
                b2 = (b - mean) * s + bias
                base = p.name or p.outputs[0]
                wn = self._fresh(base + "_w_bn")
                bname = self._fresh(base + "_b_bn")
                self.consts[wn] = w2.astype(np.float32)
                self.consts[bname] = b2.astype(np.float32)
                ins = list(p.inputs) + [""] * (3 - len(p.inputs))
                ins[1], ins[2] = wn, bname
                p.inputs = ins
                p.outputs[0] = bn.outputs[0]
                self.nodes.remove(bn)
                return True
            return False

        return self._rewrite_until_done(rewrite_one)

    # -- 7. activation fusion
    def _rewrite_until_done(self, rewrite_one):
        """The fusion passes' loop: rewrite_one(consumers, producers) makes at
        most one rewrite of the graph and says whether it made one; it runs
        again on the rewritten graph until it makes none. Returns how many."""
        count = 0
        while rewrite_one(self._consumers(), self._producers()):
            count += 1
        return count

    def _only_user(self, cons, t):
        """The one node reading t (cons: _consumers()), or None when t has other
        readers or is a graph output (a fusion must not remove it then)."""
        users = cons.get(t, [])
        return users[0] if len(users) == 1 and t not in self.outputs else None

    def _scalar_const(self, name, value, tol):
        """True when name is a constant holding one number close to value."""
        a = self.consts.get(name)
        if a is None or a.size != 1 or a.dtype.kind != "f":
            return False
        return abs(float(a.reshape(-1)[0]) - value) <= tol

    def fuse_gelu(self):
        """The exact GELU as exporters spell it, 0.5 * x * (1 + erf(x / sqrt(2)))
        (x / sqrt(2) also as x * (1 / sqrt(2)); the 0.5 applied last or to x
        first), becomes one Gelu node (ONNX opset 20, approximate "none"): one
        pass over the tensor instead of five. Every intermediate must feed only
        the next step of the pattern."""
        def rewrite_one(cons, prod):

            def only_user(t):
                return self._only_user(cons, t)

            def other(n, t):
                """The input of binary n that is not t (None if t is not one)."""
                if len(n.inputs) != 2 or t not in n.inputs:
                    return None
                return n.inputs[1] if n.inputs[0] == t else n.inputs[0]

            for e in self.nodes:
                if e.op != "Erf" or e.domain not in ("", "ai.onnx"):
                    continue
                d = prod.get(e.inputs[0])
                if d is None or only_user(d.outputs[0]) is not e:
                    continue
                if d.op == "Div" and self._scalar_const(d.input(1), 2 ** 0.5, 1e-4):
                    x = d.inputs[0]
                elif d.op == "Mul":
                    x = next((t for t in d.inputs
                              if self._scalar_const(other(d, t) or "", 0.5 ** 0.5, 1e-4)), None)
                    if x is None:
                        continue
                else:
                    continue
                if self._elem_type(x) not in (0, 1):
                    continue
                a = only_user(e.outputs[0])
                if a is None or a.op != "Add" or not self._scalar_const(other(a, e.outputs[0]) or "", 1.0, 1e-6):
                    continue
                m1 = only_user(a.outputs[0])
                if m1 is None or m1.op != "Mul":
                    continue
                h = other(m1, a.outputs[0])
                remove = [d, e, a, m1]
                if h == x:  # (x * (1 + erf)) * 0.5
                    m2 = only_user(m1.outputs[0])
                    if m2 is None or m2.op != "Mul" or not self._scalar_const(
                            other(m2, m1.outputs[0]) or "", 0.5, 1e-6):
                        continue
                    y = m2.outputs[0]
                    remove.append(m2)
                else:  # (0.5 * x) * (1 + erf)
                    hn = prod.get(h)
                    if hn is None or hn.op != "Mul" or only_user(h) is not m1 or \
                            not self._scalar_const(other(hn, x) or "", 0.5, 1e-6):
                        continue
                    y = m1.outputs[0]
                    remove.append(hn)
                if any(n.domain not in ("", "ai.onnx") for n in remove):
                    continue
                at = min(self.nodes.index(n) for n in remove)  # x is ready there
                for n in remove:
                    self.nodes.remove(n)
                self.nodes.insert(at, Node("Gelu", [x], [y], e.name or (y + "_gelu"),
                                           {"approximate": "none"}))
                return True
            return False

        return self._rewrite_until_done(rewrite_one)

    def fuse_attention(self):
        """Multi-head attention as PyTorch exports nn.MultiheadAttention (after
        folding): three Slices along the last axis of one [S, B, W] projection
        X, each Reshaped to [S, -1, head] and Transposed to heads first (K to
        [BH, head, S]), Q optionally divided (or multiplied) by a scalar,
        MatMul, Softmax over the last axis, MatMul with V, Transpose back to
        [S, BH, head]: one ember.Attention node (docs/FORMAT.md), which reads
        the heads of X in place instead of copying them five times. Every
        intermediate must feed only the next step. Returns the count."""
        def rewrite_one(cons, prod):

            def only(t):
                return self._only_user(cons, t)

            def std(n):
                return n is not None and n.domain in ("", "ai.onnx")

            def const_ints(name):
                a = self.consts.get(name)
                return _ints(a) if a is not None and a.dtype.kind in "iu" else None

            def head_of(t, perm):
                """The Transpose(perm) <- Reshape([S, -1, hd]) <- Slice(X, last axis)
                chain ending in t: (X, start, width, hd, nodes) or None."""
                tr = prod.get(t)
                if not std(tr) or tr.op != "Transpose" or list(tr.attrs.get("perm") or []) != perm:
                    return None
                rs = prod.get(tr.inputs[0])
                if not std(rs) or rs.op != "Reshape" or only(rs.outputs[0]) is not tr:
                    return None
                sl = prod.get(rs.inputs[0])
                if not std(sl) or sl.op != "Slice" or only(sl.outputs[0]) is not rs:
                    return None
                shape = const_ints(rs.input(1))
                x = sl.inputs[0]
                xs = self._shape_of(x)
                if shape is None or len(shape) != 3 or xs is None or len(xs) != 3 or \
                        not isinstance(xs[2], int) or self._elem_type(x) not in (0, 1):
                    return None
                w = xs[2]
                if len(sl.inputs) < 3:
                    return None
                starts, ends = const_ints(sl.input(1)), const_ints(sl.input(2))
                axes = const_ints(sl.input(3)) if sl.input(3) else [0, 1, 2][:len(starts or [])]
                steps = const_ints(sl.input(4)) if sl.input(4) else None
                if not starts or not ends or len(starts) != 1 or len(ends) != 1 or \
                        axes not in ([-1], [2]) or (steps is not None and steps != [1]):
                    return None
                b, e = starts[0], ends[0]
                b = max(0, b + w) if b < 0 else min(b, w)
                e = max(0, e + w) if e < 0 else min(e, w)
                hd = shape[2]
                if e <= b or hd <= 0 or (e - b) % hd:
                    return None
                # [S, -1, hd]: positions kept, then batch * heads (allowzero 0)
                if shape[1] != -1 or not (shape[0] == 0 or shape[0] == xs[0]) or \
                        (shape[0] == 0 and rs.attrs.get("allowzero", 0)):
                    return None
                return x, b, e - b, hd, [sl, rs, tr]

            for sm in self.nodes:
                if not std(sm) or sm.op != "Softmax":
                    continue
                axis = sm.attrs.get("axis")
                if axis is None and (self.opset or 13) >= 13:
                    axis = -1
                if axis not in (-1, 2):
                    continue
                mm1 = prod.get(sm.inputs[0])
                mm2 = only(sm.outputs[0])
                if not std(mm1) or mm1.op != "MatMul" or only(mm1.outputs[0]) is not sm or \
                        not std(mm2) or mm2.op != "MatMul" or mm2.inputs[0] != sm.outputs[0]:
                    continue
                t4 = only(mm2.outputs[0])
                if not std(t4) or t4.op != "Transpose" or list(t4.attrs.get("perm") or []) != [1, 0, 2]:
                    continue
                qs, scale, extra = mm1.inputs[0], 1.0, []
                sn = prod.get(qs)
                if std(sn) and sn.op in ("Div", "Mul") and only(qs) is mm1:
                    c = self.consts.get(sn.input(1))
                    if c is not None and c.size == 1 and c.dtype.kind == "f" and \
                            np.isfinite(c).all() and float(c.reshape(-1)[0]) != 0.0:
                        v = float(c.reshape(-1)[0])
                        scale = float(np.float32(1.0 / v)) if sn.op == "Div" else v
                        qs, extra = sn.inputs[0], [sn]
                if only(qs) is not (extra[0] if extra else mm1):
                    continue
                q = head_of(qs, [1, 0, 2])
                k = head_of(mm1.inputs[1], [1, 2, 0])
                v = head_of(mm2.inputs[1], [1, 0, 2])
                if q is None or k is None or v is None:
                    continue
                if only(mm1.inputs[1]) is not mm1 or only(mm2.inputs[1]) is not mm2:
                    continue
                if not (q[0] == k[0] == v[0]) or q[3] != k[3] or q[2] != k[2]:
                    continue
                heads = q[2] // q[3]
                if v[2] % heads or v[2] // heads != v[3]:
                    continue
                remove = q[4] + k[4] + v[4] + extra + [mm1, sm, mm2, t4]
                if any(not std(n) for n in remove):
                    continue
                at = min(self.nodes.index(n) for n in remove)
                for n in remove:
                    self.nodes.remove(n)
                attrs = {"num_heads": heads, "head_size": q[3], "v_head_size": v[3],
                         "q_offset": q[1], "k_offset": k[1], "v_offset": v[1],
                         "scale": float(np.float32(scale))}
                self.nodes.insert(at, Node("ember.Attention", [q[0]], [t4.outputs[0]],
                                           mm1.name or (t4.outputs[0] + "_attention"), attrs))
                return True
            return False

        return self._rewrite_until_done(rewrite_one)

    def fuse_silu(self):
        """x * Sigmoid(x) (SiLU / Swish, as torch exports nn.SiLU) right after a
        fusable operator becomes its fused "silu" activation: x must feed only
        the Sigmoid and the Mul, and the Sigmoid only the Mul."""
        def rewrite_one(cons, prod):
            for s in self.nodes:
                if s.op != "Sigmoid" or s.domain not in ("", "ai.onnx"):
                    continue
                x, sig = s.inputs[0], s.outputs[0]
                p = prod.get(x)
                users = cons.get(sig, [])
                if p is None or p.op not in FUSABLE or p.activation is not None:
                    continue
                if len(users) != 1 or sig in self.outputs or x in self.outputs:
                    continue
                m = users[0]
                if m.op != "Mul" or m.domain not in ("", "ai.onnx") or sorted(m.inputs) != sorted([x, sig]):
                    continue
                if len(cons.get(x, [])) != 2 or p.outputs[0] != x or self._elem_type(x) not in (0, 1):
                    continue
                p.activation = ("silu",)
                p.outputs[0] = m.outputs[0]
                self.nodes.remove(s)
                self.nodes.remove(m)
                return True
            return False

        return self._rewrite_until_done(rewrite_one)

    def fuse_activations(self):
        def rewrite_one(cons, prod):
            for a in self.nodes:
                if a.op not in ACTIVATION_OPS or a.domain not in ("", "ai.onnx"):
                    continue
                x = a.inputs[0]
                p = prod.get(x)
                if p is None or p.op not in FUSABLE:
                    continue
                if len(cons.get(x, [])) != 1 or x in self.outputs or p.outputs[0] != x:
                    continue
                if self._elem_type(x) not in (0, 1):
                    continue
                act = self._activation_of(a)
                if act is None:
                    continue
                if p.activation is not None:
                    act = _compose_clip(p.activation, act)
                    if act is None:
                        continue
                p.activation = act
                p.outputs[0] = a.outputs[0]
                self.nodes.remove(a)
                return True
            return False

        return self.fuse_silu() + self._rewrite_until_done(rewrite_one)

    def _activation_of(self, a):
        op = a.op
        if op == "Relu":
            return ("relu",)
        if op == "Sigmoid":
            return ("sigmoid",)
        if op == "Tanh":
            return ("tanh",)
        if op == "HardSwish":
            return ("hard_swish",)
        if op == "HardSigmoid":
            return ("hard_sigmoid", a.attrs.get("alpha", 0.2), a.attrs.get("beta", 0.5))
        if op == "LeakyRelu":
            return ("leaky_relu", a.attrs.get("alpha", 0.01))
        if op == "Clip":
            if len(a.inputs) > 1:
                lo, hi = a.input(1), a.input(2)
                if (lo and lo not in self.consts) or (hi and hi not in self.consts):
                    return None
                lo = float(self.consts[lo].reshape(-1)[0]) if lo else float("-inf")
                hi = float(self.consts[hi].reshape(-1)[0]) if hi else float("inf")
            else:
                lo = float(a.attrs.get("min", float("-inf")))
                hi = float(a.attrs.get("max", float("inf")))
            if lo == 0.0 and hi == float("inf"):
                return ("relu",)
            return ("clip", lo, hi)
        return None

    # -- 8. checks
    def check_supported(self):
        bad = {}
        for n in self.nodes:
            key = n.op if n.domain in ("", "ai.onnx") else "%s.%s" % (n.domain, n.op)
            if n.domain not in ("", "ai.onnx") or n.op not in SUPPORTED_OPS:
                bad.setdefault(key, []).append(n.name or n.outputs[0])
        if bad:
            parts = []
            for op in sorted(bad):
                names = bad[op]
                shown = ", ".join(names[:8]) + (", ... (%d in all)" % len(names)
                                                 if len(names) > 8 else "")
                parts.append("%s (%s)" % (op, shown))
            raise UnsupportedError("unsupported operators (opset %d): %s"
                                   % (self.opset, "; ".join(parts)))

    def check_constant_inputs(self):
        for n in self.nodes:
            for i in CONST_INPUTS.get(n.op, ()):
                x = n.input(i)
                if x and x not in self.consts:
                    what = {"Reshape": "shape", "Expand": "shape", "Pad": "pads/axes",
                            "Split": "split", "Resize": "scales/sizes"}.get(n.op, "input")
                    raise ConversionError(
                        "%s %s: input %d (%s, %r) must be a constant, but it is computed at run "
                        "time and could not be folded (a shape the converter cannot resolve)"
                        % (n.op, n.name or n.outputs[0], i, what, x))

    # -- dtypes of activation tensors
    def dtypes(self):
        et = {}
        for name, t, _ in self.inputs:
            et[name] = t
        for name, v in self.consts.items():
            et[name] = _onnx_of_np(v.dtype)
        for n in self.nodes:
            for k, o in enumerate(n.outputs):
                if not o:
                    continue
                t = self.value_info.get(o, (0, None))[0]
                if not t:
                    if n.op == "Cast":
                        t = n.attrs.get("to", 0)
                    elif n.op == "ArgMax":
                        t = 7
                    elif n.op == "Where":
                        t = et.get(n.input(1), 0)
                    else:
                        t = et.get(n.input(0), 0)
                et[o] = t
        return et

    # -- write
    def build(self, meta):
        b = emf.ModelBuilder()
        et = self.dtypes()
        used = set()
        for n in self.nodes:
            used.update(x for x in n.inputs if x)
        for name, t, shape in self.inputs:
            b.input(name, ONNX_DTYPES[t], shape)
        # graph outputs that are constants or graph inputs under another name
        graph_inputs = {i[0] for i in self.inputs}
        for o in self.outputs:
            if o in self.consts:
                c = self._fresh(o + "_value")
                self.consts[c] = self.consts.pop(o)
                self.nodes.append(Node("Identity", [c], [o], o + "_identity"))
                et[c] = et[o]
                used.add(c)
        for name in sorted(used & set(self.consts), key=lambda k: list(self.consts).index(k)):
            v = self.consts[name]
            if _onnx_of_np(v.dtype) not in ONNX_DTYPES:
                raise ConversionError("tensor %s has dtype %s, which ember does not support"
                                      % (name, _dtype_name(_onnx_of_np(v.dtype)) if
                                         _onnx_of_np(v.dtype) else v.dtype))
            if v.ndim > emf.MAX_RANK:
                raise ConversionError("tensor %s has rank %d > %d" % (name, v.ndim, emf.MAX_RANK))
            b.constant(name, v)
        produced = set()
        for n in self.nodes:
            for o in n.outputs:
                if o and o not in produced:
                    produced.add(o)
                    t = et.get(o, 0) or 1
                    if t not in ONNX_DTYPES:
                        raise ConversionError("tensor %s (output of %s %s) has dtype %s, which "
                                              "ember does not support"
                                              % (o, n.op, n.name, _dtype_name(t)))
                    b.tensor(o, ONNX_DTYPES[t])
        for n in self.nodes:
            attrs = {}
            for k, v in n.attrs.items():
                if v is None or _is_subgraph_attr(v):
                    continue
                if isinstance(v, list) and v and isinstance(v[0], str):
                    continue
                if not isinstance(v, (int, float, str, list, tuple, np.ndarray)):
                    continue
                attrs[k] = v
            outs = list(n.outputs)
            while len(outs) > 1 and not outs[-1]:
                outs.pop()
            if any(not o for o in outs):
                for i, o in enumerate(outs):
                    if not o:
                        outs[i] = self._fresh("%s_unused%d" % (n.name or n.op, i))
                        b.tensor(outs[i], ONNX_DTYPES.get(et.get(n.outputs[0], 1), "f32"))
            ins = list(n.inputs)
            while ins and not ins[-1]:
                ins.pop()
            b.node(n.op, ins, outs, name=n.name, attrs=attrs, activation=n.activation)
        for o in self.outputs:
            if o not in produced and o not in graph_inputs:
                raise ConversionError("graph output %s is produced by no node" % o)
            b.output(o)
        b.metadata(**meta)
        return b


def _load(model):
    onnx = _onnx()
    if isinstance(model, onnx.ModelProto):
        return model, None
    path = os.fspath(model)
    if not os.path.isfile(path):
        raise ConversionError("%s: no such file" % path)
    with open(path, "rb") as f:
        data = f.read()
    m = onnx.ModelProto()
    try:
        m.ParseFromString(data)
    except Exception:  # noqa: BLE001
        raise ConversionError("%s is not an ONNX model (it does not parse as an ONNX "
                              "ModelProto)" % path) from None
    if m.ir_version <= 0 or not m.HasField("graph") or not m.opset_import:
        raise ConversionError("%s is not an ONNX model (no IR version, graph or opset)" % path)
    from onnx import external_data_helper
    base = os.path.dirname(os.path.abspath(path))
    try:
        external_data_helper.load_external_data_for_model(m, base)
    except Exception as e:  # noqa: BLE001
        raise ConversionError("%s: cannot read external data: %s" % (path, e)) from None
    return m, base


def convert(model, out_path, name=None, version=None, labels=None, description=None,
            freeze_inputs=None, quiet=True, fuse_attention=True):
    """Converts an ONNX model (a path or an onnx.ModelProto) into a .ember file
    at out_path. labels: a list of strings. freeze_inputs: {input name: array}
    turns those graph inputs into constants. fuse_attention=False keeps
    multi-head attention as the ONNX operators it was exported as (no
    ember.Attention node). Returns a summary dict: nodes_before, nodes_after,
    parameters, file_size, batchnorms_folded, activations_fused, gelus_fused,
    attentions_fused, opset, path. Raises ConversionError (UnsupportedError
    for unsupported operators) and then writes nothing."""
    m, _ = _load(model)
    notes = []
    c = _Converter(m, freeze_inputs=freeze_inputs, quiet=quiet, log=notes.append)
    c.constant_nodes()
    c.fold_loop()
    c.rewrite()
    c.drop_identities()
    c.fold_loop()
    c.drop_identities()
    n_bn = c.fold_batchnorm()
    n_gelu = c.fuse_gelu()
    n_act = c.fuse_activations()
    n_att = c.fuse_attention() if fuse_attention else 0
    c.dce()
    c.check_supported()
    c.check_constant_inputs()

    meta = {"producer": PRODUCER}
    if m.producer_name:
        meta["source_producer"] = (m.producer_name + (" " + m.producer_version
                                                      if m.producer_version else ""))
    for p in m.metadata_props:
        if p.key and p.key not in ("producer",):
            meta[p.key] = p.value
    desc = description if description is not None else (m.doc_string or None)
    if desc:
        meta["description"] = desc
    if name is not None:
        meta["name"] = name
    if version is not None:
        meta["version"] = version
    elif "version" not in meta and m.model_version:
        meta["version"] = str(m.model_version)
    if labels is not None:
        labels = [str(x) for x in labels]
        if any("\n" in x for x in labels):
            raise ConversionError("a label contains a newline")
        meta["labels"] = "\n".join(labels)
    try:
        b = c.build(meta)
        data = b.to_bytes()
    except emf.FormatError as e:
        raise ConversionError("cannot write the model: %s" % e) from None

    out_path = os.fspath(out_path)
    d = os.path.dirname(os.path.abspath(out_path))
    fd, tmp = tempfile.mkstemp(prefix=".ember-convert-", suffix=".tmp", dir=d)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, out_path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    params = int(sum(v.size for k, v in c.consts.items()))
    summary = {"path": out_path, "opset": c.opset, "nodes_before": c.nodes_before,
               "nodes_after": len(c.nodes), "parameters": params, "file_size": len(data),
               "batchnorms_folded": n_bn, "activations_fused": n_act, "gelus_fused": n_gelu,
               "attentions_fused": n_att,
               "notes": notes}
    if not quiet:
        print(format_summary(summary))
    return summary


def format_summary(s):
    return ("%s: opset %d, nodes %d -> %d (%d BatchNormalization folded, %d activations fused, "
            "%d GELU patterns fused, %d attention patterns fused), %d parameters, %d bytes"
            % (s["path"], s["opset"], s["nodes_before"], s["nodes_after"], s["batchnorms_folded"],
               s["activations_fused"], s.get("gelus_fused", 0), s.get("attentions_fused", 0),
               s["parameters"], s["file_size"]))


# --------------------------------------------------------------------------- CLI

class _Parser(argparse.ArgumentParser):
    def error(self, message):
        self.print_usage(sys.stderr)
        sys.stderr.write("%s: error: %s\n" % (self.prog, message))
        sys.exit(2)


def main(argv=None):
    p = _Parser(prog="python3 -m ember.convert",
                description="Convert an ONNX model into a .ember file.")
    p.add_argument("input", help="the ONNX model (.onnx)")
    p.add_argument("output", help="the .ember file to write")
    p.add_argument("--name", help="model name stored in the metadata")
    p.add_argument("--version", dest="model_version", help="model version stored in the metadata")
    p.add_argument("--labels", metavar="FILE", help="class labels, one per line")
    p.add_argument("--description", help="description stored in the metadata")
    p.add_argument("--freeze", metavar="NAME=FILE.npy", action="append", default=[],
                   help="turn graph input NAME into a constant with the array in FILE.npy")
    p.add_argument("--pack", nargs="?", const="default", metavar="ISA",
                   help="then pre-pack the weights for this machine's kernel path (or ISA: "
                        "generic, avx2, avx512, neon) with libember, as `ember pack` does")
    p.add_argument("-q", "--quiet", action="store_true", help="print nothing on success")
    a = p.parse_args(argv)
    if a.pack not in (None, "default", "generic", "avx2", "avx512", "neon"):
        p.error("--pack takes generic, avx2, avx512 or neon, not %r" % a.pack)
    labels = None
    freeze = {}
    try:
        if a.labels is not None:
            try:
                with open(a.labels, encoding="utf-8") as f:
                    labels = [ln.rstrip("\r\n") for ln in f]
            except OSError as e:
                raise ConversionError("cannot read labels file %s: %s" % (a.labels, e.strerror))
            while labels and labels[-1] == "":
                labels.pop()
        for spec in a.freeze:
            if "=" not in spec:
                p.error("--freeze expects NAME=FILE.npy, got %r" % spec)
            k, fn = spec.split("=", 1)
            try:
                freeze[k] = np.load(fn, allow_pickle=False)
            except (OSError, ValueError) as e:
                raise ConversionError("cannot read %s: %s" % (fn, e))
        s = convert(a.input, a.output, name=a.name, version=a.model_version, labels=labels,
                    description=a.description, freeze_inputs=freeze or None, quiet=True)
    except ConversionError as e:
        sys.stderr.write("error: %s\n" % str(e).replace("\n", " "))
        return 1
    except KeyboardInterrupt:
        return 130
    if a.pack is not None:
        # the converted file is complete and valid: a failure here leaves it as
        # written, unpacked, and says so
        try:
            from ember.runtime import Error, pack
            pack(a.output, a.output, isa=None if a.pack == "default" else a.pack)
        except Error as e:
            sys.stderr.write("error: %s was written but not pre-packed: %s\n" % (a.output, e))
            return 1
    if not a.quiet:
        print(format_summary(s))
        if a.pack is not None:
            print("pre-packed for %s: %s" % ("this machine" if a.pack == "default" else a.pack,
                                              a.output))
    return 0


if __name__ == "__main__":
    sys.exit(main())
