#!/bin/sh
# Runs the whole test suite: a warnings-as-errors build with every test (C unit,
# operator, kernel, end-to-end, ABI, install, Python, converter, ONNX conformance
# and whole models against ONNX Runtime), the C tests again under valgrind, then
# under AddressSanitizer and UndefinedBehaviorSanitizer.
set -eu
cd "$(dirname "$0")/.."
sh scripts/install-deps.sh test
export PYTHON=/usr/bin/python3

echo "== ONNX Runtime, the oracle of the whole-model tests"
ort_dir="$PWD/build-test-ort"
if [ ! -d "$ort_dir/node_modules/onnxruntime-node" ]; then
  mkdir -p "$ort_dir"
  npm install --silent --ignore-scripts --prefix "$ort_dir" onnxruntime-node@1.30.0 >/dev/null ||
    echo "warning: npm could not install onnxruntime-node; models_vs_ort will use committed references"
fi
if [ -d "$ort_dir/node_modules/onnxruntime-node" ]; then
  export ORT_NODE="$ort_dir/node_modules/onnxruntime-node"
fi

echo "== build (-Werror) and test"
[ -f build-test/build.ninja ] || meson setup build-test --buildtype=debugoptimized -Dwerror=true >/dev/null
ninja -C build-test
meson test -C build-test --print-errorlogs --num-processes 2

echo "== valgrind (memory errors and leaks) on the C tests"
vg="valgrind --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite,indirect -q"
meson test -C build-test --print-errorlogs --wrap="$vg" session verifier threads
meson test -C build-test --print-errorlogs --wrap="$vg" --suite ops

echo "== ASan + UBSan build and test"
[ -f build-asan/build.ninja ] || CC=clang meson setup build-asan --buildtype=debug -Db_sanitize=address,undefined \
  -Db_lundef=false -Dwerror=true >/dev/null
ninja -C build-asan
UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1 \
  meson test -C build-asan --print-errorlogs --num-processes 2 --no-suite install --no-suite models --no-suite convert --no-suite python --no-suite bindings
echo "== all tests passed"
