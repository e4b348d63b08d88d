"""Strings of finding products (search picker, favourites grid), open price and
quantity entry: part of the catalogue of :mod:`client.strings`. Simplified
Chinese first, English second."""

from __future__ import annotations

FINDING_STRINGS: dict[str, tuple[str, str]] = {
}
