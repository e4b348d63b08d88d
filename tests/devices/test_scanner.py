"""Serial barcode scanner on a pseudo-terminal pair (master side = the scanner)."""

from __future__ import annotations

import os
import queue
from collections.abc import Iterator

import pytest

from client.devices.scanner import SerialScanner, split_codes


@pytest.fixture
def pty_pair() -> Iterator[tuple[int, str]]:
    master, slave = os.openpty()
    try:
        yield master, os.ttyname(slave)
    finally:
        os.close(master)
        os.close(slave)


def test_split_codes() -> None:
    assert split_codes(b"123\r456\r78", b"\r") == ([b"123", b"456"], b"78")
    assert split_codes(b"123\r\n", b"\r\n") == ([b"123"], b"")


def test_scan_reaches_on_scan(pty_pair: tuple[int, str]) -> None:
    master, port = pty_pair
    got: queue.Queue[str] = queue.Queue()
    with SerialScanner(port, got.put, baudrate=9600, suffix="CR"):
        os.write(master, b"6901234567892\r")
        assert got.get(timeout=5) == "6901234567892"
        # a code split over two writes, then two codes in one write
        os.write(master, b"69012")
        os.write(master, b"34567892\r4006381333931\r")
        assert got.get(timeout=5) == "6901234567892"
        assert got.get(timeout=5) == "4006381333931"
    assert got.empty()


@pytest.mark.parametrize(("suffix", "ending"), [("LF", b"\n"), ("CRLF", b"\r\n")])
def test_configurable_suffix(pty_pair: tuple[int, str], suffix: str, ending: bytes) -> None:
    master, port = pty_pair
    got: queue.Queue[str] = queue.Queue()
    scanner = SerialScanner(port, got.put, suffix=suffix)  # type: ignore[arg-type]
    scanner.start()
    try:
        os.write(master, b"M0012345" + ending + b"ABC-99" + ending)
        assert got.get(timeout=5) == "M0012345"
        assert got.get(timeout=5) == "ABC-99"
    finally:
        scanner.stop()
    assert not scanner.running


def test_loop_url_and_bad_suffix() -> None:
    with pytest.raises(ValueError):
        SerialScanner("loop://", print, suffix="TAB")  # type: ignore[arg-type]
    got: queue.Queue[str] = queue.Queue()
    scanner = SerialScanner("loop://", got.put)
    with scanner:
        assert scanner._serial is not None
        scanner._serial.write(b"12345678\r")
        assert got.get(timeout=5) == "12345678"
