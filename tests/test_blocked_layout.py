#!/usr/bin/python3
"""The channel-blocked activation layout (src/runtime/plan.c assign_layouts,
docs/PERFORMANCE.md "Activation layout"): regions of 1x1 and depthwise
convolutions, Add, per-channel Mul and GlobalAveragePool that hold a
depthwise convolution, or a 1x1 convolution read by a GlobalAveragePool (a
classifier head), run on NCHW16c tensors, with the executor converting every
plain tensor they read or write.

    EMBER_LIBRARY=build/libember.so /usr/bin/python3 tests/test_blocked_layout.py

Graphs: MobileNetV2 inverted residual blocks, EfficientNet / MobileNetV3
blocks with Squeeze-and-Excitation, channel counts that are not multiples of
16 (1, 3, 17, 24, 40), batch 2, strides 1 and 2, kernels 3 and 5, padded and
unpadded, without biases, a graph output and a plain reader in the middle of
a region. Checked:
  - against numpy in float64;
  - the profile: which nodes ran blocked ("... nchw16c") and which did not;
  - 1, 2 and 3 threads give the same bits;
  - a chain of 1x1 convolutions run blocked gives the bits of the same chain
    run plain (a graph without a depthwise convolution is never blocked),
    whose 1x1s read the image in place where K fits one block;
  - the forced portable path (never blocked) within float rounding.
On a path without the blocked layout (AVX2, NEON, the portable code) every
check but the profile's still runs.
"""
import os
import sys
import unittest

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "bindings", "python"))
sys.path.insert(0, HERE)

from onnx import helper, numpy_helper, TensorProto  # noqa: E402

import ember  # noqa: E402
from ember import convert as ec  # noqa: E402
from test_fusion import Base as FusionBase  # noqa: E402
from test_fusion import act_nodes, act_np, conv_out, dwconv_np  # noqa: E402

F = TensorProto.FLOAT


def sigmoid(v):
    return 1 / (1 + np.exp(-v))


class Graph:
    """An ONNX graph built node by node beside its float64 numpy value."""

    def __init__(self, rng, x_shape):
        self.rng = rng
        self.nodes, self.inits, self.outs = [], [], []
        self.x = rng.standard_normal(x_shape).astype(np.float32)
        self.x_shape = x_shape
        self.val = {"x": self.x.astype(np.float64)}
        self.n = 0

    def name(self, tag):
        self.n += 1
        return "%s%d" % (tag, self.n)

    def act(self, kind, t):
        if kind is None:
            return t
        y = self.name("a")
        nodes, inits = act_nodes(kind, t, y, self.name("act"))
        self.nodes += nodes
        self.inits += inits
        self.val[y] = act_np(kind, self.val[t])
        return y

    def conv1x1(self, t, m, act=None, bias=True, name=None):
        c = self.val[t].shape[1]
        w = (self.rng.standard_normal((m, c, 1, 1)) / np.sqrt(c)).astype(np.float32)
        b = self.rng.standard_normal(m).astype(np.float32) if bias else None
        wn, bn, y = self.name("w"), self.name("b"), self.name("t")
        self.inits.append((wn, w))
        if bias:
            self.inits.append((bn, b))
        self.nodes.append(helper.make_node("Conv", [t, wn] + ([bn] if bias else []), [y],
                                           name=name or self.name("pw")))
        v = np.einsum("mc,nchw->nmhw", w[:, :, 0, 0].astype(np.float64), self.val[t])
        if bias:
            v = v + b[None, :, None, None]
        self.val[y] = v
        return self.act(act, y)

    def dw(self, t, k=3, s=1, pads=None, act=None, bias=True, name=None):
        c = self.val[t].shape[1]
        pads = pads if pads is not None else (k // 2,) * 4
        w = (self.rng.standard_normal((c, 1, k, k)) / k).astype(np.float32)
        b = self.rng.standard_normal(c).astype(np.float32) if bias else None
        wn, bn, y = self.name("w"), self.name("b"), self.name("t")
        self.inits.append((wn, w))
        if bias:
            self.inits.append((bn, b))
        self.nodes.append(helper.make_node(
            "Conv", [t, wn] + ([bn] if bias else []), [y], name=name or self.name("dw"),
            group=c, kernel_shape=[k, k], strides=[s, s],
            pads=[pads[0], pads[1], pads[2], pads[3]]))
        self.val[y] = np.stack([dwconv_np(img, w.astype(np.float64), b, k, s, pads)
                                for img in self.val[t]])
        return self.act(act, y)

    def binary(self, op, a, b, name=None):
        y = self.name("t")
        self.nodes.append(helper.make_node(op, [a, b], [y], name=name or self.name(op.lower())))
        self.val[y] = self.val[a] + self.val[b] if op == "Add" else self.val[a] * self.val[b]
        return y

    def gap(self, t, name=None):
        y = self.name("t")
        self.nodes.append(helper.make_node("GlobalAveragePool", [t], [y],
                                           name=name or self.name("gap")))
        self.val[y] = self.val[t].mean(axis=(2, 3), keepdims=True)
        return y

    def sigmoid(self, t):
        y = self.name("t")
        self.nodes.append(helper.make_node("Sigmoid", [t], [y], name=self.name("sig")))
        self.val[y] = sigmoid(self.val[t])
        return y

    def se(self, t, r, name="se"):
        """Squeeze-and-Excitation: x * sigmoid(W2 silu(W1 mean(x)))."""
        g = self.gap(t, name=name + ".gap")
        h = self.conv1x1(g, r, act="silu")
        s = self.sigmoid(self.conv1x1(h, self.val[t].shape[1]))
        return self.binary("Mul", t, s, name=name + ".scale")

    def output(self, t):
        self.outs.append(t)

    def model(self):
        g = helper.make_graph(
            self.nodes, "g", [helper.make_tensor_value_info("x", F, list(self.x_shape))],
            [helper.make_tensor_value_info(o, F, None) for o in self.outs],
            [numpy_helper.from_array(v, n) for n, v in self.inits])
        m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 14)])
        m.ir_version = 7
        return m


class Base(FusionBase):
    """test_fusion's: a temporary folder, and run_graph (convert, run with the
    profile on, the outputs and each node's kernel)."""

    def check(self, g, blocked=(), plain=(), tol=3e-5):
        """Runs g's model: every output against numpy, the same bits at 2 and 3
        threads, the portable path within tol, and (where this path has the
        blocked layout) the nodes `blocked` ran blocked, `plain` did not."""
        m = g.model()
        got, prof = self.run_graph(m, g.x)
        for o in g.outs:
            np.testing.assert_allclose(got[o], g.val[o], rtol=tol, atol=tol, err_msg=o)
        has_blocked = any(k.endswith("nchw16c") for k in prof.values())
        if has_blocked:
            for n in blocked:
                # a 1x1 whose work a residual Add does ("gemm+add nchw16c") shows as fused
                ok = prof[n].endswith("nchw16c") or (
                    prof[n] == "fused" and any(k.endswith("gemm+add nchw16c") for k in prof.values()))
                self.assertTrue(ok, (n, prof))
        for n in plain:
            self.assertFalse(prof[n].endswith("nchw16c"), (n, prof))
        for t in (2, 3):
            gt, _ = self.run_graph(m, g.x, threads=t)
            for o in g.outs:
                self.assertTrue(np.array_equal(gt[o], got[o]), "%s: %d threads differ" % (o, t))
        gen, pg = self.run_graph(m, g.x, isa="generic")
        self.assertFalse(any(k.endswith("nchw16c") for k in pg.values()), pg)
        for o in g.outs:
            np.testing.assert_allclose(gen[o], got[o], rtol=tol, atol=tol, err_msg=o)
        return got, prof, has_blocked


class TestRegions(Base):
    def inverted_residual(self, g, t, c, expand, out, k=3, s=1, act="relu6", tag="b"):
        e = g.conv1x1(t, c * expand, act=act, name=tag + ".expand")
        d = g.dw(e, k=k, s=s, act=act, name=tag + ".dw")
        p = g.conv1x1(d, out, name=tag + ".project")
        if s == 1 and out == c:
            p = g.binary("Add", t, p, name=tag + ".add")
        return p

    def test_mobilenet_v2_blocks(self):
        g = Graph(np.random.default_rng(1), (1, 24, 29, 31))
        t = self.inverted_residual(g, "x", 24, 6, 24, tag="b1")
        t = self.inverted_residual(g, t, 24, 6, 40, s=2, tag="b2")
        t = self.inverted_residual(g, t, 40, 6, 40, k=5, tag="b3")
        g.output(t)
        self.check(g, blocked=["b1.expand", "b1.dw", "b1.project", "b1.add", "b2.dw",
                               "b3.add", "b3.project"])

    def test_residual_add_fused_into_project(self):
        """An Add of a blocked residual to a blocked 1x1 (no activation) that
        it alone reads does the 1x1's work, the residual added in the output
        pass: the same bits as the unfused pair (the project's output made a
        graph output keeps them apart), at 1 to 3 threads (check). Not fused:
        a residual that is the plain graph input (converted around the Add),
        and a 1x1 with an activation of its own."""
        def build(project_output, act=None):
            g = Graph(np.random.default_rng(23), (2, 24, 13, 11))
            t = self.inverted_residual(g, "x", 24, 4, 24, tag="b1")  # residual: x, plain
            e = g.conv1x1(t, 96, act="relu6", name="b2.expand")
            d = g.dw(e, act="relu6", name="b2.dw")
            p = g.conv1x1(d, 24, act=act, name="b2.project")
            y = g.binary("Add", t, p, name="b2.add")
            if project_output:
                g.output(p)
            g.output(y)
            return g, y
        g, y = build(False)
        got, prof = self.check(g, blocked=["b2.expand", "b2.dw", "b2.project", "b2.add"])[:2]
        if not any(k.endswith("nchw16c") for k in prof.values()):
            self.skipTest("no blocked layout on this path")
        self.assertEqual(prof["b2.project"], "fused")
        self.assertTrue(prof["b2.add"].endswith("gemm+add nchw16c"), prof)
        self.assertTrue(prof["b1.add"].endswith("vbinary nchw16c"), prof)
        g2, y2 = build(True)
        got2, prof2 = self.check(g2, blocked=["b2.project", "b2.add"])[:2]
        self.assertTrue(prof2["b2.add"].endswith("vbinary nchw16c"), prof2)
        self.assertTrue(np.array_equal(got[y], got2[y2]), "fused residual differs from unfused")
        g3, _ = build(False, act="relu6")
        _, prof3 = self.check(g3)[:2]
        self.assertTrue(prof3["b2.add"].endswith("vbinary nchw16c"), prof3)

    def test_tail_blocks_split_by_channel_blocks(self):
        """mobilenet_v2's tail: more expanded channels than positions, so the
        expansion's threads split output panels and the depthwise layer after
        it splits the same channel blocks (not rows): the same bits at 1 to 3
        threads (check), an even and an odd block count."""
        for cin, ratio in ((160, 6), (40, 5)):
            with self.subTest(cin=cin, ratio=ratio):
                g = Graph(np.random.default_rng(21), (1, cin, 7, 7))
                t = self.inverted_residual(g, "x", cin, ratio, cin, tag="t1")
                g.output(t)
                self.check(g, blocked=["t1.expand", "t1.dw", "t1.project", "t1.add"])

    def test_squeeze_excite_blocks(self):
        for act in ("silu", "hardswish"):
            with self.subTest(act=act):
                g = Graph(np.random.default_rng(2), (2, 17, 15, 14))
                e = g.conv1x1("x", 40, act=act, name="expand")
                d = g.dw(e, k=5, s=2, act=act, name="dw")
                t = g.se(d, 10)
                t = g.conv1x1(t, 24, name="project")
                g.output(t)
                self.check(g, blocked=["expand", "dw", "se.gap", "se.scale", "project"])

    def test_squeeze_excite_scale_fused_into_project(self):
        """One image whose positions outnumber the project's output channels:
        the project 1x1 scales its weights by the SE scale instead of the Mul
        writing x * s (plan.c fuse_nodes on blocked nodes); two images, or
        fewer positions than channels, leave the Mul to run."""
        for n, hw, m, fused in ((1, 20, 24, True), (1, 5, 40, False), (2, 20, 24, False)):
            with self.subTest(n=n, hw=hw, m=m):
                g = Graph(np.random.default_rng(9), (n, 40, hw, hw))
                d = g.dw("x", act="silu", name="dw")
                t = g.se(d, 8)
                g.output(g.conv1x1(t, m, act="relu6", name="project"))
                got, prof, has_blocked = self.check(g, blocked=["dw", "project"])
                if has_blocked:
                    self.assertEqual(prof["se.scale"] == "fused", fused, prof)
                    self.assertEqual(prof["project"].endswith("scale+gemm nchw16c"), fused, prof)

    def test_odd_channels_no_bias_unpadded(self):
        for c in (1, 3, 17):
            with self.subTest(c=c):
                g = Graph(np.random.default_rng(3 + c), (1, c, 12, 13))
                d = g.dw("x", k=3, s=1, pads=(0, 0, 0, 0), bias=False, name="dw")
                p = g.conv1x1(d, 3, bias=False, act="leaky", name="pw")
                g.output(p)
                self.check(g, blocked=["dw", "pw"])

    def test_outputs_and_plain_readers_inside(self):
        """A graph output and a plain reader (Neg, a MaxPool) on tensors inside
        a region: those tensors are converted, the region still runs blocked."""
        g = Graph(np.random.default_rng(4), (1, 32, 20, 20))
        e = g.conv1x1("x", 48, act="relu6", name="expand")
        d = g.dw(e, act="relu6", name="dw")
        g.output(e)
        neg = g.name("t")
        g.nodes.append(helper.make_node("Neg", [d], [neg], name="neg"))
        g.val[neg] = -g.val[d]
        g.output(neg)
        p = g.conv1x1(d, 32, name="project")
        g.output(g.binary("Add", "x", p, name="add"))
        self.check(g, blocked=["expand", "dw", "project", "add"], plain=["neg"])

    def test_large_conversions_split_by_positions(self):
        """One block of channels over a large image: the conversions to and
        from the blocked layout split the positions between threads (the
        same bits at 1, 2 and 3 threads, checked by check)."""
        g = Graph(np.random.default_rng(8), (1, 3, 120, 101))
        d = g.dw("x", act="relu6", name="dw")
        g.output(d)
        g.output(g.conv1x1(d, 5, name="pw"))
        # a large Add and a large per-channel Mul (a graph output: not folded
        # into a 1x1), split by positions too
        e = g.conv1x1(d, 16, act="relu6", name="pw2")
        t = g.binary("Add", e, g.conv1x1(e, 16, name="pw3"), name="add")
        g.output(g.se(t, 4))
        self.check(g, blocked=["dw", "pw", "pw2", "add", "se.scale"])

    def stem(self, g, t, m, k, s, pads, act=None, bias=True, name="stem"):
        """A k x k convolution of t (few channels) into m channels."""
        c = g.val[t].shape[1]
        w = (g.rng.standard_normal((m, c, k, k)) / k).astype(np.float32)
        b = g.rng.standard_normal(m).astype(np.float32) if bias else None
        wn, bn, y = g.name("w"), g.name("b"), g.name("t")
        g.inits.append((wn, w))
        if bias:
            g.inits.append((bn, b))
        g.nodes.append(helper.make_node("Conv", [t, wn] + ([bn] if bias else []), [y], name=name,
                                        kernel_shape=[k, k], strides=[s, s], pads=list(pads)))
        x = g.val[t]
        oh = conv_out(x.shape[2], k, s, pads[0], pads[2])
        ow = conv_out(x.shape[3], k, s, pads[1], pads[3])
        xp = np.zeros((x.shape[0], c, x.shape[2] + pads[0] + pads[2], x.shape[3] + pads[1] + pads[3]))
        xp[:, :, pads[0]:pads[0] + x.shape[2], pads[1]:pads[1] + x.shape[3]] = x
        v = np.zeros((x.shape[0], m, oh, ow))
        for u in range(k):
            for q in range(k):
                patch = xp[:, :, u:u + (oh - 1) * s + 1:s, q:q + (ow - 1) * s + 1:s]
                v += np.einsum("mc,nchw->nmhw", w[:, :, u, q].astype(np.float64), patch)
        if bias:
            v += b[None, :, None, None]
        g.val[y] = v
        return g.act(act, y)

    def test_stem_writes_blocked(self):
        """A stem convolution (up to 4 input channels) in front of a depthwise
        region reads its input plain and writes blocked (no conversion);
        5 channels make it a plain convolution whose output is converted."""
        for c, k, s, pads, hw, m, act, bias, out in (
                (3, 3, 2, (1, 1, 1, 1), (37, 41), 32, "relu6", True, False),
                (3, 3, 2, (0, 1, 1, 0), (9, 11), 16, "hardswish", False, True),
                (1, 5, 1, (2, 2, 2, 2), (20, 13), 24, None, True, False),
                (4, 2, 2, (0, 0, 0, 0), (30, 30), 40, "silu", True, True),
                (5, 3, 2, (1, 1, 1, 1), (21, 21), 16, "relu6", True, False)):
            with self.subTest(c=c, k=k, s=s, pads=pads, hw=hw, m=m):
                g = Graph(np.random.default_rng(10), (2, c) + hw)
                t = self.stem(g, "x", m, k, s, pads, act=act, bias=bias)
                if out:
                    g.output(t)
                d = g.dw(t, act="relu6", name="dw")
                g.output(g.conv1x1(d, 8, name="pw"))
                got, prof, has_blocked = self.check(g, blocked=["dw", "pw"])
                if has_blocked:
                    self.assertEqual(prof["stem"].endswith("direct conv nchw16c"), c <= 4, prof)

    def test_stride_and_pads_against_plain_images(self):
        for k, s, pads in ((3, 2, (1, 1, 1, 1)), (3, 2, (0, 1, 2, 0)), (5, 1, (2, 2, 2, 2)),
                           (5, 2, (1, 2, 2, 1)), (3, 1, (1, 0, 0, 1))):
            with self.subTest(k=k, s=s, pads=pads):
                g = Graph(np.random.default_rng(5), (1, 20, 23, 18))
                d = g.dw("x", k=k, s=s, pads=pads, act="relu6", name="dw")
                g.output(g.conv1x1(d, 16, name="pw"))
                self.check(g, blocked=["dw", "pw"])


class TestClassifierHead(Base):
    def test_conv1x1_into_global_pool_runs_blocked(self):
        """A 1x1 Conv read by a GlobalAveragePool (squeezenet1_1's head) is a
        region of its own, with no depthwise convolution: it runs blocked,
        its plain input converted. With more output channels than positions
        (and more panels than tiles) the threads split the output panels
        instead of the positions: the same bits (check). A 1x1 before a
        MaxPool is no head and stays plain."""
        for n, c, h, w, m in ((1, 40, 7, 9, 300), (2, 24, 13, 13, 50), (1, 17, 5, 5, 1000)):
            with self.subTest(n=n, c=c, h=h, w=w, m=m):
                g = Graph(np.random.default_rng(11), (n, c, h, w))
                neg = g.name("t")
                g.nodes.append(helper.make_node("Neg", ["x"], [neg], name="neg"))
                g.val[neg] = -g.val["x"]
                y = g.conv1x1(neg, m, act="relu6", name="head")
                g.output(g.gap(y, name="gap"))
                self.check(g, blocked=["head", "gap"], plain=["neg"])
        g = Graph(np.random.default_rng(12), (1, 40, 8, 8))
        y = g.conv1x1("x", 300, act="relu6", name="pw")
        pool = g.name("t")
        g.nodes.append(helper.make_node("MaxPool", [y], [pool], name="pool", kernel_shape=[2, 2],
                                        strides=[2, 2]))
        g.val[pool] = g.val[y].reshape(1, 300, 4, 2, 4, 2).max(axis=(3, 5))
        g.output(pool)
        self.check(g, plain=["pw", "pool"])


class TestExpandDepthwiseBands(Base):
    def build(self, expanded_output, act="relu6", k=3, s=2, c=96, cin=16, h=113, w=110):
        """x -> depthwise (so that the expansion reads a blocked tensor) -> 1x1
        expansion to c channels -> depthwise k x k stride s -> 1x1 project."""
        g = Graph(np.random.default_rng(13), (1, cin, h, w))
        t = g.dw("x", act="relu6", name="dw0")
        e = g.conv1x1(t, c, act=act, name="pw")
        if expanded_output:
            g.output(e)
        d = g.dw(e, k=k, s=s, act=act, name="dw")
        y = g.conv1x1(d, 24, name="project")
        g.output(y)
        return g, y

    def test_fused_in_bands_on_the_blocked_kernels(self):
        """An expanded tensor of 3 MB and more, between a blocked 1x1 and the
        blocked depthwise Conv reading it, is computed a band of rows at a
        time into the depthwise node's scratch (conv_pw_dw.c, the blocked
        pair): "fused" and "1x1+dwconv nchw16c", the bits of the same graph
        unfused (the expanded tensor a graph output), at 1 to 3 threads.
        Activations in the 1x1's epilogue and one applied after it (leaky)."""
        for case in (dict(), dict(act="silu", k=5, s=1, c=240, h=57, w=61),
                     dict(act="leaky", k=3, s=1, c=160, h=70, w=71)):
            with self.subTest(**case):
                g, y = self.build(False, **case)
                got, prof, has_blocked = self.check(g, blocked=["dw0", "project"])
                gu, yu = self.build(True, **case)
                un, pu, _ = self.check(gu, blocked=["dw0", "pw", "dw", "project"])
                self.assertNotEqual(pu["pw"], "fused", pu)
                if has_blocked:
                    self.assertEqual(prof["pw"], "fused", prof)
                    self.assertTrue(prof["dw"].endswith("1x1+dwconv nchw16c"), prof)
                self.assertEqual(y, yu)
                self.assertTrue(np.array_equal(got[y], un[y]), "fused and unfused differ")


class TestLimits(Base):
    def test_padded_size_too_large_is_refused(self):
        """A session whose symbolic dims make a blocked tensor too large to
        pad (1 channel -> 16 lanes of 2^54 positions) is refused with a
        message naming the tensor, not planned with an overflowed size."""
        nodes = [helper.make_node("Conv", ["x", "w16"], ["t"], kernel_shape=[1, 1], name="pw"),
                 helper.make_node("Conv", ["t", "wd"], ["y"], group=16, kernel_shape=[3, 3],
                                  pads=[1, 1, 1, 1], name="dw")]
        g = helper.make_graph(
            nodes, "g", [helper.make_tensor_value_info("x", F, [1, 1, "H", "W"])],
            [helper.make_tensor_value_info("y", F, None)],
            [numpy_helper.from_array(np.ones((16, 1, 1, 1), np.float32), "w16"),
             numpy_helper.from_array(np.ones((16, 1, 3, 3), np.float32), "wd")])
        m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
        m.ir_version = 7
        path = os.path.join(self.tmp.name, "huge.ember")
        ec.convert(m, path)
        mod = ember.Model(path)
        s = mod.session(dims={"H": 8, "W": 8}, profile=True)
        s.run({"x": np.ones((1, 1, 8, 8), np.float32)})
        blocked = any(p["kernel"].endswith("nchw16c") for p in s.profile())
        s.close()
        if not blocked:
            mod.close()
            self.skipTest("this path has no blocked layout")
        try:
            mod.session(dims={"H": 1 << 27, "W": 1 << 27})
        except ember.LimitExceeded as e:
            self.assertIn("too large", str(e))
        else:
            self.fail("a session with a 2^54-position tensor was created")
        mod.close()


class TestSameBits(Base):
    def test_blocked_1x1_chain_equals_plain(self):
        """The same 1x1 chain (K over one GEMM block and over two), plain in a
        graph with no depthwise convolution, blocked in one that has one after
        it: the same bits."""
        for c, mid in ((24, 40), (600, 72)):
            with self.subTest(c=c, mid=mid):
                outs = []
                for with_dw in (False, True):
                    g = Graph(np.random.default_rng(6), (1, c, 9, 11))
                    a = g.conv1x1("x", mid, act="relu6", name="pw1")
                    b = g.conv1x1(a, 56, act="silu", name="pw2")
                    y = g.binary("Add", g.conv1x1(b, 56, name="pw3"), b, name="add")
                    g.output(y)
                    if with_dw:
                        g.output(g.dw(y, name="dw"))
                    got, prof, has_blocked = self.check(
                        g, blocked=["pw1", "pw2", "pw3", "add", "dw"] if with_dw else [],
                        plain=[] if with_dw else ["pw1", "pw2", "pw3", "add"])
                    outs.append(got[y])
                    if not with_dw and c <= 512 and prof["pw1"].startswith("avx512"):
                        # one K block: the plain 1x1 reads the image in place
                        # (conv.c, rows_1x1), the last partial tile packed
                        self.assertTrue(prof["pw1"].endswith("gemm in place"), prof)
                self.assertTrue(np.array_equal(outs[0], outs[1]), "blocked and plain differ")


if __name__ == "__main__":
    unittest.main()
