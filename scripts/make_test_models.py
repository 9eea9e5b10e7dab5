#!/usr/bin/python3
"""Writes the small test models of tests/models/ with inputs and expected outputs.

    /usr/bin/python3 scripts/make_test_models.py [out_dir]   (default tests/models)

For each model M: M.ember, M.input.bin (graph inputs) and M.expected.bin
(graph outputs, in graph output order), at batch 1; mlp also has
mlp.batch3.input.bin / mlp.batch3.expected.bin.

The .bin files are a sequence of records, read until end of file:

    uint32_t name_len;           little-endian
    char     name[name_len];     UTF-8, no NUL
    uint32_t dtype;              ember_dtype number (1 = f32, 6 = i64, ...)
    uint32_t rank;
    int64_t  dims[rank];
    uint8_t  data[];             numel * dtype size bytes, row-major, little-endian

Expected outputs come from an implementation independent of ember: numpy in
float64 (torch.nn.functional in float64 for Conv and pooling), rounded to
float32 at the end. Everything is seeded: running the script twice writes
identical files.
"""
import math
import os
import struct
import sys

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "bindings", "python"))

from ember.format import DTYPE_NAMES, NUMPY_DTYPES, ModelBuilder, dtype_number  # noqa: E402

PRODUCER = "ember scripts/make_test_models.py"


# ------------------------------------------------------------------ raw records

def write_records(path, records):
    """records: list of (name, numpy array)."""
    out = bytearray()
    for name, arr in records:
        arr = np.asarray(arr)
        num = dtype_number(arr.dtype)
        arr = np.array(arr, dtype=NUMPY_DTYPES[num], order="C")
        nb = name.encode("utf-8")
        out += struct.pack("<I", len(nb)) + nb
        out += struct.pack("<II", num, arr.ndim)
        out += struct.pack("<%dq" % arr.ndim, *arr.shape)
        out += arr.tobytes()
    with open(path, "wb") as f:
        f.write(out)


def read_records(path):
    with open(path, "rb") as f:
        data = f.read()
    pos, out = 0, []
    while pos < len(data):
        (n,) = struct.unpack_from("<I", data, pos)
        name = data[pos + 4:pos + 4 + n].decode("utf-8")
        pos += 4 + n
        num, rank = struct.unpack_from("<II", data, pos)
        pos += 8
        dims = struct.unpack_from("<%dq" % rank, data, pos)
        pos += 8 * rank
        dt = NUMPY_DTYPES[num]
        count = int(np.prod(dims, dtype=np.int64))
        arr = np.frombuffer(data, dtype=dt, count=count, offset=pos).reshape(dims).copy()
        pos += count * dt.itemsize
        out.append((name, arr))
    return out


# ------------------------------------------------------------ reference math

def torch_f64():
    import torch
    import torch.nn.functional as F
    torch.set_num_threads(1)
    return torch, F


def conv2d(x, w, b, stride=1, pad=1):
    torch, F = torch_f64()
    y = F.conv2d(torch.from_numpy(x.astype(np.float64)), torch.from_numpy(w.astype(np.float64)),
                 torch.from_numpy(b.astype(np.float64)), stride=stride, padding=pad)
    return y.numpy()


def maxpool2d(x, k, s):
    torch, F = torch_f64()
    return F.max_pool2d(torch.from_numpy(x.astype(np.float64)), k, s).numpy()


def relu(x):
    return np.maximum(x, 0.0)


def softmax(x, axis=-1):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def gemm(x, w, b):  # transB = 1
    return x.astype(np.float64) @ w.astype(np.float64).T + b.astype(np.float64)


def f32(x):
    return np.asarray(x, dtype=np.float64).astype(np.float32)


def init(rng, shape, fan_in, gain=1.0):
    return (rng.standard_normal(shape) * gain / math.sqrt(fan_in)).astype(np.float32)


# ------------------------------------------------------------------- models

def make_mlp(out):
    rng = np.random.default_rng(1001)
    w1, b1 = init(rng, (32, 16), 16, 1.4), (rng.standard_normal(32) * 0.1).astype(np.float32)
    w2, b2 = init(rng, (10, 32), 32), (rng.standard_normal(10) * 0.1).astype(np.float32)
    b = ModelBuilder()
    b.input("x", "f32", ["batch", 16])
    b.constant("fc1.weight", w1)
    b.constant("fc1.bias", b1)
    b.constant("fc2.weight", w2)
    b.constant("fc2.bias", b2)
    b.node("Gemm", ["x", "fc1.weight", "fc1.bias"], ["h1"], name="fc1",
           attrs={"transB": 1}, activation="relu")
    b.node("Gemm", ["h1", "fc2.weight", "fc2.bias"], ["logits"], name="fc2", attrs={"transB": 1})
    b.node("Softmax", ["logits"], ["probs"], name="softmax", attrs={"axis": -1})
    b.output("probs")
    b.metadata(name="mlp", version="1.0", producer=PRODUCER,
               description="16 -> 32 (relu) -> 10 -> softmax; test model",
               labels=["c%d" % i for i in range(10)])
    b.save(os.path.join(out, "mlp.ember"))

    def ref(x):
        return f32(softmax(gemm(relu(gemm(x, w1, b1)), w2, b2)))

    x1 = rng.standard_normal((1, 16)).astype(np.float32)
    write_records(os.path.join(out, "mlp.input.bin"), [("x", x1)])
    write_records(os.path.join(out, "mlp.expected.bin"), [("probs", ref(x1))])
    x3 = rng.standard_normal((3, 16)).astype(np.float32)
    write_records(os.path.join(out, "mlp.batch3.input.bin"), [("x", x3)])
    write_records(os.path.join(out, "mlp.batch3.expected.bin"), [("probs", ref(x3))])


def make_cnn(out):
    rng = np.random.default_rng(1002)
    w1, b1 = init(rng, (8, 3, 3, 3), 27, 1.4), (rng.standard_normal(8) * 0.1).astype(np.float32)
    w2, b2 = init(rng, (16, 8, 3, 3), 72, 1.4), (rng.standard_normal(16) * 0.1).astype(np.float32)
    w3, b3 = init(rng, (5, 16), 16), (rng.standard_normal(5) * 0.1).astype(np.float32)
    b = ModelBuilder()
    b.input("x", "f32", [1, 3, 16, 16])
    for n, a in (("conv1.weight", w1), ("conv1.bias", b1), ("conv2.weight", w2),
                 ("conv2.bias", b2), ("fc.weight", w3), ("fc.bias", b3)):
        b.constant(n, a)
    b.node("Conv", ["x", "conv1.weight", "conv1.bias"], ["c1"], name="conv1",
           attrs={"kernel_shape": [3, 3], "pads": [1, 1, 1, 1], "strides": [1, 1],
                  "dilations": [1, 1], "group": 1}, activation="relu")
    b.node("MaxPool", ["c1"], ["p1"], name="pool1",
           attrs={"kernel_shape": [2, 2], "strides": [2, 2]})
    b.node("Conv", ["p1", "conv2.weight", "conv2.bias"], ["c2"], name="conv2",
           attrs={"kernel_shape": [3, 3], "pads": [1, 1, 1, 1], "strides": [2, 2]})
    b.node("Relu", ["c2"], ["r2"], name="relu2")
    b.node("GlobalAveragePool", ["r2"], ["g"], name="gap")
    b.node("Flatten", ["g"], ["f"], name="flatten", attrs={"axis": 1})
    b.node("Gemm", ["f", "fc.weight", "fc.bias"], ["logits"], name="fc", attrs={"transB": 1})
    b.output("logits")
    b.metadata(name="cnn", version="1.0", producer=PRODUCER,
               description="conv-relu, maxpool, conv stride 2, relu, global average pool, "
                           "flatten, gemm; test model")
    b.save(os.path.join(out, "cnn.ember"))

    x = rng.standard_normal((1, 3, 16, 16)).astype(np.float32)
    h = relu(conv2d(x, w1, b1, 1, 1))
    h = maxpool2d(h, 2, 2)
    h = relu(conv2d(h, w2, b2, 2, 1))
    h = h.mean(axis=(2, 3)).reshape(1, 16)
    y = f32(gemm(h, w3, b3))
    write_records(os.path.join(out, "cnn.input.bin"), [("x", x)])
    write_records(os.path.join(out, "cnn.expected.bin"), [("logits", y)])


def make_fused(out):
    """Each of the planner's fusions once, at sizes that take them (>= 3 MB
    intermediates), so the C tests (and valgrind, the sanitizers and qemu)
    run them: a stem Conv into its MaxPool, a per-channel Mul into a 1x1 Conv,
    a 1x1 Conv into a depthwise Conv."""
    torch, F = torch_f64()
    rng = np.random.default_rng(1006)
    ws, bs = init(rng, (64, 3, 3, 3), 27, 1.4), (rng.standard_normal(64) * 0.1).astype(np.float32)
    wr, br = init(rng, (16, 64, 1, 1), 64, 1.4), (rng.standard_normal(16) * 0.1).astype(np.float32)
    we, be = init(rng, (64, 16, 1, 1), 16, 1.0), (rng.standard_normal(64) * 0.1).astype(np.float32)
    wp, bp = init(rng, (64, 64, 1, 1), 64, 1.4), (rng.standard_normal(64) * 0.1).astype(np.float32)
    wx, bx = init(rng, (256, 64, 1, 1), 64, 1.4), (rng.standard_normal(256) * 0.1).astype(np.float32)
    wd, bd = init(rng, (256, 1, 3, 3), 9, 1.4), (rng.standard_normal(256) * 0.1).astype(np.float32)
    b = ModelBuilder()
    b.input("x", "f32", [1, 3, 112, 112])
    for n, a in (("stem.w", ws), ("stem.b", bs), ("se.reduce.w", wr), ("se.reduce.b", br),
                 ("se.expand.w", we), ("se.expand.b", be), ("project.w", wp), ("project.b", bp),
                 ("expand.w", wx), ("expand.b", bx), ("dw.w", wd), ("dw.b", bd)):
        b.constant(n, a)
    one = {"kernel_shape": [1, 1]}
    b.node("Conv", ["x", "stem.w", "stem.b"], ["s"], name="stem",
           attrs={"kernel_shape": [3, 3], "pads": [1, 1, 1, 1]}, activation="relu")
    b.node("MaxPool", ["s"], ["p"], name="pool",
           attrs={"kernel_shape": [3, 3], "strides": [2, 2], "pads": [1, 1, 1, 1]})
    b.node("GlobalAveragePool", ["p"], ["g"], name="se.pool")
    b.node("Conv", ["g", "se.reduce.w", "se.reduce.b"], ["r"], name="se.reduce", attrs=one,
           activation="relu")
    b.node("Conv", ["r", "se.expand.w", "se.expand.b"], ["e"], name="se.expand", attrs=one,
           activation="sigmoid")
    b.node("Mul", ["p", "e"], ["m"], name="se.scale")
    b.node("Conv", ["m", "project.w", "project.b"], ["q"], name="project", attrs=one)
    b.node("Conv", ["q", "expand.w", "expand.b"], ["h"], name="expand", attrs=one,
           activation=("clip", 0.0, 6.0))
    b.node("Conv", ["h", "dw.w", "dw.b"], ["d"], name="dw",
           attrs={"kernel_shape": [3, 3], "pads": [1, 1, 1, 1], "strides": [2, 2], "group": 256},
           activation=("clip", 0.0, 6.0))
    b.node("GlobalAveragePool", ["d"], ["gd"], name="head.pool")
    b.node("Flatten", ["gd"], ["y"], name="flatten", attrs={"axis": 1})
    b.output("y")
    b.metadata(name="fused", version="1.0", producer=PRODUCER,
               description="stem conv + maxpool, squeeze-excite scale + 1x1, 1x1 expand + "
                           "depthwise: one of each of the planner's fusions")
    b.save(os.path.join(out, "fused.ember"))

    x = rng.standard_normal((1, 3, 112, 112)).astype(np.float32)
    t = lambda a: torch.from_numpy(np.asarray(a, dtype=np.float64))  # noqa: E731
    h = F.relu(F.conv2d(t(x), t(ws), t(bs), padding=1))
    p = F.max_pool2d(h, 3, 2, padding=1)
    g = p.mean(dim=(2, 3), keepdim=True)
    e = torch.sigmoid(F.conv2d(F.relu(F.conv2d(g, t(wr), t(br))), t(we), t(be)))
    q = F.conv2d(p * e, t(wp), t(bp))
    hh = torch.clamp(F.conv2d(q, t(wx), t(bx)), 0, 6)
    d = torch.clamp(F.conv2d(hh, t(wd), t(bd), stride=2, padding=1, groups=256), 0, 6)
    y = f32(d.mean(dim=(2, 3)).numpy())
    write_records(os.path.join(out, "fused.input.bin"), [("x", x)])
    write_records(os.path.join(out, "fused.expected.bin"), [("y", y)])


def make_blocked(out):
    """A small MobileNet / EfficientNet-like model whose body runs on the
    channel-blocked layout on AVX-512 (plan.c assign_layouts), so the C tests
    (and the sanitizers) run every blocked operator: a stem writing blocked,
    depthwise 3x3 / 5x5 (strides 1 and 2), 1x1 with 24 channels (a half-used
    panel), squeeze-excite (pool, scale folded into the project 1x1), a
    residual Add, the pool at the end, and a second output inside the region
    (converted back). Other paths run it plain."""
    torch, F = torch_f64()
    rng = np.random.default_rng(1007)
    shapes = {"stem": ((16, 3, 3, 3), 27), "dw1": ((16, 1, 3, 3), 9), "p1": ((24, 16, 1, 1), 16),
              "e2": ((72, 24, 1, 1), 24), "dw2": ((72, 1, 5, 5), 25), "se1": ((18, 72, 1, 1), 72),
              "se2": ((72, 18, 1, 1), 18), "p2": ((24, 72, 1, 1), 72), "e3": ((48, 24, 1, 1), 24),
              "dw3": ((48, 1, 3, 3), 9), "p3": ((24, 48, 1, 1), 48)}
    w = {k: init(rng, s_, fan, 1.4) for k, (s_, fan) in shapes.items()}
    bias = {k: (rng.standard_normal(s_[0]) * 0.1).astype(np.float32) for k, (s_, _) in shapes.items()}
    b = ModelBuilder()
    b.input("x", "f32", [1, 3, 80, 80])
    for k in shapes:
        b.constant(k + ".w", w[k])
        b.constant(k + ".b", bias[k])
    one = {"kernel_shape": [1, 1]}
    relu6 = ("clip", 0.0, 6.0)
    b.node("Conv", ["x", "stem.w", "stem.b"], ["s"], name="stem",
           attrs={"kernel_shape": [3, 3], "strides": [2, 2], "pads": [1, 1, 1, 1]}, activation=relu6)
    b.node("Conv", ["s", "dw1.w", "dw1.b"], ["d1"], name="dw1",
           attrs={"kernel_shape": [3, 3], "pads": [1, 1, 1, 1], "group": 16}, activation=relu6)
    b.node("Conv", ["d1", "p1.w", "p1.b"], ["q1"], name="p1", attrs=one)
    b.node("Conv", ["q1", "e2.w", "e2.b"], ["h2"], name="e2", attrs=one, activation="silu")
    b.node("Conv", ["h2", "dw2.w", "dw2.b"], ["d2"], name="dw2",
           attrs={"kernel_shape": [5, 5], "strides": [2, 2], "pads": [2, 2, 2, 2], "group": 72},
           activation="silu")
    b.node("GlobalAveragePool", ["d2"], ["g2"], name="se.pool")
    b.node("Conv", ["g2", "se1.w", "se1.b"], ["r2"], name="se.reduce", attrs=one, activation="silu")
    b.node("Conv", ["r2", "se2.w", "se2.b"], ["e2s"], name="se.expand", attrs=one,
           activation="sigmoid")
    b.node("Mul", ["d2", "e2s"], ["m2"], name="se.scale")
    b.node("Conv", ["m2", "p2.w", "p2.b"], ["q2"], name="p2", attrs=one)
    b.node("Conv", ["q2", "e3.w", "e3.b"], ["h3"], name="e3", attrs=one, activation="hard_swish")
    b.node("Conv", ["h3", "dw3.w", "dw3.b"], ["d3"], name="dw3",
           attrs={"kernel_shape": [3, 3], "pads": [1, 1, 1, 1], "group": 48}, activation="hard_swish")
    b.node("Conv", ["d3", "p3.w", "p3.b"], ["q3"], name="p3", attrs=one)
    b.node("Add", ["q2", "q3"], ["a3"], name="add")
    b.node("GlobalAveragePool", ["a3"], ["ga"], name="head.pool")
    b.node("Flatten", ["ga"], ["y"], name="flatten", attrs={"axis": 1})
    b.output("y")
    b.output("q1")
    b.metadata(name="blocked", version="1.0", producer=PRODUCER,
               description="stem, depthwise, 1x1, squeeze-excite, residual Add: a region of "
                           "the channel-blocked layout")
    b.save(os.path.join(out, "blocked.ember"))

    x = rng.standard_normal((1, 3, 80, 80)).astype(np.float32)
    t = lambda a: torch.from_numpy(np.asarray(a, dtype=np.float64))  # noqa: E731
    conv = lambda v, k, **kw: F.conv2d(v, t(w[k]), t(bias[k]), **kw)  # noqa: E731
    hsw = lambda v: v * torch.clamp(v / 6 + 0.5, 0, 1)  # noqa: E731
    silu = lambda v: v * torch.sigmoid(v)  # noqa: E731
    s_ = torch.clamp(conv(t(x), "stem", stride=2, padding=1), 0, 6)
    d1 = torch.clamp(conv(s_, "dw1", padding=1, groups=16), 0, 6)
    q1 = conv(d1, "p1")
    d2 = silu(conv(silu(conv(q1, "e2")), "dw2", stride=2, padding=2, groups=72))
    e = torch.sigmoid(conv(silu(conv(d2.mean(dim=(2, 3), keepdim=True), "se1")), "se2"))
    q2 = conv(d2 * e, "p2")
    d3 = hsw(conv(hsw(conv(q2, "e3")), "dw3", padding=1, groups=48))
    a3 = q2 + conv(d3, "p3")
    y = f32(a3.mean(dim=(2, 3)).numpy())
    write_records(os.path.join(out, "blocked.input.bin"), [("x", x)])
    write_records(os.path.join(out, "blocked.expected.bin"), [("y", y), ("q1", f32(q1.numpy()))])


def make_deep(out, blocks=40):
    rng = np.random.default_rng(1003)
    b = ModelBuilder()
    b.input("x", "f32", [1, 8, 32, 32])
    x = rng.standard_normal((1, 8, 32, 32)).astype(np.float32)
    h = x.astype(np.float64)
    prev = "x"
    for i in range(blocks):
        w = init(rng, (8, 8, 3, 3), 72, 0.3)
        bias = (rng.standard_normal(8) * 0.02).astype(np.float32)
        wn, bn = b.constant("block%d.conv.weight" % i, w), b.constant("block%d.conv.bias" % i, bias)
        c = "block%d.conv" % i
        o = "block%d.out" % i if i < blocks - 1 else "y"
        b.node("Conv", [prev, wn, bn], [c], name=c,
               attrs={"kernel_shape": [3, 3], "pads": [1, 1, 1, 1]}, activation="relu")
        b.node("Add", [c, prev], [o], name="block%d.add" % i)
        h = relu(conv2d(h, w, bias, 1, 1)) + h
        prev = o
    b.output("y")
    b.metadata(name="deep", version="1.0", producer=PRODUCER,
               description="%d residual blocks of conv3x3(8->8)+relu and add; memory planner "
                           "test: the naive sum of activations is far above what is live at "
                           "once" % blocks)
    b.save(os.path.join(out, "deep.ember"))
    assert np.abs(h).max() < 1e3
    write_records(os.path.join(out, "deep.input.bin"), [("x", x)])
    write_records(os.path.join(out, "deep.expected.bin"), [("y", f32(h))])


def make_ops(out):
    """Many op kinds in one graph (ONNX semantics: ReduceMean with an axes
    attribute as up to opset 17; Gelu as in opset 20, approximate="none")."""
    rng = np.random.default_rng(1004)
    shape_c = np.array([1, 3, 8], np.int64)
    cat_c = rng.standard_normal((1, 3, 8)).astype(np.float32)
    starts, ends = np.array([1, 0], np.int64), np.array([5, 8], np.int64)
    axes, steps = np.array([1, 2], np.int64), np.array([1, 2], np.int64)
    ln_scale = (1.0 + 0.2 * rng.standard_normal(4)).astype(np.float32)
    ln_bias = (0.1 * rng.standard_normal(4)).astype(np.float32)
    wm = init(rng, (4, 6), 4)
    cond = rng.random((4, 6)) < 0.5
    gidx = np.array([3, 0, -3], np.int64)

    b = ModelBuilder()
    b.input("x", "f32", [1, 4, 6])
    for n, a in (("shape", shape_c), ("cat", cat_c), ("starts", starts), ("ends", ends),
                 ("axes", axes), ("steps", steps), ("ln.scale", ln_scale), ("ln.bias", ln_bias),
                 ("mm.weight", wm), ("cond", cond), ("gather.indices", gidx)):
        b.constant(n, a)
    b.tensor("half", "f16")
    b.node("Transpose", ["x"], ["t"], name="transpose", attrs={"perm": [0, 2, 1]})
    b.node("Reshape", ["t", "shape"], ["r"], name="reshape")
    b.node("Concat", ["r", "cat"], ["c"], name="concat", attrs={"axis": 1})
    b.node("Slice", ["c", "starts", "ends", "axes", "steps"], ["s"], name="slice")
    b.node("Sigmoid", ["s"], ["sg"], name="sigmoid")
    b.node("Mul", ["s", "sg"], ["silu"], name="mul_silu")
    b.node("ReduceMean", ["silu"], ["mean"], name="reduce_mean", attrs={"axes": [2], "keepdims": 1})
    b.node("Mul", ["silu", "mean"], ["scaled"], name="mul_broadcast")
    b.node("LayerNormalization", ["scaled", "ln.scale", "ln.bias"], ["ln"], name="layer_norm",
           attrs={"axis": -1, "epsilon": 1e-5})
    b.node("MatMul", ["ln", "mm.weight"], ["mm"], name="matmul")
    b.node("Gelu", ["mm"], ["gelu"], name="gelu")
    b.node("Where", ["cond", "gelu", "mm"], ["where"], name="where")
    b.node("Gather", ["where", "gather.indices"], ["gathered"], name="gather", attrs={"axis": 1})
    b.node("Cast", ["gathered"], ["half"], name="to_f16", attrs={"to": 10})
    b.node("Cast", ["half"], ["out"], name="to_f32", attrs={"to": 1})
    b.output("out")
    b.output("mean")
    b.metadata(name="ops", version="1.0", producer=PRODUCER,
               description="Transpose, Reshape, Concat, Slice, Sigmoid, Mul, ReduceMean, "
                           "LayerNormalization, MatMul, Gelu, Where, Gather, Cast; test model")
    b.save(os.path.join(out, "ops.ember"))

    x = rng.standard_normal((1, 4, 6)).astype(np.float32)
    v = x.astype(np.float64).transpose(0, 2, 1).reshape(1, 3, 8)
    v = np.concatenate([v, cat_c.astype(np.float64)], axis=1)[:, 1:5, 0:8:2]
    v = v * (1.0 / (1.0 + np.exp(-v)))
    mean = v.mean(axis=2, keepdims=True)
    v = v * mean
    mu, var = v.mean(axis=-1, keepdims=True), v.var(axis=-1, keepdims=True)
    v = (v - mu) / np.sqrt(var + 1e-5) * ln_scale + ln_bias
    mm = v @ wm.astype(np.float64)
    erf = np.vectorize(math.erf)
    gelu = 0.5 * mm * (1.0 + erf(mm / math.sqrt(2.0)))
    w = np.where(cond, gelu, mm)
    g = np.take(w, np.where(gidx < 0, gidx + w.shape[1], gidx), axis=1)
    g32 = f32(g)
    outv = g32.astype(np.float16).astype(np.float32)
    # the f32 -> f16 rounding must not sit on a tie that float error could flip
    lo = np.abs(g32.astype(np.float16).astype(np.float64) - g32)
    ulp = np.spacing(np.abs(g32).astype(np.float16)).astype(np.float64)
    assert np.all(np.abs(lo - ulp / 2) > 1e-3 * ulp), "f16 rounding too close to a tie"
    write_records(os.path.join(out, "ops.input.bin"), [("x", x)])
    write_records(os.path.join(out, "ops.expected.bin"), [("out", outv), ("mean", f32(mean))])


def make_gather(out):
    """Gather with run-time indices: an out-of-range index must fail at run,
    naming the node, without writing the output."""
    b = ModelBuilder()
    b.input("data", "f32", [4, 3])
    b.input("indices", "i64", [2])
    b.node("Gather", ["data", "indices"], ["rows"], name="pick_rows", attrs={"axis": 0})
    b.output("rows")
    b.metadata(name="gather")
    b.save(os.path.join(out, "gather.ember"))
    data = np.arange(12, dtype=np.float32).reshape(4, 3)
    idx = np.array([3, -4], dtype=np.int64)
    write_records(os.path.join(out, "gather.input.bin"), [("data", data), ("indices", idx)])
    write_records(os.path.join(out, "gather.expected.bin"), [("rows", data[idx])])


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "tests", "models")
    os.makedirs(out, exist_ok=True)
    make_mlp(out)
    make_cnn(out)
    make_deep(out)
    make_ops(out)
    make_gather(out)
    make_fused(out)
    make_blocked(out)
    total = 0
    for f in sorted(os.listdir(out)):
        if f.endswith((".ember", ".bin")):
            size = os.path.getsize(os.path.join(out, f))
            total += size
            print("%-28s %8d bytes" % (f, size))
    print("total %d bytes" % total)
    assert total < 2 * 1024 * 1024


if __name__ == "__main__":
    main()
