#!/bin/sh
# Installs what building (and, with "test", testing) ember needs on Debian 12.
# As root it runs apt-get; otherwise it lists what is missing and how to install it.
set -eu
want="meson ninja-build gcc g++ pkg-config"
if [ "${1:-}" = test ]; then
  want="$want libcmocka-dev python3-numpy python3-onnx python3-torch python3-torchvision clang libclang-rt-14-dev valgrind lua5.4 liblua5.4-dev luajit python3-pip python3-setuptools python3-wheel"
  # AArch64 cross build, its tests under qemu-user (cross/aarch64-linux-gnu.ini);
  # cmocka for arm64 comes from Debian multiarch (dpkg --add-architecture arm64);
  # libc6:arm64 gives the loader the cross file runs programs with (qemu -L /).
  want="$want gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user libcmocka-dev:arm64 libc6:arm64"
  command -v node >/dev/null 2>&1 || want="$want nodejs"
  command -v npm >/dev/null 2>&1 || want="$want npm"
fi
missing=""
for p in $want; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" = 0 ]; then
  echo "installing:$missing"
  export DEBIAN_FRONTEND=noninteractive
  case "$missing" in
    *:arm64*) dpkg --print-foreign-architectures | grep -qx arm64 || dpkg --add-architecture arm64 ;;
  esac
  apt-get update -qq
  # shellcheck disable=SC2086
  apt-get install -y -qq --no-install-recommends $missing >/dev/null
else
  echo "missing packages:$missing" >&2
  echo "install them with: sudo apt-get install$missing" >&2
  exit 1
fi
