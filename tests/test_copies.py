#!/usr/bin/python3
"""Slice and Transpose copies on the session's threads (ops/tensor/copy_mt.c)
and through the dispatched 2-D transpose (f32_transpose.h).

    EMBER_LIBRARY=build/libember.so /usr/bin/python3 tests/test_copies.py

Each graph (Relu first, so that the copy reads a computed tensor, not the
graph input) runs at 1, 2 and 3 threads; the outputs must equal numpy's bit for
bit. The boxes are below and above the 64 KB from which the copy is cut
between threads, with a leading axis of 1 (the cut takes the first longer
one), an outermost axis shorter than the threads, negative steps, and
transposes that swap the contiguous axis (the 2-D kernel: the profile says
"transpose2d"), keep it (runs of a row), or only move axes of 1.
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


class Copies(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.rng = np.random.default_rng(5)

    def tearDown(self):
        self.tmp.cleanup()

    def run_graph(self, node, shape, inits=()):
        """x -> Relu -> node -> y, at 1, 2 and 3 threads; returns x, the
        outputs of each run and the profile's kernel for node."""
        nodes = [helper.make_node("Relu", ["x"], ["r"], name="relu"), node]
        g = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", F, list(shape))],
                              [helper.make_tensor_value_info("y", F, None)],
                              [numpy_helper.from_array(np.asarray(v), k) for k, v in inits])
        m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
        m.ir_version = 7
        path = os.path.join(self.tmp.name, "m%d.ember" % len(os.listdir(self.tmp.name)))
        ec.convert(m, path)
        x = self.rng.standard_normal(shape).astype(np.float32)
        mod = ember.Model(path)
        outs, kernel = [], None
        for threads in (1, 2, 3):
            s = mod.session(threads=threads, profile=True)
            outs.append(s.run({"x": x})["y"])
            kernel = {p["name"]: p["kernel"] for p in s.profile()}[node.name]
            s.close()
        mod.close()
        return x, outs, kernel

    def check(self, outs, want):
        for t, got in enumerate(outs, 1):
            self.assertEqual(got.shape, want.shape)
            self.assertTrue(np.array_equal(got, want), "%d threads differ from numpy" % t)

    def test_transpose(self):
        for shape, perm, swaps in (((4, 128, 64), (0, 2, 1), True),    # attention's keys
                                   ((1, 4, 128, 64), (0, 1, 3, 2), True),
                                   ((128, 4, 64), (1, 0, 2), False),     # heads apart
                                   ((3, 37, 21), (0, 2, 1), True),       # under 64 KB
                                   ((2, 300, 70), (2, 1, 0), True),      # outermost 2 < 3 threads
                                   ((1, 128, 256), (1, 0, 2), False)):   # unit axis only
            with self.subTest(shape=shape, perm=perm):
                node = helper.make_node("Transpose", ["r"], ["y"], perm=list(perm), name="t")
                x, outs, kernel = self.run_graph(node, shape)
                self.check(outs, np.maximum(x, 0).transpose(perm))
                self.assertEqual(kernel.endswith("transpose2d"), swaps, kernel)

    def test_slice(self):
        every = slice(None)
        for shape, starts, ends, axes, steps, want in (
                ((1, 128, 768), [256], [512], [-1], [1],
                 (every, every, slice(256, 512))),                        # the keys of QKV
                ((1, 128, 768), [0, 0], [128, 768], [1, 2], [2, 3],
                 (every, slice(0, 128, 2), slice(0, 768, 3))),            # strided
                ((2, 200, 96), [199, 95], [-201, -97], [1, 2], [-1, -2],
                 (every, slice(199, None, -1), slice(95, None, -2))),     # reversed
                ((5, 9, 11), [1], [8], [1], [1], (every, slice(1, 8))),  # under 64 KB
        ):
            with self.subTest(shape=shape, steps=steps):
                inits = [("st", np.array(starts, np.int64)), ("en", np.array(ends, np.int64)),
                         ("ax", np.array(axes, np.int64)), ("sp", np.array(steps, np.int64))]
                node = helper.make_node("Slice", ["r", "st", "en", "ax", "sp"], ["y"], name="s")
                x, outs, _ = self.run_graph(node, shape, inits)
                self.check(outs, np.maximum(x, 0)[want])

if __name__ == "__main__":
    unittest.main()
