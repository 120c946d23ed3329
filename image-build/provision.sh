#!/usr/bin/env bash
# Per-table provisioning for the IT team: writes one table's station configuration onto a
# built image (a copy per table) or onto a flashed card, after validating it with the
# kiosk's own code and the image's device rules.
#
#   One table, onto a copy of the image:
#     image-build/provision.sh --image build/image/valgkiosk.img --out OUT/ \
#         --config bord3.toml [--credential FILE] [--ca FILE] [--authorized-keys FILE] \
#         [--sign-key ~/.ssh/id_ed25519] [--loggbok-key FILE | --no-loggbok-key]
#   Every table in a CSV list (columns: name,config,credential,ca,authorized_keys and the
#   optional loggbok_key and data_secret; a header row starting with "name" may list them in
#   any order, without one they are in this order; paths relative to the CSV file; empty
#   cells for files a table does not have):
#     image-build/provision.sh --image build/image/valgkiosk.img --out OUT/ --bulk tables.csv
#   One table, onto a card that is already flashed (its first partition is the boot FAT):
#     image-build/provision.sh --device /dev/sdX --config bord3.toml [--credential FILE]
#   Only check a config, write nothing:
#     image-build/provision.sh --check --config bord3.toml [--credential FILE]
#
# Image mode writes OUT/NAME.img per table, OUT/NAME.img.bmap (bmaptool), OUT/SHA256SUMS
# and, with --sign-key, OUT/SHA256SUMS.sig (ssh-keygen -Y sign, namespace valgkiosk-image).
# No mounts: the files go into the FAT partition with mtools (mcopy -i FILE@@OFFSET).
#
# Each table gets its loggbok signing key (Ed25519, valgkiosk.provisioning): made new, or
# taken from --loggbok-key (the CSV's loggbok_key), written as valgkiosk/loggbok.key and
# named by [log] signing_key in its station.toml. Its public key is printed
# ("loggboknøkkel NAME HEX") and, in image mode, written to OUT/NAME.loggbok.pub and
# OUT/loggbok-keys.csv, for the register: valgkiosk register kiosk-key --public-key.
# --no-loggbok-key leaves the loggbok unsigned.
#
# --data-secret new|FILE puts a secret for the data partition's key on the boot partition
# (valgkiosk/data-secret: 64 hex digits, made new or copied from FILE). Only for a board
# whose own secret cannot be read (QEMU, a Pi 3, a Pi whose OTP key is not programmed
# yet): it is NOT protection, the card then holds its own key
# (docs/personal-data.md). Without it the kiosk reads the Pi's OTP (the image's
# valgkiosk_otp module), and without a key
# there it does not start. In a CSV list the data_secret column says it per table: empty
# for none (the Pi's OTP), "new" for a fresh secret per table, or a FILE relative to the
# CSV; a bad cell stops the run, with its row named, before any image is written.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$HERE")
# shellcheck source=image-build/layout.sh
source "$HERE/layout.sh"
# shellcheck source=scripts/lib/common.sh
source "$ROOT/scripts/lib/common.sh"
IMPORTER="$HERE/rootfs/usr/lib/valgkiosk/import_config.py"
PY=${VALGKIOSK_PYTHON:-python3}
[ -x "$ROOT/.venv/bin/python" ] && [ -z "${VALGKIOSK_PYTHON:-}" ] && PY="$ROOT/.venv/bin/python"

IMAGE="" OUT="" DEVICE="" BULK="" CONFIG="" CREDENTIAL="" CA="" KEYS="" SIGN_KEY="" CHECK_ONLY=0 NAME=""
LOGGBOK_KEY="" NO_LOGGBOK_KEY=0 DATA_SECRET=""
while [ $# -gt 0 ]; do
  case "$1" in
    --image) IMAGE=$2; shift 2 ;;
    --out) OUT=$2; shift 2 ;;
    --device) DEVICE=$2; shift 2 ;;
    --bulk) BULK=$2; shift 2 ;;
    --config) CONFIG=$2; shift 2 ;;
    --credential) CREDENTIAL=$2; shift 2 ;;
    --ca) CA=$2; shift 2 ;;
    --authorized-keys) KEYS=$2; shift 2 ;;
    --name) NAME=$2; shift 2 ;;
    --sign-key) SIGN_KEY=$2; shift 2 ;;
    --loggbok-key) LOGGBOK_KEY=$2; shift 2 ;;
    --no-loggbok-key) NO_LOGGBOK_KEY=1; shift ;;
    --data-secret) DATA_SECRET=$2; shift 2 ;;
    --check) CHECK_ONLY=1; shift ;;
    -h|--help) sed -n '2,39p' "$0"; exit 0 ;;
    *) echo "provision.sh: ukjent valg $1" >&2; exit 2 ;;
  esac
done

die() { echo "provision.sh: $*" >&2; exit 1; }

# The config is checked by the kiosk's own code: on a fresh clone that means the project's
# virtual environment (.venv, made here as scripts/run and scripts/test make it).
if ! "$PY" -I -c 'import valgkiosk.config' >/dev/null 2>&1; then
  if [ -n "${VALGKIOSK_PYTHON:-}" ]; then
    die "$PY kan ikke importere valgkiosk (installer prosjektet der, eller ta bort VALGKIOSK_PYTHON)"
  fi
  log "valgkiosk er ikke installert for $PY: lager .venv med prosjektet (første gang)"
  ensure_venv "" || die "kunne ikke lage .venv (trenger python3-venv og nett til PyPI)"
  PY="$ROOT/.venv/bin/python"
fi
STAGE_ROOT=$(mktemp -d "${TMPDIR:-/tmp}/valgkiosk-provision.XXXXXX")
trap 'rm -rf "$STAGE_ROOT"' EXIT

# stage NAME CONFIG CREDENTIAL CA KEYS [LOGGBOK-KEY [DATA-SECRET]]: the boot partition's
# valgkiosk/ folder for one table, with its loggbok key (and data secret: new, a FILE, or
# empty for none; --data-secret's value when not given), validated as the kiosk will
# validate it at boot. Prints the folder; the public key is in FOLDER/loggbok.key.pub.
stage() {
  local secret=${7-$DATA_SECRET}
  local dir="$STAGE_ROOT/$1"
  mkdir -p "$dir"
  [ -f "$2" ] || die "finner ikke konfigurasjonen $2"
  cp "$2" "$dir/station.toml"
  [ -z "$3" ] || cp "$3" "$dir/credential"
  [ -z "$4" ] || cp "$4" "$dir/register-ca.pem"
  [ -z "$5" ] || cp "$5" "$dir/authorized_keys"
  cp "$HERE/boot/README.txt" "$dir/LESMEG.txt"
  if [ "$NO_LOGGBOK_KEY" = 0 ]; then
    local from=()
    if [ -n "${6:-}" ]; then
      [ -f "$6" ] || die "finner ikke loggboknøkkelen $6"
      from=(--from "$6")
    fi
    "$PY" -I -m valgkiosk.provisioning loggbok-key "$dir" "${from[@]}" >/dev/null \
      || die "loggboknøkkelen for $1 kunne ikke lages; ingenting er skrevet"
  fi
  if [ "$secret" = new ]; then
    (umask 077; "$PY" -I -c 'import secrets; print(secrets.token_hex(32))' >"$dir/data-secret")
  elif [ -n "$secret" ]; then
    local reason
    reason=$(check_secret "$secret" 2>&1) || die "datanøkkelen $secret kan ikke brukes ($reason); ingenting er skrevet"
    (umask 077; cp "$secret" "$dir/data-secret")
  fi
  local code=0
  "$PY" -I "$IMPORTER" --check "$dir" >&2 || code=$?
  case "$code" in
    0) ;;
    1) die "konfigurasjonen $2 er ikke gyldig; ingenting er skrevet" ;;
    *) die "kontrollen av $2 kunne ikke kjøres (feil $code, se over); ingenting er skrevet" ;;
  esac
  echo "$dir"
}

# check_secret FILE: exit 0 when FILE holds a usable data secret (64 hex digits, not all
# zeros); the reason on stderr otherwise.
check_secret() {
  [ -f "$1" ] || { echo "finner ikke filen $1" >&2; return 1; }
  "$PY" -I -c 'import sys
from valgkiosk import datakey
try:
    secret = datakey.FileSecret(sys.argv[1]).read()
except datakey.BoardSecretError as exc:
    sys.exit(str(exc))
if len(secret) != datakey.SECRET_BYTES:
    sys.exit(f"{sys.argv[1]} skal holde 64 heksadesimale tegn, ikke {2 * len(secret)}")
if not any(secret):
    sys.exit(f"{sys.argv[1]} holder bare nuller, det er ingen hemmelighet")' "$1"
}

# boot_offset FILE: byte offset of the first partition (the boot FAT).
boot_offset() {
  local start
  start=$(sfdisk --json "$1" | "$PY" -c "import json,sys; print(json.load(sys.stdin)['partitiontable']['partitions'][0]['start'])")
  echo $(( start * 512 ))
}

# write_boot TARGET STAGED-DIR HOSTNAME: the table's folder and identity into the boot FAT.
write_boot() {
  local fat cmdline
  fat="$1@@$(boot_offset "$1")"
  export MTOOLS_SKIP_CHECK=1
  mdeltree -i "$fat" ::/valgkiosk >/dev/null 2>&1 || true
  mcopy -s -i "$fat" "$2" ::/valgkiosk
  # A stable machine id and host name per table, on the kernel command line (the root
  # file system is read-only): the journal on the data partition stays one machine's.
  cmdline=$(mtype -i "$fat" ::/cmdline.txt | tr -d '\r\n' | sed -E 's/ ?systemd\.(machine_id|hostname)=[^ ]*//g')
  printf '%s systemd.machine_id=%s systemd.hostname=%s\n' "$cmdline" \
    "$("$PY" -c 'import uuid; print(uuid.uuid4().hex)')" "$3" >"$STAGE_ROOT/cmdline.txt"
  mcopy -o -i "$fat" "$STAGE_ROOT/cmdline.txt" ::/cmdline.txt
}

# table_name CONFIG: kommune-krets-bordN, from the config itself.
table_name() {
  "$PY" -I -c 'import sys, tomllib; s = tomllib.load(open(sys.argv[1], "rb"))["station"]
print("valgkiosk-{kommune}-{krets}-bord{bord}".format(**s))' "$1"
}

# announce_key NAME STAGED-DIR [OUT]: the table's public loggbok key, on stdout's side
# channel (stderr) and, with OUT, in OUT/NAME.loggbok.pub and OUT/loggbok-keys.csv.
announce_key() {
  [ -f "$2/loggbok.key.pub" ] || return 0
  local public
  public=$(tr -d '\n' <"$2/loggbok.key.pub")
  echo "loggboknøkkel $1 $public" >&2
  if [ -n "${3:-}" ]; then
    echo "$public" >"$3/$1.loggbok.pub"
    [ -f "$3/loggbok-keys.csv" ] || echo "name,public_key" >"$3/loggbok-keys.csv"
    grep -v "^$1," "$3/loggbok-keys.csv" >"$3/loggbok-keys.csv.new" || true
    echo "$1,$public" >>"$3/loggbok-keys.csv.new"
    mv "$3/loggbok-keys.csv.new" "$3/loggbok-keys.csv"
  fi
}

# provision_image NAME CONFIG CREDENTIAL CA KEYS [LOGGBOK-KEY [DATA-SECRET]]: OUT/NAME.img with
# the table's config.
provision_image() {
  local staged img
  staged=$(stage "$@")
  img="$OUT/$1.img"
  cp --sparse=always "$IMAGE" "$img.part"
  write_boot "$img.part" "$staged" "$1"
  mv "$img.part" "$img"
  bmaptool -q create -o "$img.bmap" "$img"
  announce_key "$1" "$staged" "$OUT"
  echo "$img"
}

if [ -n "$BULK" ] || [ -n "$IMAGE" ] || [ -n "$DEVICE" ]; then
  tools=(sfdisk:fdisk mcopy:mtools mtype:mtools mdeltree:mtools bmaptool:bmap-tools)
  [ -z "$SIGN_KEY" ] || tools+=(ssh-keygen:openssh-client)
  ensure_debian_packages "${tools[@]}" 2>/dev/null || true
  for pair in "${tools[@]}"; do
    command -v "${pair%%:*}" >/dev/null || die "mangler ${pair%%:*}: installer Debian-pakken ${pair#*:} (sudo apt-get install ${pair#*:})"
  done
fi

if [ "$CHECK_ONLY" = 1 ]; then
  [ -n "$CONFIG" ] || die "--check trenger --config"
  stage check "$CONFIG" "$CREDENTIAL" "$CA" "$KEYS" "$LOGGBOK_KEY" >/dev/null
  echo "Konfigurasjonen $CONFIG er gyldig."
  exit 0
fi

if [ -n "$DEVICE" ]; then
  [ -n "$CONFIG" ] || die "--device trenger --config"
  [ -n "$NAME" ] || NAME=$(table_name "$CONFIG")
  staged=$(stage "$NAME" "$CONFIG" "$CREDENTIAL" "$CA" "$KEYS" "$LOGGBOK_KEY")
  write_boot "$DEVICE" "$staged" "$NAME"
  sync
  announce_key "$NAME" "$staged"
  echo "Skrev $NAME til $DEVICE."
  exit 0
fi

{ [ -n "$IMAGE" ] && [ -f "$IMAGE" ]; } || die "--image må peke på et bygd image (image-build/build.sh)"
[ -n "$OUT" ] || die "--out mangler"
mkdir -p "$OUT"

if [ -n "$BULK" ]; then
  [ -f "$BULK" ] || die "finner ikke tabellen $BULK"
  base=$(cd "$(dirname "$BULK")" && pwd)
  [ -z "$DATA_SECRET" ] || die "--data-secret gjelder ett bord; med --bulk står det i kolonnen data_secret i $BULK"
  rel() { if [ -z "$1" ] || [ "${1#/}" != "$1" ]; then echo "$1"; else echo "$base/$1"; fi; }
  # The columns by name from a header row (any order), else in the documented order.
  columns=(name config credential ca authorized_keys loggbok_key data_secret)
  declare -A col=()
  # cell COLUMN: the current row's cell in that column (empty when the list has no such column).
  cell() { if [ -n "${col[$1]:-}" ]; then echo "${cells[${col[$1]}]:-}"; fi; }
  for i in "${!columns[@]}"; do col[${columns[$i]}]=$i; done
  # Validate every row before writing any image: a typo in row 12 stops the run at once.
  rows=() line=0
  while IFS= read -r text || [ -n "$text" ]; do
    line=$((line + 1))
    text=${text//$'\r'/}
    [ "$line" != 1 ] || text=${text#$'\xef\xbb\xbf'}  # a spreadsheet's byte order mark
    IFS=, read -r -a cells <<<"$text,"
    if [ "${cells[0]:-}" = name ]; then
      col=()
      for i in "${!cells[@]}"; do
        [ -n "${cells[$i]}" ] || continue
        case " ${columns[*]} " in *" ${cells[$i]} "*) ;;
          *) die "ukjent kolonne «${cells[$i]}» i $BULK (rad $line; kolonnene er ${columns[*]})" ;; esac
        col[${cells[$i]}]=$i
      done
      for need in name config; do
        [ -n "${col[$need]:-}" ] || die "kolonnen $need mangler i $BULK (rad $line)"
      done
      continue
    fi
    name=$(cell name)
    [ -n "$name" ] || continue
    case "$name" in *[!A-Za-z0-9._-]*) die "ugyldig navn «$name» i $BULK (bare bokstaver, sifre, . _ -)";; esac
    secret=$(cell data_secret)
    if [ -n "$secret" ] && [ "$secret" != new ]; then
      reason=$(check_secret "$(rel "$secret")" 2>&1) \
        || die "rad $line ($name) i $BULK: data_secret «$secret» kan ikke brukes ($reason); ingenting er skrevet"
      secret=$(rel "$secret")
    fi
    row=("$name" "$(rel "$(cell config)")" "$(rel "$(cell credential)")" "$(rel "$(cell ca)")"
         "$(rel "$(cell authorized_keys)")" "$(rel "$(cell loggbok_key)")" "$secret")
    stage "${row[@]}" >/dev/null
    rows+=("$(IFS='|'; echo "${row[*]}")")
  done <"$BULK"
  [ ${#rows[@]} -gt 0 ] || die "ingen bord i $BULK"
  for row in "${rows[@]}"; do
    IFS='|' read -r name config credential ca keys lkey secret <<<"$row"
    rm -rf "${STAGE_ROOT:?}/$name"
    provision_image "$name" "$config" "$credential" "$ca" "$keys" "$lkey" "$secret" >/dev/null
    echo "$OUT/$name.img"
  done
else
  [ -n "$CONFIG" ] || die "--config mangler"
  [ -n "$NAME" ] || NAME=$(table_name "$CONFIG")
  provision_image "$NAME" "$CONFIG" "$CREDENTIAL" "$CA" "$KEYS" "$LOGGBOK_KEY"
fi

# The public keys too: the register must be given the very keys that are in the images.
(cd "$OUT" && if [ -f loggbok-keys.csv ]; then extra=(loggbok-keys.csv *.loggbok.pub); else extra=(); fi
 sha256sum -- *.img *.img.bmap "${extra[@]}" >SHA256SUMS)
if [ -n "$SIGN_KEY" ]; then
  rm -f "$OUT/SHA256SUMS.sig"
  ssh-keygen -q -Y sign -f "$SIGN_KEY" -n valgkiosk-image "$OUT/SHA256SUMS"
fi
echo "Ferdig: $OUT/SHA256SUMS"
