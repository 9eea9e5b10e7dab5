"""Classifies held-out 8x8 handwritten digits with the bundled models/digits.ember
from Python (numpy and the ember binding): prints a few predictions beside the
true labels, the accuracy over the whole held-out set, the latency per image,
and the time of one batched run over every image.

    python3 examples/classify_digits.py [models/digits.ember [models/digits_test.bin]]

ember is found on PYTHONPATH (or installed: pip install ./bindings/python, or
meson install); libember.so.0 through the dynamic loader, or EMBER_LIBRARY.
"""
import struct
import sys
import time

import numpy as np

import ember

# ember_dtype numbers in the .bin records (tests/models/README.md)
DTYPES = {1: np.float32, 2: np.float16, 3: np.int8, 4: np.uint8, 5: np.int32, 6: np.int64,
          7: np.bool_}


def read_records(path):
    """{name: array} from a file of [u32 name_len][name][u32 dtype][u32 rank][i64 dims][data]."""
    out = {}
    with open(path, "rb") as f:
        data = f.read()
    pos = 0
    while pos < len(data):
        (n,) = struct.unpack_from("<I", data, pos)
        name = data[pos + 4:pos + 4 + n].decode("utf-8")
        pos += 4 + n
        dtype, rank = struct.unpack_from("<II", data, pos)
        pos += 8
        dims = struct.unpack_from("<%dq" % rank, data, pos)
        pos += 8 * rank
        dt = np.dtype(DTYPES[dtype]).newbyteorder("<")
        count = int(np.prod(dims, dtype=np.int64))
        out[name] = np.frombuffer(data, dt, count, pos).reshape(dims)
        pos += count * dt.itemsize
    return out


def main(argv):
    model_path = argv[1] if len(argv) > 1 else "models/digits.ember"
    data_path = argv[2] if len(argv) > 2 else "models/digits_test.bin"
    recs = read_records(data_path)
    images = np.ascontiguousarray(recs["images"], dtype=np.float32)   # [N, 1, 8, 8]
    labels = recs["labels"].astype(np.int64)                          # [N]
    count = len(labels)

    t0 = time.perf_counter()
    model = ember.Model(model_path)
    session = model.session()          # batch 1: every buffer allocated here, once
    load_ms = (time.perf_counter() - t0) * 1e3
    print("ember %s: model '%s', %d nodes, %d parameters, loaded in %.2f ms"
          % (ember.version(), model.metadata.get("name", "?"), model.node_count,
             model.parameter_count, load_ms))
    input_name = model.inputs[0].name
    output_name = model.outputs[0].name
    names = model.labels

    times, correct = [], 0
    for i in range(count):
        s = time.perf_counter()
        # copy=False: a view of the session's output buffer, valid until its next run
        probs = session.run({input_name: images[i:i + 1]}, copy=False)[output_name][0]
        times.append(time.perf_counter() - s)
        best = int(np.argmax(probs))
        correct += best == labels[i]
        if i < 8:
            print("  image %2d: predicted %s (p=%.3f), true %d %s"
                  % (i, names[best] if best < len(names) else best, probs[best], labels[i],
                     "" if best == labels[i] else " <- wrong"))
    times.sort()
    print("accuracy on %d held-out digits: %.2f%%" % (count, 100.0 * correct / count))
    print("latency per image (session.run, numpy in and out): median %.2f us, p90 %.2f us"
          % (times[count // 2] * 1e6, times[count * 9 // 10] * 1e6))

    # The whole set in one run: the symbolic batch dimension is taken from the shape.
    s = time.perf_counter()
    probs = model.run({input_name: images})[output_name]
    batch_ms = (time.perf_counter() - s) * 1e3
    batch_acc = float(np.mean(np.argmax(probs, axis=1) == labels))
    print("one batched run of %d images: %.2f ms, accuracy %.2f%%"
          % (count, batch_ms, 100.0 * batch_acc))
    session.close()
    model.close()
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv))
    except ember.Error as e:
        sys.stderr.write("error: %s\n" % e)
        sys.exit(1)
