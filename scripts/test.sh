#!/bin/sh
# Runs the whole test suite: a warnings-as-errors build with every test, then
# the same tests under AddressSanitizer and UndefinedBehaviorSanitizer.
set -eu
cd "$(dirname "$0")/.."
sh scripts/install-deps.sh test
export PYTHON=/usr/bin/python3

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
  meson test -C build-asan --print-errorlogs --num-processes 2 --no-suite install
echo "== all tests passed"
