#!/usr/bin/env python3
"""ember and ONNX Runtime at 1 and 2 threads, side by side, in interleaved rounds.

usage: EMBER_LIBRARY=build/libember.so ORT_NODE=.../node_modules/onnxruntime-node \
       python3 bench/threads_vs_ort.py [--zoo DIR] [--rounds R] [--runs N] MODEL...

DIR holds MODEL.ember, MODEL.onnx and MODEL.input.npy (scripts/make_model_zoo.py).
Each round times ember with 1 then 2 threads (a fresh session each), then ORT
(../shared/tools/ort-run.js) with 1 then 2 threads; each figure is the median of
N runs, and the table gives the median over rounds. The machines are shared, so
read the ratios, and rerun when a 2-thread figure looks like 1-thread's.
"""
import json, os, statistics, subprocess, sys, time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "bindings", "python"))
import numpy as np  # noqa: E402
import ember  # noqa: E402

args = sys.argv[1:]
zoo, rounds, runs = "/tmp/zoo", 3, 20
while args and args[0].startswith("--"):
    opt, val = args[0], args[1]
    args = args[2:]
    if opt == "--zoo": zoo = val
    elif opt == "--rounds": rounds = int(val)
    elif opt == "--runs": runs = int(val)
    else: sys.exit("unknown option " + opt)
ort_run = os.path.join(os.path.dirname(__file__), "..", "..", "shared", "tools", "ort-run.js")


def ember_ms(name, threads, x):
    m = ember.Model(os.path.join(zoo, name + ".ember"))
    s = m.session(threads=threads)
    feed = {m.inputs[0].name: x}
    for _ in range(3): s.run(feed)
    ts = []
    for _ in range(runs):
        t = time.perf_counter(); s.run(feed); ts.append(time.perf_counter() - t)
    return statistics.median(ts) * 1e3


def ort_ms(name, threads, x):
    out = subprocess.run(["node", ort_run, os.path.join(zoo, name + ".onnx"), "--threads", str(threads),
                          "--runs", str(runs), "--input", "input=" + os.path.join(zoo, name + ".input.npy"),
                          "--shape", "input=" + "x".join(map(str, x.shape))],
                         capture_output=True, text=True, check=True).stdout
    r = json.loads(out)
    return r.get("median_ms") or r.get("median")


for name in args:
    x = np.load(os.path.join(zoo, name + ".input.npy"))
    res = {k: [] for k in ("e1", "e2", "o1", "o2")}
    for _ in range(rounds):
        res["e1"].append(ember_ms(name, 1, x)); res["e2"].append(ember_ms(name, 2, x))
        res["o1"].append(ort_ms(name, 1, x)); res["o2"].append(ort_ms(name, 2, x))
    md = {k: statistics.median(v) for k, v in res.items()}
    print("%-14s ember 1t %7.2f ms  2t %7.2f ms (x%.2f) | ORT 1t %7.2f ms  2t %7.2f ms (x%.2f) | "
          "ember/ORT 1t %.2f  2t %.2f" % (name, md["e1"], md["e2"], md["e1"] / md["e2"], md["o1"], md["o2"],
                                          md["o1"] / md["o2"], md["e1"] / md["o1"], md["e2"] / md["o2"]),
          flush=True)
