"""Text helpers shared by server and client: pinyin initials for search, phone masking.

``pinyin_initials('张三')`` → ``'zs'``; letters and digits pass through lower-cased, other
characters are dropped: ``'李娜Lina'`` → ``'lnlina'``. Heteronyms take the most common reading.
Stored at write time (members, products) and indexed, so a search for ``zs`` is an index
prefix lookup.
"""

from __future__ import annotations

import re

from pypinyin import Style, lazy_pinyin

_KEEP = re.compile(r"[0-9a-z]")


def pinyin_initials(text: str, max_len: int = 32) -> str:
    out: list[str] = []
    for syllable in lazy_pinyin(text or "", style=Style.FIRST_LETTER, errors="default"):
        for ch in syllable.lower():
            if _KEEP.match(ch):
                out.append(ch)
    return "".join(out)[:max_len]


def mask_phone(phone: str | None) -> str:
    """``13812341234`` → ``138****1234``; keeps the first 3 and last 4 digits (receipts,
    customer-facing screens). A ``+86``/``86`` prefix is dropped; short numbers keep only
    their last 2 digits. A number already masked (it has a ``*``) is returned as it is, so the
    server's masked phone prints the same on a receipt."""
    if phone and "*" in phone:
        return phone
    digits = "".join(ch for ch in (phone or "") if ch.isdigit())
    if len(digits) == 13 and digits.startswith("86"):
        digits = digits[2:]
    if len(digits) >= 8:
        return digits[:3] + "*" * (len(digits) - 7) + digits[-4:]
    if len(digits) > 2:
        return "*" * (len(digits) - 2) + digits[-2:]
    return digits
