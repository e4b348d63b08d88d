"""Strings of the payment dialog and quick cash, order discount (折) and 抹零: part of the catalogue
of :mod:`client.strings`. Simplified Chinese first, English second."""

from __future__ import annotations

PAYMENT_STRINGS: dict[str, tuple[str, str]] = {
}
