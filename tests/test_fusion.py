#!/usr/bin/python3
"""The planner's fusions (plan.c fuse_nodes): a 1x1 convolution into the
depthwise convolution that alone reads it (src/runtime/ops/nn/conv_pw_dw.c),
a stem convolution into the MaxPool after it (conv_maxpool.c), a
per-channel Mul into the 1x1 Conv after it, a MatMul into the Add of a
bias vector after it (matmul_bias.h), and the activation after that Add
into it (fuse_activations); and Gemm's bias vector added in the product's
output pass.

    EMBER_LIBRARY=build/libember.so /usr/bin/python3 tests/test_fusion.py

Each graph is x -> 1x1 Conv (+ activation) -> depthwise Conv (+ activation)
-> y, with an expanded tensor large enough to be fused (>= 3 MB). Checked:
  - y against numpy in float64 (within float rounding);
  - y bit for bit against the same graph unfused: the expanded tensor also
    made a graph output, which rules the fusion out on the same kernels;
  - the profile: the 1x1 node "fused", the depthwise one "... 1x1+dwconv"
    (and neither where fusion must not happen);
  - 1, 2 and 3 threads give the same bits.
Strides 1 and 2, kernels 3 and 5, asymmetric pads, odd sizes, activations in
the GEMM's output pass (Relu6 as Clip, SiLU, HardSwish) and outside it
(LeakyRelu), with and without biases; and the cases fusion must leave alone:
a 1x1 output read twice, a strided or padded 1x1, a small expanded tensor, a
forced kernel path. The stem + MaxPool pair likewise: 3x3/2 and 7x7/2
convolutions, pools with and without padding and ceil_mode, against numpy,
unfused, and threads; left alone where the output is read twice or small.
"""
import os
import sys
import tempfile
import unittest

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "bindings", "python"))

from onnx import helper, numpy_helper, TensorProto  # noqa: E402

import ember  # noqa: E402
from ember import convert as ec  # noqa: E402

F = TensorProto.FLOAT


def act_nodes(kind, x, y, tag):
    """ONNX nodes computing activation `kind` of x into y (converter-fusable)."""
    if kind is None:
        return [helper.make_node("Identity", [x], [y], name=tag)], []
    if kind == "relu6":
        return [helper.make_node("Clip", [x, tag + "_lo", tag + "_hi"], [y], name=tag)], \
            [(tag + "_lo", np.array(0.0, np.float32)), (tag + "_hi", np.array(6.0, np.float32))]
    if kind == "silu":
        return [helper.make_node("Sigmoid", [x], [tag + "_s"], name=tag + "_sig"),
                helper.make_node("Mul", [x, tag + "_s"], [y], name=tag)], []
    if kind == "hardswish":
        return [helper.make_node("HardSwish", [x], [y], name=tag)], []
    if kind == "leaky":
        return [helper.make_node("LeakyRelu", [x], [y], alpha=0.1, name=tag)], []
    raise ValueError(kind)


def act_np(kind, v):
    if kind is None:
        return v
    if kind == "relu6":
        return np.clip(v, 0, 6)
    if kind == "silu":
        return v / (1 + np.exp(-v))
    if kind == "hardswish":
        return v * np.clip(v / 6 + 0.5, 0, 1)
    if kind == "leaky":
        return np.where(v >= 0, v, 0.1 * v)
    raise ValueError(kind)


def taps(x, k, s, pads, oh, ow, fill=0.0):
    """(u, t, view) for every tap of a k x k window at stride s over x
    [C, H, W] padded by pads (top, left, bottom, right) with fill: view[c, i,
    j] is the value tap (u, t) of output (i, j) reads."""
    c, h, w = x.shape
    pt, pl, pb, pr = pads
    xp = np.full((c, h + pt + pb + k + s, w + pl + pr + k + s), fill)
    xp[:, pt:pt + h, pl:pl + w] = x
    for u in range(k):
        for t in range(k):
            yield u, t, xp[:, u:u + (oh - 1) * s + 1:s, t:t + (ow - 1) * s + 1:s]


def conv_out(n, k, s, p0, p1):
    return (n + p0 + p1 - k) // s + 1


def dwconv_np(e, w, b, k, s, pads):
    """e [C, H, W] float64, w [C, 1, k, k]; pads (top, left, bottom, right)."""
    oh = conv_out(e.shape[1], k, s, pads[0], pads[2])
    ow = conv_out(e.shape[2], k, s, pads[1], pads[3])
    y = np.zeros((e.shape[0], oh, ow))
    for u, t, v in taps(e, k, s, pads, oh, ow):
        y += w[:, 0, u, t][:, None, None] * v
    if b is not None:
        y += b[:, None, None]
    return y


def graph(nodes, x_shape, inits, opset, inner, keep_inner=False, extra_reader=False):
    """The model of nodes from input x (x_shape) to output y; with keep_inner
    the tensor `inner` is a graph output too, with extra_reader a Neg reads it
    (output z): both rule its fusion out."""
    nodes = list(nodes)
    outs = [helper.make_tensor_value_info("y", F, None)]
    if keep_inner:
        outs.append(helper.make_tensor_value_info(inner, F, None))
    if extra_reader:
        nodes.append(helper.make_node("Neg", [inner], ["z"], name="neg"))
        outs.append(helper.make_tensor_value_info("z", F, None))
    g = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", F, x_shape)], outs,
                          [numpy_helper.from_array(v, n) for n, v in inits])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)])
    m.ir_version = 7
    return m


class Base(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.rng = np.random.default_rng(11)

    def tearDown(self):
        self.tmp.cleanup()

    def block(self, cin=16, c=96, h=113, w=110, k=3, s=2, pads=(1, 1, 1, 1), pw_act="relu6",
              dw_act="relu6", bias=True, pw_stride=1, pw_pad=0, expanded_output=False,
              extra_reader=False):
        """The graph, its input, and numpy's y (None where not computed)."""
        wp = (self.rng.standard_normal((c, cin, 1, 1)) / np.sqrt(cin)).astype(np.float32)
        wd = (self.rng.standard_normal((c, 1, k, k)) / k).astype(np.float32)
        bp = self.rng.standard_normal(c).astype(np.float32) if bias else None
        bd = self.rng.standard_normal(c).astype(np.float32) if bias else None
        inits = [("wp", wp), ("wd", wd)] + ([("bp", bp), ("bd", bd)] if bias else [])
        nodes = [helper.make_node("Conv", ["x", "wp"] + (["bp"] if bias else []), ["h"], name="pw",
                                  strides=[pw_stride, pw_stride], pads=[pw_pad] * 4)]
        n, i = act_nodes(pw_act, "h", "e", "pw_act")
        nodes += n
        inits += i
        nodes.append(helper.make_node("Conv", ["e", "wd"] + (["bd"] if bias else []), ["g"],
                                      name="dw", group=c, kernel_shape=[k, k], strides=[s, s],
                                      pads=list(pads[:2]) + list(pads[2:])))
        n, i = act_nodes(dw_act, "g", "y", "dw_act")
        nodes += n
        inits += i
        m = graph(nodes, [1, cin, h, w], inits, 14, "e", expanded_output, extra_reader)
        x = self.rng.standard_normal((1, cin, h, w)).astype(np.float32)
        want = None
        if pw_stride == 1 and pw_pad == 0:
            e = np.einsum("mc,chw->mhw", wp[:, :, 0, 0].astype(np.float64), x[0].astype(np.float64))
            if bias:
                e += bp[:, None, None]
            e = act_np(pw_act, e)
            want = act_np(dw_act, dwconv_np(e, wd.astype(np.float64), bd, k, s,
                                            (pads[0], pads[1], pads[2], pads[3])))[None]
        return m, x, want

    def check_fused(self, build, case, keep, producer, consumer, kernel, seed, tol,
                    blocked_too=False):
        """build(**case) fused against numpy (tol), and bit for bit against
        build(**case, **{keep: True}) (the intermediate made a graph output,
        which rules the fusion out on the same kernels) and at 2 and 3
        threads; the profile names producer "fused" and consumer `kernel`."""
        self.rng = np.random.default_rng(seed)
        m, x, want = build(**case)
        self.rng = np.random.default_rng(seed)
        mu, _, _ = build(**case, **{keep: True})
        got, prof = self.run_graph(m, x)
        if blocked_too and prof[consumer].endswith("dwconv nchw16c"):
            # a path with the channel-blocked layout runs the pair blocked
            # instead, unfused here: the 1x1 reads the plain graph input
            # (plan.c; the plain fusion: meson test fusion_avx2; the
            # blocked one: test_blocked_layout's TestExpandDepthwiseBands)
            self.assertTrue(prof[producer].endswith("gemm nchw16c"), prof)
        else:
            self.assertEqual(prof[producer], "fused", prof)
            # (" nchw16c": the stem + pool run on the blocked layout inside,
            # conv_maxpool.c, where the path has its kernels)
            self.assertTrue(prof[consumer].endswith(kernel) or
                            prof[consumer].endswith(kernel + " nchw16c"), prof)
        np.testing.assert_allclose(got["y"], want, rtol=tol, atol=tol)
        un, pu = self.run_graph(mu, x)
        self.assertNotEqual(pu[producer], "fused")
        self.assertTrue(np.array_equal(got["y"], un["y"]), "fused and unfused differ")
        for t in (2, 3):
            gt, _ = self.run_graph(m, x, threads=t)
            self.assertTrue(np.array_equal(gt["y"], got["y"]), "%d threads differ" % t)

    def check_not_fused(self, build, cases, producer, tol):
        """build(**case) for each case: `producer` not fused, y against numpy
        (tol) where build computed it."""
        for case in cases:
            with self.subTest(**case):
                m, x, want = build(**case)
                got, prof = self.run_graph(m, x)
                self.assertNotEqual(prof[producer], "fused", prof)
                if want is not None:
                    np.testing.assert_allclose(got["y"], want, rtol=tol, atol=tol)

    def run_graph(self, m, x, threads=1, isa=None):
        path = os.path.join(self.tmp.name, "m%d.ember" % len(os.listdir(self.tmp.name)))
        ec.convert(m, path)
        mod = ember.Model(path)
        s = mod.session(threads=threads, profile=True, isa=isa)
        out = s.run({"x": x})
        prof = {p["name"]: p["kernel"] for p in s.profile()}
        s.close()
        mod.close()
        return out, prof


class TestFused(Base):
    CASES = [
        dict(),                                                      # mobilenet_v2's block 2
        dict(s=1, h=57, w=61, c=240, pads=(1, 1, 1, 1), pw_act="hardswish", dw_act=None),
        dict(k=5, s=2, pads=(2, 1, 2, 2), pw_act="silu", dw_act="silu", h=101, w=99),
        dict(k=3, s=1, pads=(0, 1, 2, 1), pw_act=None, dw_act="leaky", bias=False, h=70, w=71,
             c=160),
        dict(k=3, s=2, pads=(0, 0, 0, 0), pw_act="leaky", dw_act="hardswish", cin=8, h=112, w=112),
    ]

    def test_against_numpy_and_unfused(self):
        for case in self.CASES:
            with self.subTest(**case):
                self.check_fused(self.block, case, "expanded_output", "pw", "dw", "1x1+dwconv",
                                 11, 2e-5, blocked_too=True)


class TestNotFused(Base):
    def check_unfused(self, **kw):
        m, x, want = self.block(**kw)
        got, prof = self.run_graph(m, x)
        self.assertNotEqual(prof["pw"], "fused", prof)
        self.assertFalse(prof["dw"].endswith("1x1+dwconv"), prof)
        if want is not None:
            np.testing.assert_allclose(got["y"], want, rtol=2e-5, atol=2e-5)
        return got

    def test_read_twice(self):
        got = self.check_unfused(extra_reader=True)
        self.assertIn("z", got)

    def test_graph_output(self):
        self.check_unfused(expanded_output=True)

    def test_strided_or_padded_1x1(self):
        self.check_unfused(pw_stride=2, h=225, w=221)
        self.check_unfused(pw_pad=1, h=111, w=111)

    def test_small_expanded_tensor(self):
        self.check_unfused(c=144, h=56, w=56, s=1)  # 1.8 MB: measured slower fused

    def test_forced_path(self):
        m, x, want = self.block()
        for isa in ("generic", "avx2"):
            try:
                got, prof = self.run_graph(m, x, isa=isa)
            except ember.Unsupported:
                continue  # a path this machine cannot run
            if isa == os.environ.get("EMBER_ISA"):
                continue  # the forced path is the default here: it fuses
            self.assertEqual(prof["pw"].split()[0], isa, prof)
            np.testing.assert_allclose(got["y"], want, rtol=2e-5, atol=2e-5)


def conv_np(x, w, b, s, pads):
    """x [C, H, W], w [M, C, k, k] (float64); pads (top, left, bottom, right)."""
    k = w.shape[2]
    oh = conv_out(x.shape[1], k, s, pads[0], pads[2])
    ow = conv_out(x.shape[2], k, s, pads[1], pads[3])
    y = np.zeros((w.shape[0], oh, ow))
    for u, t, v in taps(x, k, s, pads, oh, ow):
        y += np.einsum("mc,chw->mhw", w[:, :, u, t], v)
    if b is not None:
        y += b[:, None, None]
    return y


def maxpool_np(x, k, s, pads, ceil):
    c, h, w = x.shape
    pt, pl, pb, pr = pads

    def out(n, p0, p1):
        span = n + p0 + p1 - k
        o = (-(-span // s) if ceil else span // s) + 1
        if ceil and (o - 1) * s >= n + p0:  # the last window must start inside
            o -= 1
        return o
    oh, ow = out(h, pt, pb), out(w, pl, pr)
    y = np.full((c, oh, ow), -np.inf)
    for _, _, v in taps(x, k, s, pads, oh, ow, -np.inf):
        y = np.maximum(y, v)
    return y


class TestStemPool(Base):
    def stem(self, k=3, cs=2, cpads=(0, 0, 0, 0), m=64, h=224, w=224, pk=3, ps=2,
             ppads=(0, 0, 0, 0), ceil=1, relu=True, bias=True, conv_output=False,
             extra_reader=False):
        wc = (self.rng.standard_normal((m, 3, k, k)) / (3 * k)).astype(np.float32)
        bc = self.rng.standard_normal(m).astype(np.float32) if bias else None
        inits = [("wc", wc)] + ([("bc", bc)] if bias else [])
        nodes = [helper.make_node("Conv", ["x", "wc"] + (["bc"] if bias else []), ["h"],
                                  name="conv", kernel_shape=[k, k], strides=[cs, cs],
                                  pads=list(cpads))]
        nodes.append(helper.make_node("Relu" if relu else "Identity", ["h"], ["c"], name="act"))
        nodes.append(helper.make_node("MaxPool", ["c"], ["y"], name="pool", kernel_shape=[pk, pk],
                                      strides=[ps, ps], pads=list(ppads), ceil_mode=ceil))
        mdl = graph(nodes, [1, 3, h, w], inits, 13, "c", conv_output, extra_reader)
        x = self.rng.standard_normal((1, 3, h, w)).astype(np.float32)
        cv = conv_np(x[0].astype(np.float64), wc.astype(np.float64), bc, cs,
                     (cpads[0], cpads[1], cpads[2], cpads[3]))
        if relu:
            cv = np.maximum(cv, 0)
        want = maxpool_np(cv, pk, ps, (ppads[0], ppads[1], ppads[2], ppads[3]), ceil)[None]
        return mdl, x, want

    CASES = [
        dict(),                                                        # squeezenet1_1
        dict(k=7, cs=2, cpads=(3, 3, 3, 3), ppads=(1, 1, 1, 1), ceil=0),  # resnet18
        dict(k=3, cs=2, cpads=(1, 0, 1, 1), h=227, w=229, ppads=(0, 1, 1, 0), relu=False,
             bias=False, m=72),
        dict(k=5, cs=1, cpads=(2, 2, 2, 2), h=120, w=117, pk=2, ps=2, ceil=1, m=64),
    ]

    def test_against_numpy_and_unfused(self):
        for case in self.CASES:
            with self.subTest(**case):
                self.check_fused(self.stem, case, "conv_output", "conv", "pool", "conv+maxpool",
                                 5, 1e-5)

    def test_not_fused(self):
        for kw in (dict(extra_reader=True), dict(h=112, w=112), dict(conv_output=True)):
            with self.subTest(**kw):
                m, x, want = self.stem(**kw)
                got, prof = self.run_graph(m, x)
                self.assertNotEqual(prof["conv"], "fused", prof)
                self.assertNotIn("conv+maxpool", prof["pool"], prof)
                np.testing.assert_allclose(got["y"], want, rtol=1e-5, atol=1e-5)


class TestScaleConv(Base):
    """x -> Relu -> a; s = Sigmoid(Conv1x1(GlobalAveragePool(a))); Mul(a, s)
    (or Mul(s, a)) -> 1x1 Conv (+ activation) -> y: the SE block's end."""

    def se(self, c=40, m=24, h=30, w=31, swap=False, mul_output=False, extra_reader=False,
           k=1, full_operand=False, act="relu"):
        wr = (self.rng.standard_normal((c, c, 1, 1)) / c).astype(np.float32)
        wp = (self.rng.standard_normal((m, c, k, k)) / c).astype(np.float32)
        bp = self.rng.standard_normal(m).astype(np.float32)
        nodes = [helper.make_node("Relu", ["x"], ["a"], name="relu"),
                 helper.make_node("GlobalAveragePool", ["a"], ["g"], name="gap"),
                 helper.make_node("Conv", ["g", "wr"], ["r"], name="reduce"),
                 helper.make_node("Sigmoid", ["r"], ["s"], name="sig")]
        other = "a2" if full_operand else "s"
        if full_operand:
            nodes.append(helper.make_node("Sigmoid", ["a"], ["a2"], name="sig2"))
        ins = [other, "a"] if swap else ["a", other]
        nodes.append(helper.make_node("Mul", ins, ["t"], name="scale"))
        nodes.append(helper.make_node("Conv", ["t", "wp", "bp"], ["p"], name="project",
                                      pads=[k // 2] * 4))
        nodes.append(helper.make_node("Relu" if act == "relu" else "Identity", ["p"], ["y"],
                                      name="act"))
        mdl = graph(nodes, [1, c, h, w], (("wr", wr), ("wp", wp), ("bp", bp)), 13, "t",
                    mul_output, extra_reader)
        x = self.rng.standard_normal((1, c, h, w)).astype(np.float32)
        a = np.maximum(x[0].astype(np.float64), 0)
        sc = 1 / (1 + np.exp(-(wr[:, :, 0, 0].astype(np.float64) @ a.mean(axis=(1, 2)))))
        t = a * (1 / (1 + np.exp(-a)) if full_operand else sc[:, None, None])
        want = None
        if k == 1:
            want = np.einsum("mc,chw->mhw", wp[:, :, 0, 0].astype(np.float64), t) + bp[:, None, None]
            if act == "relu":
                want = np.maximum(want, 0)
            want = want[None]
        return mdl, x, want

    def test_against_numpy_and_unfused(self):
        for case in (dict(), dict(swap=True, act=None, c=96, m=40, h=56, w=57),
                     dict(c=17, m=5, h=7, w=7)):
            with self.subTest(**case):
                self.check_fused(self.se, case, "mul_output", "scale", "project", "scale+gemm",
                                 3, 1e-5)

    def test_not_fused(self):
        self.check_not_fused(self.se, (dict(extra_reader=True), dict(k=3),
                                       dict(full_operand=True)), "scale", 1e-5)


class TestMatMulBias(Base):
    """x -> MatMul(x, W) -> Add with a bias vector (either operand order) -> y:
    a Linear layer as PyTorch exports it for inputs of rank 3
    (ops/nn/matmul_bias.h)."""

    def linear(self, shape=(1, 37, 48), n=70, swap=False, bias_shape=None, sum_output=False,
               extra_reader=False, full_operand=False):
        k = shape[-1]
        w = (self.rng.standard_normal((k, n)) / np.sqrt(k)).astype(np.float32)
        b = self.rng.standard_normal(bias_shape or (n,)).astype(np.float32)
        other = "b"
        inits = [("w", w), ("b", b)]
        nodes = [helper.make_node("MatMul", ["x", "w"], ["h"], name="mm")]
        if full_operand:  # a computed addend, not a constant bias
            nodes.append(helper.make_node("Neg", ["x"], ["nx"], name="negx"))
            other = "nx"
        ins = [other, "h"] if swap else ["h", other]
        nodes.append(helper.make_node("Add", ins, ["y"], name="add"))
        mdl = graph(nodes, list(shape), inits, 13, "h", sum_output, extra_reader)
        x = self.rng.standard_normal(shape).astype(np.float32)
        want = None
        if not full_operand:
            want = x.astype(np.float64) @ w.astype(np.float64) + b.astype(np.float64)
        return mdl, x, want

    def test_against_numpy_and_unfused(self):
        # K 600 runs as two K blocks: the bias goes on after the last, as
        # the Add after the product adds it
        for case in (dict(), dict(swap=True), dict(shape=(2, 3, 29, 600), n=33),
                     dict(shape=(1, 1, 64), n=100), dict(bias_shape=(1, 1, 70)),
                     dict(shape=(128, 256), n=1024, swap=True)):
            with self.subTest(**case):
                self.check_fused(self.linear, case, "sum_output", "mm", "add", "gemm+bias"
                                 if case.get("shape", (1, 37, 48))[-2] > 1 else "gemv+bias",
                                 5, 1e-4)

    def test_not_fused(self):
        self.check_not_fused(self.linear, (dict(extra_reader=True), dict(full_operand=True, n=48),
                                           dict(bias_shape=(37, 70)),
                                           dict(shape=(37, 48), n=70, bias_shape=(2, 1, 70))),
                             "mm", 1e-4)


class TestMatMulBiasAct(Base):
    """x -> MatMul(x, W) -> Add of a bias vector -> activation -> Neg -> y: the
    fused MatMul + bias run (matmul_bias.h) also does the activation's work in
    its output pass, writing into the activation's output (plan.c
    fuse_activations): Relu, Sigmoid, HardSwish and Gelu (the erf form as
    exporters spell it, which the converter makes one Gelu node)."""

    def linear_act(self, kind="gelu", shape=(1, 37, 48), n=70, sum_output=False,
                   extra_reader=False, act_output=False):
        k = shape[-1]
        w = (self.rng.standard_normal((k, n)) / np.sqrt(k)).astype(np.float32)
        b = self.rng.standard_normal(n).astype(np.float32)
        inits = [("w", w), ("b", b)]
        nodes = [helper.make_node("MatMul", ["x", "w"], ["h"], name="mm"),
                 helper.make_node("Add", ["h", "b"], ["s"], name="add")]
        out = "y" if act_output else "a"
        if kind == "gelu":  # named "act" after the Erf, as the converter names the Gelu
            inits += [("sqrt2", np.array(2 ** 0.5, np.float32)), ("one", np.array(1, np.float32)),
                      ("half", np.array(0.5, np.float32))]
            nodes += [helper.make_node("Div", ["s", "sqrt2"], ["g0"], name="act_div"),
                      helper.make_node("Erf", ["g0"], ["g1"], name="act"),
                      helper.make_node("Add", ["g1", "one"], ["g2"], name="act_add"),
                      helper.make_node("Mul", ["s", "g2"], ["g3"], name="act_mul"),
                      helper.make_node("Mul", ["g3", "half"], [out], name="act_half")]
        else:
            op = {"relu": "Relu", "sigmoid": "Sigmoid", "hardswish": "HardSwish",
                  "leaky": "LeakyRelu", "tanh": "Tanh"}[kind]
            extra = {"alpha": 0.1} if kind == "leaky" else {}
            nodes.append(helper.make_node(op, ["s"], [out], name="act", **extra))
        if not act_output:
            nodes.append(helper.make_node("Neg", ["a"], ["y"], name="out"))
        mdl = graph(nodes, list(shape), inits, 13, "s", sum_output, extra_reader)
        x = self.rng.standard_normal(shape).astype(np.float32)
        v = x.astype(np.float64) @ w.astype(np.float64) + b.astype(np.float64)
        if kind == "gelu":
            from math import erf
            want = 0.5 * v * (1 + np.vectorize(erf)(v / np.sqrt(2)))
        elif kind == "relu":
            want = np.maximum(v, 0)
        elif kind == "sigmoid":
            want = 1 / (1 + np.exp(-v))
        elif kind == "tanh":
            want = np.tanh(v)
        else:
            want = act_np(kind, v)
        return mdl, x, want if act_output else -want

    def test_against_numpy_and_unfused(self):
        # K 600 runs as two K blocks: the activation after the last, with the
        # bias; M = 1 takes the matrix-vector path
        for case in (dict(), dict(shape=(1, 128, 256), n=1024), dict(kind="relu"),
                     dict(kind="relu", shape=(2, 3, 29, 600), n=33), dict(kind="sigmoid"),
                     dict(kind="hardswish", shape=(5, 64), n=40),
                     dict(kind="gelu", shape=(1, 1, 64), n=100)):
            with self.subTest(**case):
                kind = case.get("kind", "gelu")
                path = "gemv" if case.get("shape", (1, 37, 48))[-2] == 1 else "gemm"
                self.check_fused(self.linear_act, case, "sum_output", "act", "add",
                                 "%s+bias+%s" % (path, kind), 11, 1e-4)

    def test_not_fused(self):
        # the sum read again or a graph output (check_fused's unfused twin);
        # the activation's output a graph output; activations the output
        # pass does not compute
        self.check_not_fused(self.linear_act, (dict(extra_reader=True), dict(act_output=True),
                                               dict(kind="leaky"), dict(kind="tanh")),
                             "act", 1e-4)


class TestAddLayerNorm(Base):
    """x -> MatMul (a sublayer) -> Add of the residual x -> LayerNormalization:
    the LayerNormalization does the Add's work, the sum written into its
    output a block of rows at a time and normalized there (ops/nn/norm.c)."""

    def residual(self, shape=(2, 37, 48), sum_output=False, extra_reader=False,
                 vector_addend=False, stats=False, eps=1e-5):
        k = shape[-1]
        w = (self.rng.standard_normal((k, k)) / np.sqrt(k)).astype(np.float32)
        g = self.rng.standard_normal(k).astype(np.float32)
        b = self.rng.standard_normal(k).astype(np.float32)
        v = self.rng.standard_normal(k).astype(np.float32)
        inits = [("w", w), ("g", g), ("b", b), ("v", v)]
        nodes = [helper.make_node("MatMul", ["x", "w"], ["h"], name="mm")]
        nodes.append(helper.make_node("Add", ["x", "v" if vector_addend else "h"], ["s"],
                                      name="add"))
        outs = ["y", "mean", "inv"] if stats else ["y"]
        nodes.append(helper.make_node("LayerNormalization", ["s", "g", "b"], outs, name="ln",
                                      axis=-1, epsilon=eps))
        mdl = graph(nodes, list(shape), inits, 17, "s", sum_output, extra_reader)
        x = self.rng.standard_normal(shape).astype(np.float32)
        xs = x.astype(np.float64)
        sm = xs + (v if vector_addend else xs @ w.astype(np.float64))
        mu = sm.mean(-1, keepdims=True)
        var = ((sm - mu) ** 2).mean(-1, keepdims=True)
        want = (sm - mu) / np.sqrt(var + eps) * g + b
        return mdl, x, want

    def test_against_numpy_and_unfused(self):
        for case in (dict(), dict(shape=(1, 128, 256)), dict(shape=(3, 1000)),
                     dict(shape=(5, 7, 3)), dict(stats=True)):
            with self.subTest(**case):
                self.check_fused(self.residual, case, "sum_output", "add", "ln",
                                 "add+layernorm", 7, 1e-4)

    def test_not_fused(self):
        # the sum read again, or a graph output; an addend broadcast to X
        self.check_not_fused(self.residual, (dict(extra_reader=True), dict(vector_addend=True)),
                             "add", 1e-4)


class TestGemmBias(Base):
    """Gemm with a bias vector C (beta 1) adds it in the product's output pass
    ("gemm+bias" / "gemv+bias"); other C shapes and betas fill Y with C first."""

    def gemm(self, m=33, k=600, n=70, c_shape=(70,), alpha=1.0, beta=1.0, trans_b=0):
        w = (self.rng.standard_normal((n, k) if trans_b else (k, n)) / np.sqrt(k)).astype(np.float32)
        c = self.rng.standard_normal(c_shape).astype(np.float32)
        nodes = [helper.make_node("Gemm", ["x", "w", "c"], ["y"], name="gemm", alpha=alpha,
                                  beta=beta, transB=trans_b)]
        mdl = graph(nodes, [m, k], [("w", w), ("c", c)], 13, "y")
        x = self.rng.standard_normal((m, k)).astype(np.float32)
        wd = w.astype(np.float64).T if trans_b else w.astype(np.float64)
        want = alpha * (x.astype(np.float64) @ wd) + beta * c.astype(np.float64)
        return mdl, x, want

    def test_bias_vector(self):
        for case, kernel in ((dict(), "gemm+bias"), (dict(m=1), "gemv+bias"),
                             (dict(c_shape=(1, 70), alpha=0.5, trans_b=1), "gemm+bias"),
                             (dict(c_shape=(33, 70)), "gemm"), (dict(beta=2.0), "gemm"),
                             (dict(c_shape=(33, 1)), "gemm")):
            with self.subTest(**case):
                m, x, want = self.gemm(**case)
                got, prof = self.run_graph(m, x)
                self.assertTrue(prof["gemm"].endswith(kernel), prof)
                np.testing.assert_allclose(got["y"], want, rtol=1e-4, atol=1e-4)
                for t in (2, 3):
                    gt, _ = self.run_graph(m, x, threads=t)
                    self.assertTrue(np.array_equal(gt["y"], got["y"]), "%d threads differ" % t)


if __name__ == "__main__":
    unittest.main()
