#!/bin/sh
# Runs the whole test suite: a warnings-as-errors build with every test (C unit,
# operator, kernel, end-to-end, ABI, install, Python, converter, ONNX conformance
# and whole models against ONNX Runtime), the C tests again under valgrind, then
# under AddressSanitizer and UndefinedBehaviorSanitizer, then the AArch64 cross
# build (NEON path) with its C tests under qemu-user.
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

echo "== the whole-model zoo (written by models_vs_ort) at 1, 2 and 3 threads: bit-identical"
if ls build-test/tests/zoo/*.ember >/dev/null 2>&1; then
  EMBER_TEST_MODELS=tests/models EMBER_THREADS_ZOO=build-test/tests/zoo build-test/tests/test_session_threads
else
  echo "warning: no zoo models in build-test/tests/zoo; threads checked on tests/models only"
fi

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

echo "== AArch64 cross build (-Werror), C tests under qemu-user"
if command -v aarch64-linux-gnu-gcc >/dev/null 2>&1 && command -v qemu-aarch64 >/dev/null 2>&1; then
  [ -f build-arm/build.ninja ] || meson setup build-arm --cross-file cross/aarch64-linux-gnu.ini \
    --buildtype=debugoptimized -Dlua=disabled -Dwerror=true >/dev/null
  ninja -C build-arm
  # Left out under qemu: robustness (minutes of emulated work; it runs natively
  # and under ASan) and the tests that count the process's threads (suite
  # tasks: qemu-user's own threads are in /proc/self/task and come and go).
  # The other thread tests (suite pool) run: their old hang under qemu was the
  # cross file's loader, not the pool (cross/aarch64-linux-gnu.ini).
  meson test -C build-arm --print-errorlogs --num-processes 2 --suite ops --suite kernels \
    --suite core --no-suite robustness --no-suite tasks
else
  echo "warning: aarch64-linux-gnu-gcc or qemu-aarch64 missing; AArch64 cross build skipped"
fi
echo "== all tests passed"
