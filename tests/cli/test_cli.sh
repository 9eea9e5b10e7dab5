#!/bin/sh
# End-to-end tests of the `ember` command-line program.
#   sh tests/cli/test_cli.sh BUILD/tools/ember SOURCE_ROOT
# Uses /usr/bin/python3 with numpy to write and read .npy/.csv files.
set -u
EMBER=$1
SRC=$2
PY=/usr/bin/python3
case "$EMBER" in /*) ;; *) EMBER=$(pwd)/$EMBER ;; esac
M=$SRC/tests/models
T=$(mktemp -d "${TMPDIR:-/tmp}/ember-cli.XXXXXX")
trap 'rm -rf "$T"' EXIT INT TERM
cd "$T" || exit 1
fails=0
pass=0

ok() { pass=$((pass + 1)); }
bad() { echo "FAIL: $*"; fails=$((fails + 1)); }

# expect CODE DESCRIPTION -- command...: checks the exit code; for a non-zero
# code, stderr must be exactly one line starting "ember: ".
expect() {
    code=$1; what=$2; shift 3
    "$@" >out.txt 2>err.txt
    rc=$?
    if [ "$rc" != "$code" ]; then
        bad "$what: exit $rc, expected $code"; sed 's/^/    /' err.txt; return
    fi
    if [ "$code" != 0 ]; then
        n=$(wc -l <err.txt)
        if [ "$n" != 1 ] || ! grep -q '^ember: ' err.txt; then
            bad "$what: stderr is not one 'ember: ...' line"; sed 's/^/    /' err.txt; return
        fi
    fi
    ok
}
contains() { # contains FILE PATTERN DESCRIPTION
    if grep -q -- "$2" "$1"; then ok; else bad "$3: '$2' not in $1"; sed 's/^/    /' "$1"; fi
}

# ---- data ----
"$PY" - "$SRC" <<'PYEOF' || { echo "FAIL: cannot make test data (numpy?)"; exit 1; }
import struct, sys
import numpy as np
src = sys.argv[1]
rs = np.random.RandomState(0)
np.save("x3.npy", rs.uniform(-1, 1, (3, 16)).astype(np.float32))
np.save("x1.npy", rs.uniform(-1, 1, (1, 16)).astype(np.float32))
np.save("c.npy", rs.uniform(-1, 1, (1, 3, 16, 16)).astype(np.float32))
np.save("x_f64.npy", np.zeros((1, 16)))
np.save("x_i64.npy", np.zeros((1, 16), np.int64))
np.save("x_short.npy", np.zeros((1, 15), np.float32))
np.save("x_be.npy", np.zeros((1, 16), ">f4"))
np.save("x_fortran.npy", np.asfortranarray(np.zeros((2, 16), np.float32)))
raw = open("x1.npy", "rb").read()
open("x_trunc.npy", "wb").write(raw[:-10])
open("x_garbage.npy", "wb").write(b"\x93NUMPY\x01\x00\x20\x00{'descr': '<f4', 'shape': (1,16}  \n")
open("x_hugehdr.npy", "wb").write(b"\x93NUMPY\x02\x00\xff\xff\xff\x7f{")
open("x_dict.npy", "wb").write(b"\x93NUMPY\x01\x00\x46\x00" + b"{'descr': '<f4', 'fortran_order': False, 'shape': (1, -16), }".ljust(69) + b"\n")
# v2.0 header
hdr = b"{'descr': '<f4', 'fortran_order': False, 'shape': (1, 16), }"
hdr = hdr + b" " * (64 - (12 + len(hdr) + 1) % 64) + b"\n"
open("x_v2.npy", "wb").write(b"\x93NUMPY\x02\x00" + struct.pack("<I", len(hdr)) + hdr + np.load("x1.npy").tobytes())
# digits
f = open(src + "/models/digits_test.bin", "rb").read()
o = 0
recs = {}
while o < len(f):
    n, = struct.unpack_from("<I", f, o); o += 4
    name = f[o:o + n].decode(); o += n
    dt, r = struct.unpack_from("<II", f, o); o += 8
    dims = struct.unpack_from("<%dq" % r, f, o); o += 8 * r
    dtype = {1: np.float32, 6: np.int64}[dt]
    cnt = int(np.prod(dims))
    recs[name] = np.frombuffer(f, dtype, cnt, o).reshape(dims)
    o += cnt * np.dtype(dtype).itemsize
np.save("digits.npy", recs["images"])
np.save("labels.npy", recs["labels"])
with open("digits.csv", "w") as g:
    g.write(",".join("px%d" % i for i in range(64)) + "\n")
    for row in recs["images"].reshape(-1, 64):
        g.write(",".join("%.9g" % v for v in row) + "\n")
with open("digits_noheader.csv", "w") as g:
    for row in recs["images"].reshape(-1, 64)[:10]:
        g.write(",".join("%.9g" % v for v in row) + "\n")
with open("bad_count.csv", "w") as g:
    g.write("a,b\n" + ",".join(["0"] * 64) + "\n" + ",".join(["0"] * 63) + "\n")
with open("bad_number.csv", "w") as g:
    g.write(",".join(["0"] * 64) + "\n" + ",".join(["0"] * 63 + ["zz"]) + "\n")
PYEOF

# ---- version, help ----
expect 0 "--version" -- "$EMBER" --version
contains out.txt "ember 0\." "--version"
expect 0 "--help" -- "$EMBER" --help
contains out.txt "inspect" "--help"
for c in inspect run bench predict profile pack; do
    expect 0 "$c --help" -- "$EMBER" $c --help
    contains out.txt "usage: ember $c" "$c --help"
done
expect 2 "no command" -- "$EMBER"
expect 2 "unknown command" -- "$EMBER" frobnicate

# ---- inspect ----
expect 0 "inspect mlp" -- "$EMBER" inspect "$M/mlp.ember"
contains out.txt "x  *f32  *\[batch,16\]" "inspect mlp input"
contains out.txt "probs  *f32  *\[batch,10\]" "inspect mlp output"
contains out.txt "Gemm  *2" "inspect mlp histogram"
contains out.txt "Softmax  *1" "inspect mlp histogram"
contains out.txt "f32  *874 in 4 tensors, 3496 bytes" "inspect mlp parameters"
contains out.txt "multiply-accumulates per inference (batch=1): 832 " "inspect mlp MACs"
contains out.txt "labels: 10 labels (c0" "inspect mlp labels"
contains out.txt "name: mlp" "inspect mlp metadata"
expect 0 "inspect mlp batch 4" -- "$EMBER" inspect "$M/mlp.ember" --batch 4
contains out.txt "(batch=4): 3328 " "inspect mlp MACs at batch 4"
expect 0 "inspect cnn" -- "$EMBER" inspect "$M/cnn.ember"
contains out.txt "x  *f32  *\[1,3,16,16\]" "inspect cnn input"
contains out.txt "logits  *f32  *\[1,5\]" "inspect cnn output"
contains out.txt "Conv  *2" "inspect cnn histogram"
contains out.txt "per inference: 73808 " "inspect cnn MACs"
expect 0 "inspect digits" -- "$EMBER" inspect "$SRC/models/digits.ember"
contains out.txt ": 6464 " "inspect digits MACs"
expect 2 "inspect no model" -- "$EMBER" inspect
expect 2 "inspect bad option" -- "$EMBER" inspect "$M/mlp.ember" --frob
expect 2 "inspect bad batch" -- "$EMBER" inspect "$M/mlp.ember" --batch 0
expect 1 "inspect missing file" -- "$EMBER" inspect nonexistent.ember
expect 1 "inspect not a model" -- "$EMBER" inspect x1.npy

# ---- run ----
expect 0 "run mlp batch 3" -- "$EMBER" run "$M/mlp.ember" --input x=x3.npy --output-dir outdir/a --top 3
contains out.txt "probs\[2\] top 3: c" "run mlp top-3"
expect 0 "run mlp unnamed input" -- "$EMBER" run "$M/mlp.ember" --input x1.npy
contains out.txt "probs\[0\] top 5:" "run mlp top-5"
expect 0 "run cnn" -- "$EMBER" run "$M/cnn.ember" --input c.npy --output-dir outdir/c
"$PY" - <<'PYEOF' && ok || bad "run outputs"
import numpy as np
p = np.load("outdir/a/probs.npy")
assert p.shape == (3, 10) and p.dtype == np.float32, p.shape
assert abs(p.sum(1) - 1).max() < 1e-5
l = np.load("outdir/c/logits.npy")
assert l.shape == (1, 5)
PYEOF
expect 0 "run v2 npy" -- "$EMBER" run "$M/mlp.ember" --input x_v2.npy
expect 2 "run without input" -- "$EMBER" run "$M/mlp.ember"
expect 2 "run no model" -- "$EMBER" run
expect 2 "run --top without value" -- "$EMBER" run "$M/mlp.ember" --input x1.npy --top
expect 2 "run --top not a number" -- "$EMBER" run "$M/mlp.ember" --input x1.npy --top five
expect 1 "run wrong input name" -- "$EMBER" run "$M/mlp.ember" --input y=x1.npy
contains err.txt "no input named 'y'" "run wrong input name"
expect 1 "run missing npy" -- "$EMBER" run "$M/mlp.ember" --input missing.npy
expect 1 "run f64 npy" -- "$EMBER" run "$M/mlp.ember" --input x_f64.npy
contains err.txt "not supported" "run f64 message"
expect 1 "run i64 npy (dtype mismatch)" -- "$EMBER" run "$M/mlp.ember" --input x_i64.npy
expect 1 "run wrong shape" -- "$EMBER" run "$M/mlp.ember" --input x_short.npy
contains err.txt "input 'x'" "run wrong shape message"
expect 1 "run big-endian" -- "$EMBER" run "$M/mlp.ember" --input x_be.npy
contains err.txt "big-endian" "run big-endian message"
expect 1 "run fortran order" -- "$EMBER" run "$M/mlp.ember" --input x_fortran.npy
contains err.txt "Fortran" "run fortran message"
for f in x_trunc x_garbage x_hugehdr x_dict; do
    expect 1 "run malformed $f" -- "$EMBER" run "$M/mlp.ember" --input $f.npy
done
expect 1 "run shape conflict" -- "$EMBER" run "$M/mlp.ember" --input x1.npy --shape x=2x16
expect 1 "run missing model" -- "$EMBER" run missing.ember --input x1.npy

# ---- bench ----
expect 0 "bench text" -- "$EMBER" bench "$M/cnn.ember" --runs 5 --warmup 1
contains out.txt "median" "bench text"
expect 0 "bench json" -- "$EMBER" bench "$M/mlp.ember" --runs 7 --warmup 2 --batch 4 --threads 2 --json
"$PY" - <<'PYEOF' && ok || bad "bench --json"
import json
d = json.load(open("out.txt"))
for k in ("median_ms", "p90_ms", "p99_ms", "load_ms", "peak_rss_kb", "throughput", "runs", "threads", "batch"):
    assert k in d, k
assert d["runs"] == 7 and d["threads"] == 2 and d["batch"] == 4, d
assert 0 < d["median_ms"] <= d["p90_ms"] <= d["p99_ms"] and d["peak_rss_kb"] > 0 and d["throughput"] > 0, d
PYEOF
expect 0 "bench --shape" -- "$EMBER" bench "$M/mlp.ember" --runs 3 --shape x=5x16 --json
contains out.txt '"batch": 5' "bench --shape batch"
expect 2 "bench bad runs" -- "$EMBER" bench "$M/mlp.ember" --runs 0
expect 2 "bench bad shape syntax" -- "$EMBER" bench "$M/mlp.ember" --shape x=5by16
expect 1 "bench shape mismatch" -- "$EMBER" bench "$M/mlp.ember" --shape x=5x15
expect 1 "bench unknown shape name" -- "$EMBER" bench "$M/mlp.ember" --shape nothere=3
expect 1 "bench missing model" -- "$EMBER" bench missing.ember

# ---- predict ----
D=$SRC/models/digits.ember
expect 0 "predict digits csv" -- "$EMBER" predict "$D" --input digits.csv --output p.csv --batch-size 50
expect 0 "predict digits npy" -- "$EMBER" predict "$D" --input digits.npy --output p.npy --batch-size 64
expect 0 "predict digits npy -> raw csv" -- "$EMBER" predict "$D" --input digits.npy --output raw.csv --raw
expect 0 "predict no header, batch 3" -- "$EMBER" predict "$D" --input digits_noheader.csv --output small.npy --batch-size 3
expect 0 "predict progress off when piped" -- "$EMBER" predict "$D" --input digits.csv --output p1.csv --batch-size 1
if [ -s err.txt ]; then bad "predict wrote to stderr when not a terminal"; else ok; fi
"$PY" - <<'PYEOF' && ok || bad "predict accuracy"
import csv
import numpy as np
labels = np.load("labels.npy")
rows = list(csv.reader(open("p.csv")))
assert rows[0] == ["label", "score"], rows[0]
pred = np.array([int(r[0]) for r in rows[1:]])
assert len(pred) == 360, len(pred)
acc = (pred == labels).mean()
print("predict csv accuracy %.4f" % acc)
assert acc >= 0.95
p = np.load("p.npy")
assert p.shape == (360, 10) and p.dtype == np.float32, p.shape
assert (p.argmax(1) == pred).all()
raw = np.loadtxt("raw.csv", delimiter=",", skiprows=1)
assert raw.shape == (360, 10) and abs(raw - p).max() < 1e-6
# batch 1 may take another kernel (matrix-vector): same labels, scores within float error
rows1 = list(csv.reader(open("p1.csv")))
assert [r[0] for r in rows1] == [r[0] for r in rows]
assert max(abs(float(a[1]) - float(b[1])) for a, b in zip(rows1[1:], rows[1:])) < 1e-5
s = np.load("small.npy")
assert s.shape == (10, 10) and abs(s - p[:10]).max() < 1e-6
PYEOF
expect 2 "predict no output" -- "$EMBER" predict "$D" --input digits.csv
expect 2 "predict bad extension" -- "$EMBER" predict "$D" --input digits.txt --output p.csv
expect 2 "predict bad batch size" -- "$EMBER" predict "$D" --input digits.csv --output p.csv --batch-size -3
expect 1 "predict missing input file" -- "$EMBER" predict "$D" --input missing.csv --output q.csv
expect 1 "predict wrong column count" -- "$EMBER" predict "$D" --input bad_count.csv --output q.csv
contains err.txt "line 3: 63 values, expected 64" "predict column count message"
expect 1 "predict non-number" -- "$EMBER" predict "$D" --input bad_number.csv --output q.csv
contains err.txt "line 2: field 64 is not a number" "predict non-number message"
expect 1 "predict npy wrong item shape" -- "$EMBER" predict "$D" --input x3.npy --output q.npy
expect 1 "predict model with two inputs or wrong output name" -- "$EMBER" predict "$D" --input digits.npy --output q.npy --output-name nope
expect 1 "predict malformed npy" -- "$EMBER" predict "$D" --input x_garbage.npy --output q.npy

# ---- profile ----
expect 0 "profile cnn" -- "$EMBER" profile "$M/cnn.ember" --runs 3 --trace trace.json
contains out.txt "conv1 *Conv" "profile table"
"$PY" - <<'PYEOF' && ok || bad "profile --trace"
import json
d = json.load(open("trace.json"))
ev = [e for e in d["traceEvents"] if e.get("ph") == "X" and e.get("cat") != "run"]
assert len(ev) == 3 * 7, len(ev)
for e in ev:
    assert isinstance(e["ts"], (int, float)) and e["dur"] >= 0 and e["name"] and e["cat"] and "kernel" in e["args"]
assert {e["cat"] for e in ev} >= {"Conv", "MaxPool", "Gemm"}
PYEOF
expect 0 "profile mlp batch" -- "$EMBER" profile "$M/mlp.ember" --runs 2 --batch 3
expect 2 "profile bad runs" -- "$EMBER" profile "$M/mlp.ember" --runs x
expect 0 "profile forced generic path" -- "$EMBER" profile "$M/cnn.ember" --runs 1 --isa generic
contains out.txt "generic implicit gemm" "profile names the forced path"
expect 2 "profile unknown isa" -- "$EMBER" profile "$M/cnn.ember" --isa sse9
contains err.txt "not one of generic, avx2, avx512, neon" "unknown isa message"
expect 0 "bench forced generic path" -- "$EMBER" bench "$M/cnn.ember" --runs 2 --warmup 0 --isa generic
expect 1 "profile unwritable trace" -- "$EMBER" profile "$M/mlp.ember" --runs 1 --trace /nonexistent-dir/t.json
expect 1 "profile missing model" -- "$EMBER" profile missing.ember

# ---- pack ----
expect 0 "pack cnn" -- "$EMBER" pack "$M/cnn.ember" cnn.packed.ember
contains out.txt "wrote cnn.packed.ember" "pack says what it wrote"
expect 0 "inspect packed" -- "$EMBER" inspect cnn.packed.ember
contains out.txt "pre-packed weights: 3 nodes" "inspect shows the packed nodes"
contains out.txt "this machine's path" "inspect says the blobs are used"
expect 0 "run packed cnn" -- "$EMBER" run cnn.packed.ember --input c.npy --output-dir outdir/cp
"$PY" - <<'PYEOF' && ok || bad "packed outputs equal the unpacked model's"
import numpy as np
a, b = np.load("outdir/c/logits.npy"), np.load("outdir/cp/logits.npy")
assert a.tobytes() == b.tobytes(), (a, b)
PYEOF
expect 0 "pack for the generic path" -- "$EMBER" pack "$M/cnn.ember" cnn.generic.ember --isa generic
expect 0 "inspect generic-packed" -- "$EMBER" inspect cnn.generic.ember
contains out.txt "layout 'generic" "inspect names the layout"
expect 2 "pack without OUT" -- "$EMBER" pack "$M/cnn.ember"
expect 2 "pack bad isa" -- "$EMBER" pack "$M/cnn.ember" x.ember --isa sse9
expect 2 "pack extra argument" -- "$EMBER" pack "$M/cnn.ember" x.ember y.ember
expect 1 "pack missing model" -- "$EMBER" pack missing.ember x.ember
contains err.txt "missing.ember" "pack names the missing file"
expect 1 "pack not a model" -- "$EMBER" pack x1.npy x.ember
expect 1 "pack unwritable OUT" -- "$EMBER" pack "$M/cnn.ember" /nonexistent-dir/x.ember
[ ! -e x.ember ] && ok || bad "a failed pack left x.ember behind"

echo "cli tests: $pass passed, $fails failed"
[ "$fails" = 0 ]
