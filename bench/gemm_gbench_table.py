#!/usr/bin/python3
"""Markdown table from gemm_gbench's JSON output (--benchmark_out=FILE
--benchmark_out_format=json, with --benchmark_repetitions: medians are used).

    gemm_gbench_table.py FILE.json [FILE2.json ...]

With several files, each figure is the median over the files' medians.
Columns: GFLOP/s of ember avx512 (ember_f32_gemm, packing A and B each call),
ember avx512 with A pre-packed (what Conv runs), its share of the measured
avx512 FMA peak, ember avx2 (pre-packed A on conv shapes), OpenBLAS, and the
ratios to OpenBLAS. Per model, a total over its conv layers (each distinct
product weighted by how many layers have it): total FLOPs / total time."""
import json
import statistics
import sys


def load(paths):
    runs = {}  # name -> [GFLOP/s medians]
    peaks = {}
    for p in paths:
        with open(p) as f:
            d = json.load(f)
        for k, v in d["context"].items():
            if k.startswith("fma_peak_") and v != "n/a":
                peaks.setdefault(k[9:], []).append(float(v.split()[0]))
        for b in d["benchmarks"]:
            if b.get("run_type") == "aggregate" and b.get("aggregate_name") != "median":
                continue
            runs.setdefault(b["run_name"], []).append(b["GFLOP/s"])
    return ({k: statistics.median(v) for k, v in runs.items()},
            {k: statistics.median(v) for k, v in peaks.items()})


LAYERS = {}  # filled from the source's kConvShapes by main()


def main():
    g, peaks = load(sys.argv[1:])
    src = open(__file__.replace("gemm_gbench_table.py", "gemm_gbench.cc")).read()
    import re
    for lab, m, n, k, layers in re.findall(r'\{"(\w+)", (\d+), (\d+), (\d+), (\d+)\}', src):
        LAYERS[f"{lab}/{m}x{n}x{k}"] = int(layers)
    print("Measured FMA peak, GFLOP/s: " + ", ".join(f"{w} {p:.1f}" for w, p in sorted(peaks.items())))
    print()
    print("| shape (M x N x K) | layers | avx512 | avx512 packed A | % of peak | avx2 | OpenBLAS | avx512 / OpenBLAS | packed A / OpenBLAS |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    shapes = []
    for name in g:
        if name.startswith("gemm/"):
            s = name.split("/")[1] + "/" + name.split("/")[2]
            if s not in shapes:
                shapes.append(s)
    totals = {}
    peak = peaks.get("avx512", 0.0)
    for s in shapes:
        e = g.get(f"gemm/{s}/ember_avx512")
        pa = g.get(f"gemm/{s}/ember_avx512_packedA")
        a2 = g.get(f"gemm/{s}/ember_avx2_packedA") or g.get(f"gemm/{s}/ember_avx2")
        ob = g.get(f"gemm/{s}/openblas")
        best = pa if pa is not None else e
        fmt = lambda x: "" if x is None else f"{x:.1f}"
        pct = f"{100 * best / peak:.0f} %" if best and peak else ""
        lab, dims = s.split("/")
        layers = LAYERS.get(s, 0)
        print(f"| {lab} {dims.replace('x', ' x ')} | {layers or ''} | {fmt(e)} | {fmt(pa)} | {pct} | {fmt(a2)} | {fmt(ob)} | "
              f"{e / ob:.2f} | {'' if pa is None else f'{pa / ob:.2f}'} |")
        if layers:
            model = lab.split("_")[0]
            m, n, k = (int(x) for x in dims.split("x"))
            fl = 2.0 * m * n * k * layers
            t = totals.setdefault(model, {"fl": 0.0, "e": 0.0, "pa": 0.0, "ob": 0.0})
            t["fl"] += fl
            t["e"] += fl / e
            t["pa"] += fl / pa
            t["ob"] += fl / ob
    print()
    for model, t in totals.items():
        print(f"{model}, all conv GEMMs ({t['fl'] * 1e-9:.2f} GFLOP): avx512 {t['fl'] / t['e']:.1f}, "
              f"avx512 packed A {t['fl'] / t['pa']:.1f}, OpenBLAS {t['fl'] / t['ob']:.1f} GFLOP/s; "
              f"packed A / OpenBLAS {t['ob'] / t['pa']:.2f}")


if __name__ == "__main__":
    main()
