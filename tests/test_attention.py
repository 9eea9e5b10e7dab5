#!/usr/bin/python3
"""ember.Attention (src/runtime/ops/nn/attention.c) and the converter's
fusion that writes it (convert.py, fuse_attention).

    EMBER_LIBRARY=build/libember.so /usr/bin/python3 tests/test_attention.py

- The operator alone, built with the format's ModelBuilder: against a float64
  numpy reference over positions 1 to 40 (a single row, below, at and above
  the row blocks the threads split), batch 1 to 3, heads 1 to 4, value heads
  of another size, Q / K / V in any order in the features, and scales that
  are and are not powers of two; at 1, 2 and 3 threads, whose outputs must be
  equal bit for bit.
- Bad attributes and inputs: refused with a message naming what was wrong.
- The fusion on PyTorch's own exports (TransformerEncoderLayer, and a bare
  MultiheadAttention): the fused file's outputs equal the unfused
  conversion's bit for bit when the scale is a power of two, and stay close
  to PyTorch otherwise; a pattern whose softmax is also an output (attention
  weights asked for) is left alone.
"""
import io
import os
import sys
import tempfile
import unittest

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "bindings", "python"))

import ember  # noqa: E402
from ember import convert as ec  # noqa: E402
from ember import format as emf  # noqa: E402


def reference(x, heads, hd, hdv, qo, ko, vo, scale):
    """Y [S, B * H, hdv] in float64, as the operator's definition."""
    s, b, _ = x.shape
    x = x.astype(np.float64)
    y = np.zeros((s, b * heads, hdv))
    for bi in range(b):
        for h in range(heads):
            q = x[:, bi, qo + h * hd: qo + (h + 1) * hd]
            k = x[:, bi, ko + h * hd: ko + (h + 1) * hd]
            v = x[:, bi, vo + h * hdv: vo + (h + 1) * hdv]
            a = (q * np.float64(np.float32(scale))) @ k.T
            a = np.exp(a - a.max(axis=1, keepdims=True))
            a /= a.sum(axis=1, keepdims=True)
            y[:, bi * heads + h, :] = a @ v
    return y


class Base(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.rng = np.random.default_rng(11)

    def tearDown(self):
        self.tmp.cleanup()

    def path(self, name):
        return os.path.join(self.tmp.name, name)

    def op_model(self, shape, attrs, name="m.ember"):
        b = emf.ModelBuilder()
        b.input("x", "f32", list(shape))
        b.node("ember.Attention", ["x"], ["y"], name="attn", attrs=attrs)
        b.output("y")
        p = self.path(name)
        b.save(p, verify=False)
        return p

    def run_threads(self, path, feeds, threads=(1, 2, 3), batch=None):
        m = ember.Model(path)
        outs = []
        for t in threads:
            s = m.session(threads=t, batch=batch) if batch else m.session(threads=t)
            outs.append(s.run(feeds))
            s.close()
        return outs


class TestOperator(Base):
    CASES = [
        # S, B, heads, hd, hdv, (q, k, v) order in the features, scale
        (1, 1, 1, 4, 4, "qkv", 0.5),
        (5, 2, 2, 8, 8, "qkv", 0.125),
        (13, 1, 4, 16, 16, "qkv", 0.25),
        (30, 3, 3, 8, 5, "vqk", 0.3535534),
        (40, 1, 2, 16, 16, "kvq", 0.25),
        (40, 2, 1, 24, 7, "qkv", 1.0 / 24 ** 0.5),
        (37, 1, 1, 64, 64, "qkv", 0.125),
    ]

    def test_against_reference_and_threads(self):
        for (s, b, heads, hd, hdv, order, scale) in self.CASES:
            widths = {"q": heads * hd, "k": heads * hd, "v": heads * hdv}
            offs, at = {}, 3  # a gap before the first part, as a slice of a wider X
            for part in order:
                offs[part] = at
                at += widths[part]
            w = at + 2
            attrs = {"num_heads": heads, "head_size": hd, "v_head_size": hdv,
                     "q_offset": offs["q"], "k_offset": offs["k"], "v_offset": offs["v"],
                     "scale": float(scale)}
            p = self.op_model([s, b, w], attrs)
            x = self.rng.standard_normal((s, b, w)).astype(np.float32)
            outs = [o["y"] for o in self.run_threads(p, {"x": x})]
            case = (s, b, heads, hd, hdv, order)
            self.assertEqual(outs[0].shape, (s, b * heads, hdv), case)
            want = reference(x, heads, hd, hdv, offs["q"], offs["k"], offs["v"], scale)
            np.testing.assert_allclose(outs[0], want, rtol=2e-5, atol=1e-5, err_msg=str(case))
            for o in outs[1:]:
                self.assertTrue(np.array_equal(o, outs[0]), "threads changed bits: %s" % (case,))

    def test_profile_names_the_kernel(self):
        p = self.op_model([16, 1, 48], {"num_heads": 2, "head_size": 8, "v_head_size": 8,
                                       "q_offset": 0, "k_offset": 16, "v_offset": 32,
                                       "scale": 0.35})
        s = ember.Model(p).session(profile=True)
        s.run({"x": np.ones((16, 1, 48), np.float32)})
        kernel = {r["name"]: r["kernel"] for r in s.profile()}["attn"]
        self.assertIn("attention", kernel)

    def refused(self, shape, attrs, words):
        p = self.op_model(shape, attrs, name="bad%d.ember" % len(os.listdir(self.tmp.name)))
        with self.assertRaises(ember.Error) as cm:
            m = ember.Model(p)
            m.session().run({"x": np.zeros(shape, np.float32)})
        for word in words:
            self.assertIn(word, str(cm.exception), (attrs, shape))

    def test_bad_attributes_and_inputs(self):
        good = {"num_heads": 2, "head_size": 4, "v_head_size": 4, "q_offset": 0,
                "k_offset": 8, "v_offset": 16, "scale": 0.5}
        shape = [6, 1, 24]
        self.refused(shape, dict(good, num_heads=0), ["num_heads"])
        self.refused(shape, dict(good, head_size=-3), ["head_size"])
        self.refused(shape, {k: v for k, v in good.items() if k != "k_offset"}, ["k_offset"])
        self.refused(shape, dict(good, v_offset=20), ["v heads", "24 features"])
        self.refused(shape, dict(good, q_offset=17), ["q heads"])
        self.refused(shape, dict(good, scale=float("nan")), ["scale"])
        self.refused([6, 24], good, ["rank 3"])


def torch_or_skip():
    try:
        import torch  # noqa: F401
        import onnx  # noqa: F401
    except Exception as e:  # noqa: BLE001
        raise unittest.SkipTest("PyTorch / onnx not available: %s" % e)
    return torch


class TestFusion(Base):
    def export(self, module, x, outputs=("y",)):
        torch = torch_or_skip()
        f = io.BytesIO()
        torch.onnx.export(module, (x,), f, input_names=["x"], output_names=list(outputs),
                          dynamic_axes={"x": {0: "batch"}}, opset_version=17)
        return f.getvalue()

    def convert_both(self, onnx_bytes):
        import onnx
        m = onnx.load_from_string(onnx_bytes)
        fused, plain = self.path("fused.ember"), self.path("plain.ember")
        sf = ec.convert(m, fused)
        sp = ec.convert(m, plain, fuse_attention=False)
        ops = [n["op_type"] for n in emf.read(fused)["nodes"]]
        return fused, plain, sf, sp, ops

    def encoder(self, d, heads, ff):
        torch = torch_or_skip()
        torch.manual_seed(3)
        layer = torch.nn.TransformerEncoderLayer(d_model=d, nhead=heads, dim_feedforward=ff,
                                                 dropout=0.0, batch_first=True)
        return torch.nn.TransformerEncoder(layer, num_layers=1,
                                           enable_nested_tensor=False).eval()

    def test_encoder_power_of_two_scale_same_bits(self):
        torch = torch_or_skip()
        mod = self.encoder(64, 4, 96)  # head size 16: the Div by 4 is exact as a scale
        x = torch.randn(2, 30, 64, generator=torch.Generator().manual_seed(1))
        fused, plain, sf, sp, ops = self.convert_both(self.export(mod, x))
        self.assertEqual(sf["attentions_fused"], 1)
        self.assertEqual(sp["attentions_fused"], 0)
        self.assertIn("ember.Attention", ops)
        for banned in ("Softmax", "Slice", "Div"):
            self.assertNotIn(banned, ops)
        xn = x.numpy()
        for batch in (xn, xn[:1]):
            a = self.run_threads(fused, {"x": batch}, batch=len(batch))
            b = self.run_threads(plain, {"x": batch}, batch=len(batch))
            for ra, rb in zip(a, b):
                self.assertTrue(np.array_equal(ra["y"], rb["y"]), "fused differs from unfused")
            with torch.no_grad():
                want = mod(torch.from_numpy(batch)).numpy()
            np.testing.assert_allclose(a[0]["y"], want, rtol=1e-4, atol=1e-5)

    def test_encoder_other_scale_close(self):
        torch = torch_or_skip()
        mod = self.encoder(40, 4, 64)  # head size 10: scale 1 / sqrt(10)
        x = torch.randn(1, 17, 40, generator=torch.Generator().manual_seed(2))
        fused, plain, sf, _, _ = self.convert_both(self.export(mod, x))
        self.assertEqual(sf["attentions_fused"], 1)
        a = self.run_threads(fused, {"x": x.numpy()})
        b = self.run_threads(plain, {"x": x.numpy()}, threads=(1,))
        np.testing.assert_allclose(a[0]["y"], b[0]["y"], rtol=1e-5, atol=1e-6)
        for r in a[1:]:
            self.assertTrue(np.array_equal(r["y"], a[0]["y"]))
        with torch.no_grad():
            want = mod(x).numpy()
        np.testing.assert_allclose(a[0]["y"], want, rtol=1e-4, atol=1e-5)

    def test_weights_output_left_alone(self):
        torch = torch_or_skip()

        class MHA(torch.nn.Module):
            def __init__(self):
                super().__init__()
                self.att = torch.nn.MultiheadAttention(32, 2, batch_first=True)

            def forward(self, x):
                y, w = self.att(x, x, x, need_weights=True, average_attn_weights=False)
                return y, w

        torch.manual_seed(4)
        mod = MHA().eval()
        x = torch.randn(1, 9, 32, generator=torch.Generator().manual_seed(3))
        fused, _, sf, _, ops = self.convert_both(self.export(mod, x, outputs=("y", "w")))
        self.assertEqual(sf["attentions_fused"], 0)
        self.assertNotIn("ember.Attention", ops)
        got = self.run_threads(fused, {"x": x.numpy()}, threads=(1,))[0]
        with torch.no_grad():
            want_y, want_w = mod(x)
        np.testing.assert_allclose(got["y"], want_y.numpy(), rtol=1e-4, atol=1e-5)
        np.testing.assert_allclose(got["w"], want_w.numpy(), rtol=1e-4, atol=1e-6)


if __name__ == "__main__":
    unittest.main()
