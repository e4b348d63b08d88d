"""Printer-independent receipt documents and display-width text helpers.

A :class:`Document` is what the receipt layout produces and what the printer renderer,
the PNG preview and the print queue consume: a paper width in columns and a list of
elements (text line, separator, barcode, QR code, feed, cut, drawer kick).

Columns are *display* columns of the printer's font A (12×24 dots): an ASCII character
takes one column, a Chinese / full-width character two. :func:`char_width` decides:

- ASCII and ``east_asian_width`` ``Na``/``H`` characters: 1 column;
- ``W``/``F`` (CJK, full-width forms, emoji) and ``A`` (ambiguous: ``·×—…①é``, which a
  Chinese printer prints double-byte, i.e. full width): 2 columns;
- the Latin-1 currency signs ``¥ £ ¢ ¬ ¯ ¦`` are printed as their full-width forms
  (``¥`` → ``￥``, GBK A3A4: GBK has no half-width yen), so they count 2 columns.

Documents serialise to plain JSON (``document_to_dict`` / ``document_from_dict``), which is
how the print queue keeps jobs on disk.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Align = Literal["left", "center", "right"]

DOCUMENT_VERSION = 1

#: Characters printed as another character on every profile. Their full-width forms exist
#: in GB2312/GBK (A3A4 etc.) and in every CJK font, the half-width ones do not in GBK.
PRINT_MAP: dict[str, str] = {
    "\u00a5": "\uffe5",  # ¥ -> ￥
    "\u00a3": "\uffe1",  # £ -> ￡
    "\u00a2": "\uffe0",  # ¢ -> ￠
    "\u00ac": "\uffe2",  # ¬ -> ￢
    "\u00af": "\uffe3",  # ¯ -> ￣
    "\u00a6": "\uffe4",  # ¦ -> ￤
    "\t": " ",
}


def normalize_for_print(text: str) -> str:
    """Apply :data:`PRINT_MAP` and replace control characters by spaces.

    Control characters must never reach the printer: a product name containing ``ESC``
    would otherwise be taken as a command.
    """
    out = []
    for ch in text:
        ch = PRINT_MAP.get(ch, ch)
        if unicodedata.category(ch) in ("Cc", "Cf") and ch != "\u200d":
            ch = " "
        out.append(ch)
    return "".join(out)


def char_width(ch: str) -> int:
    """Display columns of one character on a receipt printer (see module doc)."""
    ch = PRINT_MAP.get(ch, ch)
    if ch < "\x80":
        return 1
    if unicodedata.combining(ch):
        return 0
    return 1 if unicodedata.east_asian_width(ch) in ("Na", "H") else 2


def display_width(text: str) -> int:
    """Display columns of ``text`` (sum of :func:`char_width`)."""
    return sum(char_width(ch) for ch in text)


def truncate(text: str, width: int) -> str:
    """The longest prefix of ``text`` that fits in ``width`` columns."""
    used = 0
    for i, ch in enumerate(text):
        used += char_width(ch)
        if used > width:
            return text[:i]
    return text


def pad(text: str, width: int, align: Align = "left") -> str:
    """Pad ``text`` with spaces to exactly ``width`` columns (text is truncated if longer)."""
    text = truncate(text, width)
    gap = width - display_width(text)
    if align == "right":
        return " " * gap + text
    if align == "center":
        left = gap // 2
        return " " * left + text + " " * (gap - left)
    return text + " " * gap


_NO_LINE_START = frozenset("，。、；：！？）】」』》〉”’,.;:!?)]}%")


def wrap(text: str, width: int) -> list[str]:
    """Break ``text`` into lines of at most ``width`` columns.

    Breaks anywhere between CJK characters; a run of Latin letters/digits is kept together
    when a space earlier on the line allows it. Never returns an empty list.
    """
    if width < 2:
        raise ValueError("width must be at least 2 columns")
    lines: list[str] = []
    rest = text.strip()
    while display_width(rest) > width:
        head = truncate(rest, width)
        cut = len(head)
        if (
            rest[cut].isascii()
            and rest[cut].isalnum()
            and head[-1].isascii()
            and (head[-1].isalnum())
        ):
            space = head.rfind(" ")
            if space > 0:
                cut = space
        while cut > 1 and rest[cut] in _NO_LINE_START:
            cut -= 1  # 禁则: a line never starts with closing punctuation
        lines.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    lines.append(rest)
    return lines


def left_right(left: str, right: str, width: int) -> list[str]:
    """``left`` and ``right`` on one line of ``width`` columns, or on two if they don't fit."""
    gap = width - display_width(left) - display_width(right)
    if gap >= 1:
        return [left + " " * gap + right]
    return [*wrap(left, width), pad(right, width, "right")]


# --------------------------------------------------------------------------- elements


@dataclass(frozen=True)
class TextLine:
    """One printed line. ``double_width`` halves the columns available on the line."""

    text: str
    align: Align = "left"
    bold: bool = False
    double_height: bool = False
    double_width: bool = False
    type: Literal["text"] = "text"


@dataclass(frozen=True)
class Separator:
    """A full-width rule made of ``char`` (ASCII, e.g. ``-`` or ``=``)."""

    char: str = "-"
    type: Literal["separator"] = "separator"


@dataclass(frozen=True)
class Barcode:
    """A CODE128 barcode of ``data`` (ASCII), centred, human-readable text below."""

    data: str
    type: Literal["barcode"] = "barcode"


@dataclass(frozen=True)
class QRCode:
    """A QR code of ``data``, centred."""

    data: str
    size: int = 6
    type: Literal["qr"] = "qr"


@dataclass(frozen=True)
class Feed:
    """Blank paper: ``lines`` empty lines."""

    lines: int = 1
    type: Literal["feed"] = "feed"


@dataclass(frozen=True)
class Cut:
    """Feed to the cutter and cut (partial cut leaves a hinge). Skipped if the printer
    has no cutter (``PrinterConfig.cut`` False): then only the feed is sent."""

    partial: bool = True
    type: Literal["cut"] = "cut"


@dataclass(frozen=True)
class DrawerKick:
    """Open the cash drawer; ``pin`` None means the pin of the printer's configuration."""

    pin: int | None = None
    type: Literal["drawer"] = "drawer"


Element = TextLine | Separator | Barcode | QRCode | Feed | Cut | DrawerKick

_ELEMENT_TYPES: dict[str, type] = {
    "text": TextLine,
    "separator": Separator,
    "barcode": Barcode,
    "qr": QRCode,
    "feed": Feed,
    "cut": Cut,
    "drawer": DrawerKick,
}


@dataclass
class Document:
    """A receipt, report or test page: ``width`` columns (32 for 58 mm, 48 for 80 mm)."""

    width: int
    elements: list[Element] = field(default_factory=list)

    def add(self, *elements: Element) -> None:
        self.elements.extend(elements)

    def text(self, text: str, align: Align = "left", **style: bool) -> None:
        """Append one text line (``style``: bold, double_height, double_width)."""
        self.elements.append(TextLine(text, align, **style))

    def lines(self, texts: Iterable[str], align: Align = "left", **style: bool) -> None:
        for text in texts:
            self.text(text, align, **style)

    def text_lines(self) -> list[str]:
        """The plain text of the document (separators expanded), e.g. for tests and logs."""
        out = []
        for el in self.elements:
            if isinstance(el, TextLine):
                out.append(el.text)
            elif isinstance(el, Separator):
                out.append(el.char * self.width)
        return out


def columns_of(line: TextLine, width: int) -> int:
    """Columns available to ``line`` on paper of ``width`` columns."""
    return width // 2 if line.double_width else width


def document_to_dict(doc: Document) -> dict[str, Any]:
    """Versioned JSON-ready form of ``doc``."""
    return {
        "version": DOCUMENT_VERSION,
        "width": doc.width,
        "elements": [asdict(el) for el in doc.elements],
    }


def document_from_dict(data: dict[str, Any]) -> Document:
    """Inverse of :func:`document_to_dict`."""
    if data.get("version") != DOCUMENT_VERSION:
        raise ValueError(f"unsupported document version {data.get('version')!r}")
    elements: list[Element] = []
    for item in data["elements"]:
        item = dict(item)
        cls = _ELEMENT_TYPES[item.pop("type")]
        elements.append(cls(**item))
    return Document(width=int(data["width"]), elements=elements)
