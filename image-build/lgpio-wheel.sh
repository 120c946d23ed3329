#!/usr/bin/env bash
# Builds the arm64 wheel of lgpio (gpiozero's pin factory for every Pi, the only one on
# the Pi 5) from PyPI's source release, for the image's Python, into WHEELS.
#
#   image-build/lgpio-wheel.sh SUITE WHEELS [CACHE]
#
# Why from source: Debian's trixie has no python3-lgpio or liblgpio (checked with
# apt-cache policy against trixie/arm64), and PyPI publishes no arm64 wheel. The sdist
# carries the lg C library's sources; PYPI=1 links it statically into the extension, so
# the image needs no liblgpio. The build runs in a throw-away arm64 Debian tree
# (mmdebstrap, qemu-user) with swig, gcc and python3-dev, so the kiosk's root file system
# never holds a compiler. A wheel already in CACHE is reused (the build takes minutes
# under emulation).
set -euo pipefail
SUITE=$1
WHEELS=$2
CACHE=${3:-}
VERSION=0.2.2.0
TAG="lgpio-$VERSION-cp*-linux_aarch64.whl"
log() { printf '[image] %s\n' "$*" >&2; }

if [ -n "$CACHE" ] && compgen -G "$CACHE/$TAG" >/dev/null; then
  cp "$CACHE"/lgpio-"$VERSION"-cp*-linux_aarch64.whl "$WHEELS/"
  log "lgpio $VERSION: the cached arm64 wheel"
  exit 0
fi
SRC=$(mktemp -d "${TMPDIR:-/tmp}/lgpio-src.XXXXXX")
trap 'rm -rf "$SRC"' EXIT
PY=${PY:-python3}
"$PY" -m pip download -q --no-deps --no-binary :all: -d "$SRC" "lgpio==$VERSION"
log "lgpio $VERSION: building the arm64 wheel (swig + the lg C library, statically linked)"
# shellcheck disable=SC2016  # "$1" is expanded by mmdebstrap's hook shell
mmdebstrap --quiet --arch=arm64 --variant=apt --mode=root \
  --include=swig,gcc,libc6-dev,python3-dev,python3-setuptools,python3-pip \
  --customize-hook="copy-in '$SRC/lgpio-$VERSION.tar.gz' /tmp" \
  --customize-hook='chroot "$1" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin PYPI=1 sh -ec "cd /tmp && tar xzf lgpio-*.tar.gz && cd lgpio-*/ && python3 -m pip wheel -q --no-deps --no-build-isolation -w /tmp/dist ."' \
  --customize-hook="copy-out /tmp/dist '$SRC'" \
  "$SUITE" /dev/null
cp "$SRC"/dist/lgpio-*.whl "$WHEELS/"
if [ -n "$CACHE" ]; then cp -n "$SRC"/dist/lgpio-*.whl "$CACHE/" 2>/dev/null || true; fi
log "lgpio $VERSION: $(cd "$SRC/dist" && ls lgpio-*.whl)"
