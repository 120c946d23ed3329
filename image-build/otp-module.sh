#!/usr/bin/env bash
# Builds the kiosk's OTP kernel module (image-build/otp-module, valgkiosk_otp.ko) for the
# image's own kernel and installs it into the root tree:
#
#   image-build/otp-module.sh SUITE TREE [CACHE]
#
# TREE is the image's root (the kernel is read from it: /lib/modules/KVER and the
# linux-image-KVER package's version). The module is built against that kernel's exact
# linux-headers package from SUITE, with SUITE's own compiler, installed as
# /lib/modules/KVER/updates/valgkiosk_otp.ko, and depmod run; the build fails unless the
# module's vermagic is the kernel's.
#
# How: a small Debian tree of the BUILD HOST's architecture (mmdebstrap, native, seconds to
# a minute: no emulation) with SUITE's cross compiler for arm64 and linux-kbuild-VERSION
# (Debian's kbuild tools, built for the host), plus the arm64 linux-headers-KVER and its
# -common part from the same archive (multiarch, the way Debian cross-builds modules).
# make runs in that tree through chroot (about 6 s; the tree about a minute). Running the arm64 kbuild tools and compiler
# under qemu-user instead is what the lgpio note in lgpio-wheel.sh warns about (minutes
# per step); the host's own cross compiler (bookworm's gcc-12) is not the kernel's gcc-14.
# A module already in CACHE for the same kernel, package version and module source is reused.
set -euo pipefail
SUITE=$1
TREE=$2
CACHE=${3:-}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SRC_DIR="$HERE/otp-module"
log() { printf '[image] %s\n' "$*" >&2; }
die() { echo "otp-module.sh: $*" >&2; exit 1; }

KVER=$(find "$TREE/lib/modules" -mindepth 1 -maxdepth 1 -printf '%f\n' | sort -V | tail -n1)
[ -n "$KVER" ] || die "no kernel in $TREE/lib/modules"
# shellcheck disable=SC2016  # ${Version} is dpkg-query's field, not the shell's
KPKG_VERSION=$(chroot "$TREE" dpkg-query -W -f '${Version}' "linux-image-$KVER") \
  || die "linux-image-$KVER is not installed in $TREE"
KBASE=${KVER%-arm64}                      # 6.12.57+deb13-arm64 -> 6.12.57+deb13
src_key=$(cat "$SRC_DIR"/Kbuild "$SRC_DIR"/*.c "$0" | sha256sum | cut -c1-12)
KO_NAME="valgkiosk_otp-$KVER-$KPKG_VERSION-$src_key.ko"
DEST="$TREE/lib/modules/$KVER/updates"
mkdir -p "$DEST"

if [ -n "$CACHE" ] && [ -f "$CACHE/$KO_NAME" ]; then
  log "valgkiosk_otp for $KVER: the cached module"
  cp "$CACHE/$KO_NAME" "$DEST/valgkiosk_otp.ko"
else
  HOST_ARCH=$(dpkg --print-architecture)
  if [ "$HOST_ARCH" = arm64 ]; then archs=arm64; else archs="$HOST_ARCH,arm64"; fi
  WORK=$(mktemp -d "${TMPDIR:-/tmp}/valgkiosk-kbuild.XXXXXX")
  trap 'rm -rf --one-file-system "$WORK"' EXIT
  KB="$WORK/kbuild"
  log "valgkiosk_otp for $KVER ($KPKG_VERSION): a $HOST_ARCH build tree with $SUITE's compiler and linux-headers-$KVER"
  # The compiler and kbuild installed (host builds); the arm64 headers only unpacked: as a
  # package, linux-headers-KVER:arm64 depends on gcc-14, which apt would take as arm64.
  # shellcheck disable=SC2016  # "$1" is expanded by mmdebstrap's hook shell, not here
  mmdebstrap --quiet --variant=minbase --mode=root --architectures="$archs" \
    --include="make,gcc-14-aarch64-linux-gnu,linux-kbuild-$KBASE=$KPKG_VERSION" \
    --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-exclude=/usr/share/man/*' \
    --dpkgopt='path-exclude=/usr/share/locale/*' \
    --customize-hook="chroot \"\$1\" sh -c 'cd /tmp && apt-get download -q=2 linux-headers-$KVER:arm64=$KPKG_VERSION linux-headers-$KBASE-common=$KPKG_VERSION && for d in /tmp/*.deb; do dpkg-deb -x \$d /; done && rm /tmp/*.deb'" \
    "$SUITE" "$KB" >"$WORK/mmdebstrap.log" 2>&1 \
    || { cat "$WORK/mmdebstrap.log" >&2
         die "could not make the build tree: is linux-headers-$KVER $KPKG_VERSION still in $SUITE's archive? (a cached Debian base with an older kernel: build with --no-cache)"; }
  mkdir -p "$KB/src"
  cp "$SRC_DIR"/Kbuild "$SRC_DIR"/*.c "$KB/src/"
  chroot "$KB" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 \
    make -C "/usr/src/linux-headers-$KVER" M=/src ARCH=arm64 CROSS_COMPILE=aarch64-linux-gnu- modules >"$WORK/make.log" 2>&1 \
    || { cat "$WORK/make.log" >&2; die "the module did not build"; }
  grep -iE 'warning|error' "$WORK/make.log" >&2 || true
  # the compiler must be the kernel's (kbuild only warns when it is not)
  want_cc=$(sed -n 's/^CONFIG_CC_VERSION_TEXT="\(.*\)"$/\1/p' "$KB/usr/src/linux-headers-$KVER/.config")
  have_cc=$(chroot "$KB" aarch64-linux-gnu-gcc-14 --version | head -n1)
  [ "$want_cc" = "$have_cc" ] || die "the compiler «$have_cc» is not the kernel's «$want_cc»"
  cp "$KB/src/valgkiosk_otp.ko" "$DEST/valgkiosk_otp.ko"
  if [ -n "$CACHE" ]; then mkdir -p "$CACHE"; cp "$DEST/valgkiosk_otp.ko" "$CACHE/$KO_NAME"; fi
fi

# The module must be the kernel's: vermagic begins with the kernel release (the image's
# own modinfo and depmod, under qemu-user on an x86 host: a few seconds).
in_tree() { chroot "$TREE" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 "$@"; }
vermagic=$(in_tree modinfo -F vermagic "/lib/modules/$KVER/updates/valgkiosk_otp.ko")
case "$vermagic" in
  "$KVER "*) ;;
  *) die "valgkiosk_otp.ko's vermagic «$vermagic» is not the image's kernel $KVER" ;;
esac
in_tree depmod "$KVER"
in_tree modinfo -k "$KVER" -F filename valgkiosk_otp | grep -q "/updates/valgkiosk_otp.ko$" \
  || die "depmod does not find valgkiosk_otp in /lib/modules/$KVER/updates"
log "valgkiosk_otp.ko: vermagic $vermagic"
