# Shared set-up for scripts/run and scripts/test: Debian packages, the virtual
# environment, and a throw-away PostgreSQL server on loopback. Sourced, not run.

VALGKIOSK_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
VENV="$VALGKIOSK_ROOT/.venv"

log() { printf '[valgkiosk] %s\n' "$*" >&2; }

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

# ensure_debian_packages CMD:PACKAGE ...: install PACKAGE when CMD is missing.
ensure_debian_packages() {
  local missing=() pair cmd pkg
  for pair in "$@"; do
    cmd=${pair%%:*}; pkg=${pair#*:}
    if ! command -v "$cmd" >/dev/null 2>&1 && ! compgen -G "$cmd" >/dev/null; then
      missing+=("$pkg")
    fi
  done
  if [ ${#missing[@]} -gt 0 ]; then
    log "installing Debian packages: ${missing[*]}"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
}

# ensure_otp_qemu: a QEMU whose emulated Pi has OTP memory (9.1 and later: the bcm2835
# OTP and its firmware tags), for the image test's raspi3b boot (tests/system/
# test_image_boot.py), exported as VALGKIOSK_QEMU_OTP. Bookworm's own QEMU is 7.2: then
# bookworm-backports' qemu-system-arm is downloaded (apt-get download with a private
# sources list and lists folder: the host's apt sources and its installed QEMU stay as
# they are) and unpacked under ~/.cache/valgkiosk-qemu. Never fatal: without it the test
# runs on the system QEMU only.
ensure_otp_qemu() {
  local have major minor dir apt_opts
  have=$(qemu-system-aarch64 --version 2>/dev/null | sed -n 's/^QEMU emulator version \([0-9]*\)\.\([0-9]*\).*/\1 \2/p')
  read -r major minor <<<"${have:-0 0}"
  if [ "$major" -gt 9 ] || { [ "$major" = 9 ] && [ "$minor" -ge 1 ]; }; then return 0; fi
  # shellcheck disable=SC1091  # the host's own
  [ "$(. /etc/os-release && echo "${VERSION_CODENAME:-}")" = bookworm ] || return 0
  dir=${XDG_CACHE_HOME:-$HOME/.cache}/valgkiosk-qemu
  if [ ! -x "$dir/root/usr/bin/qemu-system-aarch64" ]; then
    log "QEMU with the Pi's OTP: qemu-system-arm from bookworm-backports, unpacked in $dir (not installed)"
    mkdir -p "$dir/lists/partial" "$dir/archives/partial"
    echo "deb http://deb.debian.org/debian bookworm-backports main" >"$dir/sources.list"
    apt_opts=(-o "Dir::Etc::sourcelist=$dir/sources.list" -o Dir::Etc::sourceparts=- -o "Dir::State::Lists=$dir/lists"
              -o "Dir::Cache::archives=$dir/archives" -o APT::Sandbox::User=root)
    if ! { apt-get "${apt_opts[@]}" update -qq >/dev/null 2>&1 \
           && (cd "$dir" && apt-get "${apt_opts[@]}" download -qq qemu-system-arm/bookworm-backports >/dev/null 2>&1) \
           && dpkg-deb -x "$(find "$dir" -maxdepth 1 -name 'qemu-system-arm_*.deb' | head -n1)" "$dir/root"; }; then
      log "no QEMU with OTP emulation (bookworm-backports unreachable?): the Pi's OTP test runs on QEMU $major.$minor only"
      return 0
    fi
  fi
  export VALGKIOSK_QEMU_OTP="$dir/root/usr/bin/qemu-system-aarch64"
}

# ensure_venv [EXTRAS]: create .venv and install the project (editable) when
# pyproject.toml changed since the last install.
ensure_venv() {
  local extras=${1:-}
  if ! python3 -c 'import venv, ensurepip' >/dev/null 2>&1; then
    ensure_debian_packages "/nonexistent:python3-venv"
  fi
  if [ ! -x "$VENV/bin/python" ]; then
    log "creating the virtual environment in .venv (once; about a minute with the install that follows)"
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install -q --upgrade pip
  fi
  local stamp="$VENV/.installed" want
  want="$(sha256sum "$VALGKIOSK_ROOT/pyproject.toml" | cut -d' ' -f1) $extras"
  if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    log "installing valgkiosk${extras:+[$extras]} and its dependencies into .venv from PyPI (when pyproject.toml changed)"
    if [ -t 2 ]; then  # a person is watching: show what pip fetches, one line each
      "$VENV/bin/pip" install -e "$VALGKIOSK_ROOT${extras:+[$extras]}" 2>&1 \
        | { grep --line-buffered -E '^(Collecting|Installing|Successfully)' | sed -u 's/^/[valgkiosk]   /' >&2 || true; }
    else
      "$VENV/bin/pip" install -q -e "$VALGKIOSK_ROOT${extras:+[$extras]}"
    fi
    echo "$want" >"$stamp"
  fi
}

# start_test_postgres: start a private PostgreSQL on 127.0.0.1 and export
# VALGKIOSK_TEST_PG_DSN; stop_test_postgres removes it again.
start_test_postgres() {
  ensure_debian_packages "/usr/lib/postgresql/*/bin/initdb:postgresql"
  local bindir
  bindir=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n1)
  PG_DIR=$(mktemp -d "${TMPDIR:-/tmp}/valgkiosk-pg.XXXXXX")
  local runas=()
  if [ "$(id -u)" = 0 ]; then
    chown postgres: "$PG_DIR"
    runas=(runuser -u postgres --)
  fi
  local port
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  "${runas[@]}" "$bindir/initdb" -D "$PG_DIR/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
  cat >>"$PG_DIR/data/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$PG_DIR'
max_connections = 300
shared_buffers = 256MB
# WAL archiving on (it needs a restart), archiving nothing: the pgBackRest test
# (tests/register/test_backup.py) points archive_command at its own repository for its
# run, which needs only a reload.
archive_mode = on
archive_command = '/bin/true'
CONF
  "${runas[@]}" "$bindir/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w -t 60 start >/dev/null
  PG_CTL=("${runas[@]}" "$bindir/pg_ctl" -D "$PG_DIR/data")
  export VALGKIOSK_TEST_PG_DSN="postgresql://postgres@127.0.0.1:$port/postgres"
  export VALGKIOSK_TEST_PG_BINDIR="$bindir"
  log "PostgreSQL $("$bindir/postgres" --version | awk '{print $3}') on 127.0.0.1:$port"
}

stop_test_postgres() {
  if [ -n "${PG_DIR:-}" ] && [ -d "$PG_DIR" ]; then
    "${PG_CTL[@]}" -m immediate stop >/dev/null 2>&1 || true
    rm -rf "$PG_DIR"
  fi
}
