"""Tests of the ONNX converter (bindings/python/ember/convert.py).

    /usr/bin/python3 tests/test_convert.py

Needs onnx and numpy; the PyTorch export test is skipped without torch. The
converted graphs are checked structurally (ember.format.read); numerical
checks against the runtime are done by the binding and conformance tests.
"""
import glob
import io
import os
import re
import subprocess
import sys
import tempfile
import unittest
import contextlib

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
PYDIR = os.path.join(ROOT, "bindings", "python")
sys.path.insert(0, PYDIR)

import onnx  # noqa: E402
from onnx import helper, numpy_helper, TensorProto  # noqa: E402

from ember import convert as ec  # noqa: E402
from ember import format as emf  # noqa: E402

F = TensorProto.FLOAT
I64 = TensorProto.INT64


def make_model(nodes, inputs, outputs, inits=(), opset=13, **kw):
    g = helper.make_graph(nodes, "g", inputs, outputs,
                          [numpy_helper.from_array(np.asarray(v), k) for k, v in inits])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)], **kw)
    m.ir_version = 7 if opset < 15 else 8
    return m


def vi(name, shape, t=F):
    return helper.make_tensor_value_info(name, t, shape)


def ops(model):
    return [n["op_type"] for n in model["nodes"]]


def const_node(name, arr):
    return helper.make_node("Constant", [], [name], value=numpy_helper.from_array(np.asarray(arr)))


def run_cli(*args):
    env = dict(os.environ, PYTHONPATH=PYDIR)
    return subprocess.run([sys.executable, "-m", "ember.convert"] + list(args),
                          capture_output=True, text=True, env=env)


class Base(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.dir = self.tmp.name
        self.rng = np.random.default_rng(1234)

    def tearDown(self):
        self.tmp.cleanup()

    def path(self, name):
        return os.path.join(self.dir, name)

    def convert(self, model, **kw):
        out = self.path("out.ember")
        s = ec.convert(model, out, **kw)
        return emf.read(out), s

    def w(self, *shape):
        return self.rng.standard_normal(shape).astype(np.float32)


class TestRegistry(Base):
    def test_supported_ops_equal_c_registry(self):
        names = set()
        for f in glob.glob(os.path.join(ROOT, "src", "runtime", "ops", "*", "*.c")):
            with open(f, encoding="utf-8") as fh:
                src = fh.read()
            names.update(re.findall(r'\.name\s*=\s*"([A-Za-z0-9_.]+)"', src))
            names.update(re.findall(r'^\s*[A-Z_]+_DEF\(\s*\w+\s*,\s*"([A-Za-z0-9_]+)"', src, re.M))
        self.assertTrue(names, "no operators found in src/runtime/ops")
        self.assertEqual(sorted(names), sorted(ec.SUPPORTED_OPS))


class TestTorchCNN(Base):
    def test_cnn_batchnorm_relu6(self):
        try:
            import torch
            import torch.nn as nn
        except ImportError:
            self.skipTest("torch is not installed")
        torch.manual_seed(0)

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.c1 = nn.Conv2d(3, 8, 3, padding=1)
                self.b1 = nn.BatchNorm2d(8)
                self.c2 = nn.Conv2d(8, 8, 3, padding=1, groups=8, bias=False)
                self.b2 = nn.BatchNorm2d(8)
                self.fc = nn.Linear(8 * 4 * 4, 10)

            def forward(self, x):
                x = nn.functional.relu6(self.b1(self.c1(x)))
                x = nn.functional.relu(self.b2(self.c2(x)))
                x = nn.functional.max_pool2d(x, 2)
                x = x.reshape(x.shape[0], -1)
                return torch.softmax(self.fc(x), dim=1)

        m = Net().eval()
        for b in (m.b1, m.b2):
            b.running_mean.uniform_(-1, 1)
            b.running_var.uniform_(0.5, 2)
        p = self.path("cnn.onnx")
        with contextlib.redirect_stderr(io.StringIO()):
            torch.onnx.export(m, torch.randn(2, 3, 8, 8), p, opset_version=13,
                              input_names=["input"], output_names=["probs"],
                              dynamic_axes={"input": {0: "batch"}, "probs": {0: "batch"}},
                              do_constant_folding=False,
                              training=torch.onnx.TrainingMode.PRESERVE)
        src = onnx.load(p)
        self.assertIn("BatchNormalization", [n.op_type for n in src.graph.node])
        r, s = self.convert(p)
        self.assertEqual(ops(r), ["Conv", "Conv", "MaxPool", "Reshape", "Gemm", "Softmax"])
        self.assertEqual(s["batchnorms_folded"], 2)
        self.assertEqual(s["activations_fused"], 3)   # relu6 exports as Relu + Clip
        c1, c2 = r["nodes"][0], r["nodes"][1]
        self.assertEqual(c1["activation"], "clip")
        self.assertEqual((c1["act_alpha"], c1["act_beta"]), (0.0, 6.0))
        self.assertEqual(c2["activation"], "relu")
        self.assertEqual(r["inputs"], ["input"])
        self.assertEqual(r["outputs"], ["probs"])
        self.assertEqual(r["tensor_by_name"]["input"]["shape"], ["batch", 3, 8, 8])
        shape = r["tensor_by_name"][r["nodes"][3]["inputs"][1]]["data"]
        self.assertEqual(list(shape), [0, -1])
        # folded weights: W * gamma / sqrt(var + eps)
        sd = {k: v.detach().numpy().astype(np.float64) for k, v in m.state_dict().items()}
        scale = sd["b1.weight"] / np.sqrt(sd["b1.running_var"] + 1e-5)
        w = r["tensor_by_name"][c1["inputs"][1]]["data"]
        b = r["tensor_by_name"][c1["inputs"][2]]["data"]
        np.testing.assert_allclose(w, sd["c1.weight"] * scale[:, None, None, None], rtol=1e-5,
                                   atol=1e-6)
        np.testing.assert_allclose(b, (sd["c1.bias"] - sd["b1.running_mean"]) * scale
                                   + sd["b1.bias"], rtol=1e-5, atol=1e-6)
        self.assertEqual(s["nodes_after"], 6)
        self.assertGreater(s["nodes_before"], 6)
        self.assertEqual(s["file_size"], os.path.getsize(self.path("out.ember")))


class TestSiluFusion(Base):
    """Conv -> x * Sigmoid(x) becomes one Conv with the fused "silu" activation,
    and the runtime (when built) gives x * sigmoid(x)."""

    def graph(self, extra_use=False, swap=False):
        w, b = self.w(4, 3, 3, 3), self.w(4)
        nodes = [helper.make_node("Conv", ["x", "w", "b"], ["c"], pads=[1, 1, 1, 1]),
                 helper.make_node("Sigmoid", ["c"], ["s"]),
                 helper.make_node("Mul", ["s", "c"] if swap else ["c", "s"], ["y"])]
        outs = [vi("y", [1, 4, 5, 5])]
        if extra_use:  # c also feeds another node: the Conv's output must stay
            nodes.append(helper.make_node("Relu", ["c"], ["r"]))
            outs.append(vi("r", [1, 4, 5, 5]))
        return make_model(nodes, [vi("x", [1, 3, 5, 5])], outs, [("w", w), ("b", b)]), w, b

    def test_fused(self):
        for swap in (False, True):
            m, w, b = self.graph(swap=swap)
            r, s = self.convert(m)
            self.assertEqual(ops(r), ["Conv"])
            self.assertEqual(r["nodes"][0]["activation"], "silu")
            self.assertEqual(r["nodes"][0]["outputs"], ["y"])
            self.assertEqual(s["activations_fused"], 1)
            self.assertEqual(r["header"]["version_minor"], 2)
        try:
            import ember
            model = ember.Model(self.path("out.ember"))
        except Exception as e:  # the library is not built: structure only
            self.skipTest("runtime not available: %s" % e)
        x = self.rng.standard_normal((1, 3, 5, 5)).astype(np.float32)
        sess = model.session()
        y = sess.run({"x": x})["y"]
        xp = np.pad(x.astype(np.float64), ((0, 0), (0, 0), (1, 1), (1, 1)))
        c = np.zeros((1, 4, 5, 5))
        for o in range(4):
            for i in range(5):
                for j in range(5):
                    c[0, o, i, j] = (xp[0, :, i:i + 3, j:j + 3] * w[o]).sum() + b[o]
        np.testing.assert_allclose(y, c / (1 + np.exp(-c)), rtol=1e-5, atol=1e-5)

    def test_not_fused_when_conv_output_is_shared(self):
        m, _, _ = self.graph(extra_use=True)
        r, s = self.convert(m)
        self.assertEqual(ops(r)[:3], ["Conv", "Sigmoid", "Mul"])
        self.assertIsNone(next((n for n in r["nodes"] if n["activation"] == "silu"), None))


class TestGeluFusion(Base):
    """0.5 * x * (1 + erf(x / sqrt(2))) as exporters spell it becomes one Gelu
    node; the runtime (when built) matches the formula."""

    def graph(self, variant):
        c = lambda name, v: const_node(name, np.array(v, np.float32))  # noqa: E731
        nodes = [helper.make_node("MatMul", ["x", "w"], ["h"])]
        if variant == "torch":      # (h * (1 + erf(h / sqrt2))) * 0.5
            nodes += [c("s2", 2 ** 0.5), helper.make_node("Div", ["h", "s2"], ["d"]),
                      helper.make_node("Erf", ["d"], ["e"]), c("one", 1.0),
                      helper.make_node("Add", ["e", "one"], ["a"]),
                      helper.make_node("Mul", ["h", "a"], ["m"]), c("half", 0.5),
                      helper.make_node("Mul", ["m", "half"], ["y"])]
        else:                       # (0.5 * h) * (1 + erf(h * (1 / sqrt2)))
            nodes += [c("r2", 0.5 ** 0.5), helper.make_node("Mul", ["r2", "h"], ["d"]),
                      helper.make_node("Erf", ["d"], ["e"]), c("one", 1.0),
                      helper.make_node("Add", ["one", "e"], ["a"]), c("half", 0.5),
                      helper.make_node("Mul", ["half", "h"], ["hh"]),
                      helper.make_node("Mul", ["hh", "a"], ["y"])]
        outs = [vi("y", [3, 5])]
        if variant == "shared":     # an intermediate is also a graph output: no rewrite
            outs.append(vi("e", [3, 5]))
        w = self.w(4, 5)
        return make_model(nodes, [vi("x", [3, 4])], outs, [("w", w)]), w

    def test_fused(self):
        for variant in ("torch", "half_first"):
            m, w = self.graph(variant)
            r, s = self.convert(m)
            self.assertEqual(ops(r), ["MatMul", "Gelu"], variant)
            self.assertEqual(s["gelus_fused"], 1)
            try:
                import ember
                model = ember.Model(self.path("out.ember"))
            except Exception as e:  # the library is not built: structure only
                self.skipTest("runtime not available: %s" % e)
            x = self.rng.standard_normal((3, 4)).astype(np.float32)
            y = model.session().run({"x": x})["y"]
            h = x.astype(np.float64) @ w.astype(np.float64)
            from math import erf
            want = np.vectorize(lambda v: 0.5 * v * (1 + erf(v / 2 ** 0.5)))(h)
            np.testing.assert_allclose(y, want, rtol=1e-5, atol=1e-6)

    def test_not_fused_when_an_intermediate_is_used(self):
        m, _ = self.graph("shared")
        r, s = self.convert(m)
        self.assertIn("Erf", ops(r))
        self.assertNotIn("Gelu", ops(r))
        self.assertEqual(s["gelus_fused"], 0)


class TestOldOpsets(Base):
    def test_opset9_attribute_forms_and_constant_weights(self):
        w = self.w(4, 3, 3, 3)
        nodes = [
            const_node("W", w),
            const_node("B", self.w(4)),
            helper.make_node("Conv", ["x", "W", "B"], ["c"], name="conv", pads=[1, 1, 1, 1]),
            helper.make_node("Clip", ["c"], ["r"], name="relu6", min=0.0, max=6.0),
            helper.make_node("Slice", ["r"], ["s"], name="slice", starts=[1, 0], ends=[3, 4],
                             axes=[1, 3]),
            helper.make_node("Pad", ["s"], ["p"], name="pad", pads=[0, 0, 1, 1, 0, 0, 1, 1],
                             mode="constant", value=0.5),
            const_node("scales", np.array([1, 1, 2, 2], np.float32)),
            helper.make_node("Upsample", ["p", "scales"], ["u"], name="up", mode="nearest"),
            helper.make_node("Clip", ["u"], ["y"], name="clip2", min=-1.0, max=1.0),
        ]
        m = make_model(nodes, [vi("x", [1, 3, 6, 6])], [vi("y", None)], opset=9)
        r, _ = self.convert(m)
        self.assertEqual(ops(r), ["Conv", "Slice", "Pad", "Resize", "Clip"])
        conv, sl, pad, rs, clip = r["nodes"]
        self.assertEqual(conv["activation"], "clip")
        self.assertEqual((conv["act_alpha"], conv["act_beta"]), (0.0, 6.0))
        np.testing.assert_array_equal(r["tensor_by_name"][conv["inputs"][1]]["data"], w)
        self.assertEqual(sl["attrs"]["starts"], [1, 0])
        self.assertEqual(pad["attrs"]["pads"], [0, 0, 1, 1, 0, 0, 1, 1])
        self.assertEqual(rs["attrs"]["coordinate_transformation_mode"], "asymmetric")
        self.assertEqual(rs["attrs"]["nearest_mode"], "floor")
        self.assertFalse(rs["inputs"][1])
        np.testing.assert_array_equal(r["tensor_by_name"][rs["inputs"][2]]["data"], [1, 1, 2, 2])
        self.assertEqual((clip["attrs"]["min"], clip["attrs"]["max"]), (-1.0, 1.0))

    def test_opset10_resize_and_opset11_forms(self):
        nodes = [
            helper.make_node("Resize", ["x", "sc"], ["u"], mode="linear"),
        ]
        m = make_model(nodes, [vi("x", [1, 2, 4, 4])], [vi("u", None)],
                       inits=[("sc", np.array([1, 1, 2, 2], np.float32))], opset=10)
        r, _ = self.convert(m)
        self.assertEqual(ops(r), ["Resize"])
        self.assertEqual(r["nodes"][0]["attrs"]["coordinate_transformation_mode"], "asymmetric")
        self.assertEqual(r["nodes"][0]["attrs"]["mode"], "linear")

        nodes = [
            helper.make_node("Gemm", ["x", "w", "b"], ["g"], name="fc", transB=1),
            helper.make_node("Clip", ["g", "lo", "hi"], ["c"], name="clip"),
            helper.make_node("Unsqueeze", ["c"], ["u"], axes=[1]),
            helper.make_node("ReduceMean", ["u"], ["m"], axes=[2], keepdims=0),
            helper.make_node("Squeeze", ["m"], ["y"], axes=[1]),
            helper.make_node("Softmax", ["y"], ["p"], name="sm"),
        ]
        m = make_model(nodes, [vi("x", ["N", 6])], [vi("p", None)],
                       inits=[("w", self.w(5, 6)), ("b", self.w(5)),
                              ("lo", np.array(-1, np.float32)), ("hi", np.array(2, np.float32))],
                       opset=11)
        r, _ = self.convert(m)
        self.assertEqual(ops(r), ["Gemm", "Unsqueeze", "ReduceMean", "Squeeze", "Softmax"])
        g = r["nodes"][0]
        self.assertEqual((g["activation"], g["act_alpha"], g["act_beta"]), ("clip", -1.0, 2.0))
        self.assertEqual(r["nodes"][1]["attrs"]["axes"], [1])
        self.assertEqual(r["nodes"][4]["attrs"]["axis"], -1)
        self.assertEqual(r["tensor_by_name"]["x"]["shape"], ["N", 6])

    def test_opset11_softmax_coerced_axis(self):
        nodes = [helper.make_node("Softmax", ["x"], ["y"], name="sm", axis=1)]
        m = make_model(nodes, [vi("x", ["N", 3, 4])], [vi("y", None)], opset=11)
        r, _ = self.convert(m)
        self.assertEqual(ops(r), ["Flatten", "Softmax", "Reshape"])
        self.assertEqual(r["nodes"][1]["attrs"]["axis"], -1)
        shape = r["tensor_by_name"][r["nodes"][2]["inputs"][1]]["data"]
        self.assertEqual(list(shape), [-1, 3, 4])
        self.assertEqual(r["outputs"], ["y"])

    def test_batchnorm_into_gemm_and_dropout_identity(self):
        nodes = [
            helper.make_node("Gemm", ["x", "w", "b"], ["g"], alpha=0.5),
            helper.make_node("BatchNormalization", ["g", "s", "bb", "mu", "var"], ["n"],
                             epsilon=1e-3),
            helper.make_node("Dropout", ["n"], ["d"], ratio=0.3),
            helper.make_node("Identity", ["d"], ["y"]),
        ]
        w, b = self.w(6, 5), self.w(5)
        s, bb, mu, var = self.w(5), self.w(5), self.w(5), np.abs(self.w(5)) + 0.5
        m = make_model(nodes, [vi("x", [2, 6])], [vi("y", None)],
                       inits=[("w", w), ("b", b), ("s", s), ("bb", bb), ("mu", mu),
                              ("var", var)], opset=11)
        r, _ = self.convert(m)
        self.assertEqual(ops(r), ["Gemm"])
        g = r["nodes"][0]
        self.assertEqual(g["outputs"], ["y"])
        k = s / np.sqrt(var + 1e-3)
        x = self.w(2, 6)
        want = (0.5 * x @ w + b - mu) * k + bb
        w2 = r["tensor_by_name"][g["inputs"][1]]["data"]
        b2 = r["tensor_by_name"][g["inputs"][2]]["data"]
        got = g["attrs"].get("alpha", 1.0) * x @ w2 + g["attrs"].get("beta", 1.0) * b2
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


class TestShapes(Base):
    def _chain(self, reshape_extra=()):
        nodes = [
            helper.make_node("Shape", ["x"], ["sh"]),
            helper.make_node("Gather", ["sh", "zero"], ["n"], axis=0),
            helper.make_node("Unsqueeze", ["n", "ax0"], ["n1"]),
            helper.make_node("Concat", ["n1", "minus1"], ["target"], axis=0),
            helper.make_node("Reshape", ["x", "target"], ["flat"], name="reshape"),
            helper.make_node("MatMul", ["flat", "w"], ["mm"], name="mm"),
            helper.make_node("Relu", ["mm"], ["y"]),
        ]
        inits = [("zero", np.array(0, np.int64)), ("ax0", np.array([0], np.int64)),
                 ("minus1", np.array([-1], np.int64)), ("w", self.w(48, 4))]
        return make_model(nodes, [vi("x", ["batch", 3, 4, 4])], [vi("y", ["batch", 4])],
                          inits=inits, opset=13)

    def test_symbolic_batch_stays_symbolic(self):
        r, s = self.convert(self._chain())
        self.assertEqual(ops(r), ["Reshape", "MatMul"])
        self.assertEqual(r["tensor_by_name"]["x"]["shape"], ["batch", 3, 4, 4])
        tgt = r["tensor_by_name"][r["nodes"][0]["inputs"][1]]["data"]
        self.assertEqual(list(tgt), [0, -1])
        self.assertEqual(r["nodes"][1]["activation"], "relu")
        self.assertEqual(s["nodes_before"], 7)
        self.assertEqual(s["nodes_after"], 2)

    def test_static_shape_chain_folds(self):
        m = self._chain()
        m.graph.input[0].type.tensor_type.shape.dim[0].dim_value = 2
        r, _ = self.convert(m)
        tgt = r["tensor_by_name"][r["nodes"][0]["inputs"][1]]["data"]
        self.assertEqual(list(tgt), [2, -1])

    def test_symbolic_inner_target(self):
        # Reshape x[N, 12] to [N, 3, 4] and expand z[N, 1, 4] to [N, 3, 4] through Shape(x)[0:1]
        nodes = [
            helper.make_node("Shape", ["x"], ["sh"]),
            helper.make_node("Slice", ["sh", "s0", "s1"], ["n"]),
            helper.make_node("Concat", ["n", "rest"], ["t"], axis=0),
            helper.make_node("Reshape", ["x", "t"], ["y"]),
            helper.make_node("Expand", ["z", "t2"], ["e"]),
            helper.make_node("Add", ["y", "e"], ["z"]),
        ]
        nodes.insert(4, helper.make_node("Concat", ["n", "rest"], ["t2"], axis=0))
        nodes[-1] = helper.make_node("Add", ["y", "e"], ["out"])
        m = make_model(nodes, [vi("x", ["N", 12]), vi("z", ["N", 1, 4])], [vi("out", None)],
                       inits=[("s0", np.array([0], np.int64)), ("s1", np.array([1], np.int64)),
                              ("rest", np.array([3, 4], np.int64))], opset=13)
        r, _ = self.convert(m)
        self.assertEqual(ops(r), ["Reshape", "Expand", "Add"])
        self.assertEqual(list(r["tensor_by_name"][r["nodes"][0]["inputs"][1]]["data"]), [0, 3, 4])
        self.assertEqual(list(r["tensor_by_name"][r["nodes"][1]["inputs"][1]]["data"]), [1, 3, 4])

    def test_constant_folding_evaluator(self):
        nodes = [
            helper.make_node("Range", ["a", "b", "c"], ["rg"]),
            helper.make_node("Cast", ["rg"], ["rgf"], to=TensorProto.FLOAT),
            helper.make_node("Sqrt", ["rgf"], ["sq"]),
            helper.make_node("ConstantOfShape", ["shp"], ["ones"],
                             value=numpy_helper.from_array(np.array([2.0], np.float32))),
            helper.make_node("Mul", ["sq", "ones"], ["k"]),
            helper.make_node("Equal", ["rg", "a"], ["eq"]),
            helper.make_node("Where", ["eq", "ones", "k"], ["wk"]),
            helper.make_node("Neg", ["wk"], ["nk"]),
            helper.make_node("Add", ["x", "nk"], ["y"]),
        ]
        m = make_model(nodes, [vi("x", [4])], [vi("y", None)],
                       inits=[("a", np.array(0, np.int64)), ("b", np.array(4, np.int64)),
                              ("c", np.array(1, np.int64)), ("shp", np.array([4], np.int64))])
        r, _ = self.convert(m)
        self.assertEqual(ops(r), ["Add"])
        k = r["tensor_by_name"][r["nodes"][0]["inputs"][1]]["data"]
        np.testing.assert_allclose(k, -np.array([2, 2, 2 * np.sqrt(2), 2 * np.sqrt(3)]),
                                   rtol=1e-6)

    def test_constant_output_gets_identity(self):
        nodes = [helper.make_node("Shape", ["x"], ["s"]), helper.make_node("Relu", ["x"], ["r"])]
        m = make_model(nodes, [vi("x", [2, 3])], [vi("s", None), vi("r", None)])
        r, _ = self.convert(m)
        self.assertEqual(sorted(ops(r)), ["Identity", "Relu"])
        self.assertEqual(r["outputs"], ["s", "r"])
        ident = [n for n in r["nodes"] if n["op_type"] == "Identity"][0]
        self.assertEqual(list(r["tensor_by_name"][ident["inputs"][0]]["data"]), [2, 3])

    def test_freeze_inputs(self):
        nodes = [helper.make_node("Reshape", ["x", "shape"], ["y"])]
        m = make_model(nodes, [vi("x", [2, 6]), vi("shape", [2], I64)], [vi("y", None)])
        with self.assertRaises(ec.ConversionError) as cm:
            self.convert(m)
        self.assertIn("constant", str(cm.exception))
        self.assertFalse(os.path.exists(self.path("out.ember")))
        r, _ = self.convert(m, freeze_inputs={"shape": np.array([3, 4])})
        self.assertEqual(r["inputs"], ["x"])
        self.assertEqual(list(r["tensor_by_name"][r["nodes"][0]["inputs"][1]]["data"]), [3, 4])
        # the same through the CLI
        p = self.path("m.onnx")
        onnx.save(m, p)
        np.save(self.path("shape.npy"), np.array([4, 3], np.int64))
        res = run_cli(p, self.path("cli.ember"), "--freeze", "shape=" + self.path("shape.npy"))
        self.assertEqual(res.returncode, 0, res.stderr)
        r = emf.read(self.path("cli.ember"))
        self.assertEqual(list(r["tensor_by_name"][r["nodes"][0]["inputs"][1]]["data"]), [4, 3])


class TestPack(Base):
    def test_pack_option(self):
        if not os.environ.get("EMBER_LIBRARY"):
            self.skipTest("EMBER_LIBRARY is not set (the meson test sets it)")
        nodes = [helper.make_node("Gemm", ["x", "w", "b"], ["y"], transB=1)]
        m = make_model(nodes, [vi("x", [1, 64])], [vi("y", [1, 32])],
                       inits=[("w", self.w(32, 64)), ("b", self.w(32))])
        p = self.path("m.onnx")
        onnx.save(m, p)
        res = run_cli(p, self.path("plain.ember"))
        self.assertEqual(res.returncode, 0, res.stderr)
        res = run_cli(p, self.path("packed.ember"), "--pack")
        self.assertEqual(res.returncode, 0, res.stderr)
        self.assertIn("pre-packed for this machine", res.stdout)
        plain, packed = emf.read(self.path("plain.ember")), emf.read(self.path("packed.ember"))
        self.assertNotIn("PACKED", [x["name"] for x in plain["sections"]])
        self.assertIn("PACKED", [x["name"] for x in packed["sections"]])
        import ember
        x = self.w(1, 64)
        want = ember.Model(self.path("plain.ember")).run({"x": x})["y"]
        got = ember.Model(self.path("packed.ember")).run({"x": x})["y"]
        self.assertEqual(want.tobytes(), got.tobytes())
        res = run_cli(p, self.path("bad.ember"), "--pack", "sse9")
        self.assertEqual(res.returncode, 2)
        self.assertIn("--pack takes generic, avx2, avx512 or neon", res.stderr)
        self.assertFalse(os.path.exists(self.path("bad.ember")))


class TestErrors(Base):
    def test_unsupported_ops_listed_and_no_file(self):
        nodes = [
            helper.make_node("Relu", ["x"], ["r"], name="relu"),
            helper.make_node("TopK", ["r", "k"], ["v", "i"], name="topk1"),
            helper.make_node("NonZero", ["v"], ["nz"], name="nz1"),
            helper.make_node("NonZero", ["r"], ["nz2"], name="nz2"),
        ]
        m = make_model(nodes, [vi("x", [3, 4])], [vi("nz", None), vi("nz2", None)],
                       inits=[("k", np.array([2], np.int64))], opset=13)
        with self.assertRaises(ec.UnsupportedError) as cm:
            self.convert(m)
        msg = str(cm.exception)
        self.assertIn("opset 13", msg)
        self.assertIn("TopK (topk1)", msg)
        self.assertIn("NonZero (nz1, nz2)", msg)
        self.assertFalse(os.path.exists(self.path("out.ember")))
        self.assertEqual(os.listdir(self.dir), [])
        p = self.path("bad.onnx")
        onnx.save(m, p)
        res = run_cli(p, self.path("bad.ember"))
        self.assertEqual(res.returncode, 1)
        self.assertNotIn("Traceback", res.stderr)
        self.assertEqual(len(res.stderr.strip().splitlines()), 1, res.stderr)
        self.assertIn("TopK", res.stderr)
        self.assertFalse(os.path.exists(self.path("bad.ember")))

    def test_not_onnx(self):
        p = self.path("notes.onnx")
        with open(p, "w") as f:
            f.write("this is not a model\n" * 10)
        with self.assertRaises(ec.ConversionError) as cm:
            ec.convert(p, self.path("x.ember"))
        self.assertIn("not an ONNX model", str(cm.exception))
        res = run_cli(p, self.path("x.ember"))
        self.assertEqual(res.returncode, 1)
        self.assertNotIn("Traceback", res.stderr)
        self.assertIn("not an ONNX model", res.stderr)
        res = run_cli(self.path("missing.onnx"), self.path("x.ember"))
        self.assertEqual(res.returncode, 1)
        self.assertIn("no such file", res.stderr)
        self.assertFalse(os.path.exists(self.path("x.ember")))
        res = run_cli(p)
        self.assertEqual(res.returncode, 2)
        self.assertNotIn("Traceback", res.stderr)

    def test_double_tensor_refused(self):
        nodes = [helper.make_node("Add", ["x", "c"], ["y"])]
        m = make_model(nodes, [vi("x", [2], TensorProto.DOUBLE)], [vi("y", None)],
                       inits=[("c", np.ones(2))])
        with self.assertRaises(ec.ConversionError) as cm:
            self.convert(m)
        self.assertIn("x", str(cm.exception))
        self.assertIn("DOUBLE", str(cm.exception))
        nodes = [helper.make_node("Mul", ["x", "c"], ["y"])]
        m = make_model(nodes, [vi("x", [2])], [vi("y", None)], inits=[("c", np.ones(2))])
        with self.assertRaises(ec.ConversionError) as cm:
            self.convert(m)
        self.assertIn("tensor c", str(cm.exception))


class TestFilesAndMetadata(Base):
    def _model(self):
        nodes = [helper.make_node("MatMul", ["x", "w"], ["y"], name="mm")]
        return make_model(nodes, [vi("x", ["N", 64])], [vi("y", None)],
                          inits=[("w", self.w(64, 10))], producer_name="unit-test",
                          producer_version="9.9", doc_string="a tiny model")

    def test_external_data(self):
        m = self._model()
        w = numpy_helper.to_array(m.graph.initializer[0])
        sub = self.path("model")
        os.mkdir(sub)
        p = os.path.join(sub, "m.onnx")
        onnx.save_model(m, p, save_as_external_data=True, all_tensors_to_one_file=True,
                        location="m.weights", size_threshold=0)
        self.assertTrue(os.path.exists(os.path.join(sub, "m.weights")))
        cwd = os.getcwd()
        os.chdir(self.dir)   # not the model's folder
        try:
            r, _ = self.convert(os.path.join("model", "m.onnx"))
        finally:
            os.chdir(cwd)
        np.testing.assert_array_equal(r["tensor_by_name"]["w"]["data"], w)

    def test_metadata(self):
        m = self._model()
        helper.set_model_props(m, {"author": "someone", "license": "MIT"})
        r, _ = self.convert(m)
        md = r["metadata"]
        self.assertEqual(md["description"], "a tiny model")
        self.assertEqual(md["author"], "someone")
        self.assertEqual(md["license"], "MIT")
        self.assertIn("unit-test 9.9", md["source_producer"])
        self.assertTrue(md["producer"].startswith("ember-convert"))
        p = self.path("m.onnx")
        onnx.save(m, p)
        with open(self.path("labels.txt"), "w") as f:
            f.write("zero\none\ntwo\n")
        res = run_cli(p, self.path("m.ember"), "--name", "tiny", "--version", "2.1",
                      "--labels", self.path("labels.txt"), "--description", "stamped")
        self.assertEqual(res.returncode, 0, res.stderr)
        self.assertIn("nodes 1 -> 1", res.stdout)
        self.assertIn("parameters", res.stdout)
        r = emf.read(self.path("m.ember"))
        md = r["metadata"]
        self.assertEqual((md["name"], md["version"], md["description"]),
                         ("tiny", "2.1", "stamped"))
        self.assertEqual(r["labels"], ["zero", "one", "two"])
        self.assertEqual(r["tensor_by_name"]["x"]["shape"], ["N", 64])


if __name__ == "__main__":
    unittest.main(verbosity=1)
