#!/usr/bin/python3
"""The planner's shared buffers (src/runtime/plan.c, share_buffers): a Concat
whose inputs its producers wrote in place and Reshape / Flatten / Squeeze /
Unsqueeze / Identity, and a Transpose that only moves unit axes, that copy
nothing, and every case where sharing must not
happen (graph inputs and outputs, the second use of an input in one Concat or
in two Concats, parts off a cache line, a Concat with dims before its axis).

    EMBER_LIBRARY=build/libember.so /usr/bin/python3 tests/test_buffer_sharing.py

Each graph is converted from ONNX, run at 1 and 2 threads and compared with
numpy; the profile's kernel names tell whether a node copied ("in place" when
it did not), so a planner that stopped sharing, or shared where it must not,
fails here.
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


def vi(name, shape):
    return helper.make_tensor_value_info(name, F, shape)


def model(nodes, inputs, outputs, inits=()):
    g = helper.make_graph(nodes, "g", inputs, outputs,
                          [numpy_helper.from_array(np.asarray(v), k) for k, v in inits])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
    m.ir_version = 7
    return m


def conv1x1(x, w):
    """x [1, C, H, W], w [M, C, 1, 1]"""
    return np.einsum("mc,chw->mhw", w[:, :, 0, 0].astype(np.float64),
                     x[0].astype(np.float64))[None].astype(np.float32)


def relu(v):
    return np.maximum(v, 0)


class Base(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.rng = np.random.default_rng(7)

    def tearDown(self):
        self.tmp.cleanup()

    def w(self, *shape):
        return self.rng.standard_normal(shape).astype(np.float32)

    def run_model(self, m, feeds, want, kernels):
        """Runs m at 1 and 2 threads: outputs == want (dict), and for each
        node name in kernels, whether its kernel is "in place"."""
        path = os.path.join(self.tmp.name, "m.ember")
        ec.convert(m, path)
        mod = ember.Model(path)
        for threads in (1, 2):
            s = mod.session(threads=threads, profile=True)
            for _ in range(2):  # a second run must not see the first's leftovers
                out = s.run(feeds)
                for k, v in want.items():
                    np.testing.assert_allclose(out[k], v, rtol=1e-5, atol=1e-5,
                                               err_msg="%s at %d threads" % (k, threads))
            prof = {p["name"]: p["kernel"] for p in s.profile()}
            for name, in_place in kernels.items():
                self.assertIn(name, prof)
                self.assertEqual(prof[name] == "in place", in_place,
                                 "%s ran with kernel %r" % (name, prof[name]))
            s.close()
        mod.close()


class TestConcat(Base):
    def fire(self, extra_nodes=(), extra_outputs=(), concat_inputs=("a", "b")):
        """x -> 1x1 conv -> relu -> a (3 channels); x -> 1x1 conv -> b (5
        channels); c = Concat(concat_inputs, axis 1); y = relu(c); z = 2 * a
        read after the Concat."""
        wa, wb = self.w(3, 4, 1, 1), self.w(5, 4, 1, 1)
        two = np.array(2.0, np.float32)
        nodes = [helper.make_node("Conv", ["x", "wa"], ["pa"], name="conv_a"),
                 helper.make_node("Relu", ["pa"], ["a"], name="relu_a"),
                 helper.make_node("Conv", ["x", "wb"], ["b"], name="conv_b"),
                 helper.make_node("Concat", list(concat_inputs), ["c"], axis=1, name="concat"),
                 helper.make_node("Relu", ["c"], ["y"], name="relu_c"),
                 helper.make_node("Mul", ["a", "two"], ["z"], name="twice_a")]
        nodes += list(extra_nodes)
        outs = [vi("y", None), vi("z", None)] + [vi(n, None) for n in extra_outputs]
        m = model(nodes, [vi("x", [1, 4, 8, 8])], outs, [("wa", wa), ("wb", wb), ("two", two)])
        x = self.w(1, 4, 8, 8)
        a, b = relu(conv1x1(x, wa)), conv1x1(x, wb)
        parts = {"a": a, "b": b}
        c = np.concatenate([parts[n] for n in concat_inputs], axis=1)
        return m, x, {"a": a, "b": b, "c": c, "y": relu(c), "z": 2 * a}

    def test_parts_written_in_place(self):
        m, x, r = self.fire()
        self.run_model(m, {"x": x}, {"y": r["y"], "z": r["z"]}, {"concat": True})

    def test_an_input_twice_is_copied_once(self):
        # a is produced into the first part and copied from there to the third
        m, x, r = self.fire(concat_inputs=("a", "b", "a"))
        self.run_model(m, {"x": x}, {"y": r["y"], "z": r["z"]}, {"concat": False})

    def test_a_graph_output_part_is_copied(self):
        m, x, r = self.fire(extra_outputs=("b",))
        self.run_model(m, {"x": x}, {"y": r["y"], "z": r["z"], "b": r["b"]}, {"concat": False})

    def test_a_graph_output_concat_is_copied(self):
        m, x, r = self.fire(extra_outputs=("c",))
        self.run_model(m, {"x": x}, {"y": r["y"], "c": r["c"]}, {"concat": False})

    def test_a_graph_input_part_is_copied(self):
        wa = self.w(3, 4, 1, 1)
        nodes = [helper.make_node("Conv", ["x", "wa"], ["a"], name="conv_a"),
                 helper.make_node("Concat", ["x", "a"], ["c"], axis=1, name="concat"),
                 helper.make_node("Relu", ["c"], ["y"], name="relu_c")]
        m = model(nodes, [vi("x", [1, 4, 8, 8])], [vi("y", None)], [("wa", wa)])
        x = self.w(1, 4, 8, 8)
        want = relu(np.concatenate([x, conv1x1(x, wa)], axis=1))
        self.run_model(m, {"x": x}, {"y": want}, {"concat": False})

    def test_an_input_of_two_concats(self):
        # the first Concat takes a and b in place; the second copies them
        # from there (and from its own part, d)
        wd = self.w(2, 4, 1, 1)
        extra = [helper.make_node("Conv", ["x", "wd"], ["d"], name="conv_d"),
                 helper.make_node("Concat", ["b", "a", "d"], ["c2"], axis=1, name="concat2"),
                 helper.make_node("Sigmoid", ["c2"], ["y2"], name="sig")]
        m, x, r = self.fire(extra_nodes=extra, extra_outputs=("y2",))
        m.graph.initializer.append(numpy_helper.from_array(wd, "wd"))
        c2 = np.concatenate([r["b"], r["a"], conv1x1(x, wd)], axis=1)
        self.run_model(m, {"x": x}, {"y": r["y"], "z": r["z"], "y2": 1 / (1 + np.exp(-c2))},
                       {"concat": True, "concat2": False})

    def test_dims_before_the_axis_are_copied(self):
        # axis 2 of [1, C, H, W]: every part is C separate runs of the output
        nodes = [helper.make_node("Relu", ["x"], ["a"], name="ra"),
                 helper.make_node("Sigmoid", ["x"], ["b"], name="sb"),
                 helper.make_node("Concat", ["a", "b"], ["c"], axis=2, name="concat"),
                 helper.make_node("Neg", ["c"], ["y"], name="neg")]
        m = model(nodes, [vi("x", [1, 4, 8, 8])], [vi("y", None)])
        x = self.w(1, 4, 8, 8)
        want = -np.concatenate([relu(x), 1 / (1 + np.exp(-x))], axis=2)
        self.run_model(m, {"x": x}, {"y": want}, {"concat": False})

    def test_parts_off_a_cache_line_are_copied(self):
        # [1, 3] then [1, 5] floats: the second part would start 12 bytes in
        nodes = [helper.make_node("Relu", ["x"], ["a"], name="ra"),
                 helper.make_node("Sigmoid", ["v"], ["b"], name="sb"),
                 helper.make_node("Concat", ["a", "b"], ["c"], axis=1, name="concat"),
                 helper.make_node("Neg", ["c"], ["y"], name="neg")]
        m = model(nodes, [vi("x", [1, 3]), vi("v", [1, 5])], [vi("y", None)])
        x, v = self.w(1, 3), self.w(1, 5)
        want = -np.concatenate([relu(x), 1 / (1 + np.exp(-v))], axis=1)
        self.run_model(m, {"x": x, "v": v}, {"y": want}, {"concat": False})


class TestReshapes(Base):
    def test_chain_into_a_concat(self):
        # relu(x) -> Reshape -> Flatten -> Unsqueeze -> Squeeze -> Concat with
        # another part: no copy anywhere; then the Concat's output reshaped
        shape = np.array([1, 4, 64], np.int64)
        axes = np.array([0], np.int64)
        nodes = [helper.make_node("Relu", ["x"], ["r"], name="relu"),
                 helper.make_node("Reshape", ["r", "shape"], ["s"], name="reshape"),
                 helper.make_node("Flatten", ["s"], ["f"], axis=1, name="flatten"),
                 helper.make_node("Unsqueeze", ["f", "axes"], ["u"], name="unsqueeze"),
                 helper.make_node("Squeeze", ["u", "axes"], ["q"], name="squeeze"),
                 helper.make_node("Sigmoid", ["v"], ["g"], name="sig"),
                 helper.make_node("Concat", ["q", "g"], ["c"], axis=1, name="concat"),
                 helper.make_node("Reshape", ["c", "shape2"], ["c2"], name="reshape2"),
                 helper.make_node("Neg", ["c2"], ["y"], name="neg"),
                 helper.make_node("Mul", ["r", "r"], ["z"], name="square")]
        m = model(nodes, [vi("x", [1, 4, 8, 8]), vi("v", [1, 32])], [vi("y", None), vi("z", None)],
                  [("shape", shape), ("axes", axes), ("shape2", np.array([2, 144], np.int64))])
        x, v = self.w(1, 4, 8, 8), self.w(1, 32)
        c = np.concatenate([relu(x).reshape(1, 256), 1 / (1 + np.exp(-v))], axis=1)
        self.run_model(m, {"x": x, "v": v}, {"y": -c.reshape(2, 144), "z": relu(x) ** 2},
                       {"reshape": True, "flatten": True, "unsqueeze": True, "squeeze": True,
                        "concat": True, "reshape2": True})

    def test_graph_inputs_and_outputs_are_copied(self):
        shape = np.array([4, 64], np.int64)
        nodes = [helper.make_node("Reshape", ["x", "shape"], ["s"], name="of_input"),
                 helper.make_node("Relu", ["s"], ["r"], name="relu"),
                 helper.make_node("Reshape", ["r", "shape"], ["y"], name="to_output"),
                 helper.make_node("Neg", ["r"], ["z"], name="neg")]
        m = model(nodes, [vi("x", [1, 4, 8, 8])], [vi("y", None), vi("z", None)],
                  [("shape", shape)])
        x = self.w(1, 4, 8, 8)
        r = relu(x.reshape(4, 64))
        self.run_model(m, {"x": x}, {"y": r, "z": -r}, {"of_input": False, "to_output": False})


class TestTranspose(Base):
    def test_unit_axes_moved_in_place(self):
        """A Transpose that only moves axes of length 1 (a transformer's
        [1, S, D] -> [S, 1, D]) moves no byte: it shares its input's buffer.
        One that reorders longer axes, or reads a graph input, copies."""
        nodes = [helper.make_node("Relu", ["x"], ["r"], name="relu"),
                 helper.make_node("Transpose", ["r"], ["t"], perm=[1, 0, 2], name="unit_swap"),
                 helper.make_node("Transpose", ["t"], ["u"], perm=[1, 2, 0], name="real"),
                 helper.make_node("Neg", ["u"], ["y"], name="neg"),
                 helper.make_node("Transpose", ["x"], ["z"], perm=[1, 0, 2], name="of_input")]
        m = model(nodes, [vi("x", [1, 6, 5])], [vi("y", None), vi("z", None)])
        x = self.w(1, 6, 5)
        t = relu(x).transpose(1, 0, 2)
        self.run_model(m, {"x": x}, {"y": -t.transpose(1, 2, 0), "z": x.transpose(1, 0, 2)},
                       {"unit_swap": True, "real": False, "of_input": False})


if __name__ == "__main__":
    unittest.main()
