"""Load memory: once a session has packed a model's weights, the file pages of
those weights are given back (src/runtime/plan.c, em_model_drop_pages), so a
model loaded from a path does not hold its weights twice; a model loaded from
memory is left alone; results are the same either way, in every session, and
from a file pre-packed by ember.pack, whose load reads no weight.

Run: EMBER_LIBRARY=build/libember.so /usr/bin/python3 tests/test_load_memory.py
(exit status 0 = pass). Linux only (reads /proc/self/smaps)."""
import os
import sys
import tempfile

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "bindings", "python"))

import ember  # noqa: E402
from ember.format import ModelBuilder  # noqa: E402


def make_model(path):
    """Conv 32->64 3x3 (72 KiB of weights), conv 64->128 3x3 (288 KiB), a
    depthwise conv (not packed), Gemm 128 -> 512 (256 KiB): over 600 KiB of
    weights, most of them packed."""
    rng = np.random.default_rng(7)

    def w(*shape):
        return (rng.standard_normal(shape) / np.sqrt(np.prod(shape[1:]))).astype(np.float32)

    b = ModelBuilder()
    b.input("x", "f32", [1, 32, 8, 8])
    b.constant("w1", w(64, 32, 3, 3))
    b.constant("b1", w(64))
    b.constant("w2", w(128, 64, 3, 3))
    b.constant("dw", w(128, 1, 3, 3))
    b.constant("fc", w(512, 128))
    conv = {"kernel_shape": [3, 3], "pads": [1, 1, 1, 1], "strides": [1, 1]}
    b.node("Conv", ["x", "w1", "b1"], ["c1"], name="conv1", attrs=conv, activation="relu")
    b.node("Conv", ["c1", "w2"], ["c2"], name="conv2", attrs=conv)
    b.node("Conv", ["c2", "dw"], ["c3"], name="dw", attrs=dict(conv, group=128))
    b.node("GlobalAveragePool", ["c3"], ["g"], name="gap")
    b.node("Flatten", ["g"], ["f"], name="flatten", attrs={"axis": 1})
    b.node("Gemm", ["f", "fc"], ["y"], name="fc", attrs={"transB": 1})
    b.output("y")
    b.metadata(name="load_memory", version="1.0", producer="tests/test_load_memory.py")
    b.save(path)


def mapped_rss_kb(path):
    """Resident kB of this process's mappings of path (0 if none)."""
    real = os.path.realpath(path)
    total, current = 0, False
    with open("/proc/self/smaps") as f:
        for line in f:
            fields = line.split()
            if len(fields) >= 5 and "-" in fields[0] and ":" in fields[3]:
                current = len(fields) >= 6 and fields[5] == real
            elif current and fields[0] == "Rss:":
                total += int(fields[1])
    return total


def main():
    if not os.path.exists("/proc/self/smaps"):
        print("SKIPPED: no /proc/self/smaps")
        return 0
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "m.ember")
        make_model(path)
        size_kb = os.path.getsize(path) // 1024
        x = np.random.default_rng(1).standard_normal((1, 32, 8, 8)).astype(np.float32)

        from_memory = ember.Model(open(path, "rb").read())
        want = from_memory.session().run({"x": x})["y"]

        model = ember.Model(path)
        after_load = mapped_rss_kb(path)
        s1 = model.session()
        after_pack = mapped_rss_kb(path)
        got1 = s1.run({"x": x})["y"]
        after_run = mapped_rss_kb(path)
        s2 = model.session()  # the packed block is shared; pages stay dropped
        got2 = s2.run({"x": x})["y"]
        print("file %d KiB; resident: after load %d KiB, after the first session %d KiB, "
              "after a run %d KiB" % (size_kb, after_load, after_pack, after_run))
        assert np.array_equal(got1, want), "results differ from the model loaded from memory"
        assert np.array_equal(got2, want), "a second session's results differ"
        # the load checks the whole file, copies the constants runs read, then
        # gives back every weight page (reading one maps a whole page-cache
        # folio around it); conv1, conv2 and fc (616 KiB of the file) are packed
        # and dropped; the depthwise weights, the bias, the records and page
        # edges may stay
        assert after_load < size_kb // 4, "weight pages still resident after load: %d of %d KiB" \
            % (after_load, size_kb)
        assert after_pack < size_kb // 4, "packed weights still resident: %d of %d KiB" % (after_pack, size_kb)
        assert after_run < size_kb // 4, "a run read the packed weights again: %d KiB" % after_run
        for s in (s1, s2):
            s.close()
        model.close()

        # pre-packed (ember.pack): the load reads neither the packed blobs nor
        # the weights they replace; the runs use the blobs in place and give
        # the same bits
        packed = os.path.join(d, "m.packed.ember")
        ember.pack(path, packed)
        pmodel = ember.Model(packed)
        p_after_load = mapped_rss_kb(packed)
        ps = pmodel.session()
        got3 = ps.run({"x": x})["y"]
        ps2 = pmodel.session(threads=2)
        got4 = ps2.run({"x": x})["y"]
        print("packed file %d KiB; resident after load %d KiB"
              % (os.path.getsize(packed) // 1024, p_after_load))
        assert np.array_equal(got3, want), "the pre-packed model's results differ"
        assert np.array_equal(got4, want), "the pre-packed model's results differ at 2 threads"
        # the load maps the records (and, through whole page-cache folios,
        # neighbouring packed blobs a run uses anyway), never most of the
        # WEIGHTS copy (about size_kb) that the blobs replace
        packed_kb = os.path.getsize(packed) // 1024
        assert p_after_load < packed_kb - size_kb * 4 // 5, \
            "the load of a packed file read its weights: %d of %d KiB" % (p_after_load, packed_kb)
        for s in (ps, ps2):
            s.close()
        pmodel.close()
        from_memory.close()
    print("PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
