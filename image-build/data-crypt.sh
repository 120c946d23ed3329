#!/usr/bin/env bash
# The data partition as a LUKS2 volume whose key is derived from the board's OTP secret
# (valgkiosk.datakey; docs/personal-data.md). Run as root on the kiosk (or on a loop
# device in the tests):
#
#   data-crypt.sh format DEVICE [--secret auto|FILE] [--cipher auto|adiantum|aes] [--force]
#   data-crypt.sh open   DEVICE NAME [--secret auto|FILE]   # → /dev/mapper/NAME
#   data-crypt.sh resize NAME [--secret auto|FILE]        # the open mapping to its partition's size
#   data-crypt.sh close  NAME
#   data-crypt.sh erase  DEVICE     # every keyslot destroyed: the data is unreadable for good
#
# The key never touches a disk: `python -m valgkiosk.datakey derive` writes it to a pipe
# into `cryptsetup --key-file -`. Cipher: AES-XTS where the CPU has AES instructions (Pi 5,
# BCM2712), Adiantum (xchacha12 + AES, made for CPUs without them) elsewhere (Pi 4,
# BCM2711). PBKDF2 with few iterations: the key is 256 random bits from HKDF, so a slow,
# memory-hard PBKDF (argon2id's default wants up to 1 GiB) adds nothing but boot time.
# format refuses a device that holds a file system or a LUKS header unless --force.
set -euo pipefail

PY=${VALGKIOSK_PYTHON:-/opt/valgkiosk/venv/bin/python}
[ -x "$PY" ] || PY=python3
LABEL=valgdata-crypt

die() { echo "data-crypt.sh: $*" >&2; exit 1; }

[ $# -ge 2 ] || { sed -n '2,17p' "$0" >&2; exit 2; }
CMD=$1 TARGET=$2
shift 2
NAME="" SECRET=auto CIPHER=auto FORCE=0
if [ "$CMD" = open ]; then
  [ $# -ge 1 ] || die "open trenger DEVICE NAME"
  NAME=$1; shift
fi
while [ $# -gt 0 ]; do
  case "$1" in
    --secret) SECRET=$2; shift 2 ;;
    --cipher) CIPHER=$2; shift 2 ;;
    --force) FORCE=1; shift ;;
    *) die "ukjent valg $1" ;;
  esac
done
command -v cryptsetup >/dev/null || die "mangler cryptsetup (Debian-pakken cryptsetup-bin)"

# key: the derived key on stdout, or the reason on stderr and a failure (before cryptsetup runs).
key() { "$PY" -I -m valgkiosk.datakey derive --secret "$SECRET"; }

cipher_args() {
  local choice=$CIPHER
  if [ "$choice" = auto ]; then
    if grep -qwE 'aes' /proc/cpuinfo; then choice=aes; else choice=adiantum; fi
  fi
  case "$choice" in
    aes) echo "--cipher aes-xts-plain64 --key-size 512" ;;
    adiantum) echo "--cipher xchacha12,aes-adiantum-plain64 --key-size 256" ;;
    *) die "ukjent chiffer $choice (auto, adiantum eller aes)" ;;
  esac
}

case "$CMD" in
  format)
    [ -b "$TARGET" ] || [ -f "$TARGET" ] || die "$TARGET er ikke en blokkenhet"
    if [ "$FORCE" = 0 ] && { cryptsetup isLuks "$TARGET" 2>/dev/null \
        || [ -n "$(blkid -o value -s TYPE "$TARGET" 2>/dev/null || true)" ]; }; then
      die "$TARGET har allerede et filsystem eller en LUKS-header; --force sletter det"
    fi
    # the secret first: no secret, no format (and the device stays as it was)
    "$PY" -I -m valgkiosk.datakey check --secret "$SECRET" >/dev/null || die "ingen nøkkel; $TARGET er ikke endret"
    read -r -a ciph <<<"$(cipher_args)"
    key | cryptsetup luksFormat --batch-mode --type luks2 "${ciph[@]}" --pbkdf pbkdf2 \
      --pbkdf-force-iterations 1000 --label "$LABEL" --key-file - "$TARGET"
    echo "Datapartisjonen $TARGET er kryptert (${ciph[1]})."
    ;;
  open)
    key | cryptsetup open --type luks2 --key-file - "$TARGET" "$NAME" \
      || die "$TARGET kan ikke åpnes med denne maskinens nøkkel"
    ;;
  resize)
    # LUKS2 keeps the volume key in the kernel's keyring: a resize asks for the key again
    key | cryptsetup resize --key-file - "$TARGET" || die "$TARGET kan ikke endre størrelse"
    ;;
  close)
    cryptsetup close "$TARGET"
    ;;
  erase)
    cryptsetup isLuks "$TARGET" || die "$TARGET er ikke et LUKS-volum"
    cryptsetup luksErase --batch-mode "$TARGET"
    echo "Nøkkelplassene på $TARGET er slettet: dataene kan ikke leses igjen."
    ;;
  *) die "ukjent kommando $CMD (format, open, resize, close, erase)" ;;
esac
