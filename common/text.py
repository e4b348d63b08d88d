"""Text helpers shared by server and client: pinyin initials for search, phone masking, and
the characters no text typed at a counter may hold.

``pinyin_initials('张三')`` → ``'zs'``; letters and digits pass through lower-cased, other
characters are dropped: ``'李娜Lina'`` → ``'lnlina'``. Heteronyms take the most common reading.
Stored at write time (members, products) and indexed, so a search for ``zs`` is an index
prefix lookup.
"""

from __future__ import annotations

import re

_KEEP = re.compile(r"[0-9a-z]")

# NUL and the other C0 controls (tab, newline and carriage return aside), DEL, and the
# invisible marks that reorder or disguise text on a screen or a receipt: LRM/RLM, ALM, the
# bidi embeddings/overrides U+202A–U+202E and the isolates U+2066–U+2069
HIDDEN_CHARACTERS = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
LINE_BREAKS = re.compile("[\r\n\u2028\u2029]")


def has_hidden_characters(text: str) -> bool:
    """True if ``text`` holds a character refused in every request (see HIDDEN_CHARACTERS);
    tabs and line breaks are allowed here (notes may have several lines)."""
    return HIDDEN_CHARACTERS.search(text) is not None


def is_single_line(text: str) -> bool:
    """Names, units, usernames: no line break and no tab."""
    return LINE_BREAKS.search(text) is None and "\t" not in text


def pinyin_initials(text: str, max_len: int = 32) -> str:
    # imported on first use: pypinyin's dictionaries take ~0.7 s to load, which every server
    # process and every CLI command would otherwise pay at start (a worker warms it up in
    # the background once it serves: ``warm_up``)
    from pypinyin import Style, lazy_pinyin

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


def warm_up() -> None:
    """Load the pinyin dictionaries now (a background thread: the first member or product
    written does not wait for them)."""
    pinyin_initials("预热")
