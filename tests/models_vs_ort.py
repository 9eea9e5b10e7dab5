"""Whole models, ember against ONNX Runtime as the oracle.

    EMBER_LIBRARY=build/libember.so ORT_NODE=.../onnxruntime-node \\
        /usr/bin/python3 tests/models_vs_ort.py WORKDIR [NAME ...]

For each model of scripts/make_model_zoo.py: export to ONNX, convert to
.ember, run both on the same fixed input, and require
max |ember - ort| <= 1e-4 * max |ort| and, for classifiers, the same top-5
classes. Without ONNX Runtime (ORT_NODE unset and no node), it compares with
the reference outputs committed in tests/models/zoo/ for the small models (their
inputs are committed too) and fails for the others, so CI, which installs ONNX
Runtime, always uses the oracle.
"""
import json
import os
import shutil
import subprocess
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "bindings", "python"))
sys.path.insert(0, os.path.join(ROOT, "scripts"))

import ember  # noqa: E402
from ember import convert as ember_convert  # noqa: E402
import make_model_zoo  # noqa: E402

ORT_RUNNER = os.path.join(os.path.dirname(ROOT), "shared", "tools", "ort-run.js")
COMMITTED = os.path.join(HERE, "models", "zoo")
SMALL = ("mlp", "transformer")  # their reference outputs are committed


def ort_available():
    return bool(os.environ.get("ORT_NODE")) and shutil.which("node") and os.path.exists(ORT_RUNNER)


def run_ort(onnx_path, x, workdir, name):
    inp = os.path.join(workdir, name + ".input.npy")
    np.save(inp, x)
    dump = os.path.join(workdir, name + ".ort")
    os.makedirs(dump, exist_ok=True)
    cmd = ["node", ORT_RUNNER, onnx_path, "--threads", "1", "--warmup", "0", "--runs", "1",
           "--input", "input=" + inp, "--dump-all", dump]
    res = subprocess.run(cmd, capture_output=True, text=True)
    if res.returncode != 0:
        raise RuntimeError("ort-run.js failed on %s: %s" % (name, res.stderr.strip()[-2000:]))
    return np.load(os.path.join(dump, "output.npy"))


def compare(name, got, want):
    got = np.asarray(got, np.float32).reshape(want.shape)
    scale = float(np.abs(want).max())
    err = float(np.abs(got - want).max())
    ok = err <= 1e-4 * scale
    line = "%-20s max|out| %.4g  max abs diff %.3g  (%.2e of max)" % (name, scale, err, err / max(scale, 1e-30))
    if want.ndim == 2 and want.shape[-1] >= 5:
        top_g = np.argsort(-got[0])[:5]
        top_w = np.argsort(-want[0])[:5]
        same = list(top_g) == list(top_w)
        line += "  top-5 %s" % ("same" if same else "DIFFERENT %s vs %s" % (top_g, top_w))
        ok = ok and same
    print(("ok   " if ok else "FAIL ") + line, flush=True)
    return ok


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    work = sys.argv[1]
    os.makedirs(work, exist_ok=True)
    names = sys.argv[2:] or list(make_model_zoo.zoo())
    use_ort = ort_available()
    if not use_ort:
        print("ONNX Runtime not available (set ORT_NODE): comparing with committed references")
    failures = 0
    for name in names:
        t0 = time.time()
        onnx_path = os.path.join(work, name + ".onnx")
        if not os.path.exists(onnx_path):
            make_model_zoo.export(name, make_model_zoo.zoo()[name], work)
        committed_input = os.path.join(COMMITTED, name + ".input.npy")
        x = np.load(committed_input if os.path.exists(committed_input)
                    else os.path.join(work, name + ".input.npy"))
        ember_path = os.path.join(work, name + ".ember")
        ember_convert.convert(onnx_path, ember_path, quiet=True)
        with ember.Model(ember_path) as m:
            got = m.run({m.inputs[0].name: x})[m.outputs[0].name]
        if use_ort:
            want = run_ort(onnx_path, x, work, name)
        else:
            ref = os.path.join(COMMITTED, name + ".output.npy")
            if not os.path.exists(ref):
                print("FAIL %-20s no ONNX Runtime and no committed reference" % name)
                failures += 1
                continue
            want = np.load(ref)
        failures += not compare(name, got, want)
        print("     %-20s %.1f s" % (name, time.time() - t0), flush=True)
    if failures:
        print("%d model(s) disagree with ONNX Runtime" % failures)
        sys.exit(1)


if __name__ == "__main__":
    main()
