#!/usr/bin/env bash
# Installs the counter bundle (收银台) for the current user — no root needed:
#   installer/counter-install.sh [--autostart] lanpos-counter-VERSION-linux-ARCH.tar.gz
#   installer/counter-install.sh --no-autostart     stop starting with the session
#   installer/counter-install.sh --uninstall        remove the program and its shortcuts
# What it writes (XDG_DATA_HOME / XDG_CONFIG_HOME are honoured):
#   ~/.local/opt/lanpos-counter/                       the program (a new install replaces it)
#   ~/.local/share/applications/lanpos-counter.desktop the menu entry
#   ~/Desktop/lanpos-counter.desktop                   a desktop shortcut (when the folder exists)
#   ~/.config/autostart/lanpos-counter.desktop         with --autostart: starts with the session
# Settings (server address, counter name) are not touched: ~/.config/lanpos/client.json; the
# first start shows the setup dialog. LANPOS_COUNTER_HOME overrides the program folder.
set -euo pipefail

NAME="lanpos-counter"
PREFIX="${LANPOS_COUNTER_HOME:-$HOME/.local/opt/$NAME}"
APPS="${XDG_DATA_HOME:-$HOME/.local/share}/applications"
AUTOSTART_DIR="${XDG_CONFIG_HOME:-$HOME/.config}/autostart"
MENU_ENTRY="$APPS/$NAME.desktop"
AUTOSTART_ENTRY="$AUTOSTART_DIR/$NAME.desktop"

usage() {
  sed -n '2,5p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

say() { echo "[lanpos] $*"; }

desktop_dir() {
  # the user's desktop folder (桌面 on a Chinese desktop), when it exists
  local d=""
  if command -v xdg-user-dir >/dev/null 2>&1; then d="$(xdg-user-dir DESKTOP 2>/dev/null || true)"; fi
  if [ -n "$d" ] && [ "$d" != "$HOME" ] && [ -d "$d" ]; then echo "$d"; return; fi
  if [ -d "$HOME/Desktop" ]; then echo "$HOME/Desktop"; fi
}

write_entry() {  # write_entry FILE [autostart]
  local file="$1" tmp
  mkdir -p "$(dirname "$file")"
  tmp="$file.tmp.$$"
  {
    echo "[Desktop Entry]"
    echo "Type=Application"
    echo "Version=1.0"
    echo "Name=lanpos 收银台"
    echo "Name[zh_CN]=lanpos 收银台"
    echo "Name[en]=lanpos counter"
    echo "GenericName=收银台"
    echo "Comment=会员管理收银系统 收银台"
    echo "Comment[en]=lanpos member-management and cashier counter"
    echo "Exec=\"$PREFIX/$NAME\""
    echo "Path=$PREFIX"
    if [ -f "$PREFIX/_internal/$NAME.png" ]; then echo "Icon=$PREFIX/_internal/$NAME.png"; fi
    echo "Terminal=false"
    echo "Categories=Office;Finance;"
    echo "StartupNotify=true"
    echo "StartupWMClass=lanpos"
    if [ "${2:-}" = autostart ]; then
      echo "X-GNOME-Autostart-enabled=true"
      echo "X-GNOME-Autostart-Delay=5"
    fi
  } > "$tmp"
  chmod 0755 "$tmp"  # a desktop launcher must be executable to be trusted
  mv -f "$tmp" "$file"
}

uninstall() {
  local d
  rm -f "$MENU_ENTRY" "$AUTOSTART_ENTRY"
  d="$(desktop_dir)"
  if [ -n "$d" ]; then rm -f "$d/$NAME.desktop"; fi
  case "$PREFIX" in
    ""|/|"$HOME") echo "[lanpos] refusing to remove $PREFIX" >&2; exit 1 ;;
  esac
  rm -rf "$PREFIX"
  refresh_menu
  say "removed $PREFIX and its shortcuts (settings kept in ~/.config/lanpos/)"
}

refresh_menu() {
  if command -v update-desktop-database >/dev/null 2>&1; then
    update-desktop-database -q "$APPS" 2>/dev/null || true
  fi
}

install_bundle() {
  local archive="$1" parent stage old d
  [ -f "$archive" ] || { echo "[lanpos] no such file: $archive" >&2; exit 1; }
  parent="$(dirname "$PREFIX")"
  mkdir -p "$parent"
  stage="$(mktemp -d "$parent/.$NAME.new.XXXXXX")"
  trap 'rm -rf "$stage"' EXIT
  tar -xzf "$archive" -C "$stage"
  if [ ! -x "$stage/$NAME/$NAME" ]; then
    echo "[lanpos] $archive is not a counter bundle (no $NAME/$NAME inside)" >&2
    exit 1
  fi
  # replace the old program only once the new one is unpacked whole
  old=""
  if [ -e "$PREFIX" ]; then
    old="$stage/old"
    mv "$PREFIX" "$old"
  fi
  mv "$stage/$NAME" "$PREFIX"
  rm -rf "$stage"
  trap - EXIT

  write_entry "$MENU_ENTRY"
  d="$(desktop_dir)"
  if [ -n "$d" ]; then
    write_entry "$d/$NAME.desktop"
    if command -v gio >/dev/null 2>&1; then  # GNOME: launchable without "allow launching"
      timeout 5 gio set "$d/$NAME.desktop" metadata::trusted true 2>/dev/null || true
    fi
  fi
  if [ "$AUTOSTART" = yes ]; then
    write_entry "$AUTOSTART_ENTRY" autostart
  elif [ "$AUTOSTART" = no ]; then
    rm -f "$AUTOSTART_ENTRY"
  elif [ -f "$AUTOSTART_ENTRY" ]; then
    write_entry "$AUTOSTART_ENTRY" autostart  # kept as chosen before, refreshed
  fi
  refresh_menu

  say "installed $PREFIX/$NAME"
  say "menu entry: $MENU_ENTRY"
  if [ -n "$d" ]; then say "desktop shortcut: $d/$NAME.desktop"; fi
  if [ -f "$AUTOSTART_ENTRY" ]; then say "starts with the session: $AUTOSTART_ENTRY"; fi
  check_install
  say "first start: enter the server address (e.g. 192.168.1.10) and compare the fingerprint and the counter name"
}

check_install() {
  # the program starts here? (offscreen: works without a display and shows no window)
  local report
  if report="$(QT_QPA_PLATFORM=offscreen "$PREFIX/$NAME" --check 2>&1)"; then
    say "check: ok ($(echo "$report" | grep '^font:' || true))"
  else
    echo "$report" >&2
    echo "[lanpos] the counter program does not start on this machine." >&2
    if command -v ldd >/dev/null 2>&1; then
      local missing
      missing="$(ldd "$PREFIX"/_internal/PyQt6/Qt6/plugins/platforms/libqxcb.so 2>/dev/null \
                 | awk '/not found/ {print $1}' | sort -u | tr '\n' ' ')"
      if [ -n "$missing" ]; then
        echo "[lanpos] missing system libraries: $missing" >&2
        echo "[lanpos] on Debian/Ubuntu: sudo apt-get install libxcb-cursor0 libxkbcommon-x11-0" \
             "libxcb-icccm4 libxcb-keysyms1 libxcb-shape0 libegl1 libfontconfig1" >&2
      fi
    fi
    exit 1
  fi
}

AUTOSTART=""
ACTION=install
ARCHIVE=""
while [ $# -gt 0 ]; do
  case "$1" in
    --autostart) AUTOSTART=yes ;;
    --no-autostart) AUTOSTART=no ;;
    --uninstall) ACTION=uninstall ;;
    -h|--help) usage ;;
    -*) echo "[lanpos] unknown option: $1" >&2; usage ;;
    *) [ -z "$ARCHIVE" ] || usage; ARCHIVE="$1" ;;
  esac
  shift
done

if [ "$ACTION" = uninstall ]; then
  uninstall
elif [ -n "$ARCHIVE" ]; then
  install_bundle "$ARCHIVE"
elif [ "$AUTOSTART" = no ]; then
  rm -f "$AUTOSTART_ENTRY"; say "no longer starts with the session"
elif [ "$AUTOSTART" = yes ] && [ -x "$PREFIX/$NAME" ]; then
  write_entry "$AUTOSTART_ENTRY" autostart; say "starts with the session: $AUTOSTART_ENTRY"
else
  usage
fi
