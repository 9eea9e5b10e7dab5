#!/usr/bin/env python3
"""Whole models: ember against ONNX Runtime, latency at 1 and 2 threads, load time, memory.

usage: ORT_NODE=.../node_modules/onnxruntime-node \\
       python3 bench/models_vs_ort.py [--ember PATH] [--zoo DIR] [--rounds R] [--runs N]
                                      [--warmup W] [--json OUT.json] [--no-pack] [MODEL ...]

MODEL defaults to the zoo of scripts/make_model_zoo.py (mobilenet_v2,
mobilenet_v3_small, resnet18, squeezenet1_1, efficientnet_b0, mlp,
transformer); DIR (default /tmp/zoo) holds MODEL.ember, MODEL.onnx and
MODEL.input.npy (its shape fixes the input's symbolic dimensions). --ember is
the command-line program (default build-bench/tools/ember, then build/tools/ember).
Before the rounds each MODEL.ember is pre-packed for this machine with
`ember pack` into a temporary directory, and that file is what ember loads
(the way to deploy it; --no-pack benchmarks MODEL.ember as converted, which
packs its weights at session creation).

Both engines run as separate processes on the same footing: ember through
`ember bench --json` (seeded random input, W warm-up + N timed runs), ORT
through ../shared/tools/ort-run.js (seeded random input, --opt all, same W and
N). In each round, for each model: ember 1t, ORT 1t, ember 2t, ORT 2t (a fresh
process each), so the two alternate and share the machine's state. Each figure
is the median of N runs; the table gives the median over rounds, and the ratios
ember / ORT (below 1: ember is faster / smaller) with the issue's targets:

  latency  ember median / ORT median, at 1 and 2 threads     target <= 0.9
  load     ember file -> ready session (load_ms)
           / ORT InferenceSession.create (session_create_ms)  target <= 0.05
  memory   what loading and running adds to the process:     target <= 0.5
           ember: peak RSS - peak RSS of the same CLI benchmarking a tiny
                  model (tests/models/gather.ember, 1 node, no weights),
                  measured in every round at the same thread count;
           ORT:   peak RSS - the high-water mark right after require('onnxruntime-node')
                  (node + the ORT library, reported by ort-run.js in the same process).
Load and memory are taken from the 1-thread processes (the 2-thread figures are in the JSON).
"""
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
ORT_RUNNER = os.path.join(os.path.dirname(ROOT), "shared", "tools", "ort-run.js")
BASELINE_MODEL = os.path.join(ROOT, "tests", "models", "gather.ember")
MODELS = ["mobilenet_v2", "mobilenet_v3_small", "resnet18", "squeezenet1_1", "efficientnet_b0",
          "mlp", "transformer"]
TARGET = {"lat": 0.9, "load": 0.05, "mem": 0.5}


def npy_shape(path):
    """Shape from a .npy header (no numpy needed)."""
    with open(path, "rb") as f:
        head = f.read(10)
        if head[:6] != b"\x93NUMPY":
            raise ValueError(path + ": not a .npy")
        if head[6] == 1:
            hlen = int.from_bytes(head[8:10], "little")
        else:
            hlen = int.from_bytes(head[8:10] + f.read(2), "little")
        header = f.read(hlen).decode("latin1")
    inner = header.split("'shape':")[1].split("(")[1].split(")")[0]
    return [int(d) for d in inner.split(",") if d.strip()]


def run_json(cmd):
    res = subprocess.run(cmd, capture_output=True, text=True)
    if res.returncode != 0:
        raise RuntimeError("%s failed: %s" % (" ".join(cmd), res.stderr.strip()[-2000:]))
    return json.loads(res.stdout.strip().splitlines()[-1])


def main():
    args = sys.argv[1:]
    zoo, rounds, runs, warmup, out_json, ember_cli = "/tmp/zoo", 3, 20, 5, None, None
    pack = True
    models = []
    while args:
        a = args.pop(0)
        if a in ("--zoo", "--rounds", "--runs", "--warmup", "--json", "--ember"):
            if not args:
                sys.exit("missing value for " + a)
            v = args.pop(0)
            if a == "--zoo": zoo = v
            elif a == "--rounds": rounds = int(v)
            elif a == "--runs": runs = int(v)
            elif a == "--warmup": warmup = int(v)
            elif a == "--json": out_json = v
            else: ember_cli = v
        elif a == "--no-pack":
            pack = False
        elif a in ("-h", "--help"):
            print(__doc__); return
        elif a.startswith("--"):
            sys.exit("unknown option " + a)
        else:
            models.append(a)
    models = models or MODELS
    if ember_cli is None:
        for c in ("build-bench/tools/ember", "build/tools/ember"):
            if os.path.exists(os.path.join(ROOT, c)):
                ember_cli = os.path.join(ROOT, c); break
        else:
            sys.exit("no ember CLI found; pass --ember PATH")
    if not os.environ.get("ORT_NODE"):
        sys.exit("set ORT_NODE to the onnxruntime-node module directory")

    shapes = {m: "x".join(map(str, npy_shape(os.path.join(zoo, m + ".input.npy")))) for m in models}

    def ember(model_path, threads, shape=None):
        cmd = [ember_cli, "bench", model_path, "--threads", str(threads), "--runs", str(runs),
               "--warmup", str(warmup), "--json"]
        if shape:
            cmd += ["--shape", "input=" + shape]
        return run_json(cmd)

    def ort(m, threads):
        return run_json(["node", ORT_RUNNER, os.path.join(zoo, m + ".onnx"), "--threads", str(threads),
                         "--runs", str(runs), "--warmup", str(warmup), "--shape", "input=" + shapes[m],
                         "--opt", "all"])

    packed_dir = tempfile.TemporaryDirectory(prefix="ember-bench-")
    ember_files = {}
    for m in models:
        ember_files[m] = os.path.join(zoo, m + ".ember")
        if pack:
            dst = os.path.join(packed_dir.name, m + ".ember")
            subprocess.run([ember_cli, "pack", ember_files[m], dst], check=True,
                           stdout=subprocess.DEVNULL)
            ember_files[m] = dst

    raw = {m: {k: [] for k in ("e1", "o1", "e2", "o2")} for m in models}
    base = {1: [], 2: []}
    t_start = time.time()
    for r in range(rounds):
        for t in (1, 2):
            base[t].append(ember(BASELINE_MODEL, t)["peak_rss_kb"])
        for m in models:
            for t in (1, 2):
                raw[m]["e%d" % t].append(ember(ember_files[m], t, shapes[m]))
                raw[m]["o%d" % t].append(ort(m, t))
        print("round %d/%d done (%.0f s)" % (r + 1, rounds, time.time() - t_start), file=sys.stderr, flush=True)

    med = statistics.median
    base_kb = {t: med(v) for t, v in base.items()}
    rows = []
    for m in models:
        d = raw[m]
        row = {"model": m, "shape": shapes[m]}
        for t in (1, 2):
            row["ember_%dt_ms" % t] = med(x["median_ms"] for x in d["e%d" % t])
            row["ort_%dt_ms" % t] = med(x["median_ms"] for x in d["o%d" % t])
            row["ember_%dt_p90_ms" % t] = med(x["p90_ms"] for x in d["e%d" % t])
            row["ort_%dt_p90_ms" % t] = med(x["p90_ms"] for x in d["o%d" % t])
            row["ember_%dt_load_ms" % t] = med(x["load_ms"] for x in d["e%d" % t])
            row["ort_%dt_create_ms" % t] = med(x["session_create_ms"] for x in d["o%d" % t])
            row["ember_%dt_peak_kb" % t] = med(x["peak_rss_kb"] for x in d["e%d" % t])
            row["ember_%dt_added_kb" % t] = med(x["peak_rss_kb"] - base_kb[t] for x in d["e%d" % t])
            row["ort_%dt_peak_kb" % t] = med(x["peak_rss_kb"] for x in d["o%d" % t])
            row["ort_%dt_added_kb" % t] = med(x["peak_rss_kb"] - x["hwm_after_require_kb"] for x in d["o%d" % t])
        row["lat_1t"] = row["ember_1t_ms"] / row["ort_1t_ms"]
        row["lat_2t"] = row["ember_2t_ms"] / row["ort_2t_ms"]
        row["load"] = row["ember_1t_load_ms"] / row["ort_1t_create_ms"]
        row["mem"] = row["ember_1t_added_kb"] / max(row["ort_1t_added_kb"], 1)
        rows.append(row)

    def ms(v):
        return "%.3f" % v if v < 1 else "%.2f" % v

    def mark(v, key):
        return "%.2f%s" % (v, "" if v <= TARGET[key] else " ✗") if key != "load" else \
               "%.3f%s" % (v, "" if v <= TARGET[key] else " ✗")

    print("\nember / ONNX Runtime 1.30 (below 1: ember better; ✗ = misses the target: latency <= 0.9, "
          "load <= 0.05, memory <= 0.5). %d rounds x %d runs (+%d warm-up), median over rounds; "
          "ember files %s.\n"
          % (rounds, runs, warmup, "pre-packed with `ember pack`" if pack else "as converted (--no-pack)"))
    print("| model | ember 1t ms | ORT 1t ms | **latency 1t** | ember 2t ms | ORT 2t ms | **latency 2t** "
          "| ember load ms | ORT create ms | **load** | ember added MB | ORT added MB | **memory** |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print("| %s | %s | %s | %s | %s | %s | %s | %.2f | %.1f | %s | %.1f | %.1f | %s |" % (
            r["model"], ms(r["ember_1t_ms"]), ms(r["ort_1t_ms"]), mark(r["lat_1t"], "lat"),
            ms(r["ember_2t_ms"]), ms(r["ort_2t_ms"]), mark(r["lat_2t"], "lat"),
            r["ember_1t_load_ms"], r["ort_1t_create_ms"], mark(r["load"], "load"),
            r["ember_1t_added_kb"] / 1024, r["ort_1t_added_kb"] / 1024, mark(r["mem"], "mem")))
    print("\nember CLI baseline peak RSS (tests/models/gather.ember): %.1f MB at 1t, %.1f MB at 2t; "
          "ORT baseline (node + ORT loaded), median: %.1f MB. Total %.0f s."
          % (base_kb[1] / 1024, base_kb[2] / 1024,
             med(x["hwm_after_require_kb"] for m in models for x in raw[m]["o1"]) / 1024, time.time() - t_start))
    if out_json:
        with open(out_json, "w") as f:
            json.dump({"rounds": rounds, "runs": runs, "warmup": warmup, "ember_cli": ember_cli, "packed": pack,
                       "baseline_kb": base_kb, "rows": rows, "raw": raw}, f, indent=1)


if __name__ == "__main__":
    main()
