"""ONNX's own operator tests, run through the converter and the runtime.

    EMBER_LIBRARY=build/libember.so /usr/bin/python3 tests/conformance/run_conformance.py \\
        [--suite ../shared/conformance/onnx-node] [--work DIR] [--update | --check] [TEST ...]

For each test: convert model.onnx (graph inputs that must be constants in
ember, such as a Reshape's shape, are frozen from the test's own input files
when a plain conversion is refused for that reason), run it on the test's
inputs, and compare with the expected outputs using the tolerances of ONNX's
backend test runner (rtol 1e-3, atol 1e-7; integer and bool outputs exactly).

--update  writes tests/conformance/passing.txt (the tests that pass) and
          tests/conformance/results.md (every test: op, result, reason).
--check   fails if any test listed in passing.txt does not pass (the list only grows).
"""
import argparse
import collections
import os
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "bindings", "python"))

import onnx  # noqa: E402
from onnx import numpy_helper  # noqa: E402

import ember  # noqa: E402
from ember import convert as ember_convert  # noqa: E402

DEFAULT_SUITE = os.path.join(os.path.dirname(ROOT), "shared", "conformance", "onnx-node")
PASSING = os.path.join(HERE, "passing.txt")
RESULTS = os.path.join(HERE, "results.md")
RTOL, ATOL = 1e-3, 1e-7


def read_manifest(suite):
    rows = []
    with open(os.path.join(suite, "MANIFEST.tsv")) as f:
        header = f.readline().rstrip("\n").split("\t")
        for line in f:
            rows.append(dict(zip(header, line.rstrip("\n").split("\t"))))
    return rows


def load_tensors(d, prefix):
    out = []
    i = 0
    while os.path.exists(os.path.join(d, "%s_%d.pb" % (prefix, i))):
        t = onnx.TensorProto()
        with open(os.path.join(d, "%s_%d.pb" % (prefix, i)), "rb") as f:
            t.ParseFromString(f.read())
        out.append((t.name, numpy_helper.to_array(t)))
        i += 1
    return out


def one_line(e):
    s = str(e).strip().splitlines()
    return s[0][:300] if s else type(e).__name__


def classify(e):
    """'unsupported' for what ember refuses by design, else 'fail'."""
    msg = str(e).lower()
    if isinstance(e, (getattr(ember, "Unsupported", ()), getattr(ember, "DtypeMismatch", ()))):
        return "unsupported"  # an operator or a dtype that ember refuses with a clear error
    if any(w in msg for w in ("unsupported", "not supported", "does not support")):
        return "unsupported"
    return "fail"


def compare(name, got, want):
    if got.dtype != want.dtype:
        return "output %s: dtype %s, expected %s" % (name, got.dtype, want.dtype)
    if got.shape != want.shape:
        return "output %s: shape %s, expected %s" % (name, got.shape, want.shape)
    if want.dtype.kind in "fc":
        bad = ~np.isclose(got, want, rtol=RTOL, atol=ATOL, equal_nan=True)
        if bad.any():
            i = np.argmax(bad.reshape(-1))
            return "output %s: %d of %d elements differ, e.g. %r vs %r" % (
                name, int(bad.sum()), bad.size, got.reshape(-1)[i], want.reshape(-1)[i])
    elif not np.array_equal(got, want):
        return "output %s: values differ" % name
    return None


def run_test(suite, test, work):
    d = os.path.join(suite, test)
    data = os.path.join(d, "test_data_set_0")
    inputs = load_tensors(data, "input")
    outputs = load_tensors(data, "output")
    model = onnx.load(os.path.join(d, "model.onnx"))
    graph_inputs = [i.name for i in model.graph.input]
    graph_outputs = [o.name for o in model.graph.output]
    feeds = dict(zip(graph_inputs, [a for _, a in inputs]))
    out_path = os.path.join(work, test + ".ember")
    # 1: as is; 2: integer inputs frozen (shapes, axes, indices given as inputs);
    # 3: every input but the first frozen (e.g. a float scales or min/max input).
    attempts = [{}, {k: v for k, v in feeds.items() if v.dtype.kind in "iub"},
                {k: v for k, v in list(feeds.items())[1:]}]
    last_error = None
    for frozen in attempts:
        if frozen is not attempts[0] and not frozen:
            continue
        try:
            ember_convert.convert(model, out_path, freeze_inputs=frozen or None, quiet=True)
            with ember.Model(out_path) as m:
                names = [i.name for i in m.inputs]
                got = m.run({k: feeds[k] for k in names})
        except Exception as e:  # noqa: BLE001 - every failure is reported, not raised
            last_error = e
            if "constant" in str(e).lower():
                continue  # try freezing more inputs
            return classify(e), one_line(e)
        for name, (_, want) in zip(graph_outputs, outputs):
            if name not in got:
                return "fail", "output %s missing" % name
            problem = compare(name, np.asarray(got[name]), want)
            if problem:
                return "fail", problem
        return "pass", ("inputs frozen: " + ", ".join(frozen)) if frozen else ""
    return classify(last_error), one_line(last_error)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--suite", default=DEFAULT_SUITE)
    ap.add_argument("--work")
    g = ap.add_mutually_exclusive_group()
    g.add_argument("--update", action="store_true")
    g.add_argument("--check", action="store_true")
    ap.add_argument("tests", nargs="*")
    a = ap.parse_args()
    if not os.path.isdir(a.suite):
        sys.exit("conformance suite not found at %s (give --suite)" % a.suite)
    rows = read_manifest(a.suite)
    if a.tests:
        rows = [r for r in rows if r["test_name"] in a.tests]
    work = a.work or tempfile.mkdtemp(prefix="ember-conformance-")
    os.makedirs(work, exist_ok=True)
    results = []
    for r in rows:
        status, why = run_test(a.suite, r["test_name"], work)
        results.append((r["test_name"], r["op_type"], status, why))
        if not a.update and not a.check:
            print("%-55s %-12s %s" % (r["test_name"], status, why), flush=True)
    counts = collections.Counter(s for _, _, s, _ in results)
    print("conformance: %d pass, %d fail, %d unsupported of %d" % (
        counts["pass"], counts["fail"], counts["unsupported"], len(results)))
    passing = sorted(t for t, _, s, _ in results if s == "pass")
    if a.update:
        with open(PASSING, "w") as f:
            f.write("".join(t + "\n" for t in passing))
        by_op = collections.defaultdict(collections.Counter)
        for _, op, s, _ in results:
            by_op[op][s] += 1
        with open(RESULTS, "w") as f:
            f.write("# ONNX operator conformance\n\nMade by `tests/conformance/run_conformance.py --update`.\n"
                    "%d of %d tests pass.\n\n" % (counts["pass"], len(results)))
            f.write("| op | pass | fail | unsupported |\n|---|---|---|---|\n")
            for op in sorted(by_op):
                c = by_op[op]
                f.write("| %s | %d | %d | %d |\n" % (op, c["pass"], c["fail"], c["unsupported"]))
            f.write("\n| test | op | result | why |\n|---|---|---|---|\n")
            for t, op, s, why in results:
                f.write("| %s | %s | %s | %s |\n" % (t, op, s, why.replace("|", "\\|")))
        print("wrote %s and %s" % (PASSING, RESULTS))
    if a.check:
        listed = [l.strip() for l in open(PASSING) if l.strip()]
        status = {t: (s, why) for t, _, s, why in results}
        broken = [(t, status.get(t, ("missing", "not in the suite"))) for t in listed
                  if status.get(t, ("missing",))[0] != "pass"]
        for t, (s, why) in broken:
            print("REGRESSION %s: %s %s" % (t, s, why))
        new = sorted(set(passing) - set(listed))
        if new:
            print("%d tests pass that passing.txt does not list yet (run --update): %s" % (
                len(new), ", ".join(new[:20])))
        if broken:
            sys.exit(1)


if __name__ == "__main__":
    main()
