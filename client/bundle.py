"""What the installed counter bundle carries beside the code (``installer/counter.spec``).

A counter PC installed from the bundle may have no Chinese font: the bundle brings one in
``client/fonts/`` (WenQuanYi Micro Hei), used by the window (``client.app.choose_font``) and by
receipt bitmaps (``client.devices.raster``) only when the system has none. A development
checkout has no such folder: the system fonts are used. Plain Python (no Qt).
"""

from __future__ import annotations

import sys
from pathlib import Path

#: Where the bundle puts its fonts (the spec's ``datas`` destination ``client/fonts``).
FONT_DIR = Path(__file__).resolve().parent / "fonts"
FONT_SUFFIXES = (".ttf", ".ttc", ".otf")


def frozen() -> bool:
    """True when running from a PyInstaller bundle."""
    return bool(getattr(sys, "frozen", False))


def font_files() -> list[Path]:
    """The font files the bundle carries (none in a development checkout)."""
    if not FONT_DIR.is_dir():
        return []
    return sorted(p for p in FONT_DIR.iterdir() if p.suffix.lower() in FONT_SUFFIXES)


__all__ = ["FONT_DIR", "font_files", "frozen"]
