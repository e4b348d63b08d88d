#!/usr/bin/env bash
# lanpos-server as a systemd service (Debian/Ubuntu):
#   bash installer/service.sh install     [--owner-password PW] [--no-start]
#                  [--standby-of https://PRIMARY:8643 --fingerprint FP
#                   (--pairing-code C | --username U --password P)]
#   bash installer/service.sh upgrade     stop, reinstall the code from this checkout, start
#   bash installer/service.sh status
#   bash installer/service.sh uninstall   [--purge [--yes]]   (keeps /var/lib/lanpos unless --purge)
#   bash installer/service.sh render-unit [--venv DIR] [--data-dir DIR] [--user U] [--group G]
#
# Layout: code in /opt/lanpos (root-owned, its own venv /opt/lanpos/venv made with a normal,
# non-editable `pip install` of this checkout: the service does not need the checkout
# afterwards), data in /var/lib/lanpos (lanpos:lanpos, 0700: the only thing the service user
# owns), the unit in /etc/systemd/system/lanpos-server.service, logs in the journal.
#
# LANPOS_SERVICE_ROOT=DIR (tests, image building): every path above is put under DIR; the files
# are written there, and the commands that would change the rest of the machine (apt-get,
# useradd, chown, runuser, systemctl, userdel) are printed and recorded in
# DIR/lanpos-service.plan instead of run. Otherwise it is the same code.
set -euo pipefail
umask 022   # the code and the unit must be readable by the service user whatever root's umask

SRC="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SETUP="$SRC/installer/setup.sh"
TEMPLATE="$SRC/installer/lanpos-server.service"

ROOT="${LANPOS_SERVICE_ROOT:-}"
ROOT="${ROOT%/}"
SERVICE_USER=lanpos
SERVICE_GROUP=lanpos
OPT_DIR=/opt/lanpos
VENV="$OPT_DIR/venv"
DATA_DIR=/var/lib/lanpos
UNIT_DIR=/etc/systemd/system
UNIT_NAME=lanpos-server.service
UNIT_PATH="$UNIT_DIR/$UNIT_NAME"
PLAN="${ROOT:+$ROOT/lanpos-service.plan}"

say() { echo "[lanpos] $*"; }
die() { echo "[lanpos] error: $*" >&2; exit 1; }

usage() {
  echo "usage:" >&2
  sed -n '3,9p' "${BASH_SOURCE[0]}" | sed 's/^#//' >&2
  exit 2
}

# A command that changes the machine outside the files this script writes (packages, users,
# ownership, services). With LANPOS_SERVICE_ROOT it is only printed and recorded in the plan.
SECRET=""
sys() {
  local shown
  shown="$(printf '%q ' "$@")"
  shown="${shown% }"
  if [ -n "$SECRET" ]; then shown="${shown//"$(printf '%q' "$SECRET")"/***}"; fi
  if [ -n "$ROOT" ]; then
    echo "[lanpos] (LANPOS_SERVICE_ROOT: not run) $shown"
    echo "$shown" >> "$PLAN"
  else
    echo "[lanpos] + $shown"
    "$@"
  fi
}

# ---------------------------------------------------------------------------------------------
# The unit: the checked-in file with other paths substituted (render-unit; the test uses it too)
sed_escape() { printf '%s' "$1" | sed -e 's/[\\#&]/\\&/g'; }

render_unit() {  # VENV DATA_DIR USER GROUP -> the unit on stdout
  local venv data user group
  venv="$(sed_escape "$1")"; data="$(sed_escape "$2")"
  user="$(sed_escape "$3")"; group="$(sed_escape "$4")"
  sed -e "s#/opt/lanpos/venv/#$venv/#g" \
      -e "s#/var/lib/lanpos#$data#g" \
      -e "s#^User=lanpos\$#User=$user#" \
      -e "s#^Group=lanpos\$#Group=$group#" \
      "$TEMPLATE"
}

# ---------------------------------------------------------------------------------------------
# What this machine is
systemd_running() { [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; }

user_exists() {
  if [ -n "$ROOT" ]; then grep -q "^$1:" "$ROOT/etc/passwd" 2>/dev/null
  else getent passwd "$1" >/dev/null; fi
}
group_exists() {
  if [ -n "$ROOT" ]; then grep -q "^$1:" "$ROOT/etc/group" 2>/dev/null
  else getent group "$1" >/dev/null; fi
}

# A lanpos server (started by hand or by systemd) holds <data-dir>/server.lock while it runs.
server_running() {
  local lock="$ROOT$DATA_DIR/server.lock"
  [ -e "$lock" ] && command -v flock >/dev/null 2>&1 && ! flock -n "$lock" true
}

by_hand() {
  echo "runuser -u $SERVICE_USER -- env LANPOS_DATA_DIR=$DATA_DIR" \
       "$VENV/bin/lanpos-server run --data-dir $DATA_DIR"
}

# ---------------------------------------------------------------------------------------------
# Steps
apt_dependencies() {
  # The package list and the installing function are setup.sh's own (one list for both
  # installers). Not `bash installer/setup.sh install`: that also builds the development .venv
  # in this checkout, which would be root's when this runs as root.
  local defs
  defs="$(sed -n -e '/^APT_PACKAGES=(/,/^)/p' -e '/^install_apt() {/,/^}/p' \
                 -e '/^pick_python() {/,/^}/p' "$SETUP")"
  eval "$defs"
  declare -F install_apt >/dev/null && declare -F pick_python >/dev/null &&
    [ "${#APT_PACKAGES[@]}" -gt 0 ] ||
    die "could not read APT_PACKAGES / install_apt / pick_python from $SETUP"
  # shellcheck disable=SC2034  # read by install_apt: its apt-get and systemctl go through sys()
  local SUDO=sys
  install_apt
}

create_user() {
  if ! group_exists "$SERVICE_GROUP"; then
    sys groupadd --system "$SERVICE_GROUP"
  fi
  if ! user_exists "$SERVICE_USER"; then
    sys useradd --system --gid "$SERVICE_GROUP" --home-dir "$DATA_DIR" --no-create-home \
        --shell /usr/sbin/nologin --comment "lanpos server" "$SERVICE_USER"
  fi
}

venv_ok() {  # the venv exists, runs, and its interpreter is readable by the service user
  local base
  [ -x "$ROOT$VENV/bin/python" ] && "$ROOT$VENV/bin/python" -c '' 2>/dev/null || return 1
  base="$(readlink -f "$ROOT$VENV/bin/python")"
  case "$base" in /root/*|/home/*) return 1 ;; esac
}

install_code() {  # $1 = yes|no: build the venv
  local build_venv="$1" py tmp f
  install -d -m 0755 "$ROOT$OPT_DIR"
  install -m 0644 "$SRC/README.md" "$ROOT$OPT_DIR/README.md"
  if [ "$build_venv" = yes ]; then
    if ! venv_ok; then
      # a system interpreter: not one under /root or /home (pyenv, ~/.local), which the service
      # user cannot read and ProtectHome=yes hides
      py="$(PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
            command -v "$(pick_python)")"
      say "creating $VENV with $py"
      "$py" -m venv --clear "$ROOT$VENV"
      venv_ok || die "$VENV/bin/python ($(readlink -f "$ROOT$VENV/bin/python")) is not usable by the service"
    fi
    # Build from a copy of the sources (pip/setuptools would write build/ and *.egg-info into
    # the checkout otherwise); a normal, non-editable install.
    tmp="$(mktemp -d)"
    for f in pyproject.toml README.md setup.cfg setup.py MANIFEST.in LICENSE LICENSE.txt \
             common server client; do
      if [ -e "$SRC/$f" ]; then cp -R "$SRC/$f" "$tmp/"; fi
    done
    find "$tmp" \( -name __pycache__ -o -name '*.egg-info' \) -prune -exec rm -rf {} +
    say "installing lanpos from $SRC into $VENV"
    # (pip reinstalls a local directory even when the version number did not change)
    if ! PIP_DISABLE_PIP_VERSION_CHECK=1 "$ROOT$VENV/bin/python" -m pip install -q \
         --root-user-action=ignore --upgrade "$tmp"; then
      rm -rf "$tmp"; die "pip install into $VENV failed"
    fi
    rm -rf "$tmp"
    "$ROOT$VENV/bin/lanpos-server" --version >/dev/null || die "$VENV/bin/lanpos-server does not run"
  else
    say "--no-venv: not building $VENV"
  fi
  {
    echo "source=$SRC"
    echo "commit=$(git -c safe.directory="$SRC" -C "$SRC" rev-parse HEAD 2>/dev/null ||
                   echo unknown)"
    echo "installed=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  } > "$ROOT$OPT_DIR/INSTALLED"
  # root's, and writable by nobody else: the service user cannot change the code it runs
  sys chown -R root:root "$ROOT$OPT_DIR"
  chmod -R go-w "$ROOT$OPT_DIR"
}

install_unit() {
  local tmp
  install -d -m 0755 "$ROOT$UNIT_DIR"
  tmp="$(mktemp)"
  render_unit "$VENV" "$DATA_DIR" "$SERVICE_USER" "$SERVICE_GROUP" > "$tmp"
  install -m 0644 "$tmp" "$ROOT$UNIT_PATH"
  rm -f "$tmp"
  say "unit: $ROOT$UNIT_PATH"
}

make_data_dir() {
  install -d -m 0700 "$ROOT$DATA_DIR"
  chmod 0700 "$ROOT$DATA_DIR"
  sys chown -R "$SERVICE_USER:$SERVICE_GROUP" "$ROOT$DATA_DIR"
}

init_data() {  # $1 = owner password or ""
  if [ -e "$ROOT$DATA_DIR/lanpos.toml" ]; then
    say "data directory $DATA_DIR already set up (lanpos.toml exists): kept as it is"
    return
  fi
  local args=(init --data-dir "$DATA_DIR")
  if [ -n "$1" ]; then args+=(--owner-password "$1"); SECRET="$1"; fi
  say "creating the shop database in $DATA_DIR (as user $SERVICE_USER)"
  # as the service user, from a directory it may read; stdin not a terminal: a generated
  # owner password is printed (unless --owner-password)
  (cd / && sys runuser -u "$SERVICE_USER" -- env LANPOS_DATA_DIR="$DATA_DIR" \
      "$VENV/bin/lanpos-server" "${args[@]}" < /dev/null)
  SECRET=""
}

standby_data() {  # $1 = primary address, $2 = pairing code, $3 = username, $4 = password,
                  # $5 = the primary's certificate fingerprint (as its screen shows it)
  if [ -e "$ROOT$DATA_DIR/lanpos.toml" ]; then
    say "data directory $DATA_DIR already set up (lanpos.toml exists): kept as it is"
    return
  fi
  local args=(standby init --primary "$1" --data-dir "$DATA_DIR")
  if [ -n "${5:-}" ]; then args+=(--fingerprint "$5"); fi
  if [ -n "$2" ]; then
    args+=(--pairing-code "$2"); SECRET="$2"
  else
    [ -n "$4" ] || die "--standby-of needs --pairing-code C (from the primary's back office) or --username U --password P"
    args+=(--username "${3:-owner}" --password "$4"); SECRET="$4"
  fi
  say "making $DATA_DIR the standby of $1 (as user $SERVICE_USER)"
  (cd / && sys runuser -u "$SERVICE_USER" -- env LANPOS_DATA_DIR="$DATA_DIR" \
      "$VENV/bin/lanpos-server" "${args[@]}" < /dev/null)
  SECRET=""
}

start_service() {  # $1 = yes|no
  if systemd_running; then
    sys systemctl daemon-reload
    if [ "$1" = yes ]; then
      sys systemctl enable --now "$UNIT_NAME"
      wait_healthy
    else
      sys systemctl enable "$UNIT_NAME"
      say "--no-start: enabled (starts at boot), not started. Start it: systemctl start lanpos-server"
    fi
  else
    # systemctl enables offline (it only makes the multi-user.target.wants link)
    if command -v systemctl >/dev/null 2>&1; then
      sys systemctl enable "$UNIT_NAME" || say "warning: systemctl enable failed"
    fi
    say "systemd is not running on this machine (a container?): the service is installed but"
    say "cannot be started by systemd here. Start the server by hand (as root):"
    say "    $(by_hand)"
  fi
}

config_port() {
  local port=""
  if [ -x "$ROOT$VENV/bin/python" ] && [ -r "$ROOT$DATA_DIR/lanpos.toml" ]; then
    port="$("$ROOT$VENV/bin/python" -c 'import sys, tomllib
print(tomllib.load(open(sys.argv[1], "rb")).get("server", {}).get("port", 8600))' \
            "$ROOT$DATA_DIR/lanpos.toml" 2>/dev/null || true)"
  fi
  echo "${port:-8600}"
}

health_ok() {
  "$ROOT$VENV/bin/python" -c 'import sys, urllib.request
urllib.request.urlopen(sys.argv[1], timeout=2)' \
    "http://127.0.0.1:$1/api/v1/health" >/dev/null 2>&1
}

wait_healthy() {
  [ -z "$ROOT" ] || return 0
  local port i
  port="$(config_port)"
  # the first start after an upgrade backs up and migrates the database before it serves
  for i in $(seq 1 180); do
    if health_ok "$port"; then
      say "lanpos-server is running: curl http://127.0.0.1:$port/api/v1/health"
      say "logs: journalctl -u lanpos-server"
      return 0
    fi
    if ! systemctl is-active --quiet "$UNIT_NAME" && [ "$i" -gt 5 ]; then break; fi
    sleep 1
  done
  say "warning: the server did not answer on port $port yet; see: journalctl -u lanpos-server -n 50"
  systemctl status --no-pager "$UNIT_NAME" || true
}

stop_service() {  # stop the service; refuse to go on while any server still uses the data
  if systemd_running && { [ -n "$ROOT" ] || systemctl is-active --quiet "$UNIT_NAME"; }; then
    sys systemctl stop "$UNIT_NAME"
  fi
  if server_running; then
    die "a lanpos server is running on $DATA_DIR (started by hand?): stop it first (Ctrl+C or kill -TERM)"
  fi
}

need_root() {
  [ -z "$ROOT" ] || return 0
  [ "$(id -u)" -eq 0 ] && return 0
  command -v sudo >/dev/null 2>&1 || die "run this as root"
  exec sudo -- bash "${BASH_SOURCE[0]}" "$@"
}

# ---------------------------------------------------------------------------------------------
# Commands
cmd_install() {
  local start=yes venv=yes password="" standby_of="" code="" username="owner" fingerprint=""
  while [ $# -gt 0 ]; do
    case "$1" in
      --no-start) start=no ;;
      --no-venv) venv=no ;;
      --owner-password|--password) [ $# -ge 2 ] || usage; password="$2"; shift ;;
      --owner-password=*|--password=*) password="${1#*=}" ;;
      --standby-of) [ $# -ge 2 ] || usage; standby_of="$2"; shift ;;
      --pairing-code) [ $# -ge 2 ] || usage; code="$2"; shift ;;
      --fingerprint) [ $# -ge 2 ] || usage; fingerprint="$2"; shift ;;
      --username) [ $# -ge 2 ] || usage; username="$2"; shift ;;
      *) usage ;;
    esac
    shift
  done
  if [ "$venv" = no ] && [ -z "$ROOT" ]; then
    die "--no-venv is only for LANPOS_SERVICE_ROOT test layouts (the service runs from the venv)"
  fi
  : > "${PLAN:-/dev/null}"
  apt_dependencies
  create_user
  stop_service   # installing again: not under a running server (started again below)
  install_code "$venv"
  make_data_dir
  install_unit
  if [ -n "$standby_of" ]; then
    standby_data "$standby_of" "$code" "$username" "$password" "$fingerprint"
  else
    init_data "$password"
  fi
  start_service "$start"
  say "installed: code $OPT_DIR, data $DATA_DIR (owner $SERVICE_USER), unit $UNIT_PATH"
  say "upgrade: bash installer/service.sh upgrade   uninstall: bash installer/service.sh uninstall"
}

cmd_upgrade() {
  local venv=yes start=yes
  while [ $# -gt 0 ]; do
    case "$1" in
      --no-venv) venv=no ;;
      --no-start) start=no ;;
      *) usage ;;
    esac
    shift
  done
  if [ "$venv" = no ] && [ -z "$ROOT" ]; then
    die "--no-venv is only for LANPOS_SERVICE_ROOT test layouts"
  fi
  [ -e "$ROOT$UNIT_PATH" ] || die "not installed ($UNIT_PATH missing): bash installer/service.sh install"
  : > "${PLAN:-/dev/null}"
  apt_dependencies
  stop_service
  install_code "$venv"
  install_unit
  make_data_dir
  # the server takes a pre-migration backup and migrates the database itself when it starts
  if systemd_running; then
    sys systemctl daemon-reload
    if [ "$start" = yes ]; then
      sys systemctl start "$UNIT_NAME"
      wait_healthy
    fi
  else
    say "systemd is not running here: start the upgraded server by hand: $(by_hand)"
  fi
  say "upgraded from $SRC"
}

cmd_uninstall() {
  local purge=no yes=no answer
  while [ $# -gt 0 ]; do
    case "$1" in
      --purge) purge=yes ;;
      --yes|-y) yes=yes ;;
      *) usage ;;
    esac
    shift
  done
  if [ "$purge" = yes ] && [ "$yes" = no ] && [ -t 0 ]; then
    echo "[lanpos] --purge deletes $DATA_DIR: the shop database, its config and every backup in it."
    read -r -p "[lanpos] type 'purge' to go on: " answer
    [ "$answer" = purge ] || die "nothing removed"
  fi
  : > "${PLAN:-/dev/null}"
  stop_service
  if command -v systemctl >/dev/null 2>&1 && [ -e "$ROOT$UNIT_PATH" ]; then
    sys systemctl disable "$UNIT_NAME" || true
  fi
  rm -f "$ROOT$UNIT_PATH"
  if systemd_running; then sys systemctl daemon-reload; fi
  rm -rf "$ROOT$OPT_DIR"
  say "removed the service ($ROOT$UNIT_PATH) and the code ($ROOT$OPT_DIR)"
  if [ "$purge" = yes ]; then
    rm -rf "$ROOT$DATA_DIR"
    if user_exists "$SERVICE_USER" || [ -n "$ROOT" ]; then sys userdel "$SERVICE_USER" || true; fi
    if group_exists "$SERVICE_GROUP"; then sys groupdel "$SERVICE_GROUP" || true; fi
    say "--purge: deleted the data ($DATA_DIR) and the user $SERVICE_USER"
  else
    say "kept the data in $DATA_DIR (database, config, backups) and the user $SERVICE_USER;"
    say "a later install uses them again. To delete them too: bash installer/service.sh uninstall --purge"
  fi
}

cmd_status() {
  local rc=0 port
  if [ -e "$ROOT$UNIT_PATH" ]; then say "unit: $UNIT_PATH"; else say "unit: not installed"; rc=3; fi
  if [ -x "$ROOT$VENV/bin/lanpos-server" ]; then
    say "code: $VENV ($("$ROOT$VENV/bin/lanpos-server" --version 2>/dev/null || echo '?'))"
  else
    say "code: $VENV missing"; rc=3
  fi
  if [ -e "$ROOT$OPT_DIR/INSTALLED" ]; then sed 's/^/[lanpos]   /' "$ROOT$OPT_DIR/INSTALLED"; fi
  if [ -e "$ROOT$DATA_DIR/lanpos.toml" ]; then say "data: $DATA_DIR"
  elif [ -d "$ROOT$DATA_DIR" ]; then say "data: $DATA_DIR (not initialised)"
  else say "data: $DATA_DIR missing"; fi
  [ -z "$ROOT" ] || return "$rc"
  if systemd_running; then
    systemctl status --no-pager "$UNIT_NAME" || rc=3
  else
    say "systemd is not running on this machine; by hand: $(by_hand)"
  fi
  if [ -x "$VENV/bin/python" ]; then
    port="$(config_port)"
    if health_ok "$port"; then say "health: http://127.0.0.1:$port/api/v1/health answers"
    else say "health: nothing answers on http://127.0.0.1:$port/api/v1/health"; rc=3; fi
  fi
  say "logs: journalctl -u lanpos-server (and $DATA_DIR/logs/server.log)"
  return "$rc"
}

cmd_render_unit() {
  local venv="$VENV" data="$DATA_DIR" user="$SERVICE_USER" group="$SERVICE_GROUP"
  while [ $# -gt 0 ]; do
    [ $# -ge 2 ] || usage
    case "$1" in
      --venv) venv="${2%/}" ;;
      --data-dir) data="${2%/}" ;;
      --user) user="$2" ;;
      --group) group="$2" ;;
      *) usage ;;
    esac
    shift 2
  done
  render_unit "$venv" "$data" "$user" "$group"
}

MODE="${1:-}"
[ $# -gt 0 ] && shift
if [ -n "$ROOT" ]; then mkdir -p "$ROOT"; ROOT="$(cd "$ROOT" && pwd)"; PLAN="$ROOT/lanpos-service.plan"; fi
case "$MODE" in
  install)     need_root "$MODE" "$@"; cmd_install "$@" ;;
  upgrade)     need_root "$MODE" "$@"; cmd_upgrade "$@" ;;
  uninstall)   need_root "$MODE" "$@"; cmd_uninstall "$@" ;;
  status)      cmd_status "$@" ;;
  render-unit) cmd_render_unit "$@" ;;
  *) usage ;;
esac
