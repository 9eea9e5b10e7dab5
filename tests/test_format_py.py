#!/usr/bin/python3
"""Round trip of bindings/python/ember/format.py, and refusal of damaged files.

Run: /usr/bin/python3 tests/test_format_py.py   (exit status 0 = pass)
"""
import os
import struct
import sys
import zlib

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "bindings", "python"))

from ember import format as ef  # noqa: E402
from ember.format import FormatError, ModelBuilder, read  # noqa: E402

failures = []


def check(cond, msg):
    if not cond:
        failures.append(msg)
        print("FAIL:", msg)


def expect_error(data, what, fix_crc=True):
    if fix_crc:
        data = ef._crc_fixup(data)
    try:
        read(data)
    except FormatError as e:
        return str(e)
    failures.append("accepted a file with " + what)
    print("FAIL: accepted a file with", what)
    return None


def build():
    rng = np.random.default_rng(0)
    b = ModelBuilder()
    b.input("x", "f32", ["batch", 16])
    b.input("mask", "bool", [1, 16])
    w = rng.standard_normal((32, 16)).astype(np.float32)
    b.constant("w", w)
    b.constant("bias", rng.standard_normal(32).astype(np.float16))
    wq = rng.integers(-127, 128, (10, 32)).astype(np.int8)
    scale = rng.random(10).astype(np.float32)
    b.constant("wq", wq, quant=dict(scale=scale, zero_point=np.zeros(10, np.int32), axis=0))
    b.constant("u8", np.arange(5, dtype=np.uint8), quant=dict(scale=np.array([0.5], np.float32),
                                                                zero_point=np.array([3]), axis=None))
    b.constant("i32", np.array([1, -2, 3], np.int32))
    b.constant("shape", np.array([-1, 10], np.int64))
    b.constant("scalar", np.array(2.5, np.float32))
    b.constant("empty", np.zeros((0, 4), np.float32))
    b.constant("flag", np.array([True, False, True]))
    b.tensor("h2", "f16")
    b.node("Gemm", ["x", "w", "bias"], ["h"], name="fc1",
           attrs={"transB": 1, "alpha": 1.0, "pads": [1, 1, 1, 1], "mode": "linear",
                  "scales": [1.0, 2.5], "empty": [], "neg": -7, "big": 2 ** 40},
           activation="relu")
    b.node("Cast", ["h"], ["h2"], attrs={"to": 10})
    b.node("Gemm", ["h", "wq", ""], ["y"], name="fc2", attrs={"transB": 1},
           activation=("clip", 0.0, 6.0))
    b.node("Conv", ["x", "w"], ["c1"], activation=("leaky_relu", 0.1))
    b.node("MatMul", ["x", "w"], ["c2"], activation=("hard_sigmoid", 0.25, 0.5))
    b.node("Reshape", ["y", "shape"], ["z"])
    b.node("Split", ["z"], ["s0", "s1"], attrs={"axis": 1})
    b.output("s0")
    b.output("h2")
    b.output("x")
    b.metadata(name="test", version="1.0", producer="tests/test_format_py.py",
               description="round trip", labels=["cat", "dog", "émeu"], extra="value")
    return b, dict(w=w, wq=wq, scale=scale)


def test_round_trip():
    b, ref = build()
    data = b.to_bytes()
    check(data == b.to_bytes(), "writer is deterministic")
    m = read(data)
    h = m["header"]
    check(h["version_major"] == 1 and h["version_minor"] == 2, "version 1.2")
    check(h["file_size"] == len(data), "file_size")
    check(h["checksum"] == zlib.crc32(data[64:]) & 0xFFFFFFFF, "checksum")
    for s in m["sections"]:
        check(s["offset"] % 64 == 0, "section alignment")
    t = m["tensor_by_name"]
    check(m["inputs"] == ["x", "mask"], "inputs %r" % m["inputs"])
    check(m["outputs"] == ["s0", "h2", "x"], "outputs")
    check(t["x"]["shape"] == ["batch", 16] and t["x"]["dtype"] == "f32", "x shape")
    check(t["mask"]["dtype"] == "bool" and t["mask"]["shape"] == [1, 16], "mask")
    check(np.array_equal(t["w"]["data"], ref["w"]) and t["w"]["data"].dtype == np.float32, "w")
    check(t["bias"]["dtype"] == "f16", "f16 constant")
    check(np.array_equal(t["wq"]["data"], ref["wq"]) and t["wq"]["dtype"] == "i8", "wq")
    q = t["wq"]["quant"]
    check(q["axis"] == 0 and np.array_equal(q["scale"], ref["scale"])
          and np.array_equal(q["zero_point"], np.zeros(10)), "per-channel quant")
    q = t["u8"]["quant"]
    check(q["axis"] is None and q["scale"].tolist() == [0.5] and q["zero_point"].tolist() == [3],
          "per-tensor quant")
    check(t["i32"]["data"].tolist() == [1, -2, 3], "i32")
    check(t["shape"]["data"].tolist() == [-1, 10] and t["shape"]["dtype"] == "i64", "i64")
    check(t["scalar"]["rank"] == 0 and float(t["scalar"]["data"]) == 2.5, "scalar")
    check(t["empty"]["shape"] == [0, 4] and t["empty"]["data_size"] == 0, "empty constant")
    check(t["flag"]["data"].tolist() == [True, False, True], "bool constant")
    for tt in m["tensors"]:
        if tt["constant"]:
            check(tt["absolute_offset"] % 64 == 0, "weight %s aligned" % tt["name"])
    check(t["h2"]["dtype"] == "f16" and not t["h2"]["constant"] and t["h2"]["rank"] == 0,
          "declared activation tensor")
    check(t["h"]["dtype"] == "f32" and t["h"]["rank"] == 0, "implicit activation tensor")
    n = m["nodes"]
    check([x["op_type"] for x in n] == ["Gemm", "Cast", "Gemm", "Conv", "MatMul", "Reshape",
                                        "Split"], "node order")
    a = n[0]["attrs"]
    check(a == {"transB": 1, "alpha": 1.0, "pads": [1, 1, 1, 1], "mode": "linear",
                "scales": [1.0, 2.5], "empty": [], "neg": -7, "big": 2 ** 40}, "attrs %r" % a)
    check(n[0]["attr_types"] == {"transB": "INT", "alpha": "FLOAT", "pads": "INTS",
                                 "mode": "STRING", "scales": "FLOATS", "empty": "INTS",
                                 "neg": "INT", "big": "INT"}, "attr types")
    check(n[0]["activation"] == "relu" and n[0]["name"] == "fc1", "relu")
    check(n[1]["name"] == "" and n[1]["activation"] == "none", "unnamed node")
    check(n[2]["inputs"] == ["h", "wq", ""] and n[2]["activation"] == "clip"
          and (n[2]["act_alpha"], n[2]["act_beta"]) == (0.0, 6.0), "absent input, clip")
    check(n[3]["activation"] == "leaky_relu" and abs(n[3]["act_alpha"] - 0.1) < 1e-7, "leaky")
    check((n[4]["act_alpha"], n[4]["act_beta"]) == (0.25, 0.5), "hard_sigmoid")
    check(n[6]["outputs"] == ["s0", "s1"], "two outputs")
    md = m["metadata"]
    check(md["name"] == "test" and md["extra"] == "value" and md["labels"] == "cat\ndog\némeu",
          "metadata")
    check(m["labels"] == ["cat", "dog", "émeu"], "labels")


def test_minimal():
    b = ModelBuilder()
    b.input("x", "f32", [1])
    b.output("x")
    m = read(b.to_bytes())
    check([s["name"] for s in m["sections"]] == ["STRINGS", "TENSORS", "NODES", "INDICES",
                                                 "GRAPH"], "minimal sections")
    check(m["nodes"] == [] and m["outputs"] == ["x"], "identity model")


def test_builder_refuses():
    def refuses(f, what):
        try:
            f()
        except FormatError:
            return
        failures.append("builder accepted " + what)
        print("FAIL: builder accepted", what)

    def cycle():
        b = ModelBuilder()
        b.input("x", "f32", [1])
        b.node("Add", ["x", "b"], ["a"])
        b.node("Relu", ["a"], ["b"])
        b.output("b")
        b.to_bytes()

    def twice():
        b = ModelBuilder()
        b.input("x", "f32", [1])
        b.node("Relu", ["x"], ["a"])
        b.node("Relu", ["x"], ["a"])
        b.output("a")
        b.to_bytes()

    def write_input():
        b = ModelBuilder()
        b.input("x", "f32", [1])
        b.node("Relu", ["x"], ["x"])
        b.output("x")
        b.to_bytes()

    def dangling_output():
        b = ModelBuilder()
        b.input("x", "f32", [1])
        b.output("y")
        b.to_bytes()

    def bad_act():
        ModelBuilder().node("Add", ["a", "b"], ["c"], activation="relu")

    def bad_quant():
        b = ModelBuilder()
        b.constant("w", np.zeros((4, 3), np.int8), quant=dict(scale=np.ones(3, np.float32),
                                                              zero_point=np.zeros(3), axis=0))
        b.input("x", "f32", [1])
        b.output("x")
        b.to_bytes()

    refuses(cycle, "a cycle")
    refuses(twice, "a tensor produced twice")
    refuses(write_input, "a node writing a graph input")
    refuses(dangling_output, "an output nothing produces")
    refuses(bad_act, "relu fused into Add")
    refuses(bad_quant, "per-channel count != dims[axis]")
    refuses(lambda: ModelBuilder().input("x", "f64", [1]), "dtype f64")
    refuses(lambda: ModelBuilder().input("x", "f32", [1] * 9), "rank 9")
    refuses(lambda: ModelBuilder().input("x", "f32", [-1]), "dim -1 without a name")
    refuses(lambda: ModelBuilder().constant("c", np.zeros(2, np.float64)), "f64 constant")
    refuses(lambda: ModelBuilder().node("Relu", ["x"], ["y"], attrs={"a": {}}), "dict attribute")


def test_corruption():
    b, _ = build()
    good = b.to_bytes()
    m = read(good)
    secs = {s["name"]: s for s in m["sections"]}
    n = len(good)

    def patch(off, fmt, *vals):
        d = bytearray(good)
        struct.pack_into(fmt, d, off, *vals)
        return bytes(d)

    def sec_entry(name):
        for i, s in enumerate(m["sections"]):
            if s["name"] == name:
                return 64 + 24 * i
        raise KeyError(name)

    # header
    expect_error(good[:63], "a truncated header", fix_crc=False)
    expect_error(good[:-1], "a truncated file")
    expect_error(good + b"\0", "a trailing byte")
    expect_error(patch(0, "<B", 0x88), "a bad magic")
    expect_error(patch(8, "<H", 2), "major version 2")
    expect_error(patch(12, "<I", 72), "header_size 72")
    expect_error(patch(16, "<Q", n + 64), "file_size too large")
    expect_error(patch(24, "<Q", 128), "section table not at 64")
    expect_error(patch(32, "<I", 1000), "section_count too large")
    expect_error(patch(40, "<I", 1), "header flags")
    expect_error(patch(44, "<I", 1), "header reserved")
    msg = expect_error(patch(n - 1, "<B", good[-1] ^ 1), "a flipped weight byte", fix_crc=False)
    check(msg is not None and "checksum" in msg, "flipped byte reported as checksum: %r" % msg)
    # a higher minor version is accepted
    read(ef._crc_fixup(patch(10, "<H", 7)))

    # section table
    e = sec_entry("TENSORS")
    expect_error(patch(e, "<I", 0), "section kind 0")
    expect_error(patch(e, "<I", 1), "a duplicate section kind")
    expect_error(patch(e + 4, "<I", 1), "section reserved")
    expect_error(patch(e + 8, "<Q", secs["TENSORS"]["offset"] + 8), "an unaligned section")
    expect_error(patch(e + 16, "<Q", secs["TENSORS"]["size"] + 128), "overlapping sections")
    expect_error(patch(e + 16, "<Q", secs["TENSORS"]["size"] - 8), "a partial tensor record")
    expect_error(patch(sec_entry("WEIGHTS") + 16, "<Q", n), "a section past the end")
    expect_error(patch(sec_entry("GRAPH"), "<I", 11), "no GRAPH section (renamed unknown)")
    expect_error(patch(sec_entry("GRAPH") + 16, "<Q", 32), "two GRAPH records")
    so = secs["STRINGS"]["offset"]
    expect_error(patch(so + secs["STRINGS"]["size"] + 1, "<B", 1), "non-zero padding")
    expect_error(patch(so, "<B", ord("a")), "STRINGS not beginning with NUL")
    expect_error(patch(so + secs["STRINGS"]["size"] - 1, "<B", ord("a")), "unterminated string")
    # an unknown section kind is ignored
    read(ef._crc_fixup(patch(sec_entry("METADATA"), "<I", 99)))

    # tensors (x is record 0, w is record 2)
    to = secs["TENSORS"]["offset"]
    w = to + 2 * 128
    expect_error(patch(to, "<I", 0), "an empty tensor name")
    expect_error(patch(to, "<I", secs["STRINGS"]["size"]), "a tensor name out of range")
    expect_error(patch(to + 128, "<I", struct.unpack_from("<I", good, to)[0]), "a duplicate name")
    expect_error(patch(w + 4, "<B", 0), "dtype 0")
    expect_error(patch(w + 4, "<B", 8), "dtype 8")
    expect_error(patch(w + 5, "<B", 9), "rank 9")
    expect_error(patch(w + 5, "<B", 1), "a dim beyond the rank")
    expect_error(patch(w + 6, "<B", 3), "unknown tensor flags")
    expect_error(patch(w + 7, "<B", 1), "tensor reserved0")
    expect_error(patch(w + 8, "<I", 77), "a quant index out of range")
    expect_error(patch(w + 12, "<I", 1), "tensor reserved1")
    expect_error(patch(w + 16, "<Q", 64 * 1000), "weights outside WEIGHTS")
    expect_error(patch(w + 16, "<Q", 4), "unaligned weights")
    expect_error(patch(w + 24, "<Q", 4), "a wrong data_size")
    expect_error(patch(w + 32, "<q", -1), "a constant with a -1 dim without a name")
    expect_error(patch(w + 32, "<q", -2), "a dim of -2")
    expect_error(patch(to + 32, "<q", 16), "a fixed dim with a dim_name")  # x dims[0] "batch"
    expect_error(patch(to + 128 + 16, "<Q", 64), "an input with data_offset")
    # per-channel quant on wq (record 4) with axis 1 (count 10 != 32)
    qo = secs["QUANT"]["offset"]
    expect_error(patch(qo, "<i", 1), "a per-channel count != dims[axis]")
    expect_error(patch(qo, "<i", 5), "a quant axis >= rank")
    expect_error(patch(qo, "<i", -2), "a quant axis of -2")
    expect_error(patch(qo + 36, "<I", 2), "per-tensor quant with count 2")
    expect_error(patch(qo + 8, "<Q", 2), "an unaligned scale offset")
    expect_error(patch(qo + 16, "<Q", 1 << 40), "a zero_point offset outside ATTR_DATA")
    expect_error(patch(qo + 24, "<I", 32), "a block_size")

    # nodes
    no = secs["NODES"]["offset"]
    expect_error(patch(no + 4, "<I", 0), "an empty op_type")
    expect_error(patch(no + 8, "<I", 1 << 30), "inputs outside INDICES")
    expect_error(patch(no + 12, "<I", 0xFFFFFFFF), "an input count that overflows")
    expect_error(patch(no + 20, "<I", 0), "a node without outputs")
    expect_error(patch(no + 28, "<I", 1000), "attributes outside ATTRIBUTES")
    expect_error(patch(no + 32, "<I", 9), "activation 9")
    expect_error(patch(no + 44, "<I", 1), "node reserved")
    io = secs["INDICES"]["offset"]
    expect_error(patch(io, "<I", 1000), "a tensor index out of range")
    expect_error(patch(io + 12, "<I", 0xFFFFFFFF), "an absent output")  # node 0 output
    expect_error(patch(io, "<I", struct.unpack_from("<I", good, io + 12)[0]),
                 "a node reading its own output")
    # Cast (node 1) reads h: make it read y (output of a later node)
    y_index = m["tensor_by_name"]["y"]["index"]
    expect_error(patch(io + 16, "<I", y_index), "a node reading a later node's output")
    # Gemm fc2's output "y" replaced by "h": produced twice
    expect_error(patch(io + 4 * 9, "<I", m["tensor_by_name"]["h"]["index"]),
                 "a tensor produced twice")
    expect_error(patch(io + 12, "<I", m["tensor_by_name"]["w"]["index"]), "a node writing a constant")

    # attributes (node 0 has transB, alpha, pads, mode, scales, empty, neg, big)
    ao = secs["ATTRIBUTES"]["offset"]
    expect_error(patch(ao, "<I", 0), "an empty attribute name")
    expect_error(patch(ao + 24, "<I", struct.unpack_from("<I", good, ao)[0]), "a duplicate attribute")
    expect_error(patch(ao + 4, "<I", 6), "attribute type 6")
    expect_error(patch(ao + 4, "<I", 0), "attribute type 0")
    expect_error(patch(ao + 20, "<I", 1), "attribute reserved")
    expect_error(patch(ao + 24 + 8, "<Q", 1 << 32 | 0x3F800000), "FLOAT high bits")
    expect_error(patch(ao + 48 + 8, "<Q", 4), "unaligned INTS")
    expect_error(patch(ao + 48 + 16, "<I", 1 << 28), "INTS past ATTR_DATA")
    expect_error(patch(ao + 72 + 8, "<Q", 1 << 20), "a STRING value out of range")
    expect_error(patch(ao + 96 + 8, "<Q", 2), "unaligned FLOATS")
    expect_error(patch(ao + 16, "<I", 1), "an INT with a count")

    # metadata and graph
    mo = secs["METADATA"]["offset"]
    expect_error(patch(mo, "<I", 0), "an empty metadata key")
    expect_error(patch(mo + 8, "<I", struct.unpack_from("<I", good, mo)[0]), "a duplicate key")
    expect_error(patch(mo + 4, "<I", 1 << 20), "a metadata value out of range")
    go = secs["GRAPH"]["offset"]
    expect_error(patch(go + 12, "<I", 0), "a graph without outputs")
    expect_error(patch(go + 8, "<I", 1 << 20), "graph outputs outside INDICES")
    gi = struct.unpack_from("<I", good, go)[0]
    expect_error(patch(io + 4 * (gi + 1), "<I", 0), "a duplicate graph input")
    expect_error(patch(io + 4 * gi, "<I", m["tensor_by_name"]["w"]["index"]),
                 "a constant graph input")
    go_first = struct.unpack_from("<I", good, go + 8)[0]
    expect_error(patch(io + 4 * go_first, "<I", m["tensor_by_name"]["w"]["index"]),
                 "a constant graph output")
    expect_error(patch(io + 4 * (go_first + 1), "<I", m["tensor_by_name"]["s0"]["index"]),
                 "a duplicate graph output")
    expect_error(patch(io + 4 * gi, "<I", m["tensor_by_name"]["h"]["index"]),
                 "a graph input produced by a node")


def test_random_corruption():
    """Flipping any byte of the file is either refused or (if the checksum is
    recomputed) refused or accepted, never an unexpected exception."""
    b, _ = build()
    good = b.to_bytes()
    rng = np.random.default_rng(1)
    for _ in range(2000):
        d = bytearray(good)
        for _ in range(int(rng.integers(1, 4))):
            d[int(rng.integers(0, len(d)))] ^= 1 << int(rng.integers(0, 8))
        for data in (bytes(d), ef._crc_fixup(d)):
            try:
                read(data)
            except FormatError:
                pass
            except Exception as e:  # noqa: BLE001
                failures.append("unexpected %r" % e)
                print("FAIL: unexpected", repr(e))
                return


if __name__ == "__main__":
    test_round_trip()
    test_minimal()
    test_builder_refuses()
    test_corruption()
    test_random_corruption()
    if failures:
        print("%d failure(s)" % len(failures))
        sys.exit(1)
    print("test_format_py: all passed")
