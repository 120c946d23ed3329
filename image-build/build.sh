#!/usr/bin/env bash
# Builds the kiosk's SD-card image (arm64, Raspberry Pi 4 and 3) from Debian's packages.
#
#   image-build/build.sh [--out DIR] [--suite SUITE] [--cache DIR] [--no-cache]
#
# Writes DIR/valgkiosk.img (MBR: boot FAT32 / root ext4 / data ext4), DIR/vmlinuz and
# DIR/initrd.img (for the qemu boot test) and DIR/build-times.txt.
#
# How: mmdebstrap builds the root file system into a directory (arm64 maintainer scripts
# run through qemu-user/binfmt), the kiosk goes into its own venv from arm64 wheels
# (PyPI) plus Debian's python3-evdev (evdev publishes no wheels), and the partitions are
# made as files (mkfs.vfat + mcopy, mkfs.ext4 -d) and put into the image with sfdisk and
# dd conv=notrunc. No loop device, no privileged container (the only mounts are the
# chroot's /proc, /sys and /dev, as mmdebstrap makes them): the same build runs on an
# x86 CI machine. It runs as root only so that the tree keeps its owners.
#
# The cache (default ~/.cache/valgkiosk-image; --no-cache for a release build from
# nothing) keeps apt's downloads, the wheels and the Debian base as a tarball keyed on
# the package list: a change to the kiosk or its overlay rebuilds only what is on top.
set -euo pipefail

# base_tree: the Debian base into $TREE with mmdebstrap (apt's downloads cached in $CACHE/debs).
base_tree() {
  local cache_hooks=()
  # shellcheck disable=SC2016  # "$1" is expanded by mmdebstrap's hook shell, not here
  if [ "$USE_CACHE" = 1 ]; then
    cache_hooks=(--skip=essential/unlink
                 --setup-hook='mkdir -p "$1"/var/cache/apt/archives/'
                 --setup-hook="sync-in '$CACHE/debs' /var/cache/apt/archives/"
                 --customize-hook="sync-out /var/cache/apt/archives '$CACHE/debs'")
  fi
  log "mmdebstrap $SUITE arm64 (maintainer scripts under qemu-user)"
  # shellcheck disable=SC2016  # "$1" is expanded by mmdebstrap's hook shell, not here
  mmdebstrap --quiet --arch=arm64 --variant=minbase --mode=root \
    --components="main non-free-firmware" \
    --include="$(tr '\n' ',' <"$HERE/packages.txt" | sed 's/,$//')" \
    --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-include=/usr/share/doc/*/copyright' \
    --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt=force-confold --dpkgopt=force-confdef --dpkgopt='path-exclude=/usr/share/locale/*' \
    --essential-hook='mkdir -p "$1/boot/firmware"' \
    --essential-hook='chroot "$1" dpkg-divert --quiet --local --rename --add /usr/sbin/update-initramfs' \
    --essential-hook='ln -s /bin/true "$1/usr/sbin/update-initramfs"' \
    --essential-hook="cp -a '$HERE/rootfs/etc/default/.' \"\$1/etc/default/\"" \
    "${cache_hooks[@]}" \
    "$SUITE" "$TREE"
}

# unmount_tree: undo the chroot's kernel file systems (idempotent; also on exit).
MOUNTED=""
unmount_tree() {
  if [ -n "$MOUNTED" ]; then
    umount -R "$MOUNTED/dev" 2>/dev/null || umount -lR "$MOUNTED/dev" || true
    umount -R "$MOUNTED/sys" 2>/dev/null || umount -lR "$MOUNTED/sys" || true
    umount "$MOUNTED/proc" 2>/dev/null || umount -l "$MOUNTED/proc" || true
    MOUNTED=""
  fi
}

# The whole script is one function, parsed before it runs: editing this file during a
# build cannot derail the build.
main() {
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$HERE")
OUT="$ROOT/build/image"
SUITE=trixie
CACHE="${VALGKIOSK_IMAGE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/valgkiosk-image}"
USE_CACHE=1

while [ $# -gt 0 ]; do
  case "$1" in
    --out) OUT=$2; shift 2 ;;
    --suite) SUITE=$2; shift 2 ;;
    --cache) CACHE=$2; shift 2 ;;
    --no-cache) USE_CACHE=0; shift ;;
    -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
    *) echo "build.sh: unknown option $1" >&2; exit 2 ;;
  esac
done

# shellcheck source=image-build/layout.sh
source "$HERE/layout.sh"

log() { printf '[image] %s\n' "$*" >&2; }
now() { date +%s; }
T0=$(now)

if [ "$(id -u)" != 0 ]; then
  echo "build.sh: run as root (the root tree must keep its owners for mkfs.ext4 -d)" >&2
  exit 2
fi

# --- host tools (Debian packages; quiet and idempotent) ---------------------------------
need=()
for pair in mmdebstrap:mmdebstrap qemu-aarch64-static:qemu-user-static update-binfmts:binfmt-support \
            mkfs.vfat:dosfstools mcopy:mtools sfdisk:fdisk mkfs.ext4:e2fsprogs; do
  command -v "${pair%%:*}" >/dev/null 2>&1 || need+=("${pair#*:}")
done
if [ ${#need[@]} -gt 0 ]; then
  log "installing host tools: ${need[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
# binfmt_misc lets the arm64 maintainer scripts run on x86 (no-op on an arm64 host).
if [ "$(dpkg --print-architecture)" != arm64 ]; then
  [ -e /proc/sys/fs/binfmt_misc/status ] || mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc
  update-binfmts --enable qemu-aarch64 >/dev/null 2>&1 || true
  [ -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ] || { echo "build.sh: qemu-aarch64 binfmt not available" >&2; exit 1; }
fi

mkdir -p "$OUT"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/valgkiosk-image.XXXXXX")
trap 'unmount_tree; rm -rf --one-file-system "$WORK"' EXIT
TREE="$WORK/rootfs"
WHEELS="$WORK/wheels"
mkdir -p "$WHEELS"
if [ "$USE_CACHE" = 1 ]; then mkdir -p "$CACHE/debs" "$CACHE/wheels"; fi

# --- the kiosk's wheels: our own (pure Python) and arm64 binaries from PyPI --------------
PY=python3
[ -x "$ROOT/.venv/bin/python" ] && PY="$ROOT/.venv/bin/python"
log "building the valgkiosk wheel"
"$PY" -m pip wheel -q --no-deps --no-build-isolation -w "$WHEELS" "$ROOT" 2>/dev/null \
  || "$PY" -m pip wheel -q --no-deps -w "$WHEELS" "$ROOT"
# The dependencies from pyproject.toml, except evdev (Debian's python3-evdev instead).
"$PY" - "$ROOT/pyproject.toml" >"$WORK/requirements.txt" <<'PYEOF'
import sys, tomllib
deps = tomllib.load(open(sys.argv[1], "rb"))["project"]["dependencies"]
print("\n".join(d for d in deps if not d.lower().startswith("evdev")))
PYEOF
# Pure-Python dependencies published only as source: wheels built here, any platform.
# shellcheck disable=SC2086
"$PY" -m pip wheel -q --no-deps -w "$WHEELS" $SDIST_ONLY
# pip itself, run from its wheel inside the tree (ensurepip under qemu-user is slow).
"$PY" -m pip download -q --no-deps --only-binary=:all: -d "$WHEELS" pip
log "downloading arm64 wheels for Python $TARGET_PYTHON"
dl_args=(-q --only-binary=:all: --find-links "$WHEELS" --implementation cp --python-version "$TARGET_PYTHON"
         --platform manylinux2014_aarch64 --platform manylinux_2_28_aarch64
         --platform manylinux_2_34_aarch64 --platform linux_aarch64 -d "$WHEELS" -r "$WORK/requirements.txt")
if [ "$USE_CACHE" = 1 ]; then
  "$PY" -m pip download --find-links "$CACHE/wheels" "${dl_args[@]}"
  cp -n "$WHEELS"/*.whl "$CACHE/wheels/" 2>/dev/null || true
else
  "$PY" -m pip download "${dl_args[@]}"
fi
# lgpio (GPIO on every Pi): no Debian package, no arm64 wheel; built from source.
PY="$PY" "$HERE/lgpio-wheel.sh" "$SUITE" "$WHEELS" "$( [ "$USE_CACHE" = 1 ] && echo "$CACHE/wheels")"
T_WHEELS=$(now)

# --- the root file system ---------------------------------------------------------------
# Two steps: the Debian base (mmdebstrap: every package of packages.txt installed and
# configured, the slow part under qemu-user) and the kiosk on top of it (customize.sh:
# overlay files, units, users, the venv, the initramfs). With the cache, the base is kept
# as a tarball keyed on everything that goes into it (suite, package list and base_tree's
# own text), so a change to the kiosk's code or overlay rebuilds only the second step.
# (The overlay's /etc/default, which the kernel's hooks read, is copied again on top and
# the boot partition's cmdline.txt and config.txt are written from it by the initramfs
# run there.) Without a cache (CI on a fresh clone) both steps run, the same way.
base_key=$( { echo "$SUITE"; cat "$HERE/packages.txt"; declare -f base_tree; } | sha256sum | cut -c1-16)
BASE_TAR="$CACHE/base-$SUITE-arm64-$base_key.tar"
if [ "$USE_CACHE" = 1 ] && [ -f "$BASE_TAR" ]; then
  log "Debian base from the cache ($(basename "$BASE_TAR"))"
  mkdir -p "$TREE"
  tar --numeric-owner --xattrs --xattrs-include='*' --acls -xpf "$BASE_TAR" -C "$TREE"
else
  base_tree
  if [ "$USE_CACHE" = 1 ]; then
    rm -f "$CACHE"/base-"$SUITE"-arm64-*.tar   # one base at a time: the old one is stale now
    tar --numeric-owner --xattrs --xattrs-include='*' --acls -cpf "$BASE_TAR.part" -C "$TREE" .
    mv "$BASE_TAR.part" "$BASE_TAR"
  fi
fi
T_BASE=$(now)
log "the kiosk on top (customize.sh)"
mkdir -p "$TREE/tmp/wheels"
cp "$WHEELS"/*.whl "$TREE/tmp/wheels/"
# The chroot's kernel file systems, as mmdebstrap's own hooks would have them.
mount -t proc proc "$TREE/proc"
mount --rbind /sys "$TREE/sys" && mount --make-rslave "$TREE/sys"
mount --rbind /dev "$TREE/dev" && mount --make-rslave "$TREE/dev"
MOUNTED="$TREE"
# The OTP module for the tree's own kernel (the data partition's key on a Pi; otp-module.sh).
"$HERE/otp-module.sh" "$SUITE" "$TREE" "$( [ "$USE_CACHE" = 1 ] && echo "$CACHE/modules")"
T_MODULE=$(now)
"$HERE/customize.sh" "$TREE" "$ROOT"
unmount_tree
T_ROOTFS=$(now)

# --- partitions as files, then the image ------------------------------------------------
log "making the file systems"
KVER=$(find "$TREE/lib/modules" -mindepth 1 -maxdepth 1 -printf '%f\n' | sort -V | tail -n1)
cp "$TREE/boot/vmlinuz-$KVER" "$OUT/vmlinuz"
cp "$TREE/boot/initrd.img-$KVER" "$OUT/initrd.img"
chmod 0644 "$OUT/vmlinuz" "$OUT/initrd.img"

# boot (FAT32): what raspi-firmware put into /boot/firmware, plus the config folder
BOOTFS="$WORK/boot.vfat"
truncate -s "${BOOT_MIB}M" "$BOOTFS"
mkfs.vfat -F 32 -n "$BOOT_LABEL" -i "$BOOT_VOLID" "$BOOTFS" >/dev/null
mkdir -p "$TREE/boot/firmware/valgkiosk"
cp "$HERE/boot/README.txt" "$TREE/boot/firmware/valgkiosk/LESMEG.txt"
MTOOLS_SKIP_CHECK=1 mcopy -s -i "$BOOTFS" "$TREE"/boot/firmware/* ::/
rm -rf "${TREE:?}/boot/firmware/"*

# data (ext4): the directories the bind mounts and services expect
DATA="$WORK/data"
mkdir -p "$DATA/valgkiosk" "$DATA/journal" "$DATA/timesync" "$DATA/ssh"
kiosk_uid=$(chroot "$TREE" id -u valgkiosk); kiosk_gid=$(chroot "$TREE" id -g valgkiosk)
journal_gid=$(chroot "$TREE" getent group systemd-journal | cut -d: -f3)
chown "$kiosk_uid:$kiosk_gid" "$DATA/valgkiosk"; chmod 0700 "$DATA/valgkiosk"
chown "0:$journal_gid" "$DATA/journal"; chmod 2755 "$DATA/journal"
chmod 0700 "$DATA/ssh"
DATAFS="$WORK/data.ext4"
mkfs.ext4 -q -F -L "$DATA_LABEL" -U "$DATA_UUID" -d "$DATA" "$DATAFS" "${DATA_MIB}M"

# root (ext4, mounted read-only): the tree's size plus room for nothing (it never grows)
ROOTFS="$WORK/root.ext4"
tree_mib=$(du -sm "$TREE" | cut -f1)
ROOT_MIB=$(( tree_mib * 115 / 100 + 64 ))
mkfs.ext4 -q -F -L "$ROOT_LABEL" -U "$ROOT_UUID" -E root_owner=0:0 -d "$TREE" "$ROOTFS" "${ROOT_MIB}M"

IMG="$OUT/valgkiosk.img"
rm -f "$IMG"
total_mib=$(( BOOT_START_MIB + BOOT_MIB + ROOT_MIB + DATA_MIB + 1 ))
truncate -s "${total_mib}M" "$IMG"
sfdisk --quiet "$IMG" <<EOF
label: dos
label-id: $DISK_ID
start=${BOOT_START_MIB}MiB, size=${BOOT_MIB}MiB, type=c, bootable
size=${ROOT_MIB}MiB, type=83
size=${DATA_MIB}MiB, type=83
EOF
put() {  # put FILE PARTITION-NUMBER: copy a file system into its partition
  local start
  start=$(sfdisk --json "$IMG" | "$PY" -c "import json,sys; print(json.load(sys.stdin)['partitiontable']['partitions'][$2-1]['start'])")
  dd if="$1" of="$IMG" bs=512 seek="$start" conv=notrunc,sparse status=none
}
put "$BOOTFS" 1
put "$ROOTFS" 2
put "$DATAFS" 3
T_END=$(now)

size=$(du -m --apparent-size "$IMG" | cut -f1)
{
  echo "suite=$SUITE kernel=$KVER"
  echo "image_mib=$size root_mib=$ROOT_MIB boot_mib=$BOOT_MIB data_mib=$DATA_MIB"
  echo "wheels_s=$((T_WHEELS - T0)) base_s=$((T_BASE - T_WHEELS)) otp_module_s=$((T_MODULE - T_BASE)) kiosk_s=$((T_ROOTFS - T_MODULE)) image_s=$((T_END - T_ROOTFS)) total_s=$((T_END - T0))"
} | tee "$OUT/build-times.txt" >&2
log "done: $IMG"
}

main "$@"
exit
