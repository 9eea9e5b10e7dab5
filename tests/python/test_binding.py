#!/usr/bin/python3
"""Tests of the Python binding (bindings/python/ember: _lib.py, runtime.py).

Run: EMBER_LIBRARY=build/libember.so /usr/bin/python3 tests/python/test_binding.py
(exit status 0 = pass). Without EMBER_LIBRARY the binding looks for the library
itself (next to the package, then build*/ of this checkout, then the system).
"""
import ctypes
import gc
import os
import pathlib
import re
import struct
import subprocess
import sys
import tempfile
import threading
import traceback

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
PYDIR = os.path.join(ROOT, "bindings", "python")
MODELS = os.path.join(ROOT, "tests", "models")
sys.path.insert(0, PYDIR)

import ember  # noqa: E402
from ember import _lib  # noqa: E402

DTYPES = {1: np.float32, 2: np.float16, 3: np.int8, 4: np.uint8, 5: np.int32, 6: np.int64,
          7: np.bool_}


def read_records(path):
    """tests/models/README.md: name_len u32, name, dtype u32, rank u32, dims i64[rank], data."""
    out = {}
    with open(path, "rb") as f:
        data = f.read()
    pos = 0
    while pos < len(data):
        (n,) = struct.unpack_from("<I", data, pos)
        pos += 4
        name = data[pos:pos + n].decode("utf-8")
        pos += n
        dtype, rank = struct.unpack_from("<II", data, pos)
        pos += 8
        dims = struct.unpack_from("<%dq" % rank, data, pos)
        pos += 8 * rank
        dt = np.dtype(DTYPES[dtype]).newbyteorder("<")
        count = int(np.prod(dims, dtype=np.int64)) if rank else 1
        arr = np.frombuffer(data, dt, count, pos).reshape(dims)
        pos += count * dt.itemsize
        out[name] = arr.astype(dt.newbyteorder("="))
    return out


def model_path(name):
    return os.path.join(MODELS, name + ".ember")


def records(name, kind):
    return read_records(os.path.join(MODELS, "%s.%s.bin" % (name, kind)))


def close(a, b, rtol=1e-4, atol=1e-5):
    return a.shape == b.shape and a.dtype == b.dtype and np.allclose(a, b, rtol=rtol, atol=atol)


def raises(cls, fn, *contains):
    """Calls fn, asserts it raises cls with every string of contains in the message."""
    try:
        fn()
    except cls as e:
        for c in contains:
            assert c in str(e), "message %r lacks %r" % (str(e), c)
        return e
    except Exception as e:
        raise AssertionError("expected %s, got %s: %s" % (cls.__name__, type(e).__name__, e))
    raise AssertionError("expected %s, nothing raised" % cls.__name__)


# ------------------------------------------------------------------ tests


def test_version():
    v = ember.version()
    assert re.fullmatch(r"\d+\.\d+\.\d+", v), v
    assert int(v.split(".")[0]) == _lib.EXPECTED_MAJOR
    assert os.path.exists(ember.library_path()) or ember.library_path().startswith("lib")


def test_prototypes_cover_header():
    with open(os.path.join(ROOT, "include", "ember.h")) as f:
        header = f.read()
    header = re.sub(r"/\*.*?\*/", " ", header, flags=re.S)
    header = re.sub(r"#define[^\n]*(\\\n[^\n]*)*", " ", header)
    decls = re.findall(r"EMBER_API\s+([^;{]*?)\b(ember_\w+)\s*\(([^)]*)\)\s*;", header)
    names = {d[1] for d in decls}
    assert len(names) >= 40, names
    assert names == set(_lib.PROTOTYPES), (names ^ set(_lib.PROTOTYPES))
    lib = _lib.get()
    for ret, name, params in decls:
        fn = getattr(lib, name)
        params = params.strip()
        n = 0 if params in ("", "void") else params.count(",") + 1
        assert fn.argtypes is not None and len(fn.argtypes) == n, (name, fn.argtypes, n)
        is_void = ret.strip() == "void"
        assert (fn.restype is None) == is_void, (name, fn.restype)


def test_struct_sizes():
    # layouts on LP64: checked against the header's fields
    assert ctypes.sizeof(_lib.IoInfo) == 8 + 8 + 4 + 4 + 64 + 64
    assert ctypes.sizeof(_lib.Tensor) == 8 + 4 + 4 + 64 + 8 + 8
    assert ctypes.sizeof(_lib.LoadOptions) == 8 + 8 + 8 + 4 + 4
    assert ctypes.sizeof(_lib.SessionOptions) == 8 + 4 + 4 + 8 + 8 + 8 + 8 + 8 + 8
    assert ctypes.sizeof(_lib.MemoryPlan) == 8 * 5
    assert ctypes.sizeof(_lib.NodeInfo) == 8 * 3 + 8
    assert ctypes.sizeof(_lib.NodeProfile) == 8 * 5


def test_load_path_and_bytes():
    p = model_path("mlp")
    with open(p, "rb") as f:
        data = f.read()
    x = records("mlp", "input")["x"]
    want = records("mlp", "expected")["probs"]
    for src in (p, pathlib.Path(p), data, bytearray(data), memoryview(data)):
        with ember.Model(src) as m:
            assert [t.name for t in m.inputs] == ["x"]
            assert close(m.run({"x": x})["probs"], want)
    raises(ember.InvalidArgument, lambda: ember.Model(12), "path")


def test_descriptors_metadata():
    m = ember.Model(model_path("mlp"))
    assert m.inputs == [ember.TensorInfo("x", ("batch", 16), "float32")], m.inputs
    assert len(m.outputs) == 1 and m.outputs[0].name == "probs"
    assert m.outputs[0].dtype == "float32"
    assert m.metadata["name"] == "mlp", m.metadata
    assert "version" in m.metadata and "labels" in m.metadata
    assert m.labels == ["c%d" % i for i in range(10)], m.labels
    assert m.node_count == 3
    assert [op for _, op in m.nodes] == ["Gemm", "Gemm", "Softmax"], m.nodes
    assert m.parameter_count == 16 * 32 + 32 + 32 * 10 + 10
    g = ember.Model(model_path("gather"))
    assert g.inputs == [ember.TensorInfo("data", (4, 3), "float32"),
                        ember.TensorInfo("indices", (2,), "int64")], g.inputs
    assert "mlp" in repr(m)


def test_models_against_expected():
    for name in ("mlp", "cnn", "deep", "gather", "ops"):
        inputs = records(name, "input")
        want = records(name, "expected")
        with ember.Model(model_path(name)) as m:
            got = m.run(inputs)
            assert list(got) == [t.name for t in m.outputs], (name, list(got))
            for k in want:
                assert close(got[k], want[k]), (name, k, np.abs(got[k] - want[k]).max())
            with m.session() as s:
                got2 = s.run(inputs)
                for k in want:
                    assert np.array_equal(got2[k], got[k]), (name, k)
                assert [t.shape for t in s.outputs] == [want[k].shape for k in want]


def test_batch3():
    x3 = records("mlp.batch3", "input")["x"]
    want = records("mlp.batch3", "expected")["probs"]
    m = ember.Model(model_path("mlp"))
    assert x3.shape == (3, 16)
    assert close(m.run({"x": x3})["probs"], want)
    assert close(m.run(x3)["probs"], want)            # one-input model: a bare array
    x1 = records("mlp", "input")["x"]
    assert close(m.run(x1)["probs"], records("mlp", "expected")["probs"])   # other pool
    s = m.session(batch=3)
    assert s.inputs == [ember.TensorInfo("x", (3, 16), "float32")], s.inputs
    assert close(s.run({"x": x3})["probs"], want)
    s2 = m.session(dims={"batch": 3})
    assert close(s2.run({"x": x3})["probs"], want)
    # rows are independent: row i of batch 3 equals a batch-1 run of that row
    for i in range(3):
        assert close(m.run(x3[i:i + 1])["probs"][0], want[i])


def test_validation_errors():
    x3 = records("mlp.batch3", "input")["x"]
    want = records("mlp.batch3", "expected")["probs"]
    m = ember.Model(model_path("mlp"))
    s = m.session(batch=3)
    # missing input
    e = raises(ember.MissingInput, lambda: s.run({}), "'x'", "[3, 16]")
    assert e.status == 9 and isinstance(e, ValueError)
    raises(ember.MissingInput, lambda: m.run({}), "'x'")
    # unknown name
    raises(ember.NotFound, lambda: s.run({"x": x3, "y": x3}), "'y'", "x")
    raises(ember.NotFound, lambda: m.run({"X": x3}), "'X'")
    # wrong dtype: float64 refused with a hint, never cast
    e = raises(ember.DtypeMismatch, lambda: s.run({"x": x3.astype(np.float64)}),
               "'x'", "float32", "float64", ".astype(np.float32)")
    assert isinstance(e, TypeError) and e.status == 8
    raises(ember.DtypeMismatch, lambda: m.run({"x": x3.astype(np.float64)}), "float64")
    raises(ember.DtypeMismatch, lambda: s.run({"x": x3.astype(np.int64)}), "int64")
    raises(ember.DtypeMismatch, lambda: s.run({"x": x3.astype(np.float16)}), "float16")
    g = ember.Model(model_path("gather"))
    gin = records("gather", "input")
    raises(ember.DtypeMismatch, lambda: g.run({"data": gin["data"],
                                               "indices": gin["indices"].astype(np.float32)}),
           "'indices'", "int64", "float32")
    raises(ember.DtypeMismatch, lambda: g.run({"data": gin["data"],
                                               "indices": gin["indices"].astype(np.int32)}),
           "int64", "int32")
    # floats in a list are not turned into indices either
    raises(ember.DtypeMismatch, lambda: g.run({"data": gin["data"], "indices": [0.5, 1.0]}),
           "'indices'")
    # lists of numbers are fine where nothing is lost
    rows = g.run({"data": gin["data"].tolist(), "indices": gin["indices"].tolist()})["rows"]
    assert close(rows, records("gather", "expected")["rows"])
    # wrong shape
    e = raises(ember.ShapeMismatch, lambda: s.run({"x": x3[:, :15]}), "'x'", "[3, 16]", "[3, 15]")
    assert isinstance(e, ValueError) and e.status == 7
    raises(ember.ShapeMismatch, lambda: s.run({"x": x3[:2]}), "[3, 16]", "[2, 16]")
    raises(ember.ShapeMismatch, lambda: s.run({"x": x3.reshape(3, 4, 4)}), "[3, 4, 4]")
    raises(ember.ShapeMismatch, lambda: m.run({"x": x3[:, :15]}), "[3, 16]", "[3, 15]")
    raises(ember.ShapeMismatch, lambda: g.run({"data": gin["data"][:3],
                                               "indices": gin["indices"]}), "'data'", "[4, 3]")
    # several inputs need a dict
    raises(ember.InvalidArgument, lambda: g.run(gin["data"]), "dict")
    # non-contiguous inputs are read correctly
    wide = np.zeros((3, 32), np.float32)
    wide[:, ::2] = x3
    strided = wide[:, ::2]
    assert not strided.flags.c_contiguous
    assert close(s.run({"x": strided})["probs"], want)
    assert close(m.run({"x": strided})["probs"], want)
    fortran = np.asfortranarray(x3)
    assert not fortran.flags.c_contiguous
    assert close(s.run({"x": fortran})["probs"], want)
    rev = np.ascontiguousarray(x3[::-1])[::-1]        # negative strides
    assert close(s.run({"x": rev})["probs"], want)
    # other byte order: same values, accepted
    assert close(s.run({"x": x3.astype(">f4")})["probs"], want)
    # unaligned but contiguous: copied by the library instead of read in place
    buf = np.zeros(x3.nbytes + 1, np.uint8)
    unaligned = buf[1:].view(np.float32).reshape(3, 16)
    unaligned[...] = x3
    assert not unaligned.flags.aligned
    assert close(s.run({"x": unaligned})["probs"], want)
    # read-only arrays are fine (only read)
    ro = x3.copy()
    ro.flags.writeable = False
    assert close(s.run({"x": ro})["probs"], want)
    # an operator failure from C: index out of range, message names the node
    e = raises(ember.Error, lambda: g.run({"data": gin["data"],
                                           "indices": np.array([7, 0], np.int64)}))
    assert e.status is not None and e.message and "gather" in e.message.lower(), e.message
    # bad options
    raises(ember.InvalidArgument, lambda: m.session(batch=0), "batch")
    raises(ember.InvalidArgument, lambda: m.session(threads=-1), "threads")
    e = raises(ember.NotFound, lambda: m.session(dims={"nosuch": 2}), "nosuch")
    assert e.status == 10


def test_copy_false_views():
    x3 = records("mlp.batch3", "input")["x"]
    want = records("mlp.batch3", "expected")["probs"]
    m = ember.Model(model_path("mlp"))
    s = m.session(batch=3)
    v = s.run({"x": x3}, copy=False)["probs"]
    assert close(v, want) and not v.flags.writeable
    c = s.run({"x": x3}, copy=True)["probs"]
    assert c.flags.writeable and c.flags.owndata
    s.run({"x": np.zeros_like(x3)}, copy=False)
    assert not np.array_equal(v, want)   # the view shows the latest run


def test_invalid_and_missing_files():
    with tempfile.TemporaryDirectory() as d:
        bad = os.path.join(d, "bad.ember")
        with open(bad, "wb") as f:
            f.write(b"this is not an ember model" * 10)
        e = raises(ember.InvalidModel, lambda: ember.Model(bad))
        assert e.status == 3 and isinstance(e, ember.Error) and isinstance(e, ValueError)
        generic = _lib.get().ember_status_string(3).decode()
        assert e.message and e.message != generic, e.message
        assert str(e) == e.message
        with open(model_path("mlp"), "rb") as f:
            data = f.read()
        raises(ember.InvalidModel, lambda: ember.Model(data[:len(data) // 2]))
        damaged = bytearray(data)
        damaged[len(data) // 2] ^= 0x55
        e = raises(ember.InvalidModel, lambda: ember.Model(damaged))
        assert e.message != generic, e.message
        newer = bytearray(data)
        newer[8:10] = struct.pack("<H", 9)   # format major 9
        e = raises(ember.Unsupported, lambda: ember.Model(bytes(newer)), "9")
        assert e.status == 4
        missing = os.path.join(d, "no_such_model.ember")
        e = raises(ember.FileError, lambda: ember.Model(missing))
        assert e.status == 2 and isinstance(e, OSError) and e.message, e.message
        assert "no_such_model" in e.message, e.message
    # limits
    e = raises(ember.LimitExceeded, lambda: ember.Model(model_path("mlp"), max_nodes=1))
    assert e.status == 6 and e.message
    m = ember.Model(model_path("deep"), max_arena_bytes=1 << 30)
    assert m.node_count > 40
    raises(ember.LimitExceeded, lambda: ember.Model(model_path("deep"), max_arena_bytes=1000))


def test_context_managers_and_lifetime():
    x = records("mlp", "input")["x"]
    want = records("mlp", "expected")["probs"]
    with ember.Model(model_path("mlp")) as m:
        with m.session() as s:
            assert close(s.run(x)["probs"], want)
        assert s.closed
        raises(ember.InvalidArgument, lambda: s.run(x), "closed")
        s.close()   # idempotent
    assert m.closed
    raises(ember.InvalidArgument, lambda: m.run(x), "closed")
    raises(ember.InvalidArgument, lambda: m.session(), "closed")
    raises(ember.InvalidArgument, lambda: m.plan_memory(), "closed")
    assert m.inputs[0].name == "x"   # descriptors stay readable
    m.close()

    # a session keeps its model alive
    s = ember.Model(model_path("mlp")).session()
    gc.collect()
    assert close(s.run(x)["probs"], want)
    m = ember.Model(model_path("mlp"))
    s = m.session()
    handle = m._handle
    del m
    gc.collect()
    assert close(s.run(x)["probs"], want)
    assert s.model is not None
    # closing the model while a session lives: the C model is freed after the session
    m = ember.Model(model_path("mlp"))
    s = m.session()
    handle = m._handle
    m.close()
    assert handle.ptr is not None
    assert close(s.run(x)["probs"], want)
    s.close()
    assert handle.ptr is None
    # Model.run's pooled sessions go with the model
    m = ember.Model(model_path("mlp"))
    m.run(x)
    handle = m._handle
    m.close()
    assert handle.ptr is None


def test_threads():
    x3 = records("mlp.batch3", "input")["x"]
    want3 = records("mlp.batch3", "expected")["probs"]
    m = ember.Model(model_path("mlp"))
    cnn = ember.Model(model_path("cnn"))
    cin = records("cnn", "input")
    cwant = records("cnn", "expected")["logits"]
    errors = []

    def worker(k):
        try:
            with m.session(batch=3) as s:
                for i in range(50):
                    rows = np.roll(x3, i + k, axis=0)
                    out = s.run({"x": rows})["probs"]
                    assert close(out, np.roll(want3, i + k, axis=0)), (k, i)
                    out = m.run(rows[i % 3:i % 3 + 1])["probs"]    # shared model, pooled
                    assert close(out[0], want3[(i % 3 - i - k) % 3]), (k, i)
                    assert close(cnn.run(cin)["logits"], cwant)
        except Exception:
            errors.append(traceback.format_exc())

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors[0]

    # a session used from two threads at once is refused clearly
    s = m.session(batch=3)
    s._guard.acquire()   # as if another thread were inside run()
    try:
        raises(ember.SessionBusy, lambda: s.run({"x": x3}), "thread")
    finally:
        s._guard.release()
    assert close(s.run({"x": x3})["probs"], want3)


def test_forced_isa():
    m = ember.Model(model_path("cnn"))
    want = m.session().run(records("cnn", "input"))
    ran = 0
    for isa in ("generic", "avx2", "avx512", "neon"):
        try:
            s = m.session(profile=True, isa=isa)
        except ember.Unsupported as e:
            assert isa in str(e), e
            continue
        got = s.run(records("cnn", "input"))
        for k in want:
            np.testing.assert_allclose(got[k], want[k], rtol=1e-4, atol=1e-5)
        kernels = [p["kernel"] for p in s.profile()]
        assert any(k.startswith(isa + " ") for k in kernels), (isa, kernels)
        ran += 1
    assert ran >= 1
    raises(ember.InvalidArgument, lambda: m.session(isa="sse9"), "isa must be one of")


def test_pack():
    inputs = records("cnn", "input")
    want = ember.Model(model_path("cnn")).session().run(inputs)
    with tempfile.TemporaryDirectory() as d:
        dst = pathlib.Path(d) / "cnn.packed.ember"
        ember.pack(model_path("cnn"), dst)
        assert dst.stat().st_size > os.path.getsize(model_path("cnn"))
        with ember.Model(dst) as m:
            got = m.session().run(inputs)
        for k in want:
            assert got[k].tobytes() == want[k].tobytes(), k
        ember.pack(model_path("cnn"), str(dst), isa="generic")
        with ember.Model(dst) as m:
            got = m.session(threads=2).run(inputs)
        for k in want:
            assert got[k].tobytes() == want[k].tobytes(), k
        raises(ember.InvalidArgument, lambda: ember.pack(model_path("cnn"), dst, isa="sse9"),
               "isa must be one of")
        raises(ember.InvalidArgument, lambda: ember.pack(123, dst), "src must be a path")
        raises(ember.InvalidArgument, lambda: ember.pack(model_path("cnn"), None), "dst must be a path")
        raises(ember.FileError, lambda: ember.pack(os.path.join(d, "missing.ember"), dst),
               "missing.ember")
        raises(ember.InvalidModel, lambda: ember.pack(__file__, os.path.join(d, "x.ember")))
        assert not os.path.exists(os.path.join(d, "x.ember"))
        assert sorted(os.listdir(d)) == ["cnn.packed.ember"], os.listdir(d)


def test_profile_and_plan():
    m = ember.Model(model_path("cnn"))
    s = m.session(profile=True)
    s.run(records("cnn", "input"))
    prof = s.profile()
    assert len(prof) == m.node_count, prof
    assert [(p["name"], p["op_type"]) for p in prof] == m.nodes
    for p in prof:
        assert set(p) == {"name", "op_type", "kernel", "time_ns"}
        assert isinstance(p["time_ns"], int) and p["kernel"]
    assert sum(p["time_ns"] for p in prof) > 0
    e = raises(ember.InvalidArgument, lambda: m.session().profile(), "profil")
    assert e.status == 1
    d = ember.Model(model_path("deep"))
    plan = d.plan_memory()
    assert set(plan) == {"arena_bytes", "naive_bytes", "weight_bytes", "packed_weight_bytes"}
    assert 0 < plan["arena_bytes"] < plan["naive_bytes"], plan
    assert plan["naive_bytes"] >= 80 * 32 * 1024, plan
    assert plan["weight_bytes"] > 0
    mlp = ember.Model(model_path("mlp"))
    assert mlp.plan_memory(batch=64)["arena_bytes"] > mlp.plan_memory()["arena_bytes"]
    assert mlp.plan_memory(dims={"batch": 64}) == mlp.plan_memory(batch=64)


def test_digits_accuracy():
    data = read_records(os.path.join(ROOT, "models", "digits_test.bin"))
    images, labels = data["images"], data["labels"]
    with ember.Model(os.path.join(ROOT, "models", "digits.ember")) as m:
        assert m.labels == [str(i) for i in range(10)], m.labels
        name = m.inputs[0].name
        probs = m.run({name: images})[m.outputs[0].name]
        assert probs.shape == (len(labels), 10)
        acc = float((probs.argmax(1) == labels).mean())
        # one image at a time through a session gives the same predictions
        with m.session() as s:
            single = np.concatenate([s.run(images[i:i + 1])[m.outputs[0].name]
                                     for i in range(len(labels))])
        assert np.allclose(single, probs, atol=1e-6)
    print("    digits: %d images, accuracy %.4f" % (len(labels), acc))
    assert acc >= 0.95, acc


def _subprocess(code, env_extra=None):
    env = dict(os.environ)
    env.update(env_extra or {})
    env["PYTHONPATH"] = PYDIR
    r = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                       timeout=120)
    return r.returncode, r.stdout + r.stderr


def test_without_numpy_and_onnx():
    x = records("mlp", "input")["x"]
    want = records("mlp", "expected")["probs"]
    code = r"""
import sys, array
sys.modules["numpy"] = None      # import numpy fails
sys.modules["onnx"] = None
import ember
m = ember.Model(%r)
x = array.array("f", %r)
out = m.run({"x": x})["probs"]
assert out.shape == (1, 10) and out.format == "f", (out.shape, out.format)
s = m.session()
out2 = s.run({"x": memoryview(x).cast("B").cast("f", [1, 16])}, copy=False)["probs"]
assert out2.tolist() == out.tolist()
try:
    s.run({"x": array.array("d", list(x))})
    raise SystemExit("float64 buffer accepted")
except ember.DtypeMismatch as e:
    pass
try:
    s.run({"x": array.array("f", list(x)[:15])})
    raise SystemExit("short buffer accepted")
except ember.ShapeMismatch:
    pass
print(" ".join(repr(v) for v in out.tolist()[0]))
""" % (model_path("mlp"), x.ravel().tolist())
    rc, out = _subprocess(code)
    assert rc == 0, out
    got = np.array([float(v) for v in out.split()], np.float32).reshape(1, 10)
    assert close(got, want), (got, want)
    # importing ember loads neither numpy-dependent modules nor onnx
    rc, out = _subprocess("import sys, ember; print('onnx' in sys.modules, "
                          "'ember.convert' in sys.modules)")
    assert rc == 0 and out.split() == ["False", "False"], out


def test_library_not_found():
    rc, out = _subprocess(r"""
import ember
try:
    ember.Model("whatever.ember")
except ember.LibraryNotFound as e:
    assert isinstance(e, ImportError) and isinstance(e, ember.Error)
    print(e)
else:
    raise SystemExit("no error")
""", {"EMBER_LIBRARY": "/nonexistent/libember.so"})
    assert rc == 0, out
    assert "/nonexistent/libember.so" in out, out
    # without EMBER_LIBRARY, the search list names the package dir and the system names
    rc, out = _subprocess("from ember import _lib; print('\\n'.join(_lib.candidates()))",
                          {"EMBER_LIBRARY": ""})
    assert rc == 0 and "libember.so.0" in out, out
    assert os.path.join(PYDIR, "ember") in out, out


TESTS = [v for k, v in list(globals().items()) if k.startswith("test_") and callable(v)]


def main():
    failed = 0
    print("libember:", ember.library_path(), ember.version())
    for t in TESTS:
        try:
            t()
            print("ok   ", t.__name__)
        except Exception:
            failed += 1
            print("FAIL ", t.__name__)
            traceback.print_exc()
    print("%d/%d passed" % (len(TESTS) - failed, len(TESTS)))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
