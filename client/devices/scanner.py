"""Serial (RS-232 / USB-CDC "virtual COM") barcode scanner.

The scanner sends each code followed by a suffix, usually CR (set in the scanner's own
configuration: CR, LF or CRLF). :class:`SerialScanner` reads the port in a daemon thread
and calls ``on_scan(code)`` for each complete code — **in that reader thread**: a Qt
client forwards it to the GUI thread (e.g. through a signal) before touching widgets.

``port`` is anything pyserial opens: ``COM3``, ``/dev/ttyACM0``, ``loop://`` for tests.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Literal

import serial

log = logging.getLogger(__name__)

Suffix = Literal["CR", "LF", "CRLF"]
SUFFIXES: dict[str, bytes] = {"CR": b"\r", "LF": b"\n", "CRLF": b"\r\n"}


def split_codes(buffer: bytes, suffix: bytes) -> tuple[list[bytes], bytes]:
    """Split complete codes off ``buffer``; returns (codes, rest not yet terminated)."""
    *codes, rest = buffer.split(suffix)
    return codes, rest


class SerialScanner:
    """Reads codes from a serial scanner in a background thread.

    ``on_error(reason)`` (reader thread) is called once if the port fails (unplugged);
    the reader then stops — call :meth:`start` again to reconnect.
    """

    def __init__(
        self,
        port: str,
        on_scan: Callable[[str], None],
        *,
        baudrate: int = 9600,
        suffix: Suffix = "CR",
        encoding: str = "utf-8",
        on_error: Callable[[str], None] | None = None,
    ) -> None:
        if suffix not in SUFFIXES:
            raise ValueError(f"unknown scanner suffix {suffix!r}; use CR, LF or CRLF")
        self.port = port
        self.baudrate = baudrate
        self.suffix = suffix
        self.encoding = encoding
        self._on_scan = on_scan
        self._on_error = on_error
        self._serial: serial.SerialBase | None = None
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        """Open the port and start reading. Raises ``serial.SerialException`` if the port
        cannot be opened."""
        if self.running:
            return
        self._serial = serial.serial_for_url(self.port, baudrate=self.baudrate, timeout=0.1)
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name=f"scanner-{self.port}", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop reading and close the port."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2)
            self._thread = None
        if self._serial is not None:
            self._serial.close()
            self._serial = None

    def __enter__(self) -> SerialScanner:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _run(self) -> None:
        port = self._serial
        assert port is not None
        suffix = SUFFIXES[self.suffix]
        buffer = b""
        while not self._stop.is_set():
            try:
                chunk = port.read(port.in_waiting or 1)
            except (serial.SerialException, OSError) as exc:
                if not self._stop.is_set():
                    log.warning("scanner on %s failed: %s", self.port, exc)
                    if self._on_error is not None:
                        self._on_error(f"扫码枪（{self.port}）连接断开，请检查连接线")
                return
            if not chunk:
                continue
            codes, buffer = split_codes(buffer + chunk, suffix)
            for raw in codes:
                code = raw.decode(self.encoding, errors="replace").strip()
                if code:
                    try:
                        self._on_scan(code)
                    except Exception:
                        log.exception("on_scan callback failed for %r", code)
