#!/usr/bin/env bash
# Builds the Linux counter bundle (收银台安装包) with PyInstaller from installer/counter.spec:
#   dist/lanpos-counter/                          the one-folder bundle (run lanpos-counter in it)
#   dist/lanpos-counter-VERSION-linux-ARCH.tar.gz what a counter PC installs from:
#                                                 installer/counter-install.sh [--autostart] FILE
# Needs the development set-up first (bash installer/setup.sh install: PyInstaller is in the
# dev extra). Options: --dist DIR (default dist), --work DIR (default build/pyinstaller-counter).
# The last line printed is the tar.gz path.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DIST="$ROOT/dist"
WORK="$ROOT/build/pyinstaller-counter"
while [ $# -gt 0 ]; do
  case "$1" in
    --dist) DIST="$(mkdir -p "$2" && cd "$2" && pwd)"; shift 2 ;;
    --work) WORK="$(mkdir -p "$2" && cd "$2" && pwd)"; shift 2 ;;
    -h|--help) sed -n '2,8p' "$0"; exit 0 ;;
    *) echo "usage: installer/build-counter.sh [--dist DIR] [--work DIR]" >&2; exit 2 ;;
  esac
done

PY="$ROOT/.venv/bin/python"
if ! "$PY" -c "import PyInstaller" 2>/dev/null; then
  echo "[lanpos] PyInstaller is missing: run  bash installer/setup.sh install  first" >&2
  exit 1
fi

cd "$ROOT"
echo "[lanpos] building the counter bundle into $DIST/lanpos-counter"
"$PY" -m PyInstaller --noconfirm --clean --log-level WARN \
  --distpath "$DIST" --workpath "$WORK" installer/counter.spec

BUNDLE="$DIST/lanpos-counter"
# the install script travels inside the bundle: an installed counter can uninstall itself
install -m 0755 installer/counter-install.sh "$BUNDLE/counter-install.sh"

VERSION="$("$PY" -c 'import importlib.metadata as m; print(m.version("lanpos"))')"
ARCH="$(uname -m)"
TARBALL="$DIST/lanpos-counter-$VERSION-linux-$ARCH.tar.gz"
tar -czf "$TARBALL.tmp" -C "$DIST" lanpos-counter
mv -f "$TARBALL.tmp" "$TARBALL"
echo "[lanpos] bundle: $BUNDLE ($(du -sh "$BUNDLE" | cut -f1)), archive: $(du -h "$TARBALL" | cut -f1)"
echo "$TARBALL"
