"""Strings of serving staff on a line (技师 / 导购), commission views and selling count cards at
the counter: part of the catalogue of :mod:`client.strings`. Simplified Chinese first, English
second."""

from __future__ import annotations

SERVING_STRINGS: dict[str, tuple[str, str]] = {
}
