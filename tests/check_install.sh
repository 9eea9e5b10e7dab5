#!/bin/sh
# Installs into a temporary staging directory (meson install --destdir), then
# uses what was installed exactly as a user would:
#  - builds the C and C++ examples with pkg-config and runs them;
#  - runs the Python example against the installed Python package (purelib)
#    and the installed libember.so.0, and the package's command line;
#  - runs the Lua example with the installed Lua 5.4 module;
#  - installs the Python package with pip (offline, no build isolation) and
#    runs the example and the command line from that install.
# Every example must classify the bundled held-out digits with accuracy >= 95%.
# Usage: check_install.sh BUILD_DIR SOURCE_DIR
set -eu
build=$1
src=$(cd "$2" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
model="$src/models/digits.ember"
data="$src/models/digits_test.bin"
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3

fail() { echo "FAIL: $*" >&2; exit 1; }

# accuracy_ok NAME FILE: FILE has "accuracy on N held-out digits: P%" with P >= 95.
accuracy_ok() {
  acc=$(sed -n 's/^accuracy on [0-9]* held-out digits: \([0-9.]*\)%$/\1/p' "$2" | head -n 1)
  [ -n "$acc" ] || fail "$1: no accuracy line in its output"
  awk -v a="$acc" 'BEGIN { exit !(a >= 95.0) }' || fail "$1: accuracy $acc% is below 95%"
  echo "ok: $1: accuracy $acc%"
}

meson install -C "$build" --destdir "$tmp/stage" --quiet >/dev/null
stage="$tmp/stage"
pc=$(find "$stage" -name ember.pc | head -n 1)
[ -n "$pc" ] || fail "ember.pc was not installed"
pcdir=$(dirname "$pc")
for f in include/ember.h; do
  find "$stage" -path "*$f" | grep -q . || fail "$f was not installed"
done
find "$stage" -name 'libember.so.*' | grep -q . || fail "libember.so was not installed"
find "$stage" -name 'libember.a' | grep -q . || fail "libember.a was not installed"

# ------------------------------------------------------------------ C and C++
# The staged tree stands for the prefix: pkg-config prefixes its paths with the sysroot.
flags=$(PKG_CONFIG_PATH="$pcdir" PKG_CONFIG_SYSROOT_DIR="$stage" pkg-config --cflags --libs ember)
libdir=$(PKG_CONFIG_PATH="$pcdir" PKG_CONFIG_SYSROOT_DIR="$stage" pkg-config --variable=libdir ember)
# the installed SONAME follows the major version
readelf -d "$libdir"/libember.so | grep -q 'SONAME.*libember.so.0' || fail "missing SONAME libember.so.0"
[ -e "$libdir/libember.so.0" ] || fail "libember.so.0 was not installed"

echo "== C example (cc, pkg-config)"
cc -std=c11 -Wall -Wextra -Werror "$src/examples/classify_digits.c" $flags -o "$tmp/classify_digits"
LD_LIBRARY_PATH="$libdir" "$tmp/classify_digits" "$model" "$data" > "$tmp/c.txt"
cat "$tmp/c.txt"
accuracy_ok "C example" "$tmp/c.txt"

echo "== C++ example (c++ -std=c++17, pkg-config)"
command -v c++ >/dev/null 2>&1 || fail "no C++ compiler (c++) to build examples/classify_digits.cpp"
c++ -std=c++17 -Wall -Wextra -Werror "$src/examples/classify_digits.cpp" $flags -o "$tmp/classify_digits_cpp"
LD_LIBRARY_PATH="$libdir" "$tmp/classify_digits_cpp" "$model" "$data" > "$tmp/cpp.txt"
cat "$tmp/cpp.txt"
accuracy_ok "C++ example" "$tmp/cpp.txt"

# ------------------------------------------------------------------ Python
# run_python_checks NAME PURELIB: the example and the command line with the
# ember package from PURELIB and the installed library.
run_python_checks() {
  name=$1
  purelib=$2
  export PYTHONPATH="$purelib" EMBER_LIBRARY="$libdir/libember.so.0"
  where=$(cd "$tmp" && "$PY" -c 'import ember; print(ember.__file__)')
  case "$where" in
    "$purelib"/ember/__init__.py) ;;
    *) fail "$name: imported ember from $where, not from $purelib" ;;
  esac
  "$PY" "$src/examples/classify_digits.py" "$model" "$data" > "$tmp/py.txt"
  cat "$tmp/py.txt"
  accuracy_ok "Python example ($name)" "$tmp/py.txt"
  # python3 -m ember: inspect, then run on the first image written as .npy
  (cd "$tmp" && "$PY" -m ember inspect "$model") > "$tmp/inspect.txt"
  grep -q '^  image float32\[batch, 1, 8, 8\]$' "$tmp/inspect.txt" ||
    { cat "$tmp/inspect.txt"; fail "$name: python3 -m ember inspect: no input 'image'"; }
  grep -q '^operators: ' "$tmp/inspect.txt" || fail "$name: python3 -m ember inspect: no operators"
  "$PY" - "$data" "$tmp/image0.npy" <<'EOF'
import struct, sys
import numpy as np
raw = open(sys.argv[1], "rb").read()
(n,) = struct.unpack_from("<I", raw, 0)
assert raw[4:4 + n] == b"images"
_, rank = struct.unpack_from("<II", raw, 4 + n)
off = 4 + n + 8 + 8 * rank
np.save(sys.argv[2], np.frombuffer(raw, "<f4", 64, off).reshape(1, 1, 8, 8))
EOF
  rm -rf "$tmp/out"
  (cd "$tmp" && "$PY" -m ember run "$model" --input "image=$tmp/image0.npy" --output-dir "$tmp/out")
  "$PY" -c 'import sys, numpy as np
p = np.load(sys.argv[1])
assert p.shape == (1, 10) and abs(float(p.sum()) - 1) < 1e-4, p
assert int(p.argmax()) == 8, p' "$tmp/out/probs.npy" || fail "$name: python3 -m ember run: wrong probs.npy"
  echo "ok: $name: python3 -m ember inspect / run"
  unset PYTHONPATH EMBER_LIBRARY
}

echo "== Python example (meson-installed package)"
init=$(find "$stage" -path '*/ember/__init__.py' | head -n 1)
[ -n "$init" ] || fail "the Python package (bindings/python) was not installed: is subdir('bindings/python') in meson.build?"
purelib=$(dirname "$(dirname "$init")")
for f in __init__.py __main__.py _lib.py convert.py format.py runtime.py; do
  [ -f "$purelib/ember/$f" ] || fail "ember/$f was not installed into $purelib"
done
"$PY" -c 'import numpy' 2>/dev/null || fail "numpy is needed by examples/classify_digits.py"
run_python_checks "meson install" "$purelib"

# ------------------------------------------------------------------ Lua
echo "== Lua example (installed Lua 5.4 module)"
if ! command -v lua5.4 >/dev/null 2>&1; then
  echo "SKIP: lua5.4 is not installed: examples/classify_digits.lua not run"
else
  luamod=$(find "$stage" -path '*/lua/5.4/ember.so' | head -n 1)
  if [ -z "$luamod" ]; then
    lua_opt=$(meson introspect --buildoptions "$build" | "$PY" -c \
      'import json, sys; print(next(o["value"] for o in json.load(sys.stdin) if o["name"] == "lua"))')
    lua_headers=no
    for p in lua5.4 lua-5.4 lua54; do
      pkg-config --exists "$p" 2>/dev/null && lua_headers=yes
    done
    if [ "$lua_opt" = disabled ] || [ "$lua_headers" = no ]; then
      echo "SKIP: the Lua module was not built (lua option: $lua_opt, Lua 5.4 headers: $lua_headers)"
    else
      fail "the Lua module (lua/5.4/ember.so) was not installed"
    fi
  else
    LUA_CPATH="$(dirname "$luamod")/?.so" lua5.4 "$src/examples/classify_digits.lua" "$model" "$data" \
      > "$tmp/lua.txt"
    cat "$tmp/lua.txt"
    accuracy_ok "Lua example" "$tmp/lua.txt"
  fi
fi

# ------------------------------------------------------------------ pip
echo "== pip install --no-build-isolation --no-deps (offline)"
if ! "$PY" -m pip --version >/dev/null 2>&1; then
  echo "SKIP: pip is not installed for $PY: the pip install of bindings/python not checked"
else
  # from a copy, so that setuptools' build/ and *.egg-info stay out of the source tree
  cp -R "$src/bindings/python" "$tmp/pysrc"
  rm -rf "$tmp/pysrc/build" "$tmp/pysrc"/*.egg-info
  PIP_ROOT_USER_ACTION=ignore PIP_DISABLE_PIP_VERSION_CHECK=1 \
    "$PY" -m pip install --quiet --no-index --no-build-isolation --no-deps \
    --target "$tmp/pip" "$tmp/pysrc" || fail "pip install of bindings/python failed"
  [ -x "$tmp/pip/bin/ember-convert" ] || fail "pip did not install the ember-convert script"
  ls -d "$tmp/pip"/ember-*.dist-info >/dev/null 2>&1 || fail "pip did not record ember's dist-info"
  run_python_checks "pip install" "$tmp/pip"
  # the converter through the console script and python3 -m ember convert (needs onnx)
  if ! "$PY" -c 'import onnx' 2>/dev/null; then
    echo "SKIP: onnx is not installed: ember-convert not run"
  else
    PYTHONPATH="$tmp/pip" "$tmp/pip/bin/ember-convert" -q "$src/models/digits.onnx" "$tmp/conv1.ember"
    (cd "$tmp" && PYTHONPATH="$tmp/pip" "$PY" -m ember convert -q "$src/models/digits.onnx" conv2.ember)
    cmp -s "$tmp/conv1.ember" "$tmp/conv2.ember" || fail "ember-convert and python3 -m ember convert differ"
    PYTHONPATH="$tmp/pip" EMBER_LIBRARY="$libdir/libember.so.0" \
      "$PY" "$src/examples/classify_digits.py" "$tmp/conv1.ember" "$data" > "$tmp/conv.txt"
    accuracy_ok "Python example on the model ember-convert made" "$tmp/conv.txt"
  fi
fi

echo "all install checks passed"
