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
    """'13812341234' → '138****1234' (receipts, customer-facing screens)."""
    if not phone:
        return ""
    if len(phone) < 7:
        return phone[:1] + "*" * (len(phone) - 1)
    return phone[:3] + "*" * (len(phone) - 7) + phone[-4:]
