"""Strings of layout, the customer display, the numpad, language switch and dialog defaults: part
of the catalogue of :mod:`client.strings`. Simplified Chinese first, English second."""

from __future__ import annotations

SCREEN_STRINGS: dict[str, tuple[str, str]] = {
}
