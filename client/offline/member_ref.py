"""A member typed at the counter while no server answers (issue 15): only what the server can
resolve on its own at replay — a full mobile number or a card number (a member's card or
member number) — is taken; a name or the last digits of a phone need the server's search.

Plain Python (no Qt): the member panel asks :func:`parse_member_ref`, the receipt of the
offline sale shows :func:`receipt_member_text`."""

from __future__ import annotations

import re
from dataclasses import dataclass

from common.schemas.members import CARD_PATTERN
from common.text import mask_phone

PHONE_RE = re.compile(r"^1\d{10}$")
CARD_RE = re.compile(CARD_PATTERN)
#: a typed code of this many digits or fewer is the end of a phone number, not a card
SHORT_DIGITS = 4


@dataclass(frozen=True)
class MemberRef:
    """``kind``: ``"phone"`` (11 digits) or ``"card"``; ``ref``: what goes into the
    journal (``OfflineSaleIn.member_ref``)."""

    kind: str
    ref: str


def parse_member_ref(text: str) -> MemberRef | None:
    """The offline member reference in what the cashier typed, or None (a name, the last
    digits of a phone, anything the server could not resolve alone)."""
    q = "".join(text.split())
    digits = q.removeprefix("+86") if q.startswith("+86") else q
    if PHONE_RE.match(digits):
        return MemberRef("phone", digits)
    if not CARD_RE.match(q) or (q.isdigit() and len(q) <= SHORT_DIGITS):
        return None
    return MemberRef("card", q)


def receipt_member_text(ref: str, name: str = "") -> str:
    """How a receipt shows a member typed offline: a phone masked (``138****1234``), a card
    number as it is; the member's name first when this counter knows it."""
    shown = mask_phone(ref) if PHONE_RE.match(ref) else ref
    return f"{name} {shown}" if name else shown
