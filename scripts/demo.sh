#!/bin/sh
# Builds ember and classifies the bundled held-out handwritten digits with it.
set -eu
cd "$(dirname "$0")/.."
sh scripts/install-deps.sh
[ -f build-demo/build.ninja ] || meson setup build-demo -Dtests=false --buildtype=release >/dev/null
ninja -C build-demo >/dev/null
cc -std=c11 -O2 -Iinclude examples/classify_digits.c build-demo/libember.a -lm -lpthread -o build-demo/classify_digits
./build-demo/classify_digits models/digits.ember models/digits_test.bin
