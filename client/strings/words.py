"""Strings of labels of codes shown to people (audit actions, ledger kinds, payment methods) and
the refund list and slip: part of the catalogue of :mod:`client.strings`. Simplified Chinese
first, English second."""

from __future__ import annotations

WORDS_STRINGS: dict[str, tuple[str, str]] = {
}
