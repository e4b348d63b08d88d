"""Parse an ESC/POS byte stream back into what a printer would do, so tests assert on it.

``decode(data)`` returns a :class:`Decoded` with the printed text lines (and their style),
barcodes and QR codes (their data), raster images, cuts and drawer kicks, in order.

Text is decoded like a Chinese printer does: inside Chinese mode (``FS &`` ... ``FS .``)
as GB18030 (or ``cjk_encoding``, e.g. ``"gbk"`` to prove a stream is pure GBK); after
``FS ( C`` "select UTF-8" as UTF-8; otherwise single bytes. With ``strict`` (default) a
byte >= 0x80 outside those modes, invalid multi-byte text or an unknown command raises
:class:`DecodeError` instead of being guessed at.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from PIL import Image


class DecodeError(ValueError):
    """The stream holds something a receipt printer would print wrongly or not understand."""


@dataclass(frozen=True)
class Line:
    text: str
    align: str = "left"
    bold: bool = False
    double_height: bool = False
    double_width: bool = False


@dataclass(frozen=True)
class RasterImage:
    width: int  # dots
    height: int
    data: bytes  # GS v 0 raster data, 1 = black

    def to_image(self) -> Image.Image:
        """The bitmap as a PIL image (black on white)."""
        inverted = bytes(b ^ 0xFF for b in self.data)
        return Image.frombytes("1", (self.width, self.height), inverted)


@dataclass(frozen=True)
class BarcodeData:
    kind: str  # "CODE128", "EAN13", ...
    data: str  # human-readable data (CODE128 code-set prefixes decoded)
    raw: bytes


@dataclass(frozen=True)
class Cut:
    partial: bool


@dataclass(frozen=True)
class DrawerKick:
    pin: int
    on_ms: int
    off_ms: int


@dataclass(frozen=True)
class QRData:
    data: str


Event = Line | RasterImage | BarcodeData | QRData | Cut | DrawerKick


@dataclass
class Decoded:
    events: list[Event] = field(default_factory=list)
    status_queries: list[int] = field(default_factory=list)
    feeds: int = 0
    inits: int = 0

    def _of(self, cls: type) -> list:
        return [e for e in self.events if isinstance(e, cls)]

    @property
    def lines(self) -> list[Line]:
        return self._of(Line)

    @property
    def texts(self) -> list[str]:
        """The text of every printed line, trailing spaces removed."""
        return [line.text.rstrip() for line in self.lines]

    @property
    def text(self) -> str:
        return "\n".join(self.texts)

    @property
    def images(self) -> list[RasterImage]:
        return self._of(RasterImage)

    @property
    def barcodes(self) -> list[BarcodeData]:
        return self._of(BarcodeData)

    @property
    def qr_codes(self) -> list[str]:
        return [q.data for q in self._of(QRData)]

    @property
    def cuts(self) -> list[Cut]:
        return self._of(Cut)

    @property
    def drawer_pins(self) -> list[int]:
        return [k.pin for k in self._of(DrawerKick)]


_HW_BARCODE_A = {0: "UPC-A", 1: "UPC-E", 2: "EAN13", 3: "EAN8", 4: "CODE39", 5: "ITF", 6: "NW7"}
_HW_BARCODE_B = {
    65: "UPC-A",
    66: "UPC-E",
    67: "EAN13",
    68: "EAN8",
    69: "CODE39",
    70: "ITF",
    71: "NW7",
    72: "CODE93",
    73: "CODE128",
}

# Commands with a fixed number of argument bytes: (prefix, second byte) -> count.
_FIXED_ARGS = {
    (0x1B, ord("a")): 1,
    (0x1B, ord("E")): 1,
    (0x1B, ord("!")): 1,
    (0x1B, ord("-")): 1,
    (0x1B, ord("G")): 1,
    (0x1B, ord("M")): 1,
    (0x1B, ord("t")): 1,
    (0x1B, ord("R")): 1,
    (0x1B, ord("V")): 1,
    (0x1B, ord("{")): 1,
    (0x1B, ord("J")): 1,
    (0x1B, ord("d")): 1,
    (0x1B, ord("p")): 3,
    (0x1B, ord("2")): 0,
    (0x1B, ord("3")): 1,
    (0x1B, ord("@")): 0,
    (0x1B, ord("=")): 1,
    (0x1B, ord("B")): 2,
    (0x1B, ord("r")): 1,
    (0x1B, ord(" ")): 1,
    (0x1D, ord("!")): 1,
    (0x1D, ord("h")): 1,
    (0x1D, ord("w")): 1,
    (0x1D, ord("H")): 1,
    (0x1D, ord("f")): 1,
    (0x1D, ord("B")): 1,
    (0x1D, ord("b")): 1,
    (0x1D, ord("L")): 2,
    (0x1D, ord("W")): 2,
    (0x1D, ord("I")): 1,
    (0x1D, ord("r")): 1,
    (0x1D, ord("a")): 1,
    (0x1C, ord("&")): 0,
    (0x1C, ord(".")): 0,
    (0x1C, ord("!")): 1,
    (0x1C, ord("-")): 1,
    (0x1C, ord("W")): 1,
    (0x1C, ord("S")): 2,
    (0x1C, ord("C")): 1,
    (0x10, 0x04): 1,
    (0x10, 0x14): 3,
}


class _Parser:
    def __init__(self, data: bytes, cjk_encoding: str, strict: bool) -> None:
        self.data = data
        self.cjk = cjk_encoding
        self.strict = strict
        self.out = Decoded()
        self.mode = "single"  # single | cjk | utf8
        self.utf8 = False
        self.chinese = False
        self.pending = bytearray()
        self.line: list[str] = []
        self.line_started = False
        self.style = {"align": "left", "bold": False, "double_height": False, "double_width": False}
        self.line_style = dict(self.style)
        self.qr_pending: bytes | None = None

    # text -------------------------------------------------------------------------
    def _current_mode(self) -> str:
        if self.utf8:
            return "utf8"
        return "cjk" if self.chinese else "single"

    def flush_pending(self) -> None:
        if not self.pending:
            return
        raw = bytes(self.pending)
        self.pending.clear()
        codec = {"utf8": "utf-8", "cjk": self.cjk, "single": "cp437"}[self.mode]
        if self.mode == "single" and self.strict and any(b >= 0x80 for b in raw):
            raise DecodeError(f"byte >= 0x80 outside Chinese/UTF-8 mode: {raw!r}")
        try:
            self.line.append(raw.decode(codec))
        except UnicodeDecodeError as exc:
            if self.strict:
                raise DecodeError(f"invalid {codec} text {raw!r}: {exc}") from exc
            self.line.append(raw.decode(codec, errors="replace"))

    def set_mode(self) -> None:
        mode = self._current_mode()
        if mode != self.mode:
            self.flush_pending()
            self.mode = mode

    def add_text(self, chunk: bytes) -> None:
        if not self.line_started:
            self.line_style = dict(self.style)
            self.line_started = True
        self.pending += chunk

    def end_line(self) -> None:
        self.flush_pending()
        if not self.line_started:
            self.line_style = dict(self.style)
        self.out.events.append(Line("".join(self.line), **self.line_style))
        self.line = []
        self.line_started = False

    # parsing ----------------------------------------------------------------------
    def run(self) -> Decoded:
        data = self.data
        i = 0
        n = len(data)
        while i < n:
            b = data[i]
            if b == 0x0A:
                self.end_line()
                i += 1
            elif b in (0x0D, 0x00):
                i += 1
            elif b == 0x09:
                self.add_text(b" ")
                i += 1
            elif b in (0x1B, 0x1D, 0x1C, 0x10):
                if i + 1 >= n:
                    raise DecodeError(f"truncated command at {i}")
                i = self.command(i)
            elif b < 0x20:
                raise DecodeError(f"unexpected control byte 0x{b:02x} at {i}")
            else:
                size = 1
                if self.mode == "cjk" and b >= 0x81:
                    size = 4 if i + 1 < n and 0x30 <= data[i + 1] <= 0x39 else 2
                elif self.mode == "utf8" and b >= 0xC0:
                    size = 2 if b < 0xE0 else 3 if b < 0xF0 else 4
                self.add_text(data[i : i + size])
                i += size
        if self.pending or self.line:
            self.end_line()  # text never followed by LF: a printer prints it when it cuts
        return self.out

    def command(self, i: int) -> int:
        data = self.data
        p, c = data[i], data[i + 1]
        # Variable-length commands first.
        if p == 0x1D and c == ord("k"):
            return self.barcode(i)
        if p == 0x1D and c == ord("v") and data[i + 2] == ord("0"):
            width_bytes = data[i + 4] | data[i + 5] << 8
            height = data[i + 6] | data[i + 7] << 8
            end = i + 8 + width_bytes * height
            self.image(RasterImage(width_bytes * 8, height, data[i + 8 : end]))
            return end
        if c == ord("(") and p in (0x1D, 0x1C):
            kind = data[i + 2]
            size = data[i + 3] | data[i + 4] << 8
            body = data[i + 5 : i + 5 + size]
            self.block(p, kind, body)
            return i + 5 + size
        if p == 0x1B and c == ord("*"):
            m, count = data[i + 2], data[i + 3] | data[i + 4] << 8
            end = i + 5 + count * (1 if m in (0, 1) else 3)
            self.image(RasterImage(count, 8 if m in (0, 1) else 24, b""))
            return end
        if p == 0x1D and c == ord("V"):
            m = data[i + 2]
            self.flush_line_if_text()
            self.out.events.append(Cut(partial=m in (1, 49, 66, 98)))
            return i + (4 if m >= 65 else 3)
        key = (p, c)
        if key not in _FIXED_ARGS:
            raise DecodeError(f"unknown command {bytes(key)!r} at {i}")
        nargs = _FIXED_ARGS[key]
        args = data[i + 2 : i + 2 + nargs]
        if len(args) < nargs:
            raise DecodeError(f"truncated command {bytes(key)!r} at {i}")
        self.simple(p, c, args)
        return i + 2 + nargs

    def flush_line_if_text(self) -> None:
        if self.pending or self.line:
            self.end_line()

    def simple(self, p: int, c: int, args: bytes) -> None:
        style = self.style
        if p == 0x1B:
            if c == ord("@"):
                self.flush_line_if_text()
                self.out.inits += 1
                style.update(align="left", bold=False, double_height=False, double_width=False)
            elif c == ord("a"):
                style["align"] = {
                    0: "left",
                    1: "center",
                    2: "right",
                    48: "left",
                    49: "center",
                    50: "right",
                }[args[0]]
            elif c == ord("E"):
                style["bold"] = bool(args[0] & 1)
            elif c == ord("!"):
                style.update(
                    bold=bool(args[0] & 0x08),
                    double_height=bool(args[0] & 0x10),
                    double_width=bool(args[0] & 0x20),
                )
            elif c == ord("d"):
                self.flush_line_if_text()
                self.out.feeds += args[0]
            elif c == ord("p"):
                pin = 2 if args[0] in (0, 48) else 5
                self.out.events.append(DrawerKick(pin, args[1] * 2, args[2] * 2))
        elif p == 0x1D and c == ord("!"):
            style.update(double_width=bool(args[0] & 0x70), double_height=bool(args[0] & 0x07))
        elif p == 0x1C and c in (ord("&"), ord(".")):
            self.chinese = c == ord("&")
            self.set_mode()
        elif p == 0x10 and c == 0x04:
            self.out.status_queries.append(args[0])
        elif p == 0x10 and c == 0x14 and args[0] == 1:
            self.out.events.append(
                DrawerKick(2 if args[1] == 0 else 5, args[2] * 100, args[2] * 100)
            )

    def block(self, p: int, kind: int, body: bytes) -> None:
        if p == 0x1C and kind == ord("C") and body[:1] == b"0":
            self.utf8 = body[1] in (2, 50)
            self.set_mode()
        elif p == 0x1D and kind == ord("k") and body[:1] == b"1":
            fn = body[1]
            if fn == 80:
                self.qr_pending = body[3:]
            elif fn == 81:
                if self.qr_pending is None:
                    raise DecodeError("QR print without QR data")
                self.flush_line_if_text()
                self.out.events.append(QRData(self.qr_pending.decode("utf-8")))
                self.qr_pending = None
        elif p == 0x1D and kind == ord("L") and body[1:2] == b"2":
            self.image(RasterImage(0, 0, b""))

    def image(self, img: RasterImage) -> None:
        self.flush_line_if_text()
        self.out.events.append(img)

    def barcode(self, i: int) -> int:
        data = self.data
        m = data[i + 2]
        if m in _HW_BARCODE_A:
            end = data.index(b"\x00", i + 3)
            raw, after = data[i + 3 : end], end + 1
            kind = _HW_BARCODE_A[m]
        elif m in _HW_BARCODE_B:
            length = data[i + 3]
            raw, after = data[i + 4 : i + 4 + length], i + 4 + length
            kind = _HW_BARCODE_B[m]
        else:
            raise DecodeError(f"unknown barcode system {m}")
        text = decode_code128(raw) if kind == "CODE128" else raw.decode("ascii")
        self.flush_line_if_text()
        self.out.events.append(BarcodeData(kind, text, raw))
        return after


def decode_code128(raw: bytes) -> str:
    """Human-readable data of ESC/POS CODE128 bytes with ``{A``/``{B``/``{C`` prefixes."""
    out = []
    subset = None
    i = 0
    while i < len(raw):
        if raw[i] == ord("{") and i + 1 < len(raw):
            nxt = chr(raw[i + 1])
            if nxt in "ABC":
                subset = nxt
                i += 2
                continue
            if nxt == "{":
                out.append("{")
                i += 2
                continue
            raise DecodeError(f"unsupported CODE128 function {{{nxt}")
        if subset is None:
            raise DecodeError("CODE128 data must start with a code set ({A, {B or {C)")
        out.append(f"{raw[i]:02d}" if subset == "C" else chr(raw[i]))
        i += 1
    return "".join(out)


def decode(data: bytes, cjk_encoding: str = "gb18030", strict: bool = True) -> Decoded:
    """Decode an ESC/POS stream (see module doc)."""
    return _Parser(data, cjk_encoding, strict).run()
