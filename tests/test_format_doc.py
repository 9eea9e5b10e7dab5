#!/usr/bin/python3
"""Checks that docs/FORMAT.md, src/runtime/format.h, include/ember.h and
bindings/python/ember/format.py agree on every number of the file format.

The document's machine-readable parts:
  * table rows `| NAME | value | ...` whose NAME is EMF_* or EMBER_DTYPE_*,
  * table rows `| sizeof(emf_x) | bytes |`,
  * the section-kind table's "record" column,
  * the dtype table's "element bytes" column,
  * the magic bytes line `= 89 45 ...`,
  * the C struct blocks (```c typedef struct emf_x { ... } emf_x;```),
  * the "Field offsets: name 0, ..." lines after each struct.

Run: /usr/bin/python3 tests/test_format_doc.py   (exit status 0 = pass)
"""
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "bindings", "python"))

failures = []


def check(cond, msg):
    if not cond:
        failures.append(msg)
        print("FAIL:", msg)


def read(rel):
    with open(os.path.join(ROOT, rel), encoding="utf-8") as f:
        return f.read()


def strip_c_comments(s):
    s = re.sub(r"/\*.*?\*/", " ", s, flags=re.S)
    return re.sub(r"//[^\n]*", " ", s)


def parse_int(s):
    s = s.strip().rstrip("uUlL")
    return int(s, 0)


def code_constants(text):
    """#define NAME <int> and enum NAME = <int> of a C header."""
    out = {}
    body = strip_c_comments(text)
    for m in re.finditer(r"#define\s+(\w+)\s+(0[xX][0-9a-fA-F]+[uUlL]*|-?\d+[uUlL]*)\s*$", body,
                         flags=re.M):
        out[m.group(1)] = parse_int(m.group(2))
    for m in re.finditer(r"\b([A-Z][A-Z0-9_]+)\s*=\s*(0[xX][0-9a-fA-F]+|-?\d+)\s*[,}\n]", body):
        out[m.group(1)] = parse_int(m.group(2))
    return out


def code_sizes(text):
    return {m.group(1): int(m.group(2)) for m in
            re.finditer(r"sizeof\((\w+)\)\s*==\s*(\d+)", text)}


def structs(text):
    """{name: [(type, field, array_len_expr or None)]} of typedef struct blocks."""
    out = {}
    for m in re.finditer(r"typedef struct (\w+)\s*\{(.*?)\}\s*(\w+)\s*;", text, flags=re.S):
        fields = []
        for decl in strip_c_comments(m.group(2)).split(";"):
            decl = " ".join(decl.split())
            if not decl:
                continue
            dm = re.fullmatch(r"(.+?)\s+(\w+)(?:\s*\[\s*(\w+)\s*\])?", decl)
            if not dm:
                failures.append("cannot parse field %r of %s" % (decl, m.group(1)))
                continue
            fields.append((dm.group(1), dm.group(2), dm.group(3)))
        out[m.group(1)] = fields
    return out


TYPE_SIZES = {"char": 1, "uint8_t": 1, "int8_t": 1, "uint16_t": 2, "int16_t": 2, "uint32_t": 4,
              "int32_t": 4, "float": 4, "uint64_t": 8, "int64_t": 8}


def field_offsets(fields, consts):
    offs, pos = {}, 0
    for typ, name, arr in fields:
        size = TYPE_SIZES[typ]
        pos = (pos + size - 1) // size * size
        offs[name] = pos
        n = 1 if arr is None else (int(arr) if arr.isdigit() else consts[arr])
        pos += size * n
    return offs, pos


def doc_tables(doc):
    """Rows of markdown tables as lists of stripped cells (backticks removed)."""
    rows = []
    for line in doc.splitlines():
        line = line.strip()
        if line.startswith("|") and line.endswith("|") and not re.fullmatch(r"[|\-\s:]+", line):
            rows.append([c.strip().strip("`").strip() for c in line[1:-1].split("|")])
    return rows


def main():
    doc = read("docs/FORMAT.md")
    fmt_h = read("src/runtime/format.h")
    ember_h = read("include/ember.h")

    code = code_constants(fmt_h)
    code.update({k: v for k, v in code_constants(ember_h).items() if k.startswith("EMBER_DTYPE_")})
    sizes = code_sizes(fmt_h)

    rows = doc_tables(doc)
    doc_consts = {}
    doc_sizes = {}
    doc_records = {}
    doc_elem = {}
    for r in rows:
        if len(r) < 2:
            continue
        m = re.fullmatch(r"sizeof\((\w+)\)", r[0])
        if m:
            doc_sizes[m.group(1)] = int(r[1])
            continue
        if re.fullmatch(r"(EMF|EMBER_DTYPE)_\w+", r[0]):
            check(r[0] not in doc_consts or doc_consts[r[0]] == parse_int(r[1]),
                  "doc gives %s twice with different values" % r[0])
            doc_consts[r[0]] = parse_int(r[1])
            if r[0].startswith("EMF_SECTION_") and r[0] != "EMF_SECTION_KIND_MAX":
                doc_records[parse_int(r[1])] = int(r[2])
            if r[0].startswith("EMBER_DTYPE_") and r[2] != "-":
                doc_elem[parse_int(r[1])] = int(r[2])

    # every number in the doc is in the code, with the same value
    for name, value in sorted(doc_consts.items()):
        check(name in code, "docs/FORMAT.md names %s, which the headers do not define" % name)
        check(name not in code or code[name] == value,
              "%s: docs/FORMAT.md says %d, the header %s" % (name, value, code.get(name)))
    # every number of the code is in the doc
    for name in sorted(code):
        if name.startswith(("EMF_", "EMBER_DTYPE_")) and name != "EMF_FORMAT_H":
            check(name in doc_consts, "%s = %d is not documented in docs/FORMAT.md" % (name, code[name]))
    check(len(doc_consts) >= 40, "found only %d documented constants" % len(doc_consts))

    # record sizes
    for name, value in sorted(sizes.items()):
        check(doc_sizes.get(name) == value, "sizeof(%s): doc %s, header %d"
              % (name, doc_sizes.get(name), value))
    check(set(doc_sizes) == set(sizes), "sizeof tables differ: %s vs %s"
          % (sorted(doc_sizes), sorted(sizes)))

    # magic
    m = re.search(r"=\s+((?:[0-9A-F]{2} ){7}[0-9A-F]{2})", doc)
    hm = re.search(r'#define EMF_MAGIC ((?:"[^"]*"\s*)+)', fmt_h)
    check(m is not None and hm is not None, "magic not found")
    if m and hm:
        lit = "".join(re.findall(r'"([^"]*)"', hm.group(1)))
        magic = lit.encode("latin-1").decode("unicode_escape").encode("latin-1")
        check(bytes.fromhex(m.group(1)) == magic, "magic: doc %s, header %r" % (m.group(1), magic))
        check(len(magic) == code["EMF_MAGIC_SIZE"], "EMF_MAGIC_SIZE")

    # structs: same fields, same types, same order
    doc_structs = structs("\n".join(re.findall(r"```c\n(.*?)```", doc, flags=re.S)))
    code_structs = structs(fmt_h)
    check(set(doc_structs) == set(code_structs), "struct sets differ: doc %s, header %s"
          % (sorted(doc_structs), sorted(code_structs)))
    for name, fields in code_structs.items():
        dfields = doc_structs.get(name)
        check(dfields == fields, "struct %s differs:\n  doc    %s\n  header %s"
              % (name, dfields, fields))
        offs, total = field_offsets(fields, code)
        check(total == sizes.get(name), "computed sizeof(%s) = %d" % (name, total))
        # "Field offsets:" line after the struct block in the doc
        pat = r"\}\s*%s;[^\n]*\n```\s*\n\s*Field offsets:(.*?)\n\s*\n" % re.escape(name)
        fm = re.search(pat, doc, flags=re.S)
        if fm is None:
            continue
        for part in " ".join(fm.group(1).split()).rstrip(".").split(","):
            pm = re.fullmatch(r"\s*(\w+) (\d+)(?:\.\.(\d+))?\s*", part)
            check(pm is not None, "cannot parse field offset %r of %s" % (part, name))
            if pm:
                check(offs.get(pm.group(1)) == int(pm.group(2)), "%s.%s: doc offset %s, computed %s"
                      % (name, pm.group(1), pm.group(2), offs.get(pm.group(1))))
    for must in ("emf_header", "emf_section", "emf_tensor", "emf_node", "emf_attr", "emf_quant",
                 "emf_graph", "emf_meta"):
        check(must in doc_structs and re.search(r"\}\s*%s;[^\n]*\n```\s*\n\s*Field offsets:" % must, doc),
              "doc lacks struct %s or its field offsets" % must)

    # the Python writer/reader agrees too
    from ember import format as ef
    check(ef.MAGIC == bytes.fromhex(m.group(1)) if m else False, "python MAGIC")
    check(ef.VERSION_MAJOR == code["EMF_VERSION_MAJOR"], "python VERSION_MAJOR")
    check(ef.VERSION_MINOR == code["EMF_VERSION_MINOR"], "python VERSION_MINOR")
    check(ef.ALIGN == code["EMF_ALIGN"] and ef.MAX_RANK == code["EMF_MAX_RANK"]
          and ef.NONE == code["EMF_NONE"] and ef.TENSOR_CONSTANT == code["EMF_TENSOR_CONSTANT"],
          "python ALIGN/MAX_RANK/NONE/TENSOR_CONSTANT")
    check(ef.HEADER_SIZE == sizes["emf_header"], "python HEADER_SIZE")
    for num, name in ef.SECTION_NAMES.items():
        check(code.get("EMF_SECTION_" + name) == num, "python section %s = %d" % (name, num))
        check(doc_records.get(num) == ef.RECORD_SIZES[num], "record size of section %s: doc %s, "
              "python %s" % (name, doc_records.get(num), ef.RECORD_SIZES[num]))
    check(ef.SECTION_KIND_MAX == code["EMF_SECTION_KIND_MAX"], "python SECTION_KIND_MAX")
    for sec, struct_name in ((ef.TENSORS, "emf_tensor"), (ef.NODES, "emf_node"),
                             (ef.ATTRIBUTES, "emf_attr"), (ef.QUANT, "emf_quant"),
                             (ef.GRAPH, "emf_graph"), (ef.METADATA, "emf_meta")):
        check(ef.RECORD_SIZES[sec] == sizes[struct_name], "python record size of %s" % struct_name)
    for name, num in ef.DTYPES.items():
        cname = "EMBER_DTYPE_" + name.upper()
        check(code.get(cname) == num, "python dtype %s = %d, header %s" % (name, num, code.get(cname)))
        check(doc_elem.get(num) == ef.DTYPE_SIZES[num], "element bytes of %s" % name)
    check(len(ef.DTYPES) == len([k for k in code if k.startswith("EMBER_DTYPE_")]) - 1,
          "python knows every dtype")
    for name, num in ef.ACTIVATIONS.items():
        check(code.get("EMF_ACT_" + name.upper()) == num, "python activation %s" % name)
    check(ef.ACTIVATION_MAX == code["EMF_ACT_MAX"], "python ACTIVATION_MAX")
    for num, name in ef.ATTR_TYPE_NAMES.items():
        check(code.get("EMF_ATTR_" + name) == num, "python attribute type %s" % name)

    if failures:
        print("%d failure(s)" % len(failures))
        return 1
    print("test_format_doc: %d constants, %d structs agree" % (len(doc_consts), len(code_structs)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
