"""Money is integer fen (分). This module is the only place that rounds or formats it.

- ``percent_of(amount, pct_bp)`` applies a percentage given in basis points
  (1% = 100 bp, so 88% = 8800) and rounds half up. Every percent discount and every
  percent commission uses it, so the rounding rule lives in one function.
- ``format_fen`` / ``parse_yuan`` convert at the edges (UI, receipts, imports).
"""

from __future__ import annotations

import re

FEN_PER_YUAN = 100
BP_100_PERCENT = 10_000

_YUAN_RE = re.compile(r"^\s*([+-])?\s*[¥￥]?\s*(\d+)(?:\.(\d{1,2}))?\s*$")


class MoneyError(ValueError):
    """A money value could not be parsed or is out of range."""


def _check_int(value: int, name: str = "amount") -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int number of fen, got {type(value).__name__}")


def div_round_half_up(numerator: int, denominator: int) -> int:
    """Integer division rounding half away from zero (商业四舍五入)."""
    _check_int(numerator, "numerator")
    _check_int(denominator, "denominator")
    if denominator <= 0:
        raise ValueError("denominator must be positive")
    sign = -1 if numerator < 0 else 1
    q, r = divmod(abs(numerator), denominator)
    if r * 2 >= denominator:
        q += 1
    return sign * q


def percent_of(amount_fen: int, pct_bp: int) -> int:
    """``amount_fen`` × ``pct_bp``/10000, rounded half up to whole fen.

    >>> percent_of(1999, 8800)   # 88% of ¥19.99 = 17.5912 → ¥17.59
    1759
    >>> percent_of(5, 5000)      # half of 5 fen = 2.5 → 3
    3
    """
    _check_int(amount_fen)
    _check_int(pct_bp, "pct_bp")
    return div_round_half_up(amount_fen * pct_bp, BP_100_PERCENT)


def format_fen(amount_fen: int, symbol: str = "¥") -> str:
    """12345 → '¥123.45'; -50 → '-¥0.50'."""
    _check_int(amount_fen)
    sign = "-" if amount_fen < 0 else ""
    yuan, fen = divmod(abs(amount_fen), FEN_PER_YUAN)
    return f"{sign}{symbol}{yuan}.{fen:02d}"


def format_plain(amount_fen: int) -> str:
    """12345 → '123.45' (no currency symbol; for tables and CSV export)."""
    return format_fen(amount_fen, symbol="")


def parse_yuan(text: str | int) -> int:
    """'12.5' / '¥12.50' / '12' → fen. Rejects more than two decimals and floats.

    Accepts an int (taken as whole yuan) for convenience in imports.
    """
    if isinstance(text, bool):
        raise MoneyError("not a money amount")
    if isinstance(text, int):
        return text * FEN_PER_YUAN
    if not isinstance(text, str):
        raise MoneyError("money must be given as text, e.g. '12.50'")
    m = _YUAN_RE.match(text)
    if not m:
        raise MoneyError(f"not a money amount: {text!r}")
    sign, yuan, frac = m.groups()
    fen = int(yuan) * FEN_PER_YUAN + int((frac or "0").ljust(2, "0"))
    return -fen if sign == "-" else fen
