#!/usr/bin/env bash
# lanpos installer: installs everything the project needs on Debian/Ubuntu, then
#   installer/setup.sh run    server with demo data (+ a counter window when a display exists)
#   installer/setup.sh test   the whole test suite
#   installer/setup.sh install  only install
# Idempotent: a second run installs nothing new.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
MODE="${1:-install}"
shift || true

APT_PACKAGES=(
  mariadb-server mariadb-client            # the managed database and mariadb-dump
  mariadb-backup                           # bench seeding: the physical copy measured against our dump
  python3 python3-venv python3-pip         # the virtualenv
  fonts-noto-cjk fonts-wqy-microhei        # Chinese text in the client and receipt images
  libgl1 libegl1 libglib2.0-0 libfontconfig1 libdbus-1-3 libxkbcommon0
  libxkbcommon-x11-0 libxcb-cursor0 libxcb-icccm4 libxcb-image0 libxcb-keysyms1
  libxcb-randr0 libxcb-render-util0 libxcb-shape0 libxcb-xinerama0 libxcb-xkb1  # Qt runtime
  xvfb                                     # a virtual display for screenshots
  libusb-1.0-0                             # USB receipt printers (pyusb)
  openssl                                  # the server's own CA and certificates (TLS)
  nginx-light                              # the TLS front of the API (server/ops/tlsfront.py)
  iproute2                                 # tests: a second host in a network namespace (TLS)
  binutils libpython3-dev                  # PyInstaller (the counter bundle): objdump, libpython3.X.so
)

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

install_apt() {
  local missing=()
  for p in "${APT_PACKAGES[@]}"; do
    if [ "$p" = nginx-light ] &&
       ! dpkg-query -W -f='${Status}' nginx-light 2>/dev/null | grep -q "install ok installed" &&
       ! apt-cache show nginx-light >/dev/null 2>&1; then
      p=nginx  # no nginx-light here (Debian 13, newer Ubuntu): plain nginx serves the same
    fi
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ "${#missing[@]}" -gt 0 ]; then
    echo "[lanpos] installing system packages: ${missing[*]}"
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -q
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
  fi
  # lanpos runs its own MariaDB instance; the distribution's service is not needed
  if command -v systemctl >/dev/null 2>&1 && systemctl is-enabled mariadb >/dev/null 2>&1; then
    $SUDO systemctl disable --now mariadb >/dev/null 2>&1 || true
  fi
  # ... nor the distribution's nginx: lanpos-server run starts its own (the TLS front)
  if [ -d /run/systemd/system ] && systemctl is-enabled nginx >/dev/null 2>&1; then
    $SUDO systemctl disable --now nginx >/dev/null 2>&1 || true
  fi
}

pick_python() {
  for py in python3.13 python3.12 python3.11 python3; do
    if command -v "$py" >/dev/null 2>&1 &&
       "$py" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' 2>/dev/null; then
      echo "$py"; return
    fi
  done
  echo "[lanpos] Python 3.11 or newer is required" >&2; exit 1
}

install_venv() {
  local py stamp want
  py="$(pick_python)"
  if [ ! -x .venv/bin/python ]; then
    echo "[lanpos] creating virtualenv .venv with $py"
    "$py" -m venv .venv
  fi
  stamp=".venv/.lanpos-installed"
  want="$(sha256sum pyproject.toml | cut -d' ' -f1)"
  if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    echo "[lanpos] installing Python packages into .venv"
    .venv/bin/python -m pip install -q --upgrade pip
    .venv/bin/python -m pip install -q -e ".[dev]"
    echo "$want" > "$stamp"
  fi
}

install_apt
install_venv

case "$MODE" in
  install)
    echo "[lanpos] installed. Run: installer/setup.sh run   or   installer/setup.sh test"
    ;;
  test)
    export QT_QPA_PLATFORM=offscreen
    exec .venv/bin/python -m pytest "$@"
    ;;
  run)
    PORT="${LANPOS_PORT:-8600}"
    .venv/bin/lanpos-server demo --port "$PORT" "$@" &
    SERVER=$!
    trap 'kill -TERM $SERVER 2>/dev/null; wait $SERVER' INT TERM
    for _ in $(seq 1 120); do
      if ! kill -0 "$SERVER" 2>/dev/null; then wait "$SERVER"; exit $?; fi
      if .venv/bin/python -c "import urllib.request,sys; urllib.request.urlopen('http://127.0.0.1:$PORT/api/v1/health', timeout=1)" 2>/dev/null; then break; fi
      sleep 0.5
    done
    IP="$(hostname -I 2>/dev/null | awk '{print $1}')"
    if [ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ]; then
      echo "[lanpos] opening the counter window"
      .venv/bin/lanpos-client --server "http://127.0.0.1:$PORT" --counter 01 &
    else
      echo "[lanpos] no display here. On a counter PC run (and compare the fingerprint printed above):"
      echo "           lanpos-client --server ${IP:-<this-machine-ip>}:$((PORT + 43))"
    fi
    echo "[lanpos] server running: curl http://127.0.0.1:$PORT/api/v1/health  (Ctrl+C stops)"
    wait "$SERVER"
    ;;
  *)
    echo "usage: installer/setup.sh [install|run|test] [args...]" >&2; exit 2
    ;;
esac
