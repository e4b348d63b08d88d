"""Customer display: Epson DM-D bytes read back from the master side of a pty."""

from __future__ import annotations

import os
import select
from collections.abc import Iterator

import pytest

from client.devices.pole_display import (
    CHARSET_JAPAN,
    CLR,
    CURSOR_OFF,
    ESC_INIT,
    OVERWRITE_MODE,
    PoleDisplay,
    cursor_to,
    screen_bytes,
    to_display_ascii,
)


def read_all(fd: int, expected: int) -> bytes:
    data = b""
    while len(data) < expected and select.select([fd], [], [], 2)[0]:
        data += os.read(fd, 4096)
    return data


@pytest.fixture
def display() -> Iterator[tuple[PoleDisplay, int]]:
    master, slave = os.openpty()
    disp = PoleDisplay(os.ttyname(slave), baudrate=9600)
    try:
        disp.open()
        init = ESC_INIT + OVERWRITE_MODE + CURSOR_OFF + CLR + CHARSET_JAPAN
        assert read_all(master, len(init)) == init
        yield disp, master
    finally:
        disp.close()
        os.close(master)
        os.close(slave)


def lr(left: str, right: str) -> str:
    return left + right.rjust(20 - len(left))


def screen(line1: str, line2: str) -> bytes:
    line1, line2 = line1.ljust(20), line2.ljust(20)
    return cursor_to(1, 1) + line1.encode() + cursor_to(1, 2) + line2.encode()


def test_item_total_change_sequence(display: tuple[PoleDisplay, int]) -> None:
    disp, master = display
    disp.show_item("可口可乐330ml", 350, qty=2)
    expected = screen("KEKOUKELE 330ML", lr("2 X", "\\3.50"))
    assert read_all(master, len(expected)) == expected

    disp.show_total(9070, items=7)
    expected = screen(lr("TOTAL", "\\90.70"), "ITEMS 7")
    assert read_all(master, len(expected)) == expected

    disp.show_change(10000, 930)
    expected = screen(lr("PAID", "\\100.00"), lr("CHANGE", "\\9.30"))
    assert read_all(master, len(expected)) == expected

    disp.clear()
    assert read_all(master, 1) == CLR


def test_yen_fallback_letter_and_ascii_only() -> None:
    master, slave = os.openpty()
    try:
        with PoleDisplay(os.ttyname(slave), yen="Y") as disp:
            init = ESC_INIT + OVERWRITE_MODE + CURSOR_OFF + CLR
            assert read_all(master, len(init)) == init  # no ESC R 8
            disp.show_item("Cola", 350)
            expected = screen("COLA", lr("", "Y3.50"))
            assert read_all(master, len(expected)) == expected
    finally:
        os.close(master)
        os.close(slave)


def test_text_helpers() -> None:
    assert to_display_ascii("农夫山泉 550ml") == "NONGFUSHANQUAN 550ML"
    assert to_display_ascii("Café ¥") == "CAFE"
    data = screen_bytes("a" * 30, "合计")
    assert data == cursor_to(1, 1) + b"a" * 20 + cursor_to(1, 2) + b" " * 20
    with pytest.raises(RuntimeError):
        PoleDisplay("loop://").show("x")
