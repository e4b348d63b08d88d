"""Printer profiles: how Chinese text reaches an ESC/POS printer without turning into ``?``.

Profiles (``PrinterConfig.profile``):

``gbk``
    Most Chinese thermal printers (Xprinter, GP, HPRT...): GBK double-byte font.
    Double-byte text is sent inside Chinese mode, ``FS &`` (1C 26) ... ``FS .`` (1C 2E).
``gb18030``
    Printers with a GB18030 font: like ``gbk`` plus CJK Extension A (4-byte codes).
``utf8``
    Printers whose firmware takes UTF-8 (e.g. Epson TM-m30/TM-T88VI with a Chinese font):
    the document starts with ``FS ( C`` "select UTF-8"; no Chinese mode.
``raster``
    Printers without a Chinese font: every line that is not plain ASCII is drawn with a
    CJK font and sent as a raster image (``GS v 0``).

Whatever the profile, a line holding a character the printer's font cannot print (a
character outside GBK on a GBK printer, an emoji, a rare CJK character of plane 2) goes
out as a raster image instead: a receipt never shows ``?``. ``¥`` is always printed as the
full-width ``￥`` (GBK A3A4; GBK has no half-width yen) — python-escpos's own ``text()``
would send the GB18030 4-byte sequence 81 30 84 36, which GBK printers print as garbage.
"""

from __future__ import annotations

from dataclasses import dataclass

from PIL import Image

from .document import normalize_for_print

FS_CHINESE_ON = b"\x1c&"
FS_CHINESE_OFF = b"\x1c."
#: FS ( C pL pH fn=48 m=2: select character encoding system UTF-8 (Epson ESC/POS).
FS_SELECT_UTF8 = b"\x1c(C\x02\x000\x02"
ESC_INIT = b"\x1b@"

PROFILE_NAMES = ("gbk", "gb18030", "utf8", "raster")


@dataclass(frozen=True)
class TextProfile:
    """How one kind of printer takes text (see module doc)."""

    name: str
    codec: str | None  # Python codec of the printer's text, None: only ASCII as text
    chinese_mode: bool  # wrap non-ASCII text in FS & ... FS .

    def can_print(self, ch: str) -> bool:
        """True if the printer's own font prints ``ch`` (after :data:`PRINT_MAP`)."""
        if " " <= ch < "\x7f":
            return True
        if self.codec is None:
            return False
        if self.name == "gbk":
            try:
                return len(ch.encode("gbk")) == 2
            except UnicodeEncodeError:
                return False
        # gb18030 / utf8: the GB18030 font repertoire: all 2-byte codes plus CJK Ext. A.
        try:
            size = len(ch.encode("gb18030"))
        except UnicodeEncodeError:
            return False
        return size == 2 or (size == 4 and "\u3400" <= ch <= "\u4dbf")

    def prelude(self) -> bytes:
        """Bytes sent after ``ESC @`` at the start of every document."""
        if self.name == "utf8":
            return FS_SELECT_UTF8
        if self.chinese_mode:
            return FS_CHINESE_OFF  # known state: ESC @ does not leave Chinese mode everywhere
        return b""

    def encode(self, text: str) -> bytes | None:
        """Printer bytes for ``text`` (no line feed), or None if it must go out as raster."""
        text = normalize_for_print(text)
        if not all(self.can_print(ch) for ch in text):
            return None
        if text.isascii():
            return text.encode("ascii")
        assert self.codec is not None
        data = text.encode(self.codec)
        if self.chinese_mode:
            return FS_CHINESE_ON + data + FS_CHINESE_OFF
        return data


PROFILES: dict[str, TextProfile] = {
    "gbk": TextProfile("gbk", "gbk", chinese_mode=True),
    "gb18030": TextProfile("gb18030", "gb18030", chinese_mode=True),
    "utf8": TextProfile("utf8", "utf-8", chinese_mode=False),
    "raster": TextProfile("raster", None, chinese_mode=False),
}


def get_profile(name: str) -> TextProfile:
    """The profile called ``name`` (one of :data:`PROFILE_NAMES`)."""
    try:
        return PROFILES[name]
    except KeyError:
        raise ValueError(f"unknown printer profile {name!r}; use one of {PROFILE_NAMES}") from None


def raster_image_bytes(img: Image.Image) -> bytes:
    """``GS v 0`` (raster bit image, normal density) for a 1-bit image; black prints."""
    img = img.convert("1")
    width_bytes = (img.width + 7) // 8
    if img.width % 8:
        padded = Image.new("1", (width_bytes * 8, img.height), 1)
        padded.paste(img, (0, 0))
        img = padded
    # PIL packs mode "1" as 1 = white; the printer wants 1 = black.
    data = bytes(b ^ 0xFF for b in img.tobytes())
    header = b"\x1dv0\x00" + width_bytes.to_bytes(2, "little") + img.height.to_bytes(2, "little")
    return header + data
