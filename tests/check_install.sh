#!/bin/sh
# Installs into a temporary prefix, then builds the C example exactly as a user
# would, with pkg-config, and runs it on the bundled digits model.
set -eu
build=$1
src=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
meson install -C "$build" --destdir "$tmp" --quiet >/dev/null
pc=$(find "$tmp" -name ember.pc | head -n 1)
[ -n "$pc" ] || { echo "ember.pc was not installed" >&2; exit 1; }
pcdir=$(dirname "$pc")
for f in include/ember.h; do
  find "$tmp" -path "*$f" | grep -q . || { echo "$f was not installed" >&2; exit 1; }
done
find "$tmp" -name 'libember.so.*' | grep -q . || { echo "libember.so was not installed" >&2; exit 1; }
find "$tmp" -name 'libember.a' | grep -q . || { echo "libember.a was not installed" >&2; exit 1; }
# The staged tree stands for the prefix: pkg-config prefixes its paths with the sysroot.
export PKG_CONFIG_PATH="$pcdir" PKG_CONFIG_SYSROOT_DIR="$tmp"
flags=$(pkg-config --cflags --libs ember)
cc -std=c11 -Wall -Wextra -Werror "$src/examples/classify_digits.c" $flags -o "$tmp/classify_digits"
libdir=$(pkg-config --variable=libdir ember)  # already under the sysroot
# the installed SONAME follows the major version
readelf -d "$libdir"/libember.so | grep -q 'SONAME.*libember.so.0' || { echo "missing SONAME" >&2; exit 1; }
LD_LIBRARY_PATH="$libdir" "$tmp/classify_digits" "$src/models/digits.ember" "$src/models/digits_test.bin" > "$tmp/out.txt"
cat "$tmp/out.txt"
grep -q 'accuracy on' "$tmp/out.txt"
