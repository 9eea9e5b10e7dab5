#!/bin/sh
# The shared library exports exactly the symbols listed in exported_symbols.txt:
# an accidental ABI change fails here. Update the list deliberately when adding API.
set -eu
lib=$1
want=$2
got=$(nm -D --defined-only "$lib" | awk '$2 ~ /^[TDBRV]$/ {print $3}' | sed 's/@.*//' | grep -v '^EMBER_' | sort -u)
if ! printf '%s\n' "$got" | diff -u "$want" - ; then
  echo "exported symbols differ from $want (lines with + are new exports, - are missing)" >&2
  exit 1
fi
bad=$(printf '%s\n' "$got" | grep -v '^ember_' || true)
if [ -n "$bad" ]; then echo "non-ember symbols exported: $bad" >&2; exit 1; fi
echo "$(printf '%s\n' "$got" | wc -l) exported symbols, all ember_*, as listed"
