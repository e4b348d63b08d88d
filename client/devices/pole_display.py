"""Customer display (客显): a serial 2 × 20 VFD pole display, Epson DM-D command set.

Commands used (Epson DM-D / "ESC/POS customer display" mode, also understood by most
CD5220-type clones switched to Epson mode):

=================  ===========  =========================================================
``ESC @``          1B 40        initialise the display (clears it, cursor home)
``CLR``            0C           clear the screen
``US MD1``         1F 01        overwrite mode (no scrolling when a line is full)
``ESC R n``        1B 52 n      international character set; n = 8 (Japan) prints 0x5C as ¥
``US C n``         1F 43 n      cursor off (n = 0)
``US $ x y``       1F 24 x y    move the cursor to column x (1-20), row y (1-2)
=================  ===========  =========================================================

Each screen is written as two 20-character lines after ``US $ 1 1`` / ``US $ 1 2`` (no
``CLR`` between screens, so nothing flickers).

Character set: these displays have no Chinese font (Chinese-capable ones are rare), so the
display speaks ASCII: labels are ``TOTAL``, ``PAID``, ``CHANGE``; Chinese item names are
shown in pinyin (``可口可乐`` → ``KEKOUKELE``), other non-ASCII characters are dropped.
The currency sign ``¥`` is byte 0x5C under the Japan character set (``ESC R 8``), which
DM-D displays support; with ``yen="Y"`` (for displays without it) amounts read ``Y12.50``.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from decimal import Decimal
from typing import Literal

import serial

from common.money import format_plain

COLUMNS = 20
ESC_INIT = b"\x1b@"
CLR = b"\x0c"
OVERWRITE_MODE = b"\x1f\x01"
CHARSET_JAPAN = b"\x1bR\x08"
CURSOR_OFF = b"\x1fC\x00"
JIS_YEN = "\\"  # 0x5C prints as ¥ under ESC R 8


def cursor_to(col: int, row: int) -> bytes:
    """``US $ x y``: move the cursor (1-based column and row)."""
    return b"\x1f$" + bytes([col, row])


def to_display_ascii(text: str) -> str:
    """ASCII for the display: Chinese as pinyin (via pypinyin), accents stripped, upper case,
    anything else dropped: ``可口可乐330ml`` → ``KEKOUKELE 330ML``."""
    from pypinyin import Style, lazy_pinyin

    parts = []
    for run in re.findall(r"[\u3400-\u9fff]+|[^\u3400-\u9fff]+", text):
        if "\u3400" <= run[0] <= "\u9fff":
            parts.append("".join(lazy_pinyin(run, style=Style.NORMAL)))
        else:
            parts.append(unicodedata.normalize("NFKD", run).encode("ascii", "ignore").decode())
    return " ".join(" ".join(parts).split()).upper().replace("\\", "/")


class PoleDisplay:
    """A 2 × 20 customer display on a serial port (``COM4``, ``/dev/ttyUSB1``, a pty...)."""

    def __init__(
        self, port: str, *, baudrate: int = 9600, yen: Literal["jis", "Y"] = "jis"
    ) -> None:
        self.port = port
        self.baudrate = baudrate
        self.yen = JIS_YEN if yen == "jis" else "Y"
        self._serial: serial.SerialBase | None = None
        self._lock = threading.Lock()

    # connection ---------------------------------------------------------------------
    def open(self) -> None:
        """Open the port and initialise the display."""
        self._serial = serial.serial_for_url(
            self.port, baudrate=self.baudrate, timeout=1, write_timeout=2
        )
        init = ESC_INIT + OVERWRITE_MODE + CURSOR_OFF + CLR
        if self.yen == JIS_YEN:
            init += CHARSET_JAPAN
        self._write(init)

    def close(self) -> None:
        if self._serial is not None:
            self._serial.close()
            self._serial = None

    def __enter__(self) -> PoleDisplay:
        self.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # screens -----------------------------------------------------------------------
    def money(self, fen: int) -> str:
        sign = "-" if fen < 0 else ""
        return f"{sign}{self.yen}{format_plain(abs(fen))}"

    def show(self, line1: str, line2: str = "") -> None:
        """Show two lines (each cut or padded to 20 characters, ASCII only)."""
        self._write(screen_bytes(line1, line2))

    def show_item(self, name: str, price_fen: int, qty: int | Decimal = 1) -> None:
        """While scanning: the item name on top, ``qty x price`` and the amount below."""
        right = self.money(price_fen)
        left = f"{qty} X" if qty != 1 else ""
        self.show(to_display_ascii(name), _left_right(left, right))

    def show_total(self, total_fen: int, items: int | None = None) -> None:
        self.show(
            _left_right("TOTAL", self.money(total_fen)),
            f"ITEMS {items}" if items is not None else "",
        )

    def show_change(self, paid_fen: int, change_fen: int) -> None:
        self.show(
            _left_right("PAID", self.money(paid_fen)), _left_right("CHANGE", self.money(change_fen))
        )

    def welcome(self, text: str = "WELCOME") -> None:
        self.show(to_display_ascii(text).center(COLUMNS), "")

    def clear(self) -> None:
        self._write(CLR)

    def _write(self, data: bytes) -> None:
        if self._serial is None:
            raise RuntimeError("customer display is not open")
        with self._lock:
            self._serial.write(data)
            self._serial.flush()


def _left_right(left: str, right: str) -> str:
    gap = COLUMNS - len(left) - len(right)
    return left + " " * max(1, gap) + right if left else right.rjust(COLUMNS)


def screen_bytes(line1: str, line2: str = "") -> bytes:
    """The bytes that show ``line1``/``line2`` (ASCII; other characters become spaces)."""

    def fit(text: str) -> bytes:
        text = "".join(ch if " " <= ch < "\x7f" else " " for ch in text)
        return text[:COLUMNS].ljust(COLUMNS).encode("ascii")

    return cursor_to(1, 1) + fit(line1) + cursor_to(1, 2) + fit(line2)
