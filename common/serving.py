"""Serving staff (技师 / 导购) of a sale line: how a line's commission is shared.

A line names up to :data:`MAX_SERVING` staff members, each once, with a share in basis points
(10000 = 100 %); the shares sum to exactly 10000 (the server's ``CartLineIn`` checks the same
and splits the line's commission by them with :func:`common.pricing.allocate`). A new choice
of staff is shared equally, the leftover basis points going to the first names (largest
remainder), e.g. three stylists get 33.34 %, 33.33 %, 33.33 %.
"""

from __future__ import annotations

from collections.abc import Sequence

from common.pricing import allocate

MAX_SERVING = 5  # as CartLineIn.staff
WHOLE_BP = 10_000


def equal_shares(n: int) -> list[int]:
    """``n`` shares of 100 % (basis points), as equal as whole basis points allow."""
    if n <= 0:
        return []
    return allocate(WHOLE_BP, [1] * n)


def shares_complete(shares: Sequence[int]) -> bool:
    """Every share is positive and together they make exactly 100 %."""
    return bool(shares) and all(s > 0 for s in shares) and sum(shares) == WHOLE_BP


def percent_text(bp: int) -> str:
    """``6000`` → ``"60%"``, ``3334`` → ``"33.34%"`` (no float: whole and hundredths)."""
    whole, part = divmod(bp, 100)
    return f"{whole}%" if not part else f"{whole}.{part:02d}".rstrip("0") + "%"


def parse_percent(text: str) -> int | None:
    """``"60"``, ``"60%"``, ``"33.34"`` → basis points; None if not a percentage 0–100 with
    at most two decimals."""
    t = text.strip().rstrip("%").strip()
    whole, dot, part = t.partition(".")
    if not whole.isdigit() or (dot and not (part.isdigit() and len(part) <= 2)):
        return None
    bp = int(whole) * 100 + (int(part.ljust(2, "0")) if part else 0)
    return bp if 0 <= bp <= WHOLE_BP else None
