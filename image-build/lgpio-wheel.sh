#!/usr/bin/env bash
# Builds the arm64 wheel of lgpio (gpiozero's pin factory for every Pi, the only one on
# the Pi 5) from PyPI's source release, for the image's Python, into WHEELS.
#
#   image-build/lgpio-wheel.sh SUITE WHEELS [CACHE]
#
# Why from source: Debian's trixie has no python3-lgpio or liblgpio (checked with
# apt-cache policy against trixie/arm64), and PyPI publishes no arm64 wheel (0.2.2.0 has
# only the sdist). The sdist carries the lg C library's sources; they are compiled into
# the extension (as its setup.py does with PYPI=1), so the image needs no liblgpio.
#
# How: swig on the host makes the wrapper, the host's aarch64 cross compiler builds the
# extension against the suite's own Python headers (libpythonX.Y-dev, unpacked by
# mmdebstrap's extract variant: nothing is installed or run), and the wheel is zipped
# here. Compiling inside an arm64 chroot instead took over 30 minutes under qemu-user
# (installing gcc and python3-dev alone); this takes seconds. A wheel already in CACHE is
# reused. The image build checks that the wheel imports on the target's Python.
set -euo pipefail
SUITE=$1
WHEELS=$2
CACHE=${3:-}
VERSION=0.2.2.0
PYVER=${TARGET_PYTHON:-3.13}
TAG=cp${PYVER/./}
WHEEL="lgpio-$VERSION-$TAG-$TAG-linux_aarch64.whl"
PY=${PY:-python3}
log() { printf '[image] %s\n' "$*" >&2; }

if [ -n "$CACHE" ] && [ -f "$CACHE/$WHEEL" ]; then
  cp "$CACHE/$WHEEL" "$WHEELS/"
  log "lgpio $VERSION: the cached arm64 wheel"
  exit 0
fi
CC=aarch64-linux-gnu-gcc
[ "$(dpkg --print-architecture)" = arm64 ] && CC=gcc
need=()
command -v swig >/dev/null 2>&1 || need+=(swig)
command -v "$CC" >/dev/null 2>&1 || need+=("$( [ "$CC" = gcc ] && echo gcc || echo gcc-aarch64-linux-gnu)")
if [ ${#need[@]} -gt 0 ]; then
  log "installing host tools: ${need[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi

SRC=$(mktemp -d "${TMPDIR:-/tmp}/lgpio-src.XXXXXX")
trap 'rm -rf "$SRC"' EXIT
log "lgpio $VERSION: building the arm64 wheel for Python $PYVER (swig, $CC, the lg C library linked in)"
"$PY" -m pip download -q --no-deps --no-binary :all: -d "$SRC" "lgpio==$VERSION"
mmdebstrap --quiet --variant=extract --arch=arm64 --include="libpython$PYVER-dev" "$SUITE" "$SRC/pydev"
tar -xzf "$SRC/lgpio-$VERSION.tar.gz" -C "$SRC"
cd "$SRC/lgpio-$VERSION"
swig -python -Isrc -o lgpio_wrap.c lgpio.i
ext="_lgpio.cpython-${PYVER/./}-aarch64-linux-gnu.so"
# Only Python's headers from the suite (the C library's come with the cross compiler):
# Python.h finds its multiarch pyconfig.h as <aarch64-linux-gnu/pythonX.Y/pyconfig.h>.
mkdir -p "$SRC/inc/aarch64-linux-gnu"
ln -s "$SRC/pydev/usr/include/aarch64-linux-gnu/python$PYVER" "$SRC/inc/aarch64-linux-gnu/"
# shellcheck disable=SC2046  # the lg sources, one word each
"$CC" -shared -fPIC -O2 -pthread -Isrc -I"$SRC/pydev/usr/include/python$PYVER" -I"$SRC/inc" \
  $(ls src/lg*.c) src/rgpiod.c lgpio_wrap.c -lrt -ldl -o "$ext"
"$PY" - "$SRC/lgpio-$VERSION" "$WHEELS/$WHEEL" "$ext" "$VERSION" "$TAG" <<'PYEOF'
import base64, hashlib, sys, zipfile
from pathlib import Path
src, out, ext, version, tag = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
info = f"lgpio-{version}.dist-info"
files = {
    "lgpio.py": (src / "lgpio.py").read_bytes(),
    ext: (src / ext).read_bytes(),
    f"{info}/METADATA": (f"Metadata-Version: 2.1\nName: lgpio\nVersion: {version}\n"
                         "Summary: Linux SBC GPIO module\nLicense: unlicense.org\n").encode(),
    f"{info}/WHEEL": (f"Wheel-Version: 1.0\nGenerator: valgkiosk lgpio-wheel.sh\nRoot-Is-Purelib: false\n"
                      f"Tag: {tag}-{tag}-linux_aarch64\n").encode(),
    f"{info}/top_level.txt": b"_lgpio\nlgpio\n",
    f"{info}/LICENSE": (src / "LICENSE").read_bytes(),
}
record = []
for name, data in files.items():
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    record.append(f"{name},sha256={digest},{len(data)}")
record.append(f"{info}/RECORD,,")
with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as whl:
    for name, data in files.items():
        whl.writestr(name, data)
    whl.writestr(f"{info}/RECORD", "\n".join(record) + "\n")
PYEOF
if [ -n "$CACHE" ]; then cp -n "$WHEELS/$WHEEL" "$CACHE/" 2>/dev/null || true; fi
log "lgpio $VERSION: $WHEEL"
