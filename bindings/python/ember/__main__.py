"""Command line: ``python3 -m ember <command> ...``.

    python3 -m ember convert model.onnx model.ember [--name N] [--labels FILE] [--pack] ...
    python3 -m ember inspect model.ember [--nodes] [--json]
    python3 -m ember run model.ember --input NAME=FILE.npy [...] [--output-dir DIR]
    python3 -m ember version

``convert`` is ember.convert's command line (the same as ``ember-convert``);
it needs onnx and numpy. ``inspect`` needs only libember; ``run`` needs numpy.
Exit status: 0 on success, 1 when ember (or a file) fails, 2 on a usage error.
"""
import argparse
import collections
import json
import os
import sys

USAGE = """usage: python3 -m ember <command> [arguments]

commands:
  convert ONNX OUT.ember [options]   convert an ONNX model (needs onnx, numpy)
  inspect MODEL [--nodes] [--json]   inputs, outputs, metadata, labels, nodes, memory
  run MODEL --input NAME=FILE.npy    run once, write each output to OUTPUT_DIR/NAME.npy
  version                            libember version, path and .ember format version

'python3 -m ember COMMAND --help' describes each command.
"""


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        self.print_usage(sys.stderr)
        sys.stderr.write("%s: error: %s\n" % (self.prog, message))
        sys.exit(2)


def _fail(message):
    sys.stderr.write("error: %s\n" % message)
    return 1


def _shape(shape):
    if shape is None:
        return "[?]"
    return "[" + ", ".join(str(d) for d in shape) + "]"


# --------------------------------------------------------------------- inspect

def _describe(model, path, all_nodes):
    ops = collections.Counter(op for _, op in model.nodes)
    try:
        plan = model.plan_memory()
    except Exception as e:   # e.g. a symbolic dimension that only a caller can give
        plan = {"error": str(e)}
    return {
        "path": path,
        "size_bytes": os.path.getsize(path),
        "inputs": [{"name": t.name, "dtype": t.dtype, "shape": list(t.shape)}
                   for t in model.inputs],
        "outputs": [{"name": t.name, "dtype": t.dtype,
                     "shape": None if t.shape is None else list(t.shape)}
                    for t in model.outputs],
        "metadata": {k: v for k, v in model.metadata.items() if k != "labels"},
        "labels": model.labels,
        "node_count": model.node_count,
        "parameter_count": model.parameter_count,
        "op_types": dict(sorted(ops.items(), key=lambda kv: (-kv[1], kv[0]))),
        "nodes": [{"name": n, "op_type": op} for n, op in model.nodes] if all_nodes else None,
        "memory_plan_batch1": plan,
    }


def _print_description(d):
    print("%s: %d bytes, %d nodes, %d parameters"
          % (d["path"], d["size_bytes"], d["node_count"], d["parameter_count"]))
    print("inputs:")
    for t in d["inputs"]:
        print("  %s %s%s" % (t["name"], t["dtype"], _shape(t["shape"])))
    print("outputs:")
    for t in d["outputs"]:
        print("  %s %s%s" % (t["name"], t["dtype"], _shape(t["shape"])))
    if d["metadata"]:
        print("metadata:")
        for k, v in d["metadata"].items():
            v = v if len(v) <= 70 else v[:67] + "..."
            print("  %s: %s" % (k, v.replace("\n", "\\n")))
    if d["labels"]:
        shown = ", ".join(d["labels"][:12]) + (", ..." if len(d["labels"]) > 12 else "")
        print("labels (%d): %s" % (len(d["labels"]), shown))
    print("operators: " + ", ".join("%s x%d" % kv for kv in d["op_types"].items()))
    if d["nodes"] is not None:
        print("nodes:")
        for i, n in enumerate(d["nodes"]):
            print("  %4d  %-20s %s" % (i, n["op_type"], n["name"]))
    plan = d["memory_plan_batch1"]
    if "error" in plan:
        print("memory (batch 1): %s" % plan["error"])
    else:
        print("memory (batch 1): arena %d bytes (unshared %d), weights %d bytes in place, "
              "%d bytes repacked" % (plan["arena_bytes"], plan["naive_bytes"],
                                     plan["weight_bytes"], plan["packed_weight_bytes"]))


def cmd_inspect(argv):
    p = _Parser(prog="python3 -m ember inspect",
                description="Describe a .ember model: inputs, outputs, metadata, labels, "
                            "operators and the memory a batch-1 session needs.")
    p.add_argument("model", help="the .ember file")
    p.add_argument("--nodes", action="store_true", help="list every node in execution order")
    p.add_argument("--json", action="store_true", help="print the description as JSON")
    a = p.parse_args(argv)
    import ember
    try:
        with ember.Model(a.model) as model:
            d = _describe(model, a.model, a.nodes or a.json)
    except ember.Error as e:
        return _fail("%s: %s" % (a.model, e))
    if a.json:
        print(json.dumps(d, indent=2))
    else:
        _print_description(d)
    return 0


# ------------------------------------------------------------------------- run

def cmd_run(argv):
    p = _Parser(prog="python3 -m ember run",
                description="Run a .ember model once on inputs read from .npy files and "
                            "write every output to OUTPUT_DIR/<output name>.npy.")
    p.add_argument("model", help="the .ember file")
    p.add_argument("--input", "-i", metavar="NAME=FILE.npy", action="append", default=[],
                   help="an input (repeat for each); NAME= may be left out for a "
                        "one-input model")
    p.add_argument("--output-dir", "-o", metavar="DIR", default=".",
                   help="where to write the outputs (created if missing; default: .)")
    p.add_argument("--threads", type=int, default=1, help="worker threads (default 1)")
    p.add_argument("-q", "--quiet", action="store_true", help="print nothing on success")
    a = p.parse_args(argv)
    try:
        import numpy as np
    except ImportError:
        return _fail("'run' needs numpy (pip install numpy)")
    import ember
    try:
        model = ember.Model(a.model)
    except ember.Error as e:
        return _fail("%s: %s" % (a.model, e))
    with model:
        names = [t.name for t in model.inputs]
        inputs = {}
        for spec in a.input:
            if "=" in spec:
                name, fn = spec.split("=", 1)
            elif len(names) == 1:
                name, fn = names[0], spec
            else:
                p.error("--input expects NAME=FILE.npy (the model has inputs %s), got %r"
                        % (", ".join(names), spec))
            if name in inputs:
                p.error("input %r given twice" % name)
            try:
                inputs[name] = np.load(fn, allow_pickle=False)
            except (OSError, ValueError) as e:
                return _fail("cannot read %s: %s" % (fn, e))
        try:
            outputs = model.run(inputs, threads=a.threads)
        except ember.Error as e:
            return _fail(str(e))
    try:
        os.makedirs(a.output_dir, exist_ok=True)
        for name, arr in outputs.items():
            safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in name) or "output"
            path = os.path.join(a.output_dir, safe + ".npy")
            np.save(path, arr)
            if not a.quiet:
                print("%s: %s%s -> %s" % (name, arr.dtype, _shape(arr.shape), path))
    except OSError as e:
        return _fail("cannot write the outputs: %s" % e)
    return 0


# ---------------------------------------------------------------------- others

def cmd_convert(argv):
    try:
        from ember import convert
    except ImportError as e:
        return _fail("'convert' needs numpy and onnx (pip install 'ember[convert]'): %s" % e)
    return convert.main(argv)


def cmd_version(argv):
    if argv:
        sys.stderr.write("usage: python3 -m ember version\n")
        return 2
    import ember
    from ember import _lib
    try:
        print("ember library %s (%s), format version %d"
              % (ember.version(), ember.library_path(), _lib.get().ember_format_version()))
    except ember.Error as e:
        return _fail(str(e))
    return 0


COMMANDS = {"convert": cmd_convert, "inspect": cmd_inspect, "run": cmd_run,
            "version": cmd_version}


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    if not argv or argv[0] in ("-h", "--help", "help"):
        sys.stdout.write(USAGE)
        return 0 if argv else 2
    cmd = COMMANDS.get(argv[0])
    if cmd is None:
        sys.stderr.write(USAGE)
        sys.stderr.write("error: unknown command %r\n" % argv[0])
        return 2
    try:
        return cmd(argv[1:])
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
